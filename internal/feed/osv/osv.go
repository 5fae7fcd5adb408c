// Package osv reads vulnerability records in the OSV schema
// (https://ossf.github.io/osv-schema/), the format Go, PyPI, npm, Maven,
// AlmaLinux, Rocky Linux, Debian, Ubuntu, Alpine and many more publish, as
// single records or as a per-ecosystem all.zip.
//
// Records are read into Kensa's advisory model with what OSV leaves in
// prose made explicit:
//   - bug-fix and enhancement errata (ALBA/ALEA, RLBA/RLEA, RHBA/RHEA) are
//     kept as such and never matched;
//   - the CVE ids are the aliases, the related ids (AlmaLinux keeps its
//     CVEs in related) and the upstream ids (Debian's DEBIAN-CVE-* and DSA
//     records name their CVE there);
//   - a Red Hat style rating at the start of the summary ("Important:
//     openssl security update") is the vendor's severity;
//   - an erratum whose fixed builds are module builds (".module_el8...")
//     names the module stream it is for ("container-tools:rhel8" in the
//     summary), because it applies only to packages of that stream;
//   - GIT ranges, which name commits, not versions, are dropped: a package
//     version cannot be placed in them.
package osv

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/kensa-dev/kensa/internal/advisory"
)

// MaxRecordSize caps one record. The largest real records (Linux kernel
// advisories in the Debian and Ubuntu feeds, listing hundreds of binaries)
// are a few MiB; anything beyond this is not a record.
const MaxRecordSize = 32 << 20

// record is the part of the OSV schema Kensa reads.
type record struct {
	ID        string   `json:"id"`
	Modified  string   `json:"modified"`
	Published string   `json:"published"`
	Withdrawn string   `json:"withdrawn"`
	Aliases   []string `json:"aliases"`
	Related   []string `json:"related"`
	// Upstream names the records a derived one comes from: Debian's
	// DEBIAN-CVE-* and DSA records name their CVEs here.
	Upstream []string   `json:"upstream"`
	Summary  string     `json:"summary"`
	Details  string     `json:"details"`
	Severity []severity `json:"severity"`
	Affected []affected `json:"affected"`
	// References: url and type.
	References []struct {
		URL string `json:"url"`
	} `json:"references"`
	DatabaseSpecific json.RawMessage `json:"database_specific"`
}

type severity struct {
	Type  string `json:"type"`
	Score string `json:"score"`
}

type affected struct {
	Package struct {
		Ecosystem string `json:"ecosystem"`
		Name      string `json:"name"`
		PURL      string `json:"purl"`
	} `json:"package"`
	Severity []severity `json:"severity"`
	Ranges   []struct {
		Type   string           `json:"type"`
		Events []advisory.Event `json:"events"`
	} `json:"ranges"`
	Versions          []string        `json:"versions"`
	EcosystemSpecific json.RawMessage `json:"ecosystem_specific"`
}

// Detect reports whether head, the start of a file named name, looks like
// one OSV record: a JSON object with the schema's "id" and "modified" or
// "affected" keys near the top.
func Detect(name string, head []byte) bool {
	h := bytes.TrimLeft(head, " \t\r\n\ufeff")
	if len(h) == 0 || h[0] != '{' {
		return false
	}
	return bytes.Contains(h, []byte(`"id"`)) && (bytes.Contains(h, []byte(`"modified"`)) || bytes.Contains(h, []byte(`"affected"`))) &&
		!bytes.Contains(h, []byte(`"releases"`)) // the Ubuntu cvescan and Debian tracker formats
}

// ParseRecord reads one OSV record.
func ParseRecord(r io.Reader) (*advisory.Advisory, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxRecordSize+1))
	if err != nil {
		return nil, fmt.Errorf("osv: read: %w", err)
	}
	if len(data) > MaxRecordSize {
		return nil, fmt.Errorf("osv: record larger than %d MiB", MaxRecordSize>>20)
	}
	var rec record
	if err := json.Unmarshal(data, &rec); err != nil {
		return nil, fmt.Errorf("osv: %w", err)
	}
	return convert(&rec)
}

