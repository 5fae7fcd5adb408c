package sbom

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/report/reporttest"
)

// The document describes the host's operating system, which contains
// every component exactly once; each component's name, version and purl
// are there, and what Kensa does not know is NOASSERTION.
func TestSPDXEveryComponentOnce(t *testing.T) {
	fixtures := append(slices.Clone(withInventory), reporttest.Fixture{Name: "tricky", Build: tricky})
	for _, fx := range fixtures {
		t.Run(fx.Name, func(t *testing.T) {
			r := fx.Build()
			doc := renderSPDX(t, r)
			if err := validateSPDX(t, doc); err != nil {
				t.Fatalf("invalid: %v", err)
			}
			d := decodeSPDX(t, doc)
			comps := r.Inventory.Components
			if len(d.Packages) != len(comps)+1 {
				t.Fatalf("%d packages for %d components and the host", len(d.Packages), len(comps))
			}
			host := d.Packages[0]
			if host.SPDXID != "SPDXRef-OperatingSystem" || host.PrimaryPackagePurpose != "OPERATING_SYSTEM" {
				t.Errorf("first package %s (%s), want the operating system", host.SPDXID, host.PrimaryPackagePurpose)
			}
			var want, got []string
			for _, c := range comps {
				purl := validPURL(c.PURL)
				want = append(want, strings.Join([]string{c.Name, c.Version, purl}, "|"))
			}
			for _, p := range d.Packages {
				if p.DownloadLocation != "NOASSERTION" || p.LicenseConcluded != "NOASSERTION" || p.LicenseDeclared != "NOASSERTION" ||
					p.FilesAnalyzed == nil || *p.FilesAnalyzed {
					t.Errorf("%s: downloadLocation %q, licences %q/%q, filesAnalyzed %v", p.SPDXID, p.DownloadLocation,
						p.LicenseConcluded, p.LicenseDeclared, p.FilesAnalyzed)
				}
				if p.SPDXID == host.SPDXID {
					continue
				}
				purl := ""
				for _, ref := range p.ExternalRefs {
					if ref.ReferenceCategory != "PACKAGE-MANAGER" || ref.ReferenceType != "purl" {
						t.Errorf("%s: external ref %+v", p.SPDXID, ref)
					}
					purl = ref.ReferenceLocator
				}
				got = append(got, strings.Join([]string{p.Name, p.VersionInfo, purl}, "|"))
			}
			slices.Sort(want)
			slices.Sort(got)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("packages (-inventory +document):\n%s", diff)
			}

			contained := map[string]int{}
			describes := 0
			for _, rel := range d.Relationships {
				switch {
				case rel.RelationshipType == "DESCRIBES" && rel.SpdxElementID == "SPDXRef-DOCUMENT" && rel.RelatedSpdxElement == host.SPDXID:
					describes++
				case rel.RelationshipType == "CONTAINS" && rel.SpdxElementID == host.SPDXID:
					contained[rel.RelatedSpdxElement]++
				default:
					t.Errorf("unexpected relationship %+v", rel)
				}
			}
			if describes != 1 {
				t.Errorf("the document DESCRIBES the host %d times", describes)
			}
			for _, p := range d.Packages[1:] {
				if contained[p.SPDXID] != 1 {
					t.Errorf("%s is CONTAINED %d times", p.SPDXID, contained[p.SPDXID])
				}
			}
		})
	}
}

