package behavior

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/kensa-dev/kensa/internal/elfsec"
	"github.com/kensa-dev/kensa/internal/finding"
	"github.com/kensa-dev/kensa/internal/observe"
)

// codeUse is the code the window's processes ran: which files, used by
// whom, and which could not be analysed. Processes in other mount
// namespaces are left out: their paths name files the observer did not
// analyse.
type codeUse struct {
	files  []string // sorted
	users  map[string][]*observe.Process
	bins   map[string]*observe.Binary
	failed map[string]string // file -> why it was not analysed
	// processes counts those whose code is judged; otherNS those in other
	// mount namespaces; unreadable another user's, which an observer
	// without root privileges cannot read; unknownExe those started in
	// the window that exited before their executable or maps could be
	// read; noCode the others listed without any code (not produced by
	// the observer, but a report's observations can say so).
	processes, otherNS, unreadable, unknownExe, noCode int
}

// codeFiles returns the executable then the mapped objects of p, once each.
func codeFiles(p *observe.Process) []string {
	var out []string
	for _, f := range append([]string{p.Exe}, p.Objects...) {
		if f != "" && !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}

func (e *evaluation) codeInUse() *codeUse {
	u := &codeUse{users: map[string][]*observe.Process{}, bins: map[string]*observe.Binary{}, failed: map[string]string{}}
	for i := range e.obs.Binaries {
		u.bins[e.obs.Binaries[i].Path] = &e.obs.Binaries[i]
	}
	for i := range e.obs.Processes {
		p := &e.obs.Processes[i]
		switch {
		case p.Unreadable:
			// Not a process that exited: one that is hidden from us.
			u.unreadable++
			continue
		case p.OtherMountNS:
			u.otherNS++
			continue
		}
		files := codeFiles(p)
		if len(files) == 0 {
			if p.StartedInWindow {
				u.unknownExe++
			} else {
				u.noCode++
			}
			continue
		}
		u.processes++
		for _, f := range files {
			u.users[f] = append(u.users[f], p)
		}
	}
	for f := range u.users {
		u.files = append(u.files, f)
		switch b := u.bins[f]; {
		case b == nil:
			u.failed[f] = "not analysed"
		case b.ELF == nil && b.Interpreter == "":
			// A script is no gap: its interpreter is the process's
			// executable, analysed as such.
			u.failed[f] = cmp.Or(b.Error, "no analysis")
		}
	}
	slices.Sort(u.files)
	return u
}

// failedSample names a few of the files that could not be analysed.
func (u *codeUse) failedSample() string {
	var fs []string
	for f := range u.failed {
		fs = append(fs, f)
	}
	slices.Sort(fs)
	var parts []string
	for _, f := range fs[:min(3, len(fs))] {
		parts = append(parts, f+": "+u.failed[f])
	}
	if len(fs) > 3 {
		parts = append(parts, "...")
	}
	return strings.Join(parts, ", ")
}

// hardening judges the NX or stack protector verdict of every file the
// processes used (software-without-dep, software-without-stack-cookies).
// Only "fail" is a finding: not_applicable (Go, Rust, static) and unknown
// are counted in the result.
func (e *evaluation) hardening(id string, u *codeUse) {
	what, check := "DEP (NX)", func(r *elfsec.Result) elfsec.Check { return r.NX }
	if id == RuleWithoutStackCookies {
		what, check = "stack cookies", func(r *elfsec.Result) elfsec.Check { return r.StackProtector }
	}
	var pass, fail, unknown int
	na := map[string]int{}
	for _, path := range u.files {
		b := u.bins[path]
		if b == nil || b.ELF == nil {
			continue
		}
		c := check(b.ELF)
		switch c.Status {
		case elfsec.Pass:
			pass++
			continue
		case elfsec.NotApplicable:
			na[toolchain(b.ELF)]++
			continue
		case elfsec.Fail:
		default:
			unknown++
			continue
		}
		fail++
		f := e.finding(id, path, fmt.Sprintf("%s runs without %s: %s", originTitle(b), what, path),
			map[string]string{"path": path, "origin": string(b.Origin), "package": b.Package})
		f.Evidence = append(f.Evidence, path+": "+originText(b), "elfsec: "+c.Reason)
		f.Evidence = append(f.Evidence, usedBy(u.users[path])...)
	}

	nNA := 0
	var naParts []string
	for _, k := range []string{"Go", "Rust", "static", "other"} {
		if na[k] > 0 {
			nNA += na[k]
			naParts = append(naParts, fmt.Sprintf("%d %s", na[k], k))
		}
	}
	reason := fmt.Sprintf("%s used by %s examined: %d without %s, %d with, %d not applicable", plural(len(u.files), "file", "files"),
		plural(u.processes, "process", "processes"), fail, what, pass, nNA)
	if nNA > 0 {
		reason += " (" + strings.Join(naParts, ", ") + ")"
	}
	reason += fmt.Sprintf(", %d unknown; %d could not be analysed", unknown, len(u.failed))
	if u.otherNS > 0 {
		reason += fmt.Sprintf("; %s in other mount namespaces not analysed", plural(u.otherNS, "process", "processes"))
	}
	if u.unreadable > 0 {
		reason += "; " + unreadableText(u.unreadable, "process", "processes")
	}
	st := status(fail > 0)
	switch {
	case fail > 0:
	case len(u.files) == 0 && u.unreadable > 0:
		// Processes ran whose code we could not see: nothing was judged,
		// which is not "no software in use".
		st = finding.StatusError
		reason = fmt.Sprintf("no file examined: %s; run kensa as root to analyse their code", unreadableText(u.unreadable, "process", "processes"))
		if u.otherNS > 0 {
			reason += fmt.Sprintf("; %s in other mount namespaces not analysed", plural(u.otherNS, "process", "processes"))
		}
	case len(u.files) == 0 && (u.otherNS > 0 || u.unknownExe > 0):
		// Processes ran (in containers, or gone before they were read)
		// but none of their code could be examined: not "no software".
		st = finding.StatusError
	case len(u.files) == 0:
		st = finding.StatusNotApplicable
	case pass+nNA == 0:
		// Nothing was decided either way: not a pass.
		st = finding.StatusError
	}
	e.result(id, st, reason)
}

// toolchain names why a file is not applicable, for the result's counts.
func toolchain(r *elfsec.Result) string {
	switch {
	case r.Toolchain.Language == elfsec.LangGo:
		return "Go"
	case r.Toolchain.Language == elfsec.LangRust:
		return "Rust"
	case r.Toolchain.Static:
		return "static"
	}
	return "other"
}

// originTitle starts a finding's title so that third-party software
// (Inspector's distinction) stands out from distro packages.
func originTitle(b *observe.Binary) string {
	switch b.Origin {
	case observe.ThirdParty:
		return "Third-party software"
	case observe.FromPackage:
		return "Software of package " + cmp.Or(b.Package, "?")
	}
	return "Software of unknown origin"
}

func originText(b *observe.Binary) string {
	switch b.Origin {
	case observe.ThirdParty:
		return "not from any OS package: third-party software"
	case observe.FromPackage:
		return "from the OS package " + cmp.Or(b.Package, "(unnamed)")
	}
	return "origin unknown: no package database could be read"
}

// usedBy lists a few processes using a file: pid, uid and command line.
func usedBy(ps []*observe.Process) []string {
	ps = slices.Clone(ps)
	slices.SortFunc(ps, func(a, b *observe.Process) int { return cmp.Compare(a.PID, b.PID) })
	var out []string
	for i, p := range ps {
		if i == maxListed {
			out = append(out, fmt.Sprintf("and %s more", plural(len(ps)-i, "process", "processes")))
			break
		}
		out = append(out, fmt.Sprintf("used by pid %d (uid %d): %s", p.PID, p.UID, cmdline(p)))
	}
	return out
}

// cmdline is a process's command line for evidence, cut to a readable
// length.
func cmdline(p *observe.Process) string {
	s := strings.Join(p.Cmdline, " ")
	if s == "" {
		s = program(p.Exe, p.Comm)
	}
	if len(s) > 160 {
		s = s[:157] + "..."
	}
	return s
}

// weakElem is an element of a file's path that a non-root user can
// change, and who.
type weakElem struct {
	elem observe.PathElem
	by   []string
	// group: writable through its group, so evidence names the gid.
	group bool
}

// writable returns the elements of chain (directories from "/" down, then
// the file) a non-root user can change: owned by another user, or
// writable by every user or by a group other than root.
//
// A sticky directory (such as /tmp) is not itself a weakness: the sticky
// bit lets only the owner of an entry (or of the directory) rename or
// delete it, and others can only add entries, which replaces nothing. So
// what a sticky directory exposes is decided by the entry below it: root's
// is safe, another user's is reported as that entry, owned by that user.
func writable(chain []observe.PathElem) []weakElem {
	var out []weakElem
	for i, el := range chain {
		var w weakElem
		w.elem = el
		if el.UID != 0 {
			w.by = append(w.by, fmt.Sprintf("uid %d (its owner)", el.UID))
		}
		sticky := el.Dir && el.Mode&01000 != 0 && i+1 < len(chain)
		if el.Mode&0002 != 0 && !sticky {
			w.by = append(w.by, "every user")
		}
		if el.Mode&0020 != 0 && el.GID != 0 && !sticky {
			w.by = append(w.by, fmt.Sprintf("members of group %d", el.GID))
			w.group = true
		}
		if len(w.by) > 0 {
			out = append(out, w)
		}
	}
	return out
}

func (w weakElem) String() string {
	kind := "file"
	if w.elem.Dir {
		kind = "directory"
	}
	owner := fmt.Sprintf("uid %d", w.elem.UID)
	if w.group {
		owner += fmt.Sprintf(", gid %d", w.elem.GID)
	}
	return fmt.Sprintf("%s %s is mode %04o owned by %s: writable by %s", kind, w.elem.Path, w.elem.Mode&07777, owner, strings.Join(w.by, " and "))
}

// rootHit is a root process using a file a non-root user can change.
type rootHit struct {
	p    *observe.Process
	file string
	weak []weakElem
}

// rootPermissions judges the code of every root process
// (root-process-insecure-permissions). The subject is the program and the
// file; the pid is evidence only.
func (e *evaluation) rootPermissions(u *codeUse) {
	hits := groups[rootHit]{}
	checked, unknown := map[string]bool{}, map[string]bool{}
	var roots, otherNS, unreadable int
	for i := range e.obs.Processes {
		p := &e.obs.Processes[i]
		if p.UID != 0 {
			continue
		}
		if p.Unreadable {
			// Its uid is known, its code is not: unknown, never absent.
			unreadable++
			continue
		}
		if p.OtherMountNS {
			otherNS++
			continue
		}
		files := codeFiles(p)
		if len(files) == 0 {
			continue
		}
		roots++
		for _, f := range files {
			b := u.bins[f]
			if b == nil || len(b.Chain) == 0 {
				unknown[f] = true
				continue
			}
			checked[f] = true
			if w := writable(b.Chain); len(w) > 0 {
				hits.add(program(p.Exe, p.Comm)+" "+f, rootHit{p, f, w})
			}
		}
	}
	for _, k := range hits.keys() {
		hs := hits[k]
		slices.SortFunc(hs, func(a, b rootHit) int { return cmp.Compare(a.p.PID, b.p.PID) })
		h0 := hs[0]
		prog := program(h0.p.Exe, h0.p.Comm)
		title := fmt.Sprintf("Root process %s maps a file a non-root user can replace: %s", prog, h0.file)
		if h0.file == h0.p.Exe {
			title = "Root process runs an executable a non-root user can replace: " + h0.file
		}
		f := e.finding(RuleRootInsecurePerms, k, title, map[string]string{
			"exe": h0.p.Exe, "comm": h0.p.Comm, "path": h0.file, "writable": h0.weak[0].elem.Path,
		})
		var weak []string
		for _, w := range h0.weak {
			weak = append(weak, w.String())
		}
		for i, h := range hs {
			if i == maxListed {
				f.Evidence = append(f.Evidence, fmt.Sprintf("and %s more", plural(len(hs)-i, "root process", "root processes")))
				break
			}
			verb := "maps"
			if h.file == h.p.Exe {
				verb = "runs"
			}
			name := h.p.Exe
			if name == "" {
				name = cmp.Or(h.p.Comm, "?") + " (executable unknown)"
			}
			f.Evidence = append(f.Evidence, fmt.Sprintf("pid %d (uid 0) %s %s %s; %s", h.p.PID, name, verb, h.file, strings.Join(weak, "; ")))
		}
	}

	weakPIDs := map[int]bool{}
	for _, hs := range hits {
		for _, h := range hs {
			weakPIDs[h.p.PID] = true
		}
	}
	reason := fmt.Sprintf("%s examined (%s): %d running code a non-root user can change (%s); %s with unknown permissions",
		plural(roots, "root process", "root processes"), plural(len(checked)+len(unknown), "code file", "code files"), len(weakPIDs),
		plural(len(hits), "finding", "findings"), plural(len(unknown), "file", "files"))
	switch {
	case roots == 0 && unreadable > 0:
		reason = fmt.Sprintf("no root process's code examined: %s; run kensa as root to check them", unreadableText(unreadable, "root process", "root processes"))
	case roots == 0:
		reason = "no root process observed"
	case unreadable > 0:
		reason += "; " + unreadableText(unreadable, "root process", "root processes") + ": their code's permissions are unknown"
	}
	if otherNS > 0 {
		reason += fmt.Sprintf("; %s in other mount namespaces not analysed", plural(otherNS, "root process", "root processes"))
	}
	switch {
	case len(hits) > 0:
		e.result(RuleRootInsecurePerms, finding.StatusFail, reason)
	case roots == 0 && unreadable > 0:
		// Root processes ran and none could be read: not "no root process".
		e.result(RuleRootInsecurePerms, finding.StatusError, reason)
	case roots == 0:
		e.result(RuleRootInsecurePerms, finding.StatusNotApplicable, reason)
	case len(checked) == 0:
		// No file's permissions were known: not a pass.
		e.result(RuleRootInsecurePerms, finding.StatusError, reason)
	default:
		e.result(RuleRootInsecurePerms, finding.StatusPass, reason)
	}
}

// unreadableText says that n processes could not be read and why: "3
// processes could not be read (access denied: another user's without root privileges, or protected from root by the kernel or a sandbox)".
func unreadableText(n int, one, many string) string {
	return plural(n, one, many) + " could not be read (access denied: another user's without root privileges, or protected from root by the kernel or a sandbox)"
}
