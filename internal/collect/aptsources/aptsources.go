// Package aptsources reads apt's package sources (sources.list, the
// one-line .list files and the deb822 .sources files of sources.list.d)
// and the keyrings apt trusts, so the rules can tell whether every
// repository is authenticated by a signing key: a source marked
// trusted=yes or allow-insecure=yes installs whatever a man in the middle
// serves.
package aptsources

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/kensa-dev/kensa/internal/collect"
	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/hostfs"
)

// Files apt reads (apt's Dir::Etc defaults).
const (
	mainList   = "/etc/apt/sources.list"
	partsDir   = "/etc/apt/sources.list.d"
	trustedGPG = "/etc/apt/trusted.gpg"
	trustedDir = "/etc/apt/trusted.gpg.d"
)

// Bounds: real source files are a few KiB, and a host has tens of them.
const (
	fileLimit = 1 << 20
	maxFiles  = 512
	maxSource = 2000
)

// Collector fills inv.Config.AptSources.
type Collector struct{}

// New returns the collector.
func New() *Collector { return &Collector{} }

// Name implements collect.Collector.
func (*Collector) Name() string { return "config/apt-sources" }

// Collect implements collect.Collector.
func (*Collector) Collect(ctx context.Context, env *collect.Env, inv *host.Inventory) error {
	if _, err := env.FS.Stat("/etc/apt"); err != nil {
		return collect.NotApplicable("no /etc/apt (not an apt-based system)")
	}
	if inv.Config == nil {
		inv.Config = &host.Config{}
	}
	out := &host.AptSources{}
	inv.Config.AptSources = out
	files := []string{mainList}
	entries, err := env.FS.ReadDir(partsDir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		env.Errorf("%s: %v", partsDir, err)
	}
	for _, e := range entries {
		// apt reads *.list and *.sources only; the rest (.disabled,
		// .save, .dpkg-old) is ignored, as apt ignores it.
		if n := e.Name(); (strings.HasSuffix(n, ".list") || strings.HasSuffix(n, ".sources")) && !e.IsDir() {
			files = append(files, path.Join(partsDir, n))
		}
	}
	if len(files) > maxFiles {
		env.Errorf("%s: %d files, only the first %d read", partsDir, len(files)-1, maxFiles-1)
		files = files[:maxFiles]
	}
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return err
		}
		b, err := hostfs.ReadFileLimit(env.FS, f, fileLimit)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			env.Errorf("%s: %v", f, err)
			continue
		}
		out.Files = append(out.Files, f)
		var srcs []host.AptSource
		var errs []error
		if strings.HasSuffix(f, ".sources") {
			srcs, errs = ParseDeb822(f, b)
		} else {
			srcs, errs = ParseOneLine(f, b)
		}
		for _, e := range errs {
			env.Errorf("%v", e)
		}
		for _, s := range srcs {
			if len(out.Sources) >= maxSource {
				env.Errorf("more than %d sources; the rest were not read", maxSource)
				break
			}
			out.Sources = append(out.Sources, s)
		}
	}
	if _, err := env.FS.Stat(trustedGPG); err == nil {
		out.Keyrings = append(out.Keyrings, trustedGPG)
	}
	if keys, err := env.FS.ReadDir(trustedDir); err == nil {
		for _, k := range keys {
			if n := k.Name(); strings.HasSuffix(n, ".gpg") || strings.HasSuffix(n, ".asc") {
				out.Keyrings = append(out.Keyrings, path.Join(trustedDir, n))
			}
		}
	}
	for i := range out.Sources {
		s := &out.Sources[i]
		for _, k := range s.SignedBy {
			if !strings.HasPrefix(k, "/") {
				continue // an inline key or a fingerprint
			}
			if _, err := env.FS.Stat(k); err != nil {
				s.MissingKeys = append(s.MissingKeys, k)
			}
		}
	}
	env.Count(len(out.Sources))
	return nil
}

