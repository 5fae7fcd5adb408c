package aptchangelog

import (
	"bufio"
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"strconv"
	"strings"

	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
	"github.com/ulikunitz/xz"

	"github.com/kensa-dev/kensa/internal/collect/dpkg"
	"github.com/kensa-dev/kensa/internal/hostfs"
)

const (
	listsDir = "/var/lib/apt/lists"
	// maxListFile caps a list file as stored. Debian's largest, main of
	// amd64, is 19 MiB as lz4 and 50 MiB plain.
	maxListFile = 512 << 20
	// maxListBytes caps a list once decompressed.
	maxListBytes = 1 << 30
	// maxReleaseBytes is how much of a Release file is read: its fields
	// come first, before checksum lists of up to a few hundred KiB.
	maxReleaseBytes = 4 << 20
	// maxXZDict bounds the dictionary of an xz list (xz -9 uses 64 MiB):
	// the decoder allocates what the file asks for, up to 4 GiB.
	maxXZDict = 64 << 20
	// maxZstdWindow bounds the window of a zstd list (the zstd tool's
	// levels use at most 8 MiB without --long).
	maxZstdWindow = 32 << 20
	// maxXZIndex bounds the index of an xz stream, a few bytes a block:
	// a list has a handful of blocks.
	maxXZIndex = 1 << 20
)

// Release is what a Release or InRelease file says about its archive.
type Release struct {
	Suite    string
	Codename string
	// NotAutomatic and ButAutomaticUpgrades set the archive's default
	// priority for apt (see priority).
	NotAutomatic         bool
	ButAutomaticUpgrades bool
}

// Name is the name the archive is best known by: its codename
// ("bookworm-security"), else its suite. Ubuntu's archives of one release
// all say "Codename: jammy" and tell their pocket by the suite alone
// ("Suite: jammy-security"): there the suite, which names both, is the
// name, so that a security update reads as one.
func (r Release) Name() string {
	switch {
	case r.Codename == "":
		return r.Suite
	case !strings.Contains(r.Codename, "-") && strings.HasPrefix(r.Suite, r.Codename+"-"):
		return r.Suite
	}
	return r.Codename
}

// apt's default priorities (apt_preferences(5)), without pinning.
const (
	prioDefault      = 500 // an ordinary archive
	prioAutoUpgrades = 100 // NotAutomatic with ButAutomaticUpgrades, and the installed version
	prioNotAutomatic = 1   // NotAutomatic: never chosen over an installed version
)

// priority is the default priority apt gives the archive's versions.
func (r Release) priority() int {
	switch {
	case !r.NotAutomatic:
		return prioDefault
	case r.ButAutomaticUpgrades:
		return prioAutoUpgrades
	default:
		return prioNotAutomatic
	}
}

// ParseRelease reads the fields of a Release file, or of an InRelease file
// (the same, clear-signed). The signature is not checked: apt checked it
// when it fetched the file, and in a scanned image the file is taken as
// the image holds it. Only the first paragraph is read, and at most
// maxReleaseBytes of it.
func ParseRelease(r io.Reader) (Release, error) {
	var rel Release
	sc := bufio.NewScanner(io.LimitReader(r, maxReleaseBytes))
	sc.Buffer(make([]byte, 0, 4096), 64<<10)
	first, armour, fields := true, false, false
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if first {
			first = false
			if line == "-----BEGIN PGP SIGNED MESSAGE-----" {
				armour = true
				continue
			}
		}
		if armour {
			// The armour headers ("Hash: SHA256") end at a blank line.
			if strings.TrimSpace(line) == "" {
				armour = false
			}
			continue
		}
		if strings.HasPrefix(line, "-----BEGIN PGP SIGNATURE") {
			break
		}
		// Clear-signed text escapes lines starting with "-" as "- -...".
		line = strings.TrimPrefix(line, "- ")
		if strings.TrimSpace(line) == "" {
			if fields {
				break
			}
			continue
		}
		if line[0] == ' ' || line[0] == '\t' || line[0] == '#' {
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		fields = true
		v = strings.TrimSpace(v)
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "suite":
			rel.Suite = v
		case "codename":
			rel.Codename = v
		case "notautomatic":
			rel.NotAutomatic = strings.EqualFold(v, "yes")
		case "butautomaticupgrades":
			rel.ButAutomaticUpgrades = strings.EqualFold(v, "yes")
		}
	}
	if err := sc.Err(); err != nil {
		return rel, fmt.Errorf("release file: %w", err)
	}
	return rel, nil
}

// Stanza is what the collector keeps of one paragraph of a Packages list.
type Stanza struct {
	Package      string
	Version      string
	Architecture string
	// SourceName and SourceVersion are from Source:, defaulting to the
	// package's own name and version as dpkg does.
	SourceName    string
	SourceVersion string
	// Size and SHA256 describe the .deb; zero when the list lacks them.
	Size   int64
	SHA256 string
}

var stanzaFields = []string{"Package", "Version", "Architecture", "Source", "Size", "SHA256"}

