package sbom

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	cdx "github.com/CycloneDX/cyclonedx-go"
	"github.com/google/go-cmp/cmp"

	"github.com/kensa-dev/kensa/internal/finding"
	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/report"
	"github.com/kensa-dev/kensa/internal/report/reporttest"
)

// prop returns the values of the properties called name.
func prop(ps *[]cdx.Property, name string) []string {
	if ps == nil {
		return nil
	}
	var out []string
	for _, p := range *ps {
		if p.Name == name {
			out = append(out, p.Value)
		}
	}
	return out
}

func prop1(ps *[]cdx.Property, name string) string {
	if v := prop(ps, name); len(v) > 0 {
		return v[0]
	}
	return ""
}

// componentKey is every field of an inventory component, as the report
// has it or as it is read back from a BOM or an SPDX package.
func componentKey(c report.Component) string {
	return fmt.Sprintf("%q", []string{c.Type, c.Manager, c.Ecosystem, c.Name, c.Version, c.Arch, c.PURL,
		c.SourceName, c.SourceVersion, c.Kind, c.Location, c.OwnedBy})
}

// fromCycloneDX reads an inventory component back from a BOM component.
func fromCycloneDX(c cdx.Component) report.Component {
	purl := c.PackageURL
	if purl == "" {
		purl = prop1(c.Properties, "kensa:purl")
	}
	return report.Component{
		Type: prop1(c.Properties, "kensa:type"), Manager: prop1(c.Properties, "kensa:manager"),
		Ecosystem: prop1(c.Properties, "kensa:ecosystem"), Name: c.Name, Version: c.Version,
		Arch: prop1(c.Properties, "kensa:arch"), PURL: purl,
		SourceName: prop1(c.Properties, "kensa:source_name"), SourceVersion: prop1(c.Properties, "kensa:source_version"),
		Kind: prop1(c.Properties, "kensa:kind"), Location: prop1(c.Properties, "kensa:location"),
		OwnedBy: prop1(c.Properties, "kensa:owned_by"),
	}
}

// tricky is an inventory with what bom-refs and SPDXIDs must survive: the
// same Go module in two binaries (one purl), two identical entries, a
// component without a purl, one whose purl does not parse, one whose name
// is outside SPDX's alphabet and a multi-arch pair.
func tricky() *report.Report {
	r := reporttest.CVE()
	sw := func(name, version, purl, location string) report.Component {
		return report.Component{Type: report.ComponentSoftware, Ecosystem: "Go", Name: name, Version: version, PURL: purl, Kind: "go-module", Location: location}
	}
	r.Inventory.Components = append(r.Inventory.Components,
		sw("golang.org/x/net", "v0.19.0", "pkg:golang/golang.org/x/net@v0.19.0", "/usr/bin/other"),
		sw("golang.org/x/net", "v0.19.0", "pkg:golang/golang.org/x/net@v0.19.0", "/usr/bin/other"),
		sw("example.com/nopurl", "v1.0.0", "", "/usr/bin/other"),
		sw("example.com/bad purl", "v1", "pkg:golang/example.com/bad purl@v1", "/usr/bin/other"),
		sw("ünïcode_mod/ü", "v2", "pkg:golang/xn--ncode/x@v2", "/usr/bin/other"),
		report.Component{Type: report.ComponentOSPackage, Manager: "dpkg", Ecosystem: "Debian:12", Name: "libssl3", Version: "3.0.11-1~deb12u2",
			Arch: "i386", PURL: "pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=i386&distro=debian-12&upstream=openssl", SourceName: "openssl"},
	)
	r.Inventory.Packages["dpkg"]++
	r.Inventory.Software["Go"] += 5
	return r
}

// Every inventory component appears exactly once, with all its fields,
// and every bom-ref in the BOM is unique.
func TestCycloneDXEveryComponentOnce(t *testing.T) {
	fixtures := append(slices.Clone(withInventory), reporttest.Fixture{Name: "tricky", Build: tricky})
	for _, fx := range fixtures {
		t.Run(fx.Name, func(t *testing.T) {
			r := fx.Build()
			doc := renderCycloneDX(t, r, true)
			if err := validateCycloneDX(t, doc); err != nil {
				t.Fatalf("invalid: %v", err)
			}
			b := decodeBOM(t, doc)
			var want, got []string
			for _, c := range r.Inventory.Components {
				want = append(want, componentKey(c))
			}
			refs := map[string]int{b.Metadata.Component.BOMRef: 1}
			for _, c := range *b.Components {
				got = append(got, componentKey(fromCycloneDX(c)))
				refs[c.BOMRef]++
			}
			for _, v := range *b.Vulnerabilities {
				refs[v.BOMRef]++
			}
			slices.Sort(want)
			slices.Sort(got)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("components (-inventory +BOM):\n%s", diff)
			}
			for ref, n := range refs {
				if n != 1 || ref == "" {
					t.Errorf("bom-ref %q used %d times", ref, n)
				}
			}
		})
	}
}

