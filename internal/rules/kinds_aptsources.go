package rules

import (
	"fmt"
	"strings"

	"github.com/kensa-dev/kensa/internal/host"
)

// AptSourcesSigned checks that apt authenticates every package source: no
// source turns signature checking off (trusted=yes, allow-insecure=yes,
// allow-weak=yes, allow-downgrade-to-insecure=yes), every Signed-By key
// file exists, and a source without Signed-By has keyrings to be checked
// against.
type AptSourcesSigned struct{}

func (c *AptSourcesSigned) validate() error { return nil }

// insecureOptions turn apt's signature checks off or weaken them.
var insecureOptions = []string{"trusted", "allow-insecure", "allow-weak", "allow-downgrade-to-insecure"}

func (c *AptSourcesSigned) evaluate(inv *host.Inventory) Outcome {
	if inv.Config == nil || inv.Config.AptSources == nil {
		for _, r := range inv.Collectors {
			if r.Name == "config/apt-sources" && r.Reason != "" {
				return notApplicable(r.Reason)
			}
		}
		return errorf("apt's package sources were not collected")
	}
	as := inv.Config.AptSources
	if len(as.Sources) == 0 {
		return notApplicable("no apt package source is configured (" + strings.Join(as.Files, ", ") + ")")
	}
	var bad []string
	for _, s := range as.Sources {
		where := fmt.Sprintf("%s:%d %s %s", s.File, s.Line, strings.Join(s.URIs, " "), strings.Join(s.Suites, " "))
		for _, o := range insecureOptions {
			if v, set := s.Options[o]; set && !aptFalse(v) {
				bad = append(bad, fmt.Sprintf("%s: %s=%s turns signature checking off", where, o, v))
			}
		}
		for _, k := range s.MissingKeys {
			bad = append(bad, fmt.Sprintf("%s: Signed-By %s does not exist", where, k))
		}
		if len(s.SignedBy) == 0 && len(as.Keyrings) == 0 {
			bad = append(bad, where+": no Signed-By and no keyring in /etc/apt/trusted.gpg.d")
		}
	}
	if len(bad) > 0 {
		return fail(bad...)
	}
	signed := 0
	for _, s := range as.Sources {
		if len(s.SignedBy) > 0 {
			signed++
		}
	}
	return pass(fmt.Sprintf("%d apt sources, %d limited to their own Signed-By keyring, the others checked against %d keyrings (%s)",
		len(as.Sources), signed, len(as.Keyrings), strings.Join(as.Keyrings, ", ")))
}

// aptFalse reports whether apt reads a boolean option value as false
// (apt's StringToBool: no, false, without, off, disable, 0). Any other
// value of a set option is taken as true: a value apt might read as
// "yes" must not pass as safe.
func aptFalse(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "no", "false", "without", "off", "disable", "0":
		return true
	}
	return false
}
