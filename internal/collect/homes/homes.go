// Package homes collects the account facts only the configuration rules
// need (config/homes): the login shells of /etc/shells, the home
// directories of interactive users with their dot files, and root's PATH
// as its startup files assign it.
//
// # Interactive users
//
// An interactive user is a passwd entry whose shell is listed in
// /etc/shells and is not a nologin or false shell (without an
// /etc/shells, any shell but those). The collector runs after os/users.
//
// # Home directories
//
// Each interactive user's home is examined as config/paths examines a
// path: a home that is a symbolic link is reported as a link, with the
// mode and owner of what it leads to, resolved inside the root (hostfs
// never leads out of it). The entries of the directory whose names start
// with "." are kept as lstat sees them: a dot file that is a link is a
// link, never followed. Directory listing is bounded: at most
// MaxDirEntries entries are read from one home and MaxTotalEntries from
// all of them, and at most MaxHomes homes are examined; truncation is
// recorded, never silent.
//
// # Root's PATH
//
// Nothing is run. Every PATH assignment ("PATH=...", "export PATH=...",
// with or without quotes) in the files root's login shell reads is
// collected: /etc/environment, /etc/profile, /etc/profile.d/*.sh,
// /etc/bash.bashrc (/etc/bashrc on the Red Hat family), and ~/.bash_profile, ~/.bash_login, ~/.profile and
// ~/.bashrc of root's home; ENV_SUPATH of login.defs (which login and su
// set for root) comes first. Assignments in branches root never takes
// (Debian's /etc/profile sets a separate PATH for other users) are
// collected too, and a PATH computed by a command is not seen. The
// absolute directories the assignments name are examined.
package homes

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strings"

	"github.com/kensa-dev/kensa/internal/collect"
	"github.com/kensa-dev/kensa/internal/collect/system"
	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/hostfs"
)

const (
	// MaxHomes caps the homes examined.
	MaxHomes = 5000
	// MaxDirEntries caps the entries read from one home directory; a
	// real home has tens of dot files.
	MaxDirEntries = 10000
	// MaxTotalEntries caps the entries read from all homes together.
	MaxTotalEntries = 200000
	// MaxDotFiles caps the dot files kept for one home.
	MaxDotFiles = 1000
	// FileLimit caps each startup file and /etc/shells.
	FileLimit = 1 << 20
	// MaxProfileD caps the /etc/profile.d scripts read.
	MaxProfileD = 200
	// MaxPathDirs caps the PATH directories examined.
	MaxPathDirs = 500
	// Shells is the list of login shells.
	Shells = "/etc/shells"
)

// Collector fills inv.Config.Accounts.
type Collector struct{}

// New returns the homes collector.
func New() *Collector { return &Collector{} }

// Name implements collect.Collector.
func (*Collector) Name() string { return "config/homes" }

