package rules

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"sync"

	"github.com/goccy/go-yaml"

	"github.com/kensa-dev/kensa/internal/host"
)

// Profile is a CIS benchmark profile: the controls of one benchmark, level
// and operating system, each answered by a rule or by none yet. The cis
// rules package evaluates, on a host, exactly the rules its profile names,
// numbered as that benchmark numbers them; a control without a rule is not
// evaluated, never passed, and an OS without a profile is said to be so
// before anything is collected.
//
// The profile, not the rule, carries the numbering: one check (the cramfs
// module cannot be loaded) is 1.1.1.1 in the Debian 12 benchmark and
// 1.1.1.3 in Amazon Linux 2023's, so a rule file is written once and each
// benchmark that has the control lists it under its own number.
type Profile struct {
	// ID names the benchmark in rule references ("debian12", "rhel9").
	ID        string `yaml:"id"`
	Benchmark string `yaml:"benchmark"`
	Version   string `yaml:"version"`
	Level     int    `yaml:"level"`
	// OS are the "id:release" pairs the benchmark covers ("rhel:9",
	// "almalinux:9", "rocky:9"); a release matches by its major version or
	// in full ("ubuntu:22.04").
	OS []string `yaml:"os"`
	// Verification says how the profile's rules were verified: "fixtures"
	// (fixture roots built from the distribution's own files) or "hosts"
	// (real systems of that OS).
	Verification string `yaml:"verification"`
	// VerifiedBy says what the verification was, in a sentence or two.
	VerifiedBy string `yaml:"verified_by"`
	// Numbering, when set, says where the section numbers come from and
	// how they can differ from other published copies of the benchmark.
	Numbering string    `yaml:"numbering"`
	Controls  []Control `yaml:"controls"`
}

// Control is one benchmark control.
type Control struct {
	// CIS is the section number in the benchmark ("5.2.10"), or several
	// separated by ";" when one rule answers them all; the finding is
	// numbered by the first.
	CIS string `yaml:"cis"`
	// Rule is the id of the rule that answers the control; empty while
	// none does.
	Rule string `yaml:"rule"`
	// Catalogue is the control catalogue's id (KS-...).
	Catalogue string `yaml:"catalogue"`
	// Manual marks controls the benchmark scores as manual.
	Manual bool `yaml:"manual"`
	// NotAssessed, when set, says why no scanner can assess the control
	// (it asks for a site's own rule set, or a judgement, or it is not in
	// the workplace catalogue): such a control has no rule and none is
	// planned. It is named in the coverage with its reason, and does not
	// make the profile partial: it is out of any scanner's reach, not a
	// check Kensa has yet to write.
	NotAssessed string `yaml:"not_assessed"`
}

// ID is the id results and findings carry for the control: "cis-" and
// its first section number.
func (c Control) ID() string {
	first, _, _ := strings.Cut(c.CIS, ";")
	return "cis-" + first
}

//go:embed profiles
var profilesFS embed.FS

// Profiles reads the embedded CIS profiles (once per process: they never
// change). The profiles are shared and must not be modified.
func Profiles() ([]*Profile, error) {
	return loadProfiles()
}

var loadProfiles = sync.OnceValues(func() ([]*Profile, error) { return ProfilesFS(profilesFS, "profiles") })

// ProfilesFS reads and validates every *.yaml profile under dir of fsys:
// an id, a benchmark, a version, at least one OS and one control, a
// verification, and no section number or rule twice.
func ProfilesFS(fsys fs.FS, dir string) ([]*Profile, error) {
	var out []*Profile
	ids, oses := map[string]string{}, map[string]string{}
	err := fs.WalkDir(fsys, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || path.Ext(p) != ".yaml" {
			return err
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		var pr Profile
		if err := yaml.UnmarshalWithOptions(data, &pr, yaml.DisallowUnknownField(), yaml.Strict()); err != nil {
			return fmt.Errorf("rules: profile %s: %s", p, yaml.FormatError(err, false, true))
		}
		if err := pr.validate(); err != nil {
			return fmt.Errorf("rules: profile %s: %w", p, err)
		}
		if prev, dup := ids[pr.ID]; dup {
			return fmt.Errorf("rules: profile %s: id %s is also %s's", p, pr.ID, prev)
		}
		ids[pr.ID] = p
		for _, o := range pr.OS {
			if prev, dup := oses[o]; dup {
				return fmt.Errorf("rules: profile %s: %s is also covered by %s", p, o, prev)
			}
			oses[o] = p
		}
		out = append(out, &pr)
		return nil
	})
	slices.SortFunc(out, func(a, b *Profile) int { return strings.Compare(a.ID, b.ID) })
	return out, err
}

