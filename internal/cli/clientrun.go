package cli

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/kensa-dev/kensa/internal/apiclient"
	"github.com/kensa-dev/kensa/internal/finding"
	"github.com/kensa-dev/kensa/internal/fleet"
	"github.com/kensa-dev/kensa/internal/report"
)

// runExitHelp documents what kensa run start --wait and kensa run wait
// exit with: a script tells a run that completed from one that did with
// gaps, and both from one that produced nothing.
const runExitHelp = `
Exit codes:
  0  the run COMPLETED
  1  the run FAILED or was CANCELED, --timeout passed before it ended, or an
     error (the server refused the token, could not be reached...)
  2  bad command line (usage)
  4  the run COMPLETED_WITH_ERRORS: some agent or rules package could not be
     assessed; its findings are stored but do not cover everything
     (kensa run show RUN lists what and why)`

// waitFlags are --timeout and --interval.
type waitFlags struct {
	timeout, interval time.Duration
}

func (w *waitFlags) register(cmd *cobra.Command) {
	cmd.Flags().DurationVar(&w.timeout, "timeout", 0, "give up waiting after this long (exit 1); 0 waits until the run ends")
	cmd.Flags().DurationVar(&w.interval, "interval", 2*time.Second, "how often to ask the server for the run's state")
}

func (w *waitFlags) check() error {
	if w.timeout < 0 {
		return usageErrorf("--timeout %s: want a positive duration, or 0 for none", w.timeout)
	}
	if w.interval <= 0 {
		return usageErrorf("--interval %s: want a positive duration", w.interval)
	}
	return nil
}

func (a *app) runCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Start, follow and stop assessment runs on a Kensa server",
		Long: `An assessment run of a template goes CREATED → START_DATA_COLLECTION_PENDING →
COLLECTING_DATA → DATA_COLLECTED → EVALUATING_RULES → COMPLETED, or ends
COMPLETED_WITH_ERRORS, FAILED or CANCELED. Before it collects anything the
server records which agents and rules packages it cannot assess, and why
(its exclusions).
` + clientHelp,
		Args: noArgs,
	}
	cmd.AddCommand(a.runStartCommand(), a.runStopCommand(), a.runListCommand(), a.runShowCommand(), a.runWaitCommand(), a.runReevaluateCommand())
	return cmd
}

func (a *app) runStartCommand() *cobra.Command {
	cmd := a.runMakingCommand(func(ctx context.Context, c *apiclient.Client, id string) (apiclient.Run, error) {
		return c.StartRun(ctx, id)
	})
	cmd.Use = "start TEMPLATE-ID"
	cmd.Short = "Start a run of a template and print its id"
	cmd.Long = `Start a run of an assessment template and print the run's id on stdout.

With --wait, wait until the run ends, saying on stderr each state it reaches,
and exit with a code that says how it ended (below). The id is printed before
the wait, so a script has it whatever happens.
` + clientHelp + "\n" + runExitHelp
	cmd.Example = `  kensa run start tpl-1
  run=$(kensa run start tpl-1 --wait --timeout 30m) || echo "run $run: exit $?"`
	cmd.Args = exactArgs("TEMPLATE-ID")
	return cmd
}

// runMakingCommand is a command that makes a run (makeRun, from its one
// argument), prints its id and, with --wait, waits until it ends.
func (a *app) runMakingCommand(makeRun func(ctx context.Context, c *apiclient.Client, arg string) (apiclient.Run, error)) *cobra.Command {
	var (
		cf   clientFlags
		wait bool
		wf   waitFlags
	)
	cmd := &cobra.Command{
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := wf.check(); err != nil {
				return err
			}
			c, err := cf.connect()
			if err != nil {
				return err
			}
			defer c.Close()
			r, err := makeRun(cmd.Context(), c, args[0])
			if err != nil {
				return apiError(err)
			}
			fmt.Fprintln(a.stdout, r.ID)
			if !wait {
				a.infof("run %s started (kensa run wait %s to follow it)", safeCell(r.ID), safeCell(r.ID))
				return nil
			}
			_, err = a.waitRun(cmd.Context(), c, r.ID, wf)
			return err
		},
	}
	cf.register(cmd)
	cmd.Flags().BoolVar(&wait, "wait", false, "wait until the run ends; the exit code says how it ended")
	wf.register(cmd)
	return cmd
}

