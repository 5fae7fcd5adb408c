package report

import (
	"bytes"
	"cmp"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/kensa-dev/kensa/internal/finding"
	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/observe"
)

// TableOptions controls WriteTable.
type TableOptions struct {
	// Color adds ANSI colours. Set it only when writing to a terminal that
	// wants them (not NO_COLOR, not a pipe).
	Color bool
	// Width is the terminal width in columns; 0 means no limit. With a
	// width, every line fits in it, down to about 60 columns (narrower,
	// columns stop shrinking at a floor and lines overflow): the rule,
	// title and subject of findings, and long names, are shortened with
	// "…" (the JSON has them whole); reasons, scope lists and other free
	// text are wrapped onto more lines, never shortened.
	Width int
	// ShowPassed adds the RESULTS section: every rule evaluated, with pass,
	// fail, not applicable or error, and its reason (the "full report").
	ShowPassed bool
}

// StaleAfter is the feed age after which the table flags a feed as stale,
// whatever the feed's own Stale flag says.
const StaleAfter = 7 * 24 * time.Hour

// maxLimitsShown is how many discovery limits the table lists; the rest
// are counted.
const maxLimitsShown = 5

// WriteTable writes r for a person at a terminal: a header naming the
// host, the findings grouped by rules package and severity, then what was
// not evaluated (coverage), what was found (inventory), the collectors
// that failed, where discovery looked and the limits it hit, the feeds
// and their age, and a closing summary. It is a pure function of r.
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
	t.suppressed(c)
	if opt.ShowPassed {
		t.results(c)
	}
	t.coverage(c)
	t.observation(c)
	t.inventory(c)
	t.collectors(c)
	t.discovery(c)
	t.feeds(c)
	t.summary(c)
	if _, err := w.Write(t.buf.Bytes()); err != nil {
		return fmt.Errorf("report: write table: %w", err)
	}
	return nil
}

// ANSI SGR sequences. Every painted text ends with ansiReset; padding and
// the spaces between words of different colours stay outside, so removing
// the sequences gives the uncoloured table exactly.
const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1;39m"
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

// cell is a piece of text in one colour.
type cell struct {
	text string
	code string // ANSI colour; "" for none
}

func plain(s string) cell { return cell{text: s} }

// paint wraps s in a colour when colour is on.
func (t *tableWriter) paint(code, s string) string {
	if !t.opt.Color || code == "" || s == "" {
		return s
	}
	return code + s + ansiReset
}

func (t *tableWriter) printf(format string, args ...any) {
	fmt.Fprintf(&t.buf, format, args...)
}

// text writes a line of free text: indent, then the cells joined by single
// spaces. With a Width it is wrapped at spaces, continuation lines
// indented by hang; a cell's words keep its colour.
func (t *tableWriter) text(indent, hang string, cells ...cell) {
	cells = slices.DeleteFunc(slices.Clone(cells), func(c cell) bool { return c.text == "" })
	lines := [][]cell{cells}
	if t.opt.Width > 0 {
		lines = wrapCells(cells, t.opt.Width-runeLen(indent), t.opt.Width-runeLen(hang))
	}
	for i, line := range lines {
		prefix := indent
		if i > 0 {
			prefix = hang
		}
		parts := make([]string, len(line))
		for j, c := range line {
			parts[j] = t.paint(c.code, c.text)
		}
		t.buf.WriteString(strings.TrimRight(prefix+strings.Join(parts, " "), " ") + "\n")
	}
}

// field writes one labelled line of the header.
func (t *tableWriter) field(label string, cells ...cell) {
	t.text(fmt.Sprintf("  %-7s ", label), strings.Repeat(" ", 10), cells...)
}

func (t *tableWriter) section(title string) {
	t.buf.WriteByte('\n')
	t.text("", "  ", cell{title, ansiBold})
}

// fit says how a column gives way when a table is wider than
// TableOptions.Width.
type fit int

