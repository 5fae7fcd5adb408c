package files

import (
	"fmt"
	"path"
	"strings"

	"github.com/kensa-dev/kensa/internal/host"
)

// SudoersLine is one logical line of a sudoers file as kept: an include
// directive (Include set) or a rule line.
type SudoersLine struct {
	Line host.ConfigLine
	// Include is the path an @include/#include (IncludeDir false) or
	// @includedir/#includedir (IncludeDir true) names, unresolved.
	Include    string
	IncludeDir bool
}

// ParseSudoers reads sudoers(5) lines the way the rules need them:
//
//   - a line ending in a backslash continues on the next;
//   - "@include", "#include", "@includedir" and "#includedir" followed by
//     blanks are directives (a quoted path may hold blanks); any other "#"
//     starts a comment unless a digit follows it ("#1000" is a user ID),
//     and a "#" inside double quotes is text;
//   - a Defaults line becomes one line per parameter, written
//     "Defaults<binding> <param>": "Defaults use_pty",
//     "Defaults:%admin !authenticate", "Defaults timestamp_timeout=20",
//     "Defaults logfile=/var/log/sudo.log" (quotes removed, blanks around
//     "=", "+=" and "-=" removed, an odd run of "!" written as one "!",
//     an even one as none), so that a rule can match one parameter per
//     line whatever the layout; the binding holds no blank (a blank in a
//     quoted or escaped name is written "\x20", a tab "\x09"), so a rule
//     can match any binding with "Defaults\S* ";
//   - other lines are kept with runs of blanks written as one space.
func ParseSudoers(b []byte) []SudoersLine {
	var out []SudoersLine
	for _, l := range logical(b, true) {
		t := strings.TrimSpace(l.Text)
		if t == "" {
			continue
		}
		if inc, dir, ok := includeDirective(t); ok {
			kw := "@include"
			if dir {
				kw = "@includedir"
			}
			out = append(out, SudoersLine{Line: host.ConfigLine{N: l.N, Text: strings.TrimSpace(kw + " " + inc)}, Include: inc, IncludeDir: dir})
			continue
		}
		if isDirectiveWord(t) {
			// An include without a path: a comment to sudo ("#include")
			// or a syntax error ("@include"); nothing to keep.
			continue
		}
		t = strings.TrimSpace(stripSudoersComment(t))
		if t == "" {
			continue
		}
		if rest, ok := strings.CutPrefix(t, "Defaults"); ok && (rest == "" || strings.ContainsRune(" \t:@!>", rune(rest[0]))) {
			for _, d := range parseDefaults(rest) {
				out = append(out, SudoersLine{Line: host.ConfigLine{N: l.N, Text: d}})
			}
			continue
		}
		out = append(out, SudoersLine{Line: host.ConfigLine{N: l.N, Text: strings.Join(strings.Fields(t), " ")}})
	}
	return out
}

// includeDirective recognises the include directives and returns the path
// (unquoted, backslash escapes removed).
func includeDirective(t string) (string, bool, bool) {
	for _, kw := range []string{"@includedir", "#includedir", "@include", "#include"} {
		rest, ok := strings.CutPrefix(t, kw)
		if !ok || rest == "" || (rest[0] != ' ' && rest[0] != '\t') {
			continue
		}
		rest = strings.TrimSpace(rest)
		var p strings.Builder
		if strings.HasPrefix(rest, `"`) {
			for i := 1; i < len(rest) && rest[i] != '"'; i++ {
				if rest[i] == '\\' && i+1 < len(rest) {
					i++
				}
				p.WriteByte(rest[i])
			}
		} else {
			for i := 0; i < len(rest) && rest[i] != ' ' && rest[i] != '\t'; i++ {
				if rest[i] == '\\' && i+1 < len(rest) {
					i++
				}
				p.WriteByte(rest[i])
			}
		}
		if strings.TrimSpace(p.String()) == "" {
			return "", false, false
		}
		return p.String(), strings.HasSuffix(kw, "dir"), true
	}
	return "", false, false
}

// isDirectiveWord reports whether t starts with an include keyword as a
// word of its own (followed by anything but a word character).
func isDirectiveWord(t string) bool {
	for _, kw := range []string{"@includedir", "#includedir", "@include", "#include"} {
		if rest, ok := strings.CutPrefix(t, kw); ok && (rest == "" || !isWordByte(rest[0])) {
			return true
		}
	}
	return false
}

// stripSudoersComment cuts a line at its comment: the first "#" outside
// double quotes that is not followed by a digit (a "#uid").
func stripSudoersComment(t string) string {
	quoted := false
	for i := 0; i < len(t); i++ {
		switch c := t[i]; {
		case c == '\\':
			i++
		case c == '"':
			quoted = !quoted
		case c == '#' && !quoted:
			if i+1 < len(t) && t[i+1] >= '0' && t[i+1] <= '9' {
				continue
			}
			return t[:i]
		}
	}
	return t
}

