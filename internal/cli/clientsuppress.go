package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kensa-dev/kensa/internal/apiclient"
	"github.com/kensa-dev/kensa/internal/finding"
	"github.com/kensa-dev/kensa/internal/suppress"
)

// Suppressions on a server are the entries of a suppression file
// (docs/suppressions.md) kept by the server and applied to every agent's
// report when a run is evaluated. The command line mirrors the file's
// keys, and checks an entry as the file's loader does before sending it.

func (a *app) suppressionCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "suppression",
		Short: "Manage the suppressions a Kensa server applies: accepted risks",
		Long: `A suppression records a risk the site has accepted, as an entry of a
suppression file does for kensa scan (docs/suppressions.md): what it matches
(vulnerability, rule, package, host, path, rules package: all those given must
match), why (reason), who decided (owner) and optionally the last day it
applies (expires, UTC). The server applies its suppressions, oldest first,
when it evaluates each agent's documents: the findings they match are kept
apart, listed with kensa findings list --suppressed include|only, never
dropped. An expired suppression applies to nothing. A suppression applies
from the next evaluation: runs already evaluated keep their findings as they
were stored.
` + clientHelp,
		Args: noArgs,
	}
	cmd.AddCommand(a.suppressionCreateCommand(), a.suppressionListCommand(), a.suppressionDeleteCommand())
	return cmd
}

func (a *app) suppressionCreateCommand() *cobra.Command {
	var (
		cf  clientFlags
		req apiclient.SuppressionRequest
	)
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Create a suppression and print its id",
		Long: `Create a suppression on the server and print its id on stdout. The flags are
the keys of a suppression file's entry: at least one of --vulnerability,
--rule, --package and --path says what is accepted (--host and
--rules-package only narrow it); --reason and --owner are required.
` + clientHelp,
		Example: `  kensa suppression create --vulnerability CVE-2023-38545 --package curl \
      --reason "SOCKS5 proxies are not used here (SEC-412)" --owner security@example.com --expires 2026-06-30
  kensa suppression create --rule 'cve/*' --package openssl --host 'build-*' --reason "isolated build hosts" --owner platform-team`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			rule := suppress.Rule{Vulnerability: strings.TrimSpace(req.Vulnerability), Rule: strings.TrimSpace(req.Rule),
				Package: strings.TrimSpace(req.Package), Host: strings.TrimSpace(req.Host), Path: strings.TrimSpace(req.Path),
				RulesPackage: strings.TrimSpace(req.RulesPackage), Reason: strings.TrimSpace(req.Reason), Owner: strings.TrimSpace(req.Owner)}
			exp, expErr := suppress.ParseExpires(req.Expires)
			rule.Expires = exp
			if err := errors.Join(expErr, rule.Validate()); err != nil {
				return usageErrorf("%s", strings.ReplaceAll(err.Error(), "\n", "; "))
			}
			c, err := cf.connect()
			if err != nil {
				return err
			}
			defer c.Close()
			got, err := c.CreateSuppression(cmd.Context(), req)
			if err != nil {
				return apiError(err)
			}
			a.infof("suppression %s created: %s; it applies from the next evaluation", safeCell(got.ID), safeCell(suppressionMatches(got)))
			fmt.Fprintln(a.stdout, got.ID)
			return nil
		},
	}
	cf.register(cmd)
	f := cmd.Flags()
	f.StringVar(&req.Vulnerability, "vulnerability", "", "one vulnerability `ID`, exactly: the CVE or any alias (not a pattern)")
	f.StringVar(&req.Rule, "rule", "", "pattern over the rule id (cis-5.2.*, cve/*)")
	f.StringVar(&req.Package, "package", "", "pattern over the affected package or its source package")
	f.StringVar(&req.Host, "host", "", "pattern over the host name or machine id")
	f.StringVar(&req.Path, "path", "", "path pattern over the paths a finding names: absolute, or starting with **")
	f.StringVar(&req.RulesPackage, "rules-package", "", "only findings of this rules package: "+strings.Join(finding.Packages(), ", "))
	f.StringVar(&req.Reason, "reason", "", "why the risk is accepted (required)")
	f.StringVar(&req.Owner, "owner", "", "who accepted it: an email address or a team (required)")
	f.StringVar(&req.Expires, "expires", "", "the last day it applies, `YYYY-MM-DD` (UTC); none: no expiry")
	cmd.RegisterFlagCompletionFunc("rules-package", fixedCompletion(finding.Packages()...))
	return cmd
}

// suppressionMatches says what a suppression matches, as a file's entry
// is named in messages: "vulnerability CVE-2023-38545, package curl".
func suppressionMatches(x apiclient.Suppression) string {
	var parts []string
	for _, m := range []struct{ k, v string }{
		{"vulnerability", x.Vulnerability}, {"rule", x.Rule}, {"package", x.Package},
		{"path", x.Path}, {"host", x.Host}, {"rules_package", x.RulesPackage},
	} {
		if m.v != "" {
			parts = append(parts, m.k+" "+m.v)
		}
	}
	return strings.Join(parts, ", ")
}

func (a *app) suppressionListCommand() *cobra.Command {
	var (
		cf     clientFlags
		format string
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the suppressions, oldest first",
		Long: `List the server's suppressions in the order they are tried (oldest first):
id, what each matches, its owner, expiry and state (in force, or EXPIRED:
it applies to nothing, and its findings stand again), who created it and
why. --format json prints {"suppressions": [...]}.
` + clientHelp,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			fetch := func(ctx context.Context, c *apiclient.Client) ([]apiclient.Suppression, error) {
				return c.ListSuppressions(ctx)
			}
			return fetchAndShow(cmd.Context(), a, &cf, format, fetch,
				func(xs []apiclient.Suppression) any {
					return struct {
						Suppressions []apiclient.Suppression `json:"suppressions"`
					}{append([]apiclient.Suppression{}, xs...)}
				},
				func(xs []apiclient.Suppression) error {
					expired := 0
					t := newTable(a.stdout, "ID", "MATCHES", "OWNER", "EXPIRES", "STATE", "CREATED", "BY", "REASON")
					for _, x := range xs {
						state := "in force"
						if x.Expired {
							state = "EXPIRED"
							expired++
						}
						t.row(x.ID, suppressionMatches(x), x.Owner, x.Expires, state, when(x.Created), x.CreatedBy, clip(safeCell(x.Reason), maxTitle))
					}
					if err := t.flush(); err != nil {
						return err
					}
					a.infof("%d suppression(s), %d expired", len(xs), expired)
					return nil
				})
		},
	}
	cf.register(cmd)
	formatFlag(cmd, &format)
	return cmd
}

func (a *app) suppressionDeleteCommand() *cobra.Command {
	var cf clientFlags
	cmd := &cobra.Command{
		Use:   "delete SUPPRESSION-ID",
		Short: "Delete a suppression",
		Long: `Delete a suppression: from the next evaluation the findings it matched stand
again. Findings already stored keep it (kensa findings list --suppressed
only shows them with its id and reason).
` + clientHelp,
		Args: exactArgs("SUPPRESSION-ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cf.connect()
			if err != nil {
				return err
			}
			defer c.Close()
			if err := c.DeleteSuppression(cmd.Context(), args[0]); err != nil {
				return apiError(err)
			}
			a.infof("suppression %s deleted: it applies no more from the next evaluation", safeCell(args[0]))
			return nil
		},
	}
	cf.register(cmd)
	return cmd
}
