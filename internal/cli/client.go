package cli

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/kensa-dev/kensa/internal/apiclient"
	"github.com/kensa-dev/kensa/internal/finding"
	"github.com/kensa-dev/kensa/internal/fleet"
	"github.com/kensa-dev/kensa/internal/pki"
	"github.com/kensa-dev/kensa/internal/report"
)

// The client commands (kensa target, template, run, findings, report
// get) talk to a Kensa server's API. They share how to reach it: a URL,
// an API token and the server's CA, each from a flag or, failing that,
// from the environment, so that a script sets them once.
const (
	envServer = "KENSA_SERVER"
	envToken  = "KENSA_TOKEN"
	envCA     = "KENSA_CA"
)

// clientHelp is the part of every client command's help that says how it
// reaches the server.
const clientHelp = `
The server is --server URL (or $KENSA_SERVER), the API token --token T (or
$KENSA_TOKEN: it keeps the token out of the process list), and the server's
CA certificate --ca FILE (or $KENSA_CA): the server's DATA/pki/ca.crt, for a
server with its own CA; without it the system's roots verify the server.`

// clientFlags are --server, --token and --ca.
type clientFlags struct {
	server, token, ca string
}

func (f *clientFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.server, "server", "", "the server's `URL`, https://HOST:PORT (default $"+envServer+")")
	fl.StringVar(&f.token, "token", "", "an API `TOKEN` (kensa server token create) (default $"+envToken+")")
	fl.StringVar(&f.ca, "ca", "", "the server's CA certificate, PEM `FILE` (its DATA/pki/ca.crt) (default $"+envCA+", else the system's roots)")
}

// connect makes the API client the flags and environment describe.
// Environment values are read here, never shown as flag defaults: help
// must not print a token.
func (f *clientFlags) connect() (*apiclient.Client, error) {
	server := firstSet(f.server, os.Getenv(envServer))
	token := firstSet(f.token, os.Getenv(envToken))
	caFile := firstSet(f.ca, os.Getenv(envCA))
	var missing []string
	if server == "" {
		missing = append(missing, "no server: give --server URL or set "+envServer)
	}
	if token == "" {
		missing = append(missing, "no API token: give --token T or set "+envToken)
	}
	if len(missing) > 0 {
		return nil, usageErrorf("%s", strings.Join(missing, "; "))
	}
	var roots *x509.CertPool
	if caFile != "" {
		b, err := os.ReadFile(caFile)
		if err != nil {
			return nil, usageErrorf("--ca: %v", err)
		}
		roots = x509.NewCertPool()
		if !roots.AppendCertsFromPEM(b) {
			return nil, usageErrorf("--ca %s: no PEM certificate in it (want the server's DATA/pki/ca.crt)", caFile)
		}
	}
	c, err := apiclient.New(server, token, pki.ClientTLSConfig(roots))
	if err != nil {
		return nil, usageErrorf("--server: %v", err)
	}
	return c, nil
}

