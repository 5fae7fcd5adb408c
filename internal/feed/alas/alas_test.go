package alas_test

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"html"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/kensa-dev/kensa/internal/advisory"
	"github.com/kensa-dev/kensa/internal/feed/alas"
	"github.com/kensa-dev/kensa/internal/testfixture"
)

// samples returns the files of the vuln-list-update ALAS samples, keyed
// by base name, with the updateinfo files decompressed.
func samples(t testing.TB) map[string][]byte {
	t.Helper()
	path := testfixture.Shared(t, "vulndata", "native", "amazon", "amazon-alas-samples-vuln-list-update-2026-06-30.zip")
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	out := map[string][]byte{}
	for _, f := range zr.File {
		if f.FileInfo().IsDir() {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		var r io.Reader = rc
		name := f.Name[strings.LastIndexByte(f.Name, '/')+1:]
		if strings.HasSuffix(name, ".gz") {
			gz, err := gzip.NewReader(rc)
			if err != nil {
				t.Fatal(err)
			}
			r, name = gz, strings.TrimSuffix(name, ".gz")
		}
		b, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		rc.Close()
		out[name] = b
	}
	return out
}

func parse(t *testing.T, b []byte) ([]*advisory.Advisory, advisory.Feed) {
	t.Helper()
	var out []*advisory.Advisory
	feed, err := alas.Parse(bytes.NewReader(b), func(a *advisory.Advisory) error {
		out = append(out, a)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out, feed
}

// TestSamples parses the four real updateinfo files: record counts and
// feed names.
func TestSamples(t *testing.T) {
	files := samples(t)
	for _, tc := range []struct {
		file, feed string
		ids        []string
	}{
		{"updateinfo_1_item.xml", "alas/2", []string{"ALAS2-2018-939"}},
		{"updateinfo_2_items.xml", "alas/2", []string{"ALAS2-2018-942", "ALAS2-2018-949"}},
		{"updateinfo_AL2022.xml", "alas/2022", []string{"ALAS2022-2021-001"}},
		{"updateinfo_AL2023.xml", "alas/2023", []string{"ALAS2023-2023-001"}},
	} {
		got, feed := parse(t, files[tc.file])
		if want := (advisory.Feed{Name: tc.feed, Format: "alas"}); feed != want {
			t.Errorf("%s: feed %+v, want %+v", tc.file, feed, want)
		}
		var ids []string
		for _, a := range got {
			ids = append(ids, a.ID)
		}
		if d := cmp.Diff(tc.ids, ids); d != "" {
			t.Errorf("%s: ids (-want +got):\n%s", tc.file, d)
		}
	}
}

// golden is the part of vuln-list-update's rendering this test compares.
type golden struct {
	ID       string
	Title    string
	Issued   struct{ Date string }
	Updated  struct{ Date string }
	Severity string
	Desc     string `json:"description"`
	Packages []struct{ Name, Epoch, Version, Release, Arch string }
	CVEIDs   []string `json:"cveids"`
}

// TestGoldens cross-checks every advisory against the .json.golden
// rendering another tool (aquasecurity/vuln-list-update) made of the same
// XML: title, dates, severity, CVE ids, description and, for every
// architecture it lists, a package of that name fixed at that build.
func TestGoldens(t *testing.T) {
	files := samples(t)
	byID := map[string]*advisory.Advisory{}
	for name, b := range files {
		if strings.HasPrefix(name, "updateinfo") {
			got, _ := parse(t, b)
			for _, a := range got {
				byID[a.ID] = a
			}
		}
	}
	n := 0
	for name, b := range files {
		if !strings.HasSuffix(name, ".json.golden") {
			continue
		}
		n++
		var g golden
		if err := json.Unmarshal(b, &g); err != nil {
			t.Fatal(err)
		}
		a := byID[g.ID]
		if a == nil {
			t.Errorf("%s: not parsed", g.ID)
			continue
		}
		if a.Summary != g.Title {
			t.Errorf("%s: summary %q, want %q", g.ID, a.Summary, g.Title)
		}
		for _, d := range []struct {
			got  time.Time
			want string
		}{{a.Published, g.Issued.Date}, {a.Modified, g.Updated.Date}} {
			if d.got.Format("2006-01-02 15:04") != d.want {
				t.Errorf("%s: date %v, want %s", g.ID, d.got, d.want)
			}
		}
		if want := []advisory.Severity{{Source: "vendor", Type: "alas-severity", Value: g.Severity}}; !cmp.Equal(a.Severities, want) {
			t.Errorf("%s: severities %+v, want %+v", g.ID, a.Severities, want)
		}
		cves := slices.Clone(g.CVEIDs)
		slices.Sort(cves)
		if d := cmp.Diff(cves, a.Aliases); d != "" {
			t.Errorf("%s: aliases (-want +got):\n%s", g.ID, d)
		}
		// The golden keeps Amazon's double escaping ("&#039;"); this
		// parser undoes it.
		if want := strings.TrimSpace(html.UnescapeString(g.Desc)); a.Details != want {
			t.Errorf("%s: details differ:\n got %q\nwant %q", g.ID, a.Details, want)
		}
		names := map[string]bool{}
		for _, p := range g.Packages {
			names[p.Name] = true
			fixed := p.Version + "-" + p.Release
			if p.Epoch != "0" {
				fixed = p.Epoch + ":" + fixed
			}
			i := slices.IndexFunc(a.Affected, func(af advisory.Affected) bool {
				return af.Package == p.Name && af.Ranges[0].Events[1].Fixed == fixed
			})
			if i < 0 {
				t.Errorf("%s: no affected %s fixed at %s", g.ID, p.Name, fixed)
			}
		}
		if len(a.Affected) != len(names) {
			t.Errorf("%s: %d affected for %d package names (%d arch entries)", g.ID, len(a.Affected), len(names), len(g.Packages))
		}
	}
	if n != 5 {
		t.Errorf("%d goldens, want 5", n)
	}
}

// TestRecord pins one real advisory whole, with an epoch and arches to
// collapse: ALAS2022-2021-001 lists 32 packages, 12 names.
func TestRecord(t *testing.T) {
	got, _ := parse(t, samples(t)["updateinfo_AL2022.xml"])
	a := got[0]
	fixed := []advisory.Range{{Type: advisory.RangeEcosystem, Events: []advisory.Event{{Introduced: "0"}, {Fixed: "2:8.2.3512-1.amzn2022"}}}}
	var names []string
	for _, af := range a.Affected {
		names = append(names, af.Package)
		want := advisory.Affected{Ecosystem: "Amazon Linux:2022", Package: af.Package, BinaryKeyed: true,
			Status: advisory.StatusAffected, Ranges: fixed}
		if d := cmp.Diff(want, af); d != "" {
			t.Errorf("%s (-want +got):\n%s", af.Package, d)
		}
	}
	// zcat updateinfo_AL2022.xml.gz | grep -o 'package name="[^"]*"' | sort -u
	wantNames := []string{"vim-X11", "vim-X11-debuginfo", "vim-common", "vim-common-debuginfo",
		"vim-debuginfo", "vim-debugsource", "vim-default-editor", "vim-enhanced", "vim-enhanced-debuginfo",
		"vim-filesystem", "vim-minimal", "vim-minimal-debuginfo"}
	if d := cmp.Diff(wantNames, names); d != "" {
		t.Errorf("names (-want +got):\n%s", d)
	}
	a.Affected = nil
	a.Details = a.Details[:60]
	want := &advisory.Advisory{
		ID: "ALAS2022-2021-001", Kind: advisory.KindSecurity,
		Aliases:    []string{"CVE-2021-3778", "CVE-2021-3796", "CVE-2021-3872", "CVE-2021-3875"},
		Summary:    "Amazon Linux 2022 - ALAS2022-2021-001: medium priority package update for vim",
		Details:    "Package updates are available for Amazon Linux 2022 that fix",
		Published:  time.Date(2021, 10, 26, 2, 25, 0, 0, time.UTC),
		Modified:   time.Date(2021, 10, 27, 0, 24, 0, 0, time.UTC),
		Severities: []advisory.Severity{{Source: "vendor", Type: "alas-severity", Value: "medium"}},
		References: []string{
			"http://cve.mitre.org/cgi-bin/cvename.cgi?name=CVE-2021-3778",
			"http://cve.mitre.org/cgi-bin/cvename.cgi?name=CVE-2021-3796",
			"http://cve.mitre.org/cgi-bin/cvename.cgi?name=CVE-2021-3872",
			"http://cve.mitre.org/cgi-bin/cvename.cgi?name=CVE-2021-3875",
			"https://alas.aws.amazon.com/AL2022/ALAS-2021-001.html",
		},
	}
	if d := cmp.Diff(want, a); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

func update(id, typ, pkgs string) string {
	return `<update type="` + typ + `"><id>` + id + `</id><title>t</title><issued date="2024-01-02 03:04"/>` +
		`<updated date="2024-01-03"/><severity>Low</severity><description>d</description>` +
		`<references><reference href="https://example/x" id="CVE-2024-0001" type="cve"/>` +
		`<reference href="https://example/x" id="BZ1" type="bugzilla"/></references>` +
		`<pkglist><collection>` + pkgs + `</collection></pkglist></update>`
}

func TestIDsAndNames(t *testing.T) {
	pkg := `<package name="kernel" epoch="0" version="5.10.1" release="1.amzn2" arch="x86_64"/>`
	for _, tc := range []struct {
		ids                  []string
		feed, eco, repo, ref string
	}{
		{[]string{"ALAS-2018-1000"}, "alas/1", "Amazon Linux:1", "", "https://alas.aws.amazon.com/ALAS-2018-1000.html"},
		{[]string{"ALAS2-2019-1141"}, "alas/2", "Amazon Linux:2", "", "https://alas.aws.amazon.com/AL2/ALAS-2019-1141.html"},
		{[]string{"ALAS2KERNEL-5.10-2022-002"}, "alas/2/kernel-5.10", "Amazon Linux:2", "kernel-5.10", "https://alas.aws.amazon.com/AL2/ALASKERNEL-5.10-2022-002.html"},
		{[]string{"ALAS2023-2024-581"}, "alas/2023", "Amazon Linux:2023", "", "https://alas.aws.amazon.com/AL2023/ALAS-2024-581.html"},
		// Mixed releases: named for none of them.
		{[]string{"ALAS2-2019-1141", "ALAS2023-2024-581"}, "alas", "Amazon Linux:2", "", "https://alas.aws.amazon.com/AL2/ALAS-2019-1141.html"},
		{nil, "alas", "", "", ""},
	} {
		var b strings.Builder
		b.WriteString("<?xml version=\"1.0\" ?>\n<updates>")
		for _, id := range tc.ids {
			b.WriteString(update(id, "security", pkg))
		}
		b.WriteString("</updates>\n")
		got, feed := parse(t, []byte(b.String()))
		if feed.Name != tc.feed {
			t.Errorf("%v: feed %q, want %q", tc.ids, feed.Name, tc.feed)
		}
		if len(got) == 0 {
			continue
		}
		a := got[0]
		if a.Affected[0].Ecosystem != tc.eco || a.Affected[0].Repository != tc.repo || a.References[len(a.References)-1] != tc.ref {
			t.Errorf("%v: %+v", tc.ids, a)
		}
		if d := cmp.Diff([]string{"https://example/x", tc.ref}, a.References); d != "" {
			t.Errorf("%v: references (-want +got):\n%s", tc.ids, d)
		}
		if d := cmp.Diff([]string{"CVE-2024-0001"}, a.Aliases); d != "" {
			t.Errorf("%v: aliases (-want +got):\n%s", tc.ids, d)
		}
	}
}

func TestKindsAndVersions(t *testing.T) {
	in := "<updates>" +
		update("ALAS2-2024-1", "bugfix", `<package name="a" epoch="" version="1" release="1" arch="x86_64"/>`) +
		update("ALAS2-2024-2", "enhancement", `<package name="a" epoch="007" version="1" release="1" arch="x86_64"/>`) +
		update("ALAS2-2024-3", "newpackage", `<package name="a" version="1" release="1" arch="x86_64"/>`+
			`<package name="a" version="1" release="1" arch="aarch64"/><package name="a" version="1" release="2" arch="noarch"/>`) +
		"</updates>"
	got, _ := parse(t, []byte(in))
	if len(got) != 3 {
		t.Fatalf("%d advisories", len(got))
	}
	for i, want := range []struct {
		kind  string
		fixed []string
	}{
		{advisory.KindBugfix, []string{"1-1"}},
		{advisory.KindEnhancement, []string{"7:1-1"}},
		// Two builds of one name stay two entries; two arches of one build are one.
		{advisory.KindEnhancement, []string{"1-1", "1-2"}},
	} {
		var fixed []string
		for _, af := range got[i].Affected {
			fixed = append(fixed, af.Ranges[0].Events[1].Fixed)
		}
		if got[i].Kind != want.kind || !slices.Equal(fixed, want.fixed) || got[i].IsVulnerability() {
			t.Errorf("%s: kind %s fixed %v", got[i].ID, got[i].Kind, fixed)
		}
	}
	if got[0].Modified != time.Date(2024, 1, 3, 0, 0, 0, 0, time.UTC) {
		t.Errorf("date-only updated: %v", got[0].Modified)
	}
}

func TestErrors(t *testing.T) {
	good := `<package name="a" epoch="0" version="1" release="1" arch="x86_64"/>`
	sample := realExcerpt
	tests := []struct{ name, in, want string }{
		{"empty", "", "no <updates> document"},
		{"garbage", "\x00\xff garbage", "XML syntax error"},
		{"text", "hello <updates/>", "text outside the document element"},
		{"html", "<html><body/></html>", "root element <html>"},
		{"truncated", sample[:len(sample)/2], "unexpected EOF"},
		{"unclosed", "<updates>", "unexpected EOF"},
		{"not alas", "<updates>" + update("RHSA-2024:0001", "security", good) + "</updates>", `"RHSA-2024:0001" is not an ALAS id`},
		{"type", "<updates>" + update("ALAS2-2024-1", "hotfix", good) + "</updates>", `ALAS2-2024-1: unknown update type "hotfix"`},
		{"date", strings.Replace("<updates>"+update("ALAS2-2024-1", "security", good)+"</updates>", "2024-01-02 03:04", "yesterday", 1), `ALAS2-2024-1: issued: bad date "yesterday"`},
		{"no version", "<updates>" + update("ALAS2-2024-1", "security", `<package name="a" release="1"/>`) + "</updates>", `ALAS2-2024-1: package "a": bad version`},
		{"no name", "<updates>" + update("ALAS2-2024-1", "security", `<package version="1" release="1"/>`) + "</updates>", `package "": no valid name`},
		{"epoch", "<updates>" + update("ALAS2-2024-1", "security", `<package name="a" epoch="x" version="1" release="1"/>`) + "</updates>", `bad epoch "x"`},
		{"repeated", "<updates>" + update("ALAS2-2024-1", "security", good) + update("ALAS2-2024-1", "security", good) + "</updates>", "ALAS2-2024-1 repeated"},
		{"trailing", "<updates></updates><updates/>", "data after </updates>"},
		{"trailing text", "<updates></updates>junk", "text outside the document element"},
		{"entity", "<updates><update><id>&nbsp;</id></update></updates>", "update 1:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := alas.Parse(strings.NewReader(tc.in), func(*advisory.Advisory) error { return nil })
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "alas: ") {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
	stop := errors.New("stop")
	if _, err := alas.Parse(strings.NewReader(sample), func(*advisory.Advisory) error { return stop }); err != stop {
		t.Errorf("emit error: %v", err)
	}
}

func TestDetect(t *testing.T) {
	files := samples(t)
	for _, name := range []string{"updateinfo_1_item.xml", "updateinfo_AL2022.xml", "updateinfo_AL2023.xml"} {
		if !alas.Detect("updateinfo.xml", files[name][:256]) {
			t.Errorf("%s not detected", name)
		}
	}
	for _, head := range []string{
		string(files["repomd_valid.xml"][:256]),
		`<?xml version="1.0"?><updates><update from="centos" type="security"><id>CESA-2024:0001</id>`,
		`{"id": "ALAS2-2018-939"}`,
		"\x1f\x8b\x08\x00",
	} {
		if alas.Detect("updateinfo.xml", []byte(head)) {
			t.Errorf("detected %.40q", head)
		}
	}
}

// realExcerpt is a real record (ALAS2-2018-942 of
// updateinfo_2_items.xml.gz), its description and package list cut short.
const realExcerpt = `<?xml version="1.0" ?>
<updates><update author="linux-security@amazon.com" from="linux-security@amazon.com" status="final" type="security" version="1.4"><id>ALAS2-2018-942</id><title>Amazon Linux 2 2017.12 - ALAS2-2018-942: important priority package update for qemu-kvm</title><issued date="2018-02-07 18:49" /><updated date="2018-02-08 21:46" /><severity>important</severity><description>Package updates are available for Amazon Linux 2 that fix the following vulnerabilities:
CVE-2017-5715:
	An industry-wide issue was found in the way many modern microprocessor designs have implemented speculative execution of instructions (a commonly used performance optimization). [...] memory accesses may cause allocation into the microprocessor&amp;#039;s data cache even for speculatively executed instructions that never actually commit (retire).
1519780: 
CVE-2017-5715 hw: cpu: speculative execution branch target injection
</description><references><reference href="http://cve.mitre.org/cgi-bin/cvename.cgi?name=CVE-2017-5715" id="CVE-2017-5715" title="" type="cve" /></references><pkglist><collection short="amazon-linux-2"><name>Amazon Linux 2</name><package arch="x86_64" epoch="10" name="qemu-kvm" release="141.amzn2.5.3" version="1.5.3"><filename>Packages/qemu-kvm-1.5.3-141.amzn2.5.3.x86_64.rpm</filename></package><package arch="x86_64" epoch="10" name="qemu-img" release="141.amzn2.5.3" version="1.5.3"><filename>Packages/qemu-img-1.5.3-141.amzn2.5.3.x86_64.rpm</filename></package></collection></pkglist></update></updates>
`

// FuzzParse: any input ends in an error or in advisories that hold the
// model's invariants; never a panic.
func FuzzParse(f *testing.F) {
	f.Add([]byte(realExcerpt))
	f.Add([]byte(`<?xml version="1.0" ?>` + "\n<updates>" + update("ALAS2KERNEL-5.10-2022-002", "security",
		`<package name="kernel" epoch="0" version="5.10.1" release="1.amzn2" arch="x86_64"/>`) + "</updates>"))
	f.Add([]byte(`<updates><update type="bugfix"><id>ALAS-2018-1</id><pkglist><collection><package name="a" epoch="1" version="2" release="3"/></collection></pkglist></update></updates>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		seen := map[string]bool{}
		_, err := alas.Parse(bytes.NewReader(b), func(a *advisory.Advisory) error {
			if a.ID == "" || seen[a.ID] || a.Kind == "" || a.Affected == nil {
				t.Fatalf("bad advisory %+v", a)
			}
			seen[a.ID] = true
			for _, af := range a.Affected {
				if af.Package == "" || !strings.HasPrefix(af.Ecosystem, "Amazon Linux:") || !af.BinaryKeyed ||
					len(af.Ranges) != 1 || af.Ranges[0].Events[1].Fixed == "" {
					t.Fatalf("%s: bad affected %+v", a.ID, af)
				}
			}
			return nil
		})
		if err != nil && !strings.HasPrefix(err.Error(), "alas: ") {
			t.Fatalf("error without context: %v", err)
		}
	})
}
