// Package npm reads the package.json of packages installed in node_modules
// directories (node_modules/<name> and node_modules/@scope/<name>, at any
// nesting) discovered on a host. The package.json of a project itself,
// outside node_modules, describes no installed package and is not read.
package npm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"

	"github.com/kensa-dev/kensa/internal/collect"
	"github.com/kensa-dev/kensa/internal/collect/discover"
	"github.com/kensa-dev/kensa/internal/collect/lang"
	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/hostfs"
)

// Name is the collector's name.
const Name = "lang/npm"

// maxManifest bounds a package.json. Old npm versions copied the README
// into it, so some are hundreds of KiB.
const maxManifest = 4 << 20

// Collector reads npm package manifests.
type Collector struct {
	w *discover.Walker
}

// New returns the collector, reading the candidates of w.
func New(w *discover.Walker) *Collector { return &Collector{w: w} }

// Name implements collect.Collector.
func (*Collector) Name() string { return Name }

// Collect implements collect.Collector.
func (c *Collector) Collect(ctx context.Context, env *collect.Env, inv *host.Inventory) error {
	return c.w.Each(ctx, env, inv, func(cs *discover.Candidates) []string { return cs.NPM }, func(f discover.File) {
		b, err := hostfs.ReadFileLimit(env.FS, f.Path, maxManifest)
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				env.Errorf("%s: %v", f.Location, err)
			}
			return
		}
		m, err := ParseManifest(b)
		if err != nil {
			env.Errorf("%s: %v", f.Location, err)
			return
		}
		if m.Name == "" || m.Version == "" {
			return
		}
		inv.Software = append(inv.Software, host.Software{
			Ecosystem: lang.EcosystemNPM,
			Name:      m.Name,
			Version:   m.Version,
			PURL:      lang.NPMPURL(m.Name, m.Version),
			Kind:      host.KindNPM,
			Location:  f.Location,
			Collector: Name,
			OwnedBy:   f.OwnedBy,
		})
		env.Count(1)
	})
}

// Manifest is what Kensa reads of a package.json.
type Manifest struct {
	Name    string
	Version string
}

// ParseManifest reads the name and version of a package.json. Either may
// be empty (a package.json without a version is no installed release); a
// document that is not a JSON object, or whose name or version is not a
// plausible one, is an error.
func ParseManifest(b []byte) (Manifest, error) {
	var raw struct {
		Name    json.RawMessage `json:"name"`
		Version json.RawMessage `json:"version"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return Manifest{}, fmt.Errorf("npm: parse package.json: %w", err)
	}
	var m Manifest
	for _, f := range []struct {
		raw json.RawMessage
		dst *string
		key string
	}{{raw.Name, &m.Name, "name"}, {raw.Version, &m.Version, "version"}} {
		if len(f.raw) == 0 || string(f.raw) == "null" {
			continue
		}
		if err := json.Unmarshal(f.raw, f.dst); err != nil {
			return Manifest{}, fmt.Errorf("npm: package.json %s is not a string", f.key)
		}
	}
	// npm limits names to 214 characters.
	if m.Name != "" && !lang.ValidText(m.Name, 214) {
		return Manifest{}, fmt.Errorf("npm: invalid package name %q", m.Name)
	}
	if m.Version != "" && !lang.ValidText(m.Version, 256) {
		return Manifest{}, fmt.Errorf("npm: invalid version %q", m.Version)
	}
	return m, nil
}