const (
	// fitKeep: never shortened (short, closed values: a severity, a status).
	fitKeep fit = iota
	// fitCut: truncated with "…" (summaries the JSON holds whole).
	fitCut
	// fitWrap: wrapped onto more lines (reasons, lists: never cut).
	fitWrap
)

// column is one column of a table.
type column struct {
	head string // "" for a table without headings
	fit  fit
	// min is the width a cut or wrapped column never shrinks below.
	min int
}

// table writes rows in aligned columns, two spaces apart, indented by two.
// Cells are cleaned by the caller. With a Width, the columns that may give
// way shrink, widest first, until the table fits; see fitColumns.
func (t *tableWriter) table(cols []column, rows [][]cell) {
	all := rows
	if cols[0].head != "" {
		heads := make([]cell, len(cols))
		for i, c := range cols {
			heads[i] = cell{c.head, ansiBold}
		}
		all = append([][]cell{heads}, rows...)
	}
	width := make([]int, len(cols))
	for _, row := range all {
		for i := range row {
			row[i].text = strings.TrimSpace(row[i].text)
			width[i] = max(width[i], runeLen(row[i].text))
		}
	}
	if t.opt.Width > 0 {
		fitColumns(width, cols, t.opt.Width-2)
	}
	for _, row := range all {
		lines := make([][]string, len(cols))
		height := 1
		for i, c := range row {
			switch {
			case runeLen(c.text) <= width[i]:
				lines[i] = []string{c.text}
			case cols[i].fit == fitCut:
				lines[i] = []string{truncate(c.text, width[i])}
			case cols[i].fit == fitWrap:
				lines[i] = wrap(c.text, width[i])
			default:
				lines[i] = []string{c.text}
			}
			height = max(height, len(lines[i]))
		}
		for k := range height {
			var b strings.Builder
			b.WriteString("  ")
			for i := range cols {
				s := ""
				if k < len(lines[i]) {
					s = lines[i][k]
				}
				b.WriteString(t.paint(row[i].code, s))
				if i < len(cols)-1 {
					b.WriteString(strings.Repeat(" ", max(width[i]-runeLen(s), 0)+2))
				}
			}
			t.buf.WriteString(strings.TrimRight(b.String(), " ") + "\n")
		}
	}
}