// ParseOneLine reads sources.list lines: "deb [opt=v ...] URI suite
// [component...]".
func ParseOneLine(file string, b []byte) ([]host.AptSource, []error) {
	var out []host.AptSource
	var errs []error
	for n, line := range strings.Split(string(b), "\n") {
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if f[0] != "deb" && f[0] != "deb-src" {
			errs = append(errs, fmt.Errorf("%s:%d: type %q: apt ignores the file after this error", file, n+1, f[0]))
			continue
		}
		s := host.AptSource{Type: f[0], File: file, Line: n + 1, Options: map[string]string{}}
		rest := f[1:]
		if len(rest) > 0 && strings.HasPrefix(rest[0], "[") {
			// Options run to the closing bracket, possibly over several
			// fields.
			var opts []string
			for len(rest) > 0 {
				w := rest[0]
				rest = rest[1:]
				opts = append(opts, strings.Trim(w, "[]"))
				if strings.HasSuffix(w, "]") {
					break
				}
			}
			for _, o := range opts {
				if k, v, ok := strings.Cut(o, "="); ok {
					s.Options[strings.ToLower(k)] = v
				}
			}
		}
		if len(rest) < 2 {
			errs = append(errs, fmt.Errorf("%s:%d: want a URI and a suite", file, n+1))
			continue
		}
		s.URIs, s.Suites, s.Components = []string{rest[0]}, []string{rest[1]}, rest[2:]
		s.SignedBy = splitKeys(s.Options["signed-by"])
		out = append(out, s)
	}
	return out, errs
}

// ParseDeb822 reads a .sources file: stanzas of "Field: value" lines
// separated by blank lines, continuation lines starting with a space.
func ParseDeb822(file string, b []byte) ([]host.AptSource, []error) {
	var out []host.AptSource
	var errs []error
	fields := map[string]string{}
	start, last := 0, ""
	flush := func() {
		if len(fields) == 0 {
			return
		}
		defer func() { fields = map[string]string{} }()
		if strings.EqualFold(fields["enabled"], "no") {
			return
		}
		types := strings.Fields(fields["types"])
		if len(types) == 0 {
			errs = append(errs, fmt.Errorf("%s:%d: a stanza without Types", file, start))
			return
		}
		s := host.AptSource{File: file, Line: start, Options: map[string]string{}}
		s.Type = strings.Join(types, " ")
		s.URIs = strings.Fields(fields["uris"])
		s.Suites = strings.Fields(fields["suites"])
		s.Components = strings.Fields(fields["components"])
		for k, v := range fields {
			switch k {
			case "types", "uris", "suites", "components", "enabled":
			default:
				s.Options[k] = strings.TrimSpace(v)
			}
		}
		if sb := fields["signed-by"]; strings.Contains(sb, "-----BEGIN PGP") {
			s.SignedBy = []string{"(inline key)"}
			s.Options["signed-by"] = "(inline key)"
		} else {
			s.SignedBy = splitKeys(sb)
		}
		out = append(out, s)
	}
	for n, line := range strings.Split(string(b), "\n") {
		switch {
		case strings.TrimSpace(line) == "":
			flush()
			last = ""
		case strings.HasPrefix(line, "#"):
		case line[0] == ' ' || line[0] == '\t':
			if last != "" {
				fields[last] += "\n" + strings.TrimSpace(line)
			}
		default:
			k, v, ok := strings.Cut(line, ":")
			if !ok {
				errs = append(errs, fmt.Errorf("%s:%d: not a field", file, n+1))
				continue
			}
			if len(fields) == 0 {
				start = n + 1
			}
			last = strings.ToLower(strings.TrimSpace(k))
			fields[last] = strings.TrimSpace(v)
		}
	}
	flush()
	return out, errs
}

// splitKeys reads a Signed-By value: key files or fingerprints, separated
// by commas or spaces.
func splitKeys(v string) []string {
	return slices.DeleteFunc(strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' }), func(s string) bool { return s == "" })
}
