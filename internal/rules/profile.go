package rules

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/goccy/go-yaml"

	"github.com/kensa-dev/kensa/internal/host"
)

// Profile is a CIS benchmark profile: the controls of one benchmark, level
// and operating system. The cis rules package evaluates the rules that
// implement its controls, and says which controls it does not implement
// yet: a control without a rule is not evaluated, never passed.
type Profile struct {
	Benchmark string `yaml:"benchmark"`
	Version   string `yaml:"version"`
	Level     int    `yaml:"level"`
	// OS is "id:release" ("debian:12").
	OS string `yaml:"os"`
	// Verification says how the profile's rules were verified: "fixtures"
	// (fixture roots and debootstrap roots), or "hosts" (real systems).
	Verification string    `yaml:"verification"`
	Controls     []Control `yaml:"controls"`
}

// Control is one benchmark control.
type Control struct {
	// Catalogue is the control catalogue's id (KS-...), which rules list
	// in references.catalogue.
	Catalogue string `yaml:"catalogue"`
	// CIS is the section number(s) in the benchmark ("5.2.10", or several
	// separated by ";").
	CIS string `yaml:"cis"`
	// Manual marks controls the benchmark scores as manual.
	Manual bool `yaml:"manual"`
}

//go:embed profiles
var profilesFS embed.FS

// Profiles reads the embedded CIS profiles.
func Profiles() ([]*Profile, error) {
	var out []*Profile
	err := fs.WalkDir(profilesFS, "profiles", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || path.Ext(p) != ".yaml" {
			return err
		}
		data, err := fs.ReadFile(profilesFS, p)
		if err != nil {
			return err
		}
		var pr Profile
		if err := yaml.UnmarshalWithOptions(data, &pr, yaml.DisallowUnknownField(), yaml.Strict()); err != nil {
			return fmt.Errorf("rules: profile %s: %s", p, yaml.FormatError(err, false, true))
		}
		if pr.OS == "" || len(pr.Controls) == 0 {
			return fmt.Errorf("rules: profile %s: os and controls are required", p)
		}
		out = append(out, &pr)
		return nil
	})
	return out, err
}

// ProfileFor returns the profile of an OS, or nil.
func ProfileFor(profiles []*Profile, o *host.OSRelease) *Profile {
	if o == nil {
		return nil
	}
	for _, p := range profiles {
		id, rel, _ := strings.Cut(p.OS, ":")
		if id == o.ID && (rel == o.Major || rel == o.Release) {
			return p
		}
	}
	return nil
}

// Implemented splits the profile's controls into those a rule implements
// and those none does.
func (p *Profile) Implemented(all []*Rule) (done, missing []Control) {
	have := map[string]bool{}
	for _, r := range all {
		if r.Package != "cis" {
			continue
		}
		for _, id := range r.References.Catalogue {
			have[id] = true
		}
	}
	for _, c := range p.Controls {
		if have[c.Catalogue] {
			done = append(done, c)
		} else {
			missing = append(missing, c)
		}
	}
	return done, missing
}

// Name is how reports name the profile.
func (p *Profile) Name() string {
	return fmt.Sprintf("%s %s, Level %d Server", p.Benchmark, p.Version, p.Level)
}

func sections(cs []Control, max int) string {
	var s []string
	for i, c := range cs {
		if i == max {
			s = append(s, fmt.Sprintf("and %d more", len(cs)-max))
			break
		}
		s = append(s, strings.ReplaceAll(c.CIS, ";", "/"))
	}
	return strings.Join(slices.Clip(s), ", ")
}
