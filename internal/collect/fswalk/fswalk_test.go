package fswalk_test

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kensa-dev/kensa/internal/collect"
	"github.com/kensa-dev/kensa/internal/collect/fswalk"
	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/hostfs"
)

// seed is a collector standing for the ones that run before the walk:
// os/users, the package databases, config/mounts.
type seed struct{ inv host.Inventory }

func (*seed) Name() string { return "test/seed" }
func (s *seed) Collect(_ context.Context, _ *collect.Env, inv *host.Inventory) error {
	inv.Users, inv.Groups, inv.Packages, inv.Config = s.inv.Users, s.inv.Groups, s.inv.Packages, s.inv.Config
	return nil
}

var (
	rootUsers  = []host.User{{Name: "root", UID: 0, GID: 0, Shell: "/bin/bash"}}
	rootGroups = []host.Group{{Name: "root", GID: 0}}
)

// run walks root after seeding the inventory, and returns the facts and
// the walk's run record.
func run(t *testing.T, fsys hostfs.FS, s host.Inventory, opts fswalk.Options) (*host.FSWalk, host.CollectorRun) {
	t.Helper()
	if s.Users == nil {
		s.Users, s.Groups = rootUsers, rootGroups
	}
	done := make(chan *host.Inventory, 1)
	go func() {
		done <- collect.Run(context.Background(), &collect.Env{FS: fsys}, []collect.Collector{&seed{s}, fswalk.New(opts)}, nil)
	}()
	var inv *host.Inventory
	select {
	case inv = <-done:
	case <-time.After(time.Minute):
		t.Fatal("the walk did not finish within a minute")
	}
	r := inv.Collectors[1]
	if inv.Config == nil || inv.Config.FSWalk == nil {
		t.Fatalf("no facts; run %+v", r)
	}
	return inv.Config.FSWalk, r
}

func open(t *testing.T, root string) hostfs.FS {
	t.Helper()
	fsys, err := hostfs.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	return fsys
}