// fitColumns narrows the widths of the columns that may give way so that
// the table fits in room columns: they are capped at a common level, the
// highest that fits (so the widest give way first and none shrinks below
// its min), and the columns left over are shared out from the left. When
// even the minimums do not fit, every such column is at its minimum and
// the table overflows.
func fitColumns(width []int, cols []column, room int) {
	room -= 2 * (len(cols) - 1)
	widest := 0
	for i, c := range cols {
		if c.fit == fitKeep {
			room -= width[i]
		} else {
			widest = max(widest, width[i])
		}
	}
	at := func(i, level int) int { return min(width[i], max(level, cols[i].min)) }
	used := func(level int) int {
		n := 0
		for i, c := range cols {
			if c.fit != fitKeep {
				n += at(i, level)
			}
		}
		return n
	}
	if used(widest) <= room {
		return
	}
	level := max(sort.Search(widest+1, func(l int) bool { return used(l) > room })-1, 0)
	spare := room - used(level)
	for i, c := range cols {
		if c.fit == fitKeep {
			continue
		}
		w := at(i, level)
		if spare > 0 && at(i, level+1) > w {
			w++
			spare--
		}
		width[i] = w
	}
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
	t.text("", "  ", cell{title + ": host assessment", ansiBold})

	hostname := clean(r.Host.Hostname)
	if hostname == "" {
		hostname = "(no hostname)"
	}
	if id := clean(r.Host.MachineID); id != "" {
		hostname += " (machine-id " + truncate(id, 12) + ")"
	}
	t.field("Host", plain(hostname))

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
		t.field("OS", plain(osLine+","), cell{"END OF LIFE since " + clean(os.EOL) + cmp.Or(eolNote(os.EOLNote), ": no more security updates"), ansiRed})
	case os.EOL != "":
		t.field("OS", plain(osLine+", supported until "+clean(os.EOL)+eolNote(os.EOLNote)))
	default:
		t.field("OS", plain(osLine))
	}

	kernel := clean(r.Host.Kernel)
	if kernel == "" {
		kernel = "unknown (not available)"
	}
	t.field("Kernel", plain(kernel))

	root := clean(r.Host.Root)
	if r.Host.Live {
		root += " (live system)"
	} else {
		root += " (image: not the running system)"
	}
	t.field("Root", plain(root))

	end := FormatTime(r.FinishedAt)
	if !r.StartedAt.IsZero() && r.StartedAt.UTC().Format(time.DateOnly) == r.FinishedAt.UTC().Format(time.DateOnly) {
		end = r.FinishedAt.UTC().Format("15:04:05 UTC")
	}
	t.field("Time", plain(fmt.Sprintf("%s to %s (%s)", FormatTime(r.StartedAt), end, FormatDuration(r.FinishedAt.Sub(r.StartedAt)))))

	if tl := r.Tailoring; tl != nil {
		name := clean(tl.File)
		if title := clean(tl.Title); title != "" {
			name = title + " (" + name + ")"
		}
		t.field("Profile", cell{fmt.Sprintf("%s, sha256 %s, %d change(s): %s", name, truncate(clean(tl.SHA256), 12), len(tl.Changes), clean(strings.Join(tl.Changes, "; "))), ansiWarn})
	}
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
	for _, pkg := range RulesPackages(r) {
		var group []finding.Finding
		for _, f := range r.Findings {
			if f.RulesPackage == pkg {
				group = append(group, f)
			}
		}
		if len(group) == 0 {
			continue
		}
		t.buf.WriteByte('\n')
		t.text("", "  ", cell{clean(pkg) + ":", ansiBold}, plain(countLine(group)))
		t.findingTable(group)
	}
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
	cols := []column{
		{head: "SEVERITY", fit: fitKeep},
		{head: "RULE", fit: fitCut, min: 12},
		{head: "TITLE", fit: fitCut, min: 12},
		{head: "SUBJECT", fit: fitCut, min: 12},
	}
	rows := make([][]cell, len(fs))
	for i, f := range fs {
		rows[i] = []cell{
			{strings.ToUpper(clean(string(f.Severity))), severityColour(f.Severity)},
			plain(clean(ruleLabel(f))),
			plain(clean(f.Title)),
			plain(clean(Subject(f))),
		}
	}
	t.table(cols, rows)
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

