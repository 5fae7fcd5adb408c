package pdf

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// The page: A4 portrait, in millimetres.
const (
	pageWidth    = 210.0
	marginLeft   = 15.0
	marginRight  = 15.0
	marginTop    = 20.0 // below the header
	bodyBottom   = 280.0
	headerY      = 9.0
	footerY      = 286.0
	contentWidth = pageWidth - marginLeft - marginRight
	// labelWidth is the label column of a finding's fields and of the
	// cover's facts.
	labelWidth = 34.0
	// ptToMM converts a font size in points to millimetres.
	ptToMM = 25.4 / 72
)

// style is a font: the three the document uses.
type style int

const (
	regular style = iota
	bold
	mono
	styles
)

// rgb is a colour.
type rgb struct{ r, g, b int }

var (
	black     = rgb{0, 0, 0}
	white     = rgb{255, 255, 255}
	ink       = rgb{33, 37, 41}
	grey      = rgb{108, 117, 125}
	lightGrey = rgb{222, 226, 230}
	stripe    = rgb{246, 247, 249}
	accent    = rgb{31, 78, 121}
	warnInk   = rgb{133, 77, 14}
	warnFill  = rgb{255, 243, 205}
	warnEdge  = rgb{214, 158, 46}
	goodInk   = rgb{21, 87, 36}
	goodFill  = rgb{212, 237, 218}
	goodEdge  = rgb{72, 160, 96}
	badInk    = rgb{132, 32, 41}
	badFill   = rgb{248, 215, 218}
	badEdge   = rgb{192, 57, 43}
)

func (d *doc) setFont(s style, size float64) {
	d.style, d.size = s, size
	switch s {
	case bold:
		d.f.SetFont(familySans, "B", size)
	case mono:
		d.f.SetFont(familyMono, "", size)
	default:
		d.f.SetFont(familySans, "", size)
	}
}

func (d *doc) textColor(c rgb) { d.f.SetTextColor(c.r, c.g, c.b) }
func (d *doc) fillColor(c rgb) { d.f.SetFillColor(c.r, c.g, c.b) }
func (d *doc) drawColor(c rgb) { d.f.SetDrawColor(c.r, c.g, c.b) }

// lineHeight is the height of a line of the current font.
func (d *doc) lineHeight() float64 { return d.size * ptToMM * 1.3 }

// runeWidth is the advance of r in the current font, in thousandths of
// the font size. Text reaching it has been sanitised, so r has a glyph.
func (d *doc) runeWidth(r rune) int32 {
	if r >= 1<<16 {
		r = Placeholder
	}
	w := d.widths[d.style][r]
	if w == 0 {
		w = int32(d.f.GetStringSymbolWidth(string(r)))
		d.widths[d.style][r] = w
	}
	return w
}

// width is the width of s in the current font, in millimetres.
func (d *doc) width(s string) float64 {
	var w int32
	for _, r := range s {
		w += d.runeWidth(r)
	}
	return float64(w) * d.size * ptToMM / 1000
}

// wrap breaks the sanitised line s into lines no wider than w in the
// current font: at spaces, and a word wider than a line (a path, a long
// package name, a hash) inside the word (see cut), so that nothing runs
// off its cell. It never returns no line.
func (d *doc) wrap(s string, w float64) []string {
	if d.width(s) <= w {
		return []string{s}
	}
	var lines []string
	var cur strings.Builder
	curW, space := 0.0, d.width(" ")
	for word := range strings.FieldsSeq(s) {
		ww := d.width(word)
		if cur.Len() > 0 && curW+space+ww <= w {
			cur.WriteByte(' ')
			cur.WriteString(word)
			curW += space + ww
			continue
		}
		if cur.Len() > 0 {
			lines = append(lines, cur.String())
			cur.Reset()
		}
		for ww > w {
			n := d.cut(word, w)
			lines = append(lines, word[:n])
			word = word[n:]
			ww = d.width(word)
		}
		cur.WriteString(word)
		curW = ww
	}
	if cur.Len() > 0 || len(lines) == 0 {
		lines = append(lines, cur.String())
	}
	return lines
}

