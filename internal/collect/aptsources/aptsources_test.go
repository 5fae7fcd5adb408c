package aptsources_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kensa-dev/kensa/internal/collect"
	"github.com/kensa-dev/kensa/internal/collect/aptsources"
	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/hostfs"
	"github.com/kensa-dev/kensa/internal/testfixture"
)

func TestParseOneLine(t *testing.T) {
	src, errs := aptsources.ParseOneLine("/etc/apt/sources.list", []byte(`# comment
deb http://deb.debian.org/debian bookworm main contrib
deb-src [ arch=amd64 signed-by=/usr/share/keyrings/a.gpg,/usr/share/keyrings/b.gpg ] http://x/ stable main # trailing
deb [trusted=yes] http://repo/ ./
rpm http://x/ y
deb http://only-uri/
`))
	if len(errs) != 2 || !strings.Contains(errs[0].Error(), ":5:") || !strings.Contains(errs[1].Error(), ":6:") {
		t.Errorf("errors %v", errs)
	}
	if len(src) != 3 {
		t.Fatalf("sources %+v", src)
	}
	if s := src[0]; s.Type != "deb" || s.URIs[0] != "http://deb.debian.org/debian" || s.Suites[0] != "bookworm" || len(s.Components) != 2 || s.Line != 2 {
		t.Errorf("first %+v", s)
	}
	if s := src[1]; s.Type != "deb-src" || s.Options["arch"] != "amd64" || len(s.SignedBy) != 2 || s.SignedBy[1] != "/usr/share/keyrings/b.gpg" || s.URIs[0] != "http://x/" {
		t.Errorf("second %+v", s)
	}
	if s := src[2]; s.Options["trusted"] != "yes" || s.Suites[0] != "./" {
		t.Errorf("third %+v", s)
	}
}

func TestParseDeb822(t *testing.T) {
	src, errs := aptsources.ParseDeb822("/etc/apt/sources.list.d/x.sources", []byte(`Types: deb deb-src
URIs: http://a/ http://b/
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/k.gpg

# a disabled one
Types: deb
URIs: http://c/
Suites: x
Enabled: no

Types: deb
URIs: http://d/
Suites: y
Trusted: yes
Signed-By:
 -----BEGIN PGP PUBLIC KEY BLOCK-----
 .
 mQINBF...
 -----END PGP PUBLIC KEY BLOCK-----
`))
	if len(errs) != 0 || len(src) != 2 {
		t.Fatalf("sources %+v errors %v", src, errs)
	}
	if s := src[0]; s.Type != "deb deb-src" || len(s.URIs) != 2 || len(s.Suites) != 2 || s.SignedBy[0] != "/usr/share/keyrings/k.gpg" || s.Line != 1 {
		t.Errorf("first %+v", s)
	}
	if s := src[1]; s.Options["trusted"] != "yes" || s.SignedBy[0] != "(inline key)" || s.Line != 13 {
		t.Errorf("second %+v", s)
	}
}

func write(t *testing.T, root, name, content string) {
	t.Helper()
	p := filepath.Join(root, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// apt's file selection (.list and .sources only), the keyrings, and the
// Signed-By files that do not exist.
func TestCollect(t *testing.T) {
	root := t.TempDir()
	write(t, root, "etc/apt/sources.list", "deb http://a/ bookworm main\n")
	write(t, root, "etc/apt/sources.list.d/b.list", "deb [signed-by=/usr/share/keyrings/missing.gpg] http://b/ s main\n")
	write(t, root, "etc/apt/sources.list.d/c.sources", "Types: deb\nURIs: http://c/\nSuites: s\nSigned-By: /usr/share/keyrings/c.gpg\n")
	write(t, root, "etc/apt/sources.list.d/d.list.disabled", "deb [trusted=yes] http://d/ s main\n")
	write(t, root, "usr/share/keyrings/c.gpg", "k")
	write(t, root, "etc/apt/trusted.gpg.d/debian.asc", "k")
	write(t, root, "etc/apt/trusted.gpg.d/README", "not a key")
	fsys, err := hostfs.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	inv := testfixture.CollectEnv(t, &collect.Env{FS: fsys}, aptsources.New())
	as := inv.Config.AptSources
	if inv.Collectors[0].Status != host.StatusOK || len(as.Sources) != 3 || len(as.Files) != 3 {
		t.Fatalf("run %+v facts %+v", inv.Collectors[0], as)
	}
	if len(as.Keyrings) != 1 || as.Keyrings[0] != "/etc/apt/trusted.gpg.d/debian.asc" {
		t.Errorf("keyrings %v", as.Keyrings)
	}
	if len(as.Sources[1].MissingKeys) != 1 || len(as.Sources[2].MissingKeys) != 0 {
		t.Errorf("missing keys %+v", as.Sources)
	}
}

func FuzzParsers(f *testing.F) {
	f.Add([]byte("deb [a=b c=d] http://x/ s main\n"))
	f.Add([]byte("Types: deb\nURIs: x\nSuites: y\n continued\n\n"))
	f.Add([]byte("deb [\n[ ]\n: \n \n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, s := range append(must(aptsources.ParseOneLine("f", b)), must(aptsources.ParseDeb822("f", b))...) {
			if s.Type == "" || s.Line <= 0 {
				t.Fatalf("source %+v from %q", s, b)
			}
		}
	})
}

func must(s []host.AptSource, _ []error) []host.AptSource { return s }
