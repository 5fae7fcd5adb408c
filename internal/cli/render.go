package cli

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/kensa-dev/kensa/internal/report"
	"github.com/kensa-dev/kensa/internal/report/html"
	"github.com/kensa-dev/kensa/internal/report/pdf"
	"github.com/kensa-dev/kensa/internal/report/sarif"
	"github.com/kensa-dev/kensa/internal/report/sbom"
	"github.com/kensa-dev/kensa/internal/suppress"
	"github.com/spf13/cobra"
)

// formatNames are the report formats, in the order help lists them.
var formatNames = []string{"table", "json", "sarif", "csv", "html", "pdf", "cyclonedx", "spdx"}

// renderers are the formats: pure functions of the canonical report.
var renderers = map[string]func(w io.Writer, r *report.Report, o renderOptions) error{
	"table": func(w io.Writer, r *report.Report, o renderOptions) error {
		return report.WriteTable(w, r, report.TableOptions{Color: o.color, Width: o.width, ShowPassed: o.full})
	},
	"json":  func(w io.Writer, r *report.Report, _ renderOptions) error { return report.WriteJSON(w, r) },
	"csv":   func(w io.Writer, r *report.Report, _ renderOptions) error { return report.WriteCSV(w, r) },
	"sarif": func(w io.Writer, r *report.Report, _ renderOptions) error { return sarif.Write(w, r) },
	"cyclonedx": func(w io.Writer, r *report.Report, o renderOptions) error {
		return sbom.WriteCycloneDX(w, r, sbom.CycloneDXOptions{Vulnerabilities: o.sbomVulnerabilities})
	},
	"spdx": func(w io.Writer, r *report.Report, _ renderOptions) error { return sbom.WriteSPDX(w, r) },
	"html": func(w io.Writer, r *report.Report, o renderOptions) error {
		return html.Write(w, r, html.Options{Full: o.full})
	},
	"pdf": func(w io.Writer, r *report.Report, o renderOptions) error {
		return pdf.Write(w, r, pdf.Options{Full: o.full})
	},
}

// binaryFormats are not text: they are not written to a terminal.
var binaryFormats = []string{"pdf"}

// renderOptions are what a renderer may take from the command line.
type renderOptions struct {
	color bool
	width int
	// full: the full report (every rule checked, passed ones included)
	// rather than the findings alone, where the format has both kinds.
	full bool
	// sbomVulnerabilities: the CycloneDX SBOM lists the vulnerability
	// findings too.
	sbomVulnerabilities bool
}

// outputFlags are the flags that choose the reports to write, shared by
// kensa scan and kensa report.
type outputFlags struct {
	formats, paths      []string
	kind                string
	sbomVulnerabilities bool
}

// register adds --format, --output, --kind and --sbom-vulnerabilities.
func (o *outputFlags) register(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringArrayVarP(&o.formats, "format", "f", nil, "report format: "+strings.Join(formatNames, ", ")+" (default table); repeat with --output to write several")
	f.StringArrayVarP(&o.paths, "output", "o", nil, "write the report to `FILE` instead of stdout; one per --format, in order")
	f.StringVar(&o.kind, "kind", "findings", "findings, or full: every rule checked with its result (table, html, pdf)")
	f.BoolVar(&o.sbomVulnerabilities, "sbom-vulnerabilities", false, "cyclonedx: list the vulnerability findings in the SBOM too")
	cmd.RegisterFlagCompletionFunc("format", fixedCompletion(formatNames...))
	cmd.RegisterFlagCompletionFunc("kind", fixedCompletion("findings", "full"))
}

// resolve checks the flags and pairs formats with paths (see outputs). A
// binary format bound for stdout is refused when stdout is a terminal.
func (o *outputFlags) resolve(stdout io.Writer) ([]output, error) {
	if o.kind != "findings" && o.kind != "full" {
		return nil, usageErrorf("--kind %q: want findings or full", o.kind)
	}
	outs, err := outputs(o.formats, o.paths)
	if err != nil {
		return nil, err
	}
	if o.sbomVulnerabilities && !slices.ContainsFunc(outs, func(x output) bool { return x.format == "cyclonedx" }) {
		return nil, usageErrorf("--sbom-vulnerabilities applies to --format cyclonedx, which is not among the formats asked for")
	}
	for _, x := range outs {
		if x.path == "-" && slices.Contains(binaryFormats, x.format) && isTerminal(stdout) {
			return nil, usageErrorf("--format %s is binary and stdout is a terminal: give --output FILE (or pipe it)", x.format)
		}
	}
	return outs, nil
}

