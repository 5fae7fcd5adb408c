// Package suppress reads suppression files (.kensa-ignore.yaml) and sets
// aside the findings they match: risks a site has accepted, each with the
// reason, the owner who decided and, optionally, the day the decision
// must be looked at again.
//
// A suppressed finding is never dropped: Apply returns it, with the rule
// that suppressed it, for the report to count and list apart from the
// findings that stand. An expired suppression no longer applies, so the
// findings it covered come back on their own instead of staying hidden
// after nobody remembers why. The format is described in
// docs/suppressions.md.
package suppress

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"

	"github.com/kensa-dev/kensa/internal/finding"
)

// DefaultName is the suppression file looked for in the directory a scan
// runs from when no --ignore-file is given.
const DefaultName = ".kensa-ignore.yaml"

// Version is the format version a suppression file declares ("version:
// 1"). It is required so that a later format can change a field's meaning
// without old files being read the new way.
const Version = 1

// maxFileSize bounds a suppression file: a thousand suppressions are
// about 200 KiB.
const maxFileSize = 4 << 20

// dateLayout is how expiry dates are written.
const dateLayout = "2006-01-02"

// File is a suppression file as loaded.
type File struct {
	// Path is the file as given; SHA256 is the hex digest of its bytes,
	// so a report can say exactly which decisions it was made under.
	Path   string
	SHA256 string
	Rules  []Rule
}

// Rule is one suppression. Its match fields that are set must all match
// a finding (AND); at least one of Vulnerability, Rule, Package and Path
// is set, so that every suppression names what is accepted: Host and
// RulesPackage only narrow it. Everything but Path is matched without
// regard to case.
type Rule struct {
	// Vulnerability is one vulnerability id, exactly: the finding's
	// vulnerability id or any of its aliases ("CVE-2023-38545",
	// "GHSA-..."). Not a pattern: accepting one vulnerability is a
	// decision about that vulnerability, and "CVE-2023-*" would accept
	// vulnerabilities nobody has read. Rule "cve/*" with Package does
	// the broad case explicitly.
	Vulnerability string
	// Rule is a glob over the rule id ("cis-5.2.*", "cve/*").
	Rule string
	// Package is a glob over the affected package: for vulnerability
	// findings the binary package or its source package ("libssl3" or
	// "openssl"), for runtime findings the package owning the program
	// (attribute "package").
	Package string
	// Host is a glob over the host name and the machine id; either
	// matching is enough.
	Host string
	// Path is a path glob over the paths a finding names (see
	// findingPaths): "*" within a segment, "**" any depth. It must be
	// absolute or start with "**".
	Path string
	// RulesPackage is cve, cis, best-practices or runtime.
	RulesPackage string

	// Reason says why the risk is accepted; Owner who accepted it (an
	// email or a team). Both are required.
	Reason string
	Owner  string
	// Expires is the last day the suppression applies (its UTC date; as
	// loaded, 00:00 UTC of that day); it no longer applies from 00:00 UTC
	// the next day. Nil: no expiry.
	Expires *time.Time
	// Line is the rule's line in the file, for messages.
	Line int
	// ID names a rule that is not read from a file: a suppression a
	// Kensa server stores ("sup-12"). Messages and reports name the rule
	// by it instead of by Line.
	ID string
}

// Expired reports whether the suppression has expired at now: the expiry
// day itself, in UTC, is the last day it applies.
func (r Rule) Expired(now time.Time) bool {
	if r.Expires == nil {
		return false
	}
	y, m, d := r.Expires.UTC().Date()
	return !now.Before(time.Date(y, m, d+1, 0, 0, 0, 0, time.UTC))
}

// ExpiresDate is the expiry as written in the file (YYYY-MM-DD), or ""
// when the rule does not expire.
func (r Rule) ExpiresDate() string {
	if r.Expires == nil {
		return ""
	}
	return r.Expires.Format(dateLayout)
}

// String names the rule in messages by its line and what it matches:
// `line 4: vulnerability CVE-2023-38545, package curl`.
func (r Rule) String() string {
	var parts []string
	for _, m := range []struct{ k, v string }{
		{"vulnerability", r.Vulnerability}, {"rule", r.Rule}, {"package", r.Package},
		{"path", r.Path}, {"host", r.Host}, {"rules_package", r.RulesPackage},
	} {
		if m.v != "" {
			parts = append(parts, m.k+" "+m.v)
		}
	}
	if r.ID != "" {
		return fmt.Sprintf("suppression %s: %s", r.ID, strings.Join(parts, ", "))
	}
	return fmt.Sprintf("line %d: %s", r.Line, strings.Join(parts, ", "))
}

