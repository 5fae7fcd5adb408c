package pdf

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/kensa-dev/kensa/internal/report"
)

// cover draws the first page's title, what was assessed and by what, and
// the verdict.
func (d *doc) cover() {
	r := d.r
	d.setFont(bold, 20)
	d.textColor(accent)
	d.line(marginLeft, contentWidth, d.kindName(), "L")
	d.setFont(regular, 14)
	d.textColor(ink)
	// One line: the Host field below has the name in full.
	d.line(marginLeft, contentWidth, d.fit(d.host, contentWidth), "L")
	d.f.SetY(d.f.GetY() + 4)
	d.f.Bookmark("Assessment", 0, -1)

	h := r.Host
	d.field("Host", text(d.z.line(cmp.Or(h.Hostname, "not recorded"))))
	if h.MachineID != "" {
		d.field("Machine ID", code(d.z.line(h.MachineID)))
	}
	if h.Live {
		d.field("Target", text("Live host, file system root "+d.z.line(h.Root)))
	} else {
		d.field("Target", text("Image or mounted file system at "+d.z.line(h.Root)+": not a running system"))
	}
	d.field("Operating system", d.osValue())
	if h.Kernel != "" {
		d.field("Kernel", text(d.z.line(h.Kernel)))
	} else {
		d.field("Kernel", value{text: "not recorded (no running kernel, or it could not be read)", style: regular, color: grey})
	}
	d.field("Scan", text("started "+formatTime(r.StartedAt)+", finished "+formatTime(r.FinishedAt)+duration(r.StartedAt, r.FinishedAt)))
	tool := d.z.line(r.Tool.Name + " " + r.Tool.Version)
	if r.Tool.Commit != "" {
		tool += ", commit " + d.z.line(r.Tool.Commit)
	}
	d.field("Tool", text(tool))
	d.field("Report", text("Schema "+d.z.line(r.SchemaVersion)+". This document is a rendering of the JSON report of the scan, which is the record: it holds every field shown here and more."))
	if t := r.Tailoring; t != nil {
		vs := []value{text(d.z.line(t.File) + quoted(d.z.line(t.Title))), code("sha256 " + d.z.line(t.SHA256))}
		for _, c := range t.Changes {
			vs = append(vs, value{text: d.z.line(c), style: regular, color: ink, bullet: true})
		}
		d.field("Profile", vs...)
	}
	if s := r.Suppressions; s != nil {
		vs := []value{text(d.z.line(s.File) + ", " + plural(s.Rules, "rule", "rules")), code("sha256 " + d.z.line(s.SHA256))}
		for _, e := range s.Expired {
			vs = append(vs, value{text: "expired, no longer applied: " + d.z.line(e), style: regular, color: warnInk, bullet: true})
		}
		for _, u := range s.Unused {
			vs = append(vs, value{text: "matched nothing: " + d.z.line(u), style: regular, color: grey, bullet: true})
		}
		d.field("Suppressions", vs...)
	}
	if inv := r.Inventory; inv != nil {
		d.field("Inventory", text(d.inventoryLine(inv)))
	}
	// The count is only known when the document is closed: an alias
	// fpdf replaces then, at the end of its own line so that its width
	// (longer than any count) cannot upset the wrapping.
	d.field("Text", text("Characters replaced by \uFFFD: "+aliasReplaced),
		value{text: "Characters the document's fonts have no glyph for (CJK, Hebrew, Arabic, emoji), control characters and invisible formatting characters are drawn as \uFFFD; the JSON report has the original text.", style: regular, color: grey})

	d.verdict()
}

// osValue is the OS line, with its end of life.
func (d *doc) osValue() value {
	o := d.r.Host.OS
	name := d.z.line(o.PrettyName)
	if name == "" {
		name = strings.TrimSpace(d.z.line(o.ID + " " + o.Release))
	}
	if name == "" {
		name = "not identified"
	}
	note := ""
	if o.EOLNote != "" {
		note = " (" + d.z.line(o.EOLNote) + ")"
	}
	switch {
	case o.EOLReached:
		return value{text: name + "; END OF LIFE since " + d.z.line(o.EOL) + note + ": no more security updates", style: bold, color: badInk}
	case o.EOL != "":
		return text(name + "; supported until " + d.z.line(o.EOL) + note)
	}
	return text(name)
}

// inventoryLine counts what the collectors found.
func (d *doc) inventoryLine(inv *report.Inventory) string {
	var parts []string
	for _, m := range sortedKeys(inv.Packages) {
		parts = append(parts, fmt.Sprintf("%d %s", inv.Packages[m], d.z.line(m)))
	}
	s := "OS packages: none"
	if len(parts) > 0 {
		s = "OS packages: " + strings.Join(parts, ", ")
	}
	parts = parts[:0]
	for _, e := range sortedKeys(inv.Software) {
		parts = append(parts, fmt.Sprintf("%s %d", d.z.line(e), inv.Software[e]))
	}
	if len(parts) > 0 {
		s += "; software outside the package manager: " + strings.Join(parts, ", ")
	}
	return s + "; " + plural(inv.Users, "user account", "user accounts")
}

// duration says how long the scan took: " (7.25 s)".
func duration(start, end time.Time) string {
	if start.IsZero() || end.IsZero() || end.Before(start) {
		return ""
	}
	d := end.Sub(start)
	if d < time.Minute {
		return fmt.Sprintf(" (%.2f s)", d.Seconds())
	}
	return " (" + d.Round(time.Second).String() + ")"
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func capital(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func quoted(s string) string {
	if s == "" {
		return ""
	}
	return " (“" + s + "”)"
}

func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
