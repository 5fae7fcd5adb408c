package pdf

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kensa-dev/kensa/internal/finding"
	"github.com/kensa-dev/kensa/internal/report"
	"github.com/kensa-dev/kensa/internal/report/reporttest"
)

// kinds are the two kinds of document, by name.
var kinds = []struct {
	name string
	opt  Options
}{{"findings", Options{}}, {"full", Options{Full: true}}}

func render(t testing.TB, r *report.Report, opt Options) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, r, opt); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// resultWordsFor is how the full report spells each rule status; written
// out here, not taken from the renderer, so that a change shows.
var resultWordsFor = map[string]string{
	finding.StatusPass: "pass", finding.StatusFail: "fail",
	finding.StatusNotApplicable: "not applicable", finding.StatusError: "error",
}

// TestFixturesText reads every fixture's document back, both kinds, and
// checks that what an auditor must find is there: every finding's title,
// every suppressed finding, every coverage gap's reason, the verdict, the
// page numbers, and in the full kind every rule checked with its status.
func TestFixturesText(t *testing.T) {
	for _, fx := range reporttest.Fixtures {
		for _, k := range kinds {
			t.Run(fx.Name+"/"+k.name, func(t *testing.T) {
				t.Parallel()
				r := fx.Build()
				doc := render(t, r, k.opt)
				text := pdfText(t, doc)
				flat, body := squeeze(text), squeeze(bodyText(text))
				must := func(what, s string) {
					t.Helper()
					if !strings.Contains(body, squeeze(s)) {
						t.Errorf("%s %q not in the document's text", what, s)
					}
				}
				for _, f := range r.Findings {
					must("finding title", f.Title)
					must("finding id", f.ID)
				}
				for _, s := range r.Suppressed {
					must("suppressed finding title", s.Finding.Title)
					must("suppression reason", s.Reason)
				}
				gaps := 0
				for _, c := range r.Coverage {
					if c.Status != report.Evaluated {
						gaps++
						must("coverage gap reason", c.Reason)
					}
				}
				if gaps != r.Summary.CoverageGaps {
					t.Fatalf("fixture has %d gaps, summary says %d", gaps, r.Summary.CoverageGaps)
				}
				must("verdict", verdictOf(report.Canonical(r)).headline)
				for _, f := range r.Feeds {
					must("feed", f.Name)
				}
				pages := pdfPages(t, doc)
				if pages < 2 || pages > 20 {
					t.Errorf("%d pages for a fixture: want 2 to 20", pages)
				}
				for p := 1; p <= pages; p++ {
					if !strings.Contains(flat, squeeze(fmt.Sprintf("Page %d of %d", p, pages))) {
						t.Errorf("no \"Page %d of %d\"", p, pages)
					}
				}
				host := r.Host.Hostname
				if host == "" {
					host = "image " + r.Host.Root
				}
				if got := strings.Count(flat, squeeze(host+"Kensa "+k.name+" report")); got != pages {
					t.Errorf("the header with the host is on %d pages of %d", got, pages)
				}

				hasResults := strings.Contains(text, "Rules checked (")
				if hasResults != k.opt.Full {
					t.Errorf("section \"Rules checked\" present: %v, want %v", hasResults, k.opt.Full)
				}
				if !k.opt.Full {
					return
				}
				for _, res := range r.Results {
					// The rule, its target and its status, in this order
					// and next to each other: one row of the table.
					must("result", res.RuleID+res.Target+resultWordsFor[res.Status])
				}
			})
		}
	}
}

// TestGolden compares the text of each fixture's document with
// testdata/<fixture>-<kind>.txt (go test -update rewrites them): a
// reviewable record of what the document says and in what order.
func TestGolden(t *testing.T) {
	for _, fx := range reporttest.Fixtures {
		for _, k := range kinds {
			t.Run(fx.Name+"/"+k.name, func(t *testing.T) {
				t.Parallel()
				got := normalizeText(pdfText(t, render(t, fx.Build(), k.opt)))
				reporttest.Golden(t, fx.Name+"-"+k.name+".txt", []byte(got))
			})
		}
	}
}

// normalizeText trims each line and collapses runs of spaces, which
// poppler versions may place differently; the form feed between pages
// becomes a marked line.
func normalizeText(s string) string {
	spaces := regexp.MustCompile(` {2,}`)
	var b strings.Builder
	for l := range strings.SplitSeq(s, "\n") {
		l = strings.ReplaceAll(l, "\f", "--- page break ---\n")
		b.WriteString(strings.TrimSpace(spaces.ReplaceAllString(l, " ")))
		b.WriteByte('\n')
	}
	return strings.TrimRight(b.String(), "\n") + "\n"
}