// ParseZip reads every record of an OSV all.zip and calls emit for each,
// in the zip's order. Entries that are not .json files are skipped. The
// feed is named after the ecosystem of its records ("osv/AlmaLinux"),
// without the release, as OSV names its zips.
func ParseZip(zr *zip.Reader, emit func(*advisory.Advisory) error) (advisory.Feed, error) {
	feed := advisory.Feed{Format: "osv"}
	ecosystems := map[string]bool{}
	n := 0
	for _, f := range zr.File {
		if f.FileInfo().IsDir() || !strings.EqualFold(path.Ext(f.Name), ".json") {
			continue
		}
		if f.UncompressedSize64 > MaxRecordSize {
			return feed, fmt.Errorf("osv: %s: record larger than %d MiB", f.Name, MaxRecordSize>>20)
		}
		rc, err := f.Open()
		if err != nil {
			return feed, fmt.Errorf("osv: %s: %w", f.Name, err)
		}
		a, err := ParseRecord(rc)
		rc.Close()
		if err != nil {
			return feed, fmt.Errorf("%w (in %s)", err, f.Name)
		}
		for _, af := range a.Affected {
			ecosystems[baseEcosystem(af.Ecosystem)] = true
		}
		if err := emit(a); err != nil {
			return feed, err
		}
		n++
	}
	if n == 0 {
		return feed, errors.New("osv: the zip holds no .json records")
	}
	names := make([]string, 0, len(ecosystems))
	for e := range ecosystems {
		names = append(names, e)
	}
	slices.Sort(names)
	feed.Name = "osv/" + strings.Join(names, "+")
	return feed, nil
}

func baseEcosystem(e string) string {
	b, _, _ := strings.Cut(e, ":")
	return b
}

// errataKind classifies Red Hat style errata by their id: RHBA, ALBA and
// RLBA are bug fixes, RHEA, ALEA and RLEA enhancements; everything else
// (ALSA, GO-, GHSA-, PYSEC-, DSA-, USN-, CVE-...) is a vulnerability.
func errataKind(id string) string {
	prefix, _, _ := strings.Cut(id, "-")
	if len(prefix) == 4 && strings.HasSuffix(prefix, "BA") {
		return advisory.KindBugfix
	}
	if len(prefix) == 4 && strings.HasSuffix(prefix, "EA") {
		return advisory.KindEnhancement
	}
	return advisory.KindSecurity
}

// vendorRating matches the rating Red Hat and its rebuilds put at the
// start of an erratum's summary.
var vendorRating = regexp.MustCompile(`^(Critical|Important|Moderate|Low):\s`)

// moduleStream matches each "name:stream" an erratum for modules names in
// its summary: "Important: container-tools:rhel8 security update",
// "virt:rhel and virt-devel:rhel security update", "httpd:2.4/mod_http2
// security update" (a stream and one of its packages).
var moduleStream = regexp.MustCompile(`(?:^|[\s,(])([A-Za-z0-9][A-Za-z0-9_.+-]*:[A-Za-z0-9][A-Za-z0-9_.+-]*)(?:/[A-Za-z0-9_.+-]+)?(?:[\s,)]|$)`)

