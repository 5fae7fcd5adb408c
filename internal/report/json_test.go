package report

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/kensa-dev/kensa/internal/finding"
	"github.com/kensa-dev/kensa/internal/host"
)

// equateAddrs compares netip values (observation endpoints) by value.
var equateAddrs = cmpopts.EquateComparable(netip.AddrPort{}, netip.Addr{})

func TestRoundTrip(t *testing.T) {
	for name, build := range testReports() {
		t.Run(name, func(t *testing.T) {
			r := build()
			first := mustJSON(t, r)
			back, err := ReadJSON(bytes.NewReader(first))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(Canonical(r), back, equateAddrs); diff != "" {
				t.Errorf("ReadJSON(WriteJSON(r)) differs from Canonical(r) (-want +got):\n%s", diff)
			}
			second := mustJSON(t, back)
			if !bytes.Equal(first, second) {
				t.Errorf("WriteJSON(ReadJSON(doc)) != doc:\n%s\n---\n%s", first, second)
			}
		})
	}
}

func TestWriteJSONIsCanonical(t *testing.T) {
	r := fullReport()
	before := fullReport()
	c := Canonical(r)
	if diff := cmp.Diff(before, r); diff != "" {
		t.Fatalf("Canonical modified its argument:\n%s", diff)
	}

	var got []string
	for _, f := range c.Findings {
		got = append(got, string(f.Severity)+" "+f.RulesPackage+" "+f.RuleID)
	}
	want := []string{
		"high cve cve/Debian",
		"medium cis cis-5.2.10",
		"low cve cve/Debian",
		"low best-practices bp-world-writable",
		"informational best-practices bp-password-aging",
		"unrated cve cve/Go",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("finding order (-want +got):\n%s", diff)
	}

	got = nil
	for _, cv := range c.Coverage {
		got = append(got, cv.Package+"/"+cv.Scope)
	}
	want = []string{
		"cve/*", "cve/Debian:12", "cve/Go", "cve/PyPI", "cve/lang/npm", "cve/lang/python",
		"cis/*", "cis/debian:12", "best-practices/*", "best-practices/debian:12", "runtime/*", "runtime/observation",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("coverage order (-want +got):\n%s", diff)
	}

	got = nil
	for _, res := range c.Results {
		got = append(got, res.RulesPackage+" "+res.RuleID+" "+res.Target)
	}
	want = []string{
		"cve cve/Debian libcurl4", "cve cve/Debian libssl3", "cve cve/Go stdlib",
		"cis cis-1.1.2 ", "cis cis-5.2.9 /etc/ssh/sshd_config", "cis cis-5.2.10 /etc/ssh/sshd_config",
		"best-practices bp-password-aging deploy", "best-practices bp-sysctl ", "best-practices bp-world-writable /srv/upload",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("result order (-want +got):\n%s", diff)
	}
}

func TestCanonicalDiscovery(t *testing.T) {
	r := notBuiltReport()
	r.Discovery.Skipped = []host.SkippedPath{}
	c := Canonical(r)
	if !slices.IsSortedFunc(c.Discovery.Roots, compareNatural) {
		t.Errorf("roots not sorted: %v", c.Discovery.Roots)
	}
	if c.Discovery.Skipped != nil {
		t.Errorf("empty skipped list kept: %#v", c.Discovery.Skipped)
	}
	var got []string
	for _, l := range c.Discovery.LimitsHit {
		got = append(got, l.Limit)
	}
	want := []string{"java_nested_archives", "java_nesting_depth", "max_depth", "max_depth", "max_file_size", "max_files", "timeout"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("limits order (-want +got):\n%s", diff)
	}
	if c.Discovery.LimitsHit[2].Path > c.Discovery.LimitsHit[3].Path {
		t.Errorf("max_depth limits not ordered by path")
	}
	if r.Discovery.Roots[0] != "/usr/local" {
		t.Errorf("Canonical sorted the caller's roots")
	}
}

