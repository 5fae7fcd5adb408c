// Package fswalk walks the local file systems of a root once
// (config/fswalk) and keeps what the CIS file-system controls judge:
// world-writable regular files, world-writable directories without the
// sticky bit, entries whose uid or gid has no account or group, set-user-id
// and set-group-id programs with the OS package that owns each, and the
// regular files under /var/log with their modes and owners.
//
// # Cost
//
// The walk examines every entry of the local disks (a few hundred
// thousand on a server, seconds of work), so it runs only when asked
// (kensa scan --fs-walk) and is bounded: MaxEntries entries and Timeout of
// wall time, after which it stops and says so (FSWalk.Complete false,
// Limit). Only the entries that matter are kept, MaxKept a list (MaxLogFiles
// for the log files); each list keeps its true count.
//
// # What is walked
//
// Symbolic links are never followed. /proc, /sys, /dev and /run are not
// entered (pseudo and memory file systems, whose entries are the kernel's
// and the running services', not files on disk). On a live host the mount
// table (config/mounts, else proc/self/mounts) adds every mount point of a
// pseudo or remote file system type (proc, sysfs, cgroup, overlay, nfs,
// cifs, fuse, autofs, ...): a remote share is not this host's to judge and
// an autofs point would be mounted by looking. Container storage
// (/var/lib/docker, /var/lib/containers, /var/lib/containerd) is excluded
// by default: its layers are the images' file systems, with their own
// accounts and programs. A directory is entered once, by device and inode,
// so a bind mount of / below itself does not loop.
//
// Every path is read through the hostfs FS, so links met while opening a
// directory resolve inside the root; a directory swapped for something
// else between listing and opening is noticed (device and inode differ)
// and not read.
package fswalk

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/kensa-dev/kensa/internal/collect"
	"github.com/kensa-dev/kensa/internal/collect/mounts"
	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/hostfs"
)

// Name is the collector's name.
const Name = "config/fswalk"

// Defaults of Options.
const (
	// DefaultMaxEntries bounds the entries examined. A Debian server has
	// a few hundred thousand; a build host with source trees a few
	// million.
	DefaultMaxEntries = 2_000_000
	// DefaultTimeout bounds the wall time of the walk.
	DefaultTimeout = 120 * time.Second
	// DefaultMaxKept caps each list of offending entries.
	DefaultMaxKept = 1000
	// DefaultMaxLogFiles caps the log files kept: every one is judged, and
	// a server with rotated logs of many services has a few thousand.
	DefaultMaxLogFiles = 20000
)

// DefaultExclude is the container storage left out of the walk.
var DefaultExclude = []string{"/var/lib/docker", "/var/lib/containers", "/var/lib/containerd"}

// NotEntered are the directories never walked: pseudo and memory file
// systems on a live host, their empty mount points in an image.
var NotEntered = []string{"/proc", "/sys", "/dev", "/run"}

// LogDir is the log directory whose regular files are recorded.
const LogDir = "/var/log"

// skipTypes are the file system types whose mount points are not
// entered on a live host: pseudo file systems, and remote or user-space
// ones (whose files this host neither owns nor controls).
var skipTypes = map[string]bool{
	"proc": true, "sysfs": true, "devtmpfs": true, "devpts": true,
	"cgroup": true, "cgroup2": true, "overlay": true, "autofs": true,
	"securityfs": true, "debugfs": true, "tracefs": true, "pstore": true,
	"bpf": true, "configfs": true, "mqueue": true, "hugetlbfs": true,
	"binfmt_misc": true, "efivarfs": true, "fusectl": true, "rpc_pipefs": true,
	"nsfs": true, "selinuxfs": true,
	"nfs": true, "nfs4": true, "cifs": true, "smb3": true, "smbfs": true,
	"ncpfs": true, "9p": true, "ceph": true, "glusterfs": true, "lustre": true,
	"afs": true, "gpfs": true, "davfs": true, "sshfs": true,
}

// skipType reports whether a mount of type t is not entered.
func skipType(t string) bool {
	return skipTypes[t] || t == "fuse" || strings.HasPrefix(t, "fuse.") || t == "fuseblk" ||
		strings.HasPrefix(t, "nfs")
}

// Options bound and shape the walk; zero values take the defaults.
type Options struct {
	MaxEntries  int
	Timeout     time.Duration
	MaxKept     int
	MaxLogFiles int
	// Exclude are directories not entered; nil means DefaultExclude, an
	// empty non-nil slice excludes nothing.
	Exclude []string
}

