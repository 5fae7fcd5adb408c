// Package cli implements the kensa command line: one file per command
// group, all built on cobra. Main is the whole program: it parses
// arguments, runs a command and maps the outcome to a documented exit code.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/kensa-dev/kensa/internal/report"
	"github.com/spf13/cobra"
)

// Exit codes, documented in `kensa --help` and docs/report.md; the report
// package owns their definition.
const (
	ExitOK         = report.ExitOK
	ExitError      = report.ExitError
	ExitUsage      = report.ExitUsage
	ExitFindings   = report.ExitFindings
	ExitIncomplete = report.ExitIncomplete
)

// exitError carries an exit code other than ExitError out of a command.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func usageErrorf(format string, args ...any) error {
	return &exitError{code: ExitUsage, err: fmt.Errorf(format, args...)}
}

// app holds what every command shares: the streams and global flags.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	quiet, verbose bool
	logFormat      string
	logger         *slog.Logger
}

// Main runs kensa with args (without the program name) and returns the
// process exit code.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr}
	root := a.rootCommand()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return ExitOK
	}
	if ctx.Err() != nil && errors.Is(err, context.Canceled) {
		fmt.Fprintln(stderr, "kensa: interrupted")
		return ExitError
	}
	code := ExitError
	var ee *exitError
	if errors.As(err, &ee) {
		code = ee.code
	} else if isCobraUsageError(err) {
		code = ExitUsage
	}
	if code == ExitFindings || code == ExitIncomplete {
		// The report already said why; one line on stderr for logs.
		if !a.quiet {
			fmt.Fprintln(stderr, "kensa:", err)
		}
		return code
	}
	if a.logger != nil && a.logFormat == "json" {
		a.logger.Error(err.Error(), "exit_code", code)
	} else {
		fmt.Fprintln(stderr, "kensa:", err)
	}
	if code == ExitUsage {
		if cmd == nil {
			cmd = root
		}
		fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", cmd.CommandPath())
	}
	return code
}

// noArgs is cobra.NoArgs with a message that says what is wrong.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		if cmd.HasSubCommands() {
			return usageErrorf("unknown command %q for %q", args[0], cmd.CommandPath())
		}
		return usageErrorf("%s takes no arguments, got %q", cmd.CommandPath(), args)
	}
	return nil
}

// isCobraUsageError recognises the argument errors cobra creates itself
// (unknown commands and flags), which it does not type.
func isCobraUsageError(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand flag", "flag needs an argument", "invalid argument", "accepts ", "requires at least", "required flag"} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}

const rootLong = `Kensa (検査, "inspection") assesses the security of Linux hosts: the
packages installed (and software installed from source), their known
vulnerabilities, the configuration against CIS benchmarks and security best
practices, and the behaviour of the running system.

Kensa says what it could not assess, and why. A rules package or scope that
was not evaluated is listed in the report's coverage section, never reported
as clean.

Exit codes:
  0  success
  1  error
  2  bad command line (usage)
  3  findings at or above --fail-on, or known exploited with --fail-on-kev
  4  coverage incomplete and --fail-on-incomplete given; for kensa run
     start --wait and run wait, the run COMPLETED_WITH_ERRORS`

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "kensa",
		Short:         "Host security assessment: inventory, vulnerabilities, configuration, runtime",
		Long:          rootLong,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          noArgs,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			return a.setupLogging()
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return cmd.Help()
		},
	}
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return &exitError{code: ExitUsage, err: err}
	})
	pf := root.PersistentFlags()
	pf.BoolVarP(&a.quiet, "quiet", "q", false, "print only errors on stderr (no progress, no warnings)")
	pf.BoolVarP(&a.verbose, "verbose", "v", false, "log what each step does on stderr")
	pf.StringVar(&a.logFormat, "log-format", "text", "log format on stderr: text or json")
	root.RegisterFlagCompletionFunc("log-format", fixedCompletion("text", "json"))
	root.AddCommand(a.versionCommand(), a.inventoryCommand(), a.scanCommand(), a.reportCommand(), a.diffCommand(), a.dbCommand(), a.rulesCommand(), a.serverCommand(), a.agentCommand(), a.targetCommand(), a.templateCommand(), a.runCommand(), a.findingsCommand(), a.suppressionCommand(), a.deliveryCommand())
	return root
}

func (a *app) setupLogging() error {
	if a.quiet && a.verbose {
		return usageErrorf("--quiet and --verbose cannot be used together")
	}
	a.logger = a.newLogger(slog.LevelWarn)
	if a.logFormat != "text" && a.logFormat != "json" {
		return usageErrorf("--log-format %q: want text or json", a.logFormat)
	}
	return nil
}

// serviceLogger is the logger of the long-running commands (kensa server,
// kensa agent): what they do is logged at info level, which a command
// that prints a report keeps quiet.
func (a *app) serviceLogger() *slog.Logger { return a.newLogger(slog.LevelInfo) }

// newLogger logs to stderr in --log-format from level, or errors only
// with --quiet, or everything with --verbose.
func (a *app) newLogger(level slog.Level) *slog.Logger {
	switch {
	case a.quiet:
		level = slog.LevelError
	case a.verbose:
		level = slog.LevelDebug
	}
	opts := &slog.HandlerOptions{Level: level}
	if a.logFormat == "json" {
		return slog.New(slog.NewJSONHandler(a.stderr, opts))
	}
	return slog.New(slog.NewTextHandler(a.stderr, opts))
}

// fixedCompletion completes a flag from a fixed list of values.
func fixedCompletion(values ...string) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return values, cobra.ShellCompDirectiveNoFileComp
	}
}
