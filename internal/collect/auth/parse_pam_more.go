package auth

import (
	"strings"

	"github.com/kensa-dev/kensa/internal/host"
)

// ParseSearchKey parses a file the way libpam's pam_modutil_search_key
// looks keys up in it, which is how pam_pwhistory (Linux-PAM 1.5.3 and
// later) reads pwhistory.conf: everything from the first "#" on is a
// comment; leading blanks are skipped; the key runs to the first blank,
// tab or "="; the blanks and "=" after it are skipped and the rest of the
// line is the value (trailing blanks kept, as libpam keeps them). Keys
// compare case-insensitively and the first line with a key is the one
// used, so the map is keyed by the lower-case name and holds that first
// line. file is recorded in each Setting.
func ParseSearchKey(b []byte, file string) map[string]host.Setting {
	out := map[string]host.Setting{}
	physLines(b, func(n int, line []byte) bool {
		s := string(line)
		if i := strings.IndexByte(s, '#'); i >= 0 {
			s = s[:i]
		}
		s = strings.TrimLeftFunc(s, func(r rune) bool { return r < 0x80 && cSpace(byte(r)) })
		if s == "" {
			return true
		}
		key, rest := s, ""
		if i := strings.IndexAny(s, " \t="); i >= 0 {
			key, rest = s[:i], s[i+1:]
			rest = strings.TrimLeftFunc(rest, func(r rune) bool { return r == '=' || (r < 0x80 && cSpace(byte(r))) })
		}
		k := strings.ToLower(key)
		if _, seen := out[k]; !seen {
			out[k] = host.Setting{Value: rest, File: file, Line: n}
		}
		return true
	})
	return out
}

// userAddKeys are the keys useradd (shadow 4.13, Debian 12) recognises
// in /etc/default/useradd, in the order it tries them: a line's name is
// matched by prefix ("INACTIVEX=3" sets INACTIVE), and the first key in
// this order that is a prefix wins.
var userAddKeys = []string{"GROUP", "HOME", "SHELL", "INACTIVE", "EXPIRE", "SKEL", "USRSKEL", "CREATE_MAIL_SPOOL", "LOG_INIT"}

// ParseUserAddDefaults parses /etc/default/useradd as useradd's
// get_defaults does: the file is read in pieces of at most 1023 bytes
// (fgets into a 1024-byte buffer, so a longer line continues as another
// "line"); a piece without "=" is ignored; the text before the first "="
// is the name and must start with a known key (no blanks are skipped, so
// "# INACTIVE=30" and " INACTIVE=30" set nothing); the rest, blanks
// included, is the value; a later line replaces an earlier one. Values
// are recorded as written: useradd's own checks (INACTIVE must be a whole
// number of -1 or more, else -1 is used) are UserAddInactive's.
func ParseUserAddDefaults(b []byte, file string) map[string]host.Setting {
	out := map[string]host.Setting{}
	n := 0
	for len(b) > 0 {
		n++
		var line []byte
		if i := strings.IndexByte(string(b[:min(len(b), 1023)]), '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			// fgets stops after 1023 bytes without a newline: the rest of
			// the physical line is read as the next piece.
			k := min(len(b), 1023)
			line, b = b[:k], b[k:]
		}
		s := string(line)
		name, val, ok := strings.Cut(s, "=")
		if !ok {
			continue
		}
		for _, k := range userAddKeys {
			if strings.HasPrefix(name, k) {
				out[k] = host.Setting{Value: val, File: file, Line: n}
				break
			}
		}
	}
	return out
}

// UserAddInactive returns the INACTIVE default useradd applies given the
// setting (set false when no line sets it: -1, never disable): shadow's
// getlong is strtol with base 0, so leading blanks and a sign are
// allowed, "0x2d" is hexadecimal and "055" octal (45 and 45), and nothing
// may follow the number. Anything else, or a number below -1, makes
// useradd use -1, and valid is false.
func UserAddInactive(s host.Setting, set bool) (n int, valid bool) {
	if !set {
		return -1, true
	}
	x, ok := strtol0(s.Value)
	if !ok || x < -1 {
		return -1, false
	}
	return int(x), true
}

// strtol0 parses s as C's strtol(s, &end, 0) with *end required to be
// the end of s; ok is false otherwise or on overflow.
func strtol0(s string) (int64, bool) {
	v := strings.TrimLeftFunc(s, func(r rune) bool { return r < 0x80 && cSpace(byte(r)) })
	neg := false
	if v != "" && (v[0] == '+' || v[0] == '-') {
		neg = v[0] == '-'
		v = v[1:]
	}
	base := int64(10)
	switch {
	case len(v) > 2 && (v[:2] == "0x" || v[:2] == "0X") && hexDigit(v[2]) >= 0:
		base, v = 16, v[2:]
	case len(v) > 1 && v[0] == '0':
		base, v = 8, v[1:]
	}
	if v == "" {
		return 0, false
	}
	var x int64
	for i := 0; i < len(v); i++ {
		d := int64(hexDigit(v[i]))
		if d < 0 || d >= base {
			return 0, false
		}
		if x > (1<<62)/base {
			return 0, false
		}
		x = x*base + d
	}
	if neg {
		x = -x
	}
	return x, true
}

func hexDigit(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// ParseCLong parses s as shadow's getlong does (strtol base 0, nothing
// after the number): login.defs numbers such as UMASK are read this way,
// so "027" is octal and "27" decimal.
func ParseCLong(s string) (int64, bool) { return strtol0(s) }
