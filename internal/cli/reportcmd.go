package cli

import (
	"fmt"
	"io"

	"github.com/kensa-dev/kensa/internal/finding"
	"github.com/kensa-dev/kensa/internal/report"
	"github.com/spf13/cobra"
)

func (a *app) reportCommand() *cobra.Command {
	var (
		input string
		out   outputFlags
		color string
	)
	cmd := &cobra.Command{
		Use:   "report",
		Short: "Render a stored JSON report in another format",
		Long: `Read a report written by kensa scan --format json and render it again, in any
format, without scanning: every format is a function of the JSON report, so
what it shows is what the scan found. The report is validated against its
schema first.

--kind full adds every rule checked, passed ones included, with its result
and reason (Inspector's "full report"); findings (the default) shows the
findings and what was not evaluated.`,
		Example: `  kensa report --input report.json                       # the terminal table
  kensa report --input report.json --kind full
  kensa report -i report.json -f csv -o findings.csv -f sarif -o report.sarif`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if input == "" {
				return usageErrorf("--input: give the JSON report to read (- for stdin)")
			}
			outs, err := out.resolve(a.stdout)
			if err != nil {
				return err
			}
			if _, err := colorWanted(color, "", a.stdout); err != nil {
				return err
			}
			r, err := a.readReport(input)
			if err != nil {
				return err
			}
			return a.writeReports(r, outs, color, out.options())
		},
	}
	f := cmd.Flags()
	f.StringVarP(&input, "input", "i", "", "the JSON report to read (`FILE`, or - for stdin)")
	f.StringVar(&color, "color", "auto", "colour the table: auto, always or never")
	out.register(cmd)
	cmd.RegisterFlagCompletionFunc("color", fixedCompletion("auto", "always", "never"))
	cmd.AddCommand(a.reportGetCommand())
	return cmd
}

func (a *app) diffCommand() *cobra.Command {
	var format, output, failOn string
	cmd := &cobra.Command{
		Use:   "diff OLD.json NEW.json",
		Short: "Compare two reports of a host: new, fixed and unchanged findings",
		Long: `Compare two JSON reports of one host by the findings' stable fingerprints:
findings new in NEW, fixed since OLD, and unchanged.

A finding that is gone counts as fixed only when NEW checked for it again:
its rules package ran and was fully evaluated, or its rule passed. If NEW
did not run that package, or evaluated it only partly, the finding is listed
as "no longer reported, not checked again", with the reason: a gap in
coverage is not a fix.

With --fail-on, the exit code is 3 when a new finding is at or above that
severity: a CI gate on what a change introduced.`,
		Example: `  kensa diff monday.json tuesday.json
  kensa diff --format json old.json new.json
  kensa diff --fail-on high base.json head.json`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 2 {
				return usageErrorf("diff takes two reports, OLD.json and NEW.json; got %d argument(s)", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "table" && format != "json" {
				return usageErrorf("--format %q: want table or json", format)
			}
			var threshold finding.Severity
			if failOn != "" {
				var err error
				if threshold, err = finding.ParseSeverity(failOn); err != nil {
					return usageErrorf("--fail-on: %v", err)
				}
			}
			old, err := a.readReport(args[0])
			if err != nil {
				return err
			}
			nw, err := a.readReport(args[1])
			if err != nil {
				return err
			}
			d := report.Compare(old, nw)
			for _, w := range d.Warnings {
				a.logger.Warn(w)
			}
			if err := a.writeOutput(output, func(w io.Writer) error {
				if format == "json" {
					return report.WriteDiffJSON(w, d)
				}
				return report.WriteDiffText(w, d)
			}); err != nil {
				return err
			}
			if threshold != "" {
				n := 0
				for _, f := range d.New {
					if f.Severity.AtLeast(threshold) {
						n++
					}
				}
				if n > 0 {
					return &exitError{code: ExitFindings, err: fmt.Errorf("%d new finding(s) at or above %s", n, threshold)}
				}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVarP(&format, "format", "f", "table", "table or json")
	f.StringVarP(&output, "output", "o", "", "write to `FILE` instead of stdout")
	f.StringVar(&failOn, "fail-on", "", "exit 3 when a new finding is at or above this severity")
	cmd.RegisterFlagCompletionFunc("format", fixedCompletion("table", "json"))
	cmd.RegisterFlagCompletionFunc("fail-on", fixedCompletion("high", "medium", "low", "informational", "unrated"))
	return cmd
}