func (a *app) runWaitCommand() *cobra.Command {
	var (
		cf clientFlags
		wf waitFlags
	)
	cmd := &cobra.Command{
		Use:   "wait RUN-ID",
		Short: "Wait until a run ends; print its final state",
		Long: `Wait until a run ends, saying on stderr each state it reaches, then print its
final state on stdout and exit with a code that says how it ended (below).
A server that stops answering for a while (a restart) is asked again.
` + clientHelp + "\n" + runExitHelp,
		Example: `  kensa run wait run-1 --timeout 1h`,
		Args:    exactArgs("RUN-ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := wf.check(); err != nil {
				return err
			}
			c, err := cf.connect()
			if err != nil {
				return err
			}
			defer c.Close()
			r, err := a.waitRun(cmd.Context(), c, args[0], wf)
			if r.State.Final() {
				fmt.Fprintln(a.stdout, r.State)
			}
			return err
		},
	}
	cf.register(cmd)
	wf.register(cmd)
	return cmd
}

// waitRun waits for a run to end and turns how it ended into the
// command's outcome (runOutcome).
func (a *app) waitRun(ctx context.Context, c *apiclient.Client, runID string, wf waitFlags) (apiclient.Run, error) {
	wctx := ctx
	if wf.timeout > 0 {
		var cancel context.CancelFunc
		wctx, cancel = context.WithTimeout(ctx, wf.timeout)
		defer cancel()
	}
	start := time.Now()
	r, err := c.WaitRun(wctx, runID, apiclient.WaitOptions{
		Interval: wf.interval,
		OnChange: func(r apiclient.Run) {
			a.infof("run %s: %s (%s)", safeCell(r.ID), r.State, time.Since(start).Round(time.Second))
		},
		OnRetry: func(err error) {
			a.infof("run %s: the server did not answer (%v); asking again", safeCell(runID), err)
		},
	})
	switch {
	case err != nil && ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) && wctx.Err() != nil:
		return r, fmt.Errorf("run %s is still %s after %s: kensa run wait %s to wait more", safeCell(runID), cmp.Or(string(r.State), "unknown"), wf.timeout, safeCell(runID))
	case err != nil:
		return r, apiError(err)
	}
	a.describeEnd(r)
	return r, runOutcome(r)
}

// runOutcome is the exit a run's final state calls for: nothing for
// COMPLETED; ExitIncomplete for COMPLETED_WITH_ERRORS, whose findings do
// not cover everything; an error for FAILED and CANCELED.
func runOutcome(r apiclient.Run) error {
	reason := ""
	if why := r.Reason(); why != "" {
		reason = ": " + safeCell(why)
	}
	switch r.State {
	case fleet.RunCompleted:
		return nil
	case fleet.RunCompletedWithErrors:
		return &exitError{code: ExitIncomplete, err: fmt.Errorf("run %s completed with errors%s", safeCell(r.ID), reason)}
	case fleet.RunFailed:
		return fmt.Errorf("run %s failed%s", safeCell(r.ID), reason)
	case fleet.RunCanceled:
		return fmt.Errorf("run %s was canceled%s", safeCell(r.ID), reason)
	}
	return fmt.Errorf("run %s is %s: it has not ended", safeCell(r.ID), r.State)
}

// maxExclusionLines bounds the exclusions listed on stderr at the end of
// a wait: a fleet of thousands may exclude thousands.
const maxExclusionLines = 20

