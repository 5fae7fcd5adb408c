package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/kensa-dev/kensa/internal/assess"
	"github.com/kensa-dev/kensa/internal/buildinfo"
	"github.com/kensa-dev/kensa/internal/finding"
	"github.com/kensa-dev/kensa/internal/observe/watch"
	"github.com/kensa-dev/kensa/internal/report"
	"github.com/kensa-dev/kensa/internal/rules"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

func (a *app) scanCommand() *cobra.Command {
	var (
		t                targetFlags
		packages         []string
		out              outputFlags
		failOn           string
		failOnIncomplete bool
		failOnKEV        bool
		ignoreUnfixed    bool
		color            string
		showPassed       bool
		profile          string
		fsWalk           bool
		ignoreFile       string
		noIgnoreFile     bool
		duration         time.Duration
		observer         string
		db               dbFlag
	)
	cmd := &cobra.Command{
		Use:   "scan",
		Short: "Assess this host (or an image with --root) and print a report",
		Long: `Collect the inventory of this host, or of an image with --root, evaluate the
rules packages and print the report.

Rules packages: cve, cis, best-practices, runtime. cve matches OS packages and
software found outside the package manager against the vulnerability database
(kensa db update / kensa db import), and on Debian and Ubuntu reports the CVEs
that pending updates' changelogs fix. best-practices and cis check the host's
configuration (kensa rules list shows the rules and where they apply; --profile
tailors them to a site's policy). runtime watches the live host for a window
(--duration): connections made and accepted, listening ports, running
processes and the hardening of their binaries; the other packages do not wait
for it. Ctrl-C during the window ends it early and still evaluates what was
seen; a second Ctrl-C cancels the scan. Whatever could not be evaluated is
listed, with the reason, in the report's coverage section: Kensa never
reports "no findings" for what it did not check.

The runtime window: when --packages names runtime, the window is 1 minute
unless --duration says otherwise; with all packages (no --packages), runtime
is observed only when --duration is given. The observer is eBPF when the kernel
and privileges allow, else netlink (proc connector and sock_diag), else
/proc polling; the report names the method and what it cannot see.`,
		Example: `  kensa scan
  kensa scan --root /mnt/image --format json --output report.json
  kensa scan -f json -o report.json -f sarif -o report.sarif -f csv -o findings.csv
  kensa scan --packages cve --ignore-unfixed
  kensa scan --packages best-practices,cis --show-passed --profile site.yaml
  kensa scan --packages runtime --duration 10m
  kensa scan --duration 1h --format json --output report.json   # all packages, 1 hour window
  kensa scan --fail-on high --fail-on-kev --fail-on-incomplete   # for CI gates`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts, err := t.options(a)
			if err != nil {
				return err
			}
			if opts.Packages, err = assess.ParsePackages(packages); err != nil {
				return usageErrorf("--packages: %v", err)
			}
			var threshold finding.Severity
			if failOn != "" {
				if threshold, err = finding.ParseSeverity(failOn); err != nil {
					return usageErrorf("--fail-on: %v", err)
				}
			}
			if showPassed {
				out.kind = "full"
			}
			outs, err := out.resolve(a.stdout)
			if err != nil {
				return err
			}
			// Read the suppressions before anything runs: a typo in them
			// must not cost a scan.
			sup, err := loadSuppressions(ignoreFile, noIgnoreFile)
			if err != nil {
				return err
			}
			if _, err := colorWanted(color, "", a.stdout); err != nil {
				return err
			}
			opts.IgnoreUnfixed = ignoreUnfixed
			if fsWalk && !slices.Contains(opts.Packages, finding.PackageCIS) {
				return usageErrorf("--fs-walk: the walk serves the cis package; add cis to --packages")
			}
			opts.FSWalk = fsWalk
			if opts.Window, err = windowOptions(cmd, packages, opts.Packages, duration, observer); err != nil {
				return err
			}
			if opts.Window != nil && filepath.Clean(opts.Root) != "/" {
				a.logger.Warn("an image cannot be observed: the runtime package is not evaluated and --duration is ignored", "root", opts.Root)
				opts.Window = nil
			}
			if profile != "" {
				// Read and apply the tailoring before anything runs: a
				// typo in it must not cost a scan.
				if opts.Tailoring, err = rules.LoadTailoring(profile); err != nil {
					return usageErrorf("--profile: %v", err)
				}
				all, err := rules.Load()
				if err != nil {
					return err
				}
				if _, err := opts.Tailoring.Apply(all); err != nil {
					return usageErrorf("--profile: %v", err)
				}
			}
			if slices.Contains(opts.Packages, finding.PackageCVE) {
				store, path, err := openVulnDB(cmd, &db)
				if err != nil && path == "" {
					return err
				}
				opts.DBPath, opts.DBError = path, err
				if store != nil {
					defer store.Close()
					// One snapshot for the whole evaluation: an import
					// committing meanwhile is seen entirely or not at all.
					snap, err := store.Snapshot(cmd.Context())
					if err != nil {
						return err
					}
					defer snap.Close()
					opts.VulnDB = snap
				} else {
					a.logger.Warn("no vulnerability database: OS packages and software are not matched against feeds", "db", path, "error", err)
				}
			}
			bi := buildinfo.Get()
			opts.Tool = report.Tool{Name: "kensa", Version: bi.Version, Commit: bi.Commit}
			var p *progress
			if opts.Window != nil {
				// The window's bar is the display: collectors finish
				// within it.
				stop, done := interruptsFrom(cmd.Context()).openWindow()
				defer done()
				opts.Window.Stop = stop
				opts.Window.Self = os.Getpid()
				opts.Window.Logger = a.logger
				opts.Window.Display = newWindowProgress(a.stderr, a.quiet, opts.Window.Duration, done)
			} else if p = newProgress(a.stderr, a.quiet); p != nil {
				opts.Progress = p
			}
			r, inv, err := assess.Scan(cmd.Context(), opts)
			if p != nil {
				p.Close()
			}
			if err != nil {
				return err
			}
			a.logCollectors(inv)
			if sup != nil {
				for _, x := range report.ApplySuppressions(r, sup, time.Now()) {
					a.logger.Warn("suppression expired and no longer applies: its findings are reported", "file", sup.Path, "rule", x.String(), "expired", x.ExpiresDate())
				}
			}
			if err := a.writeReports(r, outs, color, out.options()); err != nil {
				return err
			}
			if r.IgnoredUnfixed > 0 {
				a.infof("%d vulnerabilit(ies) without a released fix left out (--ignore-unfixed)", r.IgnoredUnfixed)
			}
			for _, f := range r.Feeds {
				if f.Stale {
					a.logger.Warn("feed older than 7 days: it may miss recent vulnerabilities; run kensa db update", "feed", f.Name, "age_hours", f.AgeHours)
				}
			}
			code := report.ExitCode(r, report.ExitPolicy{FailOn: threshold, FailOnIncomplete: failOnIncomplete, FailOnKEV: failOnKEV})
			switch code {
			case report.ExitFindings:
				if n := report.KnownExploited(r); failOnKEV && n > 0 {
					return &exitError{code: code, err: fmt.Errorf("%d finding(s) of known exploited vulnerabilities (CISA KEV)", n)}
				}
				n := 0
				for _, f := range r.Findings {
					if f.Severity.AtLeast(threshold) {
						n++
					}
				}
				return &exitError{code: code, err: fmt.Errorf("%d finding(s) at or above %s", n, threshold)}
			case report.ExitIncomplete:
				s := report.Summarize(r)
				return &exitError{code: code, err: fmt.Errorf("coverage incomplete: %d scope(s) not fully evaluated", s.CoverageGaps)}
			}
			return nil
		},
	}
	f := cmd.Flags()
	t.register(cmd)
	f.StringSliceVar(&packages, "packages", nil, "rules packages to run, comma-separated: "+strings.Join(finding.Packages(), ", ")+" (default all)")
	out.register(cmd)
	f.StringVar(&failOn, "fail-on", "", "exit 3 when a finding is at or above this severity (high, medium, low, informational, unrated)")
	f.BoolVar(&failOnIncomplete, "fail-on-incomplete", false, "exit 4 when any rules package or scope was not fully evaluated")
	f.StringVar(&color, "color", "auto", "colour the table: auto, always or never")
	f.BoolVar(&showPassed, "show-passed", false, "the same as --kind full")
	f.MarkDeprecated("show-passed", "use --kind full")
	f.BoolVar(&failOnKEV, "fail-on-kev", false, "exit 3 when a finding's vulnerability is in CISA's Known Exploited Vulnerabilities catalog")
	f.BoolVar(&ignoreUnfixed, "ignore-unfixed", false, "leave out vulnerabilities without a released fix (they are counted; known exploited ones are kept)")
	f.StringVar(&profile, "profile", "", "tailor the best-practices and cis rules with `FILE` (level, disabled rules with reasons, thresholds, allow-lists; see docs/rules.md)")
	f.BoolVar(&fsWalk, "fs-walk", false, "cis: walk the local file systems once for world-writable files and directories, files without a known owner, set-id programs and log file modes (CIS 7.1.11-7.1.13, 6.1.4.1); seconds to minutes on a large server (at most 2,000,000 entries or 2 minutes). Without it those rules are reported as not evaluated")
	f.StringVar(&ignoreFile, "ignore-file", "", "suppress findings with the rules of `FILE` (reasons, owners, expiry; docs/suppressions.md); default .kensa-ignore.yaml in the working directory, when there is one")
	f.BoolVar(&noIgnoreFile, "no-ignore-file", false, "apply no suppression file, not even .kensa-ignore.yaml")
	f.DurationVar(&duration, "duration", 0, "runtime: observe the live host for this long, 10s to 24h (default 1m when --packages names runtime; without --packages, runtime is observed only with --duration)")
	f.StringVar(&observer, "observer", "", "runtime: force the observer method: ebpf, netlink or proc (default: the best that can run here)")
	db.register(cmd, false)
	cmd.RegisterFlagCompletionFunc("fail-on", fixedCompletion("high", "medium", "low", "informational", "unrated"))
	cmd.RegisterFlagCompletionFunc("packages", fixedCompletion(finding.Packages()...))
	cmd.RegisterFlagCompletionFunc("color", fixedCompletion("auto", "always", "never"))
	cmd.RegisterFlagCompletionFunc("observer", fixedCompletion("ebpf", "netlink", "proc"))
	return cmd
}

