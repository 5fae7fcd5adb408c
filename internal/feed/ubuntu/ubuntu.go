// Package ubuntu reads the per-release vulnerability databases Canonical
// published for its cvescan tool ("ubuntu-vuln-db-<codename>.json", built
// from the Ubuntu CVE Tracker) into normalised advisories.
//
// A database is one JSON object:
//
//	{"metadata": {"timestamp": 1631863298, "ttl": 3900, "version": "1.0"},
//	 "data": {"CVE-2021-3156": {"priority": "high", "releases": {"focal": {
//	     "sudo": {"binaries": ["sudo", "sudo-ldap"],
//	              "status": ["released", "1.8.31-1ubuntu1.2"],
//	              "repository": "Ubuntu Archive"}}}}}}
//
// Each CVE becomes one advisory whose ID is the CVE id; each (release,
// source package) pair becomes one Affected, in the OSV ecosystem of the
// release ("Ubuntu:20.04:LTS"). The tracker's status words map to the
// advisory statuses as follows; the table is explicit because guessing
// wrong in either direction is a false finding or a missed one:
//
//	released       StatusAffected, range introduced "0", fixed <version>
//	released-esm   the same, in the Ubuntu Pro ecosystem
//	needed         StatusUnfixed: vulnerable, no fix published
//	needs-triage   StatusUnfixed: not yet assessed, so presumed vulnerable
//	active         StatusUnfixed (the tracker's old word for needed)
//	pending        StatusUnfixed: a fix is prepared but not published
//	deferred       StatusUnfixed: the fix is postponed (note: a date)
//	ignored        StatusWillNotFix
//	not-affected   StatusNotAffected (note: a reason, or the version that
//	               already had the fix when the release shipped)
//	DNE            no Affected: the package does not exist in the release
//
// Any other word is an error naming it: an unknown status is never taken
// to mean "fixed". VendorStatus keeps the word and its note as the
// tracker writes them: "released (1.8.31-1ubuntu1.2)", "needed",
// "not-affected (code not present)".
//
// A "released" entry without a fixed version (one firefox entry in each of
// the focal and jammy databases) says the fix is out without saying in
// which version. cvescan compares installed versions against that empty
// version and finds every one of them patched; Kensa follows the
// publisher's reading and records StatusNotAffected with VendorStatus
// "released", rather than inventing a version or flagging every install
// forever. The same holds for a note that is not a Debian version.
//
// Where a fix is published only to Ubuntu Pro (the repository field names
// esm-infra or esm-apps, as "UA Infra", "UA for Apps" or the pocket name,
// or the release key is the tracker's "trusty/esm", "esm-infra/xenial"),
// the Affected is in OSV's Pro ecosystem ("Ubuntu:Pro:18.04:LTS") and
// Repository names the pocket. The focal and jammy databases hold only
// "Ubuntu Archive" fixes.
package ubuntu

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kensa-dev/kensa/internal/advisory"
)

// Format is the advisory.Feed format name of this parser.
const Format = "ubuntu-cvescan"

// Feed name prefix: "ubuntu-cvescan/focal".
const namePrefix = "ubuntu-cvescan/"

// Repository names of the Ubuntu Pro pockets, as Affected.Repository
// spells them (the apt pocket names Ubuntu Pro uses).
const (
	RepoESMInfra = "esm-infra"
	RepoESMApps  = "esm-apps"
)

// release is one Ubuntu release: its version and whether it is LTS.
type release struct {
	version string
	lts     bool
}

// releases maps every Ubuntu codename to its version. A table, not a rule,
// because codenames carry no version; an unknown codename is an error, so
// a new release is added here rather than guessed.
var releases = map[string]release{
	"warty": {"4.10", false}, "hoary": {"5.04", false}, "breezy": {"5.10", false},
	"dapper": {"6.06", true}, "edgy": {"6.10", false}, "feisty": {"7.04", false},
	"gutsy": {"7.10", false}, "hardy": {"8.04", true}, "intrepid": {"8.10", false},
	"jaunty": {"9.04", false}, "karmic": {"9.10", false}, "lucid": {"10.04", true},
	"maverick": {"10.10", false}, "natty": {"11.04", false}, "oneiric": {"11.10", false},
	"precise": {"12.04", true}, "quantal": {"12.10", false}, "raring": {"13.04", false},
	"saucy": {"13.10", false}, "trusty": {"14.04", true}, "utopic": {"14.10", false},
	"vivid": {"15.04", false}, "wily": {"15.10", false}, "xenial": {"16.04", true},
	"yakkety": {"16.10", false}, "zesty": {"17.04", false}, "artful": {"17.10", false},
	"bionic": {"18.04", true}, "cosmic": {"18.10", false}, "disco": {"19.04", false},
	"eoan": {"19.10", false}, "focal": {"20.04", true}, "groovy": {"20.10", false},
	"hirsute": {"21.04", false}, "impish": {"21.10", false}, "jammy": {"22.04", true},
	"kinetic": {"22.10", false}, "lunar": {"23.04", false}, "mantic": {"23.10", false},
	"noble": {"24.04", true}, "oracular": {"24.10", false}, "plucky": {"25.04", false},
	"questing": {"25.10", false}, "resolute": {"26.04", true},
}