func (o Options) withDefaults() Options {
	if o.MaxEntries <= 0 {
		o.MaxEntries = DefaultMaxEntries
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MaxKept <= 0 {
		o.MaxKept = DefaultMaxKept
	}
	if o.MaxLogFiles <= 0 {
		o.MaxLogFiles = DefaultMaxLogFiles
	}
	if o.Exclude == nil {
		o.Exclude = DefaultExclude
	}
	return o
}

// Collector fills inv.Config.FSWalk. It runs after os/users (the accounts
// that own files), the package databases (their file lists) and
// config/mounts (the live mount table).
type Collector struct{ opts Options }

// New returns the collector with its bounds.
func New(opts Options) *Collector { return &Collector{opts: opts.withDefaults()} }

// Name implements collect.Collector.
func (*Collector) Name() string { return Name }

// checkEvery is how many entries pass between two looks at the clock and
// the context.
const checkEvery = 512

// dirBatch is how many entries of a directory are read at once, so that a
// directory of millions of entries is never held whole.
const dirBatch = 1024

// maxUnreadNamed caps the unread directories named in the facts.
const maxUnreadNamed = 20

// dirID is a directory's device and inode.
type dirID struct{ dev, ino uint64 }

type walker struct {
	ctx      context.Context
	env      *collect.Env
	fsys     hostfs.FS
	opts     Options
	deadline time.Time
	out      *host.FSWalk

	users, groups map[int]string
	// skip maps a directory not entered to why.
	skip    map[string]string
	exclude map[string]bool
	seen    map[dirID]bool
	logDir  string
	stop    bool
	err     error
}

// Collect implements collect.Collector.
func (c *Collector) Collect(ctx context.Context, env *collect.Env, inv *host.Inventory) error {
	start := time.Now()
	out := &host.FSWalk{Walked: []string{"/"}}
	w := &walker{
		ctx: ctx, env: env, fsys: env.FS, opts: c.opts, out: out,
		deadline: start.Add(c.opts.Timeout),
		skip:     map[string]string{},
		exclude:  map[string]bool{},
		seen:     map[dirID]bool{},
	}
	w.accounts(inv)
	out.NSSPasswd, out.NSSGroup = nssSources(env)
	for _, p := range NotEntered {
		w.skip[p] = "pseudo or memory file system"
	}
	w.liveMounts(inv)
	for _, p := range c.opts.Exclude {
		p = path.Clean("/" + p)
		if _, err := env.FS.Lstat(p); err == nil {
			w.exclude[p] = true
			out.Excluded = append(out.Excluded, p)
		}
	}
	w.logDir = LogDir
	if r, err := env.FS.Resolve(LogDir); err == nil && r != LogDir {
		// A link (/var/log -> /srv/log): the walk meets the files
		// under the directory it leads to.
		w.logDir = r
	}
	out.LogDir = w.logDir

	w.walk("/")

	for p, why := range w.skip {
		if _, err := env.FS.Lstat(p); err == nil {
			out.Skipped = append(out.Skipped, fmt.Sprintf("%s (%s)", p, why))
		}
	}
	slices.Sort(out.Skipped)
	w.packages(inv)
	out.Complete = !w.stop && out.Unread == 0
	out.DurationMS = float64(time.Since(start).Microseconds()) / 1000
	if inv.Config == nil {
		inv.Config = &host.Config{}
	}
	inv.Config.FSWalk = out
	env.Count(out.Entries)
	if env.Logger == nil {
		return w.err
	}
	env.Logger.Info("file-system walk", "entries", out.Entries, "dirs", out.Dirs,
		"duration", time.Since(start).Round(time.Millisecond), "complete", out.Complete, "limit", out.Limit,
		"unread", out.Unread, "world_writable_files", out.WorldWritableFiles.Count,
		"world_writable_dirs", out.WorldWritableDirs.Count, "unowned", out.Unowned.Count,
		"setid", out.SetID.Count, "log_files", out.LogFiles.Count)
	return w.err
}

// accounts indexes the users and groups os/users read. Without them no
// owner can be judged.
func (w *walker) accounts(inv *host.Inventory) {
	w.users, w.groups = map[int]string{}, map[int]string{}
	for _, u := range inv.Users {
		if _, dup := w.users[u.UID]; !dup {
			w.users[u.UID] = u.Name
		}
	}
	for _, g := range inv.Groups {
		if _, dup := w.groups[g.GID]; !dup {
			w.groups[g.GID] = g.Name
		}
	}
	switch {
	case len(w.users) == 0 && len(w.groups) == 0:
		w.out.OwnersNote = "no account from /etc/passwd and no group from /etc/group was read (os/users)"
	case len(w.users) == 0:
		w.out.OwnersNote = "no account from /etc/passwd was read (os/users)"
	case len(w.groups) == 0:
		w.out.OwnersNote = "no group from /etc/group was read (os/users)"
	default:
		w.out.OwnersChecked = true
	}
}

// liveMounts adds the mount points of pseudo and remote file systems of a
// live host to the directories not entered. The last mount on a point is
// the one seen there.
func (w *walker) liveMounts(inv *host.Inventory) {
	if !w.fsys.Live() {
		return
	}
	var live []host.Mount
	if inv.Config != nil && inv.Config.Mounts != nil && inv.Config.Mounts.Live != nil {
		live = inv.Config.Mounts.Live
	} else {
		b, err := hostfs.ReadFileLimit(w.fsys, "/proc/self/mounts", mounts.FileLimit)
		if err != nil {
			w.env.Errorf("fswalk: live mount table: %v; only %s are left out", err, strings.Join(NotEntered, ", "))
			return
		}
		live = mounts.ParseMounts(b, "/proc/self/mounts", w.env.Errorf)
	}
	last := map[string]string{}
	for _, m := range live {
		if !strings.HasPrefix(m.MountPoint, "/") {
			continue
		}
		last[path.Clean(m.MountPoint)] = m.FSType
	}
	for mp, t := range last {
		if skipType(t) && mp != "/" {
			w.skip[mp] = t
		}
	}
	// A point below a skipped one is never reached; keep the facts short.
	for mp := range w.skip {
		if _, under := w.skippedAbove(mp); under {
			delete(w.skip, mp)
		}
	}
}

// skippedAbove reports whether a strict ancestor of p is not entered.
func (w *walker) skippedAbove(p string) (string, bool) {
	for d := path.Dir(p); d != "/" && d != "."; d = path.Dir(d) {
		if why, ok := w.skip[d]; ok {
			return why, true
		}
	}
	return "", false
}

// pending is a directory to read, with its identity when listed.
type pending struct {
	path  string
	id    dirID
	hasID bool
}

// walk examines root and every entry below it, depth first, one directory
// open at a time: subdirectories are entered once their parent is closed.
func (w *walker) walk(root string) {
	fi, err := w.fsys.Lstat(root)
	if err != nil {
		w.unread(root, err)
		return
	}
	if !fi.IsDir() {
		w.unread(root, syscall.ENOTDIR)
		return
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		w.unread(root, errors.New("no owner information"))
		return
	}
	w.out.Entries++
	first, ok := w.examine(root, "", false, st)
	if !ok {
		return
	}
	stack := []pending{first}
	for len(stack) > 0 && !w.stop {
		d := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		subdirs := w.readDir(d)
		// Reverse, so that the directories are entered in the order
		// they were listed.
		for i := len(subdirs) - 1; i >= 0; i-- {
			stack = append(stack, subdirs[i])
		}
	}
}

// readDir examines the entries of a directory and returns its
// subdirectories to enter. The directory opened must be the one listed:
// one swapped for a link or another directory meanwhile is not read.
func (w *walker) readDir(d pending) []pending {
	f, err := w.fsys.Open(d.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil // removed since it was listed: nothing left to judge
	}
	if err != nil {
		w.unread(d.path, err)
		return nil
	}
	defer f.Close()
	if d.hasID {
		fi, err := f.Stat()
		if err != nil {
			w.unread(d.path, err)
			return nil
		}
		if id, ok := idOf(fi); !ok || id != d.id {
			w.unread(d.path, errors.New("changed while the walk listed it (now another file): not read"))
			return nil
		}
	}
	rd, ok := f.(fs.ReadDirFile)
	if !ok {
		w.unread(d.path, syscall.ENOTDIR)
		return nil
	}
	w.out.Dirs++
	dirfd := -1
	if haveFstatat && w.fsys.Live() {
		if fder, ok := f.(interface{ Fd() uintptr }); ok {
			dirfd = int(fder.Fd())
		}
	}
	inLog := d.path == w.logDir || strings.HasPrefix(d.path, w.logDir+"/")
	var subdirs []pending
	for !w.stop {
		ents, err := rd.ReadDir(dirBatch)
		for _, e := range ents {
			if w.tick(d.path) {
				break
			}
			if sub, ok := w.entry(d.path, dirfd, inLog, e); ok {
				subdirs = append(subdirs, sub)
			}
		}
		if err == io.EOF || (err == nil && len(ents) == 0) {
			break
		}
		if err != nil {
			w.unread(d.path, err)
			break
		}
	}
	return subdirs
}

// entry examines one directory entry and reports a directory to enter.
// On a live host the entry is described relative to the open directory
// (fstatat, no path resolution: the walk's main cost); in an image the
// listing already did so inside the root.
func (w *walker) entry(dir string, dirfd int, inLog bool, e fs.DirEntry) (pending, bool) {
	var st *syscall.Stat_t
	if dirfd >= 0 {
		var s syscall.Stat_t
		if err := fstatat(dirfd, e.Name(), &s); err != nil {
			if !errors.Is(err, syscall.ENOENT) { // removed meanwhile
				// An entry not examined leaves the walk incomplete.
				w.unread(path.Join(dir, e.Name()), err)
			}
			return pending{}, false
		}
		st = &s
	} else {
		fi, err := e.Info()
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				w.unread(path.Join(dir, e.Name()), err)
			}
			return pending{}, false
		}
		var ok bool
		if st, ok = fi.Sys().(*syscall.Stat_t); !ok {
			w.unread(path.Join(dir, e.Name()), errors.New("no owner information"))
			return pending{}, false
		}
	}
	return w.examine(dir, e.Name(), inLog, st)
}