// describeEnd says on stderr what a finished run found and what it could
// not assess.
func (a *app) describeEnd(r apiclient.Run) {
	findings, reported := 0, 0
	for _, w := range r.Agents {
		if w.Findings != nil {
			findings += *w.Findings
			reported++
		}
	}
	a.infof("run %s: %s: %d finding(s) from %d agent(s), %d exclusion(s)", safeCell(r.ID), r.State, findings, reported, len(r.Exclusions))
	for i, e := range r.Exclusions {
		if i == maxExclusionLines {
			a.infof("  ... and %d more (kensa run show %s)", len(r.Exclusions)-i, safeCell(r.ID))
			break
		}
		a.infof("  excluded: %s", exclusionText(e))
	}
}

func exclusionText(e fleet.Exclusion) string {
	what := safeCell(e.Hostname) + " (" + safeCell(e.AgentID) + ")"
	if e.Package != "" {
		what += ", rules package " + safeCell(e.Package)
	}
	return what + ": " + string(e.Reason) + ": " + safeCell(e.Detail)
}

func (a *app) runReevaluateCommand() *cobra.Command {
	cmd := a.runMakingCommand(func(ctx context.Context, c *apiclient.Client, id string) (apiclient.Run, error) {
		return c.ReevaluateRun(ctx, id)
	})
	cmd.Use = "reevaluate RUN-ID"
	cmd.Short = "Evaluate a completed run's documents again, in a new run; print its id"
	cmd.Long = `Make a new run of the same template that evaluates again the documents the
completed run's agents uploaded (after a vulnerability database update, say),
without contacting any agent, and print its id. The server also does this by
itself for the latest run of every template when its vulnerability database
changes. With --wait, wait until the new run ends (exit codes below).
` + clientHelp + "\n" + runExitHelp
	cmd.Args = exactArgs("RUN-ID")
	return cmd
}

func (a *app) runStopCommand() *cobra.Command {
	var (
		cf         clientFlags
		noEvaluate bool
	)
	cmd := &cobra.Command{
		Use:   "stop RUN-ID",
		Short: "Stop a run: evaluate what was collected, or cancel it",
		Long: `Stop a run. By default the agents still collecting are told to stop and what
was collected is evaluated: the run ends COMPLETED (or COMPLETED_WITH_ERRORS)
with the findings of what it has. With --no-evaluate the run is CANCELED and
nothing is evaluated. A run evaluating its rules cannot be canceled: it
finishes soon.
` + clientHelp,
		Args: exactArgs("RUN-ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cf.connect()
			if err != nil {
				return err
			}
			defer c.Close()
			r, err := c.StopRun(cmd.Context(), args[0], !noEvaluate)
			if err != nil {
				return apiError(err)
			}
			reason := r.Reason()
			if reason == "" && len(r.History) > 0 {
				reason = r.History[len(r.History)-1].Reason
			}
			a.infof("run %s: %s (%s)", safeCell(r.ID), r.State, safeCell(reason))
			return nil
		},
	}
	cf.register(cmd)
	cmd.Flags().BoolVar(&noEvaluate, "no-evaluate", false, "cancel the run without evaluating what was collected")
	return cmd
}

func (a *app) runListCommand() *cobra.Command {
	var (
		cf     clientFlags
		format string
		state  string
	)
	var states []string
	for _, s := range fleet.RunStates() {
		states = append(states, string(s))
	}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List runs, newest first",
		Long:  "List runs, newest first: id, template, state, agents assessed and excluded.\n" + clientHelp,
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			st := fleet.RunState(strings.ToUpper(state))
			if state != "" && !st.Valid() {
				return usageErrorf("--state %q: want one of %s", state, strings.Join(states, ", "))
			}
			fetch := func(ctx context.Context, c *apiclient.Client) ([]apiclient.Run, error) { return c.ListRuns(ctx, st) }
			return fetchAndShow(cmd.Context(), a, &cf, format, fetch,
				func(runs []apiclient.Run) any {
					return struct {
						Runs []apiclient.Run `json:"runs"`
					}{append([]apiclient.Run{}, runs...)}
				},
				func(runs []apiclient.Run) error {
					t := newTable(a.stdout, "ID", "TEMPLATE", "STATE", "CREATED", "AGENTS", "EXCLUSIONS", "FINDINGS")
					for _, r := range runs {
						n, reported := 0, 0
						for _, w := range r.Agents {
							if w.Findings != nil {
								n += *w.Findings
								reported++
							}
						}
						findings := "-"
						if reported > 0 {
							findings = fmt.Sprint(n)
						}
						t.row(r.ID, r.TemplateID, string(r.State), when(r.Created), fmt.Sprint(len(r.Agents)), fmt.Sprint(len(r.Exclusions)), findings)
					}
					return t.flush()
				})
		},
	}
	cf.register(cmd)
	formatFlag(cmd, &format)
	cmd.Flags().StringVar(&state, "state", "", "only runs in this `STATE` (COMPLETED, FAILED...)")
	cmd.RegisterFlagCompletionFunc("state", fixedCompletion(states...))
	return cmd
}

