package rules

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"maps"
	"os"
	"reflect"
	"slices"
	"strings"

	"github.com/goccy/go-yaml"

	"github.com/kensa-dev/kensa/internal/finding"
)

// TailoringVersion is the format version a tailoring file declares.
const TailoringVersion = 1

// maxTailoringSize bounds a tailoring file; real ones are a few KiB.
const maxTailoringSize = 1 << 20

// Tailoring adjusts the configuration rules to a site's policy, as an
// OpenSCAP tailoring file adjusts a profile: it picks the CIS level,
// disables rules (each with a reason, which the report keeps), changes a
// rule's severity, and changes its check's parameters (thresholds, and
// allow-lists by adding to or removing from list parameters). Parameters
// are named as the rule's prose names them: "<kind>.<parameter>", and
// "<kind>_<n>.<parameter>" for the n-th repetition of a kind, in the order
// the rule writes its checks (kensa rules list --params shows them).
type Tailoring struct {
	Version     int    `yaml:"tailoring"`
	Title       string `yaml:"title"`
	Description string `yaml:"description"`
	// Level is the highest CIS level evaluated (1 or 2; 0 keeps the
	// profile's own level, 1).
	Level int `yaml:"level"`
	// Benchmark, when set, is the id of the CIS profile (debian12,
	// rhel9, al2023, ...) whose numbers the cis keys of Rules use:
	// "cis-1.1.1.3" then means that benchmark's control 1.1.1.3, which on
	// Amazon Linux 2023 is the cramfs rule. Without it, keys are rule ids
	// as kensa rules list prints them without --os (for a cis rule the
	// file's id, which is its Debian 12 number or a name).
	Benchmark string                `yaml:"benchmark"`
	Rules     map[string]RuleTailor `yaml:"rules"`

	// File and SHA256 identify the file read, for the report.
	File   string `yaml:"-"`
	SHA256 string `yaml:"-"`
}

// RuleTailor is what a tailoring file changes in one rule.
type RuleTailor struct {
	// Disabled rules are not evaluated; Reason (required) says why, and
	// the rule's result says it was disabled and why.
	Disabled bool   `yaml:"disabled"`
	Reason   string `yaml:"reason"`
	// Severity replaces the rule's severity.
	Severity finding.Severity `yaml:"severity"`
	// Set replaces parameters; Add appends to list parameters what they
	// lack; Remove takes entries out of list parameters.
	Set    map[string]any      `yaml:"set"`
	Add    map[string][]string `yaml:"add"`
	Remove map[string][]string `yaml:"remove"`
}

