package html

// Scan details: the collectors, what they found, where discovery looked,
// and the runtime window.

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/report"
)

type collectorRow struct {
	Name, Status, Class, Items, Duration, Note string
}

type collectorsView struct {
	Summary string
	Rows    []collectorRow
}

func buildCollectors(cs []host.CollectorRun) collectorsView {
	if len(cs) == 0 {
		return collectorsView{Summary: "No collector runs recorded."}
	}
	counts := map[string]int{}
	var rows []collectorRow
	for _, c := range cs {
		counts[c.Status]++
		row := collectorRow{Name: line(c.Name), Status: line(c.Status), Items: fmt.Sprint(c.Items),
			Duration: report.FormatDuration(time.Duration(c.DurationMS * float64(time.Millisecond)))}
		switch c.Status {
		case host.StatusOK:
			row.Class = "ok"
		case host.StatusSkipped:
			row.Class = "muted"
		case host.StatusPartial:
			row.Class = "warn"
		default:
			row.Class = "bad"
		}
		var notes []string
		if c.Reason != "" {
			notes = append(notes, line(c.Reason))
		}
		if n := max(c.ErrorCount, len(c.Errors)); n > 0 {
			s := plural(n, "error", "errors")
			if len(c.Errors) > 0 {
				s += ", first: " + line(c.Errors[0])
			}
			notes = append(notes, s)
		}
		row.Note = strings.Join(notes, "; ")
		rows = append(rows, row)
	}
	var parts []string
	for _, s := range []string{host.StatusOK, host.StatusPartial, host.StatusFailed, host.StatusSkipped} {
		if counts[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[s], s))
		}
	}
	for _, s := range slices.Sorted(maps.Keys(counts)) {
		if !slices.Contains([]string{host.StatusOK, host.StatusPartial, host.StatusFailed, host.StatusSkipped}, s) {
			parts = append(parts, fmt.Sprintf("%d %s", counts[s], line(s)))
		}
	}
	return collectorsView{Summary: fmt.Sprintf("%s run: %s.", plural(len(cs), "collector", "collectors"), strings.Join(parts, ", ")), Rows: rows}
}

// inventoryLine says what was found: "5 dpkg packages; 5 components
// outside the package manager (Go 3, Maven 1, PyPI 1); 24 users".
func inventoryLine(r *report.Report) string {
	inv := r.Inventory
	if inv == nil {
		return ""
	}
	var pkgs []string
	for _, m := range slices.Sorted(maps.Keys(inv.Packages)) {
		pkgs = append(pkgs, plural(inv.Packages[m], line(m)+" package", line(m)+" packages"))
	}
	pkgLine := "no OS packages"
	if len(pkgs) > 0 {
		pkgLine = strings.Join(pkgs, ", ")
	}
	total := 0
	var ecos []string
	for _, e := range slices.Sorted(maps.Keys(inv.Software)) {
		total += inv.Software[e]
		ecos = append(ecos, fmt.Sprintf("%s %d", line(e), inv.Software[e]))
	}
	soft := "no components outside the package manager"
	if total > 0 {
		soft = fmt.Sprintf("%s outside the package manager (%s)", plural(total, "component", "components"), strings.Join(ecos, ", "))
	}
	return pkgLine + "; " + soft + "; " + plural(inv.Users, "user", "users")
}

type discoveryView struct {
	Summary string
	Roots   string
	Skipped []string
	Limits  []string
}

func discovery(d *host.Discovery) *discoveryView {
	if d == nil {
		return nil
	}
	v := &discoveryView{
		Summary: fmt.Sprintf("%s searched, %s visited, %s skipped, %s hit.",
			plural(len(d.Roots), "root", "roots"), plural(d.FilesVisited, "file", "files"),
			plural(len(d.Skipped), "path", "paths"), plural(len(d.LimitsHit), "limit", "limits")),
	}
	var roots []string
	for _, r := range d.Roots {
		roots = append(roots, line(r))
	}
	v.Roots = strings.Join(roots, ", ")
	for _, s := range d.Skipped {
		v.Skipped = append(v.Skipped, strings.TrimPrefix(line(s.Path)+": "+line(s.Reason), ": "))
	}
	for _, l := range d.LimitsHit {
		s := line(l.Limit)
		if l.Value != 0 {
			s += fmt.Sprintf(" = %d", l.Value)
		}
		if l.Path != "" {
			s += " at " + line(l.Path)
		}
		v.Limits = append(v.Limits, s)
	}
	return v
}

type observationView struct {
	Facts      []fact
	Notes      []string
	BlindSpots []string
}

// observation summarises the runtime window, so that a quiet runtime
// section is read for what it is: what was watched, how, and what the
// method cannot see.
func observation(r *report.Report) *observationView {
	o := r.Observation
	if o == nil {
		return nil
	}
	method := line(string(o.Method))
	for _, f := range o.Fallbacks {
		method += fmt.Sprintf("; %s could not run: %s", line(string(f.Method)), line(f.Reason))
	}
	w := o.Window
	span := fmt.Sprintf("%s to %s (%s of %s requested)", report.FormatTime(w.Start), report.FormatTime(w.End), report.FormatDuration(w.End.Sub(w.Start)), report.FormatDuration(w.Requested))
	if w.StoppedEarly {
		span += "; ended early"
	}
	events := fmt.Sprintf("%d delivered, %d lost", o.Stats.Events, o.Stats.Lost)
	if o.Stats.Skipped > 0 {
		events += fmt.Sprintf(", %d program runs skipped by the kernel", o.Stats.Skipped)
	}
	v := &observationView{Facts: []fact{
		{Label: "Method", Value: method},
		{Label: "Window", Value: span, Warn: w.StoppedEarly},
		{Label: "Events", Value: events, Warn: o.Stats.Lost > 0},
		{Label: "Seen", Value: fmt.Sprintf("%s, %s, %s, %s",
			plural(len(o.Connections), "connection", "connections"), plural(len(o.Listeners), "listening socket", "listening sockets"),
			plural(len(o.Processes), "process", "processes"), plural(len(o.Binaries), "binary", "binaries"))},
	}}
	for _, n := range o.Notes {
		v.Notes = append(v.Notes, line(n))
	}
	for _, b := range o.BlindSpots {
		v.BlindSpots = append(v.BlindSpots, line(b))
	}
	return v
}
