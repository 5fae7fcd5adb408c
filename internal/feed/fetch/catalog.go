package fetch

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// Formats of the feeds, named as the importer's parsers are
// (advisory.Feed.Format).
const (
	// FormatOSV is a zip of OSV JSON records, one file per advisory.
	FormatOSV = "osv"
	// FormatDebianTracker is the Debian security tracker's JSON export:
	// source package → CVE → release → status and fixed version.
	FormatDebianTracker = "debian-tracker"
	// FormatAlpineSecdb is one secdb JSON file of one Alpine release and
	// repository.
	FormatAlpineSecdb = "alpine-secdb"
	// FormatALAS is a yum updateinfo.xml.gz of Amazon Linux errata.
	FormatALAS = "alas"
	// FormatKEV is CISA's Known Exploited Vulnerabilities catalog JSON.
	FormatKEV = "kev"
)

// Integrity says what a publisher gives to check a download against.
type Integrity string

const (
	// IntegrityGoogHash: Google Cloud Storage's x-goog-hash header (MD5
	// and CRC32C of the object), verified when present, plus
	// Content-Length. Composite objects carry CRC32C only.
	IntegrityGoogHash Integrity = "x-goog-hash"
	// IntegrityLength: Content-Length only; whether the bytes are the
	// format they should be is checked by the importer.
	IntegrityLength Integrity = "content-length"
	// IntegrityRepomd: the SHA-256 and size the yum repository's
	// repomd.xml lists for the file.
	IntegrityRepomd Integrity = "repomd"
)

// Resolve says how a feed's URL leads to the file.
type Resolve string

const (
	// ResolveDirect: URL is the file.
	ResolveDirect Resolve = ""
	// ResolveYumMirrorList: URL is a yum mirror.list whose first entry is
	// a repository base; <base>/repodata/repomd.xml names the
	// updateinfo file (its location, SHA-256 and size), which is then
	// downloaded from the base. With a mirror the file is fetched from
	// the mirror directly, without the two steps.
	ResolveYumMirrorList Resolve = "yum-mirrorlist"
)

// Size caps. OSV's Debian all.zip is already over 100 MB and grows; the
// caps are generous, so only a runaway or hostile server reaches them.
const (
	MaxSizeOSV   int64 = 2 << 30   // 2 GiB
	MaxSizeOther int64 = 512 << 20 // 512 MiB
)

// Feed is one downloadable source of advisories.
type Feed struct {
	// Name is the stable key of the source, the same the store uses
	// (advisory.Feed.Name): "osv/Debian", "debian/tracker",
	// "alpine-secdb/v3.20/main", "alas/ALAS2023", "kev".
	Name string
	// Format is the importer's parser for the file (Format constants).
	Format string
	// URL is the official location.
	URL string
	// Path is the feed's slash-separated relative path in a mirror and in
	// the download directory: "osv/Debian/all.zip".
	Path string
	// Ecosystems are the host ecosystems the feed serves. A host
	// ecosystem is served when it equals one of them or extends one with
	// ":" ("Debian:12" is served by "Debian", "Alpine:v3.20" by
	// "Alpine:v3.20" but not "Alpine:v3.2").
	Ecosystems []string
	// Always is true for a feed every host needs (KEV).
	Always bool
	// MaxSize is the largest file accepted, in bytes.
	MaxSize int64
	// Integrity is what the download is verified against.
	Integrity Integrity
	// Resolve is how URL leads to the file.
	Resolve Resolve
	// Note is anything an operator should know about the source.
	Note string
}

// Needs reports whether a host with the ecosystem needs the feed.
func (f Feed) Needs(ecosystem string) bool {
	return f.Always || f.serves(ecosystem)
}

// serves reports whether one of the feed's ecosystems covers ecosystem.
func (f Feed) serves(ecosystem string) bool {
	for _, e := range f.Ecosystems {
		if servesEcosystem(e, ecosystem) {
			return true
		}
	}
	return false
}

// servesEcosystem reports whether feedEco covers host: equal, or host
// extends it with ":" (case-insensitively, for names typed by people).
func servesEcosystem(feedEco, host string) bool {
	if strings.EqualFold(feedEco, host) {
		return true
	}
	return len(host) > len(feedEco) && host[len(feedEco)] == ':' && strings.EqualFold(host[:len(feedEco)], feedEco)
}

// alpineRelease is the shape of an Alpine release in an ecosystem name.
var alpineRelease = regexp.MustCompile(`^v[0-9]{1,2}\.[0-9]{1,3}$`)