// options returns the renderer options the flags set.
func (o *outputFlags) options() renderOptions {
	return renderOptions{full: o.kind == "full", sbomVulnerabilities: o.sbomVulnerabilities}
}

// output is one report to write: a format and where.
type output struct {
	format, path string
}

// outputs pairs --format and --output flags, in order: -f json -o r.json
// -f sarif -o r.sarif writes both. With no --format the table is written;
// with one format and no --output it goes to stdout. At most one report
// goes to stdout.
func outputs(formats, paths []string) ([]output, error) {
	if len(formats) == 0 {
		formats = []string{"table"}
	}
	for _, f := range formats {
		if err := checkFormat(f); err != nil {
			return nil, err
		}
	}
	switch {
	case len(paths) == 0 && len(formats) == 1:
		paths = []string{"-"}
	case len(paths) != len(formats):
		return nil, usageErrorf("--format given %d time(s) and --output %d time(s): give one --output for each --format, in the same order (-o - is stdout)", len(formats), len(paths))
	}
	var out []output
	stdout := 0
	for i, f := range formats {
		p := paths[i]
		if p == "" || p == "-" {
			p = "-"
			stdout++
		}
		out = append(out, output{format: f, path: p})
	}
	if stdout > 1 {
		return nil, usageErrorf("%d formats would go to stdout: give each but one an --output FILE", stdout)
	}
	return out, nil
}

// checkFormat accepts a known format.
func checkFormat(f string) error {
	if _, ok := renderers[f]; ok {
		return nil
	}
	return usageErrorf("--format %q: unknown format (want %s)", f, strings.Join(formatNames, ", "))
}

// writeReports renders r once per output, with opts. Colour and width
// follow each destination (a terminal, or a file).
func (a *app) writeReports(r *report.Report, outs []output, color string, opts renderOptions) error {
	for _, o := range outs {
		useColor, err := colorWanted(color, pathOrEmpty(o.path), a.stdout)
		if err != nil {
			return err
		}
		opts.color = useColor && o.format == "table"
		opts.width = terminalWidth(pathOrEmpty(o.path), a.stdout)
		if err := a.writeOutput(pathOrEmpty(o.path), func(w io.Writer) error { return renderers[o.format](w, r, opts) }); err != nil {
			return fmt.Errorf("%s report: %w", o.format, err)
		}
	}
	return nil
}

func pathOrEmpty(p string) string {
	if p == "-" {
		return ""
	}
	return p
}

// readReport reads and checks a stored JSON report.
func (a *app) readReport(path string) (*report.Report, error) {
	b, err := a.readInput(path)
	if err != nil {
		return nil, err
	}
	r, err := report.Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: not a valid Kensa report: %w", path, err)
	}
	return r, nil
}

// maxReportBytes bounds a report read back: a 50,000-finding report is
// tens of megabytes.
const maxReportBytes = 1 << 30

// readInput reads a file, or stdin for "-", refusing more than
// maxReportBytes.
func (a *app) readInput(path string) ([]byte, error) {
	var rd io.Reader
	if path == "-" {
		rd = a.stdin
	} else {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		rd = f
	}
	b, err := io.ReadAll(io.LimitReader(rd, maxReportBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(b) > maxReportBytes {
		return nil, fmt.Errorf("read %s: larger than %d bytes", path, maxReportBytes)
	}
	return b, nil
}

// loadSuppressions reads the suppression file: --ignore-file, else
// .kensa-ignore.yaml in the working directory when there is one. A file
// that does not load is a usage error, before any scan: a suppression
// silently not applied would report what its owner accepted, and one
// half-applied would hide what it should not.
func loadSuppressions(path string, none bool) (*suppress.File, error) {
	switch {
	case none && path != "":
		return nil, usageErrorf("--ignore-file and --no-ignore-file contradict each other")
	case none:
		return nil, nil
	case path != "":
		f, err := suppress.Load(path)
		if err != nil {
			return nil, usageErrorf("--ignore-file: %v", err)
		}
		return f, nil
	}
	f, err := suppress.LoadDefault(".")
	if err != nil {
		return nil, usageErrorf("%s: %v (--no-ignore-file to scan without it)", suppress.DefaultName, err)
	}
	return f, nil
}