// Subject is the short "what" of a finding, as the table and the other
// renderers show it: the package and versions of a CVE finding, else its
// "target" attribute and first evidence line (only the evidence when it
// names the target already). It is raw report text: sanitise it to show.
func Subject(f finding.Finding) string {
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

// coverageRows returns the rows of the COVERAGE table: the gaps of r, one
// row each, except for a package that did not run at all for one reason:
// its "*" entry and every one of its scopes are not_evaluated, the scopes
// all for the same reason, which the "*" entry's reason says too (the "not
// implemented yet" case). Such a package is one row, its scope column
// listing its scopes: "* (Debian:12, Go, PyPI)". Wherever the reasons
// differ, every entry keeps its own row. Texts are cleaned.
func coverageRows(r *Report) []Coverage {
	byPkg := map[string][]Coverage{}
	for _, c := range r.Coverage {
		byPkg[c.Package] = append(byPkg[c.Package], c)
	}
	collapsed := map[string]bool{}
	var out []Coverage
	for _, c := range gaps(r) {
		if collapsed[c.Package] {
			continue
		}
		if c.Scope == "*" {
			if row, ok := collapse(c, byPkg[c.Package]); ok {
				collapsed[c.Package] = true
				out = append(out, row)
				continue
			}
		}
		out = append(out, Coverage{Package: clean(c.Package), Scope: clean(c.Scope), Status: clean(c.Status), Reason: clean(c.Reason)})
	}
	return out
}

// collapse returns the one row that stands for star, the "*" entry of a
// package, and all the entries of that package, when coverageRows may
// collapse them.
func collapse(star Coverage, entries []Coverage) (Coverage, bool) {
	if star.Status != NotEvaluated {
		return Coverage{}, false
	}
	var scopes []string
	reason, first := "", true
	for _, c := range entries {
		if c.Scope == "*" {
			continue
		}
		if c.Status != NotEvaluated || (!first && c.Reason != reason) {
			return Coverage{}, false
		}
		reason, first = c.Reason, false
		scopes = append(scopes, clean(c.Scope))
	}
	if len(scopes) == 0 || !strings.Contains(star.Reason, reason) {
		return Coverage{}, false
	}
	return Coverage{
		Package: clean(star.Package),
		Scope:   "* (" + strings.Join(scopes, ", ") + ")",
		Status:  NotEvaluated,
		Reason:  clean(star.Reason),
	}, true
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
		t.text("  ", "    ", plain(strings.Join(evaluated, ", ")))
	default:
		t.section(fmt.Sprintf("COVERAGE: %d of %s not fully evaluated", len(missing), plural(len(r.Coverage), "scope", "scopes")))
		cols := []column{
			{head: "PACKAGE", fit: fitCut, min: 14},
			{head: "SCOPE", fit: fitWrap, min: 8},
			{head: "STATUS", fit: fitKeep},
			{head: "REASON", fit: fitWrap, min: 16},
		}
		var rows [][]cell
		for _, c := range coverageRows(r) {
			code := ansiYellow
			if c.Status == NotEvaluated {
				code = ansiRed
			}
			reason := c.Reason
			if reason == "" {
				reason = "(no reason given)"
			}
			rows = append(rows, []cell{plain(c.Package), plain(c.Scope), {c.Status, code}, plain(reason)})
		}
		t.table(cols, rows)
		if len(evaluated) > 0 {
			t.text("  ", "    ", plain("Evaluated: "+strings.Join(evaluated, ", ")))
		} else {
			t.text("  ", "    ", plain("Evaluated: nothing"))
		}
	}
	if notRun := r.Summary.NotRun; len(notRun) > 0 {
		t.text("  ", "    ", plain("Not run (not requested, so not evaluated): "+clean(strings.Join(notRun, ", "))))
	}
}

// inventory writes what was found: "715 dpkg packages; 1007 components
// outside the package manager (Go 656, PyPI 135); 24 users".
func (t *tableWriter) inventory(r *Report) {
	inv := r.Inventory
	if inv == nil {
		return
	}
	var pkgs []string
	for _, m := range orderedKeys(inv.Packages, "dpkg", "rpm", "apk") {
		pkgs = append(pkgs, fmt.Sprintf("%d %s %s", inv.Packages[m], clean(m), pluralWord(inv.Packages[m], "package", "packages")))
	}
	pkgLine := "no OS packages"
	if len(pkgs) > 0 {
		pkgLine = strings.Join(pkgs, ", ")
	}
	total := 0
	var ecos []string
	for _, e := range orderedKeys(inv.Software, "Go", "PyPI", "npm", "Maven") {
		total += inv.Software[e]
		ecos = append(ecos, fmt.Sprintf("%s %d", clean(e), inv.Software[e]))
	}
	softLine := "no components outside the package manager"
	if r.Discovery == nil {
		// The search did not run: a configuration-only scan does not need it.
		softLine = "software outside the package manager not searched"
	}
	if total > 0 {
		softLine = fmt.Sprintf("%s outside the package manager (%s)", plural(total, "component", "components"), strings.Join(ecos, ", "))
	}
	t.section("INVENTORY")
	t.text("  ", "    ", plain(pkgLine+"; "+softLine+"; "+plural(inv.Users, "user", "users")))
}

