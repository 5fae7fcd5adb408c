package report

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/kensa-dev/kensa/internal/finding"
	"github.com/kensa-dev/kensa/internal/host"
)

// TableOptions controls WriteTable.
type TableOptions struct {
	// Color adds ANSI colours. Set it only when writing to a terminal that
	// wants them (not NO_COLOR, not a pipe).
	Color bool
	// Width is the terminal width in columns. The title and subject
	// columns of findings are shortened to fit it; reasons, which say why
	// something was not evaluated, are never shortened. 0 means no limit.
	Width int
}

// StaleAfter is the feed age after which the table flags a feed as stale,
// whatever the feed's own Stale flag says.
const StaleAfter = 7 * 24 * time.Hour

// WriteTable writes r for a person at a terminal: a header naming the
// host, the findings grouped by rules package and severity, then what was
// not evaluated (coverage), the collectors that failed, the feeds and their
// age, and a closing summary. It is a pure function of r.
//
// The closing verdict never says "no findings" alone: when coverage is
// incomplete it says so, and how many scopes were not evaluated.
//
// Every string from the report is sanitised before printing: a scanned
// image is hostile input, and a package name holding escape sequences must
// not drive the terminal.
func WriteTable(w io.Writer, r *Report, opt TableOptions) error {
	c := Canonical(r)
	t := &tableWriter{opt: opt}
	t.header(c)
	t.findings(c)
	t.coverage(c)
	t.collectors(c)
	t.feeds(c)
	t.summary(c)
	if _, err := w.Write(t.buf.Bytes()); err != nil {
		return fmt.Errorf("report: write table: %w", err)
	}
	return nil
}

// ANSI SGR sequences. Every colour is exactly 7 bytes and every painted
// cell ends with the same reset, so cells of a column painted in different
// colours keep the same width overhead and text/tabwriter (which counts
// bytes of escape sequences as text) still aligns them.
const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1;39m"
	ansiPlain  = "\x1b[0;39m"
	ansiRed    = "\x1b[1;31m"
	ansiYellow = "\x1b[0;33m"
	ansiWarn   = "\x1b[1;33m"
	ansiCyan   = "\x1b[0;36m"
	ansiGreen  = "\x1b[1;32m"
	ansiDim    = "\x1b[0;90m"
)

type tableWriter struct {
	opt TableOptions
	buf bytes.Buffer
}

// paint wraps s in a colour when colour is on.
func (t *tableWriter) paint(code, s string) string {
	if !t.opt.Color {
		return s
	}
	return code + s + ansiReset
}

// row writes one tabwriter row. In colour mode every cell but the last is
// painted (ansiPlain when it has no colour of its own), so that all cells
// of a column carry the same number of invisible bytes.
func (t *tableWriter) row(tw io.Writer, cells ...cell) {
	var b strings.Builder
	b.WriteString("  ")
	for i, c := range cells {
		code := c.code
		last := i == len(cells)-1
		if code == "" && !last {
			code = ansiPlain
		}
		if code != "" {
			b.WriteString(t.paint(code, c.text))
		} else {
			b.WriteString(c.text)
		}
		if !last {
			b.WriteByte('\t')
		}
	}
	b.WriteByte('\n')
	io.WriteString(tw, b.String())
}

type cell struct {
	text string
	code string // ANSI colour; "" for none
}

func plain(s string) cell { return cell{text: s} }

func headings(names ...string) []cell {
	cells := make([]cell, len(names))
	for i, n := range names {
		cells[i] = cell{text: n, code: ansiBold}
	}
	return cells
}

func (t *tableWriter) newTab() *tabwriter.Writer {
	return tabwriter.NewWriter(&t.buf, 0, 8, 2, ' ', 0)
}

func (t *tableWriter) printf(format string, args ...any) {
	fmt.Fprintf(&t.buf, format, args...)
}

func (t *tableWriter) section(title string) {
	t.printf("\n%s\n", t.paint(ansiBold, title))
}

