package system

import (
	"bytes"
	"fmt"
	"strings"
)

// Assignment is one meaningful line of a sysctl configuration file.
type Assignment struct {
	// Key is the parameter in dotted form (Normalize), or a glob pattern
	// over such keys ("net.ipv4.conf.*.rp_filter").
	Key string
	// Value is the value as written, surrounding blanks removed. It is
	// empty for an Exclude line.
	Value string
	// Line is the 1-based line number in the file.
	Line int
	// IgnoreErrors is set by a leading "-" on an assignment: a failure to
	// write the key (it does not exist on this kernel) is not an error.
	// The value is applied all the same.
	IgnoreErrors bool
	// Exclude is a "-key" line without "=": it keeps glob assignments off
	// the keys it matches and sets nothing itself.
	Exclude bool
}

// Glob reports whether the key is a pattern, as sysctl and systemd-sysctl
// decide it: it holds one of "*", "?" or "[".
func (a Assignment) Glob() bool { return isGlob(a.Key) }

func isGlob(key string) bool { return strings.ContainsAny(key, "*?[") }

// blanks are the characters C's isspace accepts in the C locale; sysctl
// and systemd-sysctl strip exactly these.
const blanks = " \t\n\v\f\r"

// maxParseErrors caps the problems ParseSysctl reports for one file.
const maxParseErrors = 20

// ParseSysctl parses a sysctl.conf(5) / sysctl.d(5) file. It reads lines
// the way procps-ng's sysctl and systemd-sysctl do:
//
//   - surrounding blanks are ignored; a line whose first other character
//     is "#" or ";" is a comment (there are no comments after a value:
//     "a = 1 # x" sets a to "1 # x", as both tools do);
//   - "key = value" splits at the first "="; key and value are stripped;
//   - a leading "-" on the key means "ignore errors" and is removed (blanks
//     after the "-" are kept, as the tools keep them: "- a = 1" names no
//     real key);
//   - "-key" without "=" is an exclusion for glob assignments;
//   - any other line is not an assignment and is reported;
//   - a NUL byte ends the line, as it ends a C string.
//
// Keys are normalised with Normalize. Problems are returned (capped), and
// never stop the parse.
func ParseSysctl(data []byte) ([]Assignment, []error) {
	var out []Assignment
	var errs []error
	problem := func(line int, format string, args ...any) {
		if len(errs) < maxParseErrors {
			errs = append(errs, fmt.Errorf("line %d: %s", line, fmt.Sprintf(format, args...)))
		}
	}
	n := 0
	for len(data) > 0 {
		var raw []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			raw, data = data[:i], data[i+1:]
		} else {
			raw, data = data, nil
		}
		n++
		if i := bytes.IndexByte(raw, 0); i >= 0 {
			raw = raw[:i]
		}
		line := strings.Trim(string(raw), blanks)
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		key, value, hasValue := strings.Cut(line, "=")
		if !hasValue {
			rest, ok := strings.CutPrefix(line, "-")
			if !ok {
				problem(n, "not an assignment: %q", clip(line))
				continue
			}
			if rest == "" {
				problem(n, "empty exclusion")
				continue
			}
			out = append(out, Assignment{Key: Normalize(rest), Line: n, Exclude: true})
			continue
		}
		key = strings.TrimRight(key, blanks)
		a := Assignment{Line: n, Value: strings.Trim(value, blanks)}
		if k, ok := strings.CutPrefix(key, "-"); ok {
			a.IgnoreErrors, key = true, k
		}
		if key == "" {
			problem(n, "assignment without a key")
			continue
		}
		a.Key = Normalize(key)
		out = append(out, a)
	}
	return out, errs
}

// clip shortens text quoted in an error.
func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}

// Normalize returns a sysctl key in the dotted form sysctl prints. As in
// sysctl(8) and systemd-sysctl, the first separator decides the form a key
// is written in: when it is "/" the key is a path below /proc/sys, and
// every "/" becomes "." and every "." becomes "/" (so the interface
// "eth0.100" in "net/ipv4/conf/eth0.100/rp_filter" stays one component:
// "net.ipv4.conf.eth0/100.rp_filter"). A key whose first separator is "."
// is already dotted and is returned as it is.
func Normalize(key string) string {
	i := strings.IndexAny(key, "./")
	if i < 0 || key[i] == '.' {
		return key
	}
	return swapSeparators(key)
}

// KeyPath returns the path below /proc/sys that a dotted key names (the
// inverse of Normalize): "net.ipv4.conf.eth0/100.rp_filter" is
// "net/ipv4/conf/eth0.100/rp_filter".
func KeyPath(key string) string {
	i := strings.IndexAny(key, "./")
	if i < 0 || key[i] == '/' {
		return key
	}
	return swapSeparators(key)
}

func swapSeparators(s string) string {
	b := []byte(s)
	for i, c := range b {
		switch c {
		case '.':
			b[i] = '/'
		case '/':
			b[i] = '.'
		}
	}
	return string(b)
}
