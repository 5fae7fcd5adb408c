// Package users reads accounts and groups from etc/passwd, etc/group,
// etc/shadow and etc/gshadow. Of the shadow files only the aging fields,
// the password state and the hash scheme are kept: no hash ever leaves
// the host. Entries are kept as they appear, duplicates included (a
// duplicate name or id is what some checks look for), with their line
// numbers for evidence.
package users

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"

	"github.com/kensa-dev/kensa/internal/collect"
	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/hostfs"
)

// fileLimit caps each account file; directory-backed sites with many local
// accounts stay well under it.
const fileLimit = 64 << 20

// Collector fills inv.Users and inv.Groups.
type Collector struct{}

// New returns the users collector.
func New() *Collector { return &Collector{} }

// Name implements collect.Collector.
func (*Collector) Name() string { return "os/users" }

// Collect implements collect.Collector. inv.AccountFiles records which
// files were read and which lines were not taken as entries, so that a
// check can tell "no such account" from "a line that was not read".
func (*Collector) Collect(ctx context.Context, env *collect.Env, inv *host.Inventory) error {
	af := &host.AccountFiles{
		Passwd:  host.AccountFile{Path: "/etc/passwd"},
		Group:   host.AccountFile{Path: "/etc/group"},
		Shadow:  host.AccountFile{Path: "/etc/shadow"},
		GShadow: host.AccountFile{Path: "/etc/gshadow"},
	}
	pw, ok := read(env, &af.Passwd)
	if !ok {
		if af.Passwd.Missing {
			return collect.NotApplicable("no /etc/passwd")
		}
		return errors.New(af.Passwd.Error) // names the file
	}
	inv.AccountFiles = af
	users, errs := parsePasswd(pw, &af.Passwd)
	for _, e := range errs {
		env.Errorf("/etc/passwd: %v", e)
	}
	// An unreadable or absent shadow file leaves Shadow nil and
	// NoShadowEntry false: the password state is unknown, never clean.
	if sh, ok := read(env, &af.Shadow); ok {
		aging, errs := parseShadow(sh, &af.Shadow)
		for _, e := range errs {
			env.Errorf("/etc/shadow: %v", e)
		}
		for i := range users {
			if a, ok := aging[users[i].Name]; ok {
				users[i].Shadow = &a
			} else {
				users[i].NoShadowEntry = true
			}
		}
	}
	if gr, ok := read(env, &af.Group); ok {
		groups, errs := parseGroup(gr, &af.Group)
		for _, e := range errs {
			env.Errorf("/etc/group: %v", e)
		}
		if gs, ok := read(env, &af.GShadow); ok {
			shadows, errs := parseGShadow(gs, &af.GShadow)
			for _, e := range errs {
				env.Errorf("/etc/gshadow: %v", e)
			}
			for i := range groups {
				if s, ok := shadows[groups[i].Name]; ok {
					groups[i].Shadow = &s
				}
			}
		}
		inv.Groups = append(inv.Groups, groups...)
	}
	inv.Users = append(inv.Users, users...)
	env.Count(len(users))
	return nil
}

// read reads one account file, recording on f whether it was read, is
// missing, or why it could not be read (also reported to env, except
// for /etc/passwd, whose failure fails the run).
func read(env *collect.Env, f *host.AccountFile) ([]byte, bool) {
	b, err := hostfs.ReadFileLimit(env.FS, f.Path, fileLimit)
	switch {
	case err == nil:
		f.Read = true
		return b, true
	case errors.Is(err, fs.ErrNotExist):
		f.Missing = true
	default:
		f.Error = err.Error()
		if f.Path != "/etc/passwd" {
			env.Errorf("read %s: %v", f.Path, err)
		}
	}
	return nil, false
}

// maxLine bounds one account line; real ones are under 1 KiB. A longer
// line is garbage: it is reported, recorded as unparsed and skipped, and
// the lines after it are still read.
const maxLine = 64 << 10

