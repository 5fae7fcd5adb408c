package pdf

// bar is one bar of a chart: a sanitised label, a count, a colour, and an
// optional note after the count ("not run").
type bar struct {
	label     string
	n         int
	color     rgb
	note      string
	noteColor rgb
}

// barChart draws a horizontal bar chart with fpdf's rectangles: a label
// column, bars scaled to the largest count, and each count after its
// bar. A chart is kept on one page. more, when set, is a line under it.
func (d *doc) barChart(title string, bars []bar, more string) {
	const (
		labelW = 52.0
		barH   = 4.6
		gap    = 1.6
		countW = 40.0
	)
	areaW := contentWidth - labelW - countW
	h := 8 + float64(len(bars))*(barH+gap) + 3
	if more != "" {
		h += 5
	}
	d.f.SetY(d.f.GetY() + 2)
	d.need(h)
	d.setFont(bold, 9.5)
	d.textColor(accent)
	d.line(marginLeft, contentWidth, title, "L")
	d.f.SetY(d.f.GetY() + 1.5)
	top := 0
	for _, b := range bars {
		top = max(top, b.n)
	}
	// The axis: a hairline where the bars start.
	y0 := d.f.GetY()
	d.drawColor(lightGrey)
	d.f.SetLineWidth(0.2)
	d.f.Line(marginLeft+labelW, y0-0.5, marginLeft+labelW, y0+float64(len(bars))*(barH+gap))
	for _, b := range bars {
		y := d.f.GetY()
		d.setFont(regular, 8.5)
		d.textColor(ink)
		d.f.SetXY(marginLeft, y)
		d.f.CellFormat(labelW-2, barH, d.fit(b.label, labelW-4), "", 0, "R", false, 0, "")
		w := 0.0
		if top > 0 && b.n > 0 {
			// A bar is never thinner than a hairline: one finding among
			// thousands must still show.
			w = max(areaW*float64(b.n)/float64(top), 0.8)
		}
		if w > 0 {
			d.fillColor(b.color)
			d.f.Rect(marginLeft+labelW, y+0.4, w, barH-0.8, "F")
		}
		d.setFont(bold, 8.5)
		d.f.SetXY(marginLeft+labelW+w+1, y)
		count := itoa(b.n)
		d.f.CellFormat(d.width(count)+2, barH, count, "", 0, "L", false, 0, "")
		if b.note != "" {
			d.setFont(regular, 8)
			d.textColor(b.noteColor)
			d.f.CellFormat(countW+areaW-w-d.width(count)-4, barH, b.note, "", 0, "L", false, 0, "")
		}
		d.f.SetY(y + barH + gap)
	}
	if more != "" {
		d.setFont(regular, 8)
		d.textColor(grey)
		d.line(marginLeft+labelW, contentWidth-labelW, more, "L")
	}
	d.textColor(ink)
	d.f.SetY(d.f.GetY() + 2)
}
