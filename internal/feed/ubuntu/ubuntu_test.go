package ubuntu_test

import (
	"bytes"
	"compress/bzip2"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kensa-dev/kensa/internal/advisory"
	"github.com/kensa-dev/kensa/internal/feed/ubuntu"
	"github.com/kensa-dev/kensa/internal/testfixture"
)

// readDB returns the decompressed bytes of a shared cvescan database.
func readDB(t testing.TB, name string) []byte {
	t.Helper()
	path := testfixture.Shared(t, "vulndata", "native", "ubuntu", name)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := io.ReadAll(bzip2.NewReader(f))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func parseAll(t testing.TB, data []byte) (advisory.Feed, []*advisory.Advisory) {
	t.Helper()
	var advs []*advisory.Advisory
	feed, err := ubuntu.Parse(bytes.NewReader(data), func(a *advisory.Advisory) error {
		advs = append(advs, a)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return feed, advs
}

// The expected numbers below were counted independently with python3 over
// the decompressed files (json.load, then for every CVE, release and
// package: the status word; "released" with a note that starts with a
// digit counted as affected, with an empty note as not_affected; needed
// and deferred as unfixed; binaries split at commas, trimmed, deduplicated
// and summed). Status words present: focal needed 7,184, not-affected
// 10,854, released 4,308, deferred 468; jammy needed 10,916, not-affected
// 12,795, released 3,890, deferred 313. No DNE, pending or ignored; the
// only repository value is "Ubuntu Archive".
func TestRealDatabases(t *testing.T) {
	for _, tc := range []struct {
		file      string
		name      string
		generated time.Time
		cves      int
		affected  int
		status    map[string]int
		binaries  int
		priority  map[string]int
	}{
		{
			file: "ubuntu-vuln-db-focal.json.bz2", name: "ubuntu-cvescan/focal",
			generated: time.Date(2021, 9, 17, 7, 21, 38, 0, time.UTC),
			cves:      9960, affected: 22814,
			status:   map[string]int{advisory.StatusAffected: 4307, advisory.StatusNotAffected: 10855, advisory.StatusUnfixed: 7652},
			binaries: 309786,
			priority: map[string]int{"low": 2190, "medium": 7243, "untriaged": 200, "negligible": 237, "high": 90},
		},
		{
			file: "ubuntu-vuln-db-jammy.json.bz2", name: "ubuntu-cvescan/jammy",
			generated: time.Date(2023, 1, 6, 14, 21, 49, 0, time.UTC),
			cves:      12675, affected: 27914,
			status:   map[string]int{advisory.StatusAffected: 3889, advisory.StatusNotAffected: 12796, advisory.StatusUnfixed: 11229},
			binaries: 394891,
			priority: map[string]int{"low": 2313, "medium": 9996, "negligible": 226, "high": 139, "untriaged": 1},
		},
	} {
		t.Run(tc.file, func(t *testing.T) {
			data := readDB(t, tc.file)
			if !ubuntu.Detect(tc.file, data[:4096]) {
				t.Error("Detect = false")
			}
			feed, advs := parseAll(t, data)
			want := advisory.Feed{Name: tc.name, Format: "ubuntu-cvescan", Generated: tc.generated}
			if feed != want {
				t.Errorf("feed = %+v, want %+v", feed, want)
			}
			if len(advs) != tc.cves {
				t.Errorf("%d advisories, want %d", len(advs), tc.cves)
			}
			affected, binaries := 0, 0
			status, priority, eco := map[string]int{}, map[string]int{}, map[string]int{}
			for _, a := range advs {
				priority[a.Severities[0].Value]++
				for _, af := range a.Affected {
					affected++
					status[af.Status]++
					eco[af.Ecosystem]++
					binaries += len(af.Binaries)
					for _, b := range af.Binaries {
						if b == "" || strings.ContainsAny(b, ", \n") {
							t.Errorf("%s %s: binary %q", a.ID, af.Package, b)
						}
					}
				}
			}
			if affected != tc.affected {
				t.Errorf("%d affected, want %d", affected, tc.affected)
			}
			if diff := cmp.Diff(tc.status, status); diff != "" {
				t.Errorf("statuses (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.priority, priority); diff != "" {
				t.Errorf("priorities (-want +got):\n%s", diff)
			}
			if binaries != tc.binaries {
				t.Errorf("%d binaries, want %d", binaries, tc.binaries)
			}
			if len(eco) != 1 {
				t.Errorf("ecosystems %v, want one", eco)
			}
		})
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

func TestRealRecords(t *testing.T) {
	_, focal := parseAll(t, readDB(t, "ubuntu-vuln-db-focal.json.bz2"))
	const eco = "Ubuntu:20.04:LTS"

	got := find(t, focal, "CVE-2021-3156")
	want := &advisory.Advisory{
		ID: "CVE-2021-3156", Kind: advisory.KindSecurity,
		Severities: []advisory.Severity{{Source: advisory.SourceVendor, Type: "ubuntu-priority", Value: "high"}},
		References: []string{"https://ubuntu.com/security/CVE-2021-3156"},
		Affected: []advisory.Affected{{
			Ecosystem: eco, Package: "sudo", Binaries: []string{"sudo", "sudo-ldap"},
			Status: advisory.StatusAffected, VendorStatus: "released (1.8.31-1ubuntu1.2)",
			Ranges: []advisory.Range{{Type: advisory.RangeEcosystem, Events: []advisory.Event{{Introduced: "0"}, {Fixed: "1.8.31-1ubuntu1.2"}}}},
		}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("CVE-2021-3156 (-want +got):\n%s", diff)
	}

	// One CVE with a not-affected package (with a reason), another
	// not-affected (with the version that already had the fix) and a fix.
	got = find(t, focal, "CVE-2021-3711")
	var short []string
	for _, a := range got.Affected {
		short = append(short, a.Package+" "+a.Status+" "+a.VendorStatus)
	}
	if diff := cmp.Diff([]string{
		"edk2 not_affected not-affected (code not compiled)",
		"nodejs not_affected not-affected (uses system openssl1.1)",
		"openssl affected released (1.1.1f-1ubuntu2.8)",
	}, short); diff != "" {
		t.Errorf("CVE-2021-3711 (-want +got):\n%s", diff)
	}

	// "needed" carries no note; "not-affected" with an empty note.
	got = find(t, focal, "CVE-2002-2439")
	if a := got.Affected[0]; a.Package != "gcc-arm-none-eabi" || a.Status != advisory.StatusUnfixed || a.VendorStatus != "needed" || a.Ranges != nil {
		t.Errorf("CVE-2002-2439 gcc-arm-none-eabi: %+v", a)
	}
	if a := got.Affected[1]; a.Package != "gcc-avr" || a.Status != advisory.StatusNotAffected || a.VendorStatus != "not-affected" {
		t.Errorf("CVE-2002-2439 gcc-avr: %+v", a)
	}

	// "deferred" keeps its date.
	got = find(t, focal, "CVE-2012-0880")
	if a := got.Affected[0]; a.Package != "xerces-c" || a.Status != advisory.StatusUnfixed || a.VendorStatus != "deferred (2019-01-01)" {
		t.Errorf("CVE-2012-0880: %+v", a)
	}

	// The one "released" without a version: never matched (as cvescan
	// reads it), and the wrapped binary list is split.
	got = find(t, focal, "CVE-2021-29955")
	a := got.Affected[0]
	if a.Status != advisory.StatusNotAffected || a.VendorStatus != "released" || a.Ranges != nil {
		t.Errorf("CVE-2021-29955: %s %q %v", a.Status, a.VendorStatus, a.Ranges)
	}
	for _, b := range []string{"firefox-locale-kk", "firefox-locale-km", "firefox-locale-zu"} {
		if !contains(a.Binaries, b) {
			t.Errorf("CVE-2021-29955: %s missing from binaries", b)
		}
	}

	_, jammy := parseAll(t, readDB(t, "ubuntu-vuln-db-jammy.json.bz2"))
	got = find(t, jammy, "CVE-2022-0778")
	short = short[:0]
	for _, a := range got.Affected {
		short = append(short, a.Ecosystem+" "+a.Package+" "+a.Status+" "+a.VendorStatus)
	}
	if diff := cmp.Diff([]string{
		"Ubuntu:22.04:LTS edk2 unfixed needed",
		"Ubuntu:22.04:LTS nodejs unfixed needed",
		"Ubuntu:22.04:LTS openssl affected released (3.0.2-0ubuntu1)",
	}, short); diff != "" {
		t.Errorf("jammy CVE-2022-0778 (-want +got):\n%s", diff)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// sample holds every status and repository form Parse knows. The focal
// and jammy databases have no Ubuntu Pro entries, so the Pro forms are
// written after cvescan's own test data ("UA Apps", "UA Infra").
const sample = `{"data": {
 "CVE-2020-1000": {"priority": "low", "releases": {"bionic": {
   "a": {"binaries": ["a1"], "status": ["released", "1.0-1ubuntu0.1"], "repository": "Ubuntu Archive"},
   "b": {"binaries": ["b1"], "status": ["released", "2:1.2-3ubuntu0.1~esm1"], "repository": "UA Infra"},
   "c": {"binaries": ["c1"], "status": ["released", "3.0-1+esm1"], "repository": "UA for Apps"},
   "d": {"binaries": ["d1"], "status": ["released-esm", "4.0-1ubuntu0.1+esm1"], "repository": "UA Apps"},
   "e": {"binaries": ["e1"], "status": ["needs-triage", ""]},
   "f": {"binaries": ["f1"], "status": ["pending", "1.0-2"]},
   "g": {"binaries": ["g1"], "status": ["ignored", "end of life"]},
   "h": {"binaries": ["h1"], "status": ["DNE", ""]},
   "i": {"status": ["needed"]}
 }}},
 "CVE-2020-1001": {"priority": "", "releases": {"bionic/esm": {"x": {"binaries": ["x"], "status": ["released", "1.0+esm1"]}}}}
},
"metadata": {"timestamp": 1600000000, "ttl": 3900, "version": "1.0"}}`

func TestSample(t *testing.T) {
	if !ubuntu.Detect("db.json", []byte(sample)) {
		t.Error("Detect = false")
	}
	feed, advs := parseAll(t, []byte(sample))
	if feed.Name != "ubuntu-cvescan/bionic" || !feed.Generated.Equal(time.Unix(1600000000, 0)) {
		t.Errorf("feed %+v", feed)
	}
	if len(advs) != 2 {
		t.Fatalf("%d advisories", len(advs))
	}
	var got []string
	for _, a := range advs {
		for _, af := range a.Affected {
			fixed := ""
			if len(af.Ranges) == 1 {
				fixed = af.Ranges[0].Events[1].Fixed
			}
			got = append(got, strings.Join([]string{a.ID, af.Ecosystem, af.Package, af.Status, af.VendorStatus, af.Repository, fixed}, "|"))
		}
	}
	want := []string{
		"CVE-2020-1000|Ubuntu:18.04:LTS|a|affected|released (1.0-1ubuntu0.1)||1.0-1ubuntu0.1",
		"CVE-2020-1000|Ubuntu:Pro:18.04:LTS|b|affected|released (2:1.2-3ubuntu0.1~esm1)|esm-infra|2:1.2-3ubuntu0.1~esm1",
		"CVE-2020-1000|Ubuntu:Pro:18.04:LTS|c|affected|released (3.0-1+esm1)|esm-apps|3.0-1+esm1",
		"CVE-2020-1000|Ubuntu:Pro:18.04:LTS|d|affected|released-esm (4.0-1ubuntu0.1+esm1)|esm-apps|4.0-1ubuntu0.1+esm1",
		"CVE-2020-1000|Ubuntu:18.04:LTS|e|unfixed|needs-triage||",
		"CVE-2020-1000|Ubuntu:18.04:LTS|f|unfixed|pending (1.0-2)||",
		"CVE-2020-1000|Ubuntu:18.04:LTS|g|will_not_fix|ignored (end of life)||",
		"CVE-2020-1000|Ubuntu:18.04:LTS|i|unfixed|needed||",
		"CVE-2020-1001|Ubuntu:Pro:18.04:LTS|x|affected|released (1.0+esm1)|esm-infra|1.0+esm1",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if advs[1].Severities != nil {
		t.Errorf("empty priority gave severities %v", advs[1].Severities)
	}
	if advs[0].Affected[7].Binaries != nil {
		t.Errorf("missing binaries gave %v", advs[0].Affected[7].Binaries)
	}
}

func TestEcosystem(t *testing.T) {
	for _, tc := range []struct {
		codename string
		pro      bool
		want     string
	}{
		{"focal", false, "Ubuntu:20.04:LTS"},
		{"jammy", false, "Ubuntu:22.04:LTS"},
		{"bionic", false, "Ubuntu:18.04:LTS"},
		{"xenial", false, "Ubuntu:16.04:LTS"},
		{"trusty", false, "Ubuntu:14.04:LTS"},
		{"noble", false, "Ubuntu:24.04:LTS"},
		{"mantic", false, "Ubuntu:23.10"},
		{"hirsute", false, "Ubuntu:21.04"},
		{"xenial", true, "Ubuntu:Pro:16.04:LTS"},
		{"noble", true, "Ubuntu:Pro:24.04:LTS"},
	} {
		got, err := ubuntu.Ecosystem(tc.codename, tc.pro)
		if err != nil || got != tc.want {
			t.Errorf("Ecosystem(%s, %v) = %q, %v; want %q", tc.codename, tc.pro, got, err, tc.want)
		}
	}
	for _, c := range []string{"hirsute", "mantic"} {
		if _, err := ubuntu.Ecosystem(c, true); err == nil {
			t.Errorf("Ecosystem(%s, pro) gave no error", c)
		}
	}
	if _, err := ubuntu.Ecosystem("focalx", false); err == nil {
		t.Error("unknown codename gave no error")
	}
}

func TestErrors(t *testing.T) {
	rec := func(s string) string {
		return `{"data": {"CVE-2020-1": {"priority": "low", "releases": {` + s + `}}}, "metadata": {"timestamp": 1}}`
	}
	for _, tc := range []struct {
		name, in, want string
	}{
		{"truncated", sample[:len(sample)/2], "ubuntu: CVE-2020-1000: truncated json"},
		{"truncated in data", `{"data": {"CVE-2020-1": {"priority": "low", "releases": {}}`, "ubuntu: \"data\": truncated json"},
		{"empty", ``, "ubuntu: database: truncated json"},
		{"not an object", `[]`, `ubuntu: database: got "[", want "{"`},
		{"no data", `{"metadata": {"timestamp": 1}}`, `ubuntu: no "data" object`},
		{"unknown status", rec(`"focal": {"p": {"status": ["fixed", "1.0"]}}`), `ubuntu: CVE-2020-1: focal p: unknown status "fixed"`},
		{"empty status", rec(`"focal": {"p": {"status": []}}`), "ubuntu: CVE-2020-1: focal p: status has 0 elements"},
		{"unknown release", rec(`"jellyfish": {"p": {"status": ["needed"]}}`), `ubuntu: CVE-2020-1: unknown release "jellyfish"`},
		{"unknown repository", rec(`"focal": {"p": {"status": ["released", "1"], "repository": "PPA"}}`), `ubuntu: CVE-2020-1: focal p: unknown repository "PPA"`},
		{"pro on non-lts", rec(`"mantic": {"p": {"status": ["released", "1"], "repository": "UA Apps"}}`), "ubuntu: CVE-2020-1: mantic p: ubuntu pro fix for mantic"},
		{"two releases", rec(`"focal": {"p": {"status": ["needed"]}}, "jammy": {"p": {"status": ["needed"]}}`), `ubuntu: CVE-2020-1: release "jammy" in a database of focal`},
		{"wrong type", rec(`"focal": {"p": {"status": "needed"}}`), "ubuntu: CVE-2020-1: json: cannot unmarshal string"},
		{"duplicate", `{"data": {"CVE-1": {}, "CVE-1": {}}}`, "ubuntu: CVE-1: listed twice"},
		{"no release", `{"data": {}}`, "ubuntu: database names no release"},
		{"version", `{"data": {}, "metadata": {"version": "2.0"}}`, `ubuntu: metadata: unsupported version "2.0"`},
		{"trailing", rec(`"focal": {"p": {"status": ["needed"]}}`) + `{}`, "ubuntu: data after the database object"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ubuntu.Parse(strings.NewReader(tc.in), func(*advisory.Advisory) error { return nil })
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("error %v, want prefix %q", err, tc.want)
			}
		})
	}
}

func TestEmitError(t *testing.T) {
	stop := errors.New("stop")
	n := 0
	_, err := ubuntu.Parse(strings.NewReader(sample), func(*advisory.Advisory) error {
		n++
		return stop
	})
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("error %v after %d calls", err, n)
	}
}

func TestDetect(t *testing.T) {
	for _, tc := range []struct {
		head string
		want bool
	}{
		{`{"data": {"CVE-2002-2439": {"priority": "low", "releases": {"focal": {`, true},
		{`{"metadata": {"timestamp": 1631863298, "ttl": 3900, "version": "1.0"}, "data": {`, true},
		{`{"CVE-2020-1000": {"priority": "low", "releases": {}}}`, false}, // bare uct.json
		{`{"schema_version": "1.6.0", "id": "USN-1"}`, false},             // OSV
		{`{"data": {"GHSA-xxxx": {"priority": "low"}}}`, false},
		{`{"data": [`, false},
		{`distroversion: v3.11`, false},
		{``, false},
	} {
		if got := ubuntu.Detect("x.json", []byte(tc.head)); got != tc.want {
			t.Errorf("Detect(%.40q) = %v, want %v", tc.head, got, tc.want)
		}
	}
}

// BenchmarkParseFocal measures the streaming parse of the focal database
// (11 MB decompressed).
func BenchmarkParseFocal(b *testing.B) {
	data := readDB(b, "ubuntu-vuln-db-focal.json.bz2")
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ubuntu.Parse(bytes.NewReader(data), func(*advisory.Advisory) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
}
