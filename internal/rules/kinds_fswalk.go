package rules

import (
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/kensa-dev/kensa/internal/host"
)

// FSWalkCheck judges what the walk of the local file systems found
// (config/fswalk, kensa scan --fs-walk). The walk keeps only offending
// entries with their true counts, and says whether it saw everything: a
// failure found is a failure however far the walk got, but nothing found
// is a pass only when the walk was complete.
type FSWalkCheck struct {
	// Assert is what must hold: no_world_writable_files,
	// sticky_world_writable_dirs, no_unowned, suid_inventory or
	// log_files.
	Assert string `yaml:"assert"`

	// The log_files parameters. MaxMode is the most a log file may grant
	// (octal); Owners the accounts and Groups the groups that may own
	// one. With ServiceAccounts, a log file may also be owned by a system
	// account that cannot log in (a service writing its own log), and by
	// that account's primary group. Classes give files matching their
	// names other limits (wtmp and btmp are group utmp and readable).
	MaxMode         string     `yaml:"max_mode"`
	Owners          []string   `yaml:"owners"`
	Groups          []string   `yaml:"groups"`
	ServiceAccounts bool       `yaml:"service_accounts"`
	Classes         []LogClass `yaml:"classes"`
}

// LogClass is a set of log files with their own limits.
type LogClass struct {
	// Names are path.Match patterns: one with a "/" matches the path
	// below the log directory ("gdm3/*"), one without matches the base
	// name ("wtmp", "btmp.*", "*.journal").
	Names []string `yaml:"names"`
	// MaxMode, Owners and Groups replace the check's when set.
	MaxMode string   `yaml:"max_mode"`
	Owners  []string `yaml:"owners"`
	Groups  []string `yaml:"groups"`
}

// fsWalkAsserts are the assertions and what each establishes, for
// reasons and evidence.
var fsWalkAsserts = map[string]string{
	"no_world_writable_files":    "that no regular file is writable by others",
	"sticky_world_writable_dirs": "that every directory writable by others has the sticky bit",
	"no_unowned":                 "that every file has a known owner and group",
	"suid_inventory":             "that every set-user-id or set-group-id program belongs to an OS package",
	"log_files":                  "the modes and owners of the log files",
}

// maxFSEvidence caps the entries named in evidence; the inventory keeps
// more.
const maxFSEvidence = 50

// notWalked is the reason given when the walk did not run.
const notWalked = "not evaluated: the file-system walk did not run; kensa scan --fs-walk runs it"

func (c *FSWalkCheck) validate() error {
	if _, ok := fsWalkAsserts[c.Assert]; !ok {
		names := make([]string, 0, len(fsWalkAsserts))
		for k := range fsWalkAsserts {
			names = append(names, k)
		}
		slices.Sort(names)
		return fmt.Errorf("fs_walk: assert %q: want one of %s", c.Assert, strings.Join(names, ", "))
	}
	isLog := c.Assert == "log_files"
	if !isLog && (c.MaxMode != "" || len(c.Owners) > 0 || len(c.Groups) > 0 || c.ServiceAccounts || len(c.Classes) > 0) {
		return fmt.Errorf("fs_walk: max_mode, owners, groups, service_accounts and classes are for assert log_files")
	}
	if !isLog {
		return nil
	}
	if _, err := parseFSMode(c.MaxMode); err != nil {
		return fmt.Errorf("fs_walk: max_mode: %w", err)
	}
	if len(c.Owners) == 0 || len(c.Groups) == 0 {
		return fmt.Errorf("fs_walk: log_files needs owners and groups")
	}
	for i, cl := range c.Classes {
		if len(cl.Names) == 0 {
			return fmt.Errorf("fs_walk: classes[%d]: names is required", i)
		}
		for _, n := range cl.Names {
			if _, err := path.Match(n, ""); err != nil || n == "" || strings.HasPrefix(n, "/") {
				return fmt.Errorf("fs_walk: classes[%d]: name %q: a pattern relative to the log directory is required", i, n)
			}
		}
		if cl.MaxMode != "" {
			if _, err := parseFSMode(cl.MaxMode); err != nil {
				return fmt.Errorf("fs_walk: classes[%d]: max_mode: %w", i, err)
			}
		}
	}
	return nil
}

