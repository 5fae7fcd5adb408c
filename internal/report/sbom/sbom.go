// Package sbom renders the inventory of a Kensa report as a software bill
// of materials: CycloneDX 1.6 JSON (WriteCycloneDX), optionally with the
// report's vulnerability findings, and SPDX 2.3 JSON (WriteSPDX).
//
// Like every Kensa output format, both are pure functions of a
// report.Report: they read nothing from the host, and the same report
// gives the same bytes, whatever the order of its lists. That is why the
// documents' identities (CycloneDX serialNumber, SPDX documentNamespace)
// are derived from the report rather than random, and their times are the
// scan's, not the clock's.
//
// What the two formats share:
//
//   - The subject is the assessed host, described as its operating system
//     (CycloneDX metadata.component of type operating-system, SPDX package
//     of purpose OPERATING_SYSTEM that the document DESCRIBES), with the
//     hostname, machine id, root and kernel alongside; every component of
//     the inventory is listed once, and (SPDX) CONTAINED by it.
//   - A report without an inventory, or whose component list does not add
//     up to its counts (one made before report schema 1.6), is refused
//     with ErrNoInventory or ErrIncompleteInventory: an SBOM that looks
//     complete but lists nothing would mislead.
//   - What Kensa does not know is not guessed: no licences, no download
//     location, no supplier (SPDX NOASSERTION; CycloneDX leaves them out).
//   - Strings come from a hostile host. JSON escapes C0 controls; on top
//     of that the writers escape DEL, the C1 controls (U+0080 to U+009F,
//     among them the 8-bit CSI of terminal escape sequences) and the
//     Unicode bidirectional controls as \u sequences, so that printing a
//     document cannot drive a terminal or reorder what a reader sees. The
//     values decode unchanged.
package sbom

import (
	"crypto/sha1"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/package-url/packageurl-go"

	"github.com/kensa-dev/kensa/internal/report"
)

// InformationURI is the tool's home page; the documents' identifiers are
// URIs under it.
const InformationURI = "https://github.com/kensa-dev/kensa"

var (
	// ErrNoInventory is returned for a report made without an inventory
	// (before report schema 1.1, or by hand): there is nothing to list.
	ErrNoInventory = errors.New("the report has no inventory")
	// ErrIncompleteInventory is returned when the inventory's component
	// list does not add up to its counts: a report made before schema 1.6
	// counts packages but does not list them.
	ErrIncompleteInventory = errors.New("the report's inventory does not list every component it counts")
)

// checkInventory refuses a report whose SBOM would claim less than the
// report knows: no inventory at all, or counts that the component list
// does not match. Each error names the problem and the way out.
func checkInventory(r *report.Report) error {
	inv := r.Inventory
	if inv == nil {
		return fmt.Errorf("sbom: %w: an SBOM of it would list nothing; scan the host again with this Kensa (report schema %s) to get one",
			ErrNoInventory, report.SchemaVersion)
	}
	packages, software := 0, 0
	for _, n := range inv.Packages {
		packages += n
	}
	for _, n := range inv.Software {
		software += n
	}
	if packages+software != len(inv.Components) {
		return fmt.Errorf("sbom: %w: it counts %d packages and %d components outside the package manager but lists %d "+
			"(a report of schema %q: component lists came with 1.6); scan the host again with this Kensa (report schema %s) to get an SBOM",
			ErrIncompleteInventory, packages, software, len(inv.Components), r.SchemaVersion, report.SchemaVersion)
	}
	return nil
}

// Document variants, part of the documents' identities: the CycloneDX BOM
// with vulnerabilities is a different document from the one without.
const (
	variantCycloneDX      = "cyclonedx"
	variantCycloneDXVulns = "cyclonedx+vulnerabilities"
	variantSPDX           = "spdx"
)

// namespaceURL is RFC 4122's name space for names that are URLs.
var namespaceURL = [16]byte{0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8}