func (p *Profile) validate() error {
	var missing []string
	for name, v := range map[string]string{"id": p.ID, "benchmark": p.Benchmark, "version": p.Version, "verified_by": p.VerifiedBy} {
		if strings.TrimSpace(v) == "" {
			missing = append(missing, name)
		}
	}
	if len(p.OS) == 0 {
		missing = append(missing, "os")
	}
	if len(p.Controls) == 0 {
		missing = append(missing, "controls")
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return fmt.Errorf("missing %s", strings.Join(missing, ", "))
	}
	if p.Verification != "fixtures" && p.Verification != "hosts" {
		return fmt.Errorf("verification %q: want fixtures or hosts", p.Verification)
	}
	for _, o := range p.OS {
		if id, rel, ok := strings.Cut(o, ":"); !ok || id == "" || rel == "" {
			return fmt.Errorf("os %q: want ID:RELEASE", o)
		}
	}
	sections, rules := map[string]bool{}, map[string]string{}
	for _, c := range p.Controls {
		switch {
		case c.CIS == "":
			return fmt.Errorf("control %+v: cis is required", c)
		case c.NotAssessed != "" && c.Rule != "":
			return fmt.Errorf("control %s: a control with a rule is assessed: not_assessed is for controls no scanner can assess", c.CIS)
		case c.Rule != "" && c.Catalogue == "":
			return fmt.Errorf("control %s: a control with a rule names its catalogue id", c.CIS)
		}
		for _, s := range strings.Split(c.CIS, ";") {
			if sections[s] {
				return fmt.Errorf("section %s is listed twice", s)
			}
			sections[s] = true
		}
		if c.Rule == "" {
			continue
		}
		if prev, dup := rules[c.Rule]; dup {
			return fmt.Errorf("rule %s answers both %s and %s: list the sections in one control", c.Rule, prev, c.CIS)
		}
		rules[c.Rule] = c.CIS
	}
	return nil
}

// ProfileFor returns the profile of an OS, or nil.
func ProfileFor(profiles []*Profile, o *host.OSRelease) *Profile {
	if o == nil {
		return nil
	}
	for _, p := range profiles {
		if p.Covers(o) {
			return p
		}
	}
	return nil
}

// Covers reports whether the profile is for the OS: its id and its major
// release, or its full release.
func (p *Profile) Covers(o *host.OSRelease) bool {
	for _, want := range p.OS {
		id, rel, _ := strings.Cut(want, ":")
		if id == o.ID && (rel == o.Major || rel == o.Release) {
			return true
		}
	}
	return false
}

// Control returns the control a rule answers in the profile.
func (p *Profile) Control(rule string) (Control, bool) {
	for _, c := range p.Controls {
		if c.Rule == rule {
			return c, true
		}
	}
	return Control{}, false
}

// Implemented splits the profile's controls into those a rule of all
// answers and those none does yet (no rule named, or the named rule is not
// among all); controls no scanner can assess are in neither (NotAssessed).
func (p *Profile) Implemented(all []*Rule) (done, missing []Control) {
	have := map[string]bool{}
	for _, r := range all {
		if r.Package == "cis" {
			have[r.ID] = true
		}
	}
	for _, c := range p.Controls {
		if c.NotAssessed != "" {
			continue
		}
		if c.Rule != "" && have[c.Rule] {
			done = append(done, c)
		} else {
			missing = append(missing, c)
		}
	}
	return done, missing
}

// NotAssessed lists the controls no scanner can assess.
func (p *Profile) NotAssessed() []Control {
	var out []Control
	for _, c := range p.Controls {
		if c.NotAssessed != "" {
			out = append(out, c)
		}
	}
	return out
}

// Name is how reports name the profile.
func (p *Profile) Name() string {
	return fmt.Sprintf("%s %s, Level %d Server", p.Benchmark, p.Version, p.Level)
}

// VerificationNote says how the profile was verified, as `kensa rules
// list` and the coverage show it: "verified on fixtures" or "verified on
// hosts".
func (p *Profile) VerificationNote() string {
	return "verified on " + p.Verification
}

// NoProfile says that an OS has no CIS profile, naming the releases of the
// same OS that have one ("no CIS profile for ubuntu:20.04 in this version
// of Kensa (profiles exist for ubuntu:22.04, ubuntu:24.04)").
func NoProfile(profiles []*Profile, o *host.OSRelease, scope string) string {
	msg := "no CIS profile for " + scope + " in this version of Kensa"
	if o == nil {
		return msg
	}
	var near []string
	for _, p := range profiles {
		for _, want := range p.OS {
			if id, _, _ := strings.Cut(want, ":"); id == o.ID {
				near = append(near, want)
			}
		}
	}
	if len(near) > 0 {
		slices.Sort(near)
		msg += " (profiles exist for " + strings.Join(near, ", ") + ")"
	}
	return msg
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