func (a *app) runShowCommand() *cobra.Command {
	var (
		cf     clientFlags
		format string
	)
	cmd := &cobra.Command{
		Use:   "show RUN-ID",
		Short: "Show a run: state, history, agents' work, exclusions",
		Long: `Show a run: its state, every transition with its time and reason, each agent's
work, and its exclusions (what it could not assess, and why). --format json
prints the server's run document: id, template_id, state, created, history,
assignments, exclusions and agents.
` + clientHelp,
		Args: exactArgs("RUN-ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			fetch := func(ctx context.Context, c *apiclient.Client) (apiclient.Run, error) { return c.GetRun(ctx, args[0]) }
			return fetchAndShow(cmd.Context(), a, &cf, format, fetch,
				func(r apiclient.Run) any { return r },
				func(r apiclient.Run) error {
					return a.writeRun(r)
				})
		},
	}
	cf.register(cmd)
	formatFlag(cmd, &format)
	return cmd
}

// writeRun shows a run for a person.
func (a *app) writeRun(r apiclient.Run) error {
	w := a.stdout
	state := string(r.State)
	if why := r.Reason(); why != "" {
		state += ": " + safeCell(why)
	}
	fmt.Fprintf(w, "Run:       %s\nTemplate:  %s\nState:     %s\nCreated:   %s\n", safeCell(r.ID), safeCell(r.TemplateID), state, when(r.Created))

	fmt.Fprintln(w, "\nHistory:")
	t := newIndentedTable(w, "AT", "FROM", "TO", "REASON")
	for _, tr := range r.History {
		t.row(when(tr.At), string(tr.From), string(tr.To), tr.Reason)
	}
	if err := t.flush(); err != nil {
		return err
	}

	hosts := map[string]string{}
	for _, as := range r.Assignments {
		hosts[as.Agent.ID] = as.Agent.Hostname
	}
	fmt.Fprintln(w, "\nAgents:")
	if len(r.Agents) == 0 {
		fmt.Fprintln(w, "  none assessed")
	} else {
		t = newIndentedTable(w, "AGENT", "HOSTNAME", "PACKAGES", "STATUS", "FINDINGS", "ERROR")
		for _, x := range r.Agents {
			n := "-"
			if x.Findings != nil {
				n = fmt.Sprint(*x.Findings)
			}
			t.row(x.AgentID, hosts[x.AgentID], strings.Join(x.Packages, ","), x.Status, n, x.Error)
		}
		if err := t.flush(); err != nil {
			return err
		}
	}

	fmt.Fprintln(w, "\nExclusions:")
	if len(r.Exclusions) == 0 {
		fmt.Fprintln(w, "  none")
		return nil
	}
	t = newIndentedTable(w, "AGENT", "HOSTNAME", "PACKAGE", "REASON", "DETAIL")
	for _, e := range r.Exclusions {
		pkg := e.Package
		if pkg == "" {
			pkg = "(all)"
		}
		t.row(e.AgentID, e.Hostname, pkg, string(e.Reason), e.Detail)
	}
	return t.flush()
}

// Findings.

