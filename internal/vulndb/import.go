package vulndb

import (
	"archive/zip"
	"bufio"
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/kensa-dev/kensa/internal/advisory"
	"github.com/kensa-dev/kensa/internal/feed/alas"
	"github.com/kensa-dev/kensa/internal/feed/alpine"
	"github.com/kensa-dev/kensa/internal/feed/debian"
	"github.com/kensa-dev/kensa/internal/feed/kev"
	"github.com/kensa-dev/kensa/internal/feed/osv"
	"github.com/kensa-dev/kensa/internal/feed/ubuntu"
)

// MaxDecompressed caps what one compressed feed file may expand to. The
// largest real feed (OSV's Debian all.zip entries together, the Debian
// tracker JSON) is well under 1 GiB; a file that expands beyond this is a
// decompression bomb, not a feed.
const MaxDecompressed = 4 << 30

// ImportResult is what one import did.
type ImportResult struct {
	// Sources are the sources replaced, in the order imported.
	Sources []Source
	// Skipped lists files inside a directory or archive that are not a
	// feed Kensa reads, each with the reason ("path: reason").
	Skipped []string
}

// Import reads the feed data at p and replaces the sources it holds. p
// may be:
//   - an OSV all.zip (source "osv/<Ecosystem>"), a directory of OSV JSON
//     records (source "osv-dir/<directory>"), or one OSV record
//     ("osv-file/<file>");
//   - an Ubuntu cvescan database, an Alpine secdb file (YAML or JSON),
//     the Debian security tracker JSON or its DSA/DLA list, an Amazon
//     Linux updateinfo.xml, CISA's KEV catalog;
//   - any of these compressed with gzip or bzip2, or several of them in
//     a directory or a zip archive.
//
// The format is detected from the content, not trusted from the name.
// Each source is replaced in its own transaction: when the import of one
// source fails, those already imported stay, the failed one keeps its
// previous data, and the error says which file failed.
func (s *Store) Import(ctx context.Context, p string, meta SourceMeta) (ImportResult, error) {
	var res ImportResult
	fi, err := os.Stat(p)
	if err != nil {
		return res, fmt.Errorf("import: %w", err)
	}
	// The path named may be a link (to a mirror directory, say): what it
	// points to is what is imported. Links inside a directory are not
	// followed.
	abs, err := filepath.EvalSymlinks(p)
	if err == nil {
		abs, err = filepath.Abs(abs)
	}
	if err != nil {
		return res, fmt.Errorf("import: %w", err)
	}
	if meta.Origin == "" {
		meta.Origin = abs
	}
	if fi.IsDir() {
		err := s.importDir(ctx, abs, meta, &res)
		if err == nil && len(res.Sources) == 0 {
			err = fmt.Errorf("import %s: no feed Kensa reads was found in the directory (%d files skipped)", p, len(res.Skipped))
		}
		return res, err
	}
	if !fi.Mode().IsRegular() {
		return res, fmt.Errorf("import: %s is not a regular file or a directory", p)
	}
	f, err := os.Open(p)
	if err != nil {
		return res, fmt.Errorf("import: %w", err)
	}
	defer f.Close()
	return res, s.importFile(ctx, abs, f, fi.Size(), meta, &res, true)
}

