package files

import (
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/kensa-dev/kensa/internal/host"
)

// AIDEConf is the AIDE configuration of the Red Hat family and Amazon
// Linux (Debian's /etc/aide/aide.conf is not read: it includes its
// drop-ins with @@x_include, which runs them).
const AIDEConf = "/etc/aide.conf"

// aideBuiltin are the attribute groups AIDE predefines (aide.conf(5) of
// AIDE 0.16-0.18, built with ACL, SELinux and xattr support, as the Red
// Hat family builds it).
var aideBuiltin = map[string][]string{
	"R": {"p", "i", "l", "n", "u", "g", "s", "m", "c", "acl", "selinux", "xattrs", "md5"},
	"L": {"p", "i", "l", "n", "u", "g", "acl", "selinux", "xattrs"},
	">": {"p", "u", "g", "i", "n", "l", "S", "acl", "selinux", "xattrs"},
	"E": {},
	"H": {"md5", "sha1", "sha256", "sha512", "rmd160", "tiger", "haval", "gost", "crc32", "whirlpool"},
	"X": {"acl", "selinux", "xattrs", "e2fsattrs", "caps"},
}

// aideAttrs are AIDE's single attributes (and hashes), in the order an
// expanded set is written.
var aideAttrs = []string{"p", "i", "l", "n", "u", "g", "s", "S", "b", "m", "a", "c", "I", "ftype",
	"acl", "selinux", "xattrs", "e2fsattrs", "caps",
	"md5", "sha1", "sha256", "sha512", "rmd160", "tiger", "haval", "gost", "crc32", "whirlpool", "stribog256", "stribog512", "sha512_256", "sha3_256", "sha3_512"}

// maxAIDELine caps a line once its variables are substituted (a variable
// defined as itself twice over doubles at each definition).
const maxAIDELine = 64 << 10

var (
	aideVar     = regexp.MustCompile(`@@\{([A-Za-z0-9_]+)\}`)
	aideGroupRe = regexp.MustCompile(`^([A-Za-z0-9_]+)\s*=\s*(\S+)$`)
)

// aideState is what AIDE's parser carries through a configuration and
// its includes: variables, groups, and the @@if nesting.
type aideState struct {
	vars   map[string]string
	groups map[string][]string
	// skip is the @@if stack: true where the lines are not in effect.
	skip []bool
}

func (s *aideState) skipping() bool { return slices.Contains(s.skip, true) }

// expand returns the single attributes an expression ("p+i+NORMAL-m")
// stands for, in aideAttrs order; an unknown name is kept, marked "?";
// none is "E", AIDE's empty group.
func (s *aideState) expand(expr string) string {
	set := map[string]bool{}
	var unknown []string
	op := byte('+')
	start := 0
	apply := func(name string) {
		if name == "" {
			return
		}
		attrs, ok := s.groups[name]
		if !ok {
			attrs, ok = aideBuiltin[name]
		}
		if !ok {
			if !slices.Contains(aideAttrs, name) {
				name = "?" + name
			}
			attrs = []string{name}
		}
		for _, a := range attrs {
			set[a] = op == '+'
			if strings.HasPrefix(a, "?") && !slices.Contains(unknown, a) {
				unknown = append(unknown, a)
			}
		}
	}
	for i := 0; i <= len(expr); i++ {
		if i == len(expr) || expr[i] == '+' || expr[i] == '-' {
			apply(expr[start:i])
			if i < len(expr) {
				op = expr[i]
			}
			start = i + 1
		}
	}
	var out []string
	for _, a := range aideAttrs {
		if set[a] {
			out = append(out, a)
		}
	}
	for _, u := range unknown {
		if set[u] {
			out = append(out, u)
		}
	}
	if len(out) == 0 {
		return "E" // AIDE's empty group
	}
	return strings.Join(out, "+")
}

// aide reads AIDE's configuration with its @@include directives followed
// in place. Lines are kept as AIDE takes them: @@define variables
// substituted, @@ifdef/@@ifndef/@@else/@@endif applied (lines not in
// effect dropped), macro lines dropped. A group definition ("NAME =
// expr") is kept as written; a selection line ("/path expr", "=/path
// expr") is rewritten as its path and the single attributes its
// expression stands for, groups expanded ("/usr/sbin/auditctl
// p+i+n+u+g+s+b+acl+xattrs+sha512"), followed by "# written: expr" when
// that differs; a name that is no attribute and no group defined before
// is kept as "?name". @@x_include (which runs the files it names) and
// @@ifhost/@@ifnhost (which depend on the host name) make the file an
// Error: what AIDE reads is then not known.
func (r *reader) aide() {
	st := &aideState{vars: map[string]string{}, groups: map[string][]string{}}
	r.aideFile(AIDEConf, "", nil, st)
}

