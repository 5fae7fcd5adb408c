package sbom

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"

	"github.com/kensa-dev/kensa/internal/report"
)

// CycloneDXOptions selects what WriteCycloneDX adds to the components.
type CycloneDXOptions struct {
	// Vulnerabilities adds the vulnerability findings of the cve rules
	// package (suppressed ones included, with their risk acceptance) as
	// the BOM's vulnerabilities, and the assessment's coverage as metadata
	// properties and a composition: a BOM with VEX data in one document.
	Vulnerabilities bool
}

// SchemaURI is the $schema of the BOMs WriteCycloneDX writes: CycloneDX
// 1.6, whose official schema the tests validate against.
const SchemaURI = "http://cyclonedx.org/schema/bom-1.6.schema.json"

// hostRef is the bom-ref of the assessed host's operating system
// (metadata.component).
const hostRef = "kensa:host"

// WriteCycloneDX writes the inventory of r as an indented CycloneDX 1.6
// JSON BOM. It refuses a report without a complete component list
// (ErrNoInventory, ErrIncompleteInventory), and otherwise fails only when
// w does.
//
// The BOM:
//
//   - specVersion 1.6; serialNumber: a urn:uuid derived from the scan
//     (documentUUID), so the same report gives the same BOM; version 1.
//   - metadata: timestamp = the scan's finished_at, lifecycle
//     "operations" (a BOM of a running system or an image of one), the
//     tool (kensa, its version and commit), the host as component of type
//     operating-system (name and version from os-release; hostname, machine
//     id, root, kernel and end of life as kensa:host:* and kensa:os:*
//     properties), and properties saying what the inventory counted and
//     what cut it short.
//   - components: every inventory component once, in the report's order,
//     with its purl, a bom-ref unique in the BOM (componentRefs) and its
//     Kensa fields as kensa:* properties.
//   - compositions: the inventory is "incomplete" when a collector failed
//     or a discovery limit was hit, and "unknown" otherwise: Kensa lists
//     the software it recognises, never claiming it found everything.
//
// With opt.Vulnerabilities, see vulnerabilities.go.
func WriteCycloneDX(w io.Writer, r *report.Report, opt CycloneDXOptions) error {
	c := report.Canonical(r)
	if err := checkInventory(c); err != nil {
		return err
	}
	bom := buildCycloneDX(c, opt)
	return writeJSON(w, func(w io.Writer) error {
		enc := cdx.NewBOMEncoder(w, cdx.BOMFileFormatJSON)
		enc.SetPretty(true)
		// Titles and evidence quote shell snippets and version ranges;
		// keep "<", ">" and "&" readable, as the other JSON formats do.
		enc.SetEscapeHTML(false)
		if err := enc.Encode(bom); err != nil {
			return fmt.Errorf("sbom: write cyclonedx: %w", err)
		}
		return nil
	})
}

// buildCycloneDX builds the BOM of the canonical report c.
func buildCycloneDX(c *report.Report, opt CycloneDXOptions) *cdx.BOM {
	variant := variantCycloneDX
	if opt.Vulnerabilities {
		variant = variantCycloneDXVulns
	}
	comps := c.Inventory.Components
	refs := componentRefs(comps)

	// The BOM is built as 1.6 and encoded as it is. EncodeVersion would
	// convert a copy: it deep-copies the BOM through gob (twice the memory
	// for a server's inventory), which drops empty lists (the empty
	// vulnerability list of a "complete" composition, which is the whole
	// statement), and it writes a rating without a method as "other".
	bom := cdx.NewBOM()
	bom.SpecVersion = cdx.SpecVersion1_6
	bom.JSONSchema = SchemaURI
	bom.SerialNumber = "urn:uuid:" + documentUUID(c, variant)
	bom.Metadata = &cdx.Metadata{
		Timestamp:  c.FinishedAt.UTC().Format(time.RFC3339Nano),
		Lifecycles: &[]cdx.Lifecycle{{Phase: cdx.LifecyclePhaseOperations}},
		Tools:      &cdx.ToolsChoice{Components: &[]cdx.Component{toolComponent(c.Tool)}},
		Component:  hostComponent(c.Host),
	}
	metaProps := inventoryProperties(c)

	list := make([]cdx.Component, len(comps))
	for i := range comps {
		list[i] = cdxComponent(&comps[i], refs[i])
	}
	bom.Components = &list

	aggregate := cdx.CompositionAggregateUnknown
	if len(inventoryNotes(c)) > 0 {
		aggregate = cdx.CompositionAggregateIncomplete
	}
	compositions := []cdx.Composition{{Aggregate: aggregate, Assemblies: &[]cdx.BOMReference{hostRef}}}

	if opt.Vulnerabilities {
		vulns, vulnRefs := buildVulnerabilities(c, comps, refs)
		bom.Vulnerabilities = &vulns
		metaProps = append(metaProps, coverageProperties(c)...)
		complete, _ := vulnerabilityGaps(c)
		agg := cdx.CompositionAggregateIncomplete
		if complete {
			agg = cdx.CompositionAggregateComplete
		}
		compositions = append(compositions, cdx.Composition{Aggregate: agg, Vulnerabilities: &vulnRefs})
	}
	bom.Metadata.Properties = nonEmpty(metaProps)
	bom.Compositions = &compositions
	return bom
}

