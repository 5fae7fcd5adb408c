// Package fetch is the network side of `kensa db update`: it knows where
// every vulnerability feed Kensa can import is published (catalog.go, the
// one place those locations are written down) and downloads them safely
// (fetch.go). Parsing and importing the downloaded files is the
// vulnerability store's business, not this package's.
//
// # What a download guarantees
//
// A Downloader fetches one feed into a directory and either leaves a
// complete, verified file at the feed's path there, replaced atomically by
// rename, or changes nothing: a failed, truncated, oversized, stalled or
// cancelled download removes its temporary file and leaves the previous
// file in place. Requests are conditional (If-None-Match,
// If-Modified-Since) and a body whose SHA-256 equals the previous one is
// reported as not modified too. Every body is bounded by the feed's
// MaxSize, checked against Content-Length, and verified against the
// checksums the publisher gives: Google Cloud Storage's x-goog-hash (MD5
// and CRC32C, for OSV) and the SHA-256 and size in a yum repository's
// repomd.xml (Amazon Linux). The other publishers give none, so for them
// only the length is checked here and the format by the importer. These
// checks catch corruption in transit; they are not signatures, and a feed
// served over plain HTTP (Amazon Linux 2's mirror list) can be altered by
// anyone on the path.
//
// # Mirrors
//
// Options.Mirror replaces the official hosts. Every feed has a stable
// relative path (Feed.Path) and a mirror holds each feed at that path:
//
//	osv/<Ecosystem>/all.zip                   OSV, one zip per ecosystem ("osv/Rocky Linux/all.zip")
//	debian/tracker.json                       Debian security tracker JSON
//	alpine/v3.NN/main.json                    Alpine secdb, per release and repository
//	alpine/v3.NN/community.json
//	alas/al2023/updateinfo.xml.gz             Amazon Linux 2023 updateinfo (x86_64)
//	alas/al2/updateinfo.xml.gz                Amazon Linux 2 updateinfo (x86_64)
//	kev/known_exploited_vulnerabilities.json  CISA KEV catalog
//
// A mirror is either a URL (http or https: the file is fetched from
// <mirror>/<path>, each path segment URL-escaped) or a local directory
// (the file is copied from <dir>/<path>, with the same size cap and atomic
// replacement). The directory a Downloader downloads into has the same
// layout, so one machine's download directory can serve as another's
// mirror. An administrator can build a mirror with wget, one file per
// feed; for example, for a Debian host with Go software:
//
//	wget -O osv/Debian/all.zip https://osv-vulnerabilities.storage.googleapis.com/Debian/all.zip
//	wget -O osv/Go/all.zip     https://osv-vulnerabilities.storage.googleapis.com/Go/all.zip
//	wget -O debian/tracker.json https://security-tracker.debian.org/tracker/data/json
//	wget -O kev/known_exploited_vulnerabilities.json \
//	    https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json
//
// (create the directories first). The Amazon Linux files are found in
// two steps, which the mirror builder does once and the mirror then
// serves directly:
//
//	wget -O mirror.list https://cdn.amazonlinux.com/al2023/core/mirrors/latest/x86_64/mirror.list
//	base=$(grep -v '^#' mirror.list | head -n1 | sed 's/\$basearch/x86_64/; s:/*$::')
//	wget -O repomd.xml "$base/repodata/repomd.xml"
//	loc=$(grep -o 'repodata/[^"]*updateinfo.xml.gz' repomd.xml)
//	wget -O alas/al2023/updateinfo.xml.gz "$base/$loc"
//
// # Testing
//
// The official locations are not reachable from the machine Kensa is
// developed on (it has no internet access except the Go module proxy,
// Debian's apt archive and npm), so this code has only ever been run
// against local test servers (net/http/httptest) serving fixture bytes
// and real feed files copied earlier. The URLs in the catalog are written
// from the publishers' documentation and have not been fetched from here.
package fetch
