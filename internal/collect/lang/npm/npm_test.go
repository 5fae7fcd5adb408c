package npm_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kensa-dev/kensa/internal/collect"
	"github.com/kensa-dev/kensa/internal/collect/discover"
	"github.com/kensa-dev/kensa/internal/collect/lang/npm"
	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/hostfs"
)

func TestCollect(t *testing.T) {
	root := t.TempDir()
	nm := "usr/lib/node_modules/"
	for name, data := range map[string]string{
		nm + "npm/package.json":                                                      `{"name":"npm","version":"9.2.0","dependencies":{"semver":"^7.3.8"}}`,
		nm + "npm/node_modules/semver/package.json":                                  `{"name": "semver", "version": "7.3.8", "bin": {"semver": "bin/semver.js"}}`,
		nm + "npm/node_modules/@npmcli/arborist/package.json":                        `{"name":"@npmcli/arborist","version":"6.1.5"}`,
		nm + "npm/node_modules/@npmcli/arborist/node_modules/minimatch/package.json": `{"name":"minimatch","version":"5.1.1"}`,
		nm + "npm/node_modules/semver/test/fixtures/package.json":                    `{"name":"fixture","version":"0.0.0"}`,
		nm + "npm/node_modules/workspace-only/package.json":                          `{"name":"workspace-only","private":true}`,
		nm + "npm/node_modules/nameless/package.json":                                `{"version":"1.0.0"}`,
		nm + "npm/node_modules/garbage/package.json":                                 "\x00\x01 not json",
		nm + "npm/node_modules/typed/package.json":                                   `{"name":["x"],"version":"1"}`,
		nm + "npm/node_modules/nullish/package.json":                                 `{"name":null,"version":null}`,
		"opt/app/package.json":                                                       `{"name":"app","version":"1.0.0"}`,
		"opt/app/node_modules/left-pad/package.json":                                 `{"name":"left-pad","version":"1.3.0"}`,
		"app/node_modules/lodash/package.json":                                       `{"name":"lodash","version":"4.17.20"}`,
		"var/www/site/node_modules/express/package.json":                             `{"name":"express","version":"4.17.1"}`,
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
	inv := collect.Run(context.Background(), &collect.Env{FS: fsys}, []collect.Collector{npm.New(discover.New(collect.DiscoveryConfig{}))}, nil)

	sw := func(name, version, purl, loc string) host.Software {
		return host.Software{Ecosystem: "npm", Name: name, Version: version, PURL: purl, Kind: "npm", Location: loc, Collector: "lang/npm"}
	}
	want := []host.Software{
		sw("lodash", "4.17.20", "pkg:npm/lodash@4.17.20", "/app/node_modules/lodash/package.json"),
		sw("left-pad", "1.3.0", "pkg:npm/left-pad@1.3.0", "/opt/app/node_modules/left-pad/package.json"),
		sw("minimatch", "5.1.1", "pkg:npm/minimatch@5.1.1", "/"+nm+"npm/node_modules/@npmcli/arborist/node_modules/minimatch/package.json"),
		sw("@npmcli/arborist", "6.1.5", "pkg:npm/%40npmcli/arborist@6.1.5", "/"+nm+"npm/node_modules/@npmcli/arborist/package.json"),
		sw("semver", "7.3.8", "pkg:npm/semver@7.3.8", "/"+nm+"npm/node_modules/semver/package.json"),
		sw("npm", "9.2.0", "pkg:npm/npm@9.2.0", "/"+nm+"npm/package.json"),
		sw("express", "4.17.1", "pkg:npm/express@4.17.1", "/var/www/site/node_modules/express/package.json"),
	}
	if diff := cmp.Diff(want, inv.Software); diff != "" {
		t.Errorf("software (-want +got):\n%s", diff)
	}
	run := inv.Collectors[0]
	if run.ErrorCount != 2 || !strings.Contains(strings.Join(run.Errors, "\n"), "garbage/package.json") || !strings.Contains(strings.Join(run.Errors, "\n"), "typed/package.json") {
		t.Errorf("errors: %v", run.Errors)
	}
}

func TestParseManifest(t *testing.T) {
	for in, want := range map[string]string{
		`{"name":"a","version":"1.0.0"}`:           "a 1.0.0",
		`{"version":"1.0.0"}`:                      " 1.0.0",
		`{"name":"a b","version":"1"}`:             "error",
		`{"name":"a","version":1}`:                 "error",
		`[]`:                                       "error",
		`{"name":"@s/x","version":"2.0.0-beta.1"}`: "@s/x 2.0.0-beta.1",
	} {
		m, err := npm.ParseManifest([]byte(in))
		got := m.Name + " " + m.Version
		if err != nil {
			got = "error"
		}
		if got != want {
			t.Errorf("%s: %q, want %q (%v)", in, got, want, err)
		}
	}
}

func FuzzParseManifest(f *testing.F) {
	f.Add([]byte(`{"name":"@s/x","version":"1.0.0"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := npm.ParseManifest(b)
		if err == nil && strings.ContainsAny(m.Name+m.Version, " \n\x00") {
			t.Errorf("accepted %+v", m)
		}
	})
}
