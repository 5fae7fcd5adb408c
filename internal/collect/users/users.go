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

// Collect implements collect.Collector.
func (*Collector) Collect(ctx context.Context, env *collect.Env, inv *host.Inventory) error {
	pw, err := hostfs.ReadFileLimit(env.FS, "/etc/passwd", fileLimit)
	if errors.Is(err, fs.ErrNotExist) {
		return collect.NotApplicable("no /etc/passwd")
	}
	if err != nil {
		return err // a *fs.PathError naming the file
	}
	users, errs := ParsePasswd(pw)
	for _, e := range errs {
		env.Errorf("/etc/passwd: %v", e)
	}
	// An unreadable or absent shadow file leaves Shadow nil and
	// NoShadowEntry false: the password state is unknown, never clean.
	if sh, err := hostfs.ReadFileLimit(env.FS, "/etc/shadow", fileLimit); err == nil {
		aging, errs := ParseShadow(sh)
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
	} else if !errors.Is(err, fs.ErrNotExist) {
		env.Errorf("read /etc/shadow: %v", err)
	}
	if gr, err := hostfs.ReadFileLimit(env.FS, "/etc/group", fileLimit); err == nil {
		groups, errs := ParseGroup(gr)
		for _, e := range errs {
			env.Errorf("/etc/group: %v", e)
		}
		if gs, err := hostfs.ReadFileLimit(env.FS, "/etc/gshadow", fileLimit); err == nil {
			shadows, errs := ParseGShadow(gs)
			for _, e := range errs {
				env.Errorf("/etc/gshadow: %v", e)
			}
			for i := range groups {
				if s, ok := shadows[groups[i].Name]; ok {
					groups[i].Shadow = &s
				}
			}
		} else if !errors.Is(err, fs.ErrNotExist) {
			env.Errorf("read /etc/gshadow: %v", err)
		}
		inv.Groups = append(inv.Groups, groups...)
	} else if !errors.Is(err, fs.ErrNotExist) {
		env.Errorf("read /etc/group: %v", err)
	}
	inv.Users = append(inv.Users, users...)
	env.Count(len(users))
	return nil
}

// maxLine bounds one account line; real ones are under 1 KiB. A longer
// line is garbage: it is reported and skipped, and the lines after it are
// still read.
const maxLine = 64 << 10

// lines calls fn with the fields of each non-empty, non-comment line of an
// account file and its number; NIS compat lines ("+", "-name") are
// skipped. fn reports problems to probs; after collect.MaxProblems of them the rest
// of the file is skipped. It returns the problems, bounded as
// problems.list says.
func lines(b []byte, fn func(probs *collect.Problems, n int, fields []string)) []error {
	var probs collect.Problems
	for n := 1; len(b) > 0; n++ {
		if probs.Count() >= collect.MaxProblems {
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
			continue
		}
		line = bytes.TrimRight(line, "\r")
		if len(line) == 0 || line[0] == '#' || line[0] == '+' || line[0] == '-' {
			continue
		}
		fn(&probs, n, strings.Split(string(line), ":"))
	}
	return probs.List(nil)
}

// ParsePasswd parses etc/passwd. The errors are bounded as lines says.
func ParsePasswd(b []byte) ([]host.User, []error) {
	var out []host.User
	errs := lines(b, func(probs *collect.Problems, n int, f []string) {
		if len(f) != 7 {
			probs.Addf("line %d: %d fields, want 7", n, len(f))
			return
		}
		uid, err1 := strconv.Atoi(f[2])
		gid, err2 := strconv.Atoi(f[3])
		if err1 != nil || err2 != nil || f[0] == "" {
			probs.Addf("line %d: bad name, uid or gid", n)
			return
		}
		out = append(out, host.User{Name: f[0], UID: uid, GID: gid, Gecos: f[4], Home: f[5], Shell: f[6], Line: n, PasswdField: passwdField(f[1])})
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
	var out []host.Group
	errs := lines(b, func(probs *collect.Problems, n int, f []string) {
		if len(f) != 4 {
			probs.Addf("line %d: %d fields, want 4", n, len(f))
			return
		}
		gid, err := strconv.Atoi(f[2])
		if err != nil || f[0] == "" {
			probs.Addf("line %d: bad name or gid", n)
			return
		}
		out = append(out, host.Group{Name: f[0], GID: gid, Line: n, Members: names(f[3])})
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
	out := map[string]host.GroupShadow{}
	errs := lines(b, func(probs *collect.Problems, n int, f []string) {
		if len(f) != 4 || f[0] == "" {
			probs.Addf("line %d: %d fields, want 4", n, len(f))
			return
		}
		if _, dup := out[f[0]]; dup {
			return
		}
		out[f[0]] = host.GroupShadow{PasswordState: PasswordState(f[1]), Admins: names(f[2]), Members: names(f[3]), Line: n}
	})
	return out, errs
}

// ParseShadow parses etc/shadow into aging fields by user name. The
// password field is reduced to its state; nothing of the hash is kept.
// The errors are bounded as lines says.
func ParseShadow(b []byte) (map[string]host.ShadowAging, []error) {
	out := map[string]host.ShadowAging{}
	errs := lines(b, func(probs *collect.Problems, n int, f []string) {
		if len(f) < 8 || f[0] == "" {
			// Never echo the line: it holds a password hash.
			probs.Addf("line %d: %d fields, want 9", n, len(f))
			return
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