// ParsePackages reads a Packages list (deb822 paragraphs, as in
// var/lib/apt/lists/*_Packages) and calls fn with each paragraph that has
// a Package and a Version. It parses with the dpkg collector's parser, so
// the rules and bounds are the same as for the dpkg database: problems
// (malformed lines, at most collect.KeptProblems in full) are returned in
// errs and the parse goes on; err is an I/O error or ctx's.
func ParsePackages(ctx context.Context, r io.Reader, fn func(Stanza)) (errs []error, err error) {
	return dpkg.Parse(ctx, r, stanzaFields, func(p dpkg.Paragraph) error {
		s := Stanza{
			Package:      p["Package"],
			Version:      p["Version"],
			Architecture: p["Architecture"],
			SHA256:       strings.ToLower(p["Sha256"]), // dpkg.Parse keys are canonical: "Sha256"
		}
		if s.Package == "" || s.Version == "" {
			return errors.New("paragraph without Package or Version skipped")
		}
		s.SourceName, s.SourceVersion = dpkg.ParseSource(p["Source"])
		if s.SourceName == "" {
			s.SourceName = s.Package
		}
		if s.SourceVersion == "" {
			s.SourceVersion = s.Version
		}
		if v := p["Size"]; v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				return fmt.Errorf("package %s: bad Size %q", s.Package, v)
			}
			s.Size = n
		}
		fn(s)
		return nil
	})
}

// listKind tells a Packages list from its file name and says how it is
// compressed: "" (plain), "lz4", "gz", "xz", "zst" or "bz2". ok is false
// for files that are not Packages lists; supported is false for a
// Packages list compressed in a way this package cannot read.
func listKind(name string) (compression string, ok, supported bool) {
	base, ext := name, ""
	if i := strings.LastIndexByte(name, '.'); i >= 0 && strings.HasSuffix(name[:i], "_Packages") {
		base, ext = name[:i], name[i+1:]
	}
	if !strings.HasSuffix(base, "_Packages") {
		return "", false, false
	}
	switch ext {
	case "", "lz4", "gz", "xz", "zst", "bz2":
		return ext, true, true
	}
	return ext, true, false
}

// openList opens a list file and returns its decompressed content,
// capped at maxListBytes. close releases the file and the decoder.
func openList(fsys hostfs.FS, name, compression string) (r io.Reader, close func(), err error) {
	ra, size, closer, err := hostfs.OpenAt(fsys, name, maxListFile)
	if err != nil {
		return nil, nil, err
	}
	sr := io.NewSectionReader(ra, 0, size)
	done := func() { closer.Close() }
	var dr io.Reader
	switch compression {
	case "":
		dr = sr
	case "gz":
		zr, err := gzip.NewReader(sr)
		if err != nil {
			done()
			return nil, nil, fmt.Errorf("%s: %w", name, err)
		}
		dr = zr
	case "lz4":
		dr = lz4.NewReader(sr)
	case "bz2":
		dr = bzip2.NewReader(sr)
	case "xz":
		if err := checkXZ(ra, size, maxXZDict); err != nil {
			done()
			return nil, nil, fmt.Errorf("%s: %w", name, err)
		}
		xr, err := xz.NewReader(sr)
		if err != nil {
			done()
			return nil, nil, fmt.Errorf("%s: %w", name, err)
		}
		dr = xr
	case "zst":
		zr, err := zstd.NewReader(sr, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true),
			zstd.WithDecoderMaxWindow(maxZstdWindow), zstd.WithDecoderMaxMemory(maxListBytes))
		if err != nil {
			done()
			return nil, nil, fmt.Errorf("%s: %w", name, err)
		}
		dr = zr
		done = func() { zr.Close(); closer.Close() }
	default:
		done()
		return nil, nil, fmt.Errorf("%s: unsupported compression %q", name, compression)
	}
	return newCapReader(dr, maxListBytes), done, nil
}

// capReader reads at most n bytes and then fails with hostfs.ErrTooLarge,
// so a decompression bomb ends instead of running on.
type capReader struct {
	r        io.Reader
	n, limit int64
}

func newCapReader(r io.Reader, limit int64) *capReader {
	return &capReader{r: r, n: limit, limit: limit}
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.n <= 0 {
		// One more byte tells a stream of exactly the limit from a
		// longer one.
		var b [1]byte
		if n, err := c.r.Read(b[:]); n == 0 {
			return 0, err
		}
		return 0, fmt.Errorf("%w (more than %d MiB decompressed)", hostfs.ErrTooLarge, c.limit>>20)
	}
	if int64(len(p)) > c.n {
		p = p[:c.n]
	}
	n, err := c.r.Read(p)
	c.n -= int64(n)
	return n, err
}

// xz container constants (the .xz file format, version 1.2.1).
var (
	xzHeaderMagic = []byte{0xfd, '7', 'z', 'X', 'Z', 0}
	xzFooterMagic = []byte{'Y', 'Z'}
	errXZFormat   = errors.New("xz: not a well-formed xz file")
)