func parseFSMode(s string) (uint32, error) {
	m, err := strconv.ParseUint(s, 8, 32)
	if err != nil || m > 0o7777 {
		return 0, fmt.Errorf("%q: an octal mode such as 0640 is required", s)
	}
	return uint32(m), nil
}

func (c *FSWalkCheck) evaluate(inv *host.Inventory) Outcome {
	w := walkFacts(inv)
	if w == nil {
		for _, run := range inv.Collectors {
			if run.Name == "config/fswalk" && run.Reason != "" {
				return errorf("the file-system walk did not complete: %s", run.Reason)
			}
		}
		return errorf("%s", notWalked)
	}
	switch c.Assert {
	case "no_world_writable_files":
		return c.judgeList(w, w.WorldWritableFiles, "world-writable regular file", "writable by others", nil)
	case "sticky_world_writable_dirs":
		return c.judgeList(w, w.WorldWritableDirs, "world-writable directory without the sticky bit", "writable by others, no sticky bit", nil)
	case "no_unowned":
		if !w.OwnersChecked {
			return errorf("owners not judged: %s", w.OwnersNote)
		}
		return c.judgeList(w, w.Unowned, "file without a known owner or group", "", nssNote(w))
	case "suid_inventory":
		return c.suid(w)
	}
	return c.logs(inv, w)
}

func walkFacts(inv *host.Inventory) *host.FSWalk {
	if inv.Config == nil {
		return nil
	}
	return inv.Config.FSWalk
}

// walkSummary is the evidence line saying what was walked.
func walkSummary(w *host.FSWalk) string {
	s := fmt.Sprintf("walked %d entries in %d directories of %s in %.1fs", w.Entries, w.Dirs, strings.Join(w.Walked, ", "), w.DurationMS/1000)
	if len(w.Skipped) > 0 {
		s += "; not entered: " + joinCapped(w.Skipped, 8)
	}
	if len(w.Excluded) > 0 {
		s += "; container storage excluded: " + strings.Join(w.Excluded, ", ")
	}
	return s
}

func joinCapped(list []string, n int) string {
	if len(list) <= n {
		return strings.Join(list, ", ")
	}
	return strings.Join(list[:n], ", ") + fmt.Sprintf(" and %d more", len(list)-n)
}

// incomplete says why the walk fell short, "" when it did not.
func incomplete(w *host.FSWalk) string {
	var parts []string
	if w.Limit != "" {
		parts = append(parts, fmt.Sprintf("the walk stopped at its %s budget after %d entries", w.Limit, w.Entries))
	}
	if w.Unread > 0 {
		parts = append(parts, fmt.Sprintf("%d director(ies) could not be read (%s)", w.Unread, joinCapped(w.UnreadDirs, 5)))
	}
	if len(parts) == 0 && !w.Complete {
		parts = append(parts, "the walk did not complete")
	}
	return strings.Join(parts, "; ")
}

// fsEntry spells an entry: "/srv/x: file, mode 0666, owner root:root".
func fsEntry(e host.FSEntry) string {
	return fmt.Sprintf("%s: %s, mode %04o, owner %s:%s", quotePath(e.Path), e.Type, e.Mode, idName(e.Owner, e.UID), idName(e.Group, e.GID))
}

func idName(name string, id int) string {
	if name == "" {
		return fmt.Sprintf("%d (no entry)", id)
	}
	return name
}

// quotePath quotes a path with control or non-UTF-8 bytes, so that a
// hostile name cannot forge evidence lines.
func quotePath(p string) string {
	for _, r := range p {
		if r < 0x20 || r == 0x7f || r == 0xfffd {
			return strconv.Quote(p)
		}
	}
	return p
}

