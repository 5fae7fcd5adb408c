package debian_test

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/kensa-dev/kensa/internal/advisory"
	"github.com/kensa-dev/kensa/internal/feed/debian"
	"github.com/kensa-dev/kensa/internal/testfixture"
)

// trackerZip returns a file of the tracker snapshot (2023-04-02).
func trackerZip(t *testing.T, name string) []byte {
	t.Helper()
	path := testfixture.Shared(t, "vulndata", "native", "debian", "debian-security-tracker-dsa-dla-2023-04-02.zip")
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	f, err := zr.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func parseList(t *testing.T, b []byte, kind string) (map[string]*advisory.Advisory, []string, debian.Stats) {
	t.Helper()
	byID := map[string]*advisory.Advisory{}
	var order []string
	feed, st, err := debian.ParseListStats(bytes.NewReader(b), kind, func(a *advisory.Advisory) error {
		if byID[a.ID] != nil {
			t.Errorf("%s emitted twice", a.ID)
		}
		byID[a.ID] = a
		order = append(order, a.ID)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := (advisory.Feed{Name: "debian/" + kind, Format: "debian-list"}); feed != want {
		t.Errorf("feed %+v, want %+v", feed, want)
	}
	return byID, order, st
}

func fixed(v string) []advisory.Range {
	return []advisory.Range{{Type: advisory.RangeEcosystem, Events: []advisory.Event{{Introduced: "0"}, {Fixed: v}}}}
}

func day(s string) time.Time {
	d, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic(err)
	}
	return d
}

// TestRealLists reads the tracker's DSA and DLA lists as of 2023-04-02.
// Expected counts were computed independently with python3: headers are
// the lines starting with "[" (grep -c '^\[' gives 5,406 and 3,534);
// Affected entries are the indented "[release] - " lines whose codename is
// in the release table and whose third field is a <status> or starts with
// a digit (6,987 and 3,535, after the one DSA-423 line that names a
// package where its version belongs); aliases are the distinct ids within
// each "{…}" line, summed (18,128 and 11,002).
func TestRealLists(t *testing.T) {
	tests := []struct {
		file, kind                    string
		advisories, affected, aliases int
		skipped                       map[string]int
	}{
		{"data/DSA/list", "DSA", 5406, 6987, 18128, map[string]int{"invalid version": 1}},
		{"data/DLA/list", "DLA", 3534, 3535, 11002, nil},
	}
	for _, tc := range tests {
		t.Run(tc.kind, func(t *testing.T) {
			byID, order, st := parseList(t, trackerZip(t, tc.file), tc.kind)
			if len(byID) != tc.advisories || st.Advisories != tc.advisories {
				t.Errorf("%d advisories (stats %d), want %d", len(byID), st.Advisories, tc.advisories)
			}
			affected, aliases := 0, 0
			for _, a := range byID {
				affected += len(a.Affected)
				aliases += len(a.Aliases)
				if a.Kind != advisory.KindSecurity || a.Published.IsZero() || a.Summary == "" {
					t.Errorf("%s: kind %q, published %v, summary %q", a.ID, a.Kind, a.Published, a.Summary)
				}
				for _, af := range a.Affected {
					if af.Package == "" || !strings.HasPrefix(af.Ecosystem, "Debian:") {
						t.Errorf("%s: bad affected %+v", a.ID, af)
					}
				}
			}
			if affected != tc.affected || st.Affected != tc.affected {
				t.Errorf("%d affected (stats %d), want %d", affected, st.Affected, tc.affected)
			}
			if aliases != tc.aliases {
				t.Errorf("%d aliases, want %d", aliases, tc.aliases)
			}
			if d := cmp.Diff(tc.skipped, st.Skipped); d != "" {
				t.Errorf("skipped (-want +got):\n%s", d)
			}
			if order[0] != map[string]string{"DSA": "DSA-5380-1", "DLA": "DLA-3380-1"}[tc.kind] {
				t.Errorf("first advisory %s: file order not kept", order[0])
			}
		})
	}
}

func TestRealDSARecords(t *testing.T) {
	byID, _, _ := parseList(t, trackerZip(t, "data/DSA/list"), "DSA")
	want := map[string]*advisory.Advisory{
		// Two releases, listed newest first in the file; oldest first here.
		"DSA-3280-1": {
			ID: "DSA-3280-1", Kind: advisory.KindSecurity, Published: day("2015-06-07"),
			Summary: "php5 - security update",
			Aliases: []string{"CVE-2015-2783", "CVE-2015-3307", "CVE-2015-3329", "CVE-2015-4021",
				"CVE-2015-4022", "CVE-2015-4024", "CVE-2015-4025", "CVE-2015-4026"},
			References: []string{"https://security-tracker.debian.org/tracker/DSA-3280-1"},
			Affected: []advisory.Affected{
				{Ecosystem: "Debian:7", Package: "php5", Status: advisory.StatusAffected, Ranges: fixed("5.4.41-0+deb7u1")},
				{Ecosystem: "Debian:8", Package: "php5", Status: advisory.StatusAffected, Ranges: fixed("5.6.9+dfsg-0+deb8u1")},
			},
		},
		// A <not-affected> line with its reason.
		"DSA-2275-1": {
			ID: "DSA-2275-1", Kind: advisory.KindSecurity, Published: day("2011-07-07"),
			Summary:    "openoffice.org - buffer overflow",
			Aliases:    []string{"CVE-2011-2685"},
			References: []string{"https://security-tracker.debian.org/tracker/DSA-2275-1"},
			Affected: []advisory.Affected{
				{Ecosystem: "Debian:5", Package: "openoffice.org", Status: advisory.StatusNotAffected,
					VendorStatus: "not-affected: Vulnerable code not present"},
				{Ecosystem: "Debian:6", Package: "openoffice.org", Status: advisory.StatusAffected, Ranges: fixed("1:3.2.1-11+squeeze3")},
			},
		},
		// <unfixed> with an urgency; NOTE lines become Details.
		"DSA-746-1": {
			ID: "DSA-746-1", Kind: advisory.KindSecurity, Published: day("2005-07-14"),
			Summary:    "phpgroupware - remote command execution",
			Aliases:    []string{"CVE-2005-1921"},
			Details:    "fixed in testing at time of DSA",
			References: []string{"https://security-tracker.debian.org/tracker/DSA-746-1"},
			Affected: []advisory.Affected{
				{Ecosystem: "Debian:3.0", Package: "phpgroupware", Status: advisory.StatusUnfixed, VendorStatus: "unfixed",
					Severities: []advisory.Severity{{Source: "vendor", Type: "debian-urgency", Value: "high"}}},
				{Ecosystem: "Debian:3.1", Package: "phpgroupware", Status: advisory.StatusAffected, Ranges: fixed("0.9.16.005-3.sarge0"),
					Severities: []advisory.Severity{{Source: "vendor", Type: "debian-urgency", Value: "high"}}},
			},
		},
		// No revision, "--" separator.
		"DSA-135": {
			ID: "DSA-135", Kind: advisory.KindSecurity, Published: day("2002-07-02"),
			Summary:    "libapache-mod-ssl - buffer overflow / DoS",
			Aliases:    []string{"CVE-2002-0653"},
			References: []string{"https://security-tracker.debian.org/tracker/DSA-135"},
			Affected: []advisory.Affected{
				{Ecosystem: "Debian:3.0", Package: "libapache-mod-ssl", Status: advisory.StatusAffected, Ranges: fixed("2.8.9-2")},
			},
		},
		// A notice with neither CVEs nor packages.
		"DSA-3281-1": {
			ID: "DSA-3281-1", Kind: advisory.KindSecurity, Published: day("2015-06-07"),
			Summary:    "Debian Security Team PGP/GPG key change notice",
			References: []string{"https://security-tracker.debian.org/tracker/DSA-3281-1"},
			Affected:   []advisory.Affected{},
		},
		// The version field names a package: skipped, counted.
		"DSA-423": {
			ID: "DSA-423", Kind: advisory.KindSecurity, Published: day("2004-01-15"),
			Summary: "linux-kernel-2.4.17-ia64 - several vulnerabilities",
			Aliases: []string{"CVE-2003-0001", "CVE-2003-0018", "CVE-2003-0127", "CVE-2003-0461", "CVE-2003-0462",
				"CVE-2003-0476", "CVE-2003-0501", "CVE-2003-0550", "CVE-2003-0551", "CVE-2003-0552", "CVE-2003-0961", "CVE-2003-0985"},
			References: []string{"https://security-tracker.debian.org/tracker/DSA-423"},
			Affected:   []advisory.Affected{},
		},
	}
	for id, w := range want {
		if d := cmp.Diff(w, byID[id]); d != "" {
			t.Errorf("%s (-want +got):\n%s", id, d)
		}
	}
	// Space-indented lines, <unfixed> without a note, bug references.
	a := byID["DSA-866-1"]
	if a == nil || len(a.Affected) != 2 || a.Affected[0].Status != advisory.StatusUnfixed || a.Affected[0].Ecosystem != "Debian:3.0" {
		t.Errorf("DSA-866-1: %+v", a)
	}
	if a := byID["DSA-1503-1"]; a == nil || len(a.Affected) != 20 {
		t.Errorf("DSA-1503-1 has 20 sarge packages: %+v", a)
	}
	if a := byID["DSA-1260"]; a == nil || a.Summary != "imagemagick" {
		t.Errorf("DSA-1260 (no title): %+v", a)
	}
}

func TestRealDLARecords(t *testing.T) {
	byID, _, _ := parseList(t, trackerZip(t, "data/DLA/list"), "DLA")
	want := map[string]*advisory.Advisory{
		"DLA-3380-1": {
			ID: "DLA-3380-1", Kind: advisory.KindSecurity, Published: day("2023-04-01"),
			Summary: "firmware-nonfree - security update",
			Aliases: []string{"CVE-2020-12362", "CVE-2020-12363", "CVE-2020-12364", "CVE-2020-24586", "CVE-2020-24587",
				"CVE-2020-24588", "CVE-2021-23168", "CVE-2021-23223", "CVE-2021-37409", "CVE-2021-44545", "CVE-2022-21181"},
			References: []string{"https://security-tracker.debian.org/tracker/DLA-3380-1"},
			Affected: []advisory.Affected{
				{Ecosystem: "Debian:10", Package: "firmware-nonfree", Status: advisory.StatusAffected, Ranges: fixed("20190114+really20220913-0+deb10u1")},
			},
		},
		// Two source packages, no CVE.
		"DLA-436-1": {
			ID: "DLA-436-1", Kind: advisory.KindSecurity, Published: day("2016-02-28"),
			Summary:    "ia32-libs - security update",
			References: []string{"https://security-tracker.debian.org/tracker/DLA-436-1"},
			Affected: []advisory.Affected{
				{Ecosystem: "Debian:6", Package: "ia32-libs", Status: advisory.StatusAffected, Ranges: fixed("20160228")},
				{Ecosystem: "Debian:6", Package: "ia32-libs-gtk", Status: advisory.StatusAffected, Ranges: fixed("20160228")},
			},
		},
		// <end-of-life>: will not be fixed.
		"DLA-3067-1": {
			ID: "DLA-3067-1", Kind: advisory.KindSecurity, Published: day("2022-07-01"),
			Summary:    "stretch-lts - end-of-life",
			Details:    "end of security support for stretch-lts",
			References: []string{"https://security-tracker.debian.org/tracker/DLA-3067-1"},
			Affected:   []advisory.Affected{},
		},
	}
	for id, w := range want {
		if d := cmp.Diff(w, byID[id]); d != "" {
			t.Errorf("%s (-want +got):\n%s", id, d)
		}
	}
	var eol *advisory.Affected
	for _, a := range byID {
		for i, af := range a.Affected {
			if af.VendorStatus == "end-of-life" {
				eol = &a.Affected[i]
			}
		}
	}
	if eol == nil || eol.Package != "virtualbox-ose" || eol.Status != advisory.StatusWillNotFix || eol.Ecosystem != "Debian:6" {
		t.Errorf("the one <end-of-life> DLA line: %+v", eol)
	}
}

func TestListForms(t *testing.T) {
	in := "[01 Apr 2023] DSA-9999-1 foo - security update\n" +
		"\t{CVE-2023-0001 CVE-2023-0001 nonsense CVE-2022-9999}\n" +
		"\t[bookworm] - foo 1.2-3 (bug #12345; low*)\n" +
		"\t[sid] - foo 1.2-4\n" +
		"\t[duke] - foo 1.2-5\n" +
		"\t[trixie] - foo <removed>\n" +
		"  \t[bullseye] - foo <ignored> (Minor issue; medium)\r\n" +
		"\t[buster] - foo <postponed>\n" +
		"\n" +
		"[1 Apr 2023] DSA-9998 bar\n"
	byID, order, st := parseList(t, []byte(in), "DSA")
	if d := cmp.Diff([]string{"DSA-9999-1", "DSA-9998"}, order); d != "" {
		t.Error(d)
	}
	want := &advisory.Advisory{
		ID: "DSA-9999-1", Kind: advisory.KindSecurity, Published: day("2023-04-01"),
		Summary: "foo - security update",
		Aliases: []string{"CVE-2022-9999", "CVE-2023-0001"},
		References: []string{"https://security-tracker.debian.org/tracker/DSA-9999-1",
			"https://bugs.debian.org/12345"},
		Affected: []advisory.Affected{
			{Ecosystem: "Debian:10", Package: "foo", Status: advisory.StatusUnfixed, VendorStatus: "postponed"},
			{Ecosystem: "Debian:11", Package: "foo", Status: advisory.StatusWillNotFix, VendorStatus: "ignored: Minor issue",
				Severities: []advisory.Severity{{Source: "vendor", Type: "debian-urgency", Value: "medium"}}},
			{Ecosystem: "Debian:12", Package: "foo", Status: advisory.StatusAffected, Ranges: fixed("1.2-3"),
				Severities: []advisory.Severity{{Source: "vendor", Type: "debian-urgency", Value: "low*"}}},
		},
	}
	if d := cmp.Diff(want, byID["DSA-9999-1"]); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	wantSkipped := map[string]int{"release sid": 1, "unknown release duke": 1, "unknown status removed": 1, "malformed id": 1}
	if d := cmp.Diff(wantSkipped, st.Skipped); d != "" {
		t.Errorf("skipped (-want +got):\n%s", d)
	}
}

func TestListErrors(t *testing.T) {
	tests := []struct{ name, in, kind, want string }{
		{"empty", "", "DSA", "no announcement header"},
		{"blank", "\n\n", "DSA", "no announcement header"},
		{"garbage", "\x00\x01\x02garbage", "DSA", "line 1: unindented line"},
		{"binary header", "[\xff\xfe\x00", "DSA", "line 1: not an announcement header"},
		{"wrong kind", "[01 Apr 2023] DLA-1-1 foo - x\n", "DSA", "line 1: DLA id in a DSA list"},
		{"bad kind", "[01 Apr 2023] DSA-1-1 foo - x\n", "DTSA", `list kind "DTSA"`},
		{"bad date", "[31 Feb 2023] DSA-1-1 foo - x\n", "DSA", `line 1: bad date "31 Feb 2023"`},
		{"repeated", "[01 Apr 2023] DSA-1-1 foo\n[01 Apr 2023] DSA-1-1 foo\n", "DSA", "line 2: DSA-1-1 repeated"},
		{"orphan", "\t[bookworm] - foo 1.0\n", "DSA", "line 1: continuation line before the first header"},
		{"truncated ids", "[01 Apr 2023] DSA-1-1 foo\n\t{CVE-2023-0001 CVE-20", "DSA", "line 2: unterminated id list"},
		{"truncated release", "[01 Apr 2023] DSA-1-1 foo\n\t[bookworm] - fo", "DSA", "line 2: not a release line"},
		{"unknown", "[01 Apr 2023] DSA-1-1 foo\n\tXYZ: hello\n", "DSA", `line 2: unknown line "XYZ: hello"`},
		{"overlong", "[01 Apr 2023] DSA-1-1 foo\n\tNOTE: " + strings.Repeat("x", 2<<20) + "\n", "DSA", "line 2: longer than"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := debian.ParseList(strings.NewReader(tc.in), tc.kind, func(*advisory.Advisory) error { return nil })
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "debian: ") {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
	// An emit error stops the parse and comes back unchanged.
	stop := errors.New("stop")
	_, err := debian.ParseList(strings.NewReader("[01 Apr 2023] DSA-1-1 a\n[01 Apr 2023] DSA-2-1 b\n"), "DSA",
		func(*advisory.Advisory) error { return stop })
	if err != stop {
		t.Errorf("emit error: %v", err)
	}
}

func TestDetectList(t *testing.T) {
	dsa := trackerZip(t, "data/DSA/list")
	dla := trackerZip(t, "data/DLA/list")
	for _, tc := range []struct {
		head []byte
		kind string
		ok   bool
	}{
		{dsa[:512], "DSA", true},
		{dla[:512], "DLA", true},
		{[]byte("\n[02 Jul 2002] DSA-135 libapache-mod-ssl -- buffer overflow"), "DSA", true},
		{[]byte("[01 Apr 2023] DTSA-1-1 foo\n"), "", false},
		{[]byte("CVE-2023-0001 (foo)\n\t- bar 1.0\n"), "", false},
		{[]byte(`{"openssl": {}}`), "", false},
		{nil, "", false},
	} {
		kind, ok := debian.DetectList("list", tc.head)
		if kind != tc.kind || ok != tc.ok {
			t.Errorf("DetectList(%.30q) = %q, %v; want %q, %v", tc.head, kind, ok, tc.kind, tc.ok)
		}
	}
}

// FuzzParseList: any input ends in an error or in advisories that hold
// the model's invariants; never a panic.
func FuzzParseList(f *testing.F) {
	f.Add([]byte("[29 Mar 2023] DSA-5380-1 xorg-server - security update\n\t{CVE-2023-1393}\n\t[bullseye] - xorg-server 2:1.20.11-1+deb11u6\n"))
	f.Add([]byte("[20 Oct 2005] DSA-866-1 mozilla - several\n\t{CVE-2005-2871 CVE-2005-2701}\n        [woody] - mozilla <unfixed>\n        [sarge] - mozilla 1:1.7.8-1sarge3\n\tNOTE: not fixed in testing at time of DSA (missing hppa, RC bugs)\n"))
	f.Add([]byte("[14 Jul 2005] DSA-746-1 phpgroupware - remote command execution\n\t{CVE-2005-1921}\n\t[woody] - phpgroupware <unfixed> (high)\n\t[sarge] - phpgroupware 0.9.16.005-3.sarge0 (bug #332591; bug #334833; medium)\n"))
	f.Add([]byte("[07 Jul 2011] DSA-2275-1 openoffice.org - buffer overflow\n\t{CVE-2011-2685}\n\t[squeeze] - openoffice.org 1:3.2.1-11+squeeze3\n\t[lenny] - openoffice.org <not-affected> (Vulnerable code not present)\n[02 Jul 2002] DSA-135 libapache-mod-ssl -- buffer overflow / DoS\n"))
	f.Add([]byte("[28 Feb 2016] DLA-436-1 ia32-libs - security update\n\t[squeeze] - ia32-libs 20160228\n \t[squeeze] - tzdata 2015b-0squeeze1 \n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, kind := range []string{"DSA", "DLA"} {
			_, st, err := debian.ParseListStats(bytes.NewReader(b), kind, func(a *advisory.Advisory) error {
				checkAdvisory(t, a)
				return nil
			})
			if err != nil && !strings.HasPrefix(err.Error(), "debian: ") {
				t.Fatalf("error without context: %v", err)
			}
			if err == nil && st.Advisories == 0 {
				t.Fatal("no error and no advisory")
			}
		}
	})
}

// checkAdvisory asserts the invariants every emitted advisory holds.
func checkAdvisory(t *testing.T, a *advisory.Advisory) {
	t.Helper()
	if a.ID == "" || a.Kind != advisory.KindSecurity || a.Affected == nil {
		t.Fatalf("bad advisory %+v", a)
	}
	for _, af := range a.Affected {
		if af.Package == "" || !strings.HasPrefix(af.Ecosystem, "Debian:") {
			t.Fatalf("%s: bad affected %+v", a.ID, af)
		}
		switch af.Status {
		case advisory.StatusAffected:
			if len(af.Ranges) != 1 || len(af.Ranges[0].Events) != 2 || af.Ranges[0].Events[1].Fixed == "" {
				t.Fatalf("%s: affected without a fix %+v", a.ID, af)
			}
		case advisory.StatusUnfixed, advisory.StatusWillNotFix, advisory.StatusNotAffected:
			if af.Ranges != nil {
				t.Fatalf("%s: status %s with ranges", a.ID, af.Status)
			}
		default:
			t.Fatalf("%s: status %q", a.ID, af.Status)
		}
	}
}
