// Package python reads the metadata of installed Python distributions:
// *.dist-info/METADATA (wheels, modern pip), *.egg-info/PKG-INFO and
// single-file *.egg-info (setuptools, distro packages), in the
// site-packages and dist-packages directories discovered on a host.
package python

import (
	"bufio"
	"bytes"
	"context"
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
const Name = "lang/python"

// maxHeader bounds what is read of one metadata file: Name and Version
// come first, and the description that may follow can be megabytes.
const maxHeader = 256 << 10

// Collector reads Python distribution metadata.
type Collector struct {
	w *discover.Walker
}

// New returns the collector, reading the candidates of w.
func New(w *discover.Walker) *Collector { return &Collector{w: w} }

// Name implements collect.Collector.
func (*Collector) Name() string { return Name }

// Collect implements collect.Collector.
func (c *Collector) Collect(ctx context.Context, env *collect.Env, inv *host.Inventory) error {
	return c.w.Each(ctx, env, inv, func(cs *discover.Candidates) []string { return cs.Python }, func(f discover.File) {
		md, err := readFile(env.FS, f.Path)
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				env.Errorf("%s: %v", f.Location, err)
			}
			return
		}
		inv.Software = append(inv.Software, host.Software{
			Ecosystem: lang.EcosystemPyPI,
			Name:      md.Name,
			Version:   md.Version,
			PURL:      lang.PyPIPURL(md.Name, md.Version),
			Kind:      host.KindPythonDist,
			Location:  f.Location,
			Collector: Name,
			OwnedBy:   f.OwnedBy,
		})
		env.Count(1)
	})
}

func readFile(fsys hostfs.FS, name string) (Metadata, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return Metadata{}, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil {
		return Metadata{}, err
	} else if !fi.Mode().IsRegular() {
		return Metadata{}, fmt.Errorf("python: not a regular file")
	}
	md, err := ParseMetadata(io.LimitReader(f, maxHeader))
	if err != nil {
		return Metadata{}, fmt.Errorf("python: %w", err)
	}
	return md, nil
}

// Metadata is what Kensa reads of a distribution's core metadata.
type Metadata struct {
	Name    string
	Version string
}

// ParseMetadata reads the Name and Version headers of core metadata
// (METADATA, PKG-INFO: RFC 822 style "Key: value" lines up to the first
// empty line, a line starting with white space continuing the previous
// one). Keys are case-insensitive; the first occurrence wins. It fails
// when either is missing or is not a plausible name or version.
func ParseMetadata(r io.Reader) (Metadata, error) {
	var md Metadata
	br := bufio.NewReaderSize(r, 4096)
	for {
		line, err := readLine(br)
		if err != nil && len(line) == 0 {
			break
		}
		line = bytes.TrimRight(line, "\r")
		if len(bytes.TrimSpace(line)) == 0 {
			break // end of the headers
		}
		if line[0] == ' ' || line[0] == '\t' {
			continue // continuation of a header Kensa does not read
		}
		k, v, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		v = bytes.TrimSpace(v)
		switch strings.ToLower(string(bytes.TrimSpace(k))) {
		case "name":
			if md.Name == "" {
				md.Name = string(v)
			}
		case "version":
			if md.Version == "" {
				md.Version = string(v)
			}
		}
		if md.Name != "" && md.Version != "" {
			break
		}
		if err != nil {
			break
		}
	}
	if md.Name == "" || md.Version == "" {
		return Metadata{}, errors.New("metadata without Name or Version")
	}
	if !validName(md.Name) {
		return Metadata{}, fmt.Errorf("invalid distribution name %q", truncate(md.Name))
	}
	if !lang.ValidText(md.Version, 128) {
		return Metadata{}, fmt.Errorf("invalid version %q", truncate(md.Version))
	}
	return md, nil
}

// readLine returns the next line without its newline. A line longer than
// the reader's buffer is returned cut, the rest skipped: no header Kensa
// reads is that long.
func readLine(br *bufio.Reader) ([]byte, error) {
	line, err := br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		out := append([]byte(nil), line...)
		for errors.Is(err, bufio.ErrBufferFull) {
			_, err = br.ReadSlice('\n')
		}
		return out, err
	}
	return bytes.TrimSuffix(line, []byte("\n")), err
}

// validName reports whether s is a distribution name as PEP 508 allows:
// ASCII letters and digits, with ".", "-" and "_" inside.
func validName(s string) bool {
	return lang.ValidIdent(s, 200) && lang.IsAlnum(s[0]) && lang.IsAlnum(s[len(s)-1])
}

func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}