// LoadTailoring reads and validates a tailoring file. The rules it names
// are checked when it is applied.
func LoadTailoring(path string) (*Tailoring, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("tailoring: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxTailoringSize+1))
	if err != nil {
		return nil, fmt.Errorf("tailoring: %s: %w", path, err)
	}
	if len(data) > maxTailoringSize {
		return nil, fmt.Errorf("tailoring: %s: larger than %d bytes", path, maxTailoringSize)
	}
	t, err := ParseTailoring(data)
	if err != nil {
		return nil, fmt.Errorf("tailoring: %s: %w", path, err)
	}
	t.File = path
	return t, nil
}

// ParseTailoring reads a tailoring document strictly: an unknown field
// (a misspelt "disabeld") is an error, not a silent no-op.
func ParseTailoring(data []byte) (*Tailoring, error) {
	var t Tailoring
	if err := yaml.UnmarshalWithOptions(data, &t, yaml.DisallowUnknownField(), yaml.Strict()); err != nil {
		return nil, fmt.Errorf("%s", yaml.FormatError(err, false, true))
	}
	if t.Version != TailoringVersion {
		return nil, fmt.Errorf("tailoring: %d: want \"tailoring: %d\" (the format version) at the top", t.Version, TailoringVersion)
	}
	if t.Level < 0 || t.Level > 2 {
		return nil, fmt.Errorf("level %d: want 1 or 2", t.Level)
	}
	for _, id := range slices.Sorted(maps.Keys(t.Rules)) {
		rt := t.Rules[id]
		if rt.Disabled && strings.TrimSpace(rt.Reason) == "" {
			return nil, fmt.Errorf("rule %s: disabled without a reason (the report keeps it for the auditor)", id)
		}
		if rt.Disabled && (len(rt.Set) > 0 || len(rt.Add) > 0 || len(rt.Remove) > 0 || rt.Severity != "") {
			return nil, fmt.Errorf("rule %s: disabled, so set, add, remove and severity would have no effect", id)
		}
		if rt.Severity != "" {
			if _, err := finding.ParseSeverity(string(rt.Severity)); err != nil || rt.Severity == finding.Unrated {
				return nil, fmt.Errorf("rule %s: severity %q: want high, medium, low or informational", id, rt.Severity)
			}
		}
		if !rt.Disabled && rt.Severity == "" && len(rt.Set) == 0 && len(rt.Add) == 0 && len(rt.Remove) == 0 {
			return nil, fmt.Errorf("rule %s: changes nothing (want disabled, severity, set, add or remove)", id)
		}
	}
	t.SHA256 = sha256Hex(data)
	return &t, nil
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// Apply returns the rules with the tailoring applied: tailored rules are
// fresh copies (the embedded ones are never changed), disabled rules and
// rules above the level carry the reason they are not evaluated. A rule
// id the rules do not have, a parameter the rule's check does not have, or
// a value that does not fit is an error: a tailoring that silently did
// nothing would leave a site believing a policy is enforced.
func (t *Tailoring) Apply(all []*Rule) ([]*Rule, error) {
	byID := map[string]*Rule{}
	for _, r := range all {
		byID[r.ID] = r
	}
	rules, err := t.byRule()
	if err != nil {
		return nil, err
	}
	for _, id := range slices.Sorted(maps.Keys(rules)) {
		if byID[id] == nil {
			return nil, fmt.Errorf("tailoring %s: rule %s: no such rule (kensa rules list shows them)", t.File, id)
		}
	}
	out := make([]*Rule, 0, len(all))
	for _, r := range all {
		rt, tailored := rules[r.ID]
		aboveLevel := t.Level > 0 && r.cisLevel() > t.Level
		if !tailored && !aboveLevel {
			out = append(out, r)
			continue
		}
		c, err := r.clone()
		if err != nil {
			return nil, err
		}
		switch {
		case aboveLevel:
			c.Disabled = fmt.Sprintf("CIS level %d, above the tailored level %d", r.cisLevel(), t.Level)
		case rt.Disabled:
			c.Disabled = "disabled by tailoring: " + strings.TrimSpace(rt.Reason)
		default:
			if err := c.tailor(rt); err != nil {
				return nil, fmt.Errorf("tailoring %s: rule %s: %w", t.File, r.ID, err)
			}
		}
		out = append(out, c)
	}
	return out, nil
}

// byRule returns the tailoring's rules keyed by rule id: with a benchmark,
// its cis keys are that benchmark's control numbers, turned into the ids
// of the rules answering them.
func (t *Tailoring) byRule() (map[string]RuleTailor, error) {
	if t.Benchmark == "" {
		return t.Rules, nil
	}
	profiles, err := Profiles()
	if err != nil {
		return nil, err
	}
	var p *Profile
	var ids []string
	for _, q := range profiles {
		ids = append(ids, q.ID)
		if q.ID == t.Benchmark {
			p = q
		}
	}
	if p == nil {
		return nil, fmt.Errorf("tailoring %s: benchmark %q: no such CIS profile (want one of %s)", t.File, t.Benchmark, strings.Join(ids, ", "))
	}
	out := map[string]RuleTailor{}
	for _, key := range slices.Sorted(maps.Keys(t.Rules)) {
		id := key
		if section, ok := strings.CutPrefix(key, "cis-"); ok {
			id = ""
			for _, c := range p.Controls {
				if slices.Contains(strings.Split(c.CIS, ";"), section) {
					id = c.Rule
					break
				}
			}
			if id == "" {
				return nil, fmt.Errorf("tailoring %s: %s: %s has no control %s answered by a rule (kensa rules list --os shows them)", t.File, key, p.Name(), section)
			}
		}
		if _, dup := out[id]; dup {
			return nil, fmt.Errorf("tailoring %s: %s: its rule %s is tailored twice", t.File, key, id)
		}
		out[id] = t.Rules[key]
	}
	return out, nil
}

// Changes lists what the tailoring does, one line each, for the report.
func (t *Tailoring) Changes() []string {
	var out []string
	if t.Level > 0 {
		out = append(out, fmt.Sprintf("CIS level %d", t.Level))
	}
	if t.Benchmark != "" {
		out = append(out, "cis rules named by the numbers of the "+t.Benchmark+" profile")
	}
	for _, id := range slices.Sorted(maps.Keys(t.Rules)) {
		rt := t.Rules[id]
		if rt.Disabled {
			out = append(out, fmt.Sprintf("%s: disabled: %s", id, strings.TrimSpace(rt.Reason)))
			continue
		}
		if rt.Severity != "" {
			out = append(out, fmt.Sprintf("%s: severity %s", id, rt.Severity))
		}
		for _, p := range slices.Sorted(maps.Keys(rt.Set)) {
			out = append(out, fmt.Sprintf("%s: %s = %v", id, p, rt.Set[p]))
		}
		for _, p := range slices.Sorted(maps.Keys(rt.Add)) {
			out = append(out, fmt.Sprintf("%s: %s += %s", id, p, strings.Join(rt.Add[p], ", ")))
		}
		for _, p := range slices.Sorted(maps.Keys(rt.Remove)) {
			out = append(out, fmt.Sprintf("%s: %s -= %s", id, p, strings.Join(rt.Remove[p], ", ")))
		}
	}
	return out
}

// cisLevel is the highest CIS level the rule is part of, 0 for a rule of
// no benchmark: for a cis rule, the level of the profiles that name it;
// for another rule, the levels of the CIS controls it references.
func (r *Rule) cisLevel() int {
	lvl := 0
	for _, ref := range r.References.CIS {
		lvl = max(lvl, ref.Level)
	}
	if r.Package == "cis" {
		profiles, _ := Profiles()
		for _, p := range profiles {
			if _, ok := p.Control(r.ID); ok {
				lvl = max(lvl, p.Level)
			}
		}
	}
	return lvl
}

// clone returns a deep copy of the rule, parsed again from its source.
func (r *Rule) clone() (*Rule, error) {
	c, err := Parse(r.source)
	if err != nil {
		return nil, fmt.Errorf("rules: %s: %w", r.File, err)
	}
	c.File = r.File
	return c, nil
}

// tailor applies one rule's changes and validates the result.
func (r *Rule) tailor(rt RuleTailor) error {
	if rt.Severity != "" {
		r.Severity = rt.Severity
	}
	params := r.Check.kindValues()
	field := func(name string) (reflect.Value, error) {
		kindName, param, ok := strings.Cut(name, ".")
		kv, found := params[kindName]
		if !ok || !found {
			return reflect.Value{}, fmt.Errorf("parameter %q: the check has %s", name, strings.Join(paramNames(params), ", "))
		}
		e := kv.Elem()
		for j := range e.NumField() {
			if strings.Split(e.Type().Field(j).Tag.Get("yaml"), ",")[0] == param {
				return e.Field(j), nil
			}
		}
		return reflect.Value{}, fmt.Errorf("parameter %q: the check has %s", name, strings.Join(paramNames(params), ", "))
	}
	for _, name := range slices.Sorted(maps.Keys(rt.Set)) {
		f, err := field(name)
		if err != nil {
			return err
		}
		if err := setFromYAML(f, rt.Set[name]); err != nil {
			return fmt.Errorf("set %s: %w", name, err)
		}
	}
	for _, op := range []struct {
		verb string
		m    map[string][]string
	}{{"add", rt.Add}, {"remove", rt.Remove}} {
		for _, name := range slices.Sorted(maps.Keys(op.m)) {
			f, err := field(name)
			if err != nil {
				return err
			}
			if f.Kind() != reflect.Slice || f.Type().Elem().Kind() != reflect.String {
				return fmt.Errorf("%s %s: not a list parameter (use set)", op.verb, name)
			}
			cur := make([]string, f.Len())
			for i := range f.Len() {
				cur[i] = f.Index(i).String()
			}
			for _, v := range op.m[name] {
				has := slices.Contains(cur, v)
				switch {
				case op.verb == "add" && !has:
					cur = append(cur, v)
				case op.verb == "remove" && !has:
					return fmt.Errorf("remove %s: %q is not in it (%s)", name, v, strings.Join(cur, ", "))
				case op.verb == "remove":
					cur = slices.DeleteFunc(cur, func(s string) bool { return s == v })
				}
			}
			nv := reflect.MakeSlice(f.Type(), len(cur), len(cur))
			for i, s := range cur {
				nv.Index(i).SetString(s)
			}
			f.Set(nv)
		}
	}
	return r.validate()
}

func paramNames(params map[string]reflect.Value) []string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(params)) {
		e := params[k].Elem()
		for j := range e.NumField() {
			out = append(out, k+"."+strings.Split(e.Type().Field(j).Tag.Get("yaml"), ",")[0])
		}
	}
	return out
}

