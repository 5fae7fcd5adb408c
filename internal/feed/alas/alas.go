// Package alas reads Amazon Linux Security Advisories (ALAS) from a yum
// repository's updateinfo.xml into the normalised advisory model.
//
// ALAS errata list binary RPMs: every package of an update is a binary
// package, once per architecture. The advisory keeps one Affected per
// binary package name (BinaryKeyed), fixed at the update's
// [epoch:]version-release, because that is what an installed RPM is
// compared with; the architectures carry no more information.
//
// The release comes from the advisory id, the one field every record has
// and Amazon never varies: "ALAS-" is Amazon Linux 1 (the 2018.03 AMI),
// "ALAS2-" Amazon Linux 2, "ALAS2022-" and "ALAS2023-" those releases.
// Amazon Linux 2 Extras Library topics have their own ids and repositories
// ("ALAS2KERNEL-5.10-2022-002" in amzn2extra-kernel-5.10): they are
// Amazon Linux 2 packages, so the ecosystem is "Amazon Linux:2", and
// Affected.Repository names the topic ("kernel-5.10"), because the fix is
// published in the topic's repository only. Without it a kernel 5.10 fix
// would look like a missing fix on every kernel 4.14 host.
package alas

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"html"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kensa-dev/kensa/internal/advisory"
)

// updateinfo.xml, one <update> per advisory:
//
//	<updates><update type="security" status="final" …>
//	  <id>ALAS2-2018-939</id><title>…</title>
//	  <issued date="2018-01-11 21:05"/><updated date="2018-01-16 01:28"/>
//	  <severity>critical</severity><description>…</description>
//	  <references><reference href="…" id="CVE-2017-5754" type="cve"/></references>
//	  <pkglist><collection short="amazon-linux-2"><name>Amazon Linux 2</name>
//	    <package name="kernel" epoch="0" version="4.9.76" release="38.79.amzn2" arch="x86_64">
//	      <filename>…</filename></package></collection></pkglist></update></updates>
type xmlUpdate struct {
	Type        string    `xml:"type,attr"`
	ID          string    `xml:"id"`
	Title       string    `xml:"title"`
	Issued      xmlDate   `xml:"issued"`
	Updated     xmlDate   `xml:"updated"`
	Severity    string    `xml:"severity"`
	Description string    `xml:"description"`
	References  []xmlRef  `xml:"references>reference"`
	Packages    []xmlPkgs `xml:"pkglist>collection"`
}

type xmlDate struct {
	Date string `xml:"date,attr"`
}

type xmlRef struct {
	Href string `xml:"href,attr"`
	ID   string `xml:"id,attr"`
	Type string `xml:"type,attr"`
}

type xmlPkgs struct {
	Package []xmlPkg `xml:"package"`
}

type xmlPkg struct {
	Name    string `xml:"name,attr"`
	Epoch   string `xml:"epoch,attr"`
	Version string `xml:"version,attr"`
	Release string `xml:"release,attr"`
}

// idRe splits an ALAS id: release digits (none for Amazon Linux 1), an
// Extras topic ("KERNEL-5.10"), year and number.
var idRe = regexp.MustCompile(`^ALAS([0-9]*)([A-Z][A-Z0-9.-]*?)?-([0-9]{4})-([0-9]+)$`)

var (
	cveRe   = regexp.MustCompile(`^CVE-[0-9]{4}-[0-9]{4,19}$`)
	epochRe = regexp.MustCompile(`^[0-9]{1,10}$`)
	// evrRe bounds the version and release fields to what rpm allows.
	evrRe = regexp.MustCompile(`^[A-Za-z0-9._+~^]+$`)
)

// release is what an id says about where an advisory applies.
type release struct {
	number string // "1", "2", "2022", "2023"
	topic  string // Extras topic, lower case: "kernel-5.10"
	page   string // the advisory's page on alas.aws.amazon.com
}

func parseID(id string) (release, bool) {
	m := idRe.FindStringSubmatch(id)
	if m == nil {
		return release{}, false
	}
	rel := release{number: m[1], topic: strings.ToLower(m[2])}
	// The site drops the release from the id ("ALAS2-2019-1141" is
	// /AL2/ALAS-2019-1141.html) and files every release but the first
	// under its own directory.
	name := "ALAS" + m[2] + "-" + m[3] + "-" + m[4] + ".html"
	if rel.number == "" {
		rel.number = "1"
		rel.page = "https://alas.aws.amazon.com/" + name
	} else {
		rel.page = "https://alas.aws.amazon.com/AL" + rel.number + "/" + name
	}
	return rel, true
}