// SPDXIDs are readable, in SPDX's alphabet, and depend on the component
// alone: the same component has the same SPDXID in another scan whose
// inventory differs.
func TestSPDXIDs(t *testing.T) {
	comps := tricky().Inventory.Components
	ids := spdxIDs(comps)
	for i, c := range comps {
		if !spdxIDPattern.MatchString("SPDXRef-" + string(ids[i])) {
			t.Errorf("%q: SPDXID %q", c.Name, ids[i])
		}
	}
	// Each byte outside the alphabet is a "-": "ü" is two.
	if got := ids[len(comps)-2]; !strings.HasPrefix(string(got), "Package---n--code-mod----") {
		t.Errorf("SPDXID of a non-ASCII name: %s", got)
	}
	// The identical golang.org/x/net entries: numbered in order.
	var net []string
	for i, c := range comps {
		if c.Name == "golang.org/x/net" && c.Location == "/usr/bin/other" {
			net = append(net, string(ids[i]))
		}
	}
	if len(net) != 2 || net[1] != net[0]+"-2" {
		t.Errorf("identical components: %v", net)
	}
	// Stable: the first component keeps its SPDXID without the others.
	if again := spdxIDs(comps[:1]); again[0] != ids[0] {
		t.Errorf("SPDXID of %s changed with the inventory: %s, then %s", comps[0].Name, ids[0], again[0])
	}
}

// The document is about the scan: its time (to the second), its tool,
// its host; and it says what it lacks.
func TestSPDXCreationInfo(t *testing.T) {
	r := reporttest.CVE()
	d := decodeSPDX(t, renderSPDX(t, r))
	ci := d.CreationInfo
	if ci.Created != "2025-04-02T08:30:07Z" || !slices.Equal(ci.Creators, []string{"Tool: kensa-0.4.0"}) {
		t.Errorf("created %s, creators %v", ci.Created, ci.Creators)
	}
	if !strings.HasPrefix(d.DocumentNamespace, InformationURI+"/spdx/db-02-") {
		t.Errorf("namespace %s", d.DocumentNamespace)
	}
	for _, w := range []string{"OS packages (dpkg 5)", "(Go 3, Maven 1, PyPI 1)", "other software may be present", "Vulnerabilities are not part of this document"} {
		if !strings.Contains(ci.Comment, w) {
			t.Errorf("comment %q lacks %q", ci.Comment, w)
		}
	}
	hostPkg := d.Packages[0]
	for _, w := range []string{"hostname db-02", "machine id " + reporttest.MachineID, "kernel 6.1.0-28-amd64", "end of life 2028-06-30"} {
		if !strings.Contains(hostPkg.Comment, w) {
			t.Errorf("host comment %q lacks %q", hostPkg.Comment, w)
		}
	}

	r.Collectors = []host.CollectorRun{{Name: "rpm", Status: host.StatusFailed, Reason: "database locked"}}
	ci = decodeSPDX(t, renderSPDX(t, r)).CreationInfo
	if !strings.Contains(ci.Comment, "It is incomplete: collector rpm failed: database locked.") {
		t.Errorf("comment %q does not say the inventory is incomplete", ci.Comment)
	}
	// An image without hostname or machine id is named by its root.
	img := reporttest.CVE()
	img.Host.Hostname, img.Host.MachineID, img.Host.Root = "", "", "/mnt/images/web"
	if d := decodeSPDX(t, renderSPDX(t, img)); !strings.HasPrefix(d.DocumentNamespace, InformationURI+"/spdx/-mnt-images-web-") {
		t.Errorf("namespace of an image: %s", d.DocumentNamespace)
	}
}

// Purposes: programs are APPLICATION, other software LIBRARY, OS packages
// left unsaid.
func TestSPDXPurposes(t *testing.T) {
	d := decodeSPDX(t, renderSPDX(t, reporttest.CVE()))
	got := map[string]string{}
	for _, p := range d.Packages {
		got[p.Name] = p.PrimaryPackagePurpose
	}
	want := map[string]string{"debian": "OPERATING_SYSTEM", "bash": "", "curl": "", "libcurl4": "", "libssl3": "", "tzdata": "",
		"exporter": "APPLICATION", "golang.org/x/net": "LIBRARY", "stdlib": "LIBRARY", "org.apache.logging.log4j:log4j-core": "LIBRARY", "PyYAML": "LIBRARY"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("purposes (-want +got):\n%s", diff)
	}
}
