package kev_test

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/kensa-dev/kensa/internal/advisory"
	"github.com/kensa-dev/kensa/internal/feed/kev"
	"github.com/kensa-dev/kensa/internal/testfixture"
)

func catalogFile(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile(testfixture.Shared(t, "vulndata", "kev", "known_exploited_vulnerabilities.json"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestReal reads the catalog of 2025-08-25. Expected counts from
// python3's json module: 1,404 entries, 1,404 distinct cveIDs, 293 with
// knownRansomwareCampaignUse "Known"; dateAdded runs from 2021-11-03 to
// 2025-08-25.
func TestReal(t *testing.T) {
	c, err := kev.Parse(bytes.NewReader(catalogFile(t)))
	if err != nil {
		t.Fatal(err)
	}
	if c.Version != "2025.08.25" {
		t.Errorf("version %q", c.Version)
	}
	if want := time.Date(2025, 8, 25, 17, 4, 19, 979600000, time.UTC); !c.Released.Equal(want) {
		t.Errorf("released %v, want %v", c.Released, want)
	}
	if len(c.Entries) != 1404 {
		t.Errorf("%d entries, want 1404", len(c.Entries))
	}
	known, first, last := 0, "9999", "0000"
	var log4j *advisory.Exploited
	for i, e := range c.Entries {
		if e.Ransomware == "Known" {
			known++
		}
		first, last = min(first, e.DateAdded), max(last, e.DateAdded)
		if e.CVE == "CVE-2021-44228" {
			log4j = &c.Entries[i]
		}
	}
	if known != 293 || first != "2021-11-03" || last != "2025-08-25" {
		t.Errorf("ransomware known %d, dates %s … %s", known, first, last)
	}
	want := &advisory.Exploited{
		CVE:           "CVE-2021-44228",
		VendorProject: "Apache",
		Product:       "Log4j2",
		Name:          "Apache Log4j2 Remote Code Execution Vulnerability",
		DateAdded:     "2021-12-10",
		DueDate:       "2021-12-24",
		RequiredAction: "For all affected software assets for which updates exist, the only acceptable remediation actions are: " +
			"1) Apply updates; OR 2) remove affected assets from agency networks. Temporary mitigations using one of the measures " +
			"provided at https://www.cisa.gov/uscert/ed-22-02-apache-log4j-recommended-mitigation-measures are only acceptable until updates are available.",
		Ransomware: "Known",
	}
	if d := cmp.Diff(want, log4j); d != "" {
		t.Errorf("CVE-2021-44228 (-want +got):\n%s", d)
	}
	if c.Entries[0].CVE != "CVE-2025-48384" {
		t.Errorf("first entry %s: catalog order not kept", c.Entries[0].CVE)
	}
}

func entry(cve, added, due string) string {
	return `{"cveID": "` + cve + `", "vendorProject": "V", "product": "P", "vulnerabilityName": "N",
		"dateAdded": "` + added + `", "shortDescription": "S", "requiredAction": "R", "dueDate": "` + due + `",
		"knownRansomwareCampaignUse": "Unknown", "notes": "", "cwes": ["CWE-20"], "futureField": {"a": 1}}`
}

func catalog(count string, entries ...string) string {
	return `{"title": "CISA Catalog of Known Exploited Vulnerabilities", "catalogVersion": "2025.08.25",
		"dateReleased": "2025-08-25T17:04:19.9796Z", "count": ` + count + `, "vulnerabilities": [` +
		strings.Join(entries, ",") + "]}\n"
}

func TestErrors(t *testing.T) {
	good := entry("CVE-2024-12345", "2024-01-02", "2024-01-23")
	whole := catalog("2", good, entry("CVE-2024-0001", "2024-01-02", ""))
	tests := []struct{ name, in, want string }{
		{"empty", "", "unexpected EOF"},
		{"truncated", whole[:len(whole)/2], "unexpected EOF"},
		{"truncated at the end", whole[:len(whole)-3], "unexpected EOF"},
		{"garbage", "\x00\xffgarbage", "invalid character"},
		{"array", "[]", "cannot unmarshal array"},
		{"no version", `{"dateReleased": "2025-08-25T17:04:19Z", "count": 0, "vulnerabilities": []}`, "no catalogVersion"},
		{"no date", `{"catalogVersion": "1", "count": 0, "vulnerabilities": []}`, "no dateReleased"},
		{"no count", `{"catalogVersion": "1", "dateReleased": "2025-08-25T17:04:19Z", "vulnerabilities": []}`, "no count"},
		{"no list", `{"catalogVersion": "1", "dateReleased": "2025-08-25T17:04:19Z", "count": 0}`, "no vulnerabilities"},
		{"bad released", strings.Replace(catalog("1", good), "2025-08-25T17:04:19.9796Z", "yesterday", 1), `dateReleased "yesterday"`},
		{"count", catalog("2", good), "count says 2 vulnerabilities, catalog has 1"},
		{"cve", catalog("2", good, entry("CVE-2024-123", "2024-01-02", "")), `entry 2: cveID "CVE-2024-123" is not a CVE id`},
		{"cve case", catalog("1", entry("cve-2024-12345", "2024-01-02", "")), "is not a CVE id"},
		{"twice", catalog("2", good, good), "entry 2: CVE-2024-12345 listed twice"},
		{"added", catalog("1", entry("CVE-2024-12345", "2024-1-2", "")), `CVE-2024-12345: dateAdded "2024-1-2"`},
		{"added missing", catalog("1", entry("CVE-2024-12345", "", "")), `dateAdded ""`},
		{"added day", catalog("1", entry("CVE-2024-12345", "2024-02-30", "")), `dateAdded "2024-02-30"`},
		{"due", catalog("1", entry("CVE-2024-12345", "2024-01-02", "soon")), `CVE-2024-12345: dueDate "soon"`},
		{"type", strings.Replace(catalog("1", good), `"cveID": "CVE-2024-12345"`, `"cveID": 12345`, 1), "cannot unmarshal number"},
		{"trailing", catalog("0") + "{}", "data after the catalog"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := kev.Parse(strings.NewReader(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "kev: ") {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
			if len(c.Entries) != 0 || c.Version != "" {
				t.Errorf("a refused catalog returned data: %+v", c)
			}
		})
	}
	// Unknown fields are ignored; an empty dueDate is allowed.
	c, err := kev.Parse(strings.NewReader(whole))
	if err != nil || len(c.Entries) != 2 || c.Entries[1].DueDate != "" {
		t.Errorf("%+v, %v", c, err)
	}
}

// TestTruncatedReal: the real catalog cut anywhere is refused.
func TestTruncatedReal(t *testing.T) {
	real := catalogFile(t)
	for _, n := range []int{1, 100, len(real) / 3, len(real) / 2, len(real) - 10, len(real) - 2} {
		if _, err := kev.Parse(bytes.NewReader(real[:n])); err == nil {
			t.Errorf("catalog cut at %d of %d bytes accepted", n, len(real))
		}
	}
}

func TestDetect(t *testing.T) {
	real := catalogFile(t)
	for _, tc := range []struct {
		head string
		want bool
	}{
		{string(real[:256]), true},
		{`{"vulnerabilities": [{"cveID": "CVE-2024-0001", "dateAdded": "2024-01-02"`, true},
		{`{"openssl": {"CVE-2023-0286": {"releases": {}}}}`, false},
		{`{"id": "GO-2024-2687", "aliases": ["CVE-2024-1"]}`, false},
		{"catalogVersion", false},
		{"", false},
	} {
		if got := kev.Detect("known_exploited_vulnerabilities.json", []byte(tc.head)); got != tc.want {
			t.Errorf("Detect(%.40q) = %v, want %v", tc.head, got, tc.want)
		}
	}
}

// FuzzParse: any input ends in an error or in a catalog whose every
// entry is valid; never a panic.
func FuzzParse(f *testing.F) {
	// A real entry of the 2025.08.25 catalog.
	f.Add([]byte(`{"title": "CISA Catalog of Known Exploited Vulnerabilities", "catalogVersion": "2025.08.25", "dateReleased": "2025-08-25T17:04:19.9796Z", "count": 1, "vulnerabilities": [
{"cveID": "CVE-2021-44228", "vendorProject": "Apache", "product": "Log4j2", "vulnerabilityName": "Apache Log4j2 Remote Code Execution Vulnerability", "dateAdded": "2021-12-10", "shortDescription": "Apache Log4j2 contains a vulnerability where JNDI features do not protect against attacker-controlled JNDI-related endpoints, allowing for remote code execution.", "requiredAction": "For all affected software assets for which updates exist, the only acceptable remediation actions are: 1) Apply updates; OR 2) remove affected assets from agency networks.", "dueDate": "2021-12-24", "knownRansomwareCampaignUse": "Known", "notes": "https:\/\/nvd.nist.gov\/vuln\/detail\/CVE-2021-44228", "cwes": ["CWE-20", "CWE-400", "CWE-502"]}]}`))
	f.Add([]byte(catalog("2", entry("CVE-2024-12345", "2024-01-02", "2024-01-23"), entry("CVE-2024-0001", "2024-02-29", ""))))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := kev.Parse(bytes.NewReader(b))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "kev: ") || len(c.Entries) != 0 {
				t.Fatalf("error %v with %d entries", err, len(c.Entries))
			}
			return
		}
		if c.Version == "" || c.Released.IsZero() {
			t.Fatalf("catalog without version or release date: %+v", c)
		}
		for _, e := range c.Entries {
			if !strings.HasPrefix(e.CVE, "CVE-") || len(e.DateAdded) != 10 {
				t.Fatalf("bad entry %+v", e)
			}
		}
	})
}