// Ecosystem returns OSV's ecosystem for packages of the release named by
// codename: "Ubuntu:22.04:LTS", "Ubuntu:23.10", or with pro set
// "Ubuntu:Pro:18.04:LTS" (Ubuntu Pro exists for LTS releases only).
func Ecosystem(codename string, pro bool) (string, error) {
	r, ok := releases[codename]
	if !ok {
		return "", fmt.Errorf("unknown release %q", codename)
	}
	switch {
	case pro && !r.lts:
		return "", fmt.Errorf("ubuntu pro fix for %s, which is not an LTS release", codename)
	case pro:
		return "Ubuntu:Pro:" + r.version + ":LTS", nil
	case r.lts:
		return "Ubuntu:" + r.version + ":LTS", nil
	}
	return "Ubuntu:" + r.version, nil
}

// releaseKey splits a key of a CVE's "releases" object into the codename
// and the Pro pocket it implies. Besides plain codenames the tracker names
// ESM releases "trusty/esm" (the first ESM, now esm-infra) and
// "esm-infra/xenial", "esm-apps/focal".
func releaseKey(key string) (codename, repo string) {
	if c, ok := strings.CutSuffix(key, "/esm"); ok {
		return c, RepoESMInfra
	}
	if p, c, ok := strings.Cut(key, "/"); ok && (p == RepoESMInfra || p == RepoESMApps) {
		return c, p
	}
	return key, ""
}

// repository maps the database's repository field to a Pro pocket, "" for
// the release's own archive. Unknown names are errors: a fix in a pocket
// Kensa does not know is not a fix it can place.
func repository(s string) (string, error) {
	switch s {
	case "", "Ubuntu Archive":
		return "", nil
	case "UA Infra", "UA for Infra", "ESM Infra", RepoESMInfra:
		return RepoESMInfra, nil
	case "UA Apps", "UA for Apps", "ESM Apps", RepoESMApps:
		return RepoESMApps, nil
	}
	return "", fmt.Errorf("unknown repository %q", s)
}

// entry is one source package of one release of a CVE.
type entry struct {
	Binaries   []string `json:"binaries"`
	Status     []string `json:"status"`
	Repository string   `json:"repository"`
}

// record is one CVE of the data object.
type record struct {
	Priority string                      `json:"priority"`
	Releases map[string]map[string]entry `json:"releases"`
}

type metadata struct {
	Timestamp *int64 `json:"timestamp"`
	Version   string `json:"version"`
}

// Parse reads a decompressed cvescan database from r and calls emit with
// each CVE's advisory, in file order, as it is read: only one record is
// held at a time (the focal and jammy databases are 11 and 14 MB; parsing
// either keeps under 1 MB live beyond the input). It returns the feed
// description once the whole object has been read. An error (malformed
// JSON, an unknown status, release or repository, an error from emit)
// stops the parse; what was emitted before it is then incomplete and the
// caller must discard it.
//
// Every release key of one database must name the same release: the feed
// is named after it ("ubuntu-cvescan/focal"), and importing a feed again
// replaces it, so a database mixing releases has no honest name.
func Parse(r io.Reader, emit func(*advisory.Advisory) error) (advisory.Feed, error) {
	feed := advisory.Feed{Format: Format}
	p := parser{dec: json.NewDecoder(r), emit: emit, seen: map[string]struct{}{}}
	if err := p.top(&feed); err != nil {
		return advisory.Feed{}, fmt.Errorf("ubuntu: %w", err)
	}
	if p.codename == "" {
		return advisory.Feed{}, errors.New("ubuntu: database names no release")
	}
	feed.Name = namePrefix + p.codename
	return feed, nil
}