// bom-refs are the purl, disambiguated by location where two components
// share a purl, and numbered only for identical entries.
func TestCycloneDXRefs(t *testing.T) {
	b := decodeBOM(t, renderCycloneDX(t, tricky(), false))
	var got []string
	for _, c := range *b.Components {
		if strings.HasPrefix(c.Name, "golang.org/x/net") || strings.HasPrefix(c.Name, "example.com") || strings.HasPrefix(c.Name, "ü") || c.Name == "libssl3" {
			got = append(got, c.BOMRef)
		}
	}
	want := []string{
		"pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&distro=debian-12&upstream=openssl",
		"pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=i386&distro=debian-12&upstream=openssl",
		"kensa:component:Go/example.com/bad purl@v1",
		"kensa:component:Go/example.com/nopurl@v1.0.0",
		"pkg:golang/golang.org/x/net@v0.19.0#/usr/bin/other",
		"pkg:golang/golang.org/x/net@v0.19.0#/usr/bin/other#2",
		"pkg:golang/golang.org/x/net@v0.19.0#/usr/local/bin/exporter",
		"pkg:golang/xn--ncode/x@v2",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("bom-refs (-want +got):\n%s", diff)
	}
	// A purl that does not parse is not offered as one.
	for _, c := range *b.Components {
		if c.Name == "example.com/bad purl" && (c.PackageURL != "" || prop1(c.Properties, "kensa:purl") != "pkg:golang/example.com/bad purl@v1") {
			t.Errorf("bad purl: purl %q, kensa:purl %q", c.PackageURL, prop1(c.Properties, "kensa:purl"))
		}
	}
}

// Each vulnerability affects the components it was found in (all of
// them for a multi-arch package), by refs that exist; one found in no
// component affects the host and says so.
func TestCycloneDXAffects(t *testing.T) {
	r := tricky()
	// A finding whose package the inventory does not list.
	orphan := r.Findings[2]
	orphan.ID = "orphan"
	v := *orphan.Vulnerability
	v.Package, v.Location = "example.com/gone", "/usr/bin/gone"
	orphan.Vulnerability = &v
	r.Findings = append(r.Findings, orphan)

	doc := renderCycloneDX(t, r, true)
	if err := validateCycloneDX(t, doc); err != nil {
		t.Fatalf("invalid: %v", err)
	}
	b := decodeBOM(t, doc)
	comps := map[string]cdx.Component{}
	for _, c := range *b.Components {
		comps[c.BOMRef] = c
	}
	findings := map[string]*finding.Finding{}
	for i := range r.Findings {
		findings[r.Findings[i].ID] = &r.Findings[i]
	}
	if len(*b.Vulnerabilities) != countVulnerabilityFindings(r.Findings) {
		t.Fatalf("%d vulnerabilities for %d vulnerability findings", len(*b.Vulnerabilities), countVulnerabilityFindings(r.Findings))
	}
	for _, bv := range *b.Vulnerabilities {
		f := findings[prop1(bv.Properties, "kensa:finding_id")]
		if f == nil || f.Vulnerability.ID != bv.ID {
			t.Fatalf("vulnerability %s (%s) is no finding of the report", bv.ID, bv.BOMRef)
		}
		fv := f.Vulnerability
		var names []string
		for _, a := range *bv.Affects {
			if a.Ref == hostRef {
				names = append(names, "host")
				continue
			}
			c, ok := comps[a.Ref]
			if !ok {
				t.Fatalf("%s affects %q, which is no component", bv.ID, a.Ref)
			}
			if c.Name != fv.Package || c.Version != fv.InstalledVersion || prop1(c.Properties, "kensa:location") != fv.Location {
				t.Errorf("%s (%s %s) affects %s %s at %q", bv.ID, fv.Package, fv.InstalledVersion, c.Name, c.Version, prop1(c.Properties, "kensa:location"))
			}
			names = append(names, c.Name+" "+prop1(c.Properties, "kensa:arch"))
		}
		want := map[string][]string{
			"CVE-2024-2511":  {"libssl3 amd64", "libssl3 i386"},
			"GO-2024-2687":   {"stdlib "},
			"CVE-2021-44228": {"org.apache.logging.log4j:log4j-core "},
		}[bv.ID]
		if f.ID == "orphan" {
			want = []string{"host"}
			if !strings.Contains(prop1(bv.Properties, "kensa:affects:unmatched"), "Go example.com/gone 1.21.5 at /usr/bin/gone") {
				t.Errorf("orphan: kensa:affects:unmatched %q", prop1(bv.Properties, "kensa:affects:unmatched"))
			}
		} else if prop1(bv.Properties, "kensa:affects:unmatched") != "" {
			t.Errorf("%s is said unmatched", bv.ID)
		}
		if want != nil && !slices.Equal(names, want) {
			t.Errorf("%s affects %v, want %v", bv.ID, names, want)
		}
	}
}