// checkXZ reads the index of every stream of an xz file and the header of
// every block, and fails when a block asks for an LZMA2 dictionary larger
// than maxDict: the decoder would allocate it whole, up to 4 GiB, from a
// file of a few bytes. The blocks are found from the indexes, at the end
// of each stream, so the check costs a few small reads.
func checkXZ(ra io.ReaderAt, size, maxDict int64) error {
	end := size
	for end > 0 {
		// Stream padding: zero bytes in groups of four.
		var word [4]byte
		for end >= 4 {
			if _, err := ra.ReadAt(word[:], end-4); err != nil {
				return err
			}
			if word != [4]byte{} {
				break
			}
			end -= 4
		}
		if end == 0 {
			return nil
		}
		start, err := checkXZStream(ra, end, maxDict)
		if err != nil {
			return err
		}
		end = start
	}
	return nil
}

// checkXZStream checks the stream that ends at end and returns where it
// starts.
func checkXZStream(ra io.ReaderAt, end, maxDict int64) (int64, error) {
	if end < 24 {
		return 0, errXZFormat
	}
	var footer [12]byte
	if _, err := ra.ReadAt(footer[:], end-12); err != nil {
		return 0, err
	}
	if !bytes.Equal(footer[10:], xzFooterMagic) || crc32.ChecksumIEEE(footer[4:10]) != binary.LittleEndian.Uint32(footer[:4]) {
		return 0, errXZFormat
	}
	indexSize := (int64(binary.LittleEndian.Uint32(footer[4:8])) + 1) * 4
	indexStart := end - 12 - indexSize
	if indexStart < 12 || indexSize > maxXZIndex {
		return 0, errXZFormat
	}
	index := make([]byte, indexSize)
	if _, err := ra.ReadAt(index, indexStart); err != nil {
		return 0, err
	}
	if index[0] != 0 {
		return 0, errXZFormat
	}
	ir := bytes.NewReader(index[1 : len(index)-4])
	count, err := binary.ReadUvarint(ir)
	if err != nil || count > uint64(indexSize) {
		return 0, errXZFormat
	}
	padded := make([]int64, 0, count)
	var blocks int64
	for range count {
		unpadded, err1 := binary.ReadUvarint(ir)
		_, err2 := binary.ReadUvarint(ir)
		if err1 != nil || err2 != nil || unpadded == 0 || unpadded > uint64(end) {
			return 0, errXZFormat
		}
		p := (int64(unpadded) + 3) &^ 3
		padded = append(padded, p)
		blocks += p
		if blocks > indexStart {
			return 0, errXZFormat
		}
	}
	start := indexStart - blocks - 12
	if start < 0 {
		return 0, errXZFormat
	}
	var header [12]byte
	if _, err := ra.ReadAt(header[:], start); err != nil {
		return 0, err
	}
	if !bytes.Equal(header[:6], xzHeaderMagic) {
		return 0, errXZFormat
	}
	at := start + 12
	for _, p := range padded {
		if err := checkXZBlock(ra, at, maxDict); err != nil {
			return 0, err
		}
		at += p
	}
	return start, nil
}

// checkXZBlock reads the block header at off and checks the dictionary
// size of its LZMA2 filter.
func checkXZBlock(ra io.ReaderAt, off, maxDict int64) error {
	var first [1]byte
	if _, err := ra.ReadAt(first[:], off); err != nil {
		return err
	}
	if first[0] == 0 {
		return errXZFormat // an index where a block was expected
	}
	h := make([]byte, (int(first[0])+1)*4)
	if _, err := ra.ReadAt(h, off); err != nil {
		return err
	}
	br := bytes.NewReader(h[2 : len(h)-4])
	flags := h[1]
	if flags&0x40 != 0 { // compressed size
		if _, err := binary.ReadUvarint(br); err != nil {
			return errXZFormat
		}
	}
	if flags&0x80 != 0 { // uncompressed size
		if _, err := binary.ReadUvarint(br); err != nil {
			return errXZFormat
		}
	}
	for range int(flags&3) + 1 {
		id, err1 := binary.ReadUvarint(br)
		n, err2 := binary.ReadUvarint(br)
		if err1 != nil || err2 != nil || n > uint64(br.Len()) {
			return errXZFormat
		}
		props := make([]byte, n)
		if _, err := io.ReadFull(br, props); err != nil {
			return errXZFormat
		}
		if id != 0x21 { // not LZMA2: a branch or delta filter, no dictionary
			continue
		}
		if n != 1 || props[0] > 40 {
			return errXZFormat
		}
		if dict := xzDictSize(props[0]); dict > maxDict {
			return fmt.Errorf("xz: block dictionary of %d MiB is over the %d MiB limit", dict>>20, maxDict>>20)
		}
	}
	return nil
}

// xzDictSize decodes the LZMA2 dictionary size property.
func xzDictSize(c byte) int64 {
	if c == 40 {
		return 1<<32 - 1
	}
	return int64(2|c&1) << (c/2 + 11)
}

// isNotExist reports whether err means the file is absent.
func isNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }
