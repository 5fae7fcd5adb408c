// Package lang holds what the collectors of language packages share: the
// package URL (purl) builder and the names of ecosystems and kinds. The
// collectors themselves are its subpackages (golang, python, npm, java);
// they read the candidate files found by package discover.
package lang

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"strings"

	"github.com/kensa-dev/kensa/internal/hostfs"
	packageurl "github.com/package-url/packageurl-go"
)

// OSV ecosystem names.
const (
	EcosystemGo    = "Go"
	EcosystemPyPI  = "PyPI"
	EcosystemNPM   = "npm"
	EcosystemMaven = "Maven"
)

// Software kinds (host.Software.Kind).
const (
	KindGoMain      = "go-main"
	KindGoModule    = "go-module"
	KindGoStdlib    = "go-stdlib"
	KindPythonDist  = "python-dist"
	KindNPM         = "npm"
	KindJavaArchive = "java-archive"
)

// PURL returns the package URL pkg:typ/namespace/name@version, encoded by
// packageurl-go as the purl specification requires (the same builder names
// OS packages, so every purl in an inventory is escaped one way). An empty
// namespace or version is left out. Type-specific normalisation (case,
// PEP 503) is the caller's.
func PURL(typ, namespace, name, version string) string {
	var segs []string
	for _, seg := range strings.Split(namespace, "/") {
		if seg != "" {
			segs = append(segs, seg)
		}
	}
	return packageurl.NewPackageURL(typ, strings.Join(segs, "/"), name, version, nil, "").ToString()
}

// GoPURL returns the purl of a Go module: its path splits into namespace
// and name at the last "/", both lowercased as the golang purl type says
// (host.Software.Name keeps the exact, case-sensitive path).
func GoPURL(module, version string) string {
	module = strings.ToLower(module)
	ns, name := "", module
	if i := strings.LastIndexByte(module, '/'); i >= 0 {
		ns, name = module[:i], module[i+1:]
	}
	return PURL("golang", ns, name, version)
}

// NormalizePyPI returns a Python distribution name normalised as PEP 503
// says: lowercased, each run of "-", "_" and "." replaced by one "-".
func NormalizePyPI(name string) string {
	var b strings.Builder
	sep := false
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c == '-' || c == '_' || c == '.' {
			sep = true
			continue
		}
		if sep && b.Len() > 0 {
			b.WriteByte('-')
		}
		sep = false
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b.WriteByte(c)
	}
	return b.String()
}

// PyPIPURL returns the purl of a Python distribution, its name normalised.
func PyPIPURL(name, version string) string {
	return PURL("pypi", "", NormalizePyPI(name), version)
}

// NPMPURL returns the purl of an npm package; a scope ("@scope/name")
// becomes the namespace, encoded as %40scope.
func NPMPURL(name, version string) string {
	name = strings.ToLower(name)
	ns := ""
	if strings.HasPrefix(name, "@") {
		if i := strings.IndexByte(name, '/'); i > 0 {
			ns, name = name[:i], name[i+1:]
		}
	}
	return PURL("npm", ns, name, version)
}

// MavenPURL returns the purl of a Maven artifact.
func MavenPURL(group, artifact, version string) string {
	return PURL("maven", group, artifact, version)
}

// ValidText reports whether s is usable as a name or version read from a
// file: not empty, at most max bytes, no control characters or spaces.
// Garbage files yield garbage values; they are dropped, not reported.
func ValidText(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] == 0x7f {
			return false
		}
	}
	return true
}

// BudgetReaderAt is an io.ReaderAt that fails once N bytes have been read
// through it. Parsers of hostile files (debug/elf, archive/zip) size their
// reads from the file's own headers; the budget bounds what a forged header
// can make them read into memory.
type BudgetReaderAt struct {
	R io.ReaderAt
	N int64
}

// ErrBudget is returned by a BudgetReaderAt whose budget is spent.
const ErrBudget = budgetError("read budget exceeded")

type budgetError string

func (e budgetError) Error() string { return string(e) }

// ReadAt implements io.ReaderAt.
func (b *BudgetReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if int64(len(p)) > b.N {
		return 0, ErrBudget
	}
	b.N -= int64(len(p))
	return b.R.ReadAt(p, off)
}

// OpenAt opens the regular file name of fsys for random access, as
// debug/buildinfo and archive/zip need. Files of package hostfs are
// *os.File underneath and are used as they are; any other file is read
// into memory. A file larger than maxSize is not opened: the error wraps
// hostfs.ErrTooLarge.
func OpenAt(fsys fs.FS, name string, maxSize int64) (io.ReaderAt, int64, io.Closer, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, 0, nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, 0, nil, &fs.PathError{Op: "open", Path: name, Err: hostfs.ErrNotRegular}
	}
	if fi.Size() > maxSize {
		f.Close()
		return nil, 0, nil, &fs.PathError{Op: "open", Path: name, Err: fmt.Errorf("%w (%d > %d bytes)", hostfs.ErrTooLarge, fi.Size(), maxSize)}
	}
	if ra, ok := f.(io.ReaderAt); ok {
		return ra, fi.Size(), f, nil
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxSize+1))
	if err != nil {
		return nil, 0, nil, &fs.PathError{Op: "read", Path: name, Err: err}
	}
	if int64(len(b)) > maxSize {
		return nil, 0, nil, &fs.PathError{Op: "read", Path: name, Err: hostfs.ErrTooLarge}
	}
	return bytes.NewReader(b), int64(len(b)), io.NopCloser(nil), nil
}
