// Package java reads Java archives (JAR, WAR, EAR) discovered on a host:
// the Maven coordinates of META-INF/maven/**/pom.properties, or, when an
// archive has none, the less reliable name and version of its
// META-INF/MANIFEST.MF. Archives nested in archives (WEB-INF/lib/*.jar of a
// WAR, BOOT-INF/lib/*.jar of a Spring Boot JAR, any nested .jar/.war/.ear)
// are read too, to a bounded depth and within a bounded number of
// decompressed bytes, since a nested archive is a classic zip bomb.
package java

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"

	"github.com/kensa-dev/kensa/internal/collect"
	"github.com/kensa-dev/kensa/internal/collect/discover"
	"github.com/kensa-dev/kensa/internal/collect/lang"
	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/hostfs"
)

// Name is the collector's name.
const Name = "lang/java"

// Limits of the reading of one archive found on disk.
const (
	// MaxNesting is how deep archives in archives are read: a JAR in a WAR
	// in an EAR is depth 2.
	MaxNesting = 3
	// maxNestedEntry is the largest compressed nested archive read into
	// memory; stored (uncompressed) ones are read in place.
	maxNestedEntry = 32 << 20
	// maxNestedBytes bounds the bytes decompressed from the nested
	// archives of one archive, all depths together.
	maxNestedBytes = 256 << 20
	// maxStoredBytes bounds the bytes of stored nested archives parsed in
	// place, all depths together: entries may overlap, so one small file
	// can hold many archives that all hold one another.
	maxStoredBytes = 1 << 30
	// maxNestedArchives bounds the number of nested archives read.
	maxNestedArchives = 4096
	// maxDirectory bounds the central directory of an archive, which
	// archive/zip holds in memory (a few hundred bytes per entry).
	maxDirectory = 32 << 20
	// maxMetadata bounds a pom.properties or MANIFEST.MF.
	maxMetadata = 256 << 10
)

// Limit names recorded in host.Discovery.LimitsHit.
const (
	LimitNesting     = "java_nesting_depth"
	LimitNestedEntry = "java_nested_entry_size"
	LimitNestedBytes = "java_nested_bytes"
	LimitNestedCount = "java_nested_archives"
	LimitDirectory   = "java_directory_size"
)

// Collector reads Java archives.
type Collector struct {
	w *discover.Walker
}

// New returns the collector, reading the candidates of w.
func New(w *discover.Walker) *Collector { return &Collector{w: w} }

// Name implements collect.Collector.
func (*Collector) Name() string { return Name }

// Collect implements collect.Collector.
func (c *Collector) Collect(ctx context.Context, env *collect.Env, inv *host.Inventory) error {
	maxSize := c.w.Config().MaxFileSize
	return c.w.Each(ctx, env, inv, func(cs *discover.Candidates) []string { return cs.Java }, func(f discover.File) {
		ra, size, closer, err := hostfs.OpenAt(env.FS, f.Path, maxSize)
		if err != nil {
			switch {
			case errors.Is(err, hostfs.ErrTooLarge):
				c.w.RecordLimit(inv, discover.LimitMaxFileSize, f.Location, maxSize)
			case errors.Is(err, fs.ErrNotExist), errors.Is(err, hostfs.ErrNotRegular):
			default:
				env.Errorf("%s: %v", f.Location, err)
			}
			return
		}
		defer closer.Close()
		s := &scan{
			ctx: ctx,
			limit: func(limit, path string, value int64) {
				c.w.RecordLimit(inv, limit, path, value)
			},
			errorf: env.Errorf,
			owner:  f.OwnedBy,
		}
		s.archive(ra, size, f.Location, 0)
		inv.Software = append(inv.Software, s.out...)
		env.Count(len(s.out))
	})
}

// Scan reads the archive of size bytes at ra, found at location, with
// the default limits, and returns the components in it and in its nested
// archives. Problems go to errorf and limits hit to limit; either may be nil.
func Scan(ra io.ReaderAt, size int64, location string, errorf func(string, ...any), limit func(limit, path string, value int64)) []host.Software {
	if errorf == nil {
		errorf = func(string, ...any) {}
	}
	if limit == nil {
		limit = func(string, string, int64) {}
	}
	s := &scan{ctx: context.Background(), limit: limit, errorf: errorf}
	s.archive(ra, size, location, 0)
	return s.out
}