// lines calls fn with each line of an account file that is neither blank
// nor a comment, and its number. Lines are taken as glibc's
// __nss_readline is understood to take them (an assumption from its
// source, not a test against it): leading white space is dropped, and a
// line that is then empty or starts with "#" is ignored. A line is cut
// at a NUL byte (a C string ends there), and a trailing "\r" is dropped
// (glibc keeps it; dropping it can only make more lines parse). fn
// returns false when the line was not taken as an entry; the line is
// then recorded on af as unparsed. fn reports problems to probs; after
// collect.MaxProblems of them the rest of the file is skipped and
// recorded as unparsed. It returns the problems, bounded as
// problems.list says.
func lines(b []byte, af *host.AccountFile, fn func(probs *collect.Problems, n int, line string) bool) []error {
	var probs collect.Problems
	for n := 1; len(b) > 0; n++ {
		if probs.Count() >= collect.MaxProblems {
			af.AddUnparsed(n)
			return probs.List(fmt.Errorf("line %d: too many errors; the rest of the file was skipped", n))
		}
		var line []byte
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			line, b = b, nil
		}
		if len(line) > maxLine {
			probs.Addf("line %d: longer than %d bytes, skipped", n, maxLine)
			af.AddUnparsed(n)
			continue
		}
		if i := bytes.IndexByte(line, 0); i >= 0 {
			line = line[:i]
		}
		line = bytes.TrimRight(bytes.TrimLeft(line, cSpace), "\r")
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		if !fn(&probs, n, string(line)) {
			af.AddUnparsed(n)
		}
	}
	return probs.List(nil)
}

// cSpace are the characters C's isspace accepts in the C locale.
const cSpace = " \t\n\v\f\r"

// compat reports whether an entry's name makes it a NIS compat line.
func compat(name string) bool {
	return strings.HasPrefix(name, "+") || strings.HasPrefix(name, "-")
}

// GlibcID parses a uid or gid field as glibc's nss_files parser does
// (files-parse.c: strtoul in base 10, then clamped to 32 bits): leading
// white space and one "+" or "-" sign are allowed, at least one digit
// must follow, and nothing may follow the digits within the field. A
// value past 32 bits, or past 64 bits (strtoul's ERANGE), is 4294967295;
// a negative one is negated modulo 2^64 before that clamp, so "-0" is 0.
// " 0" and "+0" are therefore uid 0 to glibc.
func GlibcID(field string) (int, bool) {
	s := strings.TrimLeft(field, cSpace)
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	if s == "" {
		return 0, false
	}
	var v uint64
	overflow := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if v > (^uint64(0)-d)/10 {
			overflow = true
		}
		v = v*10 + d
	}
	switch {
	case overflow:
		v = ^uint64(0)
	case neg:
		v = -v
	}
	if v > 0xffffffff {
		v = 0xffffffff
	}
	return int(v), true
}

// compatID parses an id field of a compat line: nil when it is empty or
// not a number (glibc then leaves the id to NIS, or to its default 0 in
// enumeration, which is not an id the line states).
func compatID(field string) *int {
	if strings.TrimLeft(field, cSpace) == "" {
		return nil
	}
	if v, ok := GlibcID(field); ok {
		return &v
	}
	return nil
}

func addCompatID(af *host.AccountFile, e host.CompatEntry) {
	if (e.UID != nil || e.GID != nil) && len(af.CompatIDs) < host.MaxCompatIDs {
		af.CompatIDs = append(af.CompatIDs, e)
	}
}

// ParsePasswd parses etc/passwd. The errors are bounded as lines says.
func ParsePasswd(b []byte) ([]host.User, []error) {
	var af host.AccountFile
	return parsePasswd(b, &af)
}