// firstSet is the first of a and b that is not empty.
func firstSet(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// apiError adds to an API failure what the user can do about it.
func apiError(err error) error {
	var ae *apiclient.APIError
	var cv *tls.CertificateVerificationError
	switch {
	case errors.As(err, &ae) && ae.Status == 401:
		return fmt.Errorf("the server refused the token (%w): check --token or $%s", err, envToken)
	case errors.As(err, &cv):
		return fmt.Errorf("%w: the server's certificate is not trusted: give its CA certificate with --ca FILE or $%s (the server's DATA/pki/ca.crt)", err, envCA)
	}
	return err
}

// formatFlag is --format table|json.
func formatFlag(cmd *cobra.Command, format *string) {
	cmd.Flags().StringVarP(format, "format", "f", "table", "output format: table or json")
	cmd.RegisterFlagCompletionFunc("format", fixedCompletion("table", "json"))
}

func checkTableOrJSON(format string) error {
	if format != "table" && format != "json" {
		return usageErrorf("--format %q: want table or json", format)
	}
	return nil
}

// fetchAndShow is the shape of the commands that show what the server
// has: check --format, connect, fetch, then write the result as JSON
// (doc gives the document) or for a person (show).
func fetchAndShow[T any](ctx context.Context, a *app, cf *clientFlags, format string, fetch func(context.Context, *apiclient.Client) (T, error),
	doc func(T) any, show func(T) error) error {
	if err := checkTableOrJSON(format); err != nil {
		return err
	}
	c, err := cf.connect()
	if err != nil {
		return err
	}
	defer c.Close()
	v, err := fetch(ctx, c)
	if err != nil {
		return apiError(err)
	}
	if format == "json" {
		return writeJSONDoc(a.stdout, doc(v))
	}
	return show(v)
}

// writeJSONDoc writes v as indented JSON, keeping "<", ">" and "&"
// readable as the report does.
func writeJSONDoc(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// table writes aligned columns. Every cell is made safe to print: what
// agents report (hostnames, OS strings, finding titles) comes from hosts
// that may be hostile, and must not move the cursor or colour the
// terminal.
type table struct {
	tw     *tabwriter.Writer
	indent string
}

func newTable(w io.Writer, header ...string) *table {
	t := &table{tw: tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)}
	t.row(header...)
	return t
}

// newIndentedTable is a table whose lines begin with two spaces, under
// a heading.
func newIndentedTable(w io.Writer, header ...string) *table {
	t := &table{tw: tabwriter.NewWriter(w, 0, 4, 2, ' ', 0), indent: "  "}
	t.row(header...)
	return t
}

func (t *table) row(cells ...string) {
	for i, c := range cells {
		cells[i] = safeCell(c)
	}
	fmt.Fprintln(t.tw, t.indent+strings.Join(cells, "\t"))
}

func (t *table) flush() error { return t.tw.Flush() }

// safeCell is s on one line without control characters, "-" when empty.
func safeCell(s string) string {
	s = strings.TrimSpace(report.SafeText(s, false))
	if s == "" {
		return "-"
	}
	return s
}

// clip shortens s to n runes.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func when(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

// pairs writes tags or attributes as k=v,k=v in key order.
func pairs(m map[string]string) string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, k+"="+m[k])
	}
	return strings.Join(out, ",")
}

// exactArgs wants n arguments, named for the message.
func exactArgs(names ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != len(names) {
			return usageErrorf("%s takes %s; got %d argument(s)", cmd.CommandPath(), strings.Join(names, " "), len(args))
		}
		for i, a := range args {
			if strings.TrimSpace(a) == "" {
				return usageErrorf("%s: %s is empty", cmd.CommandPath(), names[i])
			}
		}
		return nil
	}
}

// Targets.

func (a *app) targetCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "target",
		Short: "Manage assessment targets on a Kensa server: agents chosen by tag",
		Long: `An assessment target chooses agents by their tags (an agent matches when it
has every tag given, with the same value), or every agent (--all).
` + clientHelp,
		Args: noArgs,
	}
	cmd.AddCommand(a.targetCreateCommand(), a.targetListCommand(), a.targetPreviewCommand())
	return cmd
}

func (a *app) targetCreateCommand() *cobra.Command {
	var (
		cf   clientFlags
		name string
		tags []string
		all  bool
	)
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Create an assessment target and print its id",
		Long: `Create an assessment target that selects the agents with every --tag, or every
agent with --all, and print its id on stdout. An empty selector selects no
agent: assessing the whole fleet is said with --all.
` + clientHelp,
		Example: `  kensa target create --name prod-db --tag env=prod --tag role=db
  kensa target create --name everything --all`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			sel, err := fleet.ParseTags(tags)
			if err != nil {
				return usageErrorf("--tag: %v", err)
			}
			t := fleet.Target{Name: name, Selector: fleet.Selector(sel), All: all}
			if err := t.Check(); err != nil {
				return usageErrorf("%v (--name, --tag k=v or --all)", err)
			}
			c, err := cf.connect()
			if err != nil {
				return err
			}
			defer c.Close()
			got, err := c.CreateTarget(cmd.Context(), apiclient.TargetRequest{Name: name, Tags: sel, All: all})
			if err != nil {
				return apiError(err)
			}
			a.infof("target %s created: selects %s", safeCell(got.ID), selectorText(got))
			fmt.Fprintln(a.stdout, got.ID)
			return nil
		},
	}
	cf.register(cmd)
	f := cmd.Flags()
	f.StringVar(&name, "name", "", "the target's name (required)")
	f.StringArrayVar(&tags, "tag", nil, "select agents with this tag, `KEY=VALUE` (repeatable: all must match)")
	f.BoolVar(&all, "all", false, "select every agent (instead of --tag)")
	return cmd
}

func selectorText(t fleet.Target) string {
	if t.All {
		return "every agent"
	}
	return safeCell(pairs(t.Selector))
}