const (
	osvBase   = "https://osv-vulnerabilities.storage.googleapis.com/"
	secdbBase = "https://secdb.alpinelinux.org/"
	// amazonArch is the architecture whose updateinfo is fetched. Amazon
	// publishes the same errata per architecture; x86_64's list names
	// the x86_64 and noarch builds, and the importer keys errata by
	// package name and version, not architecture.
	amazonArch = "x86_64"
)

// Catalog returns every feed Kensa can update from, in a fixed order: OSV
// ecosystems, the Debian tracker, Alpine secdb per listed release, Amazon
// Linux, KEV. Each call returns a fresh slice.
func Catalog() []Feed {
	// The OSV ecosystems Kensa imports, each published by OSV as one zip
	// of all its records.
	osvEcosystems := []string{
		"Debian", "Ubuntu", "AlmaLinux", "Rocky Linux", "Red Hat", "Alpine",
		"Go", "PyPI", "npm", "Maven", "crates.io", "RubyGems", "NuGet", "Packagist",
	}
	// The Alpine releases listed (secdb publishes one directory per
	// release), as of this writing. A host on a release not listed here
	// gets the same two files of its own release (see Select).
	alpineReleases := []string{
		"v3.12", "v3.13", "v3.14", "v3.15", "v3.16", "v3.17", "v3.18", "v3.19", "v3.20", "v3.21", "v3.22",
	}
	var feeds []Feed
	for _, eco := range osvEcosystems {
		f := Feed{
			Name:       "osv/" + eco,
			Format:     FormatOSV,
			URL:        osvBase + url.PathEscape(eco) + "/all.zip",
			Path:       "osv/" + eco + "/all.zip",
			Ecosystems: []string{eco},
			MaxSize:    MaxSizeOSV,
			Integrity:  IntegrityGoogHash,
		}
		switch eco {
		case "Ubuntu":
			f.Note = "Canonical's per-release cvescan JSON databases (ubuntu-vuln-db-<codename>.json.bz2) are discontinued; Ubuntu advisories come from OSV's Ubuntu zip, which also holds the Ubuntu Pro (ESM) ecosystems"
		case "Red Hat":
			f.Note = "OSV's Red Hat ecosystems are per repository (\"Red Hat:enterprise_linux:9::baseos\")"
		case "Alpine":
			f.Note = "OSV's Alpine records are derived from secdb; the secdb feeds are fetched too"
		case "Debian":
			f.Note = "DSA, DLA and DEBIAN-CVE records; the security tracker JSON adds the statuses of unfixed CVEs"
		}
		feeds = append(feeds, f)
	}
	feeds = append(feeds, Feed{
		Name:       "debian/tracker",
		Format:     FormatDebianTracker,
		URL:        "https://security-tracker.debian.org/tracker/data/json",
		Path:       "debian/tracker.json",
		Ecosystems: []string{"Debian"},
		MaxSize:    MaxSizeOther,
		Integrity:  IntegrityLength,
	})
	for _, rel := range alpineReleases {
		feeds = append(feeds, alpineFeeds(rel)...)
	}
	feeds = append(feeds,
		Feed{
			Name:       "alas/ALAS2023",
			Format:     FormatALAS,
			URL:        "https://cdn.amazonlinux.com/al2023/core/mirrors/latest/" + amazonArch + "/mirror.list",
			Path:       "alas/al2023/updateinfo.xml.gz",
			Ecosystems: []string{"Amazon Linux:2023"},
			MaxSize:    MaxSizeOther,
			Integrity:  IntegrityRepomd,
			Resolve:    ResolveYumMirrorList,
		},
		Feed{
			Name:       "alas/ALAS2",
			Format:     FormatALAS,
			URL:        "http://amazonlinux.default.amazonaws.com/2/core/latest/" + amazonArch + "/mirror.list",
			Path:       "alas/al2/updateinfo.xml.gz",
			Ecosystems: []string{"Amazon Linux:2"},
			MaxSize:    MaxSizeOther,
			Integrity:  IntegrityRepomd,
			Resolve:    ResolveYumMirrorList,
			Note:       "the mirror list is served over plain HTTP; the SHA-256 from repomd.xml catches corruption, not tampering",
		},
		Feed{
			Name:      "kev",
			Format:    FormatKEV,
			URL:       "https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json",
			Path:      "kev/known_exploited_vulnerabilities.json",
			Always:    true,
			MaxSize:   MaxSizeOther,
			Integrity: IntegrityLength,
		},
	)
	return feeds
}

// alpineFeeds returns the secdb feeds of one Alpine release ("v3.20").
func alpineFeeds(rel string) []Feed {
	var feeds []Feed
	for _, repo := range []string{"main", "community"} {
		feeds = append(feeds, Feed{
			Name:       "alpine-secdb/" + rel + "/" + repo,
			Format:     FormatAlpineSecdb,
			URL:        secdbBase + rel + "/" + repo + ".json",
			Path:       "alpine/" + rel + "/" + repo + ".json",
			Ecosystems: []string{"Alpine:" + rel},
			MaxSize:    MaxSizeOther,
			Integrity:  IntegrityLength,
		})
	}
	return feeds
}

