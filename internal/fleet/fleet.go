package fleet

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/kensa-dev/kensa/internal/finding"
)

// Tags label an agent: "env=prod", "role=db". Keys and values are
// case-sensitive.
type Tags map[string]string

// tagKey is what a tag key may be: what cloud providers and Kubernetes
// labels accept, so a fleet's existing labels carry over.
var tagKey = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._/-]{0,127}$`)

// maxTagValue bounds a tag value, in bytes.
const maxTagValue = 256

// ParseTag reads "key=value".
func ParseTag(s string) (key, value string, err error) {
	k, v, ok := strings.Cut(s, "=")
	if !ok {
		return "", "", fmt.Errorf("tag %q: want key=value", s)
	}
	if err := checkTag(k, v); err != nil {
		return "", "", err
	}
	return k, v, nil
}

// ParseTags reads "key=value" pairs; a key given twice is an error.
func ParseTags(pairs []string) (Tags, error) {
	t := Tags{}
	for _, p := range pairs {
		k, v, err := ParseTag(p)
		if err != nil {
			return nil, err
		}
		if _, dup := t[k]; dup {
			return nil, fmt.Errorf("tag %q given twice", k)
		}
		t[k] = v
	}
	return t, nil
}

// Check reports the first invalid tag, in key order.
func (t Tags) Check() error {
	for _, k := range slices.Sorted(maps.Keys(t)) {
		if err := checkTag(k, t[k]); err != nil {
			return err
		}
	}
	return nil
}

func checkTag(k, v string) error {
	if !tagKey.MatchString(k) {
		return fmt.Errorf("tag key %q: want 1 to 128 letters, digits, '.', '_', '/' or '-', starting with a letter or digit", k)
	}
	if len(v) > maxTagValue {
		return fmt.Errorf("tag %s: value longer than %d bytes", k, maxTagValue)
	}
	for _, r := range v {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("tag %s: value holds a control character", k)
		}
	}
	return nil
}

// Selector chooses agents by tag: an agent matches when it has every tag
// of the selector, with the same value. An empty selector matches no
// agent: a target that assesses the whole fleet must say so (Target.All).
type Selector Tags

// Matches reports whether an agent with tags t is selected.
func (s Selector) Matches(t Tags) bool {
	if len(s) == 0 {
		return false
	}
	for k, v := range s {
		if got, ok := t[k]; !ok || got != v {
			return false
		}
	}
	return true
}

// Target is an assessment target: the agents whose tags match its
// selector, or every agent.
type Target struct {
	ID       string    `json:"id"`
	Name     string    `json:"name"`
	Selector Selector  `json:"selector"`
	All      bool      `json:"all,omitempty"`
	Created  time.Time `json:"created"`
}

// Selects reports whether the target selects an agent with tags t.
func (t Target) Selects(tags Tags) bool { return t.All || t.Selector.Matches(tags) }

// Check validates a target before it is stored.
func (t Target) Check() error {
	if err := checkName(t.Name); err != nil {
		return fmt.Errorf("target: %w", err)
	}
	if t.All == (len(t.Selector) > 0) {
		return errors.New("target: give tags to select agents by, or select all agents, not both and not neither")
	}
	if err := Tags(t.Selector).Check(); err != nil {
		return fmt.Errorf("target: %w", err)
	}
	return nil
}

// Run durations: Inspector's bounds, which the runtime package's window
// also has.
const (
	MinDuration = 10 * time.Second
	MaxDuration = 24 * time.Hour
)

// Template is an assessment template: what to assess (a target and rules
// packages), how long to observe, attributes added to every finding, and
// who is told of its runs' events (webhooks). It is immutable once
// created, so every run of it means the same thing.
type Template struct {
	ID         string            `json:"id"`
	Name       string            `json:"name"`
	TargetID   string            `json:"target_id"`
	Packages   []string          `json:"packages"`
	Duration   time.Duration     `json:"duration"`
	Attributes map[string]string `json:"attributes,omitempty"`
	// Subscriptions are the webhooks told of the template's runs'
	// events (notify.go).
	Subscriptions []Subscription `json:"subscriptions,omitempty"`
	Created       time.Time      `json:"created"`
}

// Check validates a template before it is stored.
func (t Template) Check() error {
	if err := checkName(t.Name); err != nil {
		return fmt.Errorf("template: %w", err)
	}
	if t.TargetID == "" {
		return errors.New("template: no target")
	}
	if len(t.Packages) == 0 {
		return errors.New("template: no rules packages: give at least one of " + strings.Join(finding.Packages(), ", "))
	}
	seen := map[string]bool{}
	for _, p := range t.Packages {
		if !slices.Contains(finding.Packages(), p) {
			return fmt.Errorf("template: unknown rules package %q (want %s)", p, strings.Join(finding.Packages(), ", "))
		}
		if seen[p] {
			return fmt.Errorf("template: rules package %s given twice", p)
		}
		seen[p] = true
	}
	if t.Duration < MinDuration || t.Duration > MaxDuration {
		return fmt.Errorf("template: duration %s: want %s to %s", t.Duration, MinDuration, MaxDuration)
	}
	for k, v := range t.Attributes {
		if err := checkTag(k, v); err != nil {
			return fmt.Errorf("template: attribute: %w", err)
		}
	}
	if err := checkSubscriptions(t.Subscriptions); err != nil {
		return fmt.Errorf("template: %w", err)
	}
	return nil
}

func checkName(n string) error {
	switch {
	case strings.TrimSpace(n) == "":
		return errors.New("name is empty")
	case len(n) > 256:
		return errors.New("name longer than 256 bytes")
	case strings.ContainsFunc(n, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return errors.New("name holds a control character")
	}
	return nil
}