func convert(rec *record) (*advisory.Advisory, error) {
	if rec.ID == "" {
		return nil, errors.New("osv: record without an id")
	}
	a := &advisory.Advisory{
		ID:      rec.ID,
		Kind:    errataKind(rec.ID),
		Summary: strings.TrimSpace(rec.Summary),
		Details: strings.TrimSpace(rec.Details),
	}
	var err error
	if a.Published, err = parseTime(rec.Published); err != nil {
		return nil, fmt.Errorf("osv: %s: published: %w", rec.ID, err)
	}
	if a.Modified, err = parseTime(rec.Modified); err != nil {
		return nil, fmt.Errorf("osv: %s: modified: %w", rec.ID, err)
	}
	if a.Withdrawn, err = parseTime(rec.Withdrawn); err != nil {
		return nil, fmt.Errorf("osv: %s: withdrawn: %w", rec.ID, err)
	}
	seen := map[string]bool{rec.ID: true}
	for _, id := range slices.Concat(rec.Aliases, rec.Related, rec.Upstream) {
		id = strings.TrimSpace(id)
		if id != "" && !seen[id] {
			seen[id] = true
			a.Aliases = append(a.Aliases, id)
		}
	}
	slices.Sort(a.Aliases)

	if m := vendorRating.FindStringSubmatch(a.Summary); m != nil {
		a.Severities = append(a.Severities, advisory.Severity{Source: advisory.SourceVendor, Type: "redhat-severity", Value: m[1]})
	}
	a.Severities = append(a.Severities, severities(rec.Severity)...)
	for _, ref := range rec.References {
		if ref.URL != "" && !slices.Contains(a.References, ref.URL) {
			a.References = append(a.References, ref.URL)
		}
	}
	var streams []string
	for _, m := range moduleStream.FindAllStringSubmatch(vendorRating.ReplaceAllString(a.Summary, ""), -1) {
		if !slices.Contains(streams, m[1]) {
			streams = append(streams, m[1])
		}
	}
	a.Affected = make([]advisory.Affected, 0, len(rec.Affected))
	for _, ra := range rec.Affected {
		if ra.Package.Ecosystem == "" || ra.Package.Name == "" {
			continue // a GIT-only entry names a repository, not a package
		}
		af := advisory.Affected{
			Ecosystem:   ra.Package.Ecosystem,
			Package:     ra.Package.Name,
			BinaryKeyed: binaryKeyed(ra.Package.Ecosystem),
			Status:      advisory.StatusAffected,
			Versions:    ra.Versions,
			Severities:  severities(ra.Severity),
		}
		for _, r := range ra.Ranges {
			if r.Type != advisory.RangeEcosystem && r.Type != advisory.RangeSemver {
				continue
			}
			af.Ranges = append(af.Ranges, advisory.Range{Type: r.Type, Events: r.Events})
			for _, e := range r.Events {
				if strings.Contains(e.Fixed, ".module") || strings.Contains(e.LastAffected, ".module") {
					af.Modular = true
				}
			}
		}
		if af.Modular {
			af.ModuleStreams = streams
		}
		if strings.HasPrefix(af.Ecosystem, "Ubuntu:Pro:") {
			// A fix in the Pro twin of a release is published only in
			// Ubuntu Pro's ESM repositories, not in the release's archive.
			af.Repository = "ubuntu-pro"
		}
		if af.Ecosystem == "Go" && af.Package == "toolchain" {
			af.Commands = importPaths(ra.EcosystemSpecific)
		}
		if len(af.Ranges) == 0 && len(af.Versions) == 0 {
			continue // only GIT ranges: no package version can be placed in them
		}
		a.Affected = append(a.Affected, af)
	}
	return a, nil
}

// binaryKeyed reports whether an ecosystem's OSV records name binary
// packages: the RPM-based distros list every binary RPM of an erratum;
// Debian, Ubuntu and Alpine name the source package.
func binaryKeyed(ecosystem string) bool {
	switch baseEcosystem(ecosystem) {
	case "AlmaLinux", "Rocky Linux", "Red Hat", "openSUSE", "SUSE", "Mageia", "openEuler", "Amazon Linux", "Oracle Linux", "CentOS", "Fedora":
		return true
	}
	return false
}

func severities(in []severity) []advisory.Severity {
	var out []advisory.Severity
	for _, s := range in {
		if s.Score == "" {
			continue
		}
		switch s.Type {
		case "CVSS_V2", "CVSS_V3", "CVSS_V4":
			out = append(out, advisory.Severity{Source: advisory.SourceCVSS, Type: s.Type, Value: s.Score})
		case "Ubuntu":
			out = append(out, advisory.Severity{Source: advisory.SourceVendor, Type: "ubuntu-priority", Value: s.Score})
		}
	}
	return out
}

func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, err
	}
	if t.Year() <= 1 { // the Go database's placeholder for "unknown"
		return time.Time{}, nil
	}
	return t.UTC(), nil
}

// importPaths reads the package paths of a Go record's ecosystem_specific
// imports; nil when there are none or they cannot be read.
func importPaths(raw json.RawMessage) []string {
	if len(raw) == 0 {
		return nil
	}
	var es struct {
		Imports []struct {
			Path string `json:"path"`
		} `json:"imports"`
	}
	if json.Unmarshal(raw, &es) != nil {
		return nil
	}
	var out []string
	for _, imp := range es.Imports {
		if imp.Path != "" && !slices.Contains(out, imp.Path) {
			out = append(out, imp.Path)
		}
	}
	return out
}
