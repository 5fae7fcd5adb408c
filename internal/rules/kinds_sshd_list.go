package rules

import (
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"

	sshdcfg "github.com/kensa-dev/kensa/internal/collect/sshd"
	"github.com/kensa-dev/kensa/internal/host"
)

// SSHDList checks an effective sshd algorithm list (Ciphers, MACs,
// KexAlgorithms): no entry may match a forbidden pattern, and when
// allowed is given every entry must be one of them. The global list is
// sshd -T's when it ran (it has resolved the list as this very build
// does); otherwise the collector's, with relative lists ("+x", "-x", "^x")
// resolved against the version's compiled-in defaults. A list that stayed
// relative is an error: its effective value is not known.
//
// With from instead of forbidden and allowed, the check is about where
// the list comes from, not what it holds: the Red Hat family's sshd takes
// its algorithms from the system crypto policy's back end
// (/etc/crypto-policies/back-ends/opensshserver.config, included by
// 50-redhat.conf), and as sshd keeps the first value of a keyword, a file
// read before it that sets the keyword overrides the policy.
type SSHDList struct {
	// Keyword is the sshd_config keyword, any case.
	Keyword string `yaml:"keyword"`
	// Forbidden are names or OpenSSH wildcard patterns (* and ?).
	Forbidden []string `yaml:"forbidden"`
	// Allowed, when set, are the only names the list may hold.
	Allowed []string `yaml:"allowed"`
	// From is the only file the keyword may be set in: the check fails
	// when sshd does not read it at all, or when the effective value was
	// set in another file (read first) or in a Match block. A keyword no
	// file sets passes (the policy does not set it either, so nothing
	// overrides it).
	From string `yaml:"from"`
}

func (c *SSHDList) validate() error {
	if c.From != "" {
		if c.Keyword == "" || len(c.Forbidden) > 0 || len(c.Allowed) > 0 {
			return errors.New("sshd_list: from takes a keyword and no forbidden or allowed")
		}
		if !path.IsAbs(c.From) {
			return fmt.Errorf("sshd_list: from %q: an absolute path is required", c.From)
		}
		return nil
	}
	if c.Keyword == "" || (len(c.Forbidden) == 0 && len(c.Allowed) == 0) {
		return errors.New("sshd_list: keyword and one of forbidden, allowed, from are required")
	}
	for _, p := range c.Forbidden {
		if _, err := path.Match(p, ""); err != nil {
			return fmt.Errorf("sshd_list: forbidden pattern %q: %v", p, err)
		}
	}
	return nil
}

// bad returns the entries of a list the check refuses.
func (c *SSHDList) bad(list string) []string {
	var out []string
	for _, a := range strings.Split(strings.ToLower(list), ",") {
		if a = strings.TrimSpace(a); a == "" {
			continue
		}
		forbidden := slices.ContainsFunc(c.Forbidden, func(p string) bool {
			ok, _ := path.Match(strings.ToLower(p), a)
			return ok
		})
		notAllowed := len(c.Allowed) > 0 && !slices.ContainsFunc(c.Allowed, func(s string) bool { return strings.EqualFold(s, a) })
		if forbidden || notAllowed {
			out = append(out, a)
		}
	}
	return out
}

func (c *SSHDList) evaluate(inv *host.Inventory) Outcome {
	s, o := sshd(inv)
	if o != nil {
		return *o
	}
	if c.From != "" {
		return c.onlyFrom(s)
	}
	kw := strings.ToLower(c.Keyword)
	var value, origin string
	if live, ok := s.Live[kw]; ok {
		value, origin = live, "sshd -T"
	} else if g, ok := s.Global[kw]; ok {
		value, origin = g.Value, where(g)
		if g.File == "" {
			origin = "compiled-in default of OpenSSH " + s.Version
		}
	} else {
		return errorf("sshd %s: no effective list was computed (the compiled-in defaults of OpenSSH %s are not known here, and sshd -T did not run)", c.Keyword, orUnknown(s.Version))
	}
	if sshdcfg.IsRelativeList(value) {
		return errorf("sshd %s %q (%s) is relative to compiled-in defaults not known for OpenSSH %s; run the scan on the live host so sshd -T resolves it", c.Keyword, value, origin, orUnknown(s.Version))
	}
	good := true
	ev := []string{fmt.Sprintf("sshd: %s %s (%s)", c.Keyword, value, origin)}
	if b := c.bad(value); len(b) > 0 {
		good = false
		ev = append(ev, fmt.Sprintf("sshd: %s offers %s", c.Keyword, strings.Join(b, ", ")))
	}
	for _, m := range s.Matches {
		ms, ok := m.Settings[kw]
		if !ok {
			continue
		}
		if sshdcfg.IsRelativeList(ms.Value) {
			return errorf("sshd Match %s (%s:%d): %s %q is relative to compiled-in defaults not known for OpenSSH %s", m.Criteria, m.File, m.Line, c.Keyword, ms.Value, orUnknown(s.Version))
		}
		if b := c.bad(ms.Value); len(b) > 0 {
			good = false
			ev = append(ev, fmt.Sprintf("sshd: Match %s (%s:%d): %s offers %s (%s)", m.Criteria, m.File, m.Line, c.Keyword, strings.Join(b, ", "), where(ms)))
		}
	}
	if good {
		return pass(ev...)
	}
	return fail(ev...)
}

