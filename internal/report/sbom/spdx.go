package sbom

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	spdxjson "github.com/spdx/tools-golang/json"
	"github.com/spdx/tools-golang/spdx/v2/common"
	spdx "github.com/spdx/tools-golang/spdx/v2/v2_3"

	"github.com/kensa-dev/kensa/internal/report"
)

// noAssertion is SPDX's "we do not know": Kensa reads names, versions and
// where software was found, not licences, suppliers or download locations.
const noAssertion = "NOASSERTION"

// hostID is the SPDX identifier of the host's operating system package.
const hostID = common.ElementID("OperatingSystem")

// WriteSPDX writes the inventory of r as an indented SPDX 2.3 JSON
// document. It refuses a report without a complete component list
// (ErrNoInventory, ErrIncompleteInventory), and otherwise fails only when
// w does.
//
// The document:
//
//   - documentNamespace: InformationURI/spdx/<host>-<uuid>, the UUID
//     derived from the scan (documentUUID), so the same report gives the
//     same document; name "kensa SBOM of <host>";
//   - creationInfo: created = the scan's finished_at (to the second, as
//     SPDX wants it), creator "Tool: kensa-<version>", and a comment saying
//     what made the inventory incomplete (failed collectors, discovery
//     limits) and that vulnerabilities are not part of an SPDX document;
//   - a package for the host's operating system (purpose OPERATING_SYSTEM,
//     os-release ID and release as name and version, the hostname, machine
//     id, root and kernel in its comment) that the document DESCRIBES and
//     that CONTAINS every other package;
//   - a package per inventory component, in the report's order: its purl
//     as a PACKAGE-MANAGER externalRef, the source package as sourceInfo,
//     the Kensa fields in its comment, purpose APPLICATION for a program
//     and LIBRARY for other software found outside the package manager
//     (none for OS packages, which can be either);
//   - SPDXIDs SPDXRef-Package-<name>-<hash>: the name reduced to SPDX's
//     alphabet for readers, a hash of all the component's fields for
//     uniqueness and stability across scans (spdxIDs);
//   - NOASSERTION for supplier, download location, licences and
//     copyright; filesAnalyzed false (Kensa lists packages, not their
//     files).
func WriteSPDX(w io.Writer, r *report.Report) error {
	c := report.Canonical(r)
	if err := checkInventory(c); err != nil {
		return err
	}
	doc := buildSPDX(c)
	return writeJSON(w, func(w io.Writer) error {
		if err := spdxjson.Write(doc, w, spdxjson.Indent("  "), spdxjson.EscapeHTML(false)); err != nil {
			return fmt.Errorf("sbom: write spdx: %w", err)
		}
		return nil
	})
}

// buildSPDX builds the document of the canonical report c.
func buildSPDX(c *report.Report) *spdx.Document {
	label := hostLabel(c.Host)
	comps := c.Inventory.Components
	ids := spdxIDs(comps)

	packages := make([]*spdx.Package, 0, len(comps)+1)
	relationships := make([]*spdx.Relationship, 0, len(comps)+1)
	packages = append(packages, hostPackage(c.Host))
	relationships = append(relationships, &spdx.Relationship{
		RefA:         common.MakeDocElementID("", "DOCUMENT"),
		RefB:         common.MakeDocElementID("", string(hostID)),
		Relationship: common.TypeRelationshipDescribe,
	})
	for i := range comps {
		packages = append(packages, spdxPackage(&comps[i], ids[i]))
		relationships = append(relationships, &spdx.Relationship{
			RefA:         common.MakeDocElementID("", string(hostID)),
			RefB:         common.MakeDocElementID("", string(ids[i])),
			Relationship: common.TypeRelationshipContains,
		})
	}

	tool := toolName(c.Tool)
	if c.Tool.Version != "" {
		tool += "-" + c.Tool.Version
	}
	return &spdx.Document{
		SPDXVersion:       spdx.Version,
		DataLicense:       spdx.DataLicense,
		SPDXIdentifier:    "DOCUMENT",
		DocumentName:      "kensa SBOM of " + label,
		DocumentNamespace: InformationURI + "/spdx/" + idString(label, 63) + "-" + documentUUID(c, variantSPDX),
		CreationInfo: &spdx.CreationInfo{
			Creators:       []common.Creator{{CreatorType: "Tool", Creator: tool}},
			Created:        c.FinishedAt.UTC().Format(time.RFC3339),
			CreatorComment: creationComment(c),
		},
		Packages:      packages,
		Relationships: relationships,
	}
}

// creationComment says what the document was made from and what it
// lacks.
func creationComment(c *report.Report) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Rendered from a Kensa report (schema %s) of the scan of %s started at %s. ",
		c.SchemaVersion, hostLabel(c.Host), c.StartedAt.UTC().Format(time.RFC3339Nano))
	b.WriteString("Inventory: OS packages (" + counts(c.Inventory.Packages) + "); components outside the package manager (" +
		counts(c.Inventory.Software) + "). ")
	if notes := inventoryNotes(c); len(notes) > 0 {
		b.WriteString("It is incomplete: " + strings.Join(notes, "; ") + ".")
	} else {
		b.WriteString("It lists the software Kensa recognises; other software may be present.")
	}
	b.WriteString(" Vulnerabilities are not part of this document: see the Kensa report, or its CycloneDX rendering with vulnerabilities.")
	return b.String()
}

// counts writes {"Go": 3, "PyPI": 1} as "Go 3, PyPI 1", "none" for none.
func counts(m map[string]int) string {
	if len(m) == 0 {
		return "none"
	}
	parts := make([]string, 0, len(m))
	for _, k := range sortedKeys(m) {
		parts = append(parts, k+" "+strconv.Itoa(m[k]))
	}
	return strings.Join(parts, ", ")
}