// A suppressed vulnerability stays in the BOM as a risk acceptance with
// its reason, owner and expiry; a suppressed finding that is not a
// vulnerability is not listed.
func TestCycloneDXSuppressed(t *testing.T) {
	r := reporttest.CVE()
	var keep []finding.Finding
	for _, f := range r.Findings {
		switch {
		case f.Vulnerability != nil && f.Vulnerability.ID == "CVE-2024-2511":
			r.Suppressed = append(r.Suppressed, report.Suppressed{Finding: f, Reason: "not reachable: no TLS 1.3 server", Owner: "platform-team",
				Expires: "2025-12-31", Rule: "line 4: vulnerability CVE-2024-2511, package libssl3"})
		case f.RuleID == "kernel-reboot-required":
			r.Suppressed = append(r.Suppressed, report.Suppressed{Finding: f, Reason: "maintenance window", Owner: "ops", Rule: "line 7"})
		default:
			keep = append(keep, f)
		}
	}
	r.Findings = keep
	r.Summary = report.Summarize(r)

	doc := renderCycloneDX(t, r, true)
	if err := validateCycloneDX(t, doc); err != nil {
		t.Fatalf("invalid: %v", err)
	}
	b := decodeBOM(t, doc)
	if n := len(*b.Vulnerabilities); n != 5 {
		t.Fatalf("%d vulnerabilities, want 4 findings and 1 suppressed", n)
	}
	for i, v := range *b.Vulnerabilities {
		suppressed := v.ID == "CVE-2024-2511"
		if suppressed != (i == 4) {
			t.Errorf("vulnerability %d is %s: suppressed ones come after the findings", i, v.ID)
		}
		if !suppressed {
			if v.Analysis != nil || prop1(v.Properties, "kensa:suppressed") != "" {
				t.Errorf("%s: analysis %+v on a finding that is not suppressed", v.ID, v.Analysis)
			}
			continue
		}
		a := v.Analysis
		if a == nil || a.State != cdx.IASExploitable || a.Justification != "" || a.Response == nil || !slices.Equal(*a.Response, []cdx.ImpactAnalysisResponse{cdx.IARWillNotFix}) {
			t.Fatalf("analysis %+v, want exploitable, will_not_fix, no justification", a)
		}
		for _, w := range []string{"not reachable: no TLS 1.3 server", "platform-team", "2025-12-31", "line 4: vulnerability CVE-2024-2511"} {
			if !strings.Contains(a.Detail, w) {
				t.Errorf("analysis detail %q lacks %q", a.Detail, w)
			}
		}
		if prop1(v.Properties, "kensa:suppressed") != "true" || prop1(v.Properties, "kensa:suppression:owner") != "platform-team" ||
			prop1(v.Properties, "kensa:suppression:expires") != "2025-12-31" {
			t.Errorf("suppression properties %+v", *v.Properties)
		}
	}
	if got := prop1(b.Metadata.Properties, "kensa:summary:suppressed"); got != "2" {
		t.Errorf("kensa:summary:suppressed %q, want 2", got)
	}
}

