package debian

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"

	"github.com/kensa-dev/kensa/internal/advisory"
)

// The tracker JSON (https://security-tracker.debian.org/tracker/data/json)
// is keyed by source package, then by vulnerability id:
//
//	{"openssl": {"CVE-2023-0286": {"description": "…", "scope": "remote",
//	  "debianbug": 1031321, "releases": {"bookworm": {"status": "resolved",
//	  "repositories": {"bookworm": "3.0.8-1"}, "fixed_version": "3.0.8-1",
//	  "urgency": "not yet assigned", "nodsa": "…", "nodsa_reason": "…"}}}}}
//
// Fields this code does not know are ignored: the tracker adds fields now
// and then, and an importer that refused them would stop importing.
type trackerEntry struct {
	Description string                    `json:"description"`
	DebianBug   json.RawMessage           `json:"debianbug"`
	Releases    map[string]trackerRelease `json:"releases"`
}

type trackerRelease struct {
	Status       string `json:"status"`
	FixedVersion string `json:"fixed_version"`
	Urgency      string `json:"urgency"`
	NoDSA        string `json:"nodsa"`
	NoDSAReason  string `json:"nodsa_reason"`
}

// idRe accepts the tracker's two kinds of key: CVE ids and the temporary
// ids it gives vulnerabilities that have no CVE yet (TEMP-<bug>-<hash>),
// which are vulnerabilities all the same and kept as advisory IDs.
var idRe = regexp.MustCompile(`^(CVE-[0-9]{4}-[0-9]{4,19}|TEMP-[0-9]{7}-[0-9A-Fa-f]{6})$`)

var bugRe = regexp.MustCompile(`^[0-9]{1,10}$`)

// ParseTracker reads the tracker JSON and calls emit with one advisory per
// vulnerability id, in id order. See ParseTrackerStats.
func ParseTracker(r io.Reader, emit func(*advisory.Advisory) error) (advisory.Feed, error) {
	feed, _, err := ParseTrackerStats(r, emit)
	return feed, err
}

// ParseTrackerStats is ParseTracker that also says what it left out.
//
// Mapping: one Advisory per CVE (or TEMP-) id, Kind security, Summary the
// first line of the description (Details the whole of it when it has more
// lines), References the tracker's page for the id and the Debian bug when
// there is one. One Affected per (release, source package), Ecosystem
// "Debian:<N>":
//
//   - resolved with fixed_version "0": StatusNotAffected;
//   - resolved with a version V: StatusAffected, range introduced "0",
//     fixed V;
//   - open: StatusUnfixed, or StatusWillNotFix when nodsa_reason is
//     "ignored" or urgency is "end-of-life"; no-dsa and postponed stay
//     unfixed (a fix may come in a point release), with VendorStatus
//     "open, no-dsa (postponed): <note>";
//   - undetermined: StatusUnfixed, VendorStatus "undetermined".
//
// The urgency, unless "not yet assigned" or "end-of-life", rates the
// Affected entry (Severity vendor/"debian-urgency", spelled as the tracker
// spells it, asterisks included). Releases "sid" and codenames the release
// table does not know are skipped and counted, as are entries with an
// unknown status or an invalid fixed version.
//
// The JSON is keyed by package, so one id's entries are spread over the
// file: the parse holds every advisory until the end, then emits them.
// The feed does not say when it was produced; Feed.Generated is zero.
func ParseTrackerStats(r io.Reader, emit func(*advisory.Advisory) error) (advisory.Feed, Stats, error) {
	feed := advisory.Feed{Name: "debian-tracker", Format: "debian-tracker"}
	var st Stats
	type row struct {
		rel int
		aff advisory.Affected
	}
	type pending struct {
		adv  *advisory.Advisory
		rows []row
	}
	byID := map[string]*pending{}

	dec := json.NewDecoder(r)
	if err := expectDelim(dec, '{'); err != nil {
		return feed, st, fmt.Errorf("debian: tracker: %w", err)
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return feed, st, fmt.Errorf("debian: tracker: %w", err)
		}
		pkg, _ := tok.(string)
		var entries map[string]trackerEntry
		if err := dec.Decode(&entries); err != nil {
			return feed, st, fmt.Errorf("debian: tracker: package %q: %w", clip(pkg, 80), err)
		}
		if pkg == "" {
			return feed, st, errors.New("debian: tracker: empty package name")
		}
		for id, e := range entries {
			if !idRe.MatchString(id) {
				st.skip("malformed id")
				continue
			}
			p := byID[id]
			if p == nil {
				p = &pending{adv: &advisory.Advisory{
					ID:         id,
					Kind:       advisory.KindSecurity,
					References: []string{trackerURL + id},
					Affected:   []advisory.Affected{},
				}}
				byID[id] = p
			}
			a := p.adv
			if a.Summary == "" && strings.TrimSpace(e.Description) != "" {
				a.Summary, a.Details = describe(e.Description)
			}
			if b := string(bytes.TrimSpace(e.DebianBug)); bugRe.MatchString(b) && b != "0" {
				if ref := "https://bugs.debian.org/" + b; !slices.Contains(a.References, ref) {
					a.References = append(a.References, ref)
				}
			}
			for codename, rel := range e.Releases {
				eco, idx, ok := ecosystem(codename, &st)
				if !ok {
					continue
				}
				aff, ok := trackerAffected(rel, &st)
				if !ok {
					continue
				}
				aff.Ecosystem, aff.Package = eco, pkg
				p.rows = append(p.rows, row{idx, aff})
			}
		}
	}
	if err := expectDelim(dec, '}'); err != nil {
		return feed, st, fmt.Errorf("debian: tracker: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return feed, st, errors.New("debian: tracker: data after the top-level object")
	}

	ids := make([]string, 0, len(byID))
	for id := range byID {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		p := byID[id]
		delete(byID, id)
		slices.SortFunc(p.rows, func(x, y row) int {
			return cmp.Or(cmp.Compare(x.rel, y.rel), strings.Compare(x.aff.Package, y.aff.Package))
		})
		for _, r := range p.rows {
			p.adv.Affected = append(p.adv.Affected, r.aff)
		}
		st.Advisories++
		st.Affected += len(p.adv.Affected)
		if err := emit(p.adv); err != nil {
			return feed, st, err
		}
	}
	return feed, st, nil
}

