package suppress

import (
	"path"
	"strings"
	"testing"
)

func TestGlobMatch(t *testing.T) {
	for _, tc := range []struct {
		pattern string
		mode    globMode
		in      string
		want    bool
	}{
		// Names: * crosses "/", case does not matter.
		{"cis-5.2.*", globName, "cis-5.2.10", true},
		{"cis-5.2.*", globName, "cis-5.21", false},
		{"cis-5.2.*", globName, "cis-5.2", false},
		{"cve/*", globName, "cve/Debian", true},
		{"cve/*", globName, "CVE/debian", true},
		{"*", globName, "cve/Debian", true},
		{"cve/*", globName, "os-end-of-life", false},
		{"web-?", globName, "web-1", true},
		{"web-?", globName, "web-12", false},
		{"web-[0-9]", globName, "web-7", true},
		{"web-[0-9]", globName, "web-a", false},
		{"web-[!0-9]", globName, "web-a", true},
		{"web-[^0-9]", globName, "web-7", false},
		{"lib[]x]", globName, "lib]", true},
		{"lib[a-]", globName, "lib-", true},
		{`a\*b`, globName, "a*b", true},
		{`a\*b`, globName, "axb", false},
		{"libssl3", globName, "libssl3t64", false}, // anchored at the end
		{"ssl*", globName, "libssl3", false},       // and at the start
		{"a.b", globName, "axb", false},            // "." is not special
		{"café*", globName, "CAFÉ-1", true},        // Unicode, case-folded
		{"x", globName, "x\n", false},              // \z, not $
		{"[a-c]x", globName, "Bx", true},           // classes fold case too
		{"k*", globName, "\u212a-1", true},         // the Kelvin sign folds to k
		{"libssl3", globName, "LIBSSL3", true},     // literal, folded
		{"libssl3", globName, "libssl", false},     // literal, shorter
		{"cve/*", globName, "cve/", true},          // prefix and any rest
		{"cve/*", globName, "cv", false},           // shorter than the prefix
		// Paths: * stays in a segment, ** crosses them, case matters.
		{"/opt/*", globPath, "/opt/app", true},
		{"/opt/*", globPath, "/opt/app/bin", false},
		{"/opt/**", globPath, "/opt/app/bin/x", true},
		{"/opt/**", globPath, "/opt", false},
		{"/opt/**", globPath, "/optx/a", false},
		{"/opt/**/bin/*", globPath, "/opt/bin/x", true},
		{"/opt/**/bin/*", globPath, "/opt/a/b/bin/x", true},
		{"/opt/**/bin/*", globPath, "/opt/a/b/sbin/x", false},
		{"**/testdata/**", globPath, "/src/p/testdata/bin", true},
		{"**/testdata/**", globPath, "/testdata/bin", true},
		{"**/testdata/**", globPath, "/src/mytestdata/bin", false},
		{"**", globPath, "/anything/at/all", true},
		{"/usr/bin/?", globPath, "/usr/bin/a", true},
		{"/usr/bin/?", globPath, "/usr/bin//", false},
		{"/usr/[!x]in/a", globPath, "/usr/bin/a", true},
		{"/usr/b[!x]n", globPath, "/usr/b/n", false}, // a negated class never matches /
		{"/Opt/*", globPath, "/opt/app", false},
	} {
		g, err := newGlob(tc.pattern, tc.mode)
		if err != nil {
			t.Errorf("newGlob(%q): %v", tc.pattern, err)
			continue
		}
		if got := g.match(tc.in); got != tc.want {
			t.Errorf("%q (mode %d) on %q = %v, want %v (regexp %s)", tc.pattern, tc.mode, tc.in, got, tc.want, g.re)
		}
		if got := g.re.MatchString(tc.in); got != tc.want {
			t.Errorf("%q (mode %d) on %q: the regexp alone says %v, want %v (regexp %s)", tc.pattern, tc.mode, tc.in, got, tc.want, g.re)
		}
	}
}

func TestGlobErrors(t *testing.T) {
	for _, tc := range []struct {
		pattern string
		mode    globMode
		want    string
	}{
		{"web-[0-9", globName, "unclosed ["},
		{"web-[", globName, "unclosed ["},
		{"web-[]", globName, "unclosed ["},
		{"web-[z-a]", globName, "backwards"},
		{`web-\`, globName, `lone \`},
		{`[a\`, globName, "unclosed ["},
		{"[é]", globName, "ASCII"},
		{"/opt/a**", globPath, "whole path segment"},
		{"/opt/**b/c", globPath, "whole path segment"},
		{"/opt/***", globPath, "any depth"},
	} {
		_, err := compileGlob(tc.pattern, tc.mode)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("compileGlob(%q) = %v, want an error containing %q", tc.pattern, err, tc.want)
		}
	}
	// "**" in a name is just "*": there are no segments to cross.
	if _, err := compileGlob("a**b", globName); err != nil {
		t.Errorf("a**b as a name: %v", err)
	}
}

// FuzzGlobPath checks the path globs against path.Match, the standard
// library's reading of the same syntax, wherever both accept the pattern
// and path.Match reads all of its syntax as we do.
func FuzzGlobPath(f *testing.F) {
	for _, s := range [][2]string{
		{"/opt/*", "/opt/app"}, {"/opt/*", "/opt/a/b"}, {"/usr/?in/[a-c]", "/usr/bin/b"},
		{"/x/[!a]", "/x//"}, {`/a\*`, "/a*"}, {"*.so", "libc.so"}, {"[^a-c]x", "dx"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, name string) {
		// path.Match knows neither "**" nor "[!...]", and its "[^...]"
		// matches "/", which ours deliberately does not.
		if strings.Contains(pattern, "**") || strings.Contains(pattern, "[!") || strings.Contains(pattern, "[^") {
			return
		}
		// path.Match's "*" steps through bytes, not characters, and
		// then matches "?" against part of a multi-byte character.
		for i := 0; i < len(name); i++ {
			if name[i] >= 0x80 {
				return
			}
		}
		want, err := path.Match(pattern, name)
		if err != nil {
			return
		}
		re, err := compileGlob(pattern, globPath)
		if err != nil {
			return
		}
		if got := re.MatchString(name); got != want {
			t.Errorf("%q on %q: %v, path.Match says %v (regexp %s)", pattern, name, got, want, re)
		}
	})
}

// FuzzGlobFast checks the literal-prefix fast path against the regular
// expression alone, in both modes.
func FuzzGlobFast(f *testing.F) {
	for _, s := range [][2]string{
		{"cve/*", "CVE/Debian"}, {"libssl3", "libssl3"}, {"/opt/**", "/opt/"}, {"/opt/*", "/opt/a/b"},
		{"k*", "\u212a"}, {"cis-5.2.?", "cis-5.2.1"}, {"a\\*", "a*"},
	} {
		f.Add(s[0], s[1], false)
		f.Add(s[0], s[1], true)
	}
	f.Fuzz(func(t *testing.T, pattern, s string, path bool) {
		mode := globName
		if path {
			mode = globPath
		}
		g, err := newGlob(pattern, mode)
		if err != nil {
			return
		}
		if got, want := g.match(s), g.re.MatchString(s); got != want {
			t.Errorf("%q (path %v) on %q: %v, the regexp says %v (prefix %q literal %v anyRest %v)", pattern, path, s, got, want, g.prefix, g.literal, g.anyRest)
		}
	})
}