// TestDeterministic: the same report gives the same bytes, whatever the
// order of its lists, and the document's dates are the scan's.
func TestDeterministic(t *testing.T) {
	for _, fx := range append(reporttest.Fixtures, reporttest.Fixture{Name: "large", Build: func() *report.Report { return reporttest.Large(40) }}) {
		for _, k := range kinds {
			t.Run(fx.Name+"/"+k.name, func(t *testing.T) {
				t.Parallel()
				first := render(t, fx.Build(), k.opt)
				for range 2 {
					if again := render(t, fx.Build(), k.opt); !bytes.Equal(first, again) {
						t.Fatal("two renderings of the same report differ")
					}
				}
				shuffled := fx.Build()
				slices.Reverse(shuffled.Findings)
				slices.Reverse(shuffled.Coverage)
				slices.Reverse(shuffled.Results)
				slices.Reverse(shuffled.Feeds)
				if !bytes.Equal(first, render(t, shuffled, k.opt)) {
					t.Error("the same report with its lists in another order renders differently")
				}
				r := fx.Build()
				stamp := "D:" + r.FinishedAt.UTC().Format("20060102150405")
				if !bytes.Contains(first, []byte(stamp)) {
					t.Errorf("the document is not dated %s (the scan's end)", stamp)
				}
				// The test can fail: another scan time is another document.
				r.FinishedAt = r.FinishedAt.Add(time.Hour)
				if bytes.Equal(first, render(t, r, k.opt)) {
					t.Error("a report finished an hour later renders to the same bytes")
				}
			})
		}
	}
}

// TestNoDateIsStillDeterministic: a report without times must not make
// fpdf date the document with the clock (it does for a zero date): it is
// dated at the Unix epoch.
func TestNoDateIsStillDeterministic(t *testing.T) {
	r := reporttest.Base()
	r.StartedAt, r.FinishedAt = time.Time{}, time.Time{}
	a := render(t, r, Options{})
	if !bytes.Contains(a, []byte("/CreationDate (D:19700101000000)")) || !bytes.Contains(a, []byte("/ModDate (D:19700101000000)")) {
		t.Error("a report without times is not dated at the epoch")
	}
	if !bytes.Equal(a, render(t, r, Options{})) {
		t.Fatal("a report without times renders differently twice")
	}
}

// TestVerdict: "no findings" is only said together with whether every
// scope was evaluated; gaps, missing coverage and rules packages that did
// not run make the assessment incomplete.
func TestVerdict(t *testing.T) {
	complete := func() *report.Report {
		r := reporttest.Base()
		for _, p := range finding.Packages() {
			r.Coverage = append(r.Coverage, report.Coverage{Package: p, Scope: "*", Status: report.Evaluated})
		}
		return r
	}
	tests := []struct {
		name     string
		r        func() *report.Report
		headline string
		tone     tone
	}{
		{"no coverage, no findings", reporttest.Base, "No findings, but the assessment is incomplete", toneWarn},
		{"gaps, no findings", reporttest.Clean, "No findings, but the assessment is incomplete", toneWarn},
		{"gaps, findings", reporttest.CVE, "6 findings; the assessment is incomplete", toneWarn},
		{"complete, no findings", complete, "No findings; every rules package and scope was evaluated", toneGood},
		{"complete, findings", func() *report.Report {
			r := complete()
			r.Findings = reporttest.Config().Findings[:1]
			return r
		}, "1 finding", toneBad},
		{"packages not run, no findings", func() *report.Report {
			r := complete()
			r.Coverage = r.Coverage[:2]
			return r
		}, "No findings in the rules packages that ran", toneWarn},
		{"no coverage, findings", func() *report.Report {
			r := reporttest.Config()
			r.Coverage = nil
			return r
		}, "5 findings; the assessment is incomplete", toneWarn},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.r()
			r.Summary = report.Summarize(r)
			v := verdictOf(report.Canonical(r))
			if v.headline != tt.headline || v.tone != tt.tone {
				t.Errorf("verdict %q (tone %d), want %q (tone %d)", v.headline, v.tone, tt.headline, tt.tone)
			}
			if !r.Summary.Complete && v.tone == toneGood {
				t.Error("an incomplete assessment in green")
			}
			if len(r.Summary.NotRun) > 0 && !slices.ContainsFunc(v.detail, func(s string) bool { return strings.Contains(s, "not run") }) {
				t.Error("rules packages that did not run are not named")
			}
		})
	}
}