func (t *tableWriter) header(r *Report) {
	name, version := clean(r.Tool.Name), clean(r.Tool.Version)
	if name == "" {
		name = "kensa"
	}
	title := strings.TrimSpace(name + " " + version)
	if r.Tool.Commit != "" {
		title += " (" + clean(r.Tool.Commit) + ")"
	}
	t.printf("%s\n", t.paint(ansiBold, title+": host assessment"))

	hostname := clean(r.Host.Hostname)
	if hostname == "" {
		hostname = "(no hostname)"
	}
	if id := clean(r.Host.MachineID); id != "" {
		hostname += " (machine-id " + truncate(id, 12) + ")"
	}
	t.printf("  %-7s %s\n", "Host", hostname)

	os := r.Host.OS
	osName := clean(os.PrettyName)
	if osName == "" {
		osName = strings.TrimSpace(clean(os.ID) + " " + clean(os.Release))
	}
	if osName == "" {
		osName = "unknown"
	}
	osLine := fmt.Sprintf("%s [family %s, id %s, release %s]", osName, orNone(os.Family), orNone(os.ID), orNone(os.Release))
	switch {
	case os.EOLReached:
		osLine += ", " + t.paint(ansiRed, "END OF LIFE since "+clean(os.EOL)+": no more security updates")
	case os.EOL != "":
		osLine += ", supported until " + clean(os.EOL)
	}
	t.printf("  %-7s %s\n", "OS", osLine)

	kernel := clean(r.Host.Kernel)
	if kernel == "" {
		kernel = "unknown (not available)"
	}
	t.printf("  %-7s %s\n", "Kernel", kernel)

	root := clean(r.Host.Root)
	if r.Host.Live {
		root += " (live system)"
	} else {
		root += " (image: not the running system)"
	}
	t.printf("  %-7s %s\n", "Root", root)

	end := formatTime(r.FinishedAt)
	if !r.StartedAt.IsZero() && r.StartedAt.UTC().Format(time.DateOnly) == r.FinishedAt.UTC().Format(time.DateOnly) {
		end = r.FinishedAt.UTC().Format("15:04:05 UTC")
	}
	t.printf("  %-7s %s to %s (%s)\n", "Time", formatTime(r.StartedAt), end, formatDuration(r.FinishedAt.Sub(r.StartedAt)))
}

func orNone(s string) string {
	if s = clean(s); s == "" {
		return "-"
	}
	return s
}

func (t *tableWriter) findings(r *Report) {
	if len(r.Findings) == 0 {
		return
	}
	t.section(fmt.Sprintf("FINDINGS (%d)", len(r.Findings)))
	for _, pkg := range packagesOf(r) {
		var group []finding.Finding
		for _, f := range r.Findings {
			if f.RulesPackage == pkg {
				group = append(group, f)
			}
		}
		if len(group) == 0 {
			continue
		}
		t.printf("\n%s: %s\n", t.paint(ansiBold, clean(pkg)), countLine(group))
		t.findingTable(group)
	}
}

// packagesOf lists the known rules packages, then any unknown one that a
// finding or coverage entry names, so nothing is dropped from the table.
func packagesOf(r *Report) []string {
	pkgs := finding.Packages()
	known := map[string]bool{}
	for _, p := range pkgs {
		known[p] = true
	}
	add := func(p string) {
		if !known[p] {
			known[p] = true
			pkgs = append(pkgs, p)
		}
	}
	for _, f := range r.Findings {
		add(f.RulesPackage)
	}
	for _, c := range r.Coverage {
		add(c.Package)
	}
	return pkgs
}

// countLine says "3 findings (1 high, 2 medium)".
func countLine(fs []finding.Finding) string {
	counts := map[finding.Severity]int{}
	for _, f := range fs {
		counts[f.Severity]++
	}
	var parts []string
	for _, s := range finding.Severities() {
		if counts[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[s], s))
		}
	}
	return fmt.Sprintf("%s (%s)", plural(len(fs), "finding", "findings"), strings.Join(parts, ", "))
}