// toolComponent describes Kensa itself (metadata.tools.components).
func toolComponent(t report.Tool) cdx.Component {
	c := cdx.Component{
		Type: cdx.ComponentTypeApplication, Name: toolName(t), Version: t.Version,
		ExternalReferences: &[]cdx.ExternalReference{{Type: cdx.ERTypeWebsite, URL: InformationURI}},
	}
	if t.Commit != "" {
		c.Properties = &[]cdx.Property{{Name: "kensa:commit", Value: t.Commit}}
	}
	return c
}

// hostComponent is the assessed host, described by its operating system:
// CycloneDX has no "host" type, and what an SBOM of a host lists is what
// its OS and the software on it are made of. The host's own identity
// goes in properties.
func hostComponent(h report.Host) *cdx.Component {
	var p props
	p.add("kensa:host:hostname", h.Hostname)
	p.add("kensa:host:machine_id", h.MachineID)
	p.add("kensa:host:root", h.Root)
	p.add("kensa:host:live", strconv.FormatBool(h.Live))
	p.add("kensa:host:kernel", h.Kernel)
	p.add("kensa:os:family", h.OS.Family)
	p.add("kensa:os:eol", h.OS.EOL)
	if h.OS.EOL != "" {
		p.add("kensa:os:eol_reached", strconv.FormatBool(h.OS.EOLReached))
	}
	p.add("kensa:os:eol_note", h.OS.EOLNote)
	return &cdx.Component{
		BOMRef: hostRef, Type: cdx.ComponentTypeOS,
		Name: osName(h), Version: h.OS.Release, Description: h.OS.PrettyName,
		Properties: p.list(),
	}
}

// cdxComponent is one inventory component. Every Kensa field that has no
// CycloneDX place of its own is a kensa:* property; a purl that does not
// parse is kept as kensa:purl rather than offered as an identifier.
func cdxComponent(c *report.Component, ref string) cdx.Component {
	typ := cdx.ComponentTypeLibrary
	if c.Kind == kindApplication {
		typ = cdx.ComponentTypeApplication
	}
	name := c.Name
	if name == "" {
		name = "(no name)"
	}
	out := cdx.Component{BOMRef: ref, Type: typ, Name: name, Version: c.Version, PackageURL: validPURL(c.PURL)}
	var p props
	p.add("kensa:type", c.Type)
	p.add("kensa:manager", c.Manager)
	p.add("kensa:ecosystem", c.Ecosystem)
	p.add("kensa:arch", c.Arch)
	p.add("kensa:source_name", c.SourceName)
	p.add("kensa:source_version", c.SourceVersion)
	p.add("kensa:kind", c.Kind)
	p.add("kensa:location", c.Location)
	p.add("kensa:owned_by", c.OwnedBy)
	if out.PackageURL == "" {
		p.add("kensa:purl", c.PURL)
	}
	out.Properties = p.list()
	return out
}

// componentRefs gives each component a bom-ref that is unique in the BOM
// and stable across scans: its purl, which consumers already key on;
// where two components share one (the same Go module in two binaries),
// the purl and the component's location; for a component without a usable
// purl, "kensa:component:" and its ecosystem, name, version and arch. A
// reference already taken (identical components, or hostile names that
// imitate another's reference) gets "#2", "#3", in the report's order.
func componentRefs(comps []report.Component) []string {
	base := make([]string, len(comps))
	count := make(map[string]int, len(comps))
	for i := range comps {
		c := &comps[i]
		if p := validPURL(c.PURL); p != "" {
			base[i] = p
		} else {
			base[i] = "kensa:component:" + c.Ecosystem + "/" + c.Name + "@" + c.Version
			if c.Arch != "" {
				base[i] += "?arch=" + c.Arch
			}
		}
		count[base[i]]++
	}
	used := newRefSet(len(comps) + 1)
	used.unique(hostRef)
	refs := make([]string, len(comps))
	for i := range comps {
		ref := base[i]
		if count[ref] > 1 && comps[i].Location != "" {
			ref += "#" + comps[i].Location
		}
		refs[i] = used.unique(ref)
	}
	return refs
}