// judgeList fails on any entry of l; with none, it passes only after a
// complete walk.
func (c *FSWalkCheck) judgeList(w *host.FSWalk, l host.FSList, what, why string, notes []string) Outcome {
	if l.Count > 0 {
		var ev []string
		for i, e := range l.Entries {
			if i == maxFSEvidence {
				break
			}
			line := fsEntry(e)
			if why != "" {
				line += " (" + why + ")"
			}
			ev = append(ev, line)
		}
		if shown := min(len(l.Entries), maxFSEvidence); l.Count > shown {
			ev = append(ev, fmt.Sprintf("and %d more %s(s): %d found in all, %d kept in the inventory (config.fs_walk)", l.Count-shown, what, l.Count, len(l.Entries)))
		}
		if r := incomplete(w); r != "" {
			ev = append(ev, "note: "+r+": there may be more")
		}
		return fail(append(ev, notes...)...)
	}
	if r := incomplete(w); r != "" {
		return errorf("no %s found, but not established: %s", what, r)
	}
	if c.Assert == "sticky_world_writable_dirs" {
		// Rules pair it with no_world_writable_files, which says what
		// was walked.
		return pass(append([]string{fmt.Sprintf("no %s found in %d entries", what, w.Entries)}, notes...)...)
	}
	return pass(append([]string{walkSummary(w), fmt.Sprintf("no %s found", what)}, notes...)...)
}

// nssNote warns that accounts from a name service other than the files
// are not in /etc/passwd or /etc/group.
func nssNote(w *host.FSWalk) []string {
	var other []string
	for _, s := range slices.Concat(w.NSSPasswd, w.NSSGroup) {
		switch s {
		case "files", "compat", "systemd", "db":
		default:
			if !slices.Contains(other, s) {
				other = append(other, s)
			}
		}
	}
	if len(other) == 0 {
		return nil
	}
	return []string{fmt.Sprintf("note: /etc/nsswitch.conf also asks %s for accounts: an id listed may belong to one there; check it with getent passwd ID / getent group ID", strings.Join(other, ", "))}
}

func (c *FSWalkCheck) suid(w *host.FSWalk) Outcome {
	l := w.SetID
	if l.Count > 0 && w.PackageLists == 0 {
		return errorf("%d set-id program(s) found, but no OS package file list was read, so their owners are unknown", l.Count)
	}
	var bad, good []string
	for _, e := range l.Entries {
		line := fsEntry(e)
		if e.Package == "" {
			bad = append(bad, line+": no OS package owns it")
		} else {
			good = append(good, line+": package "+e.Package)
		}
	}
	if len(bad) > 0 {
		ev := capLines(bad, maxFSEvidence, "set-id program(s) not owned by a package")
		if l.Truncated() {
			ev = append(ev, fmt.Sprintf("note: %d set-id programs found, only the first %d were matched with packages", l.Count, len(l.Entries)))
		}
		if r := incomplete(w); r != "" {
			ev = append(ev, "note: "+r+": there may be more")
		}
		return fail(append(ev, capLines(good, maxFSEvidence, "packaged set-id program(s)")...)...)
	}
	if l.Truncated() {
		return errorf("%d set-id programs found, only %d matched with packages (all packaged): the rest is not established", l.Count, len(l.Entries))
	}
	if r := incomplete(w); r != "" {
		return errorf("every set-id program found belongs to a package, but not established for the whole disk: %s", r)
	}
	ev := []string{walkSummary(w), fmt.Sprintf("%d set-id program(s), each owned by an OS package; review that each needs its bit:", l.Count)}
	return pass(append(ev, capLines(good, maxFSEvidence, "packaged set-id program(s)")...)...)
}

func capLines(lines []string, n int, what string) []string {
	if len(lines) <= n {
		return lines
	}
	return append(slices.Clone(lines[:n]), fmt.Sprintf("and %d more %s", len(lines)-n, what))
}

// logLimits are the limits one log file is held to.
type logLimits struct {
	maxMode        uint32
	owners, groups []string
}

func (c *FSWalkCheck) limitsFor(rel string) logLimits {
	m, _ := parseFSMode(c.MaxMode)
	lim := logLimits{maxMode: m, owners: c.Owners, groups: c.Groups}
	base := path.Base(rel)
	for _, cl := range c.Classes {
		match := false
		for _, n := range cl.Names {
			subject := base
			if strings.Contains(n, "/") {
				subject = rel
			}
			if ok, _ := path.Match(n, subject); ok {
				match = true
				break
			}
		}
		if !match {
			continue
		}
		if cl.MaxMode != "" {
			lim.maxMode, _ = parseFSMode(cl.MaxMode)
		}
		if len(cl.Owners) > 0 {
			lim.owners = cl.Owners
		}
		if len(cl.Groups) > 0 {
			lim.groups = cl.Groups
		}
		return lim // the first class that matches decides
	}
	return lim
}