func (t *tableWriter) findingTable(fs []finding.Finding) {
	type line struct{ sev, rule, title, subject string }
	lines := make([]line, len(fs))
	sevW, ruleW, titleW, subjW := len("SEVERITY"), len("RULE"), len("TITLE"), len("SUBJECT")
	for i, f := range fs {
		l := line{
			sev:     strings.ToUpper(clean(string(f.Severity))),
			rule:    clean(ruleLabel(f)),
			title:   clean(f.Title),
			subject: clean(subject(f)),
		}
		lines[i] = l
		sevW = max(sevW, runeLen(l.sev))
		ruleW = max(ruleW, runeLen(l.rule))
		titleW = max(titleW, runeLen(l.title))
		subjW = max(subjW, runeLen(l.subject))
	}
	if t.opt.Width > 0 {
		const maxRule = 32
		ruleW = min(ruleW, maxRule)
		// two of indent, two of padding after each of three columns
		room := max(t.opt.Width-2-sevW-2-ruleW-2-2, 24)
		if titleW+subjW > room {
			half := room / 2
			switch {
			case titleW <= half:
				subjW = room - titleW
			case subjW <= half:
				titleW = room - subjW
			default:
				titleW, subjW = half, room-half
			}
		}
		for i := range lines {
			lines[i].rule = truncate(lines[i].rule, ruleW)
			lines[i].title = truncate(lines[i].title, titleW)
			lines[i].subject = truncate(lines[i].subject, subjW)
		}
	}
	tw := t.newTab()
	t.row(tw, headings("SEVERITY", "RULE", "TITLE", "SUBJECT")...)
	for i, f := range fs {
		l := lines[i]
		t.row(tw, cell{l.sev, severityColour(f.Severity)}, plain(l.rule), plain(l.title), plain(l.subject))
	}
	tw.Flush()
}

func severityColour(s finding.Severity) string {
	switch s {
	case finding.High:
		return ansiRed
	case finding.Medium:
		return ansiYellow
	case finding.Low:
		return ansiCyan
	}
	return ansiDim
}

// ruleLabel is what the RULE column shows: the vulnerability id for CVE
// findings (what a reader searches for), the rule id otherwise.
func ruleLabel(f finding.Finding) string {
	if f.RulesPackage == finding.PackageCVE {
		if v := f.Attributes["vulnerability_id"]; v != "" {
			return v
		}
	}
	return f.RuleID
}

// subject is the short "what" of a finding: the package and versions of a
// CVE finding, else its "target" attribute and first evidence line (only
// the evidence when it names the target already).
func subject(f finding.Finding) string {
	a := f.Attributes
	if name := a["package_name"]; name != "" {
		s := name
		if v := a["package_version"]; v != "" {
			s += " " + v
		}
		if fixed := a["fixed_version"]; fixed != "" {
			s += ", fixed in " + fixed
		} else if f.RulesPackage == finding.PackageCVE {
			s += ", no fixed version"
		}
		return s
	}
	target, evidence := a["target"], ""
	if len(f.Evidence) > 0 {
		evidence = f.Evidence[0]
	}
	switch {
	case target == "":
		return evidence
	case evidence == "":
		return target
	case strings.Contains(evidence, target):
		return evidence
	default:
		return target + ": " + evidence
	}
}

// gaps returns the coverage entries that are not evaluated.
func gaps(r *Report) []Coverage {
	var out []Coverage
	for _, c := range r.Coverage {
		if c.Status != Evaluated {
			out = append(out, c)
		}
	}
	return out
}

