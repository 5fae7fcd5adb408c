// Package users reads accounts and groups from etc/passwd, etc/group and
// etc/shadow. Of the shadow file only the aging fields and whether a
// password is set are kept: the hash itself never leaves the host.
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
	if sh, err := hostfs.ReadFileLimit(env.FS, "/etc/shadow", fileLimit); err == nil {
		aging, errs := ParseShadow(sh)
		for _, e := range errs {
			env.Errorf("/etc/shadow: %v", e)
		}
		for i := range users {
			if a, ok := aging[users[i].Name]; ok {
				users[i].Shadow = &a
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
		out = append(out, host.User{Name: f[0], UID: uid, GID: gid, Gecos: f[4], Home: f[5], Shell: f[6]})
	})
	return out, errs
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
		g := host.Group{Name: f[0], GID: gid}
		for _, m := range strings.Split(f[3], ",") {
			if m = strings.TrimSpace(m); m != "" {
				g.Members = append(g.Members, m)
			}
		}
		out = append(out, g)
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
		a := host.ShadowAging{PasswordState: PasswordState(f[1])}
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
		out[f[0]] = a
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