func (a *app) findingsCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "findings",
		Short: "List the findings a Kensa server stored",
		Long:  "The findings of runs, as the server stored them from its agents' reports.\n" + clientHelp,
		Args:  noArgs,
	}
	cmd.AddCommand(a.findingsListCommand())
	return cmd
}

// findingRow is a finding as kensa findings list --format json prints
// it: the finding object exactly as in the report JSON (docs/report.md),
// and beside its fields where and when it was seen: the run and agent,
// new (first found by this run), recurring, or fixed (found by the
// previous run, previous_run, and no more by this one), when it was
// first and last seen on the agent, and the run that first found it; and
// whether a suppression matched it, with that suppression.
type findingRow struct {
	finding.Finding
	RunID       string                        `json:"run_id"`
	AgentID     string                        `json:"agent_id"`
	Status      string                        `json:"status"`
	FirstSeen   time.Time                     `json:"first_seen"`
	LastSeen    time.Time                     `json:"last_seen"`
	FirstRun    string                        `json:"first_run"`
	PreviousRun string                        `json:"previous_run,omitempty"`
	Suppressed  bool                          `json:"suppressed"`
	Suppression *apiclient.FindingSuppression `json:"suppression,omitempty"`
}

func (a *app) findingsListCommand() *cobra.Command {
	var (
		cf           clientFlags
		format       string
		runID        string
		agent        string
		severities   []string
		pkg, rule    string
		tags, attrs  []string
		since, until string
		suppressed   string
		status       string
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List findings, filtered: a run's, or across runs",
		Long: `List the findings of a run (--run), or of every run, every page of them,
optionally filtered by agent, the agents' tags (as they are now), severity,
rules package, rule, the findings' attributes and when they were last seen on
their agent (--since inclusive, --until exclusive: RFC 3339, or YYYY-MM-DD for
00:00 UTC of that day). A finding seen by several runs is listed once a run.

Findings a suppression matched when their run was evaluated are left out;
--suppressed include lists them too, --suppressed only alone, each with the
suppression (its id, reason and owner as they were then).

--status new lists the findings a run found first on their agent, --status
recurring those an earlier run had found too (without --status: both).
--status fixed (with --run) lists the findings the run fixed: for each agent
whose work in the run is done, the findings of its previous run of the same
template (the latest completed one, COMPLETED or COMPLETED_WITH_ERRORS,
created before this run, in which the agent's work was done; re-evaluations
count) that this run did not find, in a rules package the agent's report for
this run says was evaluated completely. A package evaluated in part or not at
all fixes nothing: what was not looked at is not said to be gone. Each is the
previous run's finding (its suppression as it was then), listed under this
run with previous_run naming the run that found it.

--format json prints {"findings": [...]}: each finding object as in the JSON
report (id, rules_package, rule_id, severity, title, evidence, attributes,
vulnerability...) with, beside its fields, run_id, agent_id, status (new:
this run found it first; recurring: it was there before; fixed), first_seen,
last_seen, first_run, previous_run (fixed findings), suppressed and
suppression. The table lists them by severity, with their status.

A run that did not complete may have findings missing: the command says so on
stderr (kensa run show RUN lists what was not assessed).
` + clientHelp,
		Example: `  kensa findings list --run run-1
  kensa findings list --run run-1 --severity high --severity medium --package cve --format json
  kensa findings list --tag env=prod --attribute ticket=SEC-9 --since 2026-11-01 --suppressed include
  kensa findings list --run run-2 --status fixed
  kensa findings list --run run-2 --status new --severity high`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkTableOrJSON(format); err != nil {
				return err
			}
			filter := apiclient.FindingFilter{Run: runID, Agent: agent, Package: pkg, Rule: rule}
			for _, s := range severities {
				sev, err := finding.ParseSeverity(s)
				if err != nil {
					return usageErrorf("--severity: %v", err)
				}
				filter.Severities = append(filter.Severities, sev)
			}
			if pkg != "" && !slices.Contains(finding.Packages(), pkg) {
				return usageErrorf("--package %q: want one of %s", pkg, strings.Join(finding.Packages(), ", "))
			}
			if err := findingsFilterFlags(&filter, tags, attrs, since, until, suppressed); err != nil {
				return err
			}
			switch status {
			case "", apiclient.StatusNew, apiclient.StatusRecurring:
			case apiclient.StatusFixed:
				if runID == "" {
					return usageErrorf("--status fixed needs --run: a run fixes what the run before it found")
				}
			default:
				return usageErrorf("--status %q: want new, recurring or fixed", status)
			}
			filter.Status = status
			c, err := cf.connect()
			if err != nil {
				return err
			}
			defer c.Close()
			ctx := cmd.Context()
			hosts := map[string]string{}
			if runID != "" {
				r, err := c.GetRun(ctx, runID)
				if err != nil {
					return apiError(err)
				}
				if r.State != fleet.RunCompleted {
					a.infof("run %s is %s: its findings may not cover every agent and rules package (kensa run show %s)", safeCell(r.ID), r.State, safeCell(r.ID))
				}
				for _, as := range r.Assignments {
					hosts[as.Agent.ID] = as.Agent.Hostname
				}
			} else if format == "table" {
				agents, err := c.ListAgents(ctx)
				if err != nil {
					return apiError(err)
				}
				for _, x := range agents {
					hosts[x.ID] = x.Hostname
				}
			}
			fs, err := c.ListAllFindings(ctx, filter)
			if err != nil {
				return apiError(err)
			}
			if format == "json" {
				rows := make([]findingRow, 0, len(fs))
				for _, f := range fs {
					rows = append(rows, findingRow{Finding: f.Finding, RunID: f.RunID, AgentID: f.AgentID, Status: f.Status,
						FirstSeen: f.FirstSeen.UTC(), LastSeen: f.LastSeen.UTC(), FirstRun: f.FirstRun, PreviousRun: f.PreviousRun,
						Suppressed: f.Suppressed, Suppression: f.Suppression})
				}
				return writeJSONDoc(a.stdout, struct {
					Findings []findingRow `json:"findings"`
				}{rows})
			}
			return a.writeFindings(hosts, fs, runID == "", filter.Suppressed != "", status == apiclient.StatusFixed)
		},
	}
	cf.register(cmd)
	formatFlag(cmd, &format)
	f := cmd.Flags()
	f.StringVar(&runID, "run", "", "only the findings of this run (`ID`); none: of every run")
	f.StringVar(&agent, "agent", "", "only findings on this agent (`ID`)")
	f.StringSliceVar(&severities, "severity", nil, "only findings of these severities: high, medium, low, informational, unrated (repeatable)")
	f.StringVar(&pkg, "package", "", "only findings of this rules package: "+strings.Join(finding.Packages(), ", "))
	f.StringVar(&rule, "rule", "", "only findings of this rule (`ID`)")
	f.StringArrayVar(&tags, "tag", nil, "only findings on agents that have this tag now, `KEY=VALUE` (repeatable: all must match)")
	f.StringArrayVar(&attrs, "attribute", nil, "only findings with this attribute, `KEY=VALUE` (repeatable: all must match)")
	f.StringVar(&since, "since", "", "only findings last seen at or after this `TIME` (RFC 3339, or YYYY-MM-DD)")
	f.StringVar(&until, "until", "", "only findings last seen before this `TIME` (RFC 3339, or YYYY-MM-DD)")
	f.StringVar(&suppressed, "suppressed", "", "list suppressed findings too (include), or alone (only)")
	f.StringVar(&status, "status", "", "only findings new to the run, recurring, or fixed by it (fixed needs --run); none: new and recurring")
	cmd.RegisterFlagCompletionFunc("severity", fixedCompletion("high", "medium", "low", "informational", "unrated"))
	cmd.RegisterFlagCompletionFunc("package", fixedCompletion(finding.Packages()...))
	cmd.RegisterFlagCompletionFunc("suppressed", fixedCompletion("include", "only"))
	cmd.RegisterFlagCompletionFunc("status", fixedCompletion(apiclient.StatusNew, apiclient.StatusRecurring, apiclient.StatusFixed))
	return cmd
}