// documentUUID is the identity of the document of variant rendered from
// r: a name-based (version 5) UUID of the scan's identity (machine id,
// hostname, root, start time, tool and version). The same report always
// gives the same UUID, so the output stays a pure function of the report,
// and two scans (or two variants of one scan) never share one.
func documentUUID(r *report.Report, variant string) string {
	q := url.Values{}
	q.Set("machine_id", r.Host.MachineID)
	q.Set("hostname", r.Host.Hostname)
	q.Set("root", r.Host.Root)
	q.Set("started_at", r.StartedAt.UTC().Format(time.RFC3339Nano))
	q.Set("tool", r.Tool.Name)
	q.Set("version", r.Tool.Version)
	return uuidV5(namespaceURL, InformationURI+"/sbom/"+variant+"?"+q.Encode())
}

// uuidV5 is RFC 4122's name-based UUID with SHA-1, in its text form.
func uuidV5(ns [16]byte, name string) string {
	h := sha1.New()
	h.Write(ns[:])
	h.Write([]byte(name))
	s := h.Sum(nil)[:16]
	s[6] = s[6]&0x0f | 0x50 // version 5
	s[8] = s[8]&0x3f | 0x80 // RFC 4122 variant
	return fmt.Sprintf("%x-%x-%x-%x-%x", s[0:4], s[4:6], s[6:8], s[8:10], s[10:16])
}

// toolName is the producing tool, "kensa" when the report does not say.
func toolName(t report.Tool) string {
	if t.Name == "" {
		return "kensa"
	}
	return t.Name
}

// osName and osVersion name the operating system component: its os-release
// ID and release ("debian", "12"), as a package manager would name it.
func osName(h report.Host) string {
	if h.OS.ID != "" {
		return h.OS.ID
	}
	if h.OS.Family != "" {
		return h.OS.Family
	}
	return "unknown"
}

// hostLabel is what a person calls the host: its hostname, else its
// machine id, else the root it was read from (an image).
func hostLabel(h report.Host) string {
	switch {
	case h.Hostname != "":
		return h.Hostname
	case h.MachineID != "":
		return h.MachineID
	case h.Root != "":
		return h.Root
	}
	return "unknown host"
}

// validPURL returns p when it is a package URL a consumer can parse, and
// "" otherwise. A purl is built from names read on the host; one that does
// not parse (or holds white space, which SPDX locators forbid) is kept as
// a property or comment instead, never as an identifier.
func validPURL(p string) string {
	if p == "" || strings.ContainsAny(p, " \t\r\n") {
		return ""
	}
	if _, err := packageurl.FromString(p); err != nil {
		return ""
	}
	return p
}

// kindApplication is the software kind of a program's own module.
const kindApplication = "go-main"

// inventoryNotes lists what makes the inventory incomplete, one line
// each: collectors that failed or ran partly, and the limits that cut the
// search for software outside the package manager short. An empty list
// does not make the inventory complete; Kensa finds the software it
// recognises.
func inventoryNotes(r *report.Report) []string {
	var notes []string
	for _, c := range r.Collectors {
		if c.Status != "partial" && c.Status != "failed" {
			continue
		}
		n := "collector " + c.Name + " " + c.Status
		if c.Reason != "" {
			n += ": " + c.Reason
		}
		if c.ErrorCount > 0 {
			n += fmt.Sprintf(" (%d errors)", c.ErrorCount)
		}
		notes = append(notes, n)
	}
	if d := r.Discovery; d != nil {
		for _, l := range d.LimitsHit {
			n := fmt.Sprintf("discovery limit %s reached (%d)", l.Limit, l.Value)
			if l.Path != "" {
				n += " at " + l.Path
			}
			notes = append(notes, n)
		}
	}
	return notes
}

// writeJSON runs encode with its output escaped by safeWriter.
func writeJSON(w io.Writer, encode func(io.Writer) error) error {
	sw := &safeWriter{w: w}
	if err := encode(sw); err != nil {
		return err
	}
	return sw.flush()
}