type parser struct {
	dec      *json.Decoder
	emit     func(*advisory.Advisory) error
	codename string
	seen     map[string]struct{}
}

// top reads the outer object: "data" and "metadata" in either order (the
// published files put data first), other keys skipped.
func (p *parser) top(feed *advisory.Feed) error {
	if err := p.delim('{', "database"); err != nil {
		return err
	}
	var sawData bool
	for p.dec.More() {
		key, err := p.key()
		if err != nil {
			return err
		}
		switch key {
		case "data":
			if sawData {
				return errors.New(`duplicate "data"`)
			}
			sawData = true
			if err := p.data(); err != nil {
				return err
			}
		case "metadata":
			var m metadata
			if err := p.dec.Decode(&m); err != nil {
				return fmt.Errorf("metadata: %w", syntax(err))
			}
			if m.Version != "" && m.Version != "1.0" {
				return fmt.Errorf("metadata: unsupported version %q", m.Version)
			}
			if m.Timestamp != nil {
				feed.Generated = time.Unix(*m.Timestamp, 0).UTC()
			}
		default:
			var skip json.RawMessage
			if err := p.dec.Decode(&skip); err != nil {
				return fmt.Errorf("%s: %w", key, syntax(err))
			}
		}
	}
	if err := p.delim('}', "database"); err != nil {
		return err
	}
	if !sawData {
		return errors.New(`no "data" object: not a cvescan database`)
	}
	if _, err := p.dec.Token(); err != io.EOF {
		return errors.New("data after the database object")
	}
	return nil
}

// data reads the CVE map one record at a time.
func (p *parser) data() error {
	if err := p.delim('{', `"data"`); err != nil {
		return err
	}
	for p.dec.More() {
		id, err := p.key()
		if err != nil {
			return err
		}
		if id == "" {
			return errors.New("empty cve id")
		}
		if _, dup := p.seen[id]; dup {
			return fmt.Errorf("%s: listed twice", id)
		}
		p.seen[id] = struct{}{}
		var rec record
		if err := p.dec.Decode(&rec); err != nil {
			return fmt.Errorf("%s: %w", id, syntax(err))
		}
		adv, err := p.advisory(id, &rec)
		if err != nil {
			return fmt.Errorf("%s: %w", id, err)
		}
		if err := p.emit(adv); err != nil {
			return fmt.Errorf("%s: %w", id, err)
		}
	}
	return p.delim('}', `"data"`)
}

// advisory converts one record. Releases and packages are sorted so that
// the output does not depend on the order JSON objects were read in.
func (p *parser) advisory(id string, rec *record) (*advisory.Advisory, error) {
	adv := &advisory.Advisory{
		ID:         id,
		Kind:       advisory.KindSecurity,
		References: []string{"https://ubuntu.com/security/" + id},
		Affected:   []advisory.Affected{},
	}
	if rec.Priority != "" {
		adv.Severities = []advisory.Severity{{Source: advisory.SourceVendor, Type: "ubuntu-priority", Value: rec.Priority}}
	}
	for _, key := range sortedKeys(rec.Releases) {
		codename, keyRepo := releaseKey(key)
		if _, ok := releases[codename]; !ok {
			return nil, fmt.Errorf("unknown release %q", key)
		}
		if p.codename == "" {
			p.codename = codename
		} else if codename != p.codename {
			return nil, fmt.Errorf("release %q in a database of %s", key, p.codename)
		}
		pkgs := rec.Releases[key]
		for _, name := range sortedKeys(pkgs) {
			if name == "" {
				return nil, fmt.Errorf("%s: empty package name", key)
			}
			a, ok, err := affected(codename, keyRepo, name, pkgs[name])
			if err != nil {
				return nil, fmt.Errorf("%s %s: %w", key, name, err)
			}
			if ok {
				adv.Affected = append(adv.Affected, a)
			}
		}
	}
	return adv, nil
}