// serviceAccounts returns the system accounts that cannot log in (uid
// below UID_MIN of login.defs, 1000 when unset, not 0; a nologin or
// false shell, or none) mapped to their primary group's name.
func serviceAccounts(inv *host.Inventory) map[string]string {
	uidMin := 1000
	if inv.Config != nil && inv.Config.Login != nil {
		if s, ok := inv.Config.Login.Settings["UID_MIN"]; ok {
			if n, err := strconv.Atoi(s.Value); err == nil && n > 0 {
				uidMin = n
			}
		}
	}
	groups := map[int]string{}
	for _, g := range inv.Groups {
		if _, dup := groups[g.GID]; !dup {
			groups[g.GID] = g.Name
		}
	}
	out := map[string]string{}
	for _, u := range inv.Users {
		sh := path.Base(u.Shell)
		if u.UID == 0 || u.UID >= uidMin || (u.Shell != "" && sh != "nologin" && sh != "false") {
			continue
		}
		out[u.Name] = groups[u.GID]
	}
	return out
}

func (c *FSWalkCheck) logs(inv *host.Inventory, w *host.FSWalk) Outcome {
	if w.LogDir == "" {
		return errorf("the walk recorded no log directory")
	}
	// Service accounts: system accounts that cannot log in, and the
	// primary groups of those.
	service := map[string]string{}
	if c.ServiceAccounts {
		service = serviceAccounts(inv)
	}
	var bad []string
	for _, e := range w.LogFiles.Entries {
		rel := strings.TrimPrefix(e.Path, w.LogDir+"/")
		lim := c.limitsFor(rel)
		var why []string
		if extra := e.Mode &^ lim.maxMode; extra != 0 {
			why = append(why, fmt.Sprintf("grants %04o beyond %04o", extra, lim.maxMode))
		}
		ownerOK := e.Owner != "" && slices.Contains(lim.owners, e.Owner)
		svcGroup, isSvc := service[e.Owner]
		bySvc := !ownerOK && e.Owner != "" && isSvc
		if !ownerOK && !bySvc {
			why = append(why, fmt.Sprintf("owner %s not one of %s", idName(e.Owner, e.UID), strings.Join(lim.owners, ", ")+svcHint(c.ServiceAccounts)))
		}
		groupOK := e.Group != "" && (slices.Contains(lim.groups, e.Group) || (bySvc && svcGroup != "" && e.Group == svcGroup))
		if !groupOK {
			why = append(why, fmt.Sprintf("group %s not one of %s", idName(e.Group, e.GID), strings.Join(lim.groups, ", ")))
		}
		if len(why) > 0 {
			bad = append(bad, fsEntry(e)+": "+strings.Join(why, "; "))
		}
	}
	if len(bad) > 0 {
		ev := capLines(bad, maxFSEvidence, "log file(s) with unsafe access")
		if w.LogFiles.Truncated() {
			ev = append(ev, fmt.Sprintf("note: %d log files found, only the first %d judged", w.LogFiles.Count, len(w.LogFiles.Entries)))
		}
		if r := incomplete(w); r != "" {
			ev = append(ev, "note: "+r+": there may be more")
		}
		return fail(ev...)
	}
	if w.LogFiles.Truncated() {
		return errorf("%d log files found, only the first %d judged (all safe): the rest is not established", w.LogFiles.Count, len(w.LogFiles.Entries))
	}
	if r := incomplete(w); r != "" {
		return errorf("no log file with unsafe access found, but not established: %s", r)
	}
	if w.LogFiles.Count == 0 {
		return pass(walkSummary(w), fmt.Sprintf("no regular file under %s", w.LogDir))
	}
	return pass(walkSummary(w), fmt.Sprintf("%d log file(s) under %s, none grants more than allowed or has another owner or group", w.LogFiles.Count, w.LogDir))
}

func svcHint(on bool) string {
	if on {
		return " or a system account that cannot log in"
	}
	return ""
}
