package rules

import (
	"errors"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/kensa-dev/kensa/internal/finding"
	"github.com/kensa-dev/kensa/internal/host"
)

// FileLineCheck matches the lines the config/files collector kept from
// configuration files (see internal/collect/files for the files, and for
// how sudoers Defaults and grub.cfg lines are normalised) against a
// regular expression. It is the check of everything CIS states as "this
// file has (or has no) such a line": banners, sudoers Defaults, journald
// and rsyslog settings, TMOUT and umask, GRUB passwords and kernel
// arguments, time sources, dconf keys.
type FileLineCheck struct {
	// Files are absolute paths or globs (path.Match: "/etc/profile.d/*.sh")
	// among the files the collector reads. Lines are taken in the order
	// the programs read them (includes in place, later drop-ins last).
	Files []string `yaml:"files"`
	// Set takes every file of one of the collector's sets (sudoers,
	// rsyslog, grub, profile, ...) wherever its includes led, instead of
	// (or, with Files, narrowed to) named paths.
	Set string `yaml:"set"`
	// Section keeps only the lines of this [section] of an INI-style file
	// ("Journal"; compared exactly, as systemd does).
	Section string `yaml:"section"`
	// Select is an RE2 expression choosing the lines the check is about
	// (every kept line when empty): "the lines that set TMOUT".
	Select string `yaml:"select"`
	// Pattern is the RE2 expression a line must match, anchored by the
	// rule as it needs. "$OS_ID" and "$OS_NAME" in Select and Pattern stand
	// for the os-release ID and NAME (quoted for the expression). Its first
	// capture group that matched is the line's value for the value tests.
	Pattern string `yaml:"pattern"`
	// Want is what passes: "present" (some selected line matches),
	// "absent" (none does), "all_match" (every selected line does), or
	// "last" (the last selected line in read order does: the setting in
	// effect where the last line wins).
	Want string `yaml:"want"`
	// What names, for the evidence, what a matching line is ("a readonly
	// TMOUT"); the pattern itself is quoted when it is not given.
	What string `yaml:"what"`

	// Value tests (a matching line passes only if its value does).
	// Equals / NotEquals compare case-insensitively.
	Equals    []string `yaml:"equals"`
	NotEquals []string `yaml:"not_equals"`
	// Min and Max bound a numeric value.
	Min *float64 `yaml:"min"`
	Max *float64 `yaml:"max"`
	// MaxMode is an octal mode the value (octal) may not exceed: no
	// permission bit outside it (a file creation mode 0640 or stricter).
	MaxMode string `yaml:"max_mode"`
	// MinUmask is an octal umask the value must include: every bit of it
	// set (a umask at least as strict as 027).
	MinUmask string `yaml:"min_umask"`
	// HasAll are words the value must all hold, the value split at "+",
	// "," and white space and compared exactly (case matters: AIDE's s and
	// S are different attributes): an AIDE selection line's attributes.
	HasAll []string `yaml:"has_all"`
	// Default is the value in effect when no line is selected (with
	// want: last or all_match), judged by the value tests: sudo's
	// timestamp_timeout is 15 when unset.
	Default *string `yaml:"default"`

	// Missing is the outcome when none of the files exists: pass, fail or
	// not_applicable. Required: what a missing file means differs per rule.
	Missing string `yaml:"missing"`
	// NoLines is the outcome when the files exist but no line is selected
	// (and there is no Default): pass, fail or not_applicable. The default
	// is fail for present and last, pass for absent and all_match.
	NoLines string `yaml:"no_lines"`
	// RequiresPackage makes the check not applicable when none of these
	// packages is installed (sudo, rsyslog, chrony): the program the files
	// configure is not there.
	RequiresPackage []string `yaml:"requires_package"`
}

var fileLineWants = []string{"present", "absent", "all_match", "last"}

var fileLineOutcomes = []string{finding.StatusPass, finding.StatusFail, finding.StatusNotApplicable}

