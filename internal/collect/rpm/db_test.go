package rpm

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/hostfs"
)

// ioCounters returns the bytes this process has read and written through
// system calls so far (rchar and wchar of /proc/self/io, all threads).
func ioCounters(t *testing.T) (read, written int64, ok bool) {
	t.Helper()
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return 0, 0, false
	}
	var seen int
	for _, line := range strings.Split(string(b), "\n") {
		k, v, _ := strings.Cut(line, ": ")
		n, err := strconv.ParseInt(v, 10, 64)
		switch {
		case err != nil:
		case k == "rchar":
			read, seen = n, seen+1
		case k == "wchar":
			written, seen = n, seen+1
		}
	}
	return read, written, seen == 2
}

// collectCounted runs the collector on root with TMPDIR pointed at an
// empty directory of its own, checks that the directory is empty again
// afterwards, and returns the run with the bytes the process read and
// wrote meanwhile (-1 where /proc/self/io is not available).
func collectCounted(t *testing.T, root string) (run host.CollectorRun, read, written int64) {
	t.Helper()
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	r0, w0, ok := ioCounters(t)
	_, run = collectRoot(t, root)
	r1, w1, _ := ioCounters(t)
	if left, err := os.ReadDir(tmp); err != nil || len(left) != 0 {
		t.Errorf("temporary directory holds %v after the scan (%v)", left, err)
	}
	if !ok {
		return run, -1, -1
	}
	return run, r1 - r0, w1 - w0
}

