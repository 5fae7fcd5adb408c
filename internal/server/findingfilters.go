package server

import (
	"fmt"
	"strings"
	"time"

	"github.com/kensa-dev/kensa/internal/fleet"
	"github.com/kensa-dev/kensa/internal/store"
)

// maxPairs bounds the tag and attribute filters of one finding list.
const maxPairs = 32

// findingFilters reads a finding list's tag, attribute, time range and
// suppressed parameters into f: every one a condition the store puts in
// its query, so pages stay whole whatever the filters.
func findingFilters(in *findingsInput, f *store.FindingFilter) error {
	if len(in.Tag) > maxPairs || len(in.Attribute) > maxPairs {
		return fmt.Errorf("at most %d tag and %d attribute filters", maxPairs, maxPairs)
	}
	if len(in.Tag) > 0 {
		// Tags are read as agents' tags are given: a key no agent could
		// have is a mistake, not a filter that matches nothing.
		tags, err := fleet.ParseTags(in.Tag)
		if err != nil {
			return fmt.Errorf("tag: %w", err)
		}
		f.Tags = tags
	}
	if len(in.Attribute) > 0 {
		f.Attributes = map[string]string{}
		for _, p := range in.Attribute {
			k, v, ok := strings.Cut(p, "=")
			if !ok || k == "" {
				return fmt.Errorf("attribute %q: want key=value", p)
			}
			if _, dup := f.Attributes[k]; dup {
				return fmt.Errorf("attribute %q given twice", k)
			}
			f.Attributes[k] = v
		}
	}
	var err error
	if f.Since, err = rfc3339("since", in.Since); err != nil {
		return err
	}
	if f.Until, err = rfc3339("until", in.Until); err != nil {
		return err
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Since.Before(f.Until) {
		return fmt.Errorf("since %s is not before until %s: no finding can match", in.Since, in.Until)
	}
	switch in.Suppressed {
	case "", "exclude":
		f.Suppressed = store.ExcludeSuppressed
	case "include":
		f.Suppressed = store.IncludeSuppressed
	case "only":
		f.Suppressed = store.OnlySuppressed
	default:
		return fmt.Errorf("suppressed %q: want exclude, include or only", in.Suppressed)
	}
	return nil
}

// rfc3339 reads an optional time parameter.
func rfc3339(name, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s %q: want an RFC 3339 time (2026-11-27T12:00:00Z)", name, v)
	}
	return t, nil
}