// examine judges one entry, name in dir (never following a link), and
// reports a directory to enter. Its path is built only when needed.
func (w *walker) examine(dir, name string, inLog bool, st *syscall.Stat_t) (pending, bool) {
	mode := uint32(st.Mode) & 0o7777
	typ := uint32(st.Mode) & syscall.S_IFMT
	p := ""
	ent := func() host.FSEntry {
		if p == "" {
			p = path.Join(dir, name)
		}
		return host.FSEntry{Path: p, Type: typeOf(typ), Mode: mode, UID: int(st.Uid), GID: int(st.Gid),
			Owner: w.users[int(st.Uid)], Group: w.groups[int(st.Gid)]}
	}
	if w.out.OwnersChecked {
		_, uok := w.users[int(st.Uid)]
		_, gok := w.groups[int(st.Gid)]
		if !uok || !gok {
			w.keep(&w.out.Unowned, ent(), w.opts.MaxKept)
		}
	}
	switch typ {
	case syscall.S_IFREG:
		if mode&0o002 != 0 {
			w.keep(&w.out.WorldWritableFiles, ent(), w.opts.MaxKept)
		}
		if mode&0o6000 != 0 {
			w.keep(&w.out.SetID, ent(), w.opts.MaxKept)
		}
		if inLog {
			w.keep(&w.out.LogFiles, ent(), w.opts.MaxLogFiles)
		}
	case syscall.S_IFDIR:
		if mode&0o002 != 0 && mode&0o1000 == 0 {
			w.keep(&w.out.WorldWritableDirs, ent(), w.opts.MaxKept)
		}
		if p == "" {
			p = path.Join(dir, name)
		}
		if _, skip := w.skip[p]; skip || w.exclude[p] {
			return pending{}, false
		}
		id := dirID{dev: uint64(st.Dev), ino: st.Ino}
		if w.seen[id] {
			return pending{}, false // a bind mount of a directory already walked
		}
		w.seen[id] = true
		return pending{path: p, id: id, hasID: true}, true
	}
	return pending{}, false
}