func (t *tableWriter) coverage(r *Report) {
	missing := gaps(r)
	var evaluated []string
	for _, c := range r.Coverage {
		if c.Status == Evaluated {
			evaluated = append(evaluated, clean(c.Package)+"/"+clean(c.Scope))
		}
	}
	switch {
	case len(r.Coverage) == 0:
		t.section("COVERAGE: nothing was evaluated (the report has no coverage entries)")
	case len(missing) == 0:
		t.section(fmt.Sprintf("COVERAGE: all %s evaluated", plural(len(evaluated), "scope", "scopes")))
		t.printf("  %s\n", strings.Join(evaluated, ", "))
	default:
		t.section(fmt.Sprintf("COVERAGE: %d of %s not fully evaluated", len(missing), plural(len(r.Coverage), "scope", "scopes")))
		tw := t.newTab()
		t.row(tw, headings("PACKAGE", "SCOPE", "STATUS", "REASON")...)
		for _, c := range missing {
			code := ansiYellow
			if c.Status == NotEvaluated {
				code = ansiRed
			}
			reason := clean(c.Reason)
			if reason == "" {
				reason = "(no reason given)"
			}
			t.row(tw, plain(clean(c.Package)), plain(clean(c.Scope)), cell{clean(c.Status), code}, plain(reason))
		}
		tw.Flush()
		if len(evaluated) > 0 {
			t.printf("  Evaluated: %s\n", strings.Join(evaluated, ", "))
		} else {
			t.printf("  Evaluated: nothing\n")
		}
	}
	if notRun := r.Summary.NotRun; len(notRun) > 0 {
		t.printf("  Not run (not requested, so not evaluated): %s\n", clean(strings.Join(notRun, ", ")))
	}
}

func (t *tableWriter) collectors(r *Report) {
	if len(r.Collectors) == 0 {
		t.section("COLLECTORS: none recorded")
		return
	}
	counts := map[string]int{}
	var bad []host.CollectorRun
	for _, c := range r.Collectors {
		counts[c.Status]++
		if c.Status == host.StatusFailed || c.Status == host.StatusPartial {
			bad = append(bad, c)
		}
	}
	var parts []string
	for _, s := range []string{host.StatusOK, host.StatusPartial, host.StatusFailed, host.StatusSkipped} {
		if counts[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[s], s))
		}
	}
	t.section(fmt.Sprintf("COLLECTORS: %d run: %s", len(r.Collectors), strings.Join(parts, ", ")))
	if len(bad) == 0 {
		return
	}
	tw := t.newTab()
	for _, c := range bad {
		code := ansiYellow
		if c.Status == host.StatusFailed {
			code = ansiRed
		}
		t.row(tw, plain(clean(c.Name)), cell{clean(c.Status), code}, plain(collectorReason(c)))
	}
	tw.Flush()
}

func collectorReason(c host.CollectorRun) string {
	n := max(c.ErrorCount, len(c.Errors))
	var parts []string
	if c.Reason != "" {
		parts = append(parts, clean(c.Reason))
	}
	if n > 0 {
		s := plural(n, "error", "errors")
		if len(c.Errors) > 0 {
			s += ", first: " + clean(c.Errors[0])
		}
		parts = append(parts, s)
	}
	if len(parts) == 0 {
		return "(no reason given)"
	}
	return strings.Join(parts, "; ")
}

func (t *tableWriter) feeds(r *Report) {
	if len(r.Feeds) == 0 {
		t.section("FEEDS: none used")
		return
	}
	t.section("FEEDS")
	tw := t.newTab()
	t.row(tw, headings("NAME", "RECORDS", "UPDATED", "AGE")...)
	for _, f := range r.Feeds {
		age := time.Duration(f.AgeHours * float64(time.Hour))
		ageCell := cell{text: formatAge(age)}
		if f.Stale || age > StaleAfter {
			ageCell = cell{formatAge(age) + ", STALE: older than 7 days, update the feed", ansiWarn}
		}
		t.row(tw, plain(clean(f.Name)), plain(fmt.Sprint(f.Records)), plain(formatTime(f.UpdatedAt)), ageCell)
	}
	tw.Flush()
}