// affected converts one package entry; ok is false for DNE.
func affected(codename, keyRepo, name string, e entry) (a advisory.Affected, ok bool, err error) {
	if len(e.Status) == 0 || len(e.Status) > 2 {
		return a, false, fmt.Errorf("status has %d elements, want 1 or 2", len(e.Status))
	}
	word, note := e.Status[0], ""
	if len(e.Status) == 2 {
		note = strings.TrimSpace(e.Status[1])
	}
	repo, err := repository(e.Repository)
	if err != nil {
		return a, false, err
	}
	if repo == "" {
		repo = keyRepo
	}
	pro := repo != ""
	a = advisory.Affected{Package: name, Binaries: binaries(e.Binaries), Repository: repo, VendorStatus: word}
	if note != "" {
		a.VendorStatus += " (" + note + ")"
	}
	switch word {
	case "released", "released-esm":
		pro = pro || word == "released-esm"
		if isVersion(note) {
			a.Status = advisory.StatusAffected
			a.Ranges = []advisory.Range{{Type: advisory.RangeEcosystem, Events: []advisory.Event{{Introduced: "0"}, {Fixed: note}}}}
		} else {
			// Released without a version: see the package comment.
			a.Status = advisory.StatusNotAffected
		}
	case "needed", "needs-triage", "active", "pending", "deferred":
		a.Status = advisory.StatusUnfixed
	case "ignored":
		a.Status = advisory.StatusWillNotFix
	case "not-affected":
		a.Status = advisory.StatusNotAffected
	case "DNE":
		return a, false, nil
	default:
		return a, false, fmt.Errorf("unknown status %q", word)
	}
	if a.Ecosystem, err = Ecosystem(codename, pro); err != nil {
		return a, false, err
	}
	return a, true, nil
}

// isVersion reports whether s can be a Debian version: it starts with a
// digit (an epoch or the upstream version must) and has no spaces. Notes
// such as "code not present" fail.
func isVersion(s string) bool {
	return s != "" && s[0] >= '0' && s[0] <= '9' && !strings.ContainsAny(s, " \t\n")
}

// binaries cleans the binary package list. The tracker wraps long Binary
// lists of debian/control, and the databases keep the wrapping: thousands
// of elements read "firefox-locale-kk,\n firefox-locale-km". They are split
// at commas, trimmed, and duplicates dropped.
func binaries(in []string) []string {
	if len(in) == 0 {
		return nil
	}
	out := make([]string, 0, len(in))
	seen := make(map[string]struct{}, len(in))
	for _, s := range in {
		for b := range strings.SplitSeq(s, ",") {
			b = strings.TrimSpace(b)
			if _, dup := seen[b]; b == "" || dup {
				continue
			}
			seen[b] = struct{}{}
			out = append(out, b)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func (p *parser) delim(want json.Delim, what string) error {
	tok, err := p.dec.Token()
	if err != nil {
		return fmt.Errorf("%s: %w", what, syntax(err))
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return fmt.Errorf("%s: got %s, want %q", what, tokString(tok), string(want))
	}
	return nil
}

func (p *parser) key() (string, error) {
	tok, err := p.dec.Token()
	if err != nil {
		return "", syntax(err)
	}
	s, ok := tok.(string)
	if !ok {
		return "", fmt.Errorf("got %s, want an object key", tokString(tok))
	}
	return s, nil
}

// tokString formats a JSON token for an error message.
func tokString(tok json.Token) string {
	switch t := tok.(type) {
	case json.Delim:
		return strconv.Quote(string(t))
	case string:
		return strconv.Quote(t)
	}
	return fmt.Sprint(tok)
}

// syntax makes a truncated stream say so: encoding/json reports it as a
// bare io.EOF or io.ErrUnexpectedEOF.
func syntax(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("truncated json: %w", io.ErrUnexpectedEOF)
	}
	return err
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}

// Detect reports whether head, the first bytes (4 KiB) of a decompressed
// file, is a cvescan database: a JSON object whose first key is "data"
// holding CVE records, or "metadata" holding the database's metadata. The
// name is not consulted: the files are renamed freely, and content is
// what Parse will read. The older single-file uct.json, a bare map of
// CVEs without the wrapper, is not detected; Parse does not read it.
func Detect(name string, head []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(head))
	next := func() json.Token {
		tok, err := dec.Token()
		if err != nil {
			return nil
		}
		return tok
	}
	if next() != json.Delim('{') {
		return false
	}
	switch next() {
	case "data":
		if next() != json.Delim('{') {
			return false
		}
		id, ok := next().(string)
		if !ok || !strings.HasPrefix(id, "CVE-") || next() != json.Delim('{') {
			return false
		}
		k := next()
		return k == "priority" || k == "releases"
	case "metadata":
		if next() != json.Delim('{') {
			return false
		}
		k := next()
		return k == "timestamp" || k == "ttl" || k == "version"
	}
	return false
}