func (c *FileLineCheck) validate() error {
	if len(c.Files) == 0 && c.Set == "" {
		return errors.New("file_line: files or set is required")
	}
	for _, f := range c.Files {
		if !strings.HasPrefix(f, "/") {
			return fmt.Errorf("file_line: file %q: an absolute path or glob is required", f)
		}
		if _, err := path.Match(f, ""); err != nil {
			return fmt.Errorf("file_line: file %q: %v", f, err)
		}
	}
	if c.Pattern == "" {
		return errors.New("file_line: pattern is required")
	}
	for _, e := range []string{c.Select, c.Pattern} {
		if _, err := regexp.Compile(osPlaceholders.Replace(e)); err != nil {
			return fmt.Errorf("file_line: %v", err)
		}
	}
	if !slices.Contains(fileLineWants, c.Want) {
		return fmt.Errorf("file_line: want %q: want one of %s", c.Want, strings.Join(fileLineWants, ", "))
	}
	if !slices.Contains(fileLineOutcomes, c.Missing) {
		return fmt.Errorf("file_line: missing %q: want one of %s", c.Missing, strings.Join(fileLineOutcomes, ", "))
	}
	if c.NoLines != "" && !slices.Contains(fileLineOutcomes, c.NoLines) {
		return fmt.Errorf("file_line: no_lines %q: want one of %s", c.NoLines, strings.Join(fileLineOutcomes, ", "))
	}
	for _, m := range []string{c.MaxMode, c.MinUmask} {
		if m != "" {
			if _, err := parseOctal(m); err != nil {
				return fmt.Errorf("file_line: %v", err)
			}
		}
	}
	if c.hasValueTests() {
		re := regexp.MustCompile(osPlaceholders.Replace(c.Pattern))
		if re.NumSubexp() == 0 {
			return errors.New("file_line: value tests need a capture group in pattern")
		}
		if c.Want == "absent" {
			return errors.New("file_line: want absent takes no value tests")
		}
	}
	if c.Default != nil && (!c.hasValueTests() || (c.Want != "last" && c.Want != "all_match")) {
		return errors.New("file_line: default needs want last or all_match, and value tests")
	}
	return nil
}

// osPlaceholders stands in for the OS names at validation.
var osPlaceholders = strings.NewReplacer("$OS_ID", "x", "$OS_NAME", "x")

func (c *FileLineCheck) hasValueTests() bool {
	return len(c.Equals) > 0 || len(c.NotEquals) > 0 || c.Min != nil || c.Max != nil || c.MaxMode != "" || c.MinUmask != "" || len(c.HasAll) > 0
}

// parseOctal reads a mode or umask written in octal ("027", "0640").
func parseOctal(s string) (uint32, error) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 5 {
		return 0, fmt.Errorf("%q is not an octal mode", s)
	}
	v, err := strconv.ParseUint(s, 8, 32)
	if err != nil || v > 0o7777 {
		return 0, fmt.Errorf("%q is not an octal mode", s)
	}
	return uint32(v), nil
}

// compile expands the OS placeholders (quoted for the expression, words
// bounded where the value starts or ends with a word character).
func compile(expr string, os *host.OSRelease) (*regexp.Regexp, error) {
	if expr == "" {
		return nil, nil
	}
	if strings.Contains(expr, "$OS_ID") || strings.Contains(expr, "$OS_NAME") {
		if os == nil || os.ID == "" {
			return nil, errors.New("the operating system's name is not known")
		}
		name := os.Name
		if name == "" {
			name = os.ID
		}
		expr = strings.NewReplacer("$OS_ID", wordQuote(os.ID), "$OS_NAME", wordQuote(name)).Replace(expr)
	}
	return regexp.Compile(expr)
}

func wordQuote(s string) string {
	q := regexp.QuoteMeta(s)
	isWord := func(b byte) bool {
		return b == '_' || b >= '0' && b <= '9' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z'
	}
	if isWord(s[0]) {
		q = `\b` + q
	}
	if isWord(s[len(s)-1]) {
		q += `\b`
	}
	return "(?:" + q + ")"
}