// importDir imports every feed file under dir. OSV records are gathered
// per directory into one source; everything else is a source of its own.
func (s *Store) importDir(ctx context.Context, dir string, meta SourceMeta, res *ImportResult) error {
	osvDirs := map[string][]string{}
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			files = append(files, p)
		} else if !d.IsDir() {
			res.Skipped = append(res.Skipped, p+": not a regular file")
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	slices.Sort(files)
	var others []string
	for _, p := range files {
		if strings.EqualFold(filepath.Ext(p), ".json") {
			head, err := readHead(p)
			if err != nil {
				return fmt.Errorf("import: %w", err)
			}
			if osv.Detect(p, head) {
				osvDirs[filepath.Dir(p)] = append(osvDirs[filepath.Dir(p)], p)
				continue
			}
		}
		others = append(others, p)
	}
	// One bad file does not stop the others: each source is its own
	// transaction, and the error lists every file that failed.
	var errs []error
	for _, d := range slices.Sorted(maps.Keys(osvDirs)) {
		m := meta
		m.Origin = d
		src, err := s.ReplaceSource(ctx, m, func(w *Writer) (advisory.Feed, error) {
			for _, p := range osvDirs[d] {
				if err := ctx.Err(); err != nil {
					return advisory.Feed{}, err
				}
				a, err := readRecord(p)
				if err != nil {
					return advisory.Feed{}, err
				}
				if err := w.Add(ctx, a); err != nil {
					return advisory.Feed{}, fmt.Errorf("%s: %w", p, err)
				}
			}
			return advisory.Feed{Name: "osv-dir/" + d, Format: "osv"}, nil
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("import %s: %w", d, err))
			continue
		}
		res.Sources = append(res.Sources, src)
	}
	for _, p := range others {
		if err := ctx.Err(); err != nil {
			return errors.Join(append(errs, err)...)
		}
		f, err := os.Open(p)
		if err != nil {
			errs = append(errs, fmt.Errorf("import: %w", err))
			continue
		}
		fi, err := f.Stat()
		if err == nil {
			m := meta
			m.Origin = p
			err = s.importFile(ctx, p, f, fi.Size(), m, res, false)
		}
		f.Close()
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func readHead(p string) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return head(f)
}

// head reads the first 4 KiB of r, the part format detection looks at.
func head(r io.Reader) ([]byte, error) {
	b := make([]byte, 4096)
	n, err := io.ReadFull(r, b)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return b[:n], nil
}

func readRecord(p string) (*advisory.Advisory, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	a, err := osv.ParseRecord(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	return a, nil
}

// Magic numbers of the compressions feeds come in.
var (
	magicZip   = []byte("PK\x03\x04")
	magicGzip  = []byte{0x1f, 0x8b}
	magicBzip2 = []byte("BZh")
	magicXZ    = []byte{0xfd, '7', 'z', 'X', 'Z', 0}
	magicZstd  = []byte{0x28, 0xb5, 0x2f, 0xfd}
)

// importFile imports one file, name being its path (or "archive!/entry"
// inside a zip). explicit is true when the user named this file: an
// unrecognised format is then an error rather than a skipped file.
func (s *Store) importFile(ctx context.Context, name string, r io.ReaderAt, size int64, meta SourceMeta, res *ImportResult, explicit bool) error {
	var magic [6]byte
	n, _ := r.ReadAt(magic[:], 0)
	m := magic[:n]
	if bytes.HasPrefix(m, magicZip) {
		zr, err := zip.NewReader(r, size)
		if err != nil {
			return fmt.Errorf("import %s: %w", name, err)
		}
		return s.importZip(ctx, name, zr, meta, res, explicit)
	}
	return s.importStream(ctx, name, io.NewSectionReader(r, 0, size), meta, res, explicit)
}

func (s *Store) importZip(ctx context.Context, name string, zr *zip.Reader, meta SourceMeta, res *ImportResult, explicit bool) error {
	// An OSV all.zip: flat .json records.
	for _, f := range zr.File {
		if f.FileInfo().IsDir() || !strings.EqualFold(path.Ext(f.Name), ".json") {
			continue
		}
		head, err := zipHead(f)
		if err != nil {
			return fmt.Errorf("import %s!/%s: %w", name, f.Name, err)
		}
		if !osv.Detect(f.Name, head) {
			break
		}
		src, err := s.ReplaceSource(ctx, meta, func(w *Writer) (advisory.Feed, error) {
			feed, err := osv.ParseZip(zr, func(a *advisory.Advisory) error { return w.Add(ctx, a) })
			feed.Name = osvZipSource(name)
			return feed, err
		})
		if err != nil {
			return fmt.Errorf("import %s: %w", name, err)
		}
		res.Sources = append(res.Sources, src)
		return nil
	}
	// Otherwise an archive of feed files, each imported on its own; what
	// is not a feed is summed up, not listed entry by entry.
	inner := &ImportResult{}
	found := false
	for _, f := range zr.File {
		if f.FileInfo().IsDir() {
			continue
		}
		entry := name + "!/" + f.Name
		if f.UncompressedSize64 > MaxDecompressed {
			inner.Skipped = append(inner.Skipped, entry+": larger than the decompression limit")
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return fmt.Errorf("import %s: %w", entry, err)
		}
		m := meta
		m.Origin = entry
		before := len(inner.Sources)
		err = s.importStream(ctx, entry, rc, m, inner, false)
		rc.Close()
		res.Sources = append(res.Sources, inner.Sources[before:]...)
		if err != nil {
			return err
		}
		found = found || len(inner.Sources) > before
	}
	if !found {
		return s.unrecognised(name, fmt.Sprintf("the archive holds no feed Kensa reads (%d entries)", len(zr.File)), res, explicit)
	}
	switch n := len(inner.Skipped); {
	case n == 1:
		res.Skipped = append(res.Skipped, inner.Skipped[0])
	case n > 1:
		res.Skipped = append(res.Skipped, fmt.Sprintf("%s: %d entries that are not feeds (first: %s)", name, n, inner.Skipped[0]))
	}
	return nil
}

// osvZipSource names the source of an OSV zip from where it is, never
// from its records: OSV publishes <Ecosystem>/all.zip, so
// ".../Debian/all.zip" is "osv/Debian"; any other zip is named by its
// file ("osv/go-snapshot" for go-snapshot.zip). A record that affects two
// ecosystems (a GHSA in the PyPI and npm zips) must not make the two zips
// one source, or importing one would delete the other.
func osvZipSource(name string) string {
	name = filepath.ToSlash(name)
	if i := strings.LastIndex(name, "!/"); i >= 0 {
		name = name[i+2:] // a zip inside an archive: its own path
	}
	base := path.Base(name)
	if strings.EqualFold(base, "all.zip") {
		if dir := path.Base(path.Dir(name)); dir != "." && dir != "/" {
			return "osv/" + dir
		}
	}
	return "osv/" + strings.TrimSuffix(base, path.Ext(base))
}

func zipHead(f *zip.File) ([]byte, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return head(rc)
}

// importStream decompresses r if needed, detects its format and imports it.
func (s *Store) importStream(ctx context.Context, name string, r io.Reader, meta SourceMeta, res *ImportResult, explicit bool) error {
	br := bufio.NewReaderSize(r, 64<<10)
	magic, _ := br.Peek(6)
	var dec io.Reader = br
	base := name
	switch {
	case bytes.HasPrefix(magic, magicGzip):
		zr, err := gzip.NewReader(br)
		if err != nil {
			return fmt.Errorf("import %s: %w", name, err)
		}
		defer zr.Close()
		dec = zr
		base = strings.TrimSuffix(name, ".gz")
	case bytes.HasPrefix(magic, magicBzip2):
		dec = bzip2.NewReader(br)
		base = strings.TrimSuffix(name, ".bz2")
	case bytes.HasPrefix(magic, magicXZ), bytes.HasPrefix(magic, magicZstd):
		return s.unrecognised(name, "xz and zstd compressed files are not read: decompress the file first", res, explicit)
	case bytes.HasPrefix(magic, magicZip):
		// A zip inside a zip: read it into memory, bounded.
		data, err := io.ReadAll(io.LimitReader(br, MaxDecompressed+1))
		if err != nil {
			return fmt.Errorf("import %s: %w", name, err)
		}
		if len(data) > MaxDecompressed {
			return s.unrecognised(name, "nested archive larger than the decompression limit", res, explicit)
		}
		return s.importFile(ctx, name, bytes.NewReader(data), int64(len(data)), meta, res, explicit)
	}
	lim := &limitReader{r: dec, n: MaxDecompressed}
	in := bufio.NewReaderSize(lim, 64<<10)
	head, _ := in.Peek(4096)
	file := path.Base(filepath.ToSlash(base))
	if jsonSchema(head) {
		// Feeds ship their JSON Schema beside the data (KEV does); the
		// schema names the data's keys and must not pass for the data.
		return s.unrecognised(name, "a JSON Schema document, not feed data", res, explicit)
	}
	add := func(parse func(emit func(*advisory.Advisory) error) (advisory.Feed, error)) error {
		src, err := s.ReplaceSource(ctx, meta, func(w *Writer) (advisory.Feed, error) {
			return parse(func(a *advisory.Advisory) error { return w.Add(ctx, a) })
		})
		if err != nil {
			if lim.exceeded() {
				err = fmt.Errorf("expands beyond %d GiB: %w", MaxDecompressed>>30, err)
			}
			return fmt.Errorf("import %s: %w", name, err)
		}
		res.Sources = append(res.Sources, src)
		return nil
	}
	switch {
	case kev.Detect(file, head):
		cat, err := kev.Parse(in)
		if err != nil {
			return fmt.Errorf("import %s: %w", name, err)
		}
		src, err := s.ReplaceExploited(ctx, meta, cat.Released, cat.Entries)
		if err != nil {
			return fmt.Errorf("import %s: %w", name, err)
		}
		res.Sources = append(res.Sources, src)
		return nil
	case ubuntu.Detect(file, head):
		return add(func(emit func(*advisory.Advisory) error) (advisory.Feed, error) { return ubuntu.Parse(in, emit) })
	case debian.DetectTracker(file, head):
		return add(func(emit func(*advisory.Advisory) error) (advisory.Feed, error) { return debian.ParseTracker(in, emit) })
	case osv.Detect(file, head):
		a, err := osv.ParseRecord(in)
		if err != nil {
			return fmt.Errorf("import %s: %w", name, err)
		}
		return add(func(emit func(*advisory.Advisory) error) (advisory.Feed, error) {
			return advisory.Feed{Name: "osv-file/" + name, Format: "osv"}, emit(a)
		})
	case alpine.Detect(file, head):
		return add(func(emit func(*advisory.Advisory) error) (advisory.Feed, error) { return alpine.Parse(in, emit) })
	case alas.Detect(file, head):
		return add(func(emit func(*advisory.Advisory) error) (advisory.Feed, error) { return alas.Parse(in, emit) })
	}
	if kind, ok := debian.DetectList(file, head); ok {
		return add(func(emit func(*advisory.Advisory) error) (advisory.Feed, error) {
			return debian.ParseList(in, kind, emit)
		})
	}
	return s.unrecognised(name, "not a feed format Kensa reads", res, explicit)
}

// jsonSchema reports whether head starts a JSON Schema document.
func jsonSchema(head []byte) bool {
	h := bytes.TrimLeft(head, " \t\r\n\ufeff")
	return len(h) > 0 && h[0] == '{' && bytes.Contains(h, []byte(`"$schema"`)) && bytes.Contains(h, []byte(`"properties"`))
}

func (s *Store) unrecognised(name, reason string, res *ImportResult, explicit bool) error {
	if explicit {
		return fmt.Errorf("import %s: %s (formats: OSV record, directory or all.zip; Ubuntu cvescan JSON; Alpine secdb; Debian tracker JSON or DSA/DLA list; Amazon updateinfo.xml; CISA KEV JSON)", name, reason)
	}
	res.Skipped = append(res.Skipped, name+": "+reason)
	return nil
}

// limitReader fails, rather than ends, when more than n bytes are read, so
// a decompression bomb is an error and never a silently short feed.
type limitReader struct {
	r io.Reader
	n int64
}

var errTooLarge = errors.New("decompressed data exceeds the limit")

func (l *limitReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, errTooLarge
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	return n, err
}

func (l *limitReader) exceeded() bool { return l.n <= 0 }