func TestSummarizeInventory(t *testing.T) {
	if SummarizeInventory(nil) != nil {
		t.Error("SummarizeInventory(nil) is not nil")
	}
	inv := &host.Inventory{
		Packages: []host.Package{
			{Manager: "dpkg", Name: "openssl", Version: "3.0.15-1~deb12u1", Arch: "amd64", SourceName: "openssl", Ecosystem: "Debian:12",
				PURL: "pkg:deb/debian/openssl@3.0.15-1~deb12u1?arch=amd64", Files: []string{"/usr/bin/openssl"}, Source: "/var/lib/dpkg/status"},
			{Manager: "dpkg"}, {Manager: "rpm"}, {}},
		Software: []host.Software{
			{Ecosystem: "Go", Name: "golang.org/x/net", Version: "v0.20.0", Kind: host.KindGoModule, Location: "/usr/local/bin/app", Collector: "go-binary"},
			{Ecosystem: "Go"}, {Ecosystem: "npm"}, {Ecosystem: "PyPI", OwnedBy: "python3-yaml"}},
		Users: []host.User{{Name: "root"}, {Name: "deploy"}},
	}
	want := &Inventory{
		Packages: map[string]int{"dpkg": 2, "rpm": 1, "unknown": 1},
		Software: map[string]int{"Go": 2, "npm": 1, "PyPI": 1},
		Users:    2,
		// Every package and component, with what identifies it and
		// where it came from, but not the files a package owns.
		Components: []Component{
			{Type: ComponentOSPackage, Manager: "dpkg", Ecosystem: "Debian:12", Name: "openssl", Version: "3.0.15-1~deb12u1", Arch: "amd64",
				PURL: "pkg:deb/debian/openssl@3.0.15-1~deb12u1?arch=amd64", SourceName: "openssl"},
			{Type: ComponentOSPackage, Manager: "dpkg"}, {Type: ComponentOSPackage, Manager: "rpm"}, {Type: ComponentOSPackage},
			{Type: ComponentSoftware, Ecosystem: "Go", Name: "golang.org/x/net", Version: "v0.20.0", Kind: host.KindGoModule, Location: "/usr/local/bin/app"},
			{Type: ComponentSoftware, Ecosystem: "Go"}, {Type: ComponentSoftware, Ecosystem: "npm"},
			{Type: ComponentSoftware, Ecosystem: "PyPI", OwnedBy: "python3-yaml"},
		},
	}
	if diff := cmp.Diff(want, SummarizeInventory(inv)); diff != "" {
		t.Errorf("SummarizeInventory (-want +got):\n%s", diff)
	}
	empty := SummarizeInventory(&host.Inventory{})
	if empty.Packages == nil || empty.Software == nil {
		t.Errorf("nil maps: %+v", empty)
	}
}

func TestWriteJSONEmptyListsAndDefaults(t *testing.T) {
	r := &Report{Host: Host{Root: "/"}, Findings: []finding.Finding{{ID: "x"}}}
	doc := string(mustJSON(t, r))
	for _, absent := range []string{`"inventory"`, `"discovery"`} {
		if strings.Contains(doc, absent) {
			t.Errorf("document holds %s though the report has none:\n%s", absent, doc)
		}
	}
	r.Inventory = &Inventory{}
	r.Discovery = &host.Discovery{}
	doc = string(mustJSON(t, r))
	for _, want := range []string{
		`"packages": {}`, `"software": {}`, `"users": 0`, `"roots": []`, `"files_visited": 0`,
		`"schema_version": "` + SchemaVersion + `"`,
		`"feeds": []`, `"coverage": []`, `"collectors": []`, `"results": []`,
		`"evidence": []`, `"attributes": {}`,
		`"coverage_gaps": 0`, `"complete": false`, `"not_run": [`,
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("document lacks %s:\n%s", want, doc)
		}
	}
	if strings.Contains(doc, "null") {
		t.Errorf("document holds null:\n%s", doc)
	}
	// HTML-sensitive characters stay readable.
	r.Findings[0].Title = "a <b> & c"
	if doc := string(mustJSON(t, r)); !strings.Contains(doc, `"a <b> & c"`) {
		t.Errorf("title escaped:\n%s", doc)
	}
}

func TestReadJSONVersions(t *testing.T) {
	valid := mustJSON(t, fullReport())
	withVersion := func(v any) []byte {
		var doc map[string]any
		if err := json.Unmarshal(valid, &doc); err != nil {
			t.Fatal(err)
		}
		if v == nil {
			delete(doc, "schema_version")
		} else {
			doc["schema_version"] = v
		}
		doc["added_in_a_later_minor"] = true
		b, _ := json.Marshal(doc)
		return b
	}
	tests := []struct {
		version any
		wantErr string
	}{
		{"2.0", `schema_version "2.0" is not supported`},
		{"0.9", `schema_version "0.9" is not supported`},
		{"1", "not MAJOR.MINOR"},
		{"1.x", "not MAJOR.MINOR"},
		{"+1.0", "not MAJOR.MINOR"},
		{nil, "schema_version is missing"},
		{1.0, "decode json"},
		{"1.0", ""},
		{"1.7", ""}, // a newer minor only adds fields: read, ignoring them
	}
	for _, tt := range tests {
		_, err := ReadJSON(bytes.NewReader(withVersion(tt.version)))
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("version %v: %v", tt.version, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("version %v: error %v, want one containing %q", tt.version, err, tt.wantErr)
		}
	}
}

func TestReadJSONRejectsGarbage(t *testing.T) {
	valid := mustJSON(t, cleanReport())
	for name, doc := range map[string][]byte{
		"trailing data": append(append([]byte{}, valid...), []byte(`{"x":1}`)...),
		"not json":      []byte("kensa"),
		"array":         []byte("[]"),
		"empty":         nil,
	} {
		if _, err := ReadJSON(bytes.NewReader(doc)); err == nil {
			t.Errorf("%s: ReadJSON accepted it", name)
		}
	}
}

func TestCompareNatural(t *testing.T) {
	ordered := []string{
		"", "1.1.2", "1.2.9", "1.2.10", "CVE-2024-999", "CVE-2024-1000",
		"Debian:9", "Debian:12", "a", "a01", "a1", "a2", "b",
	}
	for i := range ordered {
		for j := range ordered {
			got := compareNatural(ordered[i], ordered[j])
			switch {
			case i < j && got >= 0, i > j && got <= 0, i == j && got != 0:
				t.Errorf("compareNatural(%q, %q) = %d", ordered[i], ordered[j], got)
			}
		}
	}
}