// Collect implements collect.Collector.
func (c *Collector) Collect(ctx context.Context, env *collect.Env, inv *host.Inventory) error {
	if len(inv.Users) == 0 {
		return collect.NotApplicable("no accounts were collected (os/users)")
	}
	a := &host.Accounts{Homes: []host.Home{}}
	var src []string
	b, err := hostfs.ReadFileLimit(env.FS, Shells, FileLimit)
	switch {
	case err == nil:
		a.ShellsFound = true
		a.Shells = ParseShells(b)
		src = append(src, fmt.Sprintf("%s (%d shells)", Shells, len(a.Shells)))
	case errors.Is(err, fs.ErrNotExist):
		src = append(src, Shells+" absent: any shell but nologin and false counts as a login shell")
	default:
		a.ShellsError = err.Error()
		env.Errorf("read %s: %v", Shells, err)
		src = append(src, Shells+" unreadable")
	}
	names := owners(inv)
	total, unlisted := 0, 0
	for _, u := range inv.Users {
		if err := ctx.Err(); err != nil {
			return err
		}
		if !a.LoginShell(u.Shell) {
			continue
		}
		if len(a.Homes) == MaxHomes {
			a.HomesTruncated = true
			env.Errorf("more than %d interactive users: the other homes were not examined", MaxHomes)
			break
		}
		h := examineHome(env.FS, u, &total)
		names.fill(&h.Dir)
		for i := range h.DotFiles {
			names.fill(&h.DotFiles[i])
		}
		if h.Dir.Error != "" {
			env.Errorf("home of %s: %s: %s", u.Name, h.Dir.Path, h.Dir.Error)
		}
		switch {
		case h.DotFilesTruncated && len(h.DotFiles) == 0 && total >= MaxTotalEntries:
			unlisted++ // summed up below, not one message a home
		case h.DotFilesError != "":
			env.Errorf("home of %s: %s", u.Name, h.DotFilesError)
		case h.DotFilesTruncated:
			env.Errorf("home of %s: %s: not every entry was read", u.Name, h.Dir.Path)
		}
		a.Homes = append(a.Homes, h)
		env.Count(1)
	}
	src = append(src, fmt.Sprintf("%d interactive users' homes", len(a.Homes)))
	if total >= MaxTotalEntries {
		src = append(src, fmt.Sprintf("home listing stopped at %d entries", MaxTotalEntries))
		env.Errorf("home listing stopped after %d directory entries: %d homes were not listed", MaxTotalEntries, unlisted)
	}
	a.RootPath = rootPath(env, inv)
	for i := range a.RootPath.Dirs {
		names.fill(&a.RootPath.Dirs[i])
	}
	a.Source = strings.Join(src, "; ")
	if inv.Config == nil {
		inv.Config = &host.Config{}
	}
	inv.Config.Accounts = a
	return nil
}

// ParseShells reads /etc/shells as getusershell does: one path a line,
// "#" comments and blank lines skipped, surrounding blanks trimmed.
func ParseShells(b []byte) []string {
	out := []string{}
	for _, l := range strings.Split(string(b), "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		if f := strings.Fields(l); len(f) > 0 {
			out = append(out, f[0])
		}
	}
	return out
}

// ownerNames maps ids to the first account and group names that have them.
type ownerNames struct{ users, groups map[int]string }

func owners(inv *host.Inventory) ownerNames {
	n := ownerNames{users: map[int]string{}, groups: map[int]string{}}
	for _, u := range inv.Users {
		if _, ok := n.users[u.UID]; !ok {
			n.users[u.UID] = u.Name
		}
	}
	for _, g := range inv.Groups {
		if _, ok := n.groups[g.GID]; !ok {
			n.groups[g.GID] = g.Name
		}
	}
	return n
}

func (n ownerNames) fill(p *host.PathInfo) {
	if p.Exists && p.UID >= 0 {
		p.Owner, p.Group = n.users[p.UID], n.groups[p.GID]
	}
}

// examineHome examines u's home and lists its dot files; total counts the
// directory entries read so far over all homes.
func examineHome(fsys hostfs.FS, u host.User, total *int) host.Home {
	h := host.Home{User: u.Name, UID: u.UID, GID: u.GID, Shell: u.Shell}
	if !path.IsAbs(u.Home) {
		h.Dir = host.PathInfo{Path: u.Home, UID: -1, GID: -1, Error: "home is not an absolute path"}
		return h
	}
	h.Dir = system.Examine(fsys, u.Home)
	if !h.Dir.Exists || h.Dir.Error != "" {
		return h
	}
	dir := h.Dir.Path
	if h.Dir.Resolved != "" {
		dir = h.Dir.Resolved
	}
	fi, err := fsys.Stat(dir)
	if err != nil {
		h.DotFilesError = fmt.Sprintf("%s: %v", dir, err)
		return h
	}
	if !fi.IsDir() {
		// A home that is a file or a link to one: nothing to list; the
		// rule says what it is.
		return h
	}
	if *total >= MaxTotalEntries {
		h.DotFilesTruncated = true
		h.DotFilesError = fmt.Sprintf("%s not listed: %d directory entries were read from the homes already", dir, MaxTotalEntries)
		return h
	}
	budget := min(MaxDirEntries, MaxTotalEntries-*total)
	des, truncated, err := listDir(fsys, dir, budget)
	*total += len(des)
	if err != nil {
		h.DotFilesError = fmt.Sprintf("list %s: %v", dir, err)
	}
	h.DotFilesTruncated = truncated
	for _, e := range des {
		if !strings.HasPrefix(e.Name(), ".") {
			continue
		}
		if len(h.DotFiles) == MaxDotFiles {
			h.DotFilesTruncated = true
			break
		}
		h.DotFiles = append(h.DotFiles, dotFile(path.Join(h.Dir.Path, e.Name()), e))
	}
	sort.Slice(h.DotFiles, func(i, j int) bool { return h.DotFiles[i].Path < h.DotFiles[j].Path })
	return h
}