// refSet hands out references unique within a document.
type refSet struct {
	used map[string]bool
	next map[string]int // the next number to try after ref, for each ref taken
}

func newRefSet(n int) *refSet {
	return &refSet{used: make(map[string]bool, n), next: map[string]int{}}
}

// unique returns ref if it is free, else ref#N for the smallest N from 2
// that is, and marks it taken. Numbers continue where the last one for
// ref stopped, so that thousands of components sharing a reference (a
// host can make them) cost linear time, not quadratic.
func (s *refSet) unique(ref string) string {
	if !s.used[ref] {
		s.used[ref] = true
		return ref
	}
	for n := max(s.next[ref], 2); ; n++ {
		out := ref + "#" + strconv.Itoa(n)
		if !s.used[out] {
			s.used[out] = true
			s.next[ref] = n + 1
			return out
		}
	}
}

// inventoryProperties are the metadata properties every BOM has: the
// report it was rendered from and what the inventory counted and missed.
func inventoryProperties(c *report.Report) []cdx.Property {
	var p props
	p.add("kensa:report:schema_version", c.SchemaVersion)
	p.add("kensa:scan:started_at", c.StartedAt.UTC().Format(time.RFC3339Nano))
	inv := c.Inventory
	for _, k := range sortedKeys(inv.Packages) {
		p.add("kensa:inventory:packages:"+k, strconv.Itoa(inv.Packages[k]))
	}
	for _, k := range sortedKeys(inv.Software) {
		p.add("kensa:inventory:software:"+k, strconv.Itoa(inv.Software[k]))
	}
	for _, n := range inventoryNotes(c) {
		p.add("kensa:inventory:incomplete", n)
	}
	return p.props
}

// coverageProperties say how far the assessment went, for a BOM that
// lists vulnerabilities: no vulnerability listed must never read as
// none present when part of the host was not evaluated.
func coverageProperties(c *report.Report) []cdx.Property {
	var p props
	s := c.Summary
	p.add("kensa:summary:complete", strconv.FormatBool(s.Complete))
	p.add("kensa:summary:coverage_gaps", strconv.Itoa(s.CoverageGaps))
	p.add("kensa:summary:findings", strconv.Itoa(s.Findings))
	p.add("kensa:summary:suppressed", strconv.Itoa(s.Suppressed))
	for _, pkg := range s.NotRun {
		p.add("kensa:summary:not_run", pkg)
	}
	// The gaps of the other rules packages are about findings a BOM does
	// not hold; the summary counts them, the Kensa report lists them.
	_, gaps := vulnerabilityGaps(c)
	for _, g := range gaps {
		p.add("kensa:vulnerabilities:incomplete", g)
	}
	for _, f := range c.Feeds {
		v := fmt.Sprintf("%s: %d records, updated %s, %s hours old", f.Name, f.Records,
			f.UpdatedAt.UTC().Format(time.RFC3339), strconv.FormatFloat(f.AgeHours, 'f', -1, 64))
		if f.AgeBasis != "" {
			v += " (" + f.AgeBasis + ")"
		}
		if f.Stale {
			v += ", stale"
		}
		p.add("kensa:feed", v)
	}
	if n := len(c.Findings) - countVulnerabilityFindings(c.Findings); n > 0 {
		p.add("kensa:findings:not_listed", "findings that are not vulnerabilities of a component (configuration, runtime, host-wide), in the Kensa report only: "+strconv.Itoa(n))
	}
	if s := c.Suppressions; s != nil {
		p.add("kensa:suppressions:file", s.File)
		p.add("kensa:suppressions:sha256", s.SHA256)
		for _, e := range s.Expired {
			p.add("kensa:suppressions:expired", e)
		}
	}
	return p.props
}

// props builds a property list, leaving out empty values.
type props struct{ props []cdx.Property }

func (p *props) add(name, value string) {
	if value != "" {
		p.props = append(p.props, cdx.Property{Name: name, Value: value})
	}
}

func (p *props) list() *[]cdx.Property { return nonEmpty(p.props) }

// nonEmpty is nil for an empty list, so that the BOM leaves it out.
func nonEmpty(l []cdx.Property) *[]cdx.Property {
	if len(l) == 0 {
		return nil
	}
	return &l
}

func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, strings.Compare)
	return keys
}