// cut is where to break a word too wide for w: after the last "/" that
// leaves the line at least half full, so that paths break between their
// elements, else after the last other separator ("-", "_", ".", ",",
// ":", ";", "=", "&", "?", "!", "@", "+") that does, else after the last
// rune that fits. At least one rune always goes on the line. It returns
// a byte offset.
func (d *doc) cut(word string, w float64) int {
	limit := int32(w * 1000 / (d.size * ptToMM))
	var sum int32
	fit, slash, other := 0, 0, 0
	for i, r := range word {
		sum += d.runeWidth(r)
		if sum > limit {
			break
		}
		fit = i + utf8.RuneLen(r)
		if sum*2 < limit || fit == len(word) {
			continue
		}
		switch {
		case r == '/':
			slash = fit
		case strings.ContainsRune("-_.,:;=&?!@+", r):
			other = fit
		}
	}
	switch {
	case slash > 0:
		return slash
	case other > 0:
		return other
	case fit > 0:
		return fit
	}
	_, n := utf8.DecodeRuneInString(word)
	return n
}

// fit shortens the sanitised s to width w, marking the cut with "…".
func (d *doc) fit(s string, w float64) string {
	if d.width(s) <= w {
		return s
	}
	ell := d.width("…")
	n := d.cut(s, max(w-ell, 0))
	return s[:n] + "…"
}

// need starts a new page unless h millimetres fit on this one. On a
// fresh page it does nothing: what does not fit there must be split.
func (d *doc) need(h float64) bool {
	if y := d.f.GetY(); y+h > bodyBottom && y > marginTop+0.01 {
		d.f.AddPage()
		return true
	}
	return false
}

// room is the height left on the page.
func (d *doc) room() float64 { return bodyBottom - d.f.GetY() }

// header draws the host and the kind of report at the top of every page.
func (d *doc) header() {
	s, sz := d.style, d.size
	d.setFont(bold, 8)
	d.textColor(ink)
	right := d.kindName()
	d.f.SetXY(marginLeft, headerY-2)
	// The hostname is the host's: it may be long, never over the title.
	d.f.CellFormat(contentWidth-d.width(right)-6, 4, d.fit(d.host, contentWidth-d.width(right)-6), "", 0, "L", false, 0, "")
	d.setFont(regular, 8)
	d.textColor(grey)
	d.f.SetXY(marginLeft, headerY-2)
	d.f.CellFormat(contentWidth, 4, right, "", 0, "R", false, 0, "")
	d.drawColor(lightGrey)
	d.f.SetLineWidth(0.3)
	d.f.Line(marginLeft, headerY+3, pageWidth-marginRight, headerY+3)
	d.f.SetXY(marginLeft, marginTop)
	d.setFont(s, sz)
	d.textColor(ink)
}

// footer draws "Page N of M" and what the document was made from.
func (d *doc) footer() {
	s, sz := d.style, d.size
	d.drawColor(lightGrey)
	d.f.SetLineWidth(0.3)
	d.f.Line(marginLeft, footerY-2, pageWidth-marginRight, footerY-2)
	d.setFont(regular, 7.5)
	d.textColor(grey)
	d.f.SetXY(marginLeft, footerY)
	d.f.CellFormat(contentWidth/3, 4, d.fit(d.made, contentWidth/3), "", 0, "L", false, 0, "")
	d.f.SetXY(marginLeft+contentWidth/3, footerY)
	d.f.CellFormat(contentWidth/3, 4, "Page "+itoa(d.f.PageNo())+" of "+aliasPages, "", 0, "C", false, 0, "")
	d.f.SetXY(marginLeft+2*contentWidth/3, footerY)
	d.f.CellFormat(contentWidth/3, 4, "Scan finished "+formatTime(d.r.FinishedAt), "", 0, "R", false, 0, "")
	d.setFont(s, sz)
	d.textColor(ink)
}

// line draws one line of text at the current position, in the current
// font, w wide, and moves below it.
func (d *doc) line(x, w float64, s, align string) {
	lh := d.lineHeight()
	d.f.SetXY(x, d.f.GetY())
	d.f.CellFormat(w, lh, s, "", 2, align, false, 0, "")
}