// Whether the vulnerability list is complete is said by a composition:
// "complete" only where everything was looked at, so that an empty list
// never reads as clean for a host with gaps.
func TestCycloneDXVulnerabilityCompleteness(t *testing.T) {
	complete := func() *report.Report {
		r := reporttest.CVE()
		r.Findings = nil
		r.Results = nil
		r.Coverage = []report.Coverage{
			{Package: "cve", Scope: "*", Status: report.Evaluated},
			{Package: "cve", Scope: "Debian:12", Status: report.Evaluated},
		}
		r.Summary = report.Summarize(r)
		return r
	}
	tests := []struct {
		name    string
		edit    func(r *report.Report)
		reasons []string // kensa:vulnerabilities:incomplete, in part; none for complete
	}{
		{"everything evaluated", func(*report.Report) {}, nil},
		{"stale feed", func(r *report.Report) { r.Feeds[1].Stale, r.Feeds[1].AgeHours = true, 200 },
			[]string{"feed osv/Debian is stale (200 hours old)"}},
		{"unfixed left out", func(r *report.Report) { r.IgnoredUnfixed = 3 }, []string{"3 vulnerabilities without a released fix were left out"}},
		{"scope not evaluated", func(r *report.Report) {
			r.Coverage = append(r.Coverage, report.Coverage{Package: "cve", Scope: "npm", Status: report.NotEvaluated, Reason: "no feed"})
		}, []string{"cve scope npm not_evaluated: no feed"}},
		{"rule in error", func(r *report.Report) {
			r.Results = []finding.Result{{RulesPackage: "cve", RuleID: "DSA-1", Target: "x", Status: finding.StatusError, Reason: "bad version"}}
		}, []string{"cve rule DSA-1 on x could not be evaluated: bad version"}},
		{"cve not run", func(r *report.Report) {
			r.Coverage = []report.Coverage{{Package: "cis", Scope: "*", Status: report.Evaluated}}
		}, []string{"the cve rules package did not run"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := complete()
			tt.edit(r)
			r.Summary = report.Summarize(r)
			doc := renderCycloneDX(t, r, true)
			if err := validateCycloneDX(t, doc); err != nil {
				t.Fatalf("invalid: %v", err)
			}
			b := decodeBOM(t, doc)
			comps := *b.Compositions
			if len(comps) != 2 || comps[1].Vulnerabilities == nil || len(*comps[1].Vulnerabilities) != 0 {
				t.Fatalf("compositions %+v, want the inventory's and an empty vulnerabilities one", comps)
			}
			got := prop(b.Metadata.Properties, "kensa:vulnerabilities:incomplete")
			want := cdx.CompositionAggregateComplete
			if tt.reasons != nil {
				want = cdx.CompositionAggregateIncomplete
			}
			if comps[1].Aggregate != want {
				t.Errorf("aggregate %s, want %s", comps[1].Aggregate, want)
			}
			if len(got) != len(tt.reasons) {
				t.Fatalf("reasons %q, want %q", got, tt.reasons)
			}
			for i := range got {
				if !strings.Contains(got[i], tt.reasons[i]) {
					t.Errorf("reason %q lacks %q", got[i], tt.reasons[i])
				}
			}
		})
	}
	// The shared CVE fixture has a scope not evaluated and a rule in
	// error; a BOM without vulnerabilities says nothing about them.
	b := decodeBOM(t, renderCycloneDX(t, reporttest.CVE(), true))
	if got := prop(b.Metadata.Properties, "kensa:vulnerabilities:incomplete"); len(got) != 3 || (*b.Compositions)[1].Aggregate != cdx.CompositionAggregateIncomplete {
		t.Errorf("cve fixture: %q", got)
	}
	plain := decodeBOM(t, renderCycloneDX(t, reporttest.CVE(), false))
	if plain.Vulnerabilities != nil || len(*plain.Compositions) != 1 || prop(plain.Metadata.Properties, "kensa:summary:complete") != nil {
		t.Errorf("a BOM without vulnerabilities has vulnerabilities %v, compositions %+v", plain.Vulnerabilities, *plain.Compositions)
	}
}

// The inventory's composition is "incomplete" when a collector failed or
// a discovery limit was hit, with the reason; "unknown" otherwise, never
// "complete".
func TestCycloneDXInventoryCompleteness(t *testing.T) {
	r := reporttest.CVE()
	b := decodeBOM(t, renderCycloneDX(t, r, false))
	if a := (*b.Compositions)[0].Aggregate; a != cdx.CompositionAggregateUnknown {
		t.Errorf("aggregate %s, want unknown", a)
	}
	r.Collectors = []host.CollectorRun{{Name: "dpkg", Status: host.StatusOK}, {Name: "software", Status: host.StatusPartial, Reason: "unreadable files", ErrorCount: 3}}
	r.Discovery = &host.Discovery{Roots: []string{"/"}, LimitsHit: []host.LimitHit{{Limit: "max-files", Path: "/opt", Value: 200000}}}
	b = decodeBOM(t, renderCycloneDX(t, r, false))
	if a := (*b.Compositions)[0].Aggregate; a != cdx.CompositionAggregateIncomplete {
		t.Errorf("aggregate %s, want incomplete", a)
	}
	want := []string{"collector software partial: unreadable files (3 errors)", "discovery limit max-files reached (200000) at /opt"}
	if got := prop(b.Metadata.Properties, "kensa:inventory:incomplete"); !slices.Equal(got, want) {
		t.Errorf("kensa:inventory:incomplete %q, want %q", got, want)
	}
}