// scan is the reading of one archive found on disk, nested ones included.
type scan struct {
	ctx    context.Context
	limit  func(limit, path string, value int64)
	errorf func(string, ...any)
	owner  string
	// budget is what may still be decompressed from nested archives,
	// stored what may still be parsed in place, count how many more
	// nested archives may be read.
	budget, stored int64
	count          int
	out            []host.Software
}

// archive reads the archive at ra, of size bytes, at location, nested
// depth levels deep.
func (s *scan) archive(ra io.ReaderAt, size int64, location string, depth int) {
	if depth == 0 {
		s.budget, s.stored, s.count = maxNestedBytes, maxStoredBytes, maxNestedArchives
	}
	if err := checkDirectory(ra, size); err != nil {
		if errors.Is(err, errDirectoryTooLarge) {
			s.limit(LimitDirectory, location, maxDirectory)
			return
		}
		s.errorf("%s: %v", location, err)
		return
	}
	zr, err := zip.NewReader(ra, size)
	if err != nil && !(errors.Is(err, zip.ErrInsecurePath) && zr != nil) {
		s.errorf("%s: %v", location, err)
		return
	}
	var manifest *zip.File
	var nested []*zip.File
	seen := map[string]bool{}
	foundPOM := false
	for _, f := range zr.File {
		name := f.Name
		switch {
		case strings.HasPrefix(name, "META-INF/maven/") && strings.HasSuffix(name, "/pom.properties"):
			b, err := readEntry(f, maxMetadata)
			if err != nil {
				s.errorf("%s!/%s: %v", location, name, err)
				continue
			}
			if sw, ok := fromPOM(ParseProperties(b), location); ok {
				foundPOM = true
				if key := sw.Name + "@" + sw.Version; !seen[key] {
					seen[key] = true
					sw.OwnedBy = s.owner
					s.out = append(s.out, sw)
				}
			}
		case strings.EqualFold(name, "META-INF/MANIFEST.MF"):
			manifest = f
		case discover.IsArchive(name) && !f.Mode().IsDir():
			nested = append(nested, f)
		}
	}
	if !foundPOM && manifest != nil {
		b, err := readEntry(manifest, maxMetadata)
		if err != nil {
			s.errorf("%s!/%s: %v", location, manifest.Name, err)
		} else if sw, ok := fromManifest(ParseManifest(b), location); ok {
			sw.OwnedBy = s.owner
			s.out = append(s.out, sw)
		}
	}
	for _, f := range nested {
		if s.ctx.Err() != nil {
			return
		}
		s.nested(ra, size, f, location+"!/"+f.Name, depth+1)
	}
}

// nested reads the archive f inside the archive at ra.
func (s *scan) nested(ra io.ReaderAt, size int64, f *zip.File, location string, depth int) {
	if depth > MaxNesting {
		s.limit(LimitNesting, location, MaxNesting)
		return
	}
	if s.count <= 0 {
		s.limit(LimitNestedCount, location, maxNestedArchives)
		return
	}
	s.count--
	// A stored entry is an archive in place: read it there.
	if f.Method == zip.Store && f.CompressedSize64 == f.UncompressedSize64 && f.Flags&1 == 0 {
		off, err := f.DataOffset()
		n := int64(f.CompressedSize64)
		if err != nil || off < 0 || n < 0 || off > size || n > size-off {
			s.errorf("%s: bad entry offset", location)
			return
		}
		if n > s.stored {
			s.limit(LimitNestedBytes, location, maxStoredBytes)
			return
		}
		s.stored -= n
		s.archive(io.NewSectionReader(ra, off, n), n, location, depth)
		return
	}
	n := f.UncompressedSize64
	if n > maxNestedEntry {
		s.limit(LimitNestedEntry, location, maxNestedEntry)
		return
	}
	if int64(n) > s.budget {
		s.limit(LimitNestedBytes, location, maxNestedBytes)
		return
	}
	s.budget -= int64(n)
	b, err := readEntry(f, int64(n))
	if err != nil {
		s.errorf("%s: %v", location, err)
		return
	}
	s.archive(bytes.NewReader(b), int64(len(b)), location, depth)
}