// trackerAffected maps one release entry's status (see ParseTrackerStats).
func trackerAffected(r trackerRelease, st *Stats) (advisory.Affected, bool) {
	aff := advisory.Affected{Severities: urgencySeverity(r.Urgency)}
	switch r.Status {
	case "resolved":
		switch v := r.FixedVersion; {
		case v == "0":
			aff.Status, aff.VendorStatus = advisory.StatusNotAffected, "resolved (fixed_version 0)"
		case v == "":
			st.skip("resolved without fixed_version")
			return aff, false
		case !validVersion(v):
			st.skip("invalid version")
			return aff, false
		default:
			aff.Status, aff.VendorStatus = advisory.StatusAffected, "resolved"
			aff.Ranges = fixedRanges(v)
		}
	case "open", "undetermined":
		aff.Status, aff.VendorStatus = advisory.StatusUnfixed, r.Status
		if r.NoDSA != "" || r.NoDSAReason != "" {
			s := "no-dsa"
			if r.NoDSAReason != "" {
				s += " (" + r.NoDSAReason + ")"
			}
			if r.NoDSA != "" {
				s += ": " + r.NoDSA
			}
			aff.VendorStatus += ", " + s
		}
		if r.Urgency == "end-of-life" {
			aff.VendorStatus += ", end-of-life"
		}
		if r.Status == "open" && (r.NoDSAReason == "ignored" || r.Urgency == "end-of-life") {
			aff.Status = advisory.StatusWillNotFix
		}
	default:
		st.skip("unknown status " + clip(r.Status, 40))
		return aff, false
	}
	return aff, true
}

// describe splits a description into its first line (the summary) and the
// whole text when there is more than that line.
func describe(d string) (summary, details string) {
	d = strings.TrimSpace(strings.ToValidUTF8(d, "\uFFFD"))
	first, _, more := strings.Cut(d, "\n")
	first = strings.TrimSpace(first)
	if more {
		return first, d
	}
	return first, ""
}

func expectDelim(dec *json.Decoder, want json.Delim) error {
	tok, err := dec.Token()
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return fmt.Errorf("expected %v, found %v", want, tok)
	}
	return nil
}

// DetectTracker reports whether a file is the tracker JSON, from its first
// bytes: an object whose first package holds an id with "releases" and a
// "status" or "repositories". The name is not needed (the tracker serves
// it as "json").
func DetectTracker(name string, head []byte) bool {
	h := bytes.TrimLeft(head, " \t\r\n\xef\xbb\xbf")
	if len(h) == 0 || h[0] != '{' {
		return false
	}
	return bytes.Contains(h, []byte(`"releases"`)) &&
		(bytes.Contains(h, []byte(`"status"`)) || bytes.Contains(h, []byte(`"repositories"`))) &&
		(bytes.Contains(h, []byte(`"CVE-`)) || bytes.Contains(h, []byte(`"TEMP-`)))
}
