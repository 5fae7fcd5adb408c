// Package rules is the engine of the configuration rules packages (best
// practices, CIS): rules are data, one YAML file each, embedded in the
// binary; their checks are built from typed check kinds implemented once in
// Go and combined with all / any / none. A rule reads only the inventory:
// every fact comes from a collector, so the same rules evaluate a live
// host, an image or an inventory an agent sent.
//
// Every rule yields pass, fail, not_applicable or error, never a silent
// pass: a fact that was not collected is an error or not applicable, with
// the reason.
package rules

import (
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"sync"
	"text/template"

	"github.com/goccy/go-yaml"

	"github.com/kensa-dev/kensa/internal/finding"
	"github.com/kensa-dev/kensa/internal/host"
)

// Rule is one rule file.
type Rule struct {
	ID          string           `yaml:"id"`
	Package     string           `yaml:"package"`
	Title       string           `yaml:"title"`
	Description string           `yaml:"description"`
	Rationale   string           `yaml:"rationale"`
	Severity    finding.Severity `yaml:"severity"`
	Remediation string           `yaml:"remediation"`
	References  References       `yaml:"references"`
	AppliesTo   AppliesTo        `yaml:"applies_to"`
	// Target names what the rule is about in findings ("sshd", "login.defs").
	Target string `yaml:"target"`
	Check  Check  `yaml:"check"`
	// File is the rule's file name in the embedded packs.
	File string `yaml:"-"`
	// Disabled, when set, is why the rule is not evaluated here (a
	// tailoring disabled it, or its CIS level is above the tailored
	// level); its result is not_applicable with this reason.
	Disabled string `yaml:"-"`
	// source is the YAML the rule was parsed from, to copy it.
	source []byte
}

// References point to the standards a rule implements.
type References struct {
	// CIS maps a benchmark, by its profile id ("debian12"), to the
	// control a rule of another package corresponds to (the best practice
	// on ASLR is CIS Debian 12 1.5.3). A cis rule has none: the profiles
	// list the rules that answer their controls, with their numbers.
	CIS  map[string]CISRef `yaml:"cis"`
	NIST []string          `yaml:"nist"`
	// Catalogue are the ids of the workplace's control catalogue (KS-...).
	Catalogue []string `yaml:"catalogue"`
	URLs      []string `yaml:"urls"`
}

// CISRef is a CIS benchmark control.
type CISRef struct {
	ID    string `yaml:"id"`
	Level int    `yaml:"level"`
}

// AppliesTo says which operating systems a rule is for. Empty lists mean
// every Linux system.
type AppliesTo struct {
	// Families are OS families (debian, rhel, alpine, suse).
	Families []string `yaml:"families"`
	// OS are "id" or "id:release" ("debian:12", "ubuntu").
	OS []string `yaml:"os"`
	// Packages, when set, make the rule apply only where one of them is
	// installed (the cron.allow rule where a cron daemon is); elsewhere it
	// is not_applicable, saying none is installed.
	Packages []string `yaml:"packages"`
}

// Applies reports whether the rule is for the OS, and why not.
func (a AppliesTo) Applies(o *host.OSRelease) (bool, string) {
	if len(a.Families) == 0 && len(a.OS) == 0 {
		return true, ""
	}
	if o == nil {
		return false, "the operating system could not be identified"
	}
	if slices.Contains(a.Families, o.Family) {
		return true, ""
	}
	for _, want := range a.OS {
		id, rel, hasRel := strings.Cut(want, ":")
		if id == o.ID && (!hasRel || rel == o.Major || rel == o.Release) {
			return true, ""
		}
	}
	return false, fmt.Sprintf("the rule is for %s, not %s %s", strings.Join(slices.Concat(a.Families, a.OS), ", "), o.ID, o.Release)
}

//go:embed packs
var packsFS embed.FS

// Load reads and validates every embedded rule. Unknown fields, a missing
// title or remediation, an unknown severity, a check that is not exactly
// one kind: each is an error naming the file and line.
//
// The embedded rules never change, and parsing them costs about 50 ms, so
// they are parsed once per process (a scan with --profile needs them both to
// check the tailoring before collection and to evaluate). The rules are
// shared and must not be modified: a tailoring works on copies.
func Load() ([]*Rule, error) {
	all, err := loadEmbedded()
	return slices.Clone(all), err
}

var loadEmbedded = sync.OnceValues(func() ([]*Rule, error) { return LoadFS(packsFS, "packs") })

// LoadFS reads every *.yaml under dir of fsys.
func LoadFS(fsys fs.FS, dir string) ([]*Rule, error) {
	var out []*Rule
	seen := map[string]string{}
	err := fs.WalkDir(fsys, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || path.Ext(p) != ".yaml" {
			return nil
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		r, err := Parse(data)
		if err != nil {
			return fmt.Errorf("rules: %s: %w", p, err)
		}
		r.File = p
		if prev, dup := seen[r.Package+"/"+r.ID]; dup {
			return fmt.Errorf("rules: %s: rule %s/%s is also defined in %s", p, r.Package, r.ID, prev)
		}
		seen[r.Package+"/"+r.ID] = p
		out = append(out, r)
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b *Rule) int { return strings.Compare(a.Package+"/"+a.ID, b.Package+"/"+b.ID) })
	return out, nil
}