// sparseFile writes data at the start of the root-relative name and
// extends the file to size with a hole. It reports whether the file system
// left the rest unallocated.
func sparseFile(t *testing.T, root, name string, data []byte, size int64) bool {
	t.Helper()
	p := filepath.Join(root, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(p, size); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && st.Blocks*512 < size/8
}

// sparseSize is below MaxDBSize: only the sparse check refuses files of it.
const sparseSize = 384 << 20

// soundHead returns the start of a database of each format whose header
// agrees with a file of sparseSize bytes: only its holes are wrong.
func soundHead(t *testing.T, name string) []byte {
	t.Helper()
	switch name {
	case "rpmdb.sqlite":
		b, err := os.ReadFile(rpm418)
		if err != nil {
			t.Fatal(err)
		}
		// The first page, declaring as many pages as the file holds.
		b = b[:4096]
		binary.BigEndian.PutUint32(b[28:], sparseSize/4096)
		return b
	case "Packages.db":
		return buildNDB(testHeaders(t))
	default:
		b := buildBDB(testHeaders(t), 4096)
		binary.LittleEndian.PutUint32(b[32:], sparseSize/4096-1) // last page number
		return b
	}
}

// TestHugeOrSparseFailsFast: a database file that is too large, or mostly
// holes, or whose header is wrong, is refused from what its size, its
// allocated blocks and its first bytes say: nothing is copied to the
// temporary directory, and the file is not read through. (go-rpmdb
// testdata and real databases are never sparse.)
func TestHugeOrSparseFailsFast(t *testing.T) {
	// Bytes a refused database may cost: its header, a few reads of
	// /proc/self/io and of directories, the test's own logging.
	const slack = 1 << 20
	for _, name := range []string{"rpmdb.sqlite", "Packages.db", "Packages"} {
		file := "var/lib/rpm/" + name
		t.Run(name+": 3 GiB sparse", func(t *testing.T) {
			root := t.TempDir()
			sparseFile(t, root, file, nil, 3<<30)
			run, read, written := collectCounted(t, root)
			if run.Status != host.StatusFailed || !strings.Contains(run.Reason, hostfs.ErrTooLarge.Error()) || !strings.Contains(run.Reason, "/"+file) {
				t.Errorf("run %+v; want failed, too large", run)
			}
			if read > slack || written > slack {
				t.Errorf("read %d bytes and wrote %d; want neither over %d", read, written, slack)
			}
		})
		for _, tc := range []struct {
			label string
			head  []byte
		}{
			{"without a header", nil},
			{"with a sound header", soundHead(t, name)},
		} {
			t.Run(name+": sparse "+tc.label, func(t *testing.T) {
				root := t.TempDir()
				if !sparseFile(t, root, file, tc.head, sparseSize) {
					t.Skip("the file system does not make sparse files")
				}
				run, read, written := collectCounted(t, root)
				if run.Status != host.StatusFailed || !strings.Contains(run.Reason, "/"+file+": sparse file") {
					t.Errorf("run %+v; want failed, sparse", run)
				}
				if read > slack || written > slack {
					t.Errorf("read %d bytes and wrote %d; want neither over %d", read, written, slack)
				}
			})
		}
		// Not sparse: the header alone shows what it is not.
		t.Run(name+": 8 MiB of zeros", func(t *testing.T) {
			root := t.TempDir()
			sparseFile(t, root, file, make([]byte, 8<<20), 8<<20)
			run, _, written := collectCounted(t, root)
			if run.Status != host.StatusFailed || !strings.Contains(run.Reason, "/"+file+": corrupt database") {
				t.Errorf("run %+v; want failed, corrupt", run)
			}
			if written > slack {
				t.Errorf("wrote %d bytes; want at most %d", written, slack)
			}
		})
	}
	// A SQLite database whose header says it is smaller than the file.
	t.Run("rpmdb.sqlite: sound database then 8 MiB", func(t *testing.T) {
		b, err := os.ReadFile(rpm418)
		if err != nil {
			t.Fatal(err)
		}
		root := t.TempDir()
		sparseFile(t, root, "var/lib/rpm/rpmdb.sqlite", append(b, make([]byte, 8<<20)...), int64(len(b)+8<<20))
		run, _, written := collectCounted(t, root)
		if run.Status != host.StatusFailed || !strings.Contains(run.Reason, "declares 56 pages of 4096 bytes") {
			t.Errorf("run %+v; want failed on the page count", run)
		}
		if written > slack {
			t.Errorf("wrote %d bytes; want at most %d", written, slack)
		}
	})
	// The byte counts above mean something: reading a database does show
	// its copy.
	t.Run("control: a sound database is copied", func(t *testing.T) {
		root := t.TempDir()
		place(t, root, map[string]string{"var/lib/rpm/rpmdb.sqlite": rpm418})
		run, _, written := collectCounted(t, root)
		fi, err := os.Stat(rpm418)
		if err != nil {
			t.Fatal(err)
		}
		if run.Status != host.StatusOK {
			t.Errorf("run %+v", run)
		}
		if written >= 0 && written < fi.Size() {
			t.Errorf("wrote %d bytes reading a database of %d; the counter does not show the copy", written, fi.Size())
		}
	})
}

// TestCompanions: a -wal or -journal that SQLite would ignore, having no
// header of its kind, is ignored; a sparse one fails the database; and a
// database with its companions over MaxDBSize is refused.
func TestCompanions(t *testing.T) {
	for _, suffix := range []string{"-wal", "-journal"} {
		t.Run("garbage "+suffix, func(t *testing.T) {
			root := t.TempDir()
			place(t, root, map[string]string{"var/lib/rpm/rpmdb.sqlite": rpm418})
			if err := os.WriteFile(filepath.Join(root, "var/lib/rpm/rpmdb.sqlite"+suffix), []byte(strings.Repeat("garbage ", 1000)), 0o644); err != nil {
				t.Fatal(err)
			}
			inv, run := collectRoot(t, root)
			if run.Status != host.StatusOK || len(inv.Packages) != 3 {
				t.Errorf("run %+v with %d packages; want ok with 3", run, len(inv.Packages))
			}
		})
		t.Run("sparse "+suffix, func(t *testing.T) {
			root := t.TempDir()
			place(t, root, map[string]string{"var/lib/rpm/rpmdb.sqlite": rpm418})
			if !sparseFile(t, root, "var/lib/rpm/rpmdb.sqlite"+suffix, nil, sparseSize) {
				t.Skip("the file system does not make sparse files")
			}
			run, _, written := collectCounted(t, root)
			if run.Status != host.StatusFailed || !strings.Contains(run.Reason, "/var/lib/rpm/rpmdb.sqlite"+suffix+": sparse file") {
				t.Errorf("run %+v; want failed, sparse", run)
			}
			if written > 1<<20 {
				t.Errorf("wrote %d bytes", written)
			}
		})
	}
	t.Run("too large together", func(t *testing.T) {
		// A live WAL header, then zeros: a -wal within MaxDBSize, but not
		// with the database beside it. 72 MiB of it is written, lest it be
		// refused as sparse first.
		root := t.TempDir()
		place(t, root, map[string]string{"var/lib/rpm/rpmdb.sqlite": rpm418})
		wal := make([]byte, 72<<20)
		binary.BigEndian.PutUint32(wal, 0x377f0682)
		binary.BigEndian.PutUint32(wal[4:], 3007000)
		sparse := sparseFile(t, root, "var/lib/rpm/rpmdb.sqlite-wal", wal, MaxDBSize-4096)
		run, _, written := collectCounted(t, root)
		want := hostfs.ErrTooLarge.Error()
		if sparse {
			want = "sparse file" // a file system that compresses zeros
		}
		if run.Status != host.StatusFailed || !strings.Contains(run.Reason, want) {
			t.Errorf("run %+v; want failed, %s", run, want)
		}
		if written > 1<<20 {
			t.Errorf("wrote %d bytes", written)
		}
	})
}
