package fetch

import (
	"io/fs"
	"net/url"
	"slices"
	"strings"
	"testing"
)

func names(feeds []Feed) []string {
	var out []string
	for _, f := range feeds {
		out = append(out, f.Name)
	}
	return out
}

func TestCatalogInvariants(t *testing.T) {
	feeds := Catalog()
	seenName, seenPath := map[string]bool{}, map[string]bool{}
	for _, f := range feeds {
		if f.Name == "" || seenName[strings.ToLower(f.Name)] {
			t.Errorf("feed name %q empty or duplicated", f.Name)
		}
		seenName[strings.ToLower(f.Name)] = true
		if !fs.ValidPath(f.Path) || seenPath[f.Path] {
			t.Errorf("%s: path %q invalid or duplicated", f.Name, f.Path)
		}
		seenPath[f.Path] = true
		u, err := url.Parse(f.URL)
		if err != nil || u.Host == "" || (u.Scheme != "https" && f.Name != "alas/ALAS2") {
			t.Errorf("%s: URL %q is not an https URL", f.Name, f.URL)
		}
		if f.MaxSize <= 0 || f.Format == "" || f.Integrity == "" {
			t.Errorf("%s: incomplete: %+v", f.Name, f)
		}
		if !f.Always && len(f.Ecosystems) == 0 {
			t.Errorf("%s: serves no ecosystem", f.Name)
		}
		if f.Format == FormatOSV && (f.MaxSize != MaxSizeOSV || f.Integrity != IntegrityGoogHash) {
			t.Errorf("%s: OSV feed with cap %d and integrity %s", f.Name, f.MaxSize, f.Integrity)
		}
	}
	for _, eco := range []string{"Debian", "Ubuntu", "AlmaLinux", "Rocky Linux", "Red Hat", "Alpine", "Go", "PyPI", "npm", "Maven", "crates.io", "RubyGems", "NuGet", "Packagist"} {
		if !seenName["osv/"+strings.ToLower(eco)] {
			t.Errorf("no OSV feed for %s", eco)
		}
	}
	want := map[string]string{
		"osv/Rocky Linux":              "https://osv-vulnerabilities.storage.googleapis.com/Rocky%20Linux/all.zip",
		"osv/Red Hat":                  "https://osv-vulnerabilities.storage.googleapis.com/Red%20Hat/all.zip",
		"osv/crates.io":                "https://osv-vulnerabilities.storage.googleapis.com/crates.io/all.zip",
		"debian/tracker":               "https://security-tracker.debian.org/tracker/data/json",
		"alpine-secdb/v3.20/community": "https://secdb.alpinelinux.org/v3.20/community.json",
		"alas/ALAS2023":                "https://cdn.amazonlinux.com/al2023/core/mirrors/latest/x86_64/mirror.list",
		"alas/ALAS2":                   "http://amazonlinux.default.amazonaws.com/2/core/latest/x86_64/mirror.list",
		"kev":                          "https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json",
	}
	for _, f := range feeds {
		if w, ok := want[f.Name]; ok {
			if f.URL != w {
				t.Errorf("%s: URL %s, want %s", f.Name, f.URL, w)
			}
			delete(want, f.Name)
		}
	}
	if len(want) > 0 {
		t.Errorf("missing feeds: %v", want)
	}
	// Each call returns its own slice.
	feeds[0].Name = "changed"
	if Catalog()[0].Name == "changed" {
		t.Error("Catalog shares its slice")
	}
}

func TestSelect(t *testing.T) {
	for _, tc := range []struct {
		ecosystems, names []string
		want              []string
	}{
		{[]string{"Debian:12", "Go", "PyPI"}, nil, []string{"osv/Debian", "osv/Go", "osv/PyPI", "debian/tracker", "kev"}},
		{[]string{"Ubuntu:22.04:LTS", "Ubuntu:Pro:22.04:LTS"}, nil, []string{"osv/Ubuntu", "kev"}},
		{[]string{"Red Hat:enterprise_linux:9", "Rocky Linux:9", "AlmaLinux:8"}, nil, []string{"osv/AlmaLinux", "osv/Rocky Linux", "osv/Red Hat", "kev"}},
		{[]string{"Alpine:v3.20"}, nil, []string{"osv/Alpine", "alpine-secdb/v3.20/main", "alpine-secdb/v3.20/community", "kev"}},
		{[]string{"Alpine:v3.2"}, nil, []string{"osv/Alpine", "alpine-secdb/v3.2/main", "alpine-secdb/v3.2/community", "kev"}},
		{[]string{"Amazon Linux:2023"}, nil, []string{"alas/ALAS2023", "kev"}},
		{[]string{"Amazon Linux:2"}, nil, []string{"alas/ALAS2", "kev"}},
		{[]string{"CentOS:7", ""}, nil, []string{"kev"}},
		{nil, nil, []string{"kev"}},
		{nil, []string{"osv/go", " kev "}, []string{"osv/Go", "kev"}},
		{nil, []string{"Amazon Linux"}, []string{"alas/ALAS2023", "alas/ALAS2", "kev"}},
		{nil, []string{"debian"}, []string{"osv/Debian", "debian/tracker", "kev"}},
		{[]string{"Go"}, []string{"npm"}, []string{"osv/Go", "osv/npm", "kev"}},
	} {
		got, err := Select(tc.ecosystems, tc.names)
		if err != nil {
			t.Errorf("Select(%q, %q): %v", tc.ecosystems, tc.names, err)
			continue
		}
		if !slices.Equal(names(got), tc.want) {
			t.Errorf("Select(%q, %q) = %q, want %q", tc.ecosystems, tc.names, names(got), tc.want)
		}
	}

	// A release not in the catalog gets its own files, after the listed ones.
	got, err := Select([]string{"Alpine:v3.30"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range got {
		if f.Name == "alpine-secdb/v3.30/main" {
			if f.URL != "https://secdb.alpinelinux.org/v3.30/main.json" || f.Path != "alpine/v3.30/main.json" {
				t.Errorf("derived feed %+v", f)
			}
		}
	}
	if !slices.Contains(names(got), "alpine-secdb/v3.30/community") {
		t.Errorf("Alpine:v3.30 selected %q", names(got))
	}

	_, err = Select([]string{"Debian:12"}, []string{"osv/Go", "nope", "Fedora:40"})
	if err == nil {
		t.Fatal("unknown names accepted")
	}
	for _, s := range []string{`"nope"`, `"Fedora:40"`, "osv/Debian", "alas/ALAS2023", "Amazon Linux", "Rocky Linux"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not mention %s", err, s)
		}
	}
	if !strings.HasPrefix(err.Error(), "fetch: ") || strings.Contains(err.Error(), `"osv/Go"`) {
		t.Errorf("error %q", err)
	}
}

func TestUncovered(t *testing.T) {
	got := Uncovered([]string{"CentOS:7", "Debian:12", "Go", "Oracle Linux:9", "CentOS:7", "Alpine:v3.30", "Amazon Linux:2022"})
	want := []string{"CentOS:7", "Oracle Linux:9", "Amazon Linux:2022"}
	if !slices.Equal(got, want) {
		t.Errorf("Uncovered = %q, want %q", got, want)
	}
}

func TestNeeds(t *testing.T) {
	f := Feed{Ecosystems: []string{"Alpine:v3.2"}}
	for eco, want := range map[string]bool{"Alpine:v3.2": true, "Alpine:v3.20": false, "alpine:v3.2": true, "Alpine": false, "": false} {
		if got := f.Needs(eco); got != want {
			t.Errorf("Needs(%q) = %v", eco, got)
		}
	}
}
