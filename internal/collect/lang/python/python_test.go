package python_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kensa-dev/kensa/internal/collect"
	"github.com/kensa-dev/kensa/internal/collect/discover"
	"github.com/kensa-dev/kensa/internal/collect/lang/python"
	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/hostfs"
	"github.com/kensa-dev/kensa/internal/testfixture"
)

// A METADATA file as pip writes it (Metadata-Version 2.1, from
// cryptography 38.0.4), with its description body.
const wheelMetadata = `Metadata-Version: 2.1
Name: cryptography
Version: 38.0.4
Summary: cryptography is a package which provides cryptographic recipes and primitives to Python developers.
Author: The Python Cryptographic Authority and individual contributors
Author-email: cryptography-dev@python.org
License: (Apache-2.0 OR BSD-3-Clause) AND PSF-2.0
Project-URL: homepage, https://github.com/pyca/cryptography
Classifier: Development Status :: 5 - Production/Stable
Requires-Python: >=3.6
Description-Content-Type: text/x-rst
License-File: LICENSE
Requires-Dist: cffi (>=1.12)
Provides-Extra: docs
Requires-Dist: sphinx (!=1.8.0,!=3.1.0,!=3.1.1,>=1.6.5) ; extra == 'docs'

pyca/cryptography
=================

Name: not-this
Version: 0
`

// A PKG-INFO of setuptools (Metadata-Version 1.1), CRLF line ends and an
// indented multi-line description header.
const eggInfo = "Metadata-Version: 1.1\r\nname: PyYAML\r\nversion: 6.0\r\nDescription: YAML parser\r\n        Name: fake\r\n        Version: 0\r\nPlatform: Any\r\n"

func TestParseMetadata(t *testing.T) {
	for _, c := range []struct {
		name, in string
		want     python.Metadata
		err      string
	}{
		{"wheel", wheelMetadata, python.Metadata{Name: "cryptography", Version: "38.0.4"}, ""},
		{"egg", eggInfo, python.Metadata{Name: "PyYAML", Version: "6.0"}, ""},
		{"no version", "Metadata-Version: 2.1\nName: x\n\nVersion: 1\n", python.Metadata{}, "without Name or Version"},
		{"empty", "", python.Metadata{}, "without Name or Version"},
		{"garbage", "\x00\x01\x02\xff\xfe binary", python.Metadata{}, "without Name or Version"},
		{"bad name", "Name: ../../etc\nVersion: 1\n", python.Metadata{}, "invalid distribution name"},
		{"bad version", "Name: x\nVersion: 1 2\n", python.Metadata{}, "invalid version"},
		{"first wins", "Name: a\nName: b\nVersion: 1\nVersion: 2\n", python.Metadata{Name: "a", Version: "1"}, ""},
		{"long line", "Summary: " + strings.Repeat("x", 100000) + "\nName: long\nVersion: 1\n", python.Metadata{Name: "long", Version: "1"}, ""},
	} {
		got, err := python.ParseMetadata(strings.NewReader(c.in))
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: error %v, want %q", c.name, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%s: %+v, %v", c.name, got, err)
		}
	}
}