// ParseExpires reads an expiry as a file writes it, YYYY-MM-DD (the last
// day the suppression applies), into Rule.Expires: 00:00 UTC of that day.
// "" is no expiry (nil). For rules built from fields other than a file's,
// so that they read dates exactly as Load does.
func ParseExpires(s string) (*time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	t, err := time.ParseInLocation(dateLayout, s, time.UTC)
	if err != nil {
		return nil, fmt.Errorf("expires %q: want a date, YYYY-MM-DD (the last day the suppression applies)", s)
	}
	return &t, nil
}

// matcher is a rule compiled for matching.
type matcher struct {
	vuln                  string
	rule, pkg, host, path *glob
	rulesPackage          string
}

// compile checks a rule and compiles its patterns. Load calls it on every
// rule; Apply again, so that a Rule built by hand is checked the same way.
func (r Rule) compile() (*matcher, error) {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	m := &matcher{vuln: r.Vulnerability, rulesPackage: strings.ToLower(r.RulesPackage)}
	if r.Vulnerability == "" && r.Rule == "" && r.Package == "" && r.Path == "" {
		bad("no vulnerability, rule, package or path: a suppression must name what it accepts (host and rules_package only narrow it)")
	}
	if strings.ContainsAny(r.Vulnerability, "*?[") {
		bad("vulnerability %q: one id, not a pattern (to accept many, match rule and package)", r.Vulnerability)
	}
	for _, g := range []struct {
		name    string
		pattern string
		mode    globMode
		dst     **glob
	}{
		{"rule", r.Rule, globName, &m.rule},
		{"package", r.Package, globName, &m.pkg},
		{"host", r.Host, globName, &m.host},
		{"path", r.Path, globPath, &m.path},
	} {
		if g.pattern == "" {
			continue
		}
		re, err := newGlob(g.pattern, g.mode)
		if err != nil {
			bad("%s: %v", g.name, err)
			continue
		}
		*g.dst = re
	}
	if r.Path != "" && !strings.HasPrefix(r.Path, "/") && !strings.HasPrefix(r.Path, "**") {
		bad("path %q: absolute (/opt/app/**) or starting with ** (**/vendor/**)", r.Path)
	}
	if m.rulesPackage != "" && !slices.Contains(finding.Packages(), m.rulesPackage) {
		bad("rules_package %q: want %s", r.RulesPackage, strings.Join(finding.Packages(), ", "))
	}
	if strings.TrimSpace(r.Reason) == "" {
		bad("no reason: say why the risk is accepted (the report shows it)")
	}
	if strings.TrimSpace(r.Owner) == "" {
		bad("no owner: say who accepted the risk (an email or a team)")
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return m, nil
}

// Validate checks a rule as Load does; for rules not read from a file.
func (r Rule) Validate() error {
	_, err := r.compile()
	return err
}

// rawFile and rawRule are the file's YAML, decoded strictly.
type rawFile struct {
	Version      *int     `yaml:"version"`
	Suppressions ast.Node `yaml:"suppressions"`
}

type rawRule struct {
	Vulnerability string `yaml:"vulnerability"`
	Rule          string `yaml:"rule"`
	Package       string `yaml:"package"`
	Host          string `yaml:"host"`
	Path          string `yaml:"path"`
	RulesPackage  string `yaml:"rules_package"`
	Reason        string `yaml:"reason"`
	Owner         string `yaml:"owner"`
	Expires       string `yaml:"expires"`
}

// Load reads a suppression file strictly: an unknown key (a misspelt
// "expiers"), a suppression without a reason, an owner or anything to
// match, a bad date or a bad pattern is an error naming its line, never a
// suppression that silently matches nothing or everything. All the
// file's errors are returned at once, one per line.
func Load(path string) (*File, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("suppressions: %w", err)
	}
	defer fh.Close()
	data, err := io.ReadAll(io.LimitReader(fh, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("suppressions: %s: %w", path, err)
	}
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("suppressions: %s: larger than %d bytes", path, maxFileSize)
	}
	rules, err := parse(data, path)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(data)
	return &File{Path: path, SHA256: hex.EncodeToString(sum[:]), Rules: rules}, nil
}

// LoadDefault loads DefaultName in dir, and returns nil, nil when there is
// none: the file is optional.
func LoadDefault(dir string) (*File, error) {
	p := filepath.Join(dir, DefaultName)
	if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return Load(p)
}