// parsePasswd parses etc/passwd as glibc's fgetpwent_r parser does:
// name, password, uid and gid are required (uid and gid as GlibcID
// reads them); gecos, home and shell may be missing (empty), and the
// shell is the rest of the line, colons included. A line whose name
// starts with "+" or "-" is a NIS compat line: it is recorded on af, not
// taken as a user (see host.AccountFile.Compat); the ids it spells are
// kept. A line glibc would reject, or whose name is empty, is reported
// and recorded as unparsed: another reader (musl takes an empty uid as
// 0) may still see an account in it.
func parsePasswd(b []byte, af *host.AccountFile) ([]host.User, []error) {
	var out []host.User
	errs := lines(b, af, func(probs *collect.Problems, n int, line string) bool {
		f := strings.SplitN(line, ":", 7)
		if compat(f[0]) {
			af.AddCompat(n)
			e := host.CompatEntry{Line: n, Name: f[0]}
			if len(f) > 2 {
				e.UID = compatID(f[2])
			}
			if len(f) > 3 {
				e.GID = compatID(f[3])
			}
			addCompatID(af, e)
			return true
		}
		if len(f) < 4 {
			probs.Addf("line %d: %d fields, want 7", n, len(f))
			return false
		}
		for len(f) < 7 {
			f = append(f, "")
		}
		uid, ok1 := GlibcID(f[2])
		gid, ok2 := GlibcID(f[3])
		if !ok1 || !ok2 || f[0] == "" {
			probs.Addf("line %d: bad name, uid or gid", n)
			return false
		}
		out = append(out, host.User{Name: f[0], UID: uid, GID: gid, Gecos: f[4], Home: f[5], Shell: f[6], Line: n, PasswdField: passwdField(f[1])})
		return true
	})
	return out, errs
}

// passwdField classifies the passwd password field without keeping it:
// "x" means the password is in /etc/shadow; an empty field lets
// pam_unix accept no password when shadow has no entry; anything else is
// a hash (or garbage) readable by every user.
func passwdField(p string) string {
	switch p {
	case "x":
		return "shadowed"
	case "":
		return "empty"
	}
	return "other"
}

// ParseGroup parses etc/group. The errors are bounded as lines says.
func ParseGroup(b []byte) ([]host.Group, []error) {
	var af host.AccountFile
	return parseGroup(b, &af)
}

// parseGroup parses etc/group as glibc's fgetgrent_r parser does: name,
// password and gid are required, the members are the rest of the line.
// Compat and rejected lines are recorded on af as parsePasswd says.
func parseGroup(b []byte, af *host.AccountFile) ([]host.Group, []error) {
	var out []host.Group
	errs := lines(b, af, func(probs *collect.Problems, n int, line string) bool {
		f := strings.SplitN(line, ":", 4)
		if compat(f[0]) {
			af.AddCompat(n)
			if len(f) > 2 {
				addCompatID(af, host.CompatEntry{Line: n, Name: f[0], GID: compatID(f[2])})
			}
			return true
		}
		if len(f) < 3 {
			probs.Addf("line %d: %d fields, want 4", n, len(f))
			return false
		}
		for len(f) < 4 {
			f = append(f, "")
		}
		gid, ok := GlibcID(f[2])
		if !ok || f[0] == "" {
			probs.Addf("line %d: bad name or gid", n)
			return false
		}
		out = append(out, host.Group{Name: f[0], GID: gid, Line: n, Members: names(f[3])})
		return true
	})
	return out, errs
}

// names splits a comma-separated list of user names, dropping blanks.
func names(s string) []string {
	var out []string
	for _, m := range strings.Split(s, ",") {
		if m = strings.TrimSpace(m); m != "" {
			out = append(out, m)
		}
	}
	return out
}

// ParseGShadow parses etc/gshadow ("name:password:admins:members") into
// entries by group name; the first entry of a name wins, as getsgnam's
// does. The password field is reduced to its state. The errors are
// bounded as lines says, and never echo a line (it may hold a hash).
func ParseGShadow(b []byte) (map[string]host.GroupShadow, []error) {
	var af host.AccountFile
	return parseGShadow(b, &af)
}