// Parse reads one rule and validates it.
func Parse(data []byte) (*Rule, error) {
	var r Rule
	if err := yaml.UnmarshalWithOptions(data, &r, yaml.DisallowUnknownField(), yaml.Strict()); err != nil {
		return nil, fmt.Errorf("%s", yaml.FormatError(err, false, true))
	}
	if err := r.validate(); err != nil {
		return nil, err
	}
	r.source = data
	return &r, nil
}

func (r *Rule) validate() error {
	var missing []string
	for name, v := range map[string]string{"id": r.ID, "package": r.Package, "title": r.Title, "description": r.Description,
		"rationale": r.Rationale, "remediation": r.Remediation, "target": r.Target} {
		if strings.TrimSpace(v) == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return fmt.Errorf("rule %q: missing %s", r.ID, strings.Join(missing, ", "))
	}
	if !slices.Contains(finding.Packages(), r.Package) || r.Package == finding.PackageCVE {
		return fmt.Errorf("rule %s: package %q is not a configuration rules package", r.ID, r.Package)
	}
	if r.Package == finding.PackageCIS && len(r.References.CIS) > 0 {
		return fmt.Errorf("rule %s: references.cis: a cis rule is numbered by the profiles that list it (internal/rules/profiles), not by its own references", r.ID)
	}
	if _, err := finding.ParseSeverity(string(r.Severity)); err != nil || r.Severity == finding.Unrated {
		return fmt.Errorf("rule %s: severity %q: want high, medium, low or informational", r.ID, r.Severity)
	}
	if err := r.Check.validate(); err != nil {
		return fmt.Errorf("rule %s: check: %w", r.ID, err)
	}
	for _, o := range append([]*host.OSRelease{nil}, toolsSamples...) {
		for _, field := range []*string{&r.Title, &r.Description, &r.Remediation} {
			if _, err := r.render(*field, o); err != nil {
				return fmt.Errorf("rule %s: %w", r.ID, err)
			}
		}
	}
	return nil
}

// render expands the check's parameters in a rule's prose ("Set
// PermitRootLogin {{.sshd_option.equals}}"), so text and check cannot
// disagree, and the host's package tools ("{{.os.remove}} telnet"), so a
// rule written once for every benchmark that has the control tells each
// host the command it has. Without an OS the tools are named for each
// family.
func (r *Rule) render(text string, o *host.OSRelease) (string, error) {
	if !strings.Contains(text, "{{") {
		return text, nil
	}
	t, err := template.New(r.ID).Option("missingkey=error").Parse(text)
	if err != nil {
		return "", fmt.Errorf("template %q: %w", text, err)
	}
	data := r.Check.params()
	data["os"] = toolsFor(o)
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		return "", fmt.Errorf("template %q: %w", text, err)
	}
	return buf.String(), nil
}

// Text returns the rule's title, description and remediation with the
// check's parameters filled in, and the package tools of every family.
func (r *Rule) Text() (title, description, remediation string) {
	return r.TextFor(nil)
}

// TextFor is Text for a host of OS o: the package tools are o's.
func (r *Rule) TextFor(o *host.OSRelease) (title, description, remediation string) {
	title, _ = r.render(r.Title, o)
	description, _ = r.render(r.Description, o)
	remediation, _ = r.render(r.Remediation, o)
	return
}

// toolsFor names the package manager's commands on o, for rule prose:
// {{.os.install}}, {{.os.remove}} (removing a package with its
// configuration where the tool can) and {{.os.manager}}.
func toolsFor(o *host.OSRelease) map[string]string {
	switch {
	case o == nil:
		return map[string]string{"install": "`apt install` (Debian, Ubuntu) or `dnf install` (RHEL family, Amazon Linux)",
			"remove": "`apt purge` (Debian, Ubuntu) or `dnf remove` (RHEL family, Amazon Linux)", "manager": "the package manager"}
	case o.ID == "amzn" && o.Major == "2":
		return map[string]string{"install": "`yum install`", "remove": "`yum remove`", "manager": "yum"}
	case o.Family == "rhel":
		return map[string]string{"install": "`dnf install`", "remove": "`dnf remove`", "manager": "dnf"}
	case o.Family == "alpine":
		return map[string]string{"install": "`apk add`", "remove": "`apk del`", "manager": "apk"}
	}
	return map[string]string{"install": "`apt install`", "remove": "`apt purge`", "manager": "apt"}
}

// toolsSamples are the OSes a rule's prose is checked against when it is
// loaded, one per set of tools.
var toolsSamples = []*host.OSRelease{{ID: "debian", Family: "debian"}, {ID: "rhel", Family: "rhel", Major: "9"},
	{ID: "amzn", Family: "rhel", Major: "2"}, {ID: "alpine", Family: "alpine"}}