// hostPackage is the assessed host as its operating system; the host's
// own identity goes in the comment.
func hostPackage(h report.Host) *spdx.Package {
	var facts []string
	add := func(k, v string) {
		if v != "" {
			facts = append(facts, k+" "+v)
		}
	}
	add("hostname", h.Hostname)
	add("machine id", h.MachineID)
	add("root", h.Root)
	add("live", strconv.FormatBool(h.Live))
	add("kernel", h.Kernel)
	add("OS family", h.OS.Family)
	if h.OS.EOL != "" {
		eol := h.OS.EOL
		if h.OS.EOLNote != "" {
			eol += " (" + h.OS.EOLNote + ")"
		}
		if h.OS.EOLReached {
			eol += ", reached"
		}
		add("end of life", eol)
	}
	p := noAssertionPackage(hostID, osName(h), h.OS.Release)
	p.PrimaryPackagePurpose = "OPERATING_SYSTEM"
	p.PackageDescription = h.OS.PrettyName
	p.PackageComment = "kensa host: " + strings.Join(facts, "; ")
	return p
}

// spdxPackage is one inventory component.
func spdxPackage(c *report.Component, id common.ElementID) *spdx.Package {
	name := c.Name
	if name == "" {
		name = "(no name)"
	}
	p := noAssertionPackage(id, name, c.Version)
	if purl := validPURL(c.PURL); purl != "" {
		p.PackageExternalReferences = []*spdx.PackageExternalReference{{
			Category: common.CategoryPackageManager, RefType: common.TypePackageManagerPURL, Locator: purl,
		}}
	}
	if c.SourceName != "" {
		p.PackageSourceInfo = strings.TrimSpace("source package " + c.SourceName + " " + c.SourceVersion)
	}
	switch {
	case c.Type != report.ComponentSoftware:
	case c.Kind == kindApplication:
		p.PrimaryPackagePurpose = "APPLICATION"
	default:
		p.PrimaryPackagePurpose = "LIBRARY"
	}
	var facts []string
	add := func(k, v string) {
		if v != "" {
			facts = append(facts, k+" "+v)
		}
	}
	add("type", c.Type)
	add("manager", c.Manager)
	add("ecosystem", c.Ecosystem)
	add("arch", c.Arch)
	add("kind", c.Kind)
	add("location", c.Location)
	add("owned by", c.OwnedBy)
	if len(p.PackageExternalReferences) == 0 {
		add("purl (not a valid package URL)", c.PURL)
	}
	p.PackageComment = "kensa: " + strings.Join(facts, "; ")
	return p
}

// noAssertionPackage is a package with what Kensa does not know said so.
func noAssertionPackage(id common.ElementID, name, version string) *spdx.Package {
	return &spdx.Package{
		PackageName: name, PackageSPDXIdentifier: id, PackageVersion: version,
		PackageSupplier:           &common.Supplier{Supplier: noAssertion},
		PackageDownloadLocation:   noAssertion,
		FilesAnalyzed:             false,
		IsFilesAnalyzedTagPresent: true,
		PackageLicenseConcluded:   noAssertion,
		PackageLicenseDeclared:    noAssertion,
		PackageCopyrightText:      noAssertion,
	}
}

// spdxIDs gives each component an SPDX identifier (without the SPDXRef-
// prefix, which the writer adds): "Package-", the name in SPDX's alphabet
// ([A-Za-z0-9.-]; anything else becomes "-"), and 12 hex digits of
// SHA-256 over every field of the component, so that the identifier is
// the same in every scan that finds the component and distinct for two
// that differ in any field. Identical components get "-2", "-3".
func spdxIDs(comps []report.Component) []common.ElementID {
	ids := make([]common.ElementID, len(comps))
	used := map[string]bool{"DOCUMENT": true, string(hostID): true}
	next := map[string]int{}
	h := sha256.New()
	var sum [sha256.Size]byte
	for i := range comps {
		c := &comps[i]
		h.Reset()
		for _, f := range []string{c.Type, c.Manager, c.Ecosystem, c.Name, c.Version, c.Arch, c.PURL,
			c.SourceName, c.SourceVersion, c.Kind, c.Location, c.OwnedBy} {
			fmt.Fprintf(h, "%d:%s;", len(f), f)
		}
		id := "Package-" + idString(c.Name, 48) + "-" + hex.EncodeToString(h.Sum(sum[:0])[:6])
		if used[id] {
			// Identical components: numbered, counting on from the last
			// number given to id (linear time for any number of copies).
			n := max(next[id], 2)
			for used[id+"-"+strconv.Itoa(n)] {
				n++
			}
			next[id] = n + 1
			id += "-" + strconv.Itoa(n)
		}
		used[id] = true
		ids[i] = common.ElementID(id)
	}
	return ids
}

// idString reduces s to SPDX's identifier alphabet [A-Za-z0-9.-], at most
// max bytes, "x" when nothing is left: readable, never an identifier a
// hostile name could break.
func idString(s string, max int) string {
	b := make([]byte, 0, min(len(s), max))
	for i := 0; i < len(s) && len(b) < max; i++ {
		switch ch := s[i]; {
		case ch >= 'a' && ch <= 'z', ch >= 'A' && ch <= 'Z', ch >= '0' && ch <= '9', ch == '.', ch == '-':
			b = append(b, ch)
		default:
			b = append(b, '-')
		}
	}
	if len(b) == 0 {
		return "x"
	}
	return string(b)
}