// dotFile describes a directory entry as lstat sees it: a link is a link.
func dotFile(p string, e fs.DirEntry) host.PathInfo {
	pi := host.PathInfo{Path: p, UID: -1, GID: -1, Exists: true}
	fi, err := e.Info()
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			// Removed while listing.
			pi.Exists = false
		} else {
			pi.Error = err.Error()
		}
		return pi
	}
	switch pi.Type = collect.TypeName(fi.Mode()); pi.Type {
	case "file", "dir", "link":
	default:
		pi.Type = "other"
	}
	pi.Mode = collect.UnixMode(fi.Mode())
	if uid, gid, ok := hostfs.Owner(fi); ok {
		pi.UID, pi.GID = int(uid), int(gid)
	}
	return pi
}

// pathAssign matches a PATH assignment statement at the start of a line
// or after "then", "else", "do", ";" or "&&".
var pathAssign = regexp.MustCompile(`(?:^|[;&|]\s*|\b(?:then|else|do)\s+)(?:export\s+|readonly\s+|declare\s+-x\s+|typeset\s+-x\s+)?PATH=`)

// mungeDef opens the definition of the Red Hat family's pathmunge helper;
// mungeCall is a call of it, with its directory and its "after" argument.
var (
	mungeDef  = regexp.MustCompile(`^(?:function\s+pathmunge\b|pathmunge\s*\(\s*\))`)
	mungeCall = regexp.MustCompile(`(?:^|[;&|]\s*|\b(?:then|else|do)\s+)pathmunge\s+("[^"]*"|'[^']*'|[^\s;&|#]+)(?:\s+(after))?`)
)

// ParseAssignments returns the values of the PATH assignments in a shell
// startup file or /etc/environment, with their lines; comments are
// skipped and quotes removed. A value is cut at an unquoted blank, ";",
// "&", "|" or "#", as the shell would end the word.
//
// The Red Hat family's /etc/profile builds root's PATH with a helper,
// "pathmunge DIR [after]", whose body assigns PATH=$1:$PATH: the body's
// assignments are not collected, and each call is collected as the
// assignment it makes ("DIR:$PATH", or "$PATH:DIR" with after). The
// helper is recognised by that name only.
func ParseAssignments(b []byte, file string) []host.Setting {
	var out []host.Setting
	inMunge := false
	for n, l := range strings.Split(string(b), "\n") {
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		if mungeDef.MatchString(t) {
			inMunge = !strings.HasSuffix(t, "}")
			continue
		}
		if inMunge {
			if strings.HasPrefix(t, "}") {
				inMunge = false
			}
			continue
		}
		for _, m := range mungeCall.FindAllStringSubmatch(t, -1) {
			dir, ok := word(m[1])
			if !ok || dir == "" {
				continue
			}
			v := dir + ":$PATH"
			if m[2] == "after" {
				v = "$PATH:" + dir
			}
			out = append(out, host.Setting{Value: v, File: file, Line: n + 1})
		}
		for _, loc := range pathAssign.FindAllStringIndex(t, -1) {
			if v, ok := word(t[loc[1]:]); ok {
				out = append(out, host.Setting{Value: v, File: file, Line: n + 1})
			}
		}
	}
	return out
}