// heading starts a section: on a new page when less than a third of this
// one is left, with a bookmark in the document outline.
func (d *doc) heading(title string) {
	if d.f.GetY() > marginTop+0.01 {
		d.f.SetY(d.f.GetY() + 4)
	}
	d.need(70)
	d.f.Bookmark(title, 0, -1)
	d.setFont(bold, 13)
	d.textColor(accent)
	d.line(marginLeft, contentWidth, title, "L")
	d.drawColor(accent)
	d.f.SetLineWidth(0.5)
	y := d.f.GetY() + 0.5
	d.f.Line(marginLeft, y, pageWidth-marginRight, y)
	d.f.SetY(y + 2.5)
	d.textColor(ink)
}

// subheading is a heading within a section.
func (d *doc) subheading(title string) {
	d.f.SetY(d.f.GetY() + 2)
	d.need(25)
	d.setFont(bold, 10.5)
	d.textColor(accent)
	d.line(marginLeft, contentWidth, title, "L")
	d.f.SetY(d.f.GetY() + 1)
	d.textColor(ink)
}

// paragraph draws sanitised lines wrapped to the content width, breaking
// pages between lines.
func (d *doc) paragraph(s style, size float64, c rgb, lines ...string) {
	d.setFont(s, size)
	d.textColor(c)
	for _, l := range lines {
		for _, wl := range d.wrap(l, contentWidth) {
			d.need(d.lineHeight())
			d.line(marginLeft, contentWidth, wl, "L")
		}
	}
	d.textColor(ink)
}

// value is one line of a field: text in a font and colour, and a link.
type value struct {
	text  string
	style style
	color rgb
	link  string
	// bullet starts the value's first wrapped line with "•".
	bullet bool
}

// field draws a label and its values beside it, each value wrapped to the
// value column and starting a new line. The label keeps its first line
// with it across a page break; the rest may go to the next page.
func (d *doc) field(label string, values ...value) {
	const size = 8.5
	x, w := marginLeft+labelWidth, contentWidth-labelWidth
	first := true
	drawLabel := func(y, h float64) {
		d.setFont(bold, 7.5)
		d.textColor(grey)
		d.f.SetXY(marginLeft, y)
		d.f.CellFormat(labelWidth-2, h, d.fit(label, labelWidth-3), "", 0, "L", false, 0, "")
		first = false
	}
	for _, v := range values {
		indent := 0.0
		if v.bullet {
			indent = 3.5
		}
		sz := size
		if v.style == mono {
			sz = size - 0.8
		}
		d.setFont(v.style, sz)
		for k, wl := range d.wrap(v.text, w-indent) {
			lh := d.lineHeight()
			d.need(lh)
			y := d.f.GetY()
			if first {
				drawLabel(y, lh)
				d.setFont(v.style, sz)
			}
			d.textColor(v.color)
			if v.bullet && k == 0 {
				d.f.SetXY(x, y)
				d.f.CellFormat(indent, lh, "•", "", 0, "L", false, 0, "")
			}
			d.f.SetXY(x+indent, y)
			d.f.CellFormat(w-indent, lh, wl, "", 2, "L", false, 0, v.link)
		}
	}
	if first { // no value at all: the label alone
		d.setFont(regular, size)
		lh := d.lineHeight()
		d.need(lh)
		drawLabel(d.f.GetY(), lh)
		d.f.SetY(d.f.GetY() + lh)
	}
	d.textColor(ink)
	d.f.SetY(d.f.GetY() + 0.6)
}

// text is a value in the regular font.
func text(s string) value { return value{text: s, style: regular, color: ink} }

// code is a value in the monospaced font.
func code(s string) value { return value{text: s, style: mono, color: ink} }

// column is one column of a table.
type column struct {
	title string
	width float64
	style style
	align string
}

// cell is one cell of a table row: sanitised text, and its colour.
type cell struct {
	text  string
	color rgb
	bold  bool
	fill  *rgb
}

// tableCell is a cell in the ink colour.
func tableCell(s string) cell { return cell{text: s, color: ink} }

