// Package lang holds what the collectors of language packages share: the
// package URL (purl) builder and the names of ecosystems and kinds. The
// collectors themselves are its subpackages (golang, python, npm, java);
// they read the candidate files found by package discover.
package lang

import (
	"io"
	"strings"

	packageurl "github.com/package-url/packageurl-go"
)

// OSV ecosystem names.
const (
	EcosystemGo    = "Go"
	EcosystemPyPI  = "PyPI"
	EcosystemNPM   = "npm"
	EcosystemMaven = "Maven"
)

// PURL returns the package URL pkg:typ/namespace/name@version, encoded by
// packageurl-go as the purl specification requires (the same builder names
// OS packages, so every purl in an inventory is escaped one way). An empty
// namespace or version is left out. Type-specific normalisation (case,
// "_" in PyPI names) is the caller's.
func PURL(typ, namespace, name, version string) string {
	return purl(typ, namespace, name, version, "")
}

func purl(typ, namespace, name, version, subpath string) string {
	var segs []string
	for _, seg := range strings.Split(namespace, "/") {
		if seg != "" {
			segs = append(segs, seg)
		}
	}
	return packageurl.NewPackageURL(typ, strings.Join(segs, "/"), name, version, nil, subpath).ToString()
}

// GoDevelVersion is the version the Go toolchain gives a main module built
// from a working tree: it names no release, so purls leave it out.
const GoDevelVersion = "(devel)"

// GoPURL returns the purl of a Go module: its path splits into namespace
// and name at the last "/", both lowercased as the golang purl type says
// (host.Software.Name keeps the exact, case-sensitive path). The version
// "(devel)" is left out.
func GoPURL(module, version string) string {
	return GoPackagePURL(module, version, "")
}

// GoPackagePURL is GoPURL naming a package inside the module as the purl
// subpath: pkg:golang/toolchain@v1.22.3#cmd/go.
func GoPackagePURL(module, version, pkg string) string {
	if version == GoDevelVersion {
		version = ""
	}
	module = strings.ToLower(module)
	ns, name := "", module
	if i := strings.LastIndexByte(module, '/'); i >= 0 {
		ns, name = module[:i], module[i+1:]
	}
	return purl("golang", ns, name, version, pkg)
}

// PyPIPURLName returns a Python distribution name as the pypi purl type
// writes it: lowercased, "_" replaced by "-"; dots stay
// (pkg:pypi/zope.interface). Use NormalizePEP503 to compare names.
func PyPIPURLName(name string) string {
	return strings.ReplaceAll(strings.ToLower(name), "_", "-")
}

// NormalizePEP503 returns a Python distribution name normalised as PEP 503
// says for comparing names (the form OSV's PyPI database and package
// indexes match on): lowercased, each run of "-", "_" and "." replaced by
// one "-". It is not the purl form: see PyPIPURLName.
func NormalizePEP503(name string) string {
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

// PyPIPURL returns the purl of a Python distribution, its name as
// PyPIPURLName writes it.
func PyPIPURL(name, version string) string {
	return PURL("pypi", "", PyPIPURLName(name), version)
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

// ValidText reports whether s is usable as a version (or an npm name) read
// from a file: not empty, at most max bytes, no control characters or
// spaces; anything else, non-ASCII included, is allowed. Garbage files
// yield garbage values; they are dropped, not reported.
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

// ValidIdent reports whether s is a package identifier of the strict
// kind Maven (groupId, artifactId) and Python (PEP 508 distribution names)
// share: not empty, at most max bytes, ASCII letters and digits, ".", "-"
// and "_" only. Python further wants a letter or digit at both ends.
func ValidIdent(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(IsAlnum(c) || c == '.' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// IsAlnum reports whether c is an ASCII letter or digit.
func IsAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// IsDigits reports whether s is a non-empty run of ASCII digits.
func IsDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
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