func (a *app) targetListCommand() *cobra.Command {
	var (
		cf     clientFlags
		format string
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the assessment targets",
		Long:  "List the assessment targets: id, name, what they select.\n" + clientHelp,
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			fetch := func(ctx context.Context, c *apiclient.Client) ([]fleet.Target, error) { return c.ListTargets(ctx) }
			return fetchAndShow(cmd.Context(), a, &cf, format, fetch,
				func(ts []fleet.Target) any {
					return struct {
						Targets []fleet.Target `json:"targets"`
					}{append([]fleet.Target{}, ts...)}
				},
				func(ts []fleet.Target) error {
					t := newTable(a.stdout, "ID", "NAME", "SELECTS", "CREATED")
					for _, x := range ts {
						t.row(x.ID, x.Name, selectorText(x), when(x.Created))
					}
					return t.flush()
				})
		},
	}
	cf.register(cmd)
	formatFlag(cmd, &format)
	return cmd
}

func (a *app) targetPreviewCommand() *cobra.Command {
	var (
		cf     clientFlags
		format string
	)
	cmd := &cobra.Command{
		Use:   "preview TARGET-ID",
		Short: "List the agents a target selects now, with their health",
		Long: `List the agents a target selects now, with their health: a run assesses the
HEALTHY ones; the others would be excluded (AGENT_UNHEALTHY).
` + clientHelp,
		Args: exactArgs("TARGET-ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			fetch := func(ctx context.Context, c *apiclient.Client) ([]fleet.Agent, error) {
				return c.PreviewTarget(ctx, args[0])
			}
			return fetchAndShow(cmd.Context(), a, &cf, format, fetch,
				func(agents []fleet.Agent) any {
					return struct {
						Agents []fleet.Agent `json:"agents"`
					}{append([]fleet.Agent{}, agents...)}
				},
				func(agents []fleet.Agent) error {
					healthy := 0
					t := newTable(a.stdout, "AGENT", "HOSTNAME", "HEALTH", "REASON", "OS", "VERSION", "LAST SEEN", "TAGS")
					for _, x := range agents {
						if x.Health == fleet.Healthy {
							healthy++
						}
						t.row(x.ID, x.Hostname, string(x.Health), x.Reason, x.OS, x.Version, when(x.LastSeen), pairs(x.Tags))
					}
					if err := t.flush(); err != nil {
						return err
					}
					a.infof("%d agent(s) selected, %d healthy", len(agents), healthy)
					return nil
				})
		},
	}
	cf.register(cmd)
	formatFlag(cmd, &format)
	return cmd
}

// Templates.

func (a *app) templateCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "template",
		Short: "Manage assessment templates on a Kensa server",
		Long: `An assessment template says what a run assesses: a target, rules packages
(cve, cis, best-practices, runtime), how long to observe (10s to 24h),
attributes added to every finding, and the webhooks told of its runs' events.
Templates are immutable: every run of one means the same thing.
` + clientHelp,
		Args: noArgs,
	}
	cmd.AddCommand(a.templateCreateCommand(), a.templateListCommand())
	return cmd
}