// setFromYAML sets f to v by way of YAML, so a value is read exactly as
// it would be in a rule file (strictly: a string where a number belongs
// is an error).
func setFromYAML(f reflect.Value, v any) error {
	b, err := yaml.Marshal(v)
	if err != nil {
		return err
	}
	typ := f.Type()
	if typ.Kind() == reflect.Pointer {
		typ = typ.Elem() // an optional parameter (min, max): set it
	}
	nv := reflect.New(typ)
	if err := yaml.UnmarshalWithOptions(b, nv.Interface(), yaml.DisallowUnknownField(), yaml.Strict()); err != nil {
		return fmt.Errorf("%v does not fit a %s", v, typ)
	}
	if f.Kind() == reflect.Pointer {
		f.Set(nv)
	} else {
		f.Set(nv.Elem())
	}
	return nil
}

// Params lists the check's parameters a tailoring file can set, as
// "<kind>.<parameter> = <value>", sorted; unset optional ones and empty
// strings and lists are left out.
func (r *Rule) Params() []string {
	var out []string
	for name, fields := range r.Check.params() {
		for p, v := range fields.(map[string]any) {
			if v == "" {
				continue // an unset string or empty list
			}
			out = append(out, fmt.Sprintf("%s.%s = %v", name, p, v))
		}
	}
	slices.Sort(out)
	return out
}