// defaultWindow is the window of --packages runtime without --duration.
const defaultWindow = time.Minute

// windowOptions checks --duration and --observer against the packages:
// given is what --packages said (nil when it was not given), pkgs the
// packages that will run. It returns nil when no window is wanted.
func windowOptions(cmd *cobra.Command, given, pkgs []string, duration time.Duration, observer string) (*watch.Options, error) {
	runtime := slices.Contains(pkgs, finding.PackageRuntime)
	durationSet := cmd.Flags().Changed("duration")
	if !runtime {
		if durationSet {
			return nil, usageErrorf("--duration: the window serves the runtime package; add runtime to --packages")
		}
		if observer != "" {
			return nil, usageErrorf("--observer: the observer serves the runtime package; add runtime to --packages")
		}
		return nil, nil
	}
	if durationSet && (duration < watch.MinDuration || duration > watch.MaxDuration) {
		return nil, usageErrorf("--duration %s: want %s to %s", duration, watch.MinDuration, watch.MaxDuration)
	}
	if !durationSet {
		if len(given) == 0 {
			// Every package by default: a scan must not wait a minute
			// unasked. The coverage says how to observe.
			if observer != "" {
				return nil, usageErrorf("--observer: give --duration (or --packages runtime) to open a window")
			}
			return nil, nil
		}
		duration = defaultWindow
	}
	w := &watch.Options{Duration: duration}
	if observer != "" {
		m, err := watch.ParseMethod(observer)
		if err != nil {
			return nil, usageErrorf("--observer: %v", err)
		}
		w.Method = m
	}
	return w, nil
}

// terminalWidth is the width of the terminal the table goes to, or 0 (no
// limit) when it goes to a file or a pipe.
func terminalWidth(output string, stdout io.Writer) int {
	if output != "" && output != "-" {
		return 0
	}
	f, ok := stdout.(*os.File)
	if !ok {
		return 0
	}
	w, _, err := term.GetSize(int(f.Fd()))
	if err != nil {
		return 0
	}
	return w
}

func colorWanted(mode, output string, stdout io.Writer) (bool, error) {
	switch mode {
	case "always":
		return true, nil
	case "never":
		return false, nil
	case "auto":
		if os.Getenv("NO_COLOR") != "" || (output != "" && output != "-") {
			return false, nil
		}
		return isTerminal(stdout), nil
	}
	return false, usageErrorf("--color %q: want auto, always or never", mode)
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