func (a *app) templateCreateCommand() *cobra.Command {
	var (
		cf       clientFlags
		name     string
		target   string
		packages []string
		duration time.Duration
		attrs    []string
		subs     []string
	)
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Create an assessment template and print its id",
		Long: `Create an assessment template and print its id on stdout.

--subscribe EVENT=URL (repeatable, at most 16) has the server POST a signed JSON
document to URL on each event of the template's runs: RUN_STARTED (collection
asked), RUN_COMPLETED (COMPLETED or COMPLETED_WITH_ERRORS), RUN_FAILED (FAILED or
CANCELED), RUN_STATE_CHANGED (every transition), FINDING_REPORTED (once a run's
findings are evaluated, with counts by severity). URL is https://, or http:// to
a loopback address; no credentials in it: receivers check the X-Kensa-Signature
header with the server's DATA/webhook.key.
` + clientHelp,
		Example: `  kensa template create --name nightly --target tgt-1 --packages cve,cis,best-practices,runtime --duration 20s
  kensa template create --name weekly --target tgt-1 --packages cve --duration 1h --attribute ticket=SEC-42 \
      --subscribe RUN_COMPLETED=https://hooks.example.com/kensa --subscribe RUN_FAILED=https://hooks.example.com/kensa`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			at, err := fleet.ParseTags(attrs)
			if err != nil {
				return usageErrorf("--attribute: %v", strings.Replace(err.Error(), "tag", "attribute", 1))
			}
			if len(at) == 0 {
				at = nil
			}
			var subscriptions []fleet.Subscription
			for _, s := range subs {
				sub, err := fleet.ParseSubscription(s)
				if err != nil {
					return usageErrorf("--subscribe: %v", err)
				}
				subscriptions = append(subscriptions, sub)
			}
			tpl := fleet.Template{Name: name, TargetID: target, Packages: packages, Duration: duration, Attributes: at, Subscriptions: subscriptions}
			if err := tpl.Check(); err != nil {
				return usageErrorf("%v (--name, --target, --packages, --duration, --subscribe)", err)
			}
			c, err := cf.connect()
			if err != nil {
				return err
			}
			defer c.Close()
			got, err := c.CreateTemplate(cmd.Context(), apiclient.TemplateRequest{Name: name, TargetID: target, Packages: packages,
				Duration: duration.String(), Attributes: at, Subscriptions: subscriptions})
			if err != nil {
				return apiError(err)
			}
			a.infof("template %s created: %s for %s on target %s", safeCell(got.ID), strings.Join(got.Packages, ","), got.Duration, safeCell(got.TargetID))
			fmt.Fprintln(a.stdout, got.ID)
			return nil
		},
	}
	cf.register(cmd)
	f := cmd.Flags()
	f.StringVar(&name, "name", "", "the template's name (required)")
	f.StringVar(&target, "target", "", "the assessment target's `ID` (required)")
	f.StringSliceVar(&packages, "packages", nil, "rules packages, comma-separated: "+strings.Join(finding.Packages(), ", ")+" (required)")
	f.DurationVar(&duration, "duration", 0, "how long a run observes, 10s to 24h (required)")
	f.StringArrayVar(&attrs, "attribute", nil, "add `KEY=VALUE` to every finding of the template's runs (repeatable)")
	f.StringArrayVar(&subs, "subscribe", nil, "POST the runs' `EVENT=URL` to a webhook (repeatable, at most 16; events: "+eventNames()+")")
	cmd.RegisterFlagCompletionFunc("packages", fixedCompletion(finding.Packages()...))
	return cmd
}

func (a *app) templateListCommand() *cobra.Command {
	var (
		cf     clientFlags
		format string
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the assessment templates",
		Long:  "List the assessment templates: id, name, target, rules packages, duration, attributes, the events\nwebhooks are subscribed to (--format json: with their URLs).\n" + clientHelp,
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			fetch := func(ctx context.Context, c *apiclient.Client) ([]apiclient.Template, error) {
				return c.ListTemplates(ctx)
			}
			return fetchAndShow(cmd.Context(), a, &cf, format, fetch,
				func(ts []apiclient.Template) any {
					return struct {
						Templates []apiclient.Template `json:"templates"`
					}{append([]apiclient.Template{}, ts...)}
				},
				func(ts []apiclient.Template) error {
					t := newTable(a.stdout, "ID", "NAME", "TARGET", "PACKAGES", "DURATION", "ATTRIBUTES", "SUBSCRIPTIONS", "CREATED")
					for _, x := range ts {
						t.row(x.ID, x.Name, x.TargetID, strings.Join(x.Packages, ","), x.Duration, pairs(x.Attributes), subscribedEvents(x.Subscriptions), when(x.Created))
					}
					return t.flush()
				})
		},
	}
	cf.register(cmd)
	formatFlag(cmd, &format)
	return cmd
}

// eventNames lists the events a template can subscribe to.
func eventNames() string {
	var out []string
	for _, e := range fleet.Events() {
		out = append(out, string(e))
	}
	return strings.Join(out, ", ")
}

// subscribedEvents is a template's subscriptions for a table: each
// event with the number of its webhooks ("RUN_COMPLETED×2"). The URLs
// (which may carry a receiver's own secret in their path) are in the
// JSON output only.
func subscribedEvents(subs []fleet.Subscription) string {
	count := map[fleet.Event]int{}
	for _, s := range subs {
		count[s.Event]++
	}
	var out []string
	for _, e := range fleet.Events() {
		switch n := count[e]; {
		case n == 1:
			out = append(out, string(e))
		case n > 1:
			out = append(out, fmt.Sprintf("%s×%d", e, n))
		}
	}
	return strings.Join(out, ",")
}