// withDerived returns the catalog plus the secdb feeds of any Alpine
// release named in ecosystems that the catalog does not list, placed
// after the listed releases.
func withDerived(ecosystems []string) []Feed {
	feeds := Catalog()
	known := map[string]bool{}
	for _, f := range feeds {
		known[strings.ToLower(f.Name)] = true
	}
	var extra []Feed
	for _, eco := range ecosystems {
		prefix, rel, ok := strings.Cut(eco, ":")
		if !ok || !strings.EqualFold(prefix, "Alpine") || !alpineRelease.MatchString(rel) {
			continue
		}
		for _, f := range alpineFeeds(rel) {
			if !known[strings.ToLower(f.Name)] {
				known[strings.ToLower(f.Name)] = true
				extra = append(extra, f)
			}
		}
	}
	if len(extra) == 0 {
		return feeds
	}
	last := 0
	for i, f := range feeds {
		if f.Format == FormatAlpineSecdb {
			last = i + 1
		}
	}
	return slices.Insert(feeds, last, extra...)
}

// Select returns the feeds to update, in catalog order and without
// duplicates:
//
//   - for each host ecosystem in ecosystems (as host.OSRelease.Ecosystem
//     and the language collectors name them: "Debian:12", "Go", "PyPI"),
//     every feed that serves it; a host ecosystem no feed serves
//     ("CentOS:7") selects nothing (see Uncovered);
//   - for each of names (the --ecosystems flag), the feed of that name
//     ("osv/Go", "kev"), or every feed serving that ecosystem or any
//     ecosystem under it ("Debian", "Alpine:v3.20", "Amazon Linux");
//     matching ignores case, and a name matching nothing is an error
//     listing the valid names;
//   - KEV always, since it applies to every host.
//
// An Alpine release the catalog does not list ("Alpine:v3.30") gets the
// secdb files of that release at the usual place.
func Select(ecosystems []string, names []string) ([]Feed, error) {
	all := withDerived(append(slices.Clone(ecosystems), names...))
	pick := make([]bool, len(all))
	for i, f := range all {
		if f.Always {
			pick[i] = true
			continue
		}
		for _, eco := range ecosystems {
			if f.Needs(eco) {
				pick[i] = true
				break
			}
		}
	}
	var unknown []string
	for _, name := range names {
		name = strings.TrimSpace(name)
		matched := false
		for i, f := range all {
			if strings.EqualFold(f.Name, name) || f.serves(name) || coversBroader(f, name) {
				pick[i] = true
				matched = true
			}
		}
		if !matched {
			unknown = append(unknown, fmt.Sprintf("%q", name))
		}
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("fetch: unknown feed or ecosystem %s; valid feeds: %s; valid ecosystems: %s",
			strings.Join(unknown, ", "), strings.Join(feedNames(all), ", "), strings.Join(ecosystemNames(all), ", "))
	}
	var out []Feed
	for i, f := range all {
		if pick[i] {
			out = append(out, f)
		}
	}
	return out, nil
}

// coversBroader reports whether name is a broader ecosystem than one the
// feed serves: "Alpine" for "Alpine:v3.20", "Amazon Linux" for
// "Amazon Linux:2023".
func coversBroader(f Feed, name string) bool {
	if name == "" {
		return false
	}
	for _, e := range f.Ecosystems {
		if servesEcosystem(name, e) {
			return true
		}
	}
	return false
}

// Uncovered returns the host ecosystems that no feed except KEV serves,
// so the caller can say that their vulnerabilities will not be assessed.
func Uncovered(ecosystems []string) []string {
	all := withDerived(ecosystems)
	var out []string
	for _, eco := range ecosystems {
		served := false
		for _, f := range all {
			if f.serves(eco) {
				served = true
				break
			}
		}
		if !served && !slices.Contains(out, eco) {
			out = append(out, eco)
		}
	}
	return out
}

func feedNames(feeds []Feed) []string {
	var names []string
	for _, f := range feeds {
		names = append(names, f.Name)
	}
	return names
}

// ecosystemNames lists the ecosystems the feeds serve, plus the broader
// names that select several of them ("Alpine", "Amazon Linux").
func ecosystemNames(feeds []Feed) []string {
	var names []string
	add := func(n string) {
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	for _, f := range feeds {
		for _, e := range f.Ecosystems {
			if prefix, _, ok := strings.Cut(e, ":"); ok {
				add(prefix)
			}
			add(e)
		}
	}
	return names
}