// The BOM is about the scan: its time, its tool, its host as an operating
// system with the host's identity in properties.
func TestCycloneDXMetadata(t *testing.T) {
	r := reporttest.CVE()
	b := decodeBOM(t, renderCycloneDX(t, r, false))
	m := b.Metadata
	if m.Timestamp != "2025-04-02T08:30:07.25Z" || b.SpecVersion != cdx.SpecVersion1_6 || b.Version != 1 ||
		b.JSONSchema != "http://cyclonedx.org/schema/bom-1.6.schema.json" {
		t.Errorf("timestamp %s, spec %s, version %d, schema %s", m.Timestamp, b.SpecVersion, b.Version, b.JSONSchema)
	}
	tools := *m.Tools.Components
	if len(tools) != 1 || tools[0].Name != "kensa" || tools[0].Version != "0.4.0" || prop1(tools[0].Properties, "kensa:commit") != "9c1d2e3" {
		t.Errorf("tools %+v", tools)
	}
	h := m.Component
	if h.Type != cdx.ComponentTypeOS || h.Name != "debian" || h.Version != "12" || h.BOMRef != hostRef ||
		prop1(h.Properties, "kensa:host:hostname") != "db-02" || prop1(h.Properties, "kensa:host:machine_id") != reporttest.MachineID {
		t.Errorf("host component %+v", h)
	}
}

func TestRatings(t *testing.T) {
	tests := []struct {
		vector string
		method cdx.ScoringMethod
	}{
		{"", ""},
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", cdx.ScoringMethodCVSSv31},
		{"CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", cdx.ScoringMethodCVSSv3},
		{"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", cdx.ScoringMethodCVSSv4},
		{"AV:N/AC:L/Au:N/C:P/I:P/A:P", cdx.ScoringMethodCVSSv2},
		{"debian-urgency: high", cdx.ScoringMethodOther},
	}
	for _, tt := range tests {
		if got := scoringMethod(tt.vector); got != tt.method {
			t.Errorf("scoringMethod(%q) = %q, want %q", tt.vector, got, tt.method)
		}
	}
	for sev, want := range map[finding.Severity]cdx.Severity{
		finding.High: cdx.SeverityHigh, finding.Medium: cdx.SeverityMedium, finding.Low: cdx.SeverityLow,
		finding.Informational: cdx.SeverityInfo, finding.Unrated: cdx.SeverityUnknown, "bogus": cdx.SeverityUnknown,
	} {
		if got := severity(sev); got != want {
			t.Errorf("severity(%s) = %s, want %s", sev, got, want)
		}
	}
	// The unrated Go advisory: severity unknown, no score, no method; its
	// reference that is not a URL is a property, not an advisory.
	b := decodeBOM(t, renderCycloneDX(t, reporttest.CVE(), true))
	for _, v := range *b.Vulnerabilities {
		if v.ID != "GO-2024-2687" {
			continue
		}
		rt := (*v.Ratings)[0]
		if rt.Severity != cdx.SeverityUnknown || rt.Score != nil || rt.Method != "" || !strings.HasPrefix(rt.Justification, "none") {
			t.Errorf("rating %+v", rt)
		}
		if len(*v.Advisories) != 1 || (*v.Advisories)[0].URL != "https://pkg.go.dev/vuln/GO-2024-2687" || prop1(v.Properties, "kensa:reference") != "not a url" {
			t.Errorf("advisories %+v, kensa:reference %q", *v.Advisories, prop1(v.Properties, "kensa:reference"))
		}
		refs, _ := json.Marshal(v.References)
		if !bytes.Contains(refs, []byte(`{"id":"CVE-2023-45288","source":{"name":"NVD","url":"https://nvd.nist.gov/vuln/detail/CVE-2023-45288"}}`)) {
			t.Errorf("references %s", refs)
		}
	}
}

// refSet numbers taken references from 2, skipping numbers another
// reference already holds, and goes on where it stopped.
func TestRefSet(t *testing.T) {
	s := newRefSet(0)
	var got []string
	for _, ref := range []string{"a", "a#3", "a", "a", "a", "b", "a#2"} {
		got = append(got, s.unique(ref))
	}
	want := []string{"a", "a#3", "a#2", "a#4", "a#5", "b", "a#2#2"}
	if !slices.Equal(got, want) {
		t.Errorf("refs %v, want %v", got, want)
	}
}