// parseGShadow is ParseGShadow recording compat and rejected lines on af.
func parseGShadow(b []byte, af *host.AccountFile) (map[string]host.GroupShadow, []error) {
	out := map[string]host.GroupShadow{}
	errs := lines(b, af, func(probs *collect.Problems, n int, line string) bool {
		f := strings.Split(line, ":")
		if compat(f[0]) {
			af.AddCompat(n)
			return true
		}
		if len(f) != 4 || f[0] == "" {
			probs.Addf("line %d: %d fields, want 4", n, len(f))
			return false
		}
		if _, dup := out[f[0]]; dup {
			return true
		}
		out[f[0]] = host.GroupShadow{PasswordState: PasswordState(f[1]), Admins: names(f[2]), Members: names(f[3]), Line: n}
		return true
	})
	return out, errs
}

// ParseShadow parses etc/shadow into aging fields by user name. The
// password field is reduced to its state; nothing of the hash is kept.
// The errors are bounded as lines says.
func ParseShadow(b []byte) (map[string]host.ShadowAging, []error) {
	var af host.AccountFile
	return parseShadow(b, &af)
}

// parseShadow is ParseShadow recording compat and rejected lines on af.
func parseShadow(b []byte, af *host.AccountFile) (map[string]host.ShadowAging, []error) {
	out := map[string]host.ShadowAging{}
	errs := lines(b, af, func(probs *collect.Problems, n int, line string) bool {
		f := strings.Split(line, ":")
		if compat(f[0]) {
			af.AddCompat(n)
			return true
		}
		if len(f) < 8 || f[0] == "" {
			// Never echo the line: it holds a password hash.
			probs.Addf("line %d: %d fields, want 9", n, len(f))
			return false
		}
		a := host.ShadowAging{PasswordState: PasswordState(f[1]), Scheme: Scheme(f[1]), Line: n}
		days := []**int{&a.LastChange, &a.MinDays, &a.MaxDays, &a.WarnDays, &a.InactiveDays, &a.Expire}
		for i, d := range days {
			s := strings.TrimSpace(f[2+i])
			if s == "" {
				continue
			}
			v, err := strconv.Atoi(s)
			if err != nil {
				probs.Addf("line %d: field %d is not a number", n, 3+i)
				continue
			}
			*d = &v
		}
		if _, dup := out[f[0]]; !dup {
			// getspnam returns the first entry; a later one is never used.
			out[f[0]] = a
		}
		return true
	})
	return out, errs
}

// PasswordState classifies a shadow password field without keeping it:
// "empty" (login without a password), "locked" (a hash behind "!"),
// "none" ("*", "!", "!!": no password can match), or "set".
func PasswordState(p string) string {
	switch {
	case p == "":
		return "empty"
	case p == "*" || p == "!" || p == "!!" || p == "!*" || p == "*LK*":
		return "none"
	case strings.HasPrefix(p, "!"):
		return "locked"
	case strings.HasPrefix(p, "*"):
		return "none"
	}
	return "set"
}

// Scheme names the crypt(3) scheme of a password field that holds a hash
// (after any "!" lock prefix): the id between the first two "$" ("y",
// "6", "2b"), "des" for a 13-character traditional hash, "" otherwise.
// Nothing of the salt or hash is returned.
func Scheme(p string) string {
	p = strings.TrimLeft(p, "!")
	if rest, ok := strings.CutPrefix(p, "$"); ok {
		id, _, ok := strings.Cut(rest, "$")
		if !ok || id == "" || len(id) > 8 {
			return ""
		}
		for _, r := range id {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
				return ""
			}
		}
		return id
	}
	if len(p) == 13 && !strings.ContainsAny(p, "*!:") {
		return "des"
	}
	return ""
}