// valueOK judges a value by the value tests; the reason says why not.
func (c *FileLineCheck) valueOK(v string) (bool, string) {
	if len(c.Equals) > 0 && !slices.ContainsFunc(c.Equals, func(e string) bool { return strings.EqualFold(e, v) }) {
		return false, fmt.Sprintf("value %q is not %s", v, strings.Join(c.Equals, " or "))
	}
	if slices.ContainsFunc(c.NotEquals, func(e string) bool { return strings.EqualFold(e, v) }) {
		return false, fmt.Sprintf("value %q is not allowed", v)
	}
	if c.Min != nil || c.Max != nil {
		n, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			return false, fmt.Sprintf("value %q is not a number", v)
		}
		if c.Min != nil && n < *c.Min {
			return false, fmt.Sprintf("value %s is below %s", v, num(*c.Min))
		}
		if c.Max != nil && n > *c.Max {
			return false, fmt.Sprintf("value %s is above %s", v, num(*c.Max))
		}
	}
	if c.MaxMode != "" {
		m, err := parseOctal(v)
		if err != nil {
			return false, fmt.Sprintf("value %q is not an octal mode", v)
		}
		max, _ := parseOctal(c.MaxMode)
		if m&^max != 0 {
			return false, fmt.Sprintf("mode %s allows more than %s (bits %04o)", v, c.MaxMode, m&^max)
		}
	}
	if c.MinUmask != "" {
		m, err := parseOctal(v)
		if err != nil {
			return false, fmt.Sprintf("value %q is not an octal umask", v)
		}
		want, _ := parseOctal(c.MinUmask)
		if m&want != want {
			return false, fmt.Sprintf("umask %s is less strict than %s (bits %04o not masked)", v, c.MinUmask, want&^m)
		}
	}
	if len(c.HasAll) > 0 {
		words := strings.FieldsFunc(v, func(r rune) bool { return r == '+' || r == ',' || r == ' ' || r == '\t' })
		var lack []string
		for _, w := range c.HasAll {
			if !slices.Contains(words, w) {
				lack = append(lack, w)
			}
		}
		if len(lack) > 0 {
			return false, fmt.Sprintf("value %q lacks %s", v, strings.Join(lack, ", "))
		}
	}
	return true, ""
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// fileLine is one selected line with where it comes from.
type fileLine struct {
	file string
	line host.ConfigLine
}

func (l fileLine) String() string { return fmt.Sprintf("%s:%d: %s", l.file, l.line.N, l.line.Text) }

// maxEvidence caps the lines quoted in one outcome.
const maxEvidence = 10

func (c *FileLineCheck) evaluate(inv *host.Inventory) Outcome {
	if inv.Config == nil || inv.Config.Files == nil {
		return errorf("configuration file contents were not collected")
	}
	if len(c.RequiresPackage) > 0 {
		if o, ok := requirePackage(inv, c.RequiresPackage); !ok {
			return o
		}
	}
	sel, err := compile(c.Select, inv.OS)
	if err != nil {
		return errorf("%v", err)
	}
	pat, err := compile(c.Pattern, inv.OS)
	if err != nil {
		return errorf("%v", err)
	}

	var files, existing, unreadable []string
	var lines []fileLine
	for _, f := range inv.Config.Files.Files {
		if c.Set != "" && f.Set != c.Set {
			continue
		}
		if len(c.Files) > 0 && !slices.ContainsFunc(c.Files, func(g string) bool { ok, _ := path.Match(g, f.Path); return ok }) {
			continue
		}
		if !slices.Contains(files, f.Path) {
			files = append(files, f.Path)
		}
		if !f.Exists {
			continue
		}
		if !slices.Contains(existing, f.Path) {
			existing = append(existing, f.Path)
		}
		if f.Error != "" {
			unreadable = append(unreadable, f.Path+": "+f.Error)
			continue
		}
		for _, l := range f.Lines {
			if c.Section != "" && l.Section != c.Section {
				continue
			}
			if sel != nil && !sel.MatchString(l.Text) {
				continue
			}
			lines = append(lines, fileLine{f.Path, l})
		}
	}
	slices.SortStableFunc(lines, func(a, b fileLine) int { return a.line.Seq - b.line.Seq })

	if len(existing) == 0 {
		// Name what was looked for: the paths of the set, or the globs.
		what := joinCapped(files, maxEvidence)
		if what == "" {
			what = strings.Join(c.Files, ", ")
		}
		if what == "" {
			what = c.Set + " files"
		}
		ev := "no " + what
		switch c.Missing {
		case finding.StatusPass:
			return pass(ev)
		case finding.StatusFail:
			return fail(ev)
		}
		return notApplicable(ev)
	}

	o := c.judge(pat, lines, existing)
	// A set can hold hundreds of files (a drop-in directory at its cap):
	// the evidence names the first few and counts the rest.
	if len(unreadable) > 0 && o.Status != finding.StatusFail {
		return Outcome{Status: finding.StatusError, Evidence: o.Evidence, Reason: "unreadable: " + joinCapped(unreadable, maxEvidence)}
	}
	if len(unreadable) > 0 {
		o.Evidence = append(o.Evidence, "not read: "+joinCapped(unreadable, maxEvidence))
	}
	return o
}

// value returns the first capture group that matched.
func value(m []string) string {
	for _, g := range m[1:] {
		if g != "" {
			return g
		}
	}
	return ""
}

// test matches one line: whether it passes, and why not.
func (c *FileLineCheck) test(pat *regexp.Regexp, l fileLine) (bool, string) {
	m := pat.FindStringSubmatch(l.line.Text)
	if m == nil {
		if c.What != "" {
			return false, "not " + c.What
		}
		return false, "does not match " + c.Pattern
	}
	if !c.hasValueTests() {
		return true, ""
	}
	return c.valueOK(value(m))
}

