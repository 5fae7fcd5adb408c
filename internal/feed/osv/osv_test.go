package osv_test

import (
	"archive/zip"
	"slices"
	"strings"
	"testing"

	"github.com/kensa-dev/kensa/internal/advisory"
	"github.com/kensa-dev/kensa/internal/feed/osv"
	"github.com/kensa-dev/kensa/internal/testfixture"
)

func readZip(t *testing.T, eco string) (advisory.Feed, map[string]*advisory.Advisory) {
	t.Helper()
	p := testfixture.Shared(t, "vulndata", "osv", "osv-scalibr", eco, "all.zip")
	zr, err := zip.OpenReader(p)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	got := map[string]*advisory.Advisory{}
	feed, err := osv.ParseZip(&zr.Reader, func(a *advisory.Advisory) error {
		if got[a.ID] != nil {
			t.Errorf("%s twice", a.ID)
		}
		got[a.ID] = a
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return feed, got
}

// The record counts are those of shared/vulndata/README.md, which counted
// the files of each zip.
func TestRealZips(t *testing.T) {
	for _, c := range []struct {
		eco     string
		records int
		feed    string
	}{
		{"Go", 4789, "osv/Go"},
		{"AlmaLinux", 5637, "osv/AlmaLinux"},
		{"PyPI", 2661, "osv/PyPI"},
	} {
		t.Run(c.eco, func(t *testing.T) {
			feed, got := readZip(t, c.eco)
			if len(got) != c.records || feed.Name != c.feed {
				t.Errorf("got %d records as %q, want %d as %q", len(got), feed.Name, c.records, c.feed)
			}
		})
	}
}

func TestAlmaLinux(t *testing.T) {
	_, got := readZip(t, "AlmaLinux")
	kinds := map[string]int{}
	for _, a := range got {
		kinds[a.Kind]++
	}
	// README: ALSA 4,437 security, ALBA 978 bugfix, ALEA 222 enhancement.
	if kinds[advisory.KindSecurity] != 4437 || kinds[advisory.KindBugfix] != 978 || kinds[advisory.KindEnhancement] != 222 {
		t.Errorf("kinds = %v", kinds)
	}
	a := got["ALSA-2019:0975"]
	if a == nil {
		t.Fatal("ALSA-2019:0975 missing")
	}
	if !slices.Equal(a.Aliases, []string{"CVE-2019-5736"}) {
		t.Errorf("aliases = %v, want the related CVE", a.Aliases)
	}
	if len(a.Severities) == 0 || a.Severities[0] != (advisory.Severity{Source: advisory.SourceVendor, Type: "redhat-severity", Value: "Important"}) {
		t.Errorf("severities = %v", a.Severities)
	}
	for _, af := range a.Affected {
		if af.Ecosystem != "AlmaLinux:8" || !af.BinaryKeyed || !af.Modular || !slices.Equal(af.ModuleStreams, []string{"container-tools:rhel8"}) {
			t.Errorf("affected %+v: want a binary-keyed AlmaLinux:8 module entry of container-tools:rhel8", af)
		}
	}
}

// An erratum for two module streams names both, and one for a stream and
// one of its packages ("httpd:2.4/mod_http2") the stream.
func TestAlmaLinuxModuleStreams(t *testing.T) {
	_, got := readZip(t, "AlmaLinux")
	for id, want := range map[string][]string{
		"ALSA-2021:0711": {"virt:rhel", "virt-devel:rhel"},
	} {
		a := got[id]
		if a == nil {
			t.Fatalf("%s missing", id)
		}
		for _, af := range a.Affected {
			if af.Modular && !slices.Equal(af.ModuleStreams, want) {
				t.Errorf("%s (%s): streams %q, want %q", id, a.Summary, af.ModuleStreams, want)
			}
		}
	}
	// Every modular security erratum whose summary names a stream keeps it.
	withStream, modular := 0, 0
	for _, a := range got {
		for _, af := range a.Affected {
			if af.Modular && a.Kind == advisory.KindSecurity {
				modular++
				if len(af.ModuleStreams) > 0 {
					withStream++
				}
				break
			}
		}
	}
	t.Logf("%d of %d modular security errata name their streams", withStream, modular)
	if withStream == 0 || modular-withStream > modular/20 {
		t.Errorf("%d of %d modular security errata name their streams", withStream, modular)
	}
}

func TestGo(t *testing.T) {
	_, got := readZip(t, "Go")
	a := got["GO-2024-2687"]
	if a == nil {
		t.Fatal("GO-2024-2687 missing")
	}
	if !slices.Equal(a.Aliases, []string{"CVE-2023-45288", "GHSA-4v7x-pqxf-cx7m"}) || !a.Modified.IsZero() {
		t.Errorf("aliases %v modified %v", a.Aliases, a.Modified)
	}
	var std *advisory.Affected
	for i := range a.Affected {
		if a.Affected[i].Package == "stdlib" {
			std = &a.Affected[i]
		}
	}
	if std == nil || std.BinaryKeyed || len(std.Ranges) != 1 || std.Ranges[0].Type != advisory.RangeSemver ||
		!slices.Equal(std.Ranges[0].Events, []advisory.Event{{Introduced: "0"}, {Fixed: "1.21.9"}, {Introduced: "1.22.0-0"}, {Fixed: "1.22.2"}}) {
		t.Errorf("stdlib entry = %+v", std)
	}
	tc := got["GO-2026-6601"]
	if tc == nil || len(tc.Affected) != 1 || tc.Affected[0].Package != "toolchain" || !slices.Equal(tc.Affected[0].Commands, []string{"cmd/go"}) {
		t.Errorf("GO-2026-6601: the toolchain record must name its command: %+v", tc)
	}
	withdrawn := 0
	for _, a := range got {
		if !a.Withdrawn.IsZero() {
			withdrawn++
		}
	}
	if withdrawn != 18 { // README: 18 withdrawn
		t.Errorf("withdrawn = %d, want 18", withdrawn)
	}
}

func TestPyPIGitOnlyRangesUseVersions(t *testing.T) {
	_, got := readZip(t, "PyPI")
	a := got["PYSEC-2021-368"]
	if a == nil {
		t.Fatal("PYSEC-2021-368 missing")
	}
	for _, af := range a.Affected {
		for _, r := range af.Ranges {
			if r.Type == advisory.RangeGit {
				t.Errorf("GIT range kept: %+v", r)
			}
		}
		if af.Package != "zope" || len(af.Ranges)+len(af.Versions) == 0 {
			t.Errorf("affected %+v", af)
		}
	}
}

// A fix in Ubuntu Pro's twin of a release is marked as published there.
func TestUbuntuPro(t *testing.T) {
	a, err := osv.ParseRecord(strings.NewReader(`{"id":"UBUNTU-CVE-2024-1","modified":"2024-01-01T00:00:00Z","affected":[
{"package":{"ecosystem":"Ubuntu:Pro:18.04:LTS","name":"curl"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"7.58.0-2ubuntu3.24+esm1"}]}]},
{"package":{"ecosystem":"Ubuntu:18.04:LTS","name":"curl"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"}]}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if a.Affected[0].Repository != "ubuntu-pro" || a.Affected[1].Repository != "" {
		t.Errorf("repositories %q %q", a.Affected[0].Repository, a.Affected[1].Repository)
	}
}

func TestBadRecords(t *testing.T) {
	for _, in := range []string{``, `{`, `{"id": ""}`, `{"id":"X","modified":"yesterday"}`, `[]`} {
		if _, err := osv.ParseRecord(strings.NewReader(in)); err == nil {
			t.Errorf("%q: no error", in)
		}
	}
}

func FuzzParseRecord(f *testing.F) {
	f.Add([]byte(`{"id":"GO-1","modified":"2024-01-01T00:00:00Z","summary":"Important: nodejs:18 security update","affected":[{"package":{"ecosystem":"AlmaLinux:8","name":"nodejs"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"1:18.1-1.module_el8.7.0+1+2"}]}]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := osv.ParseRecord(strings.NewReader(string(data)))
		if err == nil && a.ID == "" {
			t.Fatal("record without id accepted")
		}
	})
}