// orderedKeys lists the keys of m: first those of order that m holds, then
// the others in natural order.
func orderedKeys(m map[string]int, order ...string) []string {
	var out []string
	for _, k := range order {
		if _, ok := m[k]; ok {
			out = append(out, k)
		}
	}
	for _, k := range slices.SortedFunc(maps.Keys(m), compareNatural) {
		if !slices.Contains(order, k) {
			out = append(out, k)
		}
	}
	return out
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
	cols := []column{{fit: fitCut, min: 12}, {fit: fitKeep}, {fit: fitWrap, min: 16}}
	var rows [][]cell
	for _, c := range bad {
		code := ansiYellow
		if c.Status == host.StatusFailed {
			code = ansiRed
		}
		rows = append(rows, []cell{plain(clean(c.Name)), {clean(c.Status), code}, plain(collectorReason(c))})
	}
	t.table(cols, rows)
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

// discovery writes where the search for software outside the package
// manager looked, how much it skipped, and the first limits it hit.
func (t *tableWriter) discovery(r *Report) {
	d := r.Discovery
	if d == nil {
		return
	}
	limits := "no limit hit"
	if n := len(d.LimitsHit); n > 0 {
		limits = plural(n, "limit", "limits") + " hit:"
	}
	skipped := len(d.Skipped)
	for _, s := range d.Skipped {
		// The last record counts the paths skipped but not listed:
		// "50 more paths skipped (not listed)".
		var more int
		if _, err := fmt.Sscanf(s.Reason, "%d more", &more); s.Path == "" && err == nil {
			skipped += more - 1
		}
	}
	t.section(fmt.Sprintf("DISCOVERY: %s searched, %s visited, %s skipped, %s",
		plural(len(d.Roots), "root", "roots"), plural(d.FilesVisited, "file", "files"),
		plural(skipped, "path", "paths"), limits))
	for i, l := range d.LimitsHit {
		if i == maxLimitsShown {
			t.text("  ", "    ", plain(fmt.Sprintf("and %d more (see the JSON report)", len(d.LimitsHit)-maxLimitsShown)))
			break
		}
		t.text("  ", "    ", cell{limitLine(l), ansiWarn})
	}
}

// limitLine says "max_depth=40 at /usr/lib/node_modules/a".
func limitLine(l host.LimitHit) string {
	s := clean(l.Limit)
	if l.Value != 0 {
		s += fmt.Sprintf("=%d", l.Value)
	}
	if l.Path != "" {
		s += " at " + clean(l.Path)
	}
	return s
}

func (t *tableWriter) feeds(r *Report) {
	if len(r.Feeds) == 0 {
		t.section("FEEDS: none used")
		return
	}
	t.section("FEEDS")
	cols := []column{
		{head: "NAME", fit: fitCut, min: 10},
		{head: "RECORDS", fit: fitKeep},
		{head: "UPDATED", fit: fitKeep},
		{head: "AGE", fit: fitWrap, min: 10},
	}
	var rows [][]cell
	for _, f := range r.Feeds {
		age := time.Duration(f.AgeHours * float64(time.Hour))
		ageCell := plain(FormatAge(age))
		if f.Stale || age > StaleAfter {
			ageCell = cell{FormatAge(age) + ", STALE: older than 7 days, update the feed", ansiWarn}
		}
		rows = append(rows, []cell{plain(clean(f.Name)), plain(fmt.Sprint(f.Records)), plain(FormatTime(f.UpdatedAt)), ageCell})
	}
	t.table(cols, rows)
}

func (t *tableWriter) summary(r *Report) {
	s := r.Summary
	cells := []cell{plain(plural(s.Findings, "finding", "findings") + ":")}
	for i, sev := range finding.Severities() {
		n := s.BySeverity[string(sev)]
		c := plain(fmt.Sprintf("%d %s", n, sev))
		if n > 0 {
			c.code = severityColour(sev)
		}
		if i < len(finding.Severities())-1 {
			c.text += ","
		}
		cells = append(cells, c)
	}
	if s.Suppressed > 0 {
		cells[len(cells)-1].text += ";"
		cells = append(cells, cell{fmt.Sprintf("%d suppressed (see SUPPRESSED)", s.Suppressed), ansiDim})
	}
	t.section("SUMMARY")
	t.text("  ", "    ", cells...)

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
		verdict, code = "No findings, but the assessment is incomplete: "+GapPhrase(missing)+" (see COVERAGE)."+notRun, ansiWarn
	case len(missing) > 0:
		verdict, code = "The assessment is incomplete: "+GapPhrase(missing)+"; there may be more findings than shown (see COVERAGE)."+notRun, ansiWarn
	case len(r.Findings) == 0 && notRun == "":
		verdict, code = "No findings. Every rules package and scope was evaluated.", ansiGreen
	case len(r.Findings) == 0:
		verdict, code = "No findings. Every scope of the rules packages run was evaluated."+notRun, ansiGreen
	case notRun == "":
		verdict, code = "Every rules package and scope was evaluated.", ansiBold
	default:
		verdict, code = "Every scope of the rules packages run was evaluated."+notRun, ansiBold
	}
	t.text("  ", "    ", cell{verdict, code})
	if badCollectors > 0 {
		t.text("  ", "    ", cell{plural(badCollectors, "collector", "collectors") + " failed or only partly ran: some facts may be missing (see COLLECTORS).", ansiWarn})
	}
	if d := r.Discovery; d != nil && len(d.LimitsHit) > 0 {
		t.text("  ", "    ", cell{"The search for software outside the package manager hit " + plural(len(d.LimitsHit), "limit", "limits") + ": some may be missing (see DISCOVERY).", ansiWarn})
	}
}