// parseDefaults splits what follows "Defaults" into one normalised line
// per parameter.
func parseDefaults(rest string) []string {
	binding := ""
	if rest != "" && strings.ContainsRune(":@!>", rune(rest[0])) {
		op := rest[:1]
		rest = strings.TrimLeft(rest[1:], " \t")
		// The binding list ends at a blank that is not next to a comma.
		var list strings.Builder
		i := 0
	scan:
		for i < len(rest) {
			c := rest[i]
			switch {
			case c == '\\' && i+1 < len(rest):
				if e := escapeBlanks(rest[i+1 : i+2]); e != rest[i+1:i+2] {
					list.WriteString(e)
				} else {
					list.WriteString(rest[i : i+2])
				}
				i += 2
			case c == '\r' || c == '\f' || c == '\v':
				list.WriteString(escapeBlanks(rest[i : i+1]))
				i++
			case c == '"':
				// A quoted name may hold blanks (%"domain admins"):
				// they are written as \xNN, so that the binding is one
				// word and "Defaults\S* " always ends where the
				// parameter starts.
				j := strings.IndexByte(rest[i+1:], '"')
				if j < 0 {
					list.WriteString(escapeBlanks(rest[i:]))
					i = len(rest)
					break scan
				}
				list.WriteString(escapeBlanks(rest[i : i+j+2]))
				i += j + 2
			case c == ' ' || c == '\t':
				j := i
				for j < len(rest) && (rest[j] == ' ' || rest[j] == '\t') {
					j++
				}
				if (j < len(rest) && rest[j] == ',') || strings.HasSuffix(list.String(), ",") {
					i = j
					continue
				}
				i = j
				break scan
			default:
				list.WriteByte(c)
				i++
			}
		}
		binding = op + list.String()
		rest = rest[i:]
	}
	var out []string
	for _, p := range splitParams(rest) {
		if n := normaliseParam(p); n != "" {
			// Lines are kept trimmed (a quoted value's trailing blanks go).
			out = append(out, strings.TrimSpace("Defaults"+binding+" "+n))
		}
	}
	return out
}

// escapeBlanks writes each blank of a binding name (quoted or escaped, or
// a control blank sudo takes as part of a name) as a \xNN escape, which
// holds no blank.
func escapeBlanks(s string) string {
	return strings.NewReplacer(" ", `\x20`, "\t", `\x09`, "\r", `\x0d`, "\f", `\x0c`, "\v", `\x0b`).Replace(s)
}

// splitParams splits a Defaults parameter list at commas outside quotes
// and not escaped.
func splitParams(s string) []string {
	var out []string
	var cur strings.Builder
	quoted := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s):
			cur.WriteString(s[i : i+2])
			i++
		case c == '"':
			quoted = !quoted
			cur.WriteByte(c)
		case c == ',' && !quoted:
			out = append(out, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(c)
		}
	}
	return append(out, cur.String())
}

// normaliseParam writes one parameter as "[!]name" or "name<op>value".
func normaliseParam(p string) string {
	p = strings.TrimSpace(p)
	bangs := 0
	for bangs < len(p) && (p[bangs] == '!' || p[bangs] == ' ' || p[bangs] == '\t') {
		bangs++
	}
	neg := strings.Count(p[:bangs], "!")%2 == 1
	p = p[bangs:]
	end := 0
	for end < len(p) && (p[end] == '_' || p[end] >= 'a' && p[end] <= 'z' || p[end] >= 'A' && p[end] <= 'Z' || p[end] >= '0' && p[end] <= '9') {
		end++
	}
	name, rest := p[:end], strings.TrimSpace(p[end:])
	if name == "" {
		return strings.Join(strings.Fields(p), " ")
	}
	op := ""
	for _, o := range []string{"+=", "-=", "="} {
		if strings.HasPrefix(rest, o) {
			op = o
			rest = strings.TrimSpace(rest[len(o):])
			break
		}
	}
	bang := ""
	if neg {
		bang = "!"
	}
	if op == "" {
		if rest != "" {
			return bang + name + " " + strings.Join(strings.Fields(rest), " ")
		}
		return bang + name
	}
	return bang + name + op + unquote(rest)
}

// unquote removes the double quotes of a sudoers value and its backslash
// escapes.
func unquote(v string) string {
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		v = v[1 : len(v)-1]
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] == '\\' && i+1 < len(v) {
			i++
		}
		b.WriteByte(v[i])
	}
	return b.String()
}

// sudoersDirName reports whether sudo reads a file of an @includedir
// directory: names holding a "." or ending in "~" are skipped (editor
// backups, package leftovers).
func sudoersDirName(name string) bool {
	return !strings.Contains(name, ".") && !strings.HasSuffix(name, "~")
}

// sudoers reads a sudoers file and, in place, the files it includes.
func (r *reader) sudoers(p, from string, chain []string) {
	p = path.Clean("/" + p)
	b, idx, chain, ok := r.enter(p, SetSudoers, from, chain)
	if !ok {
		return
	}
	for _, l := range ParseSudoers(b) {
		r.seq++
		l.Line.Seq = r.seq
		r.out[idx].Lines = append(r.out[idx].Lines, l.Line)
		if l.Include == "" {
			continue
		}
		at := fmt.Sprintf("%s:%d", p, l.Line.N)
		target := l.Include
		if strings.Contains(target, "%h") {
			r.errorf("%s: %s names the host (%%h), which is not known here: not followed", at, target)
			continue
		}
		if !strings.HasPrefix(target, "/") {
			target = path.Join(path.Dir(p), target)
		}
		if !l.IncludeDir {
			r.sudoers(target, at, chain)
			continue
		}
		for _, f := range r.list(target, SetSudoers, at, sudoersDirName) {
			r.sudoers(f, at, chain)
		}
	}
}

func isWordByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}