// readEntry decompresses a zip entry of at most max bytes. archive/zip
// checks the declared size and the checksum.
func readEntry(f *zip.File, max int64) ([]byte, error) {
	if f.UncompressedSize64 > uint64(max) {
		return nil, fmt.Errorf("entry of %d bytes exceeds %d", f.UncompressedSize64, max)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b := make([]byte, f.UncompressedSize64)
	if _, err := io.ReadFull(rc, b); err != nil {
		return nil, err
	}
	return b, nil
}

// fromPOM makes a component of pom.properties: groupId, artifactId and
// version are required, and unresolved "${...}" values are refused.
func fromPOM(p map[string]string, location string) (host.Software, bool) {
	g, a, v := p["groupId"], p["artifactId"], p["version"]
	if !validCoordinate(g) || !validCoordinate(a) || !lang.ValidText(v, 128) || strings.Contains(v, "${") {
		return host.Software{}, false
	}
	return host.Software{
		Ecosystem: lang.EcosystemMaven,
		Name:      g + ":" + a,
		Version:   v,
		PURL:      lang.MavenPURL(g, a, v),
		Kind:      host.KindJavaArchive,
		Location:  location,
		Collector: Name,
	}, true
}

// fromManifest makes a component of a manifest, from
// Implementation-Title/Version or else Bundle-SymbolicName/Version. A
// manifest rarely names the Maven group: only when Implementation-Vendor-Id
// is set and the title is a valid artifact id is the name "group:artifact"
// with a purl; otherwise the name is the title alone and there is no purl,
// so the component is listed but matched against nothing by mistake.
func fromManifest(m map[string]string, location string) (host.Software, bool) {
	title, version := header(m, "Implementation-Title"), header(m, "Implementation-Version")
	if title == "" || version == "" {
		title, _, _ = strings.Cut(header(m, "Bundle-SymbolicName"), ";")
		title = strings.TrimSpace(title)
		version = header(m, "Bundle-Version")
	}
	if title == "" || len(title) > 256 || !lang.ValidText(version, 128) {
		return host.Software{}, false
	}
	sw := host.Software{
		Ecosystem: lang.EcosystemMaven,
		Name:      title,
		Version:   version,
		Kind:      host.KindJavaArchive,
		Location:  location,
		Collector: Name,
	}
	if g := header(m, "Implementation-Vendor-Id"); validCoordinate(g) && validCoordinate(title) {
		sw.Name = g + ":" + title
		sw.PURL = lang.MavenPURL(g, title, version)
	}
	return sw, true
}

// validCoordinate reports whether s is a plausible Maven groupId or
// artifactId: Maven's own rule, [A-Za-z0-9_.-]+.
func validCoordinate(s string) bool { return lang.ValidIdent(s, 256) }

const errDirectoryTooLarge = zipError("central directory too large")

type zipError string

func (e zipError) Error() string { return string(e) }

// checkDirectory reads the end of central directory record of a zip
// archive, zip64 included, and refuses a central directory larger than
// maxDirectory before archive/zip loads it into memory. When no record is
// found it lets archive/zip report the archive as it sees it.
func checkDirectory(ra io.ReaderAt, size int64) error {
	const eocdLen = 22
	if size < eocdLen {
		return errors.New("zip: not a valid zip file")
	}
	tail := int64(eocdLen + 65535)
	if tail > size {
		tail = size
	}
	buf := make([]byte, tail)
	if _, err := ra.ReadAt(buf, size-tail); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	pos := -1
	for i := len(buf) - eocdLen; i >= 0; i-- {
		if buf[i] == 'P' && buf[i+1] == 'K' && buf[i+2] == 5 && buf[i+3] == 6 {
			pos = i
			break
		}
	}
	if pos < 0 {
		return nil
	}
	rec := buf[pos:]
	dirSize := uint64(binary.LittleEndian.Uint32(rec[12:]))
	if binary.LittleEndian.Uint16(rec[10:]) == 0xffff || dirSize == 0xffffffff || binary.LittleEndian.Uint32(rec[16:]) == 0xffffffff {
		// zip64: the locator is right before the record.
		loc := size - tail + int64(pos) - 20
		var l [20]byte
		if loc < 0 {
			return nil
		}
		if _, err := ra.ReadAt(l[:], loc); err != nil || binary.LittleEndian.Uint32(l[:]) != 0x07064b50 {
			return nil
		}
		off := binary.LittleEndian.Uint64(l[8:])
		var r64 [56]byte
		if off > uint64(size) {
			return nil
		}
		if _, err := ra.ReadAt(r64[:], int64(off)); err != nil || binary.LittleEndian.Uint32(r64[:]) != 0x06064b50 {
			return nil
		}
		dirSize = binary.LittleEndian.Uint64(r64[40:])
	}
	if dirSize > maxDirectory {
		return errDirectoryTooLarge
	}
	return nil
}
