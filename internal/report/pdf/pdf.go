// Package pdf renders a Kensa report as a PDF document for an auditor, in
// the two kinds Amazon Inspector Classic offered:
//
//   - the findings report: who and what was assessed (host, OS, kernel,
//     live host or image, scan time, tool version), the verdict, a summary
//     with bar charts (findings by severity, by rules package, the packages
//     with the most vulnerability findings), the coverage gaps and their
//     reasons, the vulnerability feeds and their age, every finding in
//     full (rule, description, evidence, recommendation, vulnerability
//     detail) and every suppressed finding with its reason, owner and
//     expiry;
//   - the full report (Options.Full): the same, plus every rule checked
//     (report.Results), per rules package, with its status (pass, fail, not
//     applicable, error) and reason.
//
// Like every Kensa output format, Write is a pure function of a
// report.Report: the same report gives the same bytes (the PDF's dates are
// the scan's, its catalogs sorted, and it holds no random ids).
//
// The verdict never reads as clean when coverage has gaps: "no findings"
// is only ever said together with whether every scope was evaluated.
//
// Text comes from a scanned host and from vulnerability feeds, so it is
// hostile: it is drawn with the Go fonts (golang.org/x/image/font/gofont,
// embedded as subsets), which cover Latin, Greek and Cyrillic; any other
// character, and every control or invisible formatting character, is drawn
// as Placeholder and counted on the first page. fpdf escapes the PDF
// string syntax itself. Words longer than a line (paths, package names) are
// broken inside their cell.
package pdf

import (
	"bytes"
	"cmp"
	"fmt"
	"io"
	"time"

	"github.com/go-pdf/fpdf"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/gomono"
	"golang.org/x/image/font/gofont/goregular"

	"github.com/kensa-dev/kensa/internal/report"
)

// Options chooses what the document holds.
type Options struct {
	// Full makes the full report: the findings report plus every rule
	// checked with its result.
	Full bool
}

// MaxDetailed is how many findings, and how many suppressed findings, get
// a detailed entry. Past it the rest are listed one line each (severity,
// rule, title, id), after a note that the JSON report has their detail.
// fpdf keeps every page in memory until the document is written, and
// compresses each page with a new zlib writer. Measured on 50,000
// findings (BenchmarkWrite50k), detailing all of them made 14,500 pages
// (42 MB) in 7 s with a peak RSS of 1.0 GB; with the cap it is 4,200
// pages (13 MB), 3.5 s and 0.53 GB. Nobody reads past a few thousand
// findings on paper: they filter the JSON.
const MaxDetailed = 5000

// MaxListed is how many findings (and suppressed findings) the document
// shows at most, detailed or listed: 50,000 is 1,800 pages of list. Past
// it a note says how many more only the JSON report has. It bounds the
// document, and the memory fpdf needs for it, whatever the report.
const MaxListed = 50_000

// Write renders r as a PDF document to w. It fails when w does, or when
// the document cannot be made (an fpdf error); nothing is written then.
func Write(w io.Writer, r *report.Report, opt Options) error {
	return write(w, r, opt, MaxDetailed, MaxListed)
}

// write is Write with the caps as parameters, so that tests reach them
// without rendering thousands of pages.
func write(w io.Writer, r *report.Report, opt Options, detailed, listed int) error {
	d, err := newDoc(report.Canonical(r), opt)
	if err != nil {
		return err
	}
	d.detailed, d.listed = detailed, listed
	d.render()
	return d.output(w)
}

// Font families registered with fpdf.
const (
	familySans = "go"
	familyMono = "gomono"
)

// Aliases are placeholders fpdf replaces in every page when it closes the
// document: the page count, and the count of replaced characters, which
// are only known then. fpdf replaces them wherever they occur, so they
// hold a control character: sanitised report text never does, and a host
// cannot have "{nb}" in a package name turn into a page number.
const (
	aliasPages    = "\x01pages\x01"
	aliasReplaced = "\x01replaced\x01"
)

// doc is one document being made.
type doc struct {
	f   *fpdf.Fpdf
	r   *report.Report
	opt Options
	z   sanitizer
	// widths caches the advance width of each rune, per style, in
	// thousandths of the font size, as fpdf reads it from the font (0:
	// not asked yet).
	widths [styles][]int32
	style  style
	size   float64
	// host is the host's label in every page's header, made is the tool
	// and schema in every page's footer: sanitised once, so that the
	// count of replaced characters counts them once.
	host, made string
	// detailed and listed are MaxDetailed and MaxListed.
	detailed, listed int
}