// atSymlinkNoFollow is AT_SYMLINK_NOFOLLOW: describe a link, not its target.
const atSymlinkNoFollow = 0x100

func typeOf(t uint32) string {
	switch t {
	case syscall.S_IFREG:
		return "file"
	case syscall.S_IFDIR:
		return "dir"
	case syscall.S_IFLNK:
		return "link"
	}
	return "other"
}

func (w *walker) keep(l *host.FSList, e host.FSEntry, max int) {
	l.Count++
	if len(l.Entries) < max {
		l.Entries = append(l.Entries, e)
	}
}

// tick counts one entry and reports whether the walk must stop.
func (w *walker) tick(where string) bool {
	if w.stop {
		return true
	}
	if w.out.Entries >= w.opts.MaxEntries {
		w.halt(fmt.Sprintf("max_entries %d", w.opts.MaxEntries), where)
		return true
	}
	w.out.Entries++
	if w.out.Entries%checkEvery == 0 {
		if err := w.ctx.Err(); err != nil {
			w.err = err
			w.halt("canceled", where)
			return true
		}
		if time.Now().After(w.deadline) {
			w.halt(fmt.Sprintf("timeout %s", w.opts.Timeout), where)
			return true
		}
	}
	return false
}

func (w *walker) halt(limit, where string) {
	w.stop = true
	w.out.Limit = limit
	w.env.Errorf("fswalk: stopped at %s in %s after %d entries: the rest was not examined", limit, where, w.out.Entries)
}