func write(t *testing.T, root, rel string, mode fs.FileMode) {
	t.Helper()
	p := filepath.Join(root, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	// Chmod, not the umask-filtered create mode; os.FileMode's set-id
	// and sticky flags map to the Unix bits.
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
}

func mkdir(t *testing.T, root, rel string, mode fs.FileMode) {
	t.Helper()
	p := filepath.Join(root, rel)
	if err := os.MkdirAll(p, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
}

func symlink(t *testing.T, root, rel, to string) {
	t.Helper()
	p := filepath.Join(root, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(to, p); err != nil {
		t.Fatal(err)
	}
}

func paths(l host.FSList) []string {
	var out []string
	for _, e := range l.Entries {
		out = append(out, e.Path)
	}
	slices.Sort(out)
	return out
}

func TestWalkFindsWhatTheControlsJudge(t *testing.T) {
	root := t.TempDir()
	if err := os.Chmod(root, 0o755); err != nil {
		t.Fatal(err)
	}
	// Outside the root: a link must never lead the walk there.
	outside := t.TempDir()
	write(t, outside, "secret/ww", 0o666)
	write(t, outside, "secret/suid", 0o755|fs.ModeSetuid)

	write(t, root, "srv/data/open.txt", 0o666)
	write(t, root, "srv/data/closed.txt", 0o644)
	mkdir(t, root, "srv/upload", 0o777)
	mkdir(t, root, "tmp", 0o777|fs.ModeSticky)
	write(t, root, "tmp/scratch", 0o600)
	write(t, root, "usr/bin/su", 0o755|fs.ModeSetuid)
	write(t, root, "usr/bin/crontab", 0o755|fs.ModeSetgid)
	write(t, root, "usr/local/bin/helper", 0o755|fs.ModeSetuid)
	symlink(t, root, "bin", "usr/bin")
	write(t, root, "var/log/syslog", 0o640)
	write(t, root, "var/log/apt/history.log", 0o644)
	write(t, root, "var/log.old/not-a-log", 0o644)
	// Never entered: pseudo file systems and container storage.
	write(t, root, "proc/1/environ", 0o666)
	write(t, root, "sys/kernel/x", 0o666)
	write(t, root, "dev/shm/x", 0o666)
	write(t, root, "run/user/x", 0o666)
	write(t, root, "var/lib/docker/overlay2/l/etc/passwd", 0o666)
	write(t, root, "var/lib/containers/storage/x", 0o755|fs.ModeSetuid)
	// Hostile links: out of the root, absolute and relative, loops.
	symlink(t, root, "srv/abs", outside)
	symlink(t, root, "srv/rel", "../../../../../../../../"+outside)
	symlink(t, root, "srv/loop1", "loop2")
	symlink(t, root, "srv/loop2", "loop1")
	symlink(t, root, "srv/self", ".")
	symlink(t, root, "srv/dangling", "/nonexistent")

	inv := host.Inventory{
		Users:  rootUsers,
		Groups: rootGroups,
		Packages: []host.Package{
			{Manager: "dpkg", Name: "util-linux", Files: []string{"/bin/su"}},
			{Manager: "dpkg", Name: "cron", Files: []string{"/usr/bin/crontab", "relative", ""}},
		},
	}
	w, r := run(t, open(t, root), inv, fswalk.Options{})
	if !w.Complete || w.Limit != "" || w.Unread != 0 || r.ErrorCount != 0 {
		t.Fatalf("walk not complete: %+v; run %+v", w, r)
	}
	if got, want := paths(w.WorldWritableFiles), []string{"/srv/data/open.txt"}; !slices.Equal(got, want) {
		t.Errorf("world-writable files %v, want %v", got, want)
	}
	if got, want := paths(w.WorldWritableDirs), []string{"/srv/upload"}; !slices.Equal(got, want) {
		t.Errorf("world-writable dirs %v, want %v (the sticky /tmp is fine)", got, want)
	}
	got := map[string]string{}
	for _, e := range w.SetID.Entries {
		got[e.Path] = fmt.Sprintf("%04o %s", e.Mode, e.Package)
	}
	want := map[string]string{
		"/usr/bin/su":           "4755 util-linux", // listed as /bin/su: bin -> usr/bin
		"/usr/bin/crontab":      "2755 cron",
		"/usr/local/bin/helper": "4755 ",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) || w.SetID.Count != 3 || w.PackageLists != 2 {
		t.Errorf("set-id %v (count %d, lists %d), want %v", got, w.SetID.Count, w.PackageLists, want)
	}
	if got, want := paths(w.LogFiles), []string{"/var/log/apt/history.log", "/var/log/syslog"}; !slices.Equal(got, want) {
		t.Errorf("log files %v, want %v", got, want)
	}
	for _, e := range w.LogFiles.Entries {
		if e.Path == "/var/log/syslog" && (e.Mode != 0o640 || e.Type != "file" || e.UID != os.Getuid() || e.GID != os.Getgid()) {
			t.Errorf("syslog entry %+v", e)
		}
	}
	if w.LogDir != "/var/log" {
		t.Errorf("log dir %q", w.LogDir)
	}
	if !slices.Equal(w.Excluded, []string{"/var/lib/docker", "/var/lib/containers"}) {
		t.Errorf("excluded %v", w.Excluded)
	}
	for _, p := range []string{"/dev", "/proc", "/run", "/sys"} {
		if !slices.ContainsFunc(w.Skipped, func(s string) bool { return strings.HasPrefix(s, p+" (") }) {
			t.Errorf("skipped %v lacks %s", w.Skipped, p)
		}
	}
	if os.Getuid() == 0 && (!w.OwnersChecked || w.Unowned.Count != 0) {
		t.Errorf("owners checked %v, unowned %+v", w.OwnersChecked, w.Unowned)
	}
}

func TestWalkUnowned(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("changing a file's owner needs root")
	}
	root := t.TempDir()
	write(t, root, "home/gone/notes", 0o600)
	write(t, root, "srv/shared", 0o640)
	symlink(t, root, "srv/link", "shared")
	for p, ids := range map[string][2]int{"home/gone/notes": {4242, 0}, "srv/shared": {0, 4343}, "srv/link": {4242, 4343}} {
		if err := os.Lchown(filepath.Join(root, p), ids[0], ids[1]); err != nil {
			t.Fatal(err)
		}
	}
	w, _ := run(t, open(t, root), host.Inventory{}, fswalk.Options{})
	got := map[string]string{}
	for _, e := range w.Unowned.Entries {
		got[e.Path] = fmt.Sprintf("%s %d:%d %q:%q", e.Type, e.UID, e.GID, e.Owner, e.Group)
	}
	want := map[string]string{
		"/home/gone/notes": `file 4242:0 "":"root"`,
		"/srv/shared":      `file 0:4343 "root":""`,
		"/srv/link":        `link 4242:4343 "":""`,
	}
	if fmt.Sprint(got) != fmt.Sprint(want) || w.Unowned.Count != 3 || !w.OwnersChecked {
		t.Errorf("unowned %v (count %d), want %v", got, w.Unowned.Count, want)
	}

	// Without the accounts nothing can be judged, and the facts say so.
	w, _ = run(t, open(t, root), host.Inventory{Users: []host.User{}, Groups: []host.Group{}}, fswalk.Options{})
	if w.OwnersChecked || w.Unowned.Count != 0 || !strings.Contains(w.OwnersNote, "/etc/passwd") {
		t.Errorf("no accounts: checked %v, note %q, %d unowned", w.OwnersChecked, w.OwnersNote, w.Unowned.Count)
	}
}

func TestWalkCapsListsButCountsAll(t *testing.T) {
	root := t.TempDir()
	for i := range 25 {
		write(t, root, fmt.Sprintf("srv/f%02d", i), 0o666)
		write(t, root, fmt.Sprintf("var/log/l%02d.log", i), 0o640)
	}
	w, _ := run(t, open(t, root), host.Inventory{}, fswalk.Options{MaxKept: 5, MaxLogFiles: 7})
	if w.WorldWritableFiles.Count != 25 || len(w.WorldWritableFiles.Entries) != 5 || !w.WorldWritableFiles.Truncated() {
		t.Errorf("world-writable %d kept of %d", len(w.WorldWritableFiles.Entries), w.WorldWritableFiles.Count)
	}
	if w.LogFiles.Count != 25 || len(w.LogFiles.Entries) != 7 {
		t.Errorf("log files %d kept of %d", len(w.LogFiles.Entries), w.LogFiles.Count)
	}
	if !w.Complete {
		t.Errorf("capping lists is not an incomplete walk: %+v", w)
	}
}

func TestWalkBudgets(t *testing.T) {
	root := t.TempDir()
	for i := range 2000 {
		write(t, root, fmt.Sprintf("d%d/f%04d", i%10, i), 0o644)
	}
	total := 1 + 10 + 2000 // the root, the directories, the files

	w, r := run(t, open(t, root), host.Inventory{}, fswalk.Options{})
	if !w.Complete || w.Entries != total || w.Dirs != 11 {
		t.Fatalf("full walk: complete %v, %d entries (want %d), %d dirs", w.Complete, w.Entries, total, w.Dirs)
	}

	w, r = run(t, open(t, root), host.Inventory{}, fswalk.Options{MaxEntries: 100})
	if w.Complete || w.Entries != 100 || w.Limit != "max_entries 100" || r.Status != host.StatusPartial {
		t.Errorf("entry budget: complete %v, %d entries, limit %q, run %s", w.Complete, w.Entries, w.Limit, r.Status)
	}

	w, r = run(t, open(t, root), host.Inventory{}, fswalk.Options{Timeout: time.Nanosecond})
	if w.Complete || !strings.HasPrefix(w.Limit, "timeout") || w.Entries >= total {
		t.Errorf("time budget: complete %v, %d entries, limit %q", w.Complete, w.Entries, w.Limit)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	fsys := open(t, root)
	inv := &host.Inventory{Users: rootUsers, Groups: rootGroups}
	err := fswalk.New(fswalk.Options{}).Collect(ctx, &collect.Env{FS: fsys}, inv)
	if err == nil || inv.Config.FSWalk.Complete || inv.Config.FSWalk.Limit != "canceled" {
		t.Errorf("canceled: err %v, facts %+v", err, inv.Config.FSWalk)
	}
}

func TestWalkDeepTree(t *testing.T) {
	root := t.TempDir()
	// 600 levels of 9-byte names: 6000 bytes, beyond PATH_MAX (4096).
	// Built one level at a time relative to the last, as no path
	// reaches that deep.
	cur, err := os.OpenRoot(root)
	if err != nil {
		t.Fatal(err)
	}
	for range 600 {
		if err := cur.Mkdir("dddddddd", 0o755); err != nil {
			t.Fatal(err)
		}
		next, err := cur.OpenRoot("dddddddd")
		cur.Close()
		if err != nil {
			t.Fatal(err)
		}
		cur = next
	}
	cur.Close()
	w, r := run(t, open(t, root), host.Inventory{}, fswalk.Options{})
	// Either every level was read, or the walk says which it could not
	// read: never a silent, partial pass.
	t.Logf("complete %v, %d directories read, %d unread", w.Complete, w.Dirs, w.Unread)
	if w.Complete {
		if w.Dirs != 601 {
			t.Errorf("complete walk read %d directories, want 601", w.Dirs)
		}
	} else if w.Unread == 0 || len(w.UnreadDirs) == 0 || r.ErrorCount == 0 {
		t.Errorf("incomplete walk without a reason: %+v", w)
	}
}

func TestWalkLargeDirectory(t *testing.T) {
	if testing.Short() {
		t.Skip("creates 100,000 files")
	}
	root := t.TempDir()
	dir := filepath.Join(root, "spool")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i := range 100_000 {
		f, err := os.OpenFile(filepath.Join(dir, fmt.Sprintf("m%06d", i)), os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	write(t, root, "spool/m099999", 0o666)
	start := time.Now()
	w, _ := run(t, open(t, root), host.Inventory{}, fswalk.Options{})
	if !w.Complete || w.Entries != 100_002 || w.WorldWritableFiles.Count != 1 {
		t.Errorf("complete %v, %d entries, %d world-writable", w.Complete, w.Entries, w.WorldWritableFiles.Count)
	}
	t.Logf("100,000 entries in %s", time.Since(start))

	// Stopped in the middle of the directory's batches.
	w, _ = run(t, open(t, root), host.Inventory{}, fswalk.Options{MaxEntries: 5000})
	if w.Complete || w.Entries != 5000 {
		t.Errorf("budget inside a directory: complete %v, %d entries", w.Complete, w.Entries)
	}
}

func TestWalkLogDirLink(t *testing.T) {
	root := t.TempDir()
	write(t, root, "srv/log/messages", 0o644)
	write(t, root, "var/log.real/x", 0o644)
	symlink(t, root, "var/log", "/srv/log")
	w, _ := run(t, open(t, root), host.Inventory{}, fswalk.Options{})
	if w.LogDir != "/srv/log" || !slices.Equal(paths(w.LogFiles), []string{"/srv/log/messages"}) {
		t.Errorf("log dir %q, files %v", w.LogDir, paths(w.LogFiles))
	}
}

// liveFS presents a directory as a live host, to test the mount table.
type liveFS struct{ hostfs.FS }

func (liveFS) Live() bool { return true }

func TestWalkLiveSkipsPseudoAndRemoteMounts(t *testing.T) {
	root := t.TempDir()
	write(t, root, "mnt/nfs/ww", 0o666)
	write(t, root, "mnt/sshfs/ww", 0o666)
	write(t, root, "srv/auto/ww", 0o666)
	write(t, root, "mnt/disk/ww", 0o666)
	write(t, root, "tmp/ww", 0o666)
	mounts := &host.Mounts{Live: []host.Mount{
		{MountPoint: "/", FSType: "ext4"},
		{MountPoint: "/mnt/nfs", FSType: "nfs4"},
		{MountPoint: "/mnt/sshfs", FSType: "fuse.sshfs"},
		{MountPoint: "/srv/auto", FSType: "autofs"},
		{MountPoint: "/mnt/disk", FSType: "tmpfs"},
		{MountPoint: "/mnt/disk", FSType: "xfs"}, // mounted over: the last one is seen
		{MountPoint: "/tmp", FSType: "tmpfs"},    // a local tmpfs outside /run and /dev is walked
		{MountPoint: "/proc/sys/fs/binfmt_misc", FSType: "binfmt_misc"},
	}}
	w, r := run(t, liveFS{open(t, root)}, host.Inventory{Config: &host.Config{Mounts: mounts}}, fswalk.Options{})
	if got, want := paths(w.WorldWritableFiles), []string{"/mnt/disk/ww", "/tmp/ww"}; !slices.Equal(got, want) {
		t.Errorf("world-writable %v, want %v (run %+v)", got, want, r)
	}
	for _, s := range []string{"/mnt/nfs (nfs4)", "/mnt/sshfs (fuse.sshfs)", "/srv/auto (autofs)"} {
		if !slices.Contains(w.Skipped, s) {
			t.Errorf("skipped %v lacks %s", w.Skipped, s)
		}
	}
	if slices.ContainsFunc(w.Skipped, func(s string) bool { return strings.Contains(s, "binfmt") }) {
		t.Errorf("a mount below /proc is listed: %v", w.Skipped)
	}
}

func TestWalkExcludeNothing(t *testing.T) {
	root := t.TempDir()
	write(t, root, "var/lib/docker/x", 0o666)
	w, _ := run(t, open(t, root), host.Inventory{}, fswalk.Options{Exclude: []string{}})
	if w.WorldWritableFiles.Count != 1 || len(w.Excluded) != 0 {
		t.Errorf("exclude nothing: %+v", w)
	}
}

func TestWalkFIFO(t *testing.T) {
	// A FIFO where a directory was: never opened (it would block).
	root := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(root, "fifo"), 0o666); err != nil {
		t.Skip(err)
	}
	w, r := run(t, open(t, root), host.Inventory{}, fswalk.Options{})
	if !w.Complete || w.WorldWritableFiles.Count != 0 || r.ErrorCount != 0 {
		t.Errorf("a FIFO is not a regular file: %+v %+v", w, r)
	}
}

func TestParseNSS(t *testing.T) {
	for _, tc := range []struct{ in, passwd, group string }{
		{"passwd: files systemd\ngroup: files systemd\n", "files systemd", "files systemd"},
		{"passwd:   files [NOTFOUND=return] sss # comment\ngroup: sss\n", "files sss", "sss"},
		{"passwd: files [ !UNAVAIL = return ] ldap\n", "files ldap", ""},
		{"passwd: compat\npasswd: ldap\n", "compat", ""},
		{"# passwd: ldap\nhosts: files dns\n", "", ""},
		{"passwd:\n", "", ""},
	} {
		p, g := fswalk.ParseNSS([]byte(tc.in))
		if strings.Join(p, " ") != tc.passwd || strings.Join(g, " ") != tc.group {
			t.Errorf("%q: passwd %q group %q, want %q %q", tc.in, p, g, tc.passwd, tc.group)
		}
	}
}

func FuzzParseNSS(f *testing.F) {
	for _, s := range []string{
		"passwd: files systemd\ngroup: files systemd\nshadow: files\n",
		"passwd: files [NOTFOUND=return] sss\n",
		"passwd: [ !UNAVAIL = return ] ] [ ldap\n",
		"group:\x00files\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, g := fswalk.ParseNSS(b)
		for _, s := range slices.Concat(p, g) {
			if s == "" || strings.ContainsAny(s, " \t\n\r\v\f#") || strings.HasPrefix(s, "[") {
				t.Errorf("source %q", s)
			}
		}
		if len(p) > 32 || len(g) > 32 {
			t.Errorf("%d/%d sources kept", len(p), len(g))
		}
	})
}