// GapPhrase says "2 scopes were not evaluated and 1 was only partially
// evaluated", as every renderer's verdict does.
func GapPhrase(missing []Coverage) string {
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

// plural says "1 scope" or "3 scopes".
func plural(n int, one, many string) string {
	return fmt.Sprintf("%d %s", n, pluralWord(n, one, many))
}

func pluralWord(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// FormatTime shows an instant in UTC, as every renderer does: a report
// is read in many time zones, and the JSON holds UTC.
func FormatTime(t time.Time) string {
	if t.IsZero() {
		return "unknown"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// FormatDuration shows a scan's or a window's length: milliseconds
// under a second, else seconds.
func FormatDuration(d time.Duration) string {
	switch {
	case d < 0:
		return "negative duration"
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	default:
		return d.Round(time.Second).String()
	}
}

// FormatAge says how old a feed is, coarsely: "40m", "26h", "9d".
func FormatAge(d time.Duration) string {
	switch {
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d/time.Hour))
	default:
		return fmt.Sprintf("%dd", int(d/(24*time.Hour)))
	}
}

// eolNote renders the support phase an end-of-life date refers to.
func eolNote(note string) string {
	if note == "" {
		return ""
	}
	return " (" + clean(note) + ")"
}

// results lists every rule result, grouped by rules package: what passed
// as well as what failed, was not applicable, or could not be evaluated.
func (t *tableWriter) results(r *Report) {
	if len(r.Results) == 0 {
		t.section("RESULTS: none")
		return
	}
	t.section(fmt.Sprintf("RESULTS (%d)", len(r.Results)))
	cols := []column{
		{head: "PACKAGE", fit: fitKeep},
		{head: "RULE", fit: fitCut, min: 12},
		{head: "STATUS", fit: fitKeep},
		{head: "REASON", fit: fitWrap, min: 20},
	}
	var rows [][]cell
	for _, res := range r.Results {
		code := ""
		switch res.Status {
		case finding.StatusPass:
			code = ansiGreen
		case finding.StatusFail:
			code = ansiRed
		case finding.StatusError:
			code = ansiWarn
		}
		rule := res.RuleID
		if res.Target != "" && res.RulesPackage == finding.PackageCVE {
			rule += " " + res.Target
		}
		rows = append(rows, []cell{plain(clean(res.RulesPackage)), plain(clean(rule)), {strings.ToUpper(clean(res.Status)), code}, plain(clean(res.Reason))})
	}
	t.table(cols, rows)
}

// observation describes the runtime window: which method watched, for how
// long, what it delivered and lost, and what it cannot see, so a quiet
// runtime section is read for what it is.
func (t *tableWriter) observation(r *Report) {
	o := r.Observation
	if o == nil {
		return
	}
	t.section("RUNTIME OBSERVATION")
	method := clean(string(o.Method))
	for _, f := range o.Fallbacks {
		method += fmt.Sprintf("; %s could not run: %s", clean(string(f.Method)), clean(f.Reason))
	}
	t.field("Method", plain(method))
	w := o.Window
	span := fmt.Sprintf("%s to %s (%s of %s requested)", FormatTime(w.Start), FormatTime(w.End), FormatDuration(w.End.Sub(w.Start)), FormatDuration(w.Requested))
	if w.StoppedEarly {
		t.field("Window", plain(span+";"), cell{"ended early (Ctrl-C)", ansiWarn})
	} else {
		t.field("Window", plain(span))
	}
	events := fmt.Sprintf("%d delivered", o.Stats.Events)
	if n := o.Stats.Skipped; n > 0 {
		events += fmt.Sprintf(", %d program runs skipped by the kernel", n)
	}
	if o.Stats.Lost > 0 {
		t.field("Events", plain(events+","), cell{fmt.Sprintf("%d lost", o.Stats.Lost), ansiWarn})
	} else {
		t.field("Events", plain(events+", none lost"))
	}
	third := 0
	for _, b := range o.Binaries {
		if b.Origin == observe.ThirdParty {
			third++
		}
	}
	t.field("Seen", plain(fmt.Sprintf("%s, %s, %s, %s (%d third-party)",
		plural(len(o.Connections), "connection", "connections"), plural(len(o.Listeners), "listening socket", "listening sockets"),
		plural(len(o.Processes), "process", "processes"), plural(len(o.Binaries), "binary", "binaries"), third)))
	for _, n := range o.Notes {
		t.text("  ", "    ", cell{"! " + clean(n), ansiWarn})
	}
	t.text("  ", "  ", plain("Blind spots of "+clean(string(o.Method))+":"))
	for _, b := range o.BlindSpots {
		t.text("    - ", "      ", plain(clean(b)))
	}
}

// suppressed lists the findings a suppression file matched, with who
// decided and why, and the file's stale entries: a suppression is a
// decision someone owns, shown, never a silent drop.
func (t *tableWriter) suppressed(r *Report) {
	sp := r.Suppressions
	if sp == nil && len(r.Suppressed) == 0 {
		return
	}
	t.section(fmt.Sprintf("SUPPRESSED (%d)", len(r.Suppressed)))
	if sp != nil {
		t.text("  ", "    ", plain(fmt.Sprintf("%s (sha256 %s): %s, %d expired, %d unused",
			clean(sp.File), truncate(clean(sp.SHA256), 12), plural(sp.Rules, "rule", "rules"), len(sp.Expired), len(sp.Unused))))
		for _, e := range sp.Expired {
			t.text("  ", "    ", cell{"! expired, no longer applies: " + clean(e), ansiWarn})
		}
		for _, u := range sp.Unused {
			t.text("  ", "    ", cell{"unused: " + clean(u), ansiDim})
		}
	}
	for _, s := range r.Suppressed {
		until := ""
		if s.Expires != "" {
			until = ", until " + s.Expires
		}
		t.text("  ", "      ", cell{strings.ToUpper(string(s.Finding.Severity)), severityColour(s.Finding.Severity)},
			plain(clean(s.Finding.RuleID)+": "+clean(s.Finding.Title)))
		t.text("      ", "      ", cell{fmt.Sprintf("%s (%s%s; %s)", clean(s.Reason), clean(s.Owner), until, clean(s.Rule)), ansiDim})
	}
}