// unread records a directory, or an entry, that could not be examined:
// the walk is then incomplete.
func (w *walker) unread(dir string, err error) {
	w.out.Unread++
	if len(w.out.UnreadDirs) < maxUnreadNamed {
		w.out.UnreadDirs = append(w.out.UnreadDirs, dir)
	}
	w.env.Errorf("fswalk: %s: %v", dir, err)
}

// packages names the OS package owning each set-id file kept. Package
// databases list files as installed, which on a merged-/usr system may be
// /bin/su while the walk, never following links, found /usr/bin/su: a
// first element that is a link to a directory is resolved before the
// lookup.
func (w *walker) packages(inv *host.Inventory) {
	for i := range inv.Packages {
		if len(inv.Packages[i].Files) > 0 {
			w.out.PackageLists++
		}
	}
	if len(w.out.SetID.Entries) == 0 || w.out.PackageLists == 0 {
		return
	}
	want := map[string]string{}
	for _, e := range w.out.SetID.Entries {
		want[e.Path] = ""
	}
	top := topLinks(w.fsys)
	for i := range inv.Packages {
		for _, f := range inv.Packages[i].Files {
			if len(f) < 2 || f[0] != '/' {
				continue
			}
			key := path.Clean(f)
			if j := strings.IndexByte(key[1:], '/'); j > 0 {
				if to, ok := top[key[:j+1]]; ok {
					key = to + key[j+1:]
				}
			}
			if cur, ok := want[key]; ok && cur == "" {
				want[key] = inv.Packages[i].Name
			}
		}
	}
	for i := range w.out.SetID.Entries {
		w.out.SetID.Entries[i].Package = want[w.out.SetID.Entries[i].Path]
	}
}

// maxTopEntries bounds the entries of the root read by topLinks.
const maxTopEntries = 4096

// topLinks returns the entries of the root that are links to directories,
// resolved inside the root: "/bin" -> "/usr/bin".
func topLinks(fsys hostfs.FS) map[string]string {
	out := map[string]string{}
	ents, _ := fsys.ReadDir("/")
	if len(ents) > maxTopEntries {
		ents = ents[:maxTopEntries]
	}
	for _, e := range ents {
		if e.Type()&fs.ModeSymlink == 0 {
			continue
		}
		p := "/" + e.Name()
		rp, err := fsys.Resolve(p)
		if err != nil || rp == p {
			continue
		}
		if fi, err := fsys.Stat(rp); err == nil && fi.IsDir() {
			out[p] = rp
		}
	}
	return out
}

// NSSFile is the name service switch configuration.
const NSSFile = "/etc/nsswitch.conf"

// nssSources reads the passwd and group sources of /etc/nsswitch.conf;
// nil when it is absent or unreadable (glibc then uses files).
func nssSources(env *collect.Env) (passwd, group []string) {
	b, err := hostfs.ReadFileLimit(env.FS, NSSFile, 1<<20)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			env.Errorf("fswalk: %s: %v", NSSFile, err)
		}
		return nil, nil
	}
	return ParseNSS(b)
}

// ParseNSS returns the sources of the passwd and group databases of an
// nsswitch.conf: "passwd: files systemd [NOTFOUND=return] sss" gives
// files, systemd, sss. Action items in brackets are left out; a database
// named twice takes its first line, as glibc does.
func ParseNSS(b []byte) (passwd, group []string) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	var seenP, seenG bool
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		db, rest, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		db = strings.TrimSpace(db)
		var dst *[]string
		switch {
		case db == "passwd" && !seenP:
			seenP, dst = true, &passwd
		case db == "group" && !seenG:
			seenG, dst = true, &group
		default:
			continue
		}
		*dst = []string{}
		depth := 0
		for _, f := range strings.Fields(rest) {
			// "[NOTFOUND=return]" and "[ !UNAVAIL = return ]" are actions.
			if depth > 0 || strings.HasPrefix(f, "[") {
				depth += strings.Count(f, "[") - strings.Count(f, "]")
				if depth < 0 {
					depth = 0
				}
				continue
			}
			if len(*dst) < 32 {
				*dst = append(*dst, f)
			}
		}
	}
	return passwd, group
}

func idOf(fi fs.FileInfo) (dirID, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return dirID{}, false
	}
	return dirID{dev: uint64(st.Dev), ino: st.Ino}, true
}