func (r release) feedName() string {
	if r.topic != "" {
		return "alas/" + r.number + "/" + r.topic
	}
	return "alas/" + r.number
}

var kinds = map[string]string{
	"security":    advisory.KindSecurity,
	"bugfix":      advisory.KindBugfix,
	"enhancement": advisory.KindEnhancement,
	// yum's fourth type; a new package fixes nothing.
	"newpackage": advisory.KindEnhancement,
}

// Parse reads a decompressed updateinfo.xml and calls emit with one
// advisory per <update>, in file order.
//
// Mapping: ID as given, Kind from the type attribute (security, bugfix,
// enhancement; newpackage counts as enhancement), Summary the title,
// Details the description, Published and Modified the issued and updated
// dates (UTC; the file gives no zone), Aliases the ids of the CVE
// references, Severities the ALAS severity as spelled ("important",
// "Important"), References every href and then the advisory's page.
// Affected: one per distinct binary package name and fixed version,
// Ecosystem "Amazon Linux:<release>", StatusAffected, range introduced
// "0", fixed "[epoch:]version-release" (epoch left out when 0).
//
// Amazon's descriptions are HTML-escaped before being XML-escaped
// ("&amp;#039;"), so the description is unescaped twice: once by XML,
// once as HTML.
//
// Feed.Name is "alas/<release>" ("alas/2023"), with the Extras topic for
// a topic's repository ("alas/2/kernel-5.10"), when every record agrees;
// a file mixing releases, or one without records, is named "alas", so it
// can never replace a single release's source in the store. The file does
// not say when it was produced; Feed.Generated is zero.
//
// Anything but an <updates> document, an id that is not an ALAS id, an
// unknown type, a bad date or a package without a name, version or
// release is an error naming the advisory: a half-understood erratum
// could claim a fix that is not there.
func Parse(r io.Reader, emit func(*advisory.Advisory) error) (advisory.Feed, error) {
	feed := advisory.Feed{Name: "alas", Format: "alas"}
	dec := xml.NewDecoder(r)
	var (
		name   string
		mixed  bool
		seen   = map[string]bool{}
		inRoot bool
		done   bool
	)
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return feed, fmt.Errorf("alas: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch {
			case done:
				return feed, errors.New("alas: data after </updates>")
			case !inRoot:
				if t.Name.Local != "updates" {
					return feed, fmt.Errorf("alas: not an updateinfo document (root element <%s>)", clip(t.Name.Local))
				}
				inRoot = true
			case t.Name.Local == "update":
				var u xmlUpdate
				if err := dec.DecodeElement(&u, &t); err != nil {
					return feed, fmt.Errorf("alas: update %d: %w", len(seen)+1, err)
				}
				a, rel, err := convert(&u)
				if err != nil {
					return feed, fmt.Errorf("alas: %w", err)
				}
				if seen[a.ID] {
					return feed, fmt.Errorf("alas: %s repeated", a.ID)
				}
				seen[a.ID] = true
				switch n := rel.feedName(); {
				case name == "":
					name = n
				case name != n:
					mixed = true
				}
				if err := emit(a); err != nil {
					return feed, err
				}
			default:
				if err := dec.Skip(); err != nil {
					return feed, fmt.Errorf("alas: %w", err)
				}
			}
		case xml.EndElement:
			done = true // the decoder has checked it closes <updates>
		case xml.CharData:
			if (!inRoot || done) && len(bytes.TrimSpace(t)) > 0 {
				return feed, errors.New("alas: text outside the document element")
			}
		}
	}
	if !done {
		return feed, errors.New("alas: no <updates> document")
	}
	if name != "" && !mixed {
		feed.Name = name
	}
	return feed, nil
}