func (c *FileLineCheck) noLines(existing []string) Outcome {
	out := c.NoLines
	if out == "" {
		out = finding.StatusFail
		if c.Want == "absent" || c.Want == "all_match" {
			out = finding.StatusPass
		}
	}
	ev := fmt.Sprintf("%s: no line", joinCapped(existing, maxEvidence))
	switch {
	case c.What != "" && c.Want != "absent":
		ev += " with " + c.What
	case c.Select != "":
		ev += " matches " + c.Select
	default:
		ev += " matches " + c.Pattern
	}
	if c.Section != "" {
		ev += " in [" + c.Section + "]"
	}
	switch out {
	case finding.StatusPass:
		return pass(ev)
	case finding.StatusFail:
		return fail(ev)
	}
	return notApplicable(ev)
}

func (c *FileLineCheck) judge(pat *regexp.Regexp, lines []fileLine, existing []string) Outcome {
	switch c.Want {
	case "present":
		var bad []string
		for _, l := range lines {
			ok, why := c.test(pat, l)
			if ok {
				return pass(l.String())
			}
			if c.Select != "" || pat.MatchString(l.line.Text) {
				bad = append(bad, l.String()+" ("+why+")")
			}
		}
		if len(bad) == 0 {
			return c.noLines(existing)
		}
		return fail(capEvidence(bad)...)
	case "absent":
		var hits []string
		for _, l := range lines {
			if pat.MatchString(l.line.Text) {
				hits = append(hits, l.String())
			}
		}
		if len(hits) > 0 {
			return fail(capEvidence(hits)...)
		}
		return c.noLines(existing)
	case "all_match":
		if len(lines) == 0 {
			if c.Default != nil {
				return c.byDefault(existing)
			}
			return c.noLines(existing)
		}
		var good, bad []string
		for _, l := range lines {
			if ok, why := c.test(pat, l); ok {
				good = append(good, l.String())
			} else {
				bad = append(bad, l.String()+" ("+why+")")
			}
		}
		if len(bad) > 0 {
			return fail(capEvidence(bad)...)
		}
		return pass(capEvidence(good)...)
	default: // last
		if len(lines) == 0 {
			if c.Default != nil {
				return c.byDefault(existing)
			}
			return c.noLines(existing)
		}
		last := lines[len(lines)-1]
		ev := []string{last.String()}
		if len(lines) > 1 {
			ev[0] += " (the last of " + strconv.Itoa(len(lines)) + " lines; it wins)"
		}
		if ok, why := c.test(pat, last); !ok {
			if len(lines) > 1 {
				ev = append(ev, "earlier: "+lines[len(lines)-2].String())
			}
			ev[0] += ": " + why
			return fail(ev...)
		}
		return pass(ev...)
	}
}

// byDefault judges the default value when no line sets one.
func (c *FileLineCheck) byDefault(existing []string) Outcome {
	ev := fmt.Sprintf("%s: %s not set, the default %s applies", joinCapped(existing, maxEvidence), c.settingName(), *c.Default)
	if ok, why := c.valueOK(*c.Default); !ok {
		return fail(ev + " (" + why + ")")
	}
	return pass(ev)
}

func capEvidence(ev []string) []string {
	if len(ev) > maxEvidence {
		n := len(ev) - maxEvidence
		ev = append(ev[:maxEvidence:maxEvidence], fmt.Sprintf("... and %d more", n))
	}
	return ev
}

// requirePackage returns not_applicable when none of the packages is
// installed, an error when no package database was read.
func requirePackage(inv *host.Inventory, names []string) (Outcome, bool) {
	installed, o := installedPackages(inv)
	if o != nil {
		return errorf("no package database was read: whether %s is installed is not known", strings.Join(names, " or ")), false
	}
	if slices.ContainsFunc(names, func(n string) bool { _, ok := installed[n]; return ok }) {
		return Outcome{}, true
	}
	return notApplicable(strings.Join(names, " or ") + " is not installed"), false
}

// settingWord is the name a select pattern starts with ("^Storage\s*=").
var settingWord = regexp.MustCompile(`^\^?([A-Za-z_][A-Za-z0-9_.-]*)`)

// settingName names what the check reads, for evidence: the setting its
// select pattern starts with, else its what.
func (c *FileLineCheck) settingName() string {
	if m := settingWord.FindStringSubmatch(c.Select); m != nil {
		return m[1]
	}
	if c.What != "" {
		return c.What
	}
	return "the setting"
}
