package lang

import (
	"bytes"
	"errors"
	"testing"
)

func TestPURL(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{GoPURL("github.com/BurntSushi/toml", "v1.3.2"), "pkg:golang/github.com/burntsushi/toml@v1.3.2"},
		{GoPURL("github.com/docker/docker", "v20.10.7+incompatible"), "pkg:golang/github.com/docker/docker@v20.10.7%2Bincompatible"},
		{GoPURL("stdlib", "v1.22.3"), "pkg:golang/stdlib@v1.22.3"},
		// A main module built from a working tree names no release.
		{GoPURL("example.com/cmd", "(devel)"), "pkg:golang/example.com/cmd"},
		{GoPackagePURL("toolchain", "v1.22.3", "cmd/go"), "pkg:golang/toolchain@v1.22.3#cmd/go"},
		{GoPURL("example.com/x", ""), "pkg:golang/example.com/x"},
		{NPMPURL("@Angular/core", "16.0.0-rc.1"), "pkg:npm/%40angular/core@16.0.0-rc.1"},
		{NPMPURL("lodash", "4.17.21"), "pkg:npm/lodash@4.17.21"},
		// The pypi purl type lowercases and turns "_" into "-"; dots and
		// runs stay.
		{PyPIPURL("Foo.Bar_baz--qux", "1.0.post1"), "pkg:pypi/foo.bar-baz--qux@1.0.post1"},
		{PyPIPURL("zope.interface", "5.5.2+local"), "pkg:pypi/zope.interface@5.5.2%2Blocal"},
		{PyPIPURL("typing_extensions", "4.12.2"), "pkg:pypi/typing-extensions@4.12.2"},
		{MavenPURL("org.apache.logging.log4j", "log4j-core", "2.14.1"), "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"},
		{PURL("generic", "a//b", "x y/é?#@", "1:2"), "pkg:generic/a/b/x%20y%2F%C3%A9%3F%23%40@1:2"},
	} {
		if c.got != c.want {
			t.Errorf("got %s, want %s", c.got, c.want)
		}
	}
}

func TestPyPINames(t *testing.T) {
	for in, want := range map[string][2]string{
		// name: {PEP 503, purl}
		"Django":            {"django", "django"},
		"typing_extensions": {"typing-extensions", "typing-extensions"},
		"ruamel.yaml":       {"ruamel-yaml", "ruamel.yaml"},
		"A-_.B":             {"a-b", "a--.b"},
		"_x_":               {"x", "-x-"},
	} {
		if got := NormalizePEP503(in); got != want[0] {
			t.Errorf("NormalizePEP503(%q) = %q, want %q", in, got, want[0])
		}
		if got := PyPIPURLName(in); got != want[1] {
			t.Errorf("PyPIPURLName(%q) = %q, want %q", in, got, want[1])
		}
	}
}

func TestValidIdent(t *testing.T) {
	for s, want := range map[string]bool{
		"org.apache.logging.log4j": true, "log4j-core": true, "typing_extensions": true, "_x.": true,
		"": false, "a b": false, "../x": false, "ü": false, "a:b": false, "${x}": false,
		string(make([]byte, 300)): false,
	} {
		if got := ValidIdent(s, 256); got != want {
			t.Errorf("ValidIdent(%q) = %v", s, got)
		}
	}
}

func TestIsDigits(t *testing.T) {
	for s, want := range map[string]bool{"0": true, "1234": true, "": false, "+1": false, "1a": false, "١": false} {
		if got := IsDigits(s); got != want {
			t.Errorf("IsDigits(%q) = %v", s, got)
		}
	}
}

func TestValidText(t *testing.T) {
	for s, want := range map[string]bool{"1.0": true, "": false, "1 0": false, "a\x00": false, "ü": true, string(make([]byte, 300)): false} {
		if got := ValidText(s, 256); got != want {
			t.Errorf("ValidText(%q) = %v", s, got)
		}
	}
}

func TestBudgetReaderAt(t *testing.T) {
	r := &BudgetReaderAt{R: bytes.NewReader(make([]byte, 100)), N: 10}
	buf := make([]byte, 6)
	if _, err := r.ReadAt(buf, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := r.ReadAt(buf, 6); !errors.Is(err, ErrBudget) {
		t.Errorf("read past the budget: %v", err)
	}
}