func (r *reader) aideFile(p, from string, chain []string, st *aideState) {
	p = path.Clean("/" + p)
	b, idx, chain, ok := r.enter(p, SetAIDE, from, chain)
	if !ok {
		return
	}
	fail := func(n int, why string) {
		r.out[idx].Error = fmt.Sprintf("line %d: %s", n, why)
		r.errorf("%s:%d: %s", p, n, why)
	}
	for _, l := range logical(b, false) {
		t := strings.TrimSpace(l.Text)
		if t == "" || t[0] == '#' {
			continue
		}
		f := strings.Fields(t)
		switch f[0] {
		case "@@ifdef", "@@ifndef":
			def := false
			if len(f) > 1 {
				_, def = st.vars[f[1]]
			}
			st.skip = append(st.skip, def == (f[0] == "@@ifndef"))
			continue
		case "@@else":
			if n := len(st.skip); n > 0 {
				st.skip[n-1] = !st.skip[n-1]
			}
			continue
		case "@@endif":
			if n := len(st.skip); n > 0 {
				st.skip = st.skip[:n-1]
			}
			continue
		case "@@ifhost", "@@ifnhost":
			fail(l.N, f[0]+": which lines apply depends on the host name; the configuration is not read further")
			return
		}
		if st.skipping() {
			continue
		}
		size := len(t)
		t = aideVar.ReplaceAllStringFunc(t, func(m string) string {
			v := st.vars[aideVar.FindStringSubmatch(m)[1]]
			if size += len(v); size > maxAIDELine {
				return ""
			}
			return v
		})
		if size > maxAIDELine {
			fail(l.N, fmt.Sprintf("more than %d bytes once its variables are substituted; the configuration is not read further", maxAIDELine))
			return
		}
		t = strings.TrimSpace(t)
		f = strings.Fields(t)
		if len(f) == 0 {
			continue
		}
		switch f[0] {
		case "@@define":
			if len(f) > 1 {
				st.vars[f[1]] = strings.Join(f[2:], " ")
			}
			continue
		case "@@undef":
			if len(f) > 1 {
				delete(st.vars, f[1])
			}
			continue
		case "@@x_include":
			fail(l.N, "@@x_include runs what it names; its output is not known here")
			return
		case "@@include":
			r.seq++
			r.out[idx].Lines = append(r.out[idx].Lines, host.ConfigLine{N: l.N, Text: t, Seq: r.seq})
			if len(f) < 2 {
				continue
			}
			at := fmt.Sprintf("%s:%d", p, l.N)
			for _, inc := range r.aideInclude(f[1:], path.Dir(p), at) {
				r.aideFile(inc, at, chain, st)
			}
			continue
		}
		if strings.HasPrefix(f[0], "@@") {
			continue
		}
		text := t
		if m := aideGroupRe.FindStringSubmatch(t); m != nil && !strings.HasPrefix(t, "/") {
			// A group ("NORMAL = p+i+sha512"). Settings are written the
			// same way (database_in=file:..., gzip_dbout=yes); taking
			// them as groups too is harmless, no selection line names
			// them.
			st.groups[m[1]] = strings.Split(st.expand(m[2]), "+")
		} else if (f[0][0] == '/' || f[0][0] == '=') && len(f) >= 2 {
			// "/path expr", or (AIDE 0.17 and later) "/path types expr":
			// the expression is the last word.
			expr := f[len(f)-1]
			exp := st.expand(expr)
			text = strings.Join(f[:len(f)-1], " ") + " " + exp
			if exp != expr {
				text += " # written: " + expr
			}
		}
		r.seq++
		r.out[idx].Lines = append(r.out[idx].Lines, host.ConfigLine{N: l.N, Text: text, Seq: r.seq})
	}
}

// aideInclude lists what an @@include names: a file, or (AIDE 0.17 and
// later) a directory and a regular expression its file names must match,
// in lexical order.
func (r *reader) aideInclude(args []string, dir, at string) []string {
	p := abs(args[0], dir)
	fi, err := r.fsys.Stat(p)
	if err != nil || !fi.IsDir() {
		// A missing file is recorded as not existing when it is read.
		return []string{p}
	}
	re := regexp.MustCompile(".*")
	if len(args) > 1 {
		re, err = regexp.Compile(args[1])
		if err != nil {
			r.errorf("%s: @@include %s: bad expression %q: %v", at, p, args[1], err)
			return nil
		}
	}
	return r.list(p, SetAIDE, at, func(n string) bool { return re.MatchString(n) })
}