// word reads one shell word with single and double quotes removed; ok is
// false for an unterminated quote.
func word(s string) (string, bool) {
	var b strings.Builder
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0 && c == quote:
			quote = 0
		case quote != 0:
			b.WriteByte(c)
		case c == '\'' || c == '"':
			quote = c
		case c == '\\' && i+1 < len(s):
			i++
			b.WriteByte(s[i])
		case c == ' ' || c == '\t' || c == ';' || c == '&' || c == '|' || c == '#' || c == '`' || c == ')':
			return b.String(), true
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), quote == 0
}

// rootPath reads root's PATH assignments and examines the directories
// they name.
func rootPath(env *collect.Env, inv *host.Inventory) *host.RootPath {
	rp := &host.RootPath{Assignments: []host.Setting{}, Files: []string{}, Dirs: []host.PathInfo{}}
	if ld := inv.Config; ld != nil && ld.Login != nil {
		if s, ok := ld.Login.Settings["ENV_SUPATH"]; ok {
			v := strings.TrimPrefix(s.Value, "PATH=")
			rp.Assignments = append(rp.Assignments, host.Setting{Value: v, File: s.File, Line: s.Line})
		}
	}
	home := "/root"
	for _, u := range inv.Users {
		if u.UID == 0 && u.Name == "root" {
			if path.IsAbs(u.Home) {
				home = u.Home
			}
			break
		}
	}
	files := []string{"/etc/environment", "/etc/profile"}
	// /etc/profile runs /etc/profile.d/*.sh in glob (lexical) order.
	des, truncated, err := listDir(env.FS, "/etc/profile.d", 4*MaxProfileD)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		env.Errorf("list /etc/profile.d: %v", err)
	}
	var scripts []string
	for _, de := range des {
		if strings.HasSuffix(de.Name(), ".sh") {
			scripts = append(scripts, path.Join("/etc/profile.d", de.Name()))
		}
	}
	sort.Strings(scripts)
	if truncated || len(scripts) > MaxProfileD {
		env.Errorf("/etc/profile.d: too many entries, only the first %d scripts read", MaxProfileD)
		scripts = scripts[:min(len(scripts), MaxProfileD)]
	}
	files = append(files, scripts...)
	files = append(files, "/etc/bash.bashrc", "/etc/bashrc")
	for _, f := range []string{".bash_profile", ".bash_login", ".profile", ".bashrc"} {
		files = append(files, path.Join(home, f))
	}
	for _, f := range files {
		b, err := hostfs.ReadFileLimit(env.FS, f, FileLimit)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			env.Errorf("read %s: %v", f, err)
			continue
		}
		rp.Files = append(rp.Files, f)
		rp.Assignments = append(rp.Assignments, ParseAssignments(b, f)...)
	}
	rp.Home = home
	seen := map[string]bool{}
	for _, a := range rp.Assignments {
		for _, d := range strings.Split(a.Value, ":") {
			d = rp.Expand(d)
			if !path.IsAbs(d) || strings.Contains(d, "$") || seen[d] {
				continue
			}
			seen[d] = true
			if len(rp.Dirs) == MaxPathDirs {
				env.Errorf("root's PATH names more than %d directories: the rest were not examined", MaxPathDirs)
				return rp
			}
			pi := system.Examine(env.FS, d)
			if pi.Error != "" {
				env.Errorf("%s: %s", d, pi.Error)
			}
			rp.Dirs = append(rp.Dirs, pi)
		}
	}
	return rp
}

// listDir reads at most max entries of dir, in batches, so that a
// directory of millions of entries costs no more than max of them.
func listDir(fsys hostfs.FS, dir string, max int) ([]fs.DirEntry, bool, error) {
	f, err := fsys.Open(dir)
	if err != nil {
		return nil, false, err
	}
	defer f.Close()
	d, ok := f.(fs.ReadDirFile)
	if !ok {
		return nil, false, &fs.PathError{Op: "readdir", Path: dir, Err: errors.ErrUnsupported}
	}
	var out []fs.DirEntry
	for len(out) < max {
		batch, err := d.ReadDir(min(256, max-len(out)))
		out = append(out, batch...)
		if errors.Is(err, io.EOF) || (err == nil && len(batch) == 0) {
			return out, false, nil
		}
		if err != nil {
			return out, false, err
		}
	}
	return out, true, nil
}