func TestCollect(t *testing.T) {
	root := t.TempDir()
	for name, data := range map[string]string{
		"usr/lib/python3/dist-packages/cryptography-38.0.4.dist-info/METADATA":              wheelMetadata,
		"usr/lib/python3/dist-packages/PyYAML-6.0.egg-info/PKG-INFO":                        eggInfo,
		"usr/lib/python3/dist-packages/Zope.Interface-5.5.2.egg-info":                       "Metadata-Version: 1.2\nName: zope.interface\nVersion: 5.5.2\n",
		"usr/lib/python3/dist-packages/broken-1.dist-info/METADATA":                         "\x00garbage",
		"opt/venv/lib/python3.12/site-packages/Typing_Extensions-4.12.2.dist-info/METADATA": "Name: typing_extensions\nVersion: 4.12.2\n",
		"etc/passwd": "alice:x:1000:1000::/home/alice:/bin/sh\n",
		// pyenv site-packages are listed, not walked: a dist-info without
		// METADATA is no error.
		"home/alice/.pyenv/versions/3.12.1/lib/python3.12/site-packages/empty-1.dist-info/RECORD": "",
	} {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	fsys, err := hostfs.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	w := discover.New(collect.DiscoveryConfig{})
	pkgs := fakePackages{{Name: "python3-yaml", Files: []string{"/usr/lib/python3/dist-packages/PyYAML-6.0.egg-info/PKG-INFO"}}}
	inv := collect.Run(context.Background(), &collect.Env{FS: fsys}, []collect.Collector{pkgs, python.New(w)}, nil)

	sw := func(name, version, purl, loc, owner string) host.Software {
		return host.Software{Ecosystem: "PyPI", Name: name, Version: version, PURL: purl, Kind: "python-dist", Location: loc, Collector: "lang/python", OwnedBy: owner}
	}
	want := []host.Software{
		sw("typing_extensions", "4.12.2", "pkg:pypi/typing-extensions@4.12.2", "/opt/venv/lib/python3.12/site-packages/Typing_Extensions-4.12.2.dist-info/METADATA", ""),
		sw("PyYAML", "6.0", "pkg:pypi/pyyaml@6.0", "/usr/lib/python3/dist-packages/PyYAML-6.0.egg-info/PKG-INFO", "python3-yaml"),
		// The pypi purl keeps dots (PEP 503 folding is for matching).
		sw("zope.interface", "5.5.2", "pkg:pypi/zope.interface@5.5.2", "/usr/lib/python3/dist-packages/Zope.Interface-5.5.2.egg-info", ""),
		sw("cryptography", "38.0.4", "pkg:pypi/cryptography@38.0.4", "/usr/lib/python3/dist-packages/cryptography-38.0.4.dist-info/METADATA", ""),
	}
	if diff := cmp.Diff(want, inv.Software); diff != "" {
		t.Errorf("software (-want +got):\n%s", diff)
	}
	run := inv.Collectors[1]
	if run.Status != host.StatusPartial || run.ErrorCount != 1 || !strings.Contains(run.Errors[0], "broken-1.dist-info/METADATA") {
		t.Errorf("run: %+v", run)
	}
}

// TestPython2 reads the system Python 2.7 of CentOS 7 (site-packages under
// /usr/lib and /usr/lib64) and of Ubuntu 18.04 (dist-packages).
func TestPython2(t *testing.T) {
	root := t.TempDir()
	for name, data := range map[string]string{
		// CentOS 7: pure Python in lib, compiled in lib64, egg-info of rpm.
		"usr/lib/python2.7/site-packages/requests-2.6.0-py2.7.egg-info/PKG-INFO": "Metadata-Version: 1.1\nName: requests\nVersion: 2.6.0\n",
		"usr/lib64/python2.7/site-packages/PyYAML-3.10-py2.7.egg-info":           "Metadata-Version: 1.0\nName: PyYAML\nVersion: 3.10\n",
		// Ubuntu 18.04: dist-packages.
		"usr/lib/python2.7/dist-packages/six-1.11.0.egg-info": "Metadata-Version: 1.1\nName: six\nVersion: 1.11.0\n",
		// pip install into /usr/local.
		"usr/local/lib/python2.7/dist-packages/urllib3-1.26.18.dist-info/METADATA": "Metadata-Version: 2.1\nName: urllib3\nVersion: 1.26.18\n",
	} {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	inv := testfixture.Collect(t, root, python.New(discover.New(collect.DiscoveryConfig{})))
	var got []string
	for _, s := range inv.Software {
		got = append(got, s.PURL+" "+s.Location)
	}
	want := []string{
		"pkg:pypi/six@1.11.0 /usr/lib/python2.7/dist-packages/six-1.11.0.egg-info",
		"pkg:pypi/requests@2.6.0 /usr/lib/python2.7/site-packages/requests-2.6.0-py2.7.egg-info/PKG-INFO",
		"pkg:pypi/pyyaml@3.10 /usr/lib64/python2.7/site-packages/PyYAML-3.10-py2.7.egg-info",
		"pkg:pypi/urllib3@1.26.18 /usr/local/lib/python2.7/dist-packages/urllib3-1.26.18.dist-info/METADATA",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("software (-want +got):\n%s", diff)
	}
	for _, r := range []string{"/usr/lib/python2.7", "/usr/lib64/python2.7", "/usr/local"} {
		if !slices.Contains(inv.Discovery.Roots, r) {
			t.Errorf("root %s not searched: %v", r, inv.Discovery.Roots)
		}
	}
}

type fakePackages []host.Package

func (fakePackages) Name() string { return "pkg/fake" }
func (p fakePackages) Collect(_ context.Context, _ *collect.Env, inv *host.Inventory) error {
	inv.Packages = append(inv.Packages, p...)
	return nil
}

func FuzzParseMetadata(f *testing.F) {
	f.Add([]byte(wheelMetadata))
	f.Add([]byte(eggInfo))
	f.Fuzz(func(t *testing.T, b []byte) {
		md, err := python.ParseMetadata(strings.NewReader(string(b)))
		if err != nil {
			return
		}
		if md.Name == "" || md.Version == "" || strings.ContainsAny(md.Name+md.Version, " \t\r\n") {
			t.Errorf("accepted %+v", md)
		}
	})
}