// parse reads the document; name prefixes its errors ("file:line: ...").
func parse(data []byte, name string) ([]Rule, error) {
	var raw rawFile
	if err := yaml.UnmarshalWithOptions(data, &raw, yaml.Strict(), yaml.DisallowUnknownField()); err != nil {
		return nil, yamlError(name, err)
	}
	if raw.Version == nil {
		return nil, fmt.Errorf("%s:1: no version: want \"version: %d\" at the top", name, Version)
	}
	if *raw.Version != Version {
		return nil, fmt.Errorf("%s: version %d: this Kensa reads version %d", name, *raw.Version, Version)
	}
	var items []ast.Node
	switch n := raw.Suppressions.(type) {
	case nil, *ast.NullNode:
		// "suppressions:" with nothing under it: no suppressions.
	case *ast.SequenceNode:
		items = n.Values
	default:
		return nil, fmt.Errorf("%s:%d: suppressions: want a list of suppressions (- vulnerability: ...)", name, nodeLine(n))
	}
	var errs []error
	rules := make([]Rule, 0, len(items))
	for i, n := range items {
		line := nodeLine(n)
		switch n.(type) {
		case *ast.AnchorNode, *ast.AliasNode:
			// Each suppression is read by an auditor on its own:
			// one that is a copy of another by reference hides what
			// it accepts.
			errs = append(errs, fmt.Errorf("%s:%d: suppression %d: YAML anchors and aliases are not allowed: write each suppression out", name, line, i+1))
			continue
		case ast.MapNode:
		default:
			errs = append(errs, fmt.Errorf("%s:%d: suppression %d: want a mapping (vulnerability: ..., reason: ..., owner: ...)", name, line, i+1))
			continue
		}
		var rr rawRule
		if err := yaml.NodeToValue(n, &rr, yaml.Strict(), yaml.DisallowUnknownField()); err != nil {
			errs = append(errs, yamlError(name, err))
			continue
		}
		r := Rule{
			Vulnerability: strings.TrimSpace(rr.Vulnerability),
			Rule:          strings.TrimSpace(rr.Rule),
			Package:       strings.TrimSpace(rr.Package),
			Host:          strings.TrimSpace(rr.Host),
			Path:          strings.TrimSpace(rr.Path),
			RulesPackage:  strings.TrimSpace(rr.RulesPackage),
			Reason:        strings.TrimSpace(rr.Reason),
			Owner:         strings.TrimSpace(rr.Owner),
			Line:          line,
		}
		var ruleErrs []error
		if t, err := ParseExpires(rr.Expires); err != nil {
			ruleErrs = append(ruleErrs, err)
		} else {
			r.Expires = t
		}
		if _, err := r.compile(); err != nil {
			ruleErrs = append(ruleErrs, err)
		}
		if len(ruleErrs) > 0 {
			for _, line2 := range strings.Split(errors.Join(ruleErrs...).Error(), "\n") {
				errs = append(errs, fmt.Errorf("%s:%d: %s", name, line, line2))
			}
			continue
		}
		rules = append(rules, r)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return rules, nil
}

// nodeLine is the line a node starts on, 0 when unknown.
func nodeLine(n ast.Node) int {
	if n == nil {
		return 0
	}
	if tk := n.GetToken(); tk != nil && tk.Position != nil {
		return tk.Position.Line
	}
	return 0
}

// yamlError formats a YAML error as "file:line:column: message", the form
// editors jump to.
func yamlError(name string, err error) error {
	var ye yaml.Error
	if errors.As(err, &ye) {
		if tk := ye.GetToken(); tk != nil && tk.Position != nil {
			return fmt.Errorf("%s:%d:%d: %s", name, tk.Position.Line, tk.Position.Column, ye.GetMessage())
		}
		return fmt.Errorf("%s: %s", name, ye.GetMessage())
	}
	return fmt.Errorf("%s: %w", name, err)
}

// Suppressed is a finding a suppression matched.
type Suppressed struct {
	Finding finding.Finding
	// Rule is the first rule of the file, in file order, that matched
	// and had not expired; it points into File.Rules.
	Rule *Rule
}

// Outcome is the findings split by the suppressions. Kept and Suppressed
// together hold every finding given, each once, in the order given.
type Outcome struct {
	Kept       []finding.Finding
	Suppressed []Suppressed
	// Expired are the rules whose expiry passed, in file order: they
	// applied to nothing, and the caller warns about each.
	Expired []Rule
	// Unused are the rules, not expired, that matched no finding, in
	// file order: candidates for removal, which the caller may list.
	// A rule matching only findings an earlier rule took is used: it
	// would take them if that rule went.
	Unused []Rule
}

// Apply splits findings of one host (hostName, machineID) by the
// suppressions in force at now. A nil File suppresses nothing. A rule
// that fails Validate (only a hand-built one can) matches nothing and is
// listed in Unused.
func (f *File) Apply(hostName, machineID string, findings []finding.Finding, now time.Time) Outcome {
	out := Outcome{Kept: make([]finding.Finding, 0, len(findings))}
	if f == nil {
		out.Kept = append(out.Kept, findings...)
		return out
	}
	type live struct {
		rule *Rule
		m    *matcher
		used bool
	}
	var active []*live
	for i := range f.Rules {
		r := &f.Rules[i]
		if r.Expired(now) {
			out.Expired = append(out.Expired, *r)
			continue
		}
		m, err := r.compile()
		if err != nil || (m.host != nil && !anyMatch(m.host, hostName, machineID)) {
			// Invalid, or for another host: it matches nothing here.
			m = nil
		}
		active = append(active, &live{rule: r, m: m})
	}
	for _, fd := range findings {
		var by *Rule
		subj := subjectOf(&fd)
		for _, l := range active {
			if l.m != nil && l.m.matches(&subj) {
				l.used = true
				if by == nil {
					by = l.rule
				}
			}
		}
		if by == nil {
			out.Kept = append(out.Kept, fd)
		} else {
			out.Suppressed = append(out.Suppressed, Suppressed{Finding: fd, Rule: by})
		}
	}
	for _, l := range active {
		if !l.used {
			out.Unused = append(out.Unused, *l.rule)
		}
	}
	return out
}

// subject is what the matchers read of a finding, gathered once per
// finding rather than once per rule.
type subject struct {
	rulesPackage, ruleID string
	ids, packages, paths []string
}

func subjectOf(f *finding.Finding) subject {
	return subject{
		rulesPackage: f.RulesPackage, ruleID: f.RuleID,
		ids: vulnerabilityIDs(f), packages: packageNames(f), paths: findingPaths(f),
	}
}

// matches reports whether every field the rule sets matches the finding.
// The host is not checked here: Apply drops the rules for other hosts
// before looking at any finding.
func (m *matcher) matches(s *subject) bool {
	if m.rulesPackage != "" && !strings.EqualFold(s.rulesPackage, m.rulesPackage) {
		return false
	}
	if m.rule != nil && !m.rule.match(s.ruleID) {
		return false
	}
	if m.vuln != "" && !slices.ContainsFunc(s.ids, func(id string) bool { return strings.EqualFold(id, m.vuln) }) {
		return false
	}
	if m.pkg != nil && !anyMatch(m.pkg, s.packages...) {
		return false
	}
	if m.path != nil && !anyMatch(m.path, s.paths...) {
		return false
	}
	return true
}

// anyMatch reports whether g matches one of the non-empty values: a
// finding without the field never matches a pattern for it, not even "*".
func anyMatch(g *glob, values ...string) bool {
	for _, v := range values {
		if v != "" && g.match(v) {
			return true
		}
	}
	return false
}

// vulnerabilityIDs are a finding's vulnerability id and aliases, from
// its vulnerability and from its attributes (a report may hold only the
// latter).
func vulnerabilityIDs(f *finding.Finding) []string {
	var ids []string
	if v := f.Vulnerability; v != nil {
		ids = append(ids, v.ID)
		ids = append(ids, v.Aliases...)
	}
	ids = append(ids, f.Attributes["vulnerability_id"])
	if a := f.Attributes["aliases"]; a != "" {
		for _, s := range strings.Split(a, ",") {
			ids = append(ids, strings.TrimSpace(s))
		}
	}
	return ids
}

// packageNames are the packages a finding is about: a vulnerability
// finding's package and source package, and the "package" attribute the
// runtime rules set on a program that a package installed.
func packageNames(f *finding.Finding) []string {
	var names []string
	if v := f.Vulnerability; v != nil {
		names = append(names, v.Package, v.SourcePackage)
	}
	a := f.Attributes
	return append(names, a["package_name"], a["source_package"], a["package"])
}

// pathAttributes are the attributes that hold a path: "location" (the
// file a vulnerable component was found in), "path" (a runtime rule's
// binary or mapped file), "exe" (a process's executable), "writable" (the
// file or directory a non-root user can replace), "file".
var pathAttributes = []string{"path", "file", "location", "exe", "writable"}

// findingPaths are the paths a finding names: its path attributes, the
// vulnerability's location, and its target when that is a path (the
// configuration rules on /etc/shadow, /tmp).
func findingPaths(f *finding.Finding) []string {
	var paths []string
	for _, k := range pathAttributes {
		paths = append(paths, f.Attributes[k])
	}
	if v := f.Vulnerability; v != nil {
		paths = append(paths, v.Location)
	}
	if t := f.Attributes["target"]; strings.HasPrefix(t, "/") {
		paths = append(paths, t)
	}
	return paths
}