// findingsFilterFlags reads --tag, --attribute, --since, --until and
// --suppressed into f, refusing what the server would refuse.
func findingsFilterFlags(f *apiclient.FindingFilter, tags, attrs []string, since, until, suppressed string) error {
	if len(tags) > 0 {
		t, err := fleet.ParseTags(tags)
		if err != nil {
			return usageErrorf("--tag: %v", err)
		}
		f.Tags = t
	}
	if len(attrs) > 0 {
		f.Attributes = map[string]string{}
		for _, p := range attrs {
			k, v, ok := strings.Cut(p, "=")
			if !ok || k == "" {
				return usageErrorf("--attribute %q: want KEY=VALUE", p)
			}
			if _, dup := f.Attributes[k]; dup {
				return usageErrorf("--attribute %q given twice", k)
			}
			f.Attributes[k] = v
		}
	}
	var err error
	if f.Since, err = flagTime("--since", since); err != nil {
		return err
	}
	if f.Until, err = flagTime("--until", until); err != nil {
		return err
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Since.Before(f.Until) {
		return usageErrorf("--since %s is not before --until %s", since, until)
	}
	switch suppressed {
	case "", apiclient.SuppressedExclude:
	case apiclient.SuppressedInclude, apiclient.SuppressedOnly:
		f.Suppressed = suppressed
	default:
		return usageErrorf("--suppressed %q: want include or only", suppressed)
	}
	return nil
}

// flagTime reads a time given as RFC 3339, or as a day (00:00 UTC).
func flagTime(name, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation(time.DateOnly, v, time.UTC); err == nil {
		return t, nil
	}
	return time.Time{}, usageErrorf("%s %q: want an RFC 3339 time (2026-11-27T12:00:00Z) or a day (2026-11-27, from 00:00 UTC)", name, v)
}

// maxTitle bounds a title in the findings table: the JSON has it whole.
const maxTitle = 80

// writeFindings lists findings for a person, most severe first, with
// each one's run when they come from several, the run that found it
// when they are fixed findings, and the suppression that matched it when
// suppressed findings were asked for.
func (a *app) writeFindings(hosts map[string]string, fs []apiclient.Finding, withRun, withSuppression, fixed bool) error {
	rank := func(s finding.Severity) int {
		i := slices.Index(finding.Severities(), s)
		if i < 0 {
			return len(finding.Severities())
		}
		return i
	}
	slices.SortStableFunc(fs, func(x, y apiclient.Finding) int {
		return cmp.Or(rank(x.Finding.Severity)-rank(y.Finding.Severity), strings.Compare(hosts[x.AgentID], hosts[y.AgentID]),
			strings.Compare(x.AgentID, y.AgentID), strings.Compare(x.Finding.RulesPackage, y.Finding.RulesPackage),
			strings.Compare(x.Finding.RuleID, y.Finding.RuleID), strings.Compare(x.Finding.ID, y.Finding.ID), strings.Compare(x.RunID, y.RunID))
	})
	header := []string{"SEVERITY", "HOST", "PACKAGE", "RULE", "STATUS", "FIRST SEEN"}
	if withRun {
		header = append(header, "RUN")
	}
	if fixed {
		header = append(header, "PREVIOUS RUN")
	}
	if withSuppression {
		header = append(header, "SUPPRESSED BY")
	}
	t := newTable(a.stdout, append(header, "TITLE")...)
	counts := map[finding.Severity]int{}
	nSuppressed := 0
	for _, f := range fs {
		counts[f.Finding.Severity]++
		host := cmp.Or(hosts[f.AgentID], f.AgentID)
		row := []string{string(f.Finding.Severity), host, f.Finding.RulesPackage, f.Finding.RuleID, f.Status, when(f.FirstSeen)}
		if withRun {
			row = append(row, f.RunID)
		}
		if fixed {
			row = append(row, f.PreviousRun)
		}
		if withSuppression {
			by := ""
			if f.Suppression != nil {
				by = f.Suppression.ID
				nSuppressed++
			}
			row = append(row, by)
		}
		t.row(append(row, clip(safeCell(f.Finding.Title), maxTitle))...)
	}
	if err := t.flush(); err != nil {
		return err
	}
	var parts []string
	for _, s := range finding.Severities() {
		if counts[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[s], s))
		}
	}
	summary := "no findings match"
	if len(fs) > 0 {
		what := "finding(s)"
		if fixed {
			what = "fixed finding(s)"
		}
		summary = fmt.Sprintf("%d %s: %s", len(fs), what, strings.Join(parts, ", "))
		if withSuppression {
			summary += fmt.Sprintf("; %d suppressed", nSuppressed)
		}
	}
	a.infof("%s", summary)
	return nil
}

