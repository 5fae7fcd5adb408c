package hostfs

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// mkroot builds an image root with links that try to leave it.
func mkroot(t *testing.T) (root, outside string) {
	t.Helper()
	base := t.TempDir()
	root = filepath.Join(base, "root")
	outside = filepath.Join(base, "outside")
	for _, d := range []string{"root/etc", "root/usr/lib", "root/usr/bin", "outside"} {
		if err := os.MkdirAll(filepath.Join(base, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(p, s string) {
		if err := os.WriteFile(filepath.Join(base, p), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	link := func(target, p string) {
		if err := os.Symlink(target, filepath.Join(base, p)); err != nil {
			t.Fatal(err)
		}
	}
	write("root/usr/lib/os-release", "ID=inside\n")
	write("outside/secret", "ID=outside\n")
	write("root/secret", "inside-secret\n")
	link("../usr/lib/os-release", "root/etc/os-release")      // relative, inside
	link("/usr/lib/os-release", "root/etc/abs-release")       // absolute: means the image's /usr/lib
	link("../../outside/secret", "root/etc/escape-rel")       // relative, climbs out
	link(filepath.Join(outside, "secret"), "root/etc/escape") // absolute host path
	link("/../../../secret", "root/etc/dotdot")               // ".." stops at the root
	link("loop-b", "root/etc/loop-a")
	link("loop-a", "root/etc/loop-b")
	link("usr/bin", "root/bin") // merged /usr
	return root, outside
}

func TestImageLinksStayInsideRoot(t *testing.T) {
	root, _ := mkroot(t)
	fsys, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	if fsys.Live() {
		t.Fatal("image root reported as live")
	}
	for name, want := range map[string]string{
		"etc/os-release":   "ID=inside\n",
		"/etc/abs-release": "ID=inside\n",
		"etc/dotdot":       "inside-secret\n",
	} {
		b, err := fsys.ReadFile(name)
		if err != nil || string(b) != want {
			t.Errorf("ReadFile(%s) = %q, %v; want %q", name, b, err, want)
		}
	}
	// Links that point outside resolve to the same path inside the root,
	// where nothing exists: they must not read the host's file.
	for _, name := range []string{"etc/escape-rel", "etc/escape"} {
		b, err := fsys.ReadFile(name)
		if err == nil {
			t.Errorf("ReadFile(%s) = %q; want an error, the target is outside the root", name, b)
		} else if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("ReadFile(%s): %v; want not-exist", name, err)
		}
	}
	r, err := fsys.Resolve("etc/abs-release")
	if err != nil || r != "/usr/lib/os-release" {
		t.Errorf("Resolve = %q, %v", r, err)
	}
	if r, err := fsys.Resolve("bin/../bin"); err != nil || r != "/usr/bin" {
		t.Errorf("Resolve(bin/../bin) = %q, %v", r, err)
	}
	if target, err := fsys.ReadLink("etc/os-release"); err != nil || target != "../usr/lib/os-release" {
		t.Errorf("ReadLink = %q, %v", target, err)
	}
	if fi, err := fsys.Lstat("etc/os-release"); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Errorf("Lstat did not describe the link: %v, %v", fi, err)
	}
}

func TestLinkLoopFails(t *testing.T) {
	root, _ := mkroot(t)
	fsys, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	_, err = fsys.ReadFile("etc/loop-a")
	if !errors.Is(err, ErrLinkLoop) {
		t.Fatalf("ReadFile(loop) error = %v, want ErrLinkLoop", err)
	}
}

func TestSpecialFilesAreNotOpened(t *testing.T) {
	for _, live := range []bool{false, true} {
		root := t.TempDir()
		fifo := filepath.Join(root, "fifo")
		if err := syscall.Mkfifo(fifo, 0o644); err != nil {
			t.Skip("mkfifo:", err)
		}
		var fsys FS
		name := "fifo"
		if live {
			fsys = liveFS{}
			name = fifo
		} else {
			var err error
			if fsys, err = Open(root); err != nil {
				t.Fatal(err)
			}
		}
		// Opening a FIFO for reading blocks until a writer appears: the
		// test would hang here if Open did not refuse it.
		if _, err := fsys.Open(name); !errors.Is(err, ErrNotRegular) {
			t.Errorf("live=%v: Open(fifo) error = %v, want ErrNotRegular", live, err)
		}
	}
}

func TestReadFileLimitOnSparseFile(t *testing.T) {
	root := t.TempDir()
	f, err := os.Create(filepath.Join(root, "huge"))
	if err != nil {
		t.Fatal(err)
	}
	// 8 GiB apparent size, no blocks used.
	if err := f.Truncate(8 << 30); err != nil {
		t.Skip("sparse files unsupported:", err)
	}
	f.Close()
	fsys, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fsys.ReadFile("huge"); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("ReadFile(huge) error = %v, want ErrTooLarge", err)
	}
}

func TestOpenRejectsNonDirectory(t *testing.T) {
	f := filepath.Join(t.TempDir(), "file")
	os.WriteFile(f, nil, 0o644)
	if _, err := Open(f); err == nil {
		t.Fatal("Open(file) succeeded")
	}
	if _, err := Open(filepath.Join(f, "missing")); err == nil {
		t.Fatal("Open(missing) succeeded")
	}
}

func TestLiveIsRoot(t *testing.T) {
	fsys, err := Open("/")
	if err != nil {
		t.Fatal(err)
	}
	if !fsys.Live() || fsys.Root() != "/" {
		t.Fatalf("Open(/) = live %v root %q", fsys.Live(), fsys.Root())
	}
	if _, err := fsys.Stat("etc"); err != nil {
		t.Fatal(err)
	}
}

func TestOpenAt(t *testing.T) {
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "f"), []byte("0123456789"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(root, "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	fsys, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	ra, size, c, err := OpenAt(fsys, "/f", 10)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	buf := make([]byte, 3)
	if _, err := ra.ReadAt(buf, 7); err != nil || size != 10 || string(buf) != "789" {
		t.Errorf("read %q, size %d, %v", buf, size, err)
	}
	if _, _, _, err := OpenAt(fsys, "/f", 9); !errors.Is(err, ErrTooLarge) {
		t.Errorf("too large: %v", err)
	}
	if _, _, _, err := OpenAt(fsys, "/fifo", 9); !errors.Is(err, ErrNotRegular) {
		t.Errorf("fifo: %v", err)
	}
	// A file system whose files are not io.ReaderAt is read into memory.
	ra, size, _, err = OpenAt(plainFS{os.DirFS(root)}, "f", 10)
	if err != nil || size != 10 {
		t.Fatal(size, err)
	}
	if _, ok := ra.(*os.File); ok {
		t.Error("plain file used as io.ReaderAt")
	}
	if _, err := ra.ReadAt(buf, 0); err != nil || string(buf) != "012" {
		t.Errorf("read %q, %v", buf, err)
	}
}

// plainFS hides every method of its files but those of fs.File.
type plainFS struct{ fs.FS }

func (p plainFS) Open(name string) (fs.File, error) {
	f, err := p.FS.Open(name)
	if err != nil {
		return nil, err
	}
	return struct{ fs.File }{f}, nil
}