func convert(u *xmlUpdate) (*advisory.Advisory, release, error) {
	id := strings.TrimSpace(u.ID)
	rel, ok := parseID(id)
	if !ok {
		return nil, rel, fmt.Errorf("update id %q is not an ALAS id", clip(id))
	}
	kind, ok := kinds[strings.ToLower(u.Type)]
	if !ok {
		return nil, rel, fmt.Errorf("%s: unknown update type %q", id, clip(u.Type))
	}
	a := &advisory.Advisory{
		ID:       id,
		Kind:     kind,
		Summary:  text(u.Title),
		Details:  text(html.UnescapeString(u.Description)),
		Affected: []advisory.Affected{},
	}
	var err error
	if a.Published, err = parseDate(u.Issued.Date); err != nil {
		return nil, rel, fmt.Errorf("%s: issued: %w", id, err)
	}
	if a.Modified, err = parseDate(u.Updated.Date); err != nil {
		return nil, rel, fmt.Errorf("%s: updated: %w", id, err)
	}
	if s := text(u.Severity); s != "" {
		a.Severities = []advisory.Severity{{Source: advisory.SourceVendor, Type: "alas-severity", Value: s}}
	}
	for _, ref := range u.References {
		if cve := strings.TrimSpace(ref.ID); strings.EqualFold(ref.Type, "cve") && cveRe.MatchString(cve) && cve != id {
			a.Aliases = append(a.Aliases, cve)
		}
		if h := text(ref.Href); h != "" && !slices.Contains(a.References, h) {
			a.References = append(a.References, h)
		}
	}
	if !slices.Contains(a.References, rel.page) {
		a.References = append(a.References, rel.page)
	}
	slices.Sort(a.Aliases)
	a.Aliases = slices.Compact(a.Aliases)

	type key struct{ name, fixed string }
	have := map[key]bool{}
	for _, c := range u.Packages {
		for _, p := range c.Package {
			fixed, err := evr(p)
			if err != nil {
				return nil, rel, fmt.Errorf("%s: package %q: %w", id, clip(p.Name), err)
			}
			k := key{p.Name, fixed}
			if have[k] {
				continue // another architecture of the same build
			}
			have[k] = true
			a.Affected = append(a.Affected, advisory.Affected{
				Ecosystem:   "Amazon Linux:" + rel.number,
				Package:     p.Name,
				BinaryKeyed: true,
				Status:      advisory.StatusAffected,
				Ranges: []advisory.Range{{
					Type:   advisory.RangeEcosystem,
					Events: []advisory.Event{{Introduced: "0"}, {Fixed: fixed}},
				}},
				Repository: rel.topic,
			})
		}
	}
	slices.SortStableFunc(a.Affected, func(x, y advisory.Affected) int { return strings.Compare(x.Package, y.Package) })
	return a, rel, nil
}

// evr is the package's [epoch:]version-release, as rpm prints it.
func evr(p xmlPkg) (string, error) {
	if p.Name == "" || strings.ContainsAny(p.Name, " \t\r\n/") || len(p.Name) > 256 {
		return "", errors.New("no valid name")
	}
	if !evrRe.MatchString(p.Version) || !evrRe.MatchString(p.Release) || len(p.Version)+len(p.Release) > 256 {
		return "", fmt.Errorf("bad version %q or release %q", clip(p.Version), clip(p.Release))
	}
	v := p.Version + "-" + p.Release
	switch e := strings.TrimSpace(p.Epoch); {
	case e == "" || strings.Trim(e, "0") == "":
	case epochRe.MatchString(e):
		v = strings.TrimLeft(e, "0") + ":" + v
	default:
		return "", fmt.Errorf("bad epoch %q", clip(e))
	}
	return v, nil
}

// parseDate reads the "2018-01-11 21:05" of ALAS files, with seconds or
// without a time as other yum repositories write it, or Unix seconds.
func parseDate(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{"2006-01-02 15:04", "2006-01-02 15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n > 0 && n < 1<<40 {
		return time.Unix(n, 0).UTC(), nil
	}
	return time.Time{}, fmt.Errorf("bad date %q", clip(s))
}

func text(s string) string {
	return strings.TrimSpace(strings.ToValidUTF8(s, "\uFFFD"))
}

// clip bounds a string from the input before it goes into a message.
func clip(s string) string {
	if len(s) > 80 {
		s = s[:80] + "…"
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

// Detect reports whether a file is an Amazon Linux updateinfo.xml, from
// its first bytes: an <updates> document whose first record is an ALAS
// (the same format serves CentOS or Oracle errata, which are not ALAS).
// The content must be decompressed; repositories serve it gzipped.
func Detect(name string, head []byte) bool {
	return bytes.Contains(head, []byte("<updates")) &&
		(bytes.Contains(head, []byte("<id>ALAS")) || bytes.Contains(head, []byte("linux-security@amazon.com")))
}