func newDoc(r *report.Report, opt Options) (*doc, error) {
	f := fpdf.New("P", "mm", "A4", "")
	d := &doc{f: f, r: r, opt: opt}
	for s := range d.widths {
		d.widths[s] = make([]int32, 1<<16)
	}
	// Each document gets its own copy of the fonts: fpdf's subsetter
	// writes into the bytes it is given (utf8FontFile.getMetrics appends
	// to a slice of them), which would change the shared package
	// variables, make the next document differ, and race with a document
	// made at the same time.
	f.AddUTF8FontFromBytes(familySans, "", bytes.Clone(goregular.TTF))
	f.AddUTF8FontFromBytes(familySans, "B", bytes.Clone(gobold.TTF))
	f.AddUTF8FontFromBytes(familyMono, "", bytes.Clone(gomono.TTF))
	if err := f.Error(); err != nil {
		return nil, fmt.Errorf("pdf: loading the fonts: %w", err)
	}
	// fpdf's font parser reports a font it cannot read on standard
	// output, not as an error; selecting it is what fails then.
	for _, s := range []style{regular, bold, mono} {
		d.setFont(s, 9)
	}
	if err := f.Error(); err != nil {
		return nil, fmt.Errorf("pdf: loading the fonts: %w", err)
	}

	// Same report, same bytes: the document's dates are the scan's, and
	// the resource catalogs are written in sorted order, not map order.
	when := cmp.Or(r.FinishedAt, r.StartedAt, time.Unix(0, 0)).UTC()
	f.SetCreationDate(when)
	f.SetModificationDate(when)
	f.SetCatalogSort(true)
	f.SetCompression(true)

	d.host = d.hostLabel()
	tool := d.z.line(r.Tool.Name + " " + r.Tool.Version)
	d.made = tool + ", report schema " + d.z.line(r.SchemaVersion)
	f.SetTitle(d.kindName()+": "+d.host, true)
	f.SetSubject("Host security assessment of "+d.host, true)
	f.SetCreator(tool, true)
	f.SetProducer("Kensa PDF report (go-pdf/fpdf)", false)
	f.SetLang("en")

	f.SetMargins(marginLeft, marginTop, marginRight)
	// Text starts where the layout puts it: fpdf's default cell margin
	// would shift every line 1 mm right of the width it was wrapped to.
	f.SetCellMargin(0)
	// Page breaks are the layout's (doc.need), so that a title stays with
	// its finding and a table row is not cut: fpdf must not break on its
	// own in the middle of a cell.
	f.SetAutoPageBreak(false, 0)
	f.AliasNbPages(aliasPages)
	f.SetHeaderFunc(d.header)
	f.SetFooterFunc(d.footer)
	return d, nil
}

// kindName is the document's title.
func (d *doc) kindName() string {
	if d.opt.Full {
		return "Kensa full report"
	}
	return "Kensa findings report"
}

// hostLabel names the assessed host: its hostname, else the image's root.
func (d *doc) hostLabel() string {
	h := d.r.Host
	switch {
	case h.Hostname != "":
		return d.z.line(h.Hostname)
	case !h.Live && h.Root != "":
		return "image " + d.z.line(h.Root)
	case h.Root != "":
		return d.z.line(h.Root)
	}
	return "unnamed host"
}

// render draws the document, section by section.
func (d *doc) render() {
	d.f.AddPage()
	d.cover()
	d.summary()
	d.coverage()
	d.feeds()
	d.findings()
	d.suppressed()
	if d.opt.Full {
		d.results()
	}
}

// output closes the document and writes it to w. fpdf builds the whole
// file before writing any of it, so a document error writes nothing.
func (d *doc) output(w io.Writer) error {
	d.f.RegisterAlias(aliasReplaced, fmt.Sprint(d.z.replaced))
	d.f.Close()
	if err := d.f.Error(); err != nil {
		return fmt.Errorf("pdf: %w", err)
	}
	// The error of w, as it is.
	return d.f.Output(w)
}