// onlyFrom checks that the keyword is set nowhere but in c.From, and
// that sshd reads c.From.
func (c *SSHDList) onlyFrom(s *host.SSHD) Outcome {
	if !slices.Contains(s.Files, c.From) {
		read := "none"
		if len(s.Files) > 0 {
			read = strings.Join(s.Files, ", ")
		}
		return fail(fmt.Sprintf("sshd does not read %s (no Include leads to it; files read: %s): %s is not taken from it", c.From, read, c.Keyword))
	}
	kw := strings.ToLower(c.Keyword)
	good := true
	var ev []string
	g, ok := s.Global[kw]
	switch {
	case !ok || g.File == "":
		ev = append(ev, fmt.Sprintf("sshd: %s is not set in any file sshd reads (%s, which it reads, does not set it either)", c.Keyword, c.From))
	case g.File == c.From:
		ev = append(ev, fmt.Sprintf("sshd: %s is taken from %s (%s)", c.Keyword, c.From, where(g)))
	default:
		good = false
		ev = append(ev, fmt.Sprintf("sshd: %s %s (%s) is read before %s and overrides it (sshd keeps the first value)", c.Keyword, g.Value, where(g), c.From))
	}
	for _, m := range s.Matches {
		if ms, ok := m.Settings[kw]; ok {
			good = false
			ev = append(ev, fmt.Sprintf("sshd: Match %s (%s:%d) sets %s %s (%s)", m.Criteria, m.File, m.Line, c.Keyword, ms.Value, where(ms)))
		}
	}
	if good {
		return pass(ev...)
	}
	return fail(ev...)
}

func orUnknown(v string) string {
	if v == "" {
		return "(version unknown)"
	}
	return v
}

// SSHDAnySet checks that at least one of some sshd keywords is set
// (AllowUsers, AllowGroups, DenyUsers, DenyGroups limit who may log in).
// Only the global configuration counts: a Match block that sets one
// limits only the connections it matches.
type SSHDAnySet struct {
	Keywords []string `yaml:"keywords"`
}

func (c *SSHDAnySet) validate() error {
	if len(c.Keywords) == 0 {
		return errors.New("sshd_any_set: keywords are required")
	}
	return nil
}

func (c *SSHDAnySet) evaluate(inv *host.Inventory) Outcome {
	s, o := sshd(inv)
	if o != nil {
		return *o
	}
	var ev []string
	for _, k := range c.Keywords {
		kw := strings.ToLower(k)
		if v, ok := s.Live[kw]; ok && strings.TrimSpace(v) != "" {
			ev = append(ev, fmt.Sprintf("sshd: %s %s (sshd -T)", k, v))
		} else if g, ok := s.Global[kw]; ok && strings.TrimSpace(g.Value) != "" {
			ev = append(ev, fmt.Sprintf("sshd: %s %s (%s)", k, g.Value, where(g)))
		}
	}
	if len(ev) > 0 {
		return pass(ev...)
	}
	ev = append(ev, fmt.Sprintf("sshd: none of %s is set globally", strings.Join(c.Keywords, ", ")))
	for _, m := range s.Matches {
		for _, k := range c.Keywords {
			if ms, ok := m.Settings[strings.ToLower(k)]; ok {
				ev = append(ev, fmt.Sprintf("sshd: Match %s (%s:%d) sets %s %s, which limits only the connections it matches", m.Criteria, m.File, m.Line, k, ms.Value))
			}
		}
	}
	return fail(ev...)
}
