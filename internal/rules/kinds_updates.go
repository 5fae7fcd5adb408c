package rules

import (
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/kensa-dev/kensa/internal/collect/aptchangelog"
	"github.com/kensa-dev/kensa/internal/host"
)

// PendingUpdates checks that no update from the named archives is waiting
// to be installed (CIS: security updates are applied). It reads the
// package manager's lists as they are: they may be stale, and the
// evidence names the lists so the reader can judge.
type PendingUpdates struct {
	// Suites are archive names or patterns ("*-security").
	Suites []string `yaml:"suites"`
}

func (c *PendingUpdates) validate() error {
	if len(c.Suites) == 0 {
		return errors.New("pending_updates: suites are required")
	}
	for _, s := range c.Suites {
		if _, err := path.Match(s, ""); err != nil {
			return fmt.Errorf("pending_updates: suite pattern %q: %v", s, err)
		}
	}
	return nil
}

func (c *PendingUpdates) matches(suite string) bool {
	return slices.ContainsFunc(c.Suites, func(p string) bool {
		ok, _ := path.Match(p, suite)
		return ok
	})
}

func (c *PendingUpdates) evaluate(inv *host.Inventory) Outcome {
	// A host none of whose sources names such an archive receives no
	// security updates at all, whatever its lists say.
	if as := aptSources(inv); as != nil && len(as.Sources) > 0 && !c.anySource(as) {
		return fail(fmt.Sprintf("no apt source names a %s archive (%s): this host receives no security updates", strings.Join(c.Suites, " or "), strings.Join(as.Files, ", ")))
	}
	if inv.Updates == nil {
		for _, r := range inv.Collectors {
			if r.Name == "pkg/apt-updates" && r.Reason != "" {
				return errorf("pending updates are not known: %s", r.Reason)
			}
		}
		return errorf("pending updates were not gathered (apt package lists are read on Debian and Ubuntu only)")
	}
	u := inv.Updates
	var matching []string
	for _, l := range u.Lists {
		if c.matches(suiteOfList(l)) {
			matching = append(matching, l)
		}
	}
	if len(matching) == 0 {
		return errorf("no package list of a %s archive was found: run apt-get update, or add the security archive to the sources", strings.Join(c.Suites, " or "))
	}
	var ev, unknown []string
	for _, p := range u.Pending {
		switch {
		case c.matches(p.Suite):
			ev = append(ev, fmt.Sprintf("%s %s -> %s (%s)", p.Name, p.Installed, p.Candidate, p.Suite))
		case sharesCodename(p.Suite, matching) && u.Method == aptchangelog.MethodSecurityLists:
			// Only the security archives' lists were read: the candidate
			// comes from one of them, whatever its codename says.
			ev = append(ev, fmt.Sprintf("%s %s -> %s (%s, from a security list)", p.Name, p.Installed, p.Candidate, p.Suite))
		case sharesCodename(p.Suite, matching):
			unknown = append(unknown, fmt.Sprintf("%s %s -> %s (%s)", p.Name, p.Installed, p.Candidate, p.Suite))
		}
	}
	lists := fmt.Sprintf("lists read: %s", strings.Join(u.Lists, ", "))
	if len(ev) == 0 && len(unknown) > 0 {
		// Ubuntu's release, -updates and -security archives all say
		// "Codename: jammy", and a candidate is named by its archive's
		// codename: with every list read, it may be a security update or
		// not. Never a pass.
		const keep = 20
		n := len(unknown)
		if n > keep {
			unknown = append(unknown[:keep], fmt.Sprintf("... and %d more", n-keep))
		}
		return errorf("%d pending update(s) from an archive named %s, which the release, -updates and -security archives share (Ubuntu's codename): whether they are security updates cannot be told; %s; %s",
			n, strings.Join(slices.Compact(slices.Sorted(slices.Values(suitesOf(u.Pending, matching)))), ", "), strings.Join(unknown, "; "), lists)
	}
	if len(ev) > 0 {
		const keep = 50
		n := len(ev)
		if n > keep {
			ev = append(ev[:keep], fmt.Sprintf("... and %d more", n-keep))
		}
		return fail(append([]string{fmt.Sprintf("%d update(s) from %s pending", n, strings.Join(c.Suites, ", "))}, append(ev, lists)...)...)
	}
	return pass(fmt.Sprintf("no update from %s pending", strings.Join(c.Suites, ", ")), lists)
}

// sharesCodename reports whether suite is a bare codename ("jammy") that
// one of the matching lists' archives extends ("jammy-security"): on
// Ubuntu every archive of a release names that codename in its Release
// file, so a candidate from "jammy" may come from any of them. The
// collector now names such an archive by its suite ("jammy-security"), so
// this matters for inventories collected before it did, which a server
// still evaluates again when its feeds change.
func sharesCodename(suite string, lists []string) bool {
	if suite == "" || strings.Contains(suite, "-") {
		return false
	}
	return slices.ContainsFunc(lists, func(l string) bool { return strings.HasPrefix(suiteOfList(l), suite+"-") })
}

// suitesOf names the ambiguous archives of pending updates.
func suitesOf(pending []host.PendingUpdate, lists []string) []string {
	var out []string
	for _, p := range pending {
		if sharesCodename(p.Suite, lists) {
			out = append(out, p.Suite)
		}
	}
	return out
}

// suiteOfList guesses an apt list's archive from its file name
// ("..._dists_bookworm-security_main_binary-amd64_Packages.lz4").
func suiteOfList(name string) string {
	base := path.Base(name)
	_, rest, ok := strings.Cut(base, "_dists_")
	if !ok {
		return ""
	}
	suite, _, _ := strings.Cut(rest, "_")
	return suite
}

func aptSources(inv *host.Inventory) *host.AptSources {
	if inv.Config == nil {
		return nil
	}
	return inv.Config.AptSources
}

// anySource reports whether a configured source names a matching suite.
func (c *PendingUpdates) anySource(as *host.AptSources) bool {
	for _, s := range as.Sources {
		if slices.ContainsFunc(s.Suites, c.matches) {
			return true
		}
	}
	return false
}