// TestEmptyReportIsNotClean: a report with no findings and no coverage,
// and one with no findings and gaps, never read as clean.
func TestEmptyReportIsNotClean(t *testing.T) {
	for _, tt := range []struct {
		name string
		r    *report.Report
		want []string
	}{
		{"empty", reporttest.Base(), []string{"No findings, but the assessment is incomplete", "Nothing was evaluated", "The report has no coverage", "Findings (0)"}},
		{"clean", reporttest.Clean(), []string{"No findings, but the assessment is incomplete", "3 scopes were not evaluated and 1 was only partially evaluated", "Complete: no.", "STALE", "Rules packages not run", "best-practices"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			text := pdfText(t, render(t, tt.r, Options{}))
			for _, w := range tt.want {
				if !containsText(text, w) {
					t.Errorf("%q not in the document", w)
				}
			}
			for _, bad := range []string{"every rules package and scope was evaluated", "Complete: yes"} {
				if containsText(strings.ToLower(text), strings.ToLower(bad)) {
					t.Errorf("an incomplete assessment says %q", bad)
				}
			}
			if regexp.MustCompile(`(?i)\bclean\b`).MatchString(text) {
				t.Error(`the document calls the host "clean"`)
			}
		})
	}
}

// TestOverflow: past MaxDetailed, findings are listed one line each after
// a note, and none is lost; suppressed findings likewise. Past MaxListed a
// note says how many only the JSON report has.
func TestOverflow(t *testing.T) {
	const n, detailed = 40, 7
	r := reporttest.Large(n)
	for i := range 12 {
		r.Suppressed = append(r.Suppressed, report.Suppressed{Finding: r.Findings[i], Reason: fmt.Sprintf("accepted risk %d", i), Owner: "ops", Rule: "line 3: rule"})
		r.Suppressed[i].Finding.ID = fmt.Sprintf("s%031x", i)
	}
	r.Summary = report.Summarize(r)
	r = report.Canonical(r)

	t.Run("listed", func(t *testing.T) {
		var buf bytes.Buffer
		if err := write(&buf, r, Options{}, detailed, MaxListed); err != nil {
			t.Fatal(err)
		}
		text := pdfText(t, buf.Bytes())
		flat := squeeze(bodyText(text))
		for _, f := range r.Findings {
			if !strings.Contains(flat, squeeze(f.Title)) || !strings.Contains(flat, f.ID) {
				t.Errorf("finding %s (%s) lost past the cap", f.ID, f.Title)
			}
		}
		for _, s := range r.Suppressed {
			if !strings.Contains(flat, s.Finding.ID) || !strings.Contains(flat, squeeze(s.Reason)) {
				t.Errorf("suppressed finding %s lost past the cap", s.Finding.ID)
			}
		}
		if got := len(regexp.MustCompile(fmt.Sprintf(`Finding \d+ of %d\n`, n)).FindAllString(text, -1)); got != detailed {
			t.Errorf("%d findings detailed, want %d", got, detailed)
		}
		if got := len(regexp.MustCompile(`Suppressed \d+ of 12\n`).FindAllString(text, -1)); got != detailed {
			t.Errorf("%d suppressed findings detailed, want %d", got, detailed)
		}
		for _, note := range []string{fmt.Sprintf("%d more findings, listed without their detail", n-detailed), fmt.Sprintf("%d more suppressed findings", 12-detailed), "The JSON report of the scan has every field"} {
			if !containsText(text, note) {
				t.Errorf("note %q missing", note)
			}
		}
		if containsText(text, "only in the JSON report") {
			t.Error("a note says findings are left out, and none is")
		}
	})

	t.Run("left out", func(t *testing.T) {
		const listed = 30
		var buf bytes.Buffer
		if err := write(&buf, r, Options{}, detailed, listed); err != nil {
			t.Fatal(err)
		}
		text := pdfText(t, buf.Bytes())
		flat := squeeze(bodyText(text))
		for i, f := range r.Findings {
			if in := strings.Contains(flat, f.ID); in != (i < listed) {
				t.Errorf("finding %d of %d in the document: %v", i+1, n, in)
			}
		}
		for _, note := range []string{fmt.Sprintf("%d more findings are only in the JSON report", n-listed), fmt.Sprintf("The last %d are not in this document at all.", n-listed)} {
			if !containsText(text, note) {
				t.Errorf("note %q missing", note)
			}
		}
	})
}

// TestWriterError: the writer's error is Write's.
func TestWriterError(t *testing.T) {
	want := errors.New("disk full")
	if err := Write(failingWriter{want}, reporttest.CVE(), Options{}); !errors.Is(err, want) {
		t.Errorf("Write = %v, want %v", err, want)
	}
}

type failingWriter struct{ err error }

func (f failingWriter) Write([]byte) (int, error) { return 0, f.err }

// TestInputUnchanged: rendering does not modify the report.
func TestInputUnchanged(t *testing.T) {
	r := reporttest.All()
	before := reporttest.All()
	render(t, r, Options{Full: true})
	if diff := cmp.Diff(before, r); diff != "" {
		t.Errorf("Write modified its report (-before +after):\n%s", diff)
	}
}