// table draws a table with a header row, repeated after each page break.
// A row stays on one page; a row taller than a whole page (a 10,000
// character reason) is drawn in slices, page after page. Cells are drawn
// one after the other, each top to bottom, so that text extracted from the
// PDF keeps a cell's words together.
func (d *doc) table(cols []column, rows [][]cell) {
	const size, pad = 8.0, 1.2
	d.setFont(regular, size)
	lh := d.lineHeight()
	head := func() {
		d.setFont(bold, 7.5)
		d.fillColor(lightGrey)
		d.textColor(ink)
		y, x := d.f.GetY(), marginLeft
		d.f.Rect(marginLeft, y, contentWidth, lh+2*pad, "F")
		for _, c := range cols {
			d.f.SetXY(x+1, y+pad)
			d.f.CellFormat(c.width-2, lh, d.fit(c.title, c.width-2), "", 0, cmpAlign(c.align), false, 0, "")
			x += c.width
		}
		d.f.SetY(y + lh + 2*pad)
	}
	d.need(3 * (lh + 2*pad))
	head()
	for i, row := range rows {
		wrapped := make([][]string, len(cols))
		n := 1
		for j, c := range cols {
			if j >= len(row) {
				continue
			}
			d.setCellFont(c, row[j])
			wrapped[j] = d.wrap(row[j].text, c.width-2)
			n = max(n, len(wrapped[j]))
		}
		// A row that fits on a page is kept on one; a taller one fills
		// the rest of this page and goes on, a slice per page.
		fitsOnAPage := float64(n)*lh+2*pad <= bodyBottom-marginTop-(lh+2*pad)
		for start, end := 0, 0; start < n; start = end {
			lines := int((d.room() - 2*pad) / lh)
			if lines < n-start && (fitsOnAPage || lines < 3) {
				d.f.AddPage()
				head()
				continue
			}
			end = start + min(lines, n-start)
			h := float64(end-start)*lh + 2*pad
			y := d.f.GetY()
			if i%2 == 1 {
				d.fillColor(stripe)
				d.f.Rect(marginLeft, y, contentWidth, h, "F")
			}
			x := marginLeft
			for j, c := range cols {
				if j < len(row) {
					if row[j].fill != nil {
						d.fillColor(*row[j].fill)
						d.f.Rect(x, y, c.width, h, "F")
					}
					d.setCellFont(c, row[j])
					d.textColor(row[j].color)
					for k := start; k < end && k < len(wrapped[j]); k++ {
						d.f.SetXY(x+1, y+pad+float64(k-start)*lh)
						d.f.CellFormat(c.width-2, lh, wrapped[j][k], "", 0, cmpAlign(c.align), false, 0, "")
					}
				}
				x += c.width
			}
			d.f.SetY(y + h)
		}
	}
	d.drawColor(lightGrey)
	d.f.SetLineWidth(0.2)
	d.f.Line(marginLeft, d.f.GetY(), pageWidth-marginRight, d.f.GetY())
	d.textColor(ink)
	d.f.SetY(d.f.GetY() + 2)
}

func (d *doc) setCellFont(c column, v cell) {
	switch {
	case v.bold:
		d.setFont(bold, 8)
	case c.style == mono:
		d.setFont(mono, 7.5)
	default:
		d.setFont(c.style, 8)
	}
}

func cmpAlign(a string) string {
	if a == "" {
		return "L"
	}
	return a
}

// box draws lines of text in a filled box with a coloured edge on its
// left: the verdict and the warnings.
func (d *doc) box(fill, edge, ink rgb, headline string, lines ...string) {
	const pad = 3.0
	w := contentWidth - 2*pad - 2
	d.setFont(bold, 11)
	hl := d.wrap(headline, w)
	hh := float64(len(hl)) * d.lineHeight()
	d.setFont(regular, 9)
	var body []string
	for _, l := range lines {
		body = append(body, d.wrap(l, w)...)
	}
	h := hh + float64(len(body))*d.lineHeight() + 2*pad
	if len(body) > 0 {
		h += 1
	}
	d.need(h)
	y := d.f.GetY()
	d.fillColor(fill)
	d.f.Rect(marginLeft, y, contentWidth, h, "F")
	d.fillColor(edge)
	d.f.Rect(marginLeft, y, 2, h, "F")
	d.f.SetY(y + pad)
	d.textColor(ink)
	d.setFont(bold, 11)
	for _, l := range hl {
		d.line(marginLeft+2+pad, w, l, "L")
	}
	d.f.SetY(d.f.GetY() + 1)
	d.setFont(regular, 9)
	for _, l := range body {
		d.line(marginLeft+2+pad, w, l, "L")
	}
	d.f.SetY(y + h + 3)
	d.textColor(black)
}

// formatTime is a report time as the document shows it, in UTC.
func formatTime(t time.Time) string {
	if t.IsZero() {
		return "unknown"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

func itoa(n int) string { return strconv.Itoa(n) }
