package alpine_test

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
	"testing"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/google/go-cmp/cmp"

	"github.com/kensa-dev/kensa/internal/advisory"
	"github.com/kensa-dev/kensa/internal/feed/alpine"
	"github.com/kensa-dev/kensa/internal/testfixture"
)

// secdbFiles returns the YAML files of the shared 2020 secdb snapshot by
// path ("v3.11/main.yaml").
func secdbFiles(t *testing.T) map[string][]byte {
	t.Helper()
	p := testfixture.Shared(t, "vulndata", "native", "alpine", "alpine-secdb-2020-06-08.zip")
	zr, err := zip.OpenReader(p)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	files := map[string][]byte{}
	for _, f := range zr.File {
		if !strings.HasSuffix(f.Name, ".yaml") {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		files[f.Name] = b
	}
	return files
}

func parse(t *testing.T, b []byte) (advisory.Feed, []*advisory.Advisory) {
	t.Helper()
	var advs []*advisory.Advisory
	feed, err := alpine.Parse(bytes.NewReader(b), func(a *advisory.Advisory) error {
		advs = append(advs, a)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return feed, advs
}

type counts struct {
	pkgs, items                                   int // as in the file
	advisories, cves, affected, ranges, notAffect int // as emitted
}

// The per-file numbers were computed independently with python3: the
// files loaded with PyYAML, each list entry split into ids with the rules
// documented on alpine's ids (a re-implementation in python, asserting on
// anything unrecognised), then distinct ids (advisories), distinct
// (id, package) pairs (affected), distinct (id, package, fixed version
// other than "0") triples (ranges), and pairs listed only under "0"
// (not affected) counted.
//
// Reconciliation with the README's totals: 1,652 package entries and
// 12,028 list entries in 18 files; splitting entries with several ids
// ("CVE-2016-6258 XSA-182") and dropping notes and placeholders gives
// 12,846 (entry, id) pairs; they name 12,722 distinct (id, package, fixed
// version) ranges plus 5 never-affected pairs (db's "0" list in v3.8), in
// 12,603 (id, package) Affected entries of 12,176 advisories (11,353 of
// them CVE ids); an advisory is per file, so one CVE fixed in several
// releases is counted once per release.
var wantCounts = map[string]counts{
	"v3.10/community.yaml": {73, 720, 692, 692, 712, 719, 0},
	"v3.10/main.yaml":      {166, 1182, 1200, 1096, 1248, 1268, 0},
	"v3.11/community.yaml": {85, 895, 829, 829, 886, 894, 0},
	"v3.11/main.yaml":      {175, 1204, 1220, 1109, 1276, 1296, 0},
	"v3.3/community.yaml":  {0, 0, 0, 0, 0, 0, 0},
	"v3.3/main.yaml":       {91, 461, 486, 457, 489, 489, 0},
	"v3.4/community.yaml":  {2, 14, 14, 14, 14, 14, 0},
	"v3.4/main.yaml":       {117, 672, 724, 663, 727, 729, 0},
	"v3.5/community.yaml":  {20, 102, 98, 98, 101, 102, 0},
	"v3.5/main.yaml":       {131, 826, 887, 795, 909, 911, 0},
	"v3.6/community.yaml":  {31, 219, 195, 195, 214, 216, 0},
	"v3.6/main.yaml":       {134, 898, 962, 866, 985, 990, 0},
	"v3.7/community.yaml":  {37, 411, 378, 378, 401, 410, 0},
	"v3.7/main.yaml":       {163, 1078, 1128, 1026, 1164, 1171, 0},
	"v3.8/community.yaml":  {44, 485, 462, 462, 476, 484, 0},
	"v3.8/main.yaml":       {164, 1139, 1177, 1064, 1217, 1220, 5},
	"v3.9/community.yaml":  {58, 601, 575, 575, 593, 600, 0},
	"v3.9/main.yaml":       {161, 1121, 1149, 1034, 1191, 1209, 0},
}

// plain is the file decoded the ordinary way, to count its entries.
type plain struct {
	Packages []struct {
		Pkg struct {
			Secfixes map[string][]string `yaml:"secfixes"`
		} `yaml:"pkg"`
	} `yaml:"packages"`
}

func TestRealSecdb(t *testing.T) {
	files := secdbFiles(t)
	if len(files) != len(wantCounts) {
		t.Errorf("%d files, want %d", len(files), len(wantCounts))
	}
	var total counts
	for name, b := range files {
		t.Run(name, func(t *testing.T) {
			if !alpine.Detect(path.Base(name), b[:min(len(b), 4096)]) {
				t.Error("Detect = false")
			}
			var got counts
			var p plain
			if err := yaml.Unmarshal(b, &p); err != nil {
				t.Fatal(err)
			}
			got.pkgs = len(p.Packages)
			for _, pk := range p.Packages {
				for _, list := range pk.Pkg.Secfixes {
					got.items += len(list)
				}
			}
			feed, advs := parse(t, b)
			want := advisory.Feed{Name: "alpine-secdb/" + path.Dir(name) + "/" + strings.TrimSuffix(path.Base(name), ".yaml"), Format: "alpine-secdb"}
			if feed != want {
				t.Errorf("feed %+v, want %+v", feed, want)
			}
			eco := "Alpine:" + path.Dir(name)
			for i, a := range advs {
				if i > 0 && advs[i-1].ID >= a.ID {
					t.Errorf("%s after %s", a.ID, advs[i-1].ID)
				}
				got.advisories++
				if strings.HasPrefix(a.ID, "CVE-") {
					got.cves++
				}
				for _, af := range a.Affected {
					got.affected++
					got.ranges += len(af.Ranges)
					if af.Status == advisory.StatusNotAffected {
						got.notAffect++
					}
					if af.Ecosystem != eco {
						t.Errorf("%s: ecosystem %q", a.ID, af.Ecosystem)
					}
				}
			}
			if got != wantCounts[name] {
				t.Errorf("counts %+v, want %+v", got, wantCounts[name])
			}
			total.pkgs += got.pkgs
			total.items += got.items
			total.advisories += got.advisories
			total.affected += got.affected
			total.ranges += got.ranges
			total.notAffect += got.notAffect
		})
	}
	if want := (counts{pkgs: 1652, items: 12028, advisories: 12176, affected: 12603, ranges: 12722, notAffect: 5}); total != want {
		t.Errorf("totals %+v, want %+v", total, want)
	}
}

func find(t *testing.T, advs []*advisory.Advisory, id string) *advisory.Advisory {
	t.Helper()
	for _, a := range advs {
		if a.ID == id {
			return a
		}
	}
	t.Fatalf("%s not parsed", id)
	return nil
}

func fixed(vs ...string) []advisory.Range {
	var rs []advisory.Range
	for _, v := range vs {
		rs = append(rs, advisory.Range{Type: advisory.RangeEcosystem, Events: []advisory.Event{{Introduced: "0"}, {Fixed: v}}})
	}
	return rs
}

func TestRealRecords(t *testing.T) {
	files := secdbFiles(t)
	_, v311 := parse(t, files["v3.11/main.yaml"])
	const eco = "Alpine:v3.11"

	got := find(t, v311, "CVE-2019-14904")
	want := &advisory.Advisory{
		ID: "CVE-2019-14904", Kind: advisory.KindSecurity,
		References: []string{"https://security.alpinelinux.org/vuln/CVE-2019-14904"},
		Affected:   []advisory.Affected{{Ecosystem: eco, Package: "ansible", Status: advisory.StatusAffected, Ranges: fixed("2.9.3-r0")}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("CVE-2019-14904 (-want +got):\n%s", diff)
	}

	// Listed under two fixed versions of busybox: two ranges.
	got = find(t, v311, "CVE-2019-5747")
	if diff := cmp.Diff([]advisory.Affected{{Ecosystem: eco, Package: "busybox", Status: advisory.StatusAffected, Ranges: fixed("1.30.1-r2", "1.29.3-r10")}}, got.Affected); diff != "" {
		t.Errorf("CVE-2019-5747 (-want +got):\n%s", diff)
	}

	// "CVE-2016-6258 XSA-182": two advisories, each the other's alias.
	got = find(t, v311, "CVE-2016-6258")
	if diff := cmp.Diff([]string{"XSA-182"}, got.Aliases); diff != "" || got.Affected[0].Package != "xen" || got.Affected[0].Ranges[0].Events[1].Fixed != "4.7.0-r0" {
		t.Errorf("CVE-2016-6258: %+v", got)
	}
	got = find(t, v311, "XSA-182")
	if diff := cmp.Diff([]string{"CVE-2016-6258"}, got.Aliases); diff != "" || got.References != nil || got.Affected[0].Package != "xen" {
		t.Errorf("XSA-182: %+v", got)
	}

	// Notes in parentheses are dropped; typos of CVE ids are read.
	for id, pkg := range map[string]string{
		"CVE-2018-14881": "tcpdump", // "CVE-2018-14881 (BGP)"
		"CVE-2017-17434": "rsync",   // "CVE-2017-17434-1", "CVE-2017-17434-2"
	} {
		if a := find(t, v311, id); len(a.Affected) != 1 || a.Affected[0].Package != pkg {
			t.Errorf("%s: %+v", id, a.Affected)
		}
	}
	_, v311c := parse(t, files["v3.11/community.yaml"])
	if a := find(t, v311c, "CVE-2019-19451"); len(a.Affected) != 1 || a.Affected[0].Package != "dia" { // "CVE-2019-19451.patch"
		t.Errorf("CVE-2019-19451: %+v", a.Affected)
	}
	// openjdk7's "CVE_2019-2426" joins openjdk8's well-spelt entry.
	if a := find(t, v311c, "CVE-2019-2426"); len(a.Affected) != 2 || a.Affected[0].Package != "openjdk7" || a.Affected[1].Package != "openjdk8" {
		t.Errorf("CVE-2019-2426: %+v", a.Affected)
	}
	_, v39 := parse(t, files["v3.9/main.yaml"])
	if a := find(t, v39, "CVE-2018-16859"); a.Affected[0].Package != "ansible" { // "CVE 2018-16859"
		t.Errorf("CVE-2018-16859: %+v", a.Affected)
	}
	if a := find(t, v39, "XSA-284"); a.Aliases != nil { // "CVE-????-?????  XSA-284"
		t.Errorf("XSA-284 aliases %v", a.Aliases)
	}

	// "CVE-2017-5753 CVE-2017-5715 CVE-2017-5754 XSA-254 XPTI": the CVEs
	// are distinct vulnerabilities, XSA-254 covers all three, XPTI is a
	// word.
	_, v37 := parse(t, files["v3.7/main.yaml"])
	if diff := cmp.Diff([]string{"CVE-2017-5715", "CVE-2017-5753", "CVE-2017-5754"}, find(t, v37, "XSA-254").Aliases); diff != "" {
		t.Errorf("XSA-254 aliases (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"XSA-254"}, find(t, v37, "CVE-2017-5753").Aliases); diff != "" {
		t.Errorf("CVE-2017-5753 aliases (-want +got):\n%s", diff)
	}

	// Fixed version "0": never affected.
	_, v38 := parse(t, files["v3.8/main.yaml"])
	got = find(t, v38, "CVE-2016-0682")
	if diff := cmp.Diff([]advisory.Affected{{Ecosystem: "Alpine:v3.8", Package: "db", Status: advisory.StatusNotAffected}}, got.Affected); diff != "" {
		t.Errorf("CVE-2016-0682 (-want +got):\n%s", diff)
	}
}

// testdata/v3.18-main.json is hand-written in the shape
// secdb.alpinelinux.org publishes (keys sorted as there); its records are
// illustrative, not copied from Alpine.
func TestJSON(t *testing.T) {
	b, err := os.ReadFile("testdata/v3.18-main.json")
	if err != nil {
		t.Fatal(err)
	}
	if !alpine.Detect("main.json", b) {
		t.Error("Detect = false")
	}
	feed, advs := parse(t, b)
	if want := (advisory.Feed{Name: "alpine-secdb/v3.18/main", Format: "alpine-secdb"}); feed != want {
		t.Errorf("feed %+v", feed)
	}
	var got []string
	for _, a := range advs {
		for _, af := range a.Affected {
			var fixes []string
			for _, r := range af.Ranges {
				fixes = append(fixes, r.Events[1].Fixed)
			}
			got = append(got, a.ID+" "+strings.Join(a.Aliases, ",")+" "+af.Ecosystem+" "+af.Package+" "+af.Status+" "+strings.Join(fixes, ","))
		}
	}
	want := []string{
		"CVE-2021-28831  Alpine:v3.18 busybox not_affected ",
		"CVE-2021-42373  Alpine:v3.18 busybox affected 1.34.0-r0",
		"CVE-2021-42374  Alpine:v3.18 busybox affected 1.34.0-r0",
		"CVE-2022-30065  Alpine:v3.18 busybox affected 1.35.0-r17",
		"CVE-2022-3554  Alpine:v3.18 libx11 affected 1.8.1-r0",
		"CVE-2022-42332 XSA-427 Alpine:v3.18 xen affected 4.17.1-r1",
		"CVE-2022-42333 XSA-428 Alpine:v3.18 xen affected 4.17.1-r1",
		"CVE-2022-42334 XSA-428 Alpine:v3.18 xen affected 4.17.1-r1",
		"CVE-2022-48174  Alpine:v3.18 busybox affected 1.36.1-r2",
		"CVE-2023-0286  Alpine:v3.18 openssl affected 1.1.1t-r0",
		"CVE-2023-20593 XSA-433 Alpine:v3.18 xen affected 4.17.2-r0",
		"CVE-2023-2650  Alpine:v3.18 openssl affected 3.1.1-r0",
		"CVE-2023-43785  Alpine:v3.18 libx11 affected 1.8.7-r0",
		"CVE-2023-43786  Alpine:v3.18 libx11 affected 1.8.7-r0",
		"CVE-2023-43787  Alpine:v3.18 libx11 affected 1.8.7-r0",
		"CVE-2023-5363  Alpine:v3.18 openssl affected 3.1.4-r0",
		"XSA-427 CVE-2022-42332 Alpine:v3.18 xen affected 4.17.1-r1",
		"XSA-428 CVE-2022-42333,CVE-2022-42334 Alpine:v3.18 xen affected 4.17.1-r1",
		"XSA-433 CVE-2023-20593 Alpine:v3.18 xen affected 4.17.2-r0",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// YAML and JSON of the same database give the same advisories, and
// versions keep their spelling even where YAML would read a number.
func TestYAMLMatchesJSON(t *testing.T) {
	const y = `---
distroversion: v3.10
reponame: community
archs:
  - x86_64
packages:
  - pkg:
      name: a
      secfixes:
        # a comment
        1.10:
          - CVE-2020-0001
        "0":
          - CVE-2020-0002
        1.2.9: [CVE-2020-0003 (note), "XSA-1  CVE-2020-0004"]
        2.0-r0:
  - pkg:
      name: b
      secfixes:
`
	const j = `{"distroversion": "v3.10", "reponame": "community", "packages": [
 {"pkg": {"name": "a", "secfixes": {"1.10": ["CVE-2020-0001"], "0": ["CVE-2020-0002"],
   "1.2.9": ["CVE-2020-0003 (note)", "XSA-1  CVE-2020-0004"], "2.0-r0": null}}},
 {"pkg": {"name": "b", "secfixes": null}}]}`
	fy, ay := parse(t, []byte(y))
	fj, aj := parse(t, []byte(j))
	if fy != fj || fy.Name != "alpine-secdb/v3.10/community" {
		t.Errorf("feeds %+v, %+v", fy, fj)
	}
	if diff := cmp.Diff(ay, aj); diff != "" {
		t.Errorf("yaml vs json (-yaml +json):\n%s", diff)
	}
	if len(ay) != 5 || ay[0].Affected[0].Ranges[0].Events[1].Fixed != "1.10" {
		t.Errorf("advisories %+v", ay)
	}
}

func TestErrors(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{"bad yaml", "distroversion: v3.1\npackages:\n  - pkg: [\n", "alpine: yaml: "},
		{"yaml not a mapping", "- a\n- b\n", "alpine: line 1: database is a Sequence, want a mapping"},
		{"empty", "", "alpine: yaml: empty document"},
		{"document ends", strings.Repeat("...\n", 3), "alpine: yaml: more than one document"},
		{"too large", "# " + strings.Repeat("a", 4<<20), "alpine: yaml larger than 4194304 bytes"},
		{"two documents", "distroversion: v3.1\n---\ndistroversion: v3.2\n", "alpine: yaml: more than one document"},
		{"duplicate key", "distroversion: v3.1\nreponame: main\npackages:\n  - pkg:\n      name: a\n      secfixes:\n        1.0: [CVE-2020-0001]\n        1.0: [CVE-2020-0002]\n", `alpine: yaml: line 8: mapping key "1.0" already defined at [7:9]`},
		{"alias", "distroversion: &d v3.1\nreponame: *d\n", "alpine: yaml: line 1: anchors and aliases are not supported"},
		{"deep flow", "distroversion: v3.1\nreponame: main\npackages: " + strings.Repeat("[", 11), "alpine: yaml: line 3: nested more than 10 levels deep"},
		{"deep block", "distroversion: v3.1\nreponame: main\npackages:\n" + strings.Repeat("- ", 11), "alpine: yaml: line 4: nested more than 10 levels deep"},
		{"deep maps", deepMaps(11), "alpine: yaml: line 11: nested more than 10 levels deep"},
		{"empty items", "distroversion: v3.1\nreponame: main\npackages:\n" + strings.Repeat("  -\n", 1001), "alpine: yaml: line 1004: more than 1000 empty values"},
		{"empty values", "distroversion: v3.1\nreponame: main\npackages:\n" + strings.Repeat("  - pkg:\n      name: a\n      secfixes:\n", 1001), "alpine: yaml: line 3006: more than 1000 empty values"},
		{"empty flow values", "distroversion: v3.1\nreponame: main\npackages: [{" + strings.Repeat("a:,", 1001) + "}]\n", "alpine: yaml: line 3: more than 1000 empty values"},
		{"many tokens", strings.Repeat("-\n", 1<<20+1), "alpine: yaml: more than 1048576 tokens"},
		{"many keys", "distroversion: v3.1\nreponame: main\npackages:\n  - pkg:\n      name: a\n      secfixes:\n" + manyKeys(1001), "alpine: yaml: line 1007: mapping with more than 1000 keys"},
		{"packages not a list", "distroversion: v3.1\nreponame: main\npackages: {}\n", "alpine: line 3: packages is a Mapping, want a list"},
		{"no pkg", "distroversion: v3.1\nreponame: main\npackages:\n  - name: a\n", "alpine: line 4: package entry without pkg"},
		{"bad distroversion", "distroversion: 3.1\nreponame: main\n", `alpine: distroversion "3.1" is not of the form v3.18`},
		{"edge", `{"distroversion": "edge", "reponame": "main"}`, `alpine: distroversion "edge"`},
		{"no reponame", "distroversion: v3.1\n", `alpine: reponame "" is not a repository name`},
		{"truncated json", `{"distroversion": "v3.18", "reponame": "main", "packages": [{"pkg": {"name": "a", "secf`, "alpine: json: truncated"},
		{"json wrong type", `{"distroversion": 3.18}`, "alpine: json: cannot unmarshal number"},
		{"json duplicate version", `{"distroversion": "v3.18", "reponame": "main", "packages": [{"pkg": {"name": "a", "secfixes": {"1": ["CVE-2020-0001"], "1": []}}}]}`, `alpine: json: secfixes: version "1" listed twice`},
		{"json bad", `{"distroversion": v3.18}`, "alpine: json: invalid character 'v'"},
		{"json trailing", `{"distroversion": "v3.18", "reponame": "main"} {}`, "alpine: json: data after the database object"},
		{"malformed cve", "distroversion: v3.1\nreponame: main\npackages:\n  - pkg:\n      name: a\n      secfixes:\n        1.0-r0: [CVE-20-1]\n", `alpine: v3.1/main: a 1.0-r0: malformed cve id "CVE-20-1" in "CVE-20-1"`},
		{"no id", "distroversion: v3.1\nreponame: main\npackages:\n  - pkg:\n      name: a\n      secfixes:\n        1.0-r0: [fixed]\n", `alpine: v3.1/main: a 1.0-r0: no vulnerability id in "fixed"`},
		{"unrecognised id", "distroversion: v3.1\nreponame: main\npackages:\n  - pkg:\n      name: a\n      secfixes:\n        1.0-r0: [\"12345\"]\n", `alpine: v3.1/main: a 1.0-r0: unrecognised id "12345"`},
		{"too many ids", "distroversion: v3.1\nreponame: main\npackages:\n  - pkg:\n      name: a\n      secfixes:\n        1.0-r0: [\"" + strings.Repeat("XSA-1 XSA-2 ", 20) + "XSA-3 " + manyXSA(33) + "\"]\n", "alpine: v3.1/main: a 1.0-r0: more than 32 ids in"},
		{"no name", "distroversion: v3.1\nreponame: main\npackages:\n  - pkg:\n      secfixes:\n", `alpine: v3.1/main: package name ""`},
		{"list of lists", "distroversion: v3.1\nreponame: main\npackages:\n  - pkg:\n      name: a\n      secfixes:\n        1.0-r0: [[CVE-2020-0001]]\n", "alpine: line 7: secfixes 1.0-r0 is a Sequence, want a scalar"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := alpine.Parse(strings.NewReader(tc.in), func(*advisory.Advisory) error { return nil })
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("error %v, want prefix %q", err, tc.want)
			}
		})
	}
}

func manyXSA(n int) string {
	var ids []string
	for i := range n {
		ids = append(ids, fmt.Sprintf("XSA-%d", 100+i))
	}
	return strings.Join(ids, " ")
}

func deepMaps(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(strings.Repeat(" ", i) + "a:\n")
	}
	return b.String()
}

func manyKeys(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "        1.%d-r0: [CVE-2020-0001]\n", i)
	}
	return b.String()
}

// The parser stays fast on the largest mapping and nesting the checks let
// through, and on many packages.
func TestBounds(t *testing.T) {
	head := "distroversion: v3.1\nreponame: main\npackages:\n"
	var pkgs strings.Builder
	for i := range 20000 {
		fmt.Fprintf(&pkgs, "  - pkg:\n      name: p%d\n      secfixes:\n        1.0-r0:\n          - CVE-2020-%04d\n", i, i)
	}
	var jv strings.Builder
	jv.WriteString(`{"distroversion": "v3.1", "reponame": "main", "packages": [{"pkg": {"name": "a", "secfixes": {`)
	for i := range 200000 {
		fmt.Fprintf(&jv, `"1.%d-r0": ["CVE-2020-0001"], `, i)
	}
	jv.WriteString(`"2": []}}}]}`)
	for name, in := range map[string]string{
		"json versions": jv.String(),
		"keys":          head + "  - pkg:\n      name: a\n      secfixes:\n" + manyKeys(1000),
		"flow":          head + strings.Repeat("[", 10) + strings.Repeat("]", 10),
		"block":         head + strings.Repeat("- ", 9) + "\n",
		"pkgs":          pkgs.String(),
		"scalar":        head + "  - pkg:\n      name: " + strings.Repeat("a", 4<<20-100) + "\n",
		// goccy's own error text takes quadratic time in the line length.
		"long line error": head + "  - {" + strings.Repeat("a: b,", 200000) + "}\n",
	} {
		start := time.Now()
		_, err := alpine.Parse(strings.NewReader(in), func(*advisory.Advisory) error { return nil })
		// Generous: the inputs take well under a second on an idle
		// machine, and what this catches takes minutes.
		d := time.Since(start)
		t.Logf("%s: %v", name, d)
		if d > 30*time.Second {
			t.Errorf("%s: %v (%v)", name, d, err)
		}
		if err != nil && (strings.Contains(err.Error(), "\n") || len(err.Error()) > 200) {
			t.Errorf("%s: error of %d bytes: %.200q", name, len(err.Error()), err)
		}
	}
}

func TestEmitError(t *testing.T) {
	b, err := os.ReadFile("testdata/v3.18-main.json")
	if err != nil {
		t.Fatal(err)
	}
	stop := errors.New("stop")
	n := 0
	_, err = alpine.Parse(bytes.NewReader(b), func(*advisory.Advisory) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("error %v after %d calls", err, n)
	}
}

func TestDetect(t *testing.T) {
	for _, tc := range []struct {
		head string
		want bool
	}{
		{"---\ndistroversion: v3.11\nreponame: main\narchs:\n", true},
		{"distroversion: v3.3\nreponame: community\npackages:\n", true},
		{`{"apkurl": "{{urlprefix}}", "archs": ["x86_64", "x86"], "reponame": "main", "urlprefix": "u", "distroversion": "v3.18", "packages": [`, true},
		{`{"distroversion": "v3.18", "packages": [{"pkg": {"name": "a"`, true},
		{`{"apkurl": "x", "archs": ["a", {"reponame": 1}], "distroversion": "v3.18"`, false}, // nested keys do not count
		{"distroversion: v3.11\n", false},
		{"id: GO-2024-1\nreponame: x\n", false},
		{`{"data": {"CVE-2020-1": {}}}`, false},
		{`{"id": "ALPINE-CVE-2020-1", "affected": []}`, false},
		{"", false},
	} {
		if got := alpine.Detect("main.yaml", []byte(tc.head)); got != tc.want {
			t.Errorf("Detect(%.50q) = %v, want %v", tc.head, got, tc.want)
		}
	}
}
