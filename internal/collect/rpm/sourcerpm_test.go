package rpm

import (
	"strings"
	"testing"
)

func TestParseSourceRPM(t *testing.T) {
	tests := []struct {
		in, name, version string
		ok                bool
	}{
		{"util-linux-2.32.1-42.el8_8.src.rpm", "util-linux", "2.32.1-42.el8_8", true},
		{"curl-7.76.0-6.cm2.src.rpm", "curl", "7.76.0-6.cm2", true},
		{"gcc11-11.2.1+git610-1.3.9.src.rpm", "gcc11", "11.2.1+git610-1.3.9", true},
		{"python3.11-kensa-odd-name-1.2.3~rc1-0.1.fc39.src.rpm", "python3.11-kensa-odd-name", "1.2.3~rc1-0.1.fc39", true},
		{"kensa-modular-2.0-3.module+el8.1.0+2940+f62455ee.src.rpm", "kensa-modular", "2.0-3.module+el8.1.0+2940+f62455ee", true},
		{"perl-Net-SSLeay-1.88-6.el9.src.rpm", "perl-Net-SSLeay", "1.88-6.el9", true},
		{"kernel-5.14.0-362.8.1.el9_3.src.rpm", "kernel", "5.14.0-362.8.1.el9_3", true},
		{"libstdc++-8.5.0-20.el8.src.rpm", "libstdc++", "8.5.0-20.el8", true},
		{"glibc-2.28-225.el8.nosrc.rpm", "glibc", "2.28-225.el8", true},
		{"a-1-1.src.rpm", "a", "1-1", true},
		{"x--y-1-2.src.rpm", "x--y", "1-2", true},
		{"", "", "", false},
		{"(none)", "", "", false},
		{"foo.src.rpm", "", "", false},
		{"foo-1.src.rpm", "", "", false},
		{"-1-1.src.rpm", "", "", false},
		{"foo--1.src.rpm", "", "", false},
		{"foo-1-.src.rpm", "", "", false},
		{"foo-1-1.x86_64.rpm", "", "", false}, // a binary package, not a source one
		{"foo-1-1.src", "", "", false},
		{".src.rpm", "", "", false},
	}
	for _, tc := range tests {
		name, version, ok := parseSourceRPM(tc.in)
		if name != tc.name || version != tc.version || ok != tc.ok {
			t.Errorf("parseSourceRPM(%q) = %q, %q, %v; want %q, %q, %v", tc.in, name, version, ok, tc.name, tc.version, tc.ok)
		}
	}
}

func FuzzParseSourceRPM(f *testing.F) {
	for _, s := range []string{"util-linux-2.32.1-42.el8_8.src.rpm", "glibc-2.28-225.el8.nosrc.rpm", "a-1-1.src.rpm", "-.src.rpm", "--.src.rpm"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		name, version, ok := parseSourceRPM(s)
		if !ok {
			if name != "" || version != "" {
				t.Fatalf("%q: not ok but returned %q, %q", s, name, version)
			}
			return
		}
		v, r, found := strings.Cut(version, "-")
		if name == "" || !found || v == "" || r == "" || strings.Contains(r, "-") {
			t.Fatalf("%q: name %q, version %q", s, name, version)
		}
		if s != name+"-"+version+".src.rpm" && s != name+"-"+version+".nosrc.rpm" {
			t.Fatalf("%q: %q and %q do not rebuild it", s, name, version)
		}
	})
}