// Reports.

func (a *app) reportGetCommand() *cobra.Command {
	var (
		cf    clientFlags
		agent string
		out   outputFlags
		color string
	)
	cmd := &cobra.Command{
		Use:   "get RUN-ID",
		Short: "Fetch an agent's report of a run from a Kensa server and render it",
		Long: `Fetch the canonical JSON report of one agent in a run from the server, check it
against the report schema, and render it in any format, as kensa report does
with a file. One agent per invocation: --agent is needed when the run has
reports of more than one (the error lists them).
` + clientHelp,
		Example: `  kensa report get run-1 --format html -o db-1.html
  kensa report get run-1 --agent agt-1 --format pdf -o db-1.pdf
  kensa report get run-1 --agent agt-1 -f json -o r.json -f sarif -o r.sarif`,
		Args: exactArgs("RUN-ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			outs, err := out.resolve(a.stdout)
			if err != nil {
				return err
			}
			if _, err := colorWanted(color, "", a.stdout); err != nil {
				return err
			}
			c, err := cf.connect()
			if err != nil {
				return err
			}
			defer c.Close()
			ctx := cmd.Context()
			runID := args[0]
			if agent == "" {
				if agent, err = onlyReportedAgent(ctx, c, runID); err != nil {
					return err
				}
			}
			b, err := c.GetReport(ctx, runID, agent)
			if err != nil {
				return apiError(err)
			}
			r, err := report.Parse(b)
			if err != nil {
				return fmt.Errorf("the report of agent %s in run %s is not a valid Kensa report: %w", safeCell(agent), safeCell(runID), err)
			}
			return a.writeReports(r, outs, color, out.options())
		},
	}
	cf.register(cmd)
	f := cmd.Flags()
	f.StringVar(&agent, "agent", "", "the agent (`ID`) whose report to fetch; needed when the run has several")
	f.StringVar(&color, "color", "auto", "colour the table: auto, always or never")
	out.register(cmd)
	cmd.RegisterFlagCompletionFunc("color", fixedCompletion("auto", "always", "never"))
	return cmd
}

// onlyReportedAgent is the one agent with a report in a run, or a usage
// error listing them when there are several.
func onlyReportedAgent(ctx context.Context, c *apiclient.Client, runID string) (string, error) {
	r, err := c.GetRun(ctx, runID)
	if err != nil {
		return "", apiError(err)
	}
	reported := r.Reported()
	switch len(reported) {
	case 0:
		return "", fmt.Errorf("run %s has no report: it is %s (kensa run show %s)", safeCell(runID), r.State, safeCell(runID))
	case 1:
		return reported[0], nil
	}
	hosts := map[string]string{}
	for _, as := range r.Assignments {
		hosts[as.Agent.ID] = as.Agent.Hostname
	}
	var names []string
	for _, id := range reported {
		names = append(names, safeCell(id)+" ("+safeCell(hosts[id])+")")
	}
	return "", usageErrorf("run %s has reports of %d agents: give --agent, one of %s", safeCell(runID), len(reported), strings.Join(names, ", "))
}
