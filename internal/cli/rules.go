package cli

import (
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/kensa-dev/kensa/internal/collect/osrelease"
	"github.com/kensa-dev/kensa/internal/finding"
	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/rules"
	"github.com/kensa-dev/kensa/internal/rules/behavior"
	"github.com/spf13/cobra"
)

func (a *app) rulesCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rules",
		Short: "List the configuration rules and where they apply",
		Args:  noArgs,
		RunE:  func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	var pkg, osName, profile string
	var params bool
	list := &cobra.Command{
		Use:   "list",
		Short: "List the rules of the configuration and runtime rules packages",
		Long: `List the rules of the configuration rules packages (best-practices, cis) and
of the runtime package: id, severity, title, and where each applies. With --os, each rule says whether it
applies to that operating system and, if not, why: before any scan runs, you
can see what will and will not be assessed.

--params shows each rule's check parameters, by the names a tailoring file
uses; --profile applies a tailoring file (kensa scan --profile) and shows the
rules as tailored, disabled ones with their reason.`,
		Example: `  kensa rules list
  kensa rules list --package best-practices --os debian:12
  kensa rules list --package cis --params --profile site.yaml`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			all, err := rules.Load()
			if err != nil {
				return err
			}
			if profile != "" {
				t, err := rules.LoadTailoring(profile)
				if err != nil {
					return usageErrorf("--profile: %v", err)
				}
				if all, err = t.Apply(all); err != nil {
					return usageErrorf("--profile: %v", err)
				}
			}
			var o *host.OSRelease
			if osName != "" {
				o = osrelease.FromRef(osName)
			}
			if pkg != "" && pkg != finding.PackageBestPractices && pkg != finding.PackageCIS && pkg != finding.PackageRuntime {
				return usageErrorf("--package %q: want best-practices, cis or runtime", pkg)
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
			head := "PACKAGE\tRULE\tSEVERITY\tTITLE"
			if o != nil {
				head += "\tON " + strings.ToUpper(osName)
			}
			fmt.Fprintln(tw, head)
			profiles, err := rules.Profiles()
			if err != nil {
				return err
			}
			var prof *rules.Profile
			if o != nil {
				prof = rules.ProfileFor(profiles, o)
			}
			if prof != nil {
				// The benchmark's order: its controls', not the files'.
				pos := map[string]int{}
				for i, c := range prof.Controls {
					pos[c.Rule] = i
				}
				all = slices.Clone(all)
				slices.SortStableFunc(all, func(x, y *rules.Rule) int {
					if c := strings.Compare(x.Package, y.Package); c != 0 || x.Package != finding.PackageCIS {
						return c
					}
					return pos[x.ID] - pos[y.ID]
				})
			}
			n := 0
			for _, r := range all {
				if pkg != "" && r.Package != pkg {
					continue
				}
				id := r.ID
				if o != nil && r.Package == finding.PackageCIS {
					// On an OS, the cis package is that OS's benchmark:
					// its controls, by its numbers; the rules of other
					// benchmarks are not part of it.
					c, ok := rules.Control{}, false
					if prof != nil {
						c, ok = prof.Control(r.ID)
					}
					if !ok {
						continue
					}
					if id = c.ID(); id != r.ID {
						id += " (rule " + r.ID + ")"
					}
				}
				n++
				title, _, _ := r.TextFor(o)
				line := fmt.Sprintf("%s\t%s\t%s\t%s", r.Package, id, r.Severity, title)
				if o != nil {
					if ok, why := r.AppliesTo.Applies(o); ok && r.Disabled == "" {
						line += "\tapplies"
						if p := r.AppliesTo.Packages; len(p) > 0 {
							line += " where " + strings.Join(p, " or ") + " is installed"
						}
					} else if !ok {
						line += "\tnot applicable: " + why
					} else {
						line += "\tnot evaluated: " + r.Disabled
					}
				} else if r.Disabled != "" {
					line += " [not evaluated: " + r.Disabled + "]"
				}
				fmt.Fprintln(tw, line)
				if params {
					for _, p := range r.Params() {
						fmt.Fprintf(tw, "    %s\n", p) // no tab: not a table cell
					}
				}
			}
			if pkg == "" || pkg == finding.PackageRuntime {
				// The runtime rules judge a window's observations: any
				// live Linux host, never an image.
				for _, r := range behavior.Rules() {
					n++
					line := fmt.Sprintf("%s\t%s\t%s\t%s", finding.PackageRuntime, r.ID, r.Severity, r.Title)
					if o != nil {
						line += "\tapplies to the live host (kensa scan --duration); not to an image"
					}
					fmt.Fprintln(tw, line)
				}
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			if pkg == "" || pkg == finding.PackageCIS {
				fmt.Fprintln(a.stdout)
				switch {
				case o == nil:
					for _, p := range profiles {
						a.printProfile(p, strings.Join(p.OS, ", "), all)
					}
					fmt.Fprintln(a.stdout, "cis: any other OS has no profile yet; a scan reports the cis package there as not evaluated, with that reason")
				case prof != nil:
					a.printProfile(prof, osName, all)
				default:
					fmt.Fprintf(a.stdout, "cis: %s: a scan reports the cis package as not evaluated, with that reason\n", rules.NoProfile(profiles, o, osName))
				}
			}
			if n == 0 && pkg == "" {
				return fmt.Errorf("no rules found")
			}
			return nil
		},
	}
	list.Flags().StringVar(&pkg, "package", "", "only the rules of this package: best-practices, cis or runtime")
	list.Flags().BoolVar(&params, "params", false, "show each rule's check parameters, as a tailoring file names them")
	list.Flags().StringVar(&profile, "profile", "", "show the rules as the tailoring `FILE` changes them")
	list.Flags().StringVar(&osName, "os", "", "say for each rule whether it applies to this OS (`ID:RELEASE`, e.g. debian:12, rhel:9)")
	cmd.AddCommand(list)
	return cmd
}

// printProfile says which benchmark a profile follows, how it was verified
// and how much of it is implemented.
func (a *app) printProfile(p *rules.Profile, oses string, all []*rules.Rule) {
	done, missing := p.Implemented(all)
	note := ""
	if len(missing) > 0 {
		note = " (the others are reported as not evaluated)"
	}
	out := p.NotAssessed()
	fmt.Fprintf(a.stdout, "cis profile for %s: %s, %s; %d of %d assessable controls implemented%s\n",
		oses, p.Name(), p.VerificationNote(), len(done), len(p.Controls)-len(out), note)
	if len(out) > 0 {
		var ids []string
		for _, c := range out {
			ids = append(ids, c.CIS)
		}
		fmt.Fprintf(a.stdout, "  not assessable by a scanner (check by hand): %s\n", strings.Join(ids, ", "))
	}
	fmt.Fprintf(a.stdout, "  verification: %s\n", strings.Join(strings.Fields(p.VerifiedBy), " "))
	if p.Numbering != "" {
		fmt.Fprintf(a.stdout, "  numbering: %s\n", strings.Join(strings.Fields(p.Numbering), " "))
	}
}
