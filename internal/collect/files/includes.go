package files

import (
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/kensa-dev/kensa/internal/host"
)

// rsyslogInclude matches a one-line RainerScript include statement.
var rsyslogInclude = regexp.MustCompile(`(?i)^include\s*\(.*\bfile\s*=\s*"([^"]+)"`)

// directive is an include found in a file: the targets to read, in order.
type directive struct {
	// globs are paths, directories or globs (a pattern in the last
	// element only); ext filters a directory's files ("" for all).
	globs []string
	ext   string
	// confdir: a name seen in an earlier directory masks it in later ones,
	// and all the files are read in lexical order of their names.
	confdir bool
}

// includeOf returns the include directive of a kept line, if it is one.
func includeOf(syn syntax, t string) (directive, bool) {
	f := strings.Fields(t)
	if len(f) < 2 {
		if m := rsyslogInclude.FindStringSubmatch(t); syn == synRsyslog && m != nil {
			return directive{globs: []string{m[1]}}, true
		}
		return directive{}, false
	}
	switch syn {
	case synRsyslog:
		if strings.EqualFold(f[0], "$IncludeConfig") {
			return directive{globs: f[1:2]}, true
		}
		if m := rsyslogInclude.FindStringSubmatch(t); m != nil {
			return directive{globs: []string{m[1]}}, true
		}
	case synChrony:
		switch strings.ToLower(f[0]) {
		case "include":
			return directive{globs: f[1:2]}, true
		case "confdir":
			return directive{globs: f[1:], ext: ".conf", confdir: true}, true
		case "sourcedir":
			return directive{globs: f[1:], ext: ".sources", confdir: true}, true
		}
	}
	return directive{}, false
}

// enter opens p, a file of set included from "from" at the end of chain:
// it refuses an include loop and a chain deeper than MaxIncludeDepth,
// recording why, and loads the file. It returns the file's content, its
// index in r.out and the chain with p; ok is false when there is nothing
// to read (refused, absent or unreadable, and recorded so).
func (r *reader) enter(p, set, from string, chain []string) (b []byte, idx int, next []string, ok bool) {
	if slices.Contains(chain, p) {
		r.add(host.ConfigFile{Path: p, Set: set, Exists: true, IncludedFrom: from, Error: "include loop: " + strings.Join(append(chain, p), " -> ")})
		return nil, 0, nil, false
	}
	if len(chain) >= MaxIncludeDepth {
		r.add(host.ConfigFile{Path: p, Set: set, Exists: true, IncludedFrom: from, Error: fmt.Sprintf("included more than %d levels deep: not read", MaxIncludeDepth)})
		return nil, 0, nil, false
	}
	b, cf, ok := r.load(p, set, from)
	idx = len(r.out)
	r.add(cf)
	if !ok {
		return nil, 0, nil, false
	}
	return b, idx, append(slices.Clone(chain), p), true
}

// includer reads a file and, in place, what its include directives name
// (rsyslog, chrony).
func (r *reader) includer(p, set string, syn syntax, from string, chain []string) {
	p = path.Clean("/" + p)
	b, idx, chain, ok := r.enter(p, set, from, chain)
	if !ok {
		return
	}
	for _, l := range parseLines(b, syn) {
		r.seq++
		l.Seq = r.seq
		r.out[idx].Lines = append(r.out[idx].Lines, l)
		d, ok := includeOf(syn, l.Text)
		if !ok {
			continue
		}
		at := fmt.Sprintf("%s:%d", p, l.N)
		for _, f := range r.expand(d, set, path.Dir(p), at) {
			r.includer(f, set, syn, at, chain)
		}
	}
}

// expand lists the files an include directive names, relative paths taken
// from dir; a directory cut at MaxDirFiles is recorded in set.
func (r *reader) expand(d directive, set, dir, at string) []string {
	var out []string
	if d.confdir {
		byName := map[string]string{}
		var names []string
		for _, g := range d.globs {
			g = abs(g, dir)
			for _, f := range r.list(g, set, at, func(n string) bool { return strings.HasSuffix(n, d.ext) }) {
				if _, seen := byName[path.Base(f)]; !seen {
					byName[path.Base(f)] = f
					names = append(names, path.Base(f))
				}
			}
		}
		slices.Sort(names)
		for _, n := range names {
			out = append(out, byName[n])
		}
		return out
	}
	for _, g := range d.globs {
		g = abs(g, dir)
		pd, base := path.Split(g)
		pd = path.Clean(pd)
		if strings.ContainsAny(pd, "*?[") {
			r.errorf("%s: %s: a pattern in a directory name is not followed", at, g)
			continue
		}
		if !strings.ContainsAny(base, "*?[") {
			if fi, err := r.fsys.Stat(g); err == nil && fi.IsDir() {
				out = append(out, r.list(g, set, at, func(string) bool { return true })...)
			} else if err == nil {
				out = append(out, g)
			}
			continue
		}
		if _, err := path.Match(base, ""); err != nil {
			r.errorf("%s: %s: bad pattern", at, g)
			continue
		}
		out = append(out, r.list(pd, set, at, func(n string) bool {
			ok, _ := path.Match(base, n)
			return ok
		})...)
	}
	return out
}

func abs(p, dir string) string {
	if strings.HasPrefix(p, "/") {
		return path.Clean(p)
	}
	return path.Join(dir, p)
}