func (t *tableWriter) summary(r *Report) {
	s := r.Summary
	var parts []string
	for _, sev := range finding.Severities() {
		n := fmt.Sprintf("%d %s", s.BySeverity[string(sev)], sev)
		if s.BySeverity[string(sev)] > 0 {
			n = t.paint(severityColour(sev), n)
		}
		parts = append(parts, n)
	}
	t.section("SUMMARY")
	t.printf("  %s: %s\n", plural(s.Findings, "finding", "findings"), strings.Join(parts, ", "))

	missing := gaps(r)
	var badCollectors int
	for _, c := range r.Collectors {
		if c.Status == host.StatusFailed || c.Status == host.StatusPartial {
			badCollectors++
		}
	}
	notRun := ""
	if len(s.NotRun) > 0 {
		notRun = " Rules packages not run: " + clean(strings.Join(s.NotRun, ", ")) + "."
	}
	var verdict, code string
	switch {
	case len(r.Coverage) == 0 && len(r.Findings) == 0:
		verdict, code = "No findings, but the assessment is incomplete: nothing was evaluated (the report has no coverage).", ansiWarn
	case len(r.Coverage) == 0:
		verdict, code = "The assessment is incomplete: the report has no coverage; there may be more findings than shown.", ansiWarn
	case len(missing) > 0 && len(r.Findings) == 0:
		verdict, code = "No findings, but the assessment is incomplete: "+gapPhrase(missing)+" (see COVERAGE)."+notRun, ansiWarn
	case len(missing) > 0:
		verdict, code = "The assessment is incomplete: "+gapPhrase(missing)+"; there may be more findings than shown (see COVERAGE)."+notRun, ansiWarn
	case len(r.Findings) == 0 && notRun == "":
		verdict, code = "No findings. Every rules package and scope was evaluated.", ansiGreen
	case len(r.Findings) == 0:
		verdict, code = "No findings. Every scope of the rules packages run was evaluated."+notRun, ansiGreen
	case notRun == "":
		verdict, code = "Every rules package and scope was evaluated.", ansiBold
	default:
		verdict, code = "Every scope of the rules packages run was evaluated."+notRun, ansiBold
	}
	t.printf("  %s\n", t.paint(code, verdict))
	if badCollectors > 0 {
		t.printf("  %s\n", t.paint(ansiWarn, fmt.Sprintf("%s failed or only partly ran: some facts may be missing (see COLLECTORS).", plural(badCollectors, "collector", "collectors"))))
	}
}

// gapPhrase says "2 scopes were not evaluated and 1 was only partially
// evaluated".
func gapPhrase(missing []Coverage) string {
	var ne, pe int
	for _, c := range missing {
		if c.Status == Partial {
			pe++
		} else {
			ne++
		}
	}
	was := func(n int) string {
		if n == 1 {
			return "was"
		}
		return "were"
	}
	switch {
	case ne > 0 && pe > 0:
		return fmt.Sprintf("%s %s not evaluated and %d %s only partially evaluated", plural(ne, "scope", "scopes"), was(ne), pe, was(pe))
	case ne > 0:
		return fmt.Sprintf("%s %s not evaluated", plural(ne, "scope", "scopes"), was(ne))
	default:
		return fmt.Sprintf("%s %s only partially evaluated", plural(pe, "scope", "scopes"), was(pe))
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return "unknown"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

func formatDuration(d time.Duration) string {
	switch {
	case d < 0:
		return "negative duration"
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	default:
		return d.Round(time.Second).String()
	}
}

// formatAge says how old a feed is, coarsely: "40m", "26h", "9d".
func formatAge(d time.Duration) string {
	switch {
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d/time.Hour))
	default:
		return fmt.Sprintf("%dd", int(d/(24*time.Hour)))
	}
}

// clean makes s safe and single-line for a terminal: control characters
// (escape sequences, tabs, newlines), bidirectional overrides and invalid
// UTF-8 become visible replacements.
func clean(s string) string {
	ok := true
	for _, r := range s {
		if r == utf8.RuneError || unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) {
			ok = false
			break
		}
	}
	if ok {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			b.WriteByte(' ')
		case r == utf8.RuneError || unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r):
			b.WriteRune('\uFFFD')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func runeLen(s string) int { return utf8.RuneCountInString(s) }

// truncate shortens s to n runes, marking the cut with "…".
func truncate(s string, n int) string {
	if n <= 0 || runeLen(s) <= n {
		return s
	}
	rs := []rune(s)
	return string(rs[:n-1]) + "…"
}
