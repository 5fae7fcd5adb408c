package debian_test

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/kensa-dev/kensa/internal/advisory"
	"github.com/kensa-dev/kensa/internal/feed/debian"
)

func parseTracker(t *testing.T, b []byte) ([]*advisory.Advisory, debian.Stats) {
	t.Helper()
	var out []*advisory.Advisory
	feed, st, err := debian.ParseTrackerStats(bytes.NewReader(b), func(a *advisory.Advisory) error {
		out = append(out, a)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := (advisory.Feed{Name: "debian-tracker", Format: "debian-tracker"}); feed != want {
		t.Errorf("feed %+v, want %+v", feed, want)
	}
	return out, st
}

func urgency(u string) []advisory.Severity {
	return []advisory.Severity{{Source: advisory.SourceVendor, Type: "debian-urgency", Value: u}}
}

// TestTrackerFixture reads testdata/tracker.json, hand-made in the format
// of https://security-tracker.debian.org/tracker/data/json (no copy of the
// real file is available offline): every status, urgency and no-dsa
// variant, one id under two packages, a TEMP- id, sid and an unknown
// codename.
func TestTrackerFixture(t *testing.T) {
	b, err := os.ReadFile("testdata/tracker.json")
	if err != nil {
		t.Fatal(err)
	}
	got, st := parseTracker(t, b)
	ref := func(id string, more ...string) []string {
		return append([]string{"https://security-tracker.debian.org/tracker/" + id}, more...)
	}
	want := []*advisory.Advisory{
		{
			ID: "CVE-2010-5298", Kind: advisory.KindSecurity,
			Summary:    "Race condition in the ssl3_read_bytes function in s3_pkt.c in OpenSSL through 1.0.1g, when SSL_MODE_RELEASE_BUFFERS is enabled, allows remote attackers to inject data across sessions or cause a denial of service (use-after-free and parsing error) via an SSL connection in a multithreaded environment.",
			References: ref("CVE-2010-5298", "https://bugs.debian.org/745801"),
			Affected: []advisory.Affected{
				{Ecosystem: "Debian:11", Package: "openssl", Status: advisory.StatusNotAffected, VendorStatus: "resolved (fixed_version 0)", Severities: urgency("unimportant")},
				{Ecosystem: "Debian:12", Package: "openssl", Status: advisory.StatusNotAffected, VendorStatus: "resolved (fixed_version 0)", Severities: urgency("unimportant")},
				{Ecosystem: "Debian:13", Package: "openssl", Status: advisory.StatusNotAffected, VendorStatus: "resolved (fixed_version 0)", Severities: urgency("unimportant")},
			},
		},
		{
			ID: "CVE-2023-0286", Kind: advisory.KindSecurity,
			Summary:    "There is a type confusion vulnerability relating to X.400 address processing inside an X.509 GeneralName.",
			References: ref("CVE-2023-0286"),
			Affected: []advisory.Affected{
				{Ecosystem: "Debian:10", Package: "openssl", Status: advisory.StatusAffected, VendorStatus: "resolved", Ranges: fixed("1.1.1n-0+deb10u4")},
				{Ecosystem: "Debian:11", Package: "openssl", Status: advisory.StatusAffected, VendorStatus: "resolved", Ranges: fixed("1.1.1n-0+deb11u4")},
				{Ecosystem: "Debian:12", Package: "openssl", Status: advisory.StatusAffected, VendorStatus: "resolved", Ranges: fixed("3.0.8-1")},
				{Ecosystem: "Debian:13", Package: "openssl", Status: advisory.StatusAffected, VendorStatus: "resolved", Ranges: fixed("3.0.8-1")},
			},
		},
		{
			// One id, two packages: one advisory, ordered by release then package.
			ID: "CVE-2023-25751", Kind: advisory.KindSecurity,
			Summary:    "Sometimes, when invalidating JIT code while following an iterator, the newly generated code could be overwritten incorrectly. This could lead to a potentially exploitable crash.",
			References: ref("CVE-2023-25751"),
			Affected: []advisory.Affected{
				{Ecosystem: "Debian:10", Package: "firefox-esr", Status: advisory.StatusAffected, VendorStatus: "resolved", Ranges: fixed("102.9.0esr-1~deb10u1")},
				{Ecosystem: "Debian:11", Package: "firefox-esr", Status: advisory.StatusAffected, VendorStatus: "resolved", Ranges: fixed("102.9.0esr-1~deb11u1")},
				{Ecosystem: "Debian:11", Package: "thunderbird", Status: advisory.StatusAffected, VendorStatus: "resolved", Ranges: fixed("1:102.9.0-1~deb11u1"), Severities: urgency("high")},
				{Ecosystem: "Debian:12", Package: "firefox-esr", Status: advisory.StatusAffected, VendorStatus: "resolved", Ranges: fixed("102.9.0esr-1")},
				{Ecosystem: "Debian:12", Package: "thunderbird", Status: advisory.StatusAffected, VendorStatus: "resolved", Ranges: fixed("1:102.9.0-1"), Severities: urgency("medium")},
				{Ecosystem: "Debian:13", Package: "firefox-esr", Status: advisory.StatusAffected, VendorStatus: "resolved", Ranges: fixed("102.9.0esr-1")},
			},
		},
		{
			ID: "CVE-2023-5678", Kind: advisory.KindSecurity,
			Summary:    "Issue summary: Generating excessively long X9.42 DH keys or checking",
			Details:    "Issue summary: Generating excessively long X9.42 DH keys or checking\nexcessively long X9.42 DH keys or parameters may be very slow.",
			References: ref("CVE-2023-5678"),
			Affected: []advisory.Affected{
				{Ecosystem: "Debian:10", Package: "openssl", Status: advisory.StatusWillNotFix, VendorStatus: "open, end-of-life"},
				{Ecosystem: "Debian:11", Package: "openssl", Status: advisory.StatusUnfixed, VendorStatus: "open, no-dsa (postponed): Minor issue", Severities: urgency("low")},
				{Ecosystem: "Debian:12", Package: "openssl", Status: advisory.StatusAffected, VendorStatus: "resolved", Ranges: fixed("3.0.13-1~deb12u1")},
				{Ecosystem: "Debian:13", Package: "openssl", Status: advisory.StatusAffected, VendorStatus: "resolved", Ranges: fixed("3.0.13-1"), Severities: urgency("low")},
			},
		},
		{
			ID: "CVE-2024-2511", Kind: advisory.KindSecurity,
			Summary:    "Issue summary: Some non-default TLS server configurations can cause unbounded memory growth when processing TLSv1.3 sessions",
			References: ref("CVE-2024-2511"),
			Affected: []advisory.Affected{
				{Ecosystem: "Debian:11", Package: "openssl", Status: advisory.StatusWillNotFix, VendorStatus: "open, no-dsa (ignored): Minor issue, will be fixed via point release", Severities: urgency("low**")},
				{Ecosystem: "Debian:12", Package: "openssl", Status: advisory.StatusUnfixed, VendorStatus: "open, no-dsa: Minor issue", Severities: urgency("low**")},
				{Ecosystem: "Debian:13", Package: "openssl", Status: advisory.StatusUnfixed, VendorStatus: "undetermined"},
			},
		},
		{
			// A vulnerability without a CVE yet keeps its tracker id.
			ID: "TEMP-0290435-0B57B5", Kind: advisory.KindSecurity,
			Summary:    "thunderbird: denial of service with crafted attachment names",
			References: ref("TEMP-0290435-0B57B5", "https://bugs.debian.org/290435"),
			Affected: []advisory.Affected{
				{Ecosystem: "Debian:12", Package: "thunderbird", Status: advisory.StatusUnfixed, VendorStatus: "open", Severities: urgency("unimportant")},
			},
		},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	wantStats := debian.Stats{Advisories: 6, Affected: 21, Skipped: map[string]int{"release sid": 7, "unknown release duke": 1}}
	if d := cmp.Diff(wantStats, st); d != "" {
		t.Errorf("stats (-want +got):\n%s", d)
	}
}

func TestTrackerTolerance(t *testing.T) {
	// Unknown fields at every level are ignored; an id of neither form,
	// an unknown status and a version that is not one are skipped and
	// counted; an empty object is a valid, empty feed.
	in := `{"foo": {"CVE-2024-0001": {"new_field": [1, {"x": null}], "description": null, "debianbug": "n/a",
		"releases": {"bookworm": {"status": "resolved", "fixed_version": "1.0-1", "extra": true},
		             "bullseye": {"status": "fixed", "fixed_version": "1.0-1"},
		             "buster": {"status": "resolved", "fixed_version": "foo-1.0"},
		             "stretch": {"status": "resolved"}}},
	  "not-an-id": {"releases": {}}}, "bar": {}}` + "\n"
	got, st := parseTracker(t, []byte(in))
	if len(got) != 1 || got[0].ID != "CVE-2024-0001" || len(got[0].Affected) != 1 || got[0].Summary != "" {
		t.Errorf("got %+v", got)
	}
	want := map[string]int{"malformed id": 1, "unknown status fixed": 1, "invalid version": 1, "resolved without fixed_version": 1}
	if d := cmp.Diff(want, st.Skipped); d != "" {
		t.Errorf("skipped (-want +got):\n%s", d)
	}
	if got, _ := parseTracker(t, []byte(" {} ")); len(got) != 0 {
		t.Errorf("empty object: %+v", got)
	}
}

func TestTrackerErrors(t *testing.T) {
	fixture, err := os.ReadFile("testdata/tracker.json")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, in, want string }{
		{"empty", "", "unexpected EOF"},
		{"array", "[]", "expected {, found ["},
		{"truncated", string(fixture[:len(fixture)/2]), "unexpected EOF"},
		{"garbage", "\x00\xff garbage", "invalid character"},
		{"wrong type", `{"foo": {"CVE-2024-0001": {"releases": {"bookworm": {"status": 3}}}}}`, `package "foo"`},
		{"not an object", `{"foo": [1, 2]}`, `package "foo"`},
		{"empty package", `{"": {}}`, "empty package name"},
		{"trailing", `{} {}`, "data after the top-level object"},
		{"unclosed", `{"foo": {}`, "unexpected EOF"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := debian.ParseTracker(strings.NewReader(tc.in), func(*advisory.Advisory) error { return nil })
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "debian: tracker: ") {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestDetectTracker(t *testing.T) {
	fixture, err := os.ReadFile("testdata/tracker.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		head []byte
		want bool
	}{
		{fixture[:1024], true},
		{[]byte("\n  " + string(fixture[:600])), true},
		{[]byte(`{"title": "CISA Catalog of Known Exploited Vulnerabilities", "catalogVersion": "2025.08.25"}`), false},
		{[]byte(`{"id": "GO-2024-2687", "affected": [{"ranges": []}]}`), false},
		{[]byte("[29 Mar 2023] DSA-5380-1 xorg-server - security update\n"), false},
		{nil, false},
	} {
		if got := debian.DetectTracker("json", tc.head); got != tc.want {
			t.Errorf("DetectTracker(%.40q) = %v, want %v", tc.head, got, tc.want)
		}
	}
}

// FuzzParseTracker: any input ends in an error or in advisories that hold
// the model's invariants; never a panic.
func FuzzParseTracker(f *testing.F) {
	if b, err := os.ReadFile("testdata/tracker.json"); err == nil {
		f.Add(b)
	}
	f.Add([]byte(`{"openssl": {"CVE-2023-5678": {"description": "x\ny", "releases": {"bullseye": {"status": "open", "urgency": "low", "nodsa": "Minor issue", "nodsa_reason": "postponed"}, "buster": {"status": "open", "urgency": "end-of-life"}}}}}`))
	f.Add([]byte(`{"a": {"TEMP-0290435-0B57B5": {"debianbug": 290435, "releases": {"sid": {"status": "undetermined"}, "duke": {}}}}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		seen := map[string]bool{}
		_, st, err := debian.ParseTrackerStats(bytes.NewReader(b), func(a *advisory.Advisory) error {
			if seen[a.ID] {
				t.Fatalf("%s emitted twice", a.ID)
			}
			seen[a.ID] = true
			checkAdvisory(t, a)
			return nil
		})
		if err != nil && !strings.HasPrefix(err.Error(), "debian: tracker: ") {
			t.Fatalf("error without context: %v", err)
		}
		if err == nil && st.Advisories != len(seen) {
			t.Fatalf("stats say %d advisories, %d emitted", st.Advisories, len(seen))
		}
	})
}
