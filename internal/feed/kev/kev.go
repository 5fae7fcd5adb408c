// Package kev reads CISA's Known Exploited Vulnerabilities catalog
// (https://www.cisa.gov/known-exploited-vulnerabilities-catalog, JSON as
// published at known_exploited_vulnerabilities.json).
//
// The catalog is not an advisory feed: it names CVEs attackers are known
// to exploit, which raises the priority of a finding another feed made.
// So it has its own result, a Catalog of advisory.Exploited entries.
//
// A catalog with any bad entry is refused whole. Its use is to say "this
// one is being exploited"; a half-read catalog would silently drop that
// warning for the entries it lost, where a refused import keeps the
// previous catalog and says why.
package kev

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"github.com/kensa-dev/kensa/internal/advisory"
)

// Catalog is one release of the catalog.
type Catalog struct {
	// Version is catalogVersion, "2025.08.25".
	Version string
	// Released is dateReleased.
	Released time.Time
	// Entries are the vulnerabilities in catalog order (newest first).
	Entries []advisory.Exploited
}

type catalogJSON struct {
	CatalogVersion  *string     `json:"catalogVersion"`
	DateReleased    *string     `json:"dateReleased"`
	Count           *int        `json:"count"`
	Vulnerabilities *[]vulnJSON `json:"vulnerabilities"`
}

type vulnJSON struct {
	CVEID          string `json:"cveID"`
	VendorProject  string `json:"vendorProject"`
	Product        string `json:"product"`
	Name           string `json:"vulnerabilityName"`
	DateAdded      string `json:"dateAdded"`
	RequiredAction string `json:"requiredAction"`
	DueDate        string `json:"dueDate"`
	Ransomware     string `json:"knownRansomwareCampaignUse"`
}

// cveRe is the schema's pattern for cveID.
var cveRe = regexp.MustCompile(`^CVE-[0-9]{4}-[0-9]{4,19}$`)

// Parse reads and validates a catalog. The fields the schema requires
// for the catalog must be there; count must match the entries (a cut
// download that still parses would otherwise pass); every cveID must have
// the schema's form and appear once; dateAdded must be a YYYY-MM-DD date,
// and so must dueDate when it is given. Fields the code does not use
// (shortDescription, notes, cwes) and unknown fields are ignored.
func Parse(r io.Reader) (Catalog, error) {
	var c Catalog
	var raw catalogJSON
	dec := json.NewDecoder(r)
	if err := dec.Decode(&raw); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return c, fmt.Errorf("kev: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return c, errors.New("kev: data after the catalog")
	}
	switch {
	case raw.CatalogVersion == nil || *raw.CatalogVersion == "":
		return c, errors.New("kev: no catalogVersion")
	case raw.DateReleased == nil:
		return c, errors.New("kev: no dateReleased")
	case raw.Count == nil:
		return c, errors.New("kev: no count")
	case raw.Vulnerabilities == nil:
		return c, errors.New("kev: no vulnerabilities")
	}
	released, err := time.Parse(time.RFC3339Nano, *raw.DateReleased)
	if err != nil {
		return c, fmt.Errorf("kev: dateReleased %q is not an RFC 3339 time", clip(*raw.DateReleased))
	}
	vulns := *raw.Vulnerabilities
	if *raw.Count != len(vulns) {
		return c, fmt.Errorf("kev: count says %d vulnerabilities, catalog has %d", *raw.Count, len(vulns))
	}
	c.Version, c.Released = *raw.CatalogVersion, released.UTC()
	c.Entries = make([]advisory.Exploited, 0, len(vulns))
	seen := make(map[string]bool, len(vulns))
	for i, v := range vulns {
		if !cveRe.MatchString(v.CVEID) {
			return Catalog{}, fmt.Errorf("kev: entry %d: cveID %q is not a CVE id", i+1, clip(v.CVEID))
		}
		if seen[v.CVEID] {
			return Catalog{}, fmt.Errorf("kev: entry %d: %s listed twice", i+1, v.CVEID)
		}
		seen[v.CVEID] = true
		if !isDate(v.DateAdded) {
			return Catalog{}, fmt.Errorf("kev: %s: dateAdded %q is not a YYYY-MM-DD date", v.CVEID, clip(v.DateAdded))
		}
		if v.DueDate != "" && !isDate(v.DueDate) {
			return Catalog{}, fmt.Errorf("kev: %s: dueDate %q is not a YYYY-MM-DD date", v.CVEID, clip(v.DueDate))
		}
		c.Entries = append(c.Entries, advisory.Exploited{
			CVE:            v.CVEID,
			VendorProject:  v.VendorProject,
			Product:        v.Product,
			Name:           v.Name,
			DateAdded:      v.DateAdded,
			DueDate:        v.DueDate,
			RequiredAction: v.RequiredAction,
			Ransomware:     v.Ransomware,
		})
	}
	return c, nil
}

// isDate accepts exactly YYYY-MM-DD naming a real day.
func isDate(s string) bool {
	if len(s) != len("2006-01-02") {
		return false
	}
	_, err := time.Parse("2006-01-02", s)
	return err == nil
}

func clip(s string) string {
	if len(s) > 60 {
		s = s[:60] + "…"
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

// Detect reports whether a file is the catalog, from its first bytes: a
// JSON object naming catalogVersion (CISA writes it second, after the
// title), or, for a copy whose keys were reordered, the entries' cveID
// and dateAdded.
func Detect(name string, head []byte) bool {
	h := bytes.TrimLeft(head, " \t\r\n")
	if len(h) == 0 || h[0] != '{' {
		return false
	}
	return bytes.Contains(h, []byte(`"catalogVersion"`)) ||
		bytes.Contains(h, []byte(`"cveID"`)) && bytes.Contains(h, []byte(`"dateAdded"`))
}
