package watch

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/kensa-dev/kensa/internal/collect"
	"github.com/kensa-dev/kensa/internal/elfsec"
	"github.com/kensa-dev/kensa/internal/observe"
	"golang.org/x/sys/unix"
)

// maxBinaries bounds the files analysed after a window.
const maxBinaries = 20_000

// deletedSuffix is how the kernel marks, in /proc/PID/exe and maps, a file
// deleted (or replaced by a rename, as package upgrades do) since it was
// mapped.
const deletedSuffix = " (deleted)"

// analyzeBinaries analyses once each executable and executable mapping of
// the processes (those of other mount namespaces name files there and are
// left out), and adds to notes the files past its limit. (The runtime
// rules' coverage names the files that could not be analysed.) Origin is
// left unknown: the caller knows the package databases (see SetOrigins).
//
// An executable no longer on disk (deleted or replaced since it started,
// or run from memory through a memfd) is analysed through procRoot/PID/exe
// of a process still running it: the kernel keeps the file open.
func analyzeBinaries(ctx context.Context, procRoot string, procs []observe.Process, notes []string) ([]observe.Binary, []string) {
	seen := map[string]bool{}
	var paths []string
	runner := map[string]int{} // executable not on disk → a pid running it
	for _, p := range procs {
		if p.OtherMountNS {
			continue
		}
		if p.Running && offDisk(p.Exe) {
			runner[p.Exe] = p.PID
		}
		for _, f := range append([]string{p.Exe}, p.Objects...) {
			if f != "" && !seen[f] {
				seen[f] = true
				paths = append(paths, f)
			}
		}
	}
	slices.Sort(paths)
	if len(paths) > maxBinaries {
		notes = append(notes, fmt.Sprintf("more than %d executables and libraries in use: %d were not analysed", maxBinaries, len(paths)-maxBinaries))
		paths = paths[:maxBinaries]
	}
	out := make([]observe.Binary, 0, len(paths))
	for _, p := range paths {
		if ctx.Err() != nil {
			return out, notes // canceled: the caller returns ctx's error
		}
		if pid, ok := runner[p]; ok {
			out = append(out, analyzeRunning(p, filepath.Join(procRoot, strconv.Itoa(pid), "exe")))
			continue
		}
		out = append(out, Analyze(p))
	}
	return out, notes
}

// offDisk reports whether a path from /proc names code that is not a file
// on disk: deleted or replaced since it was mapped, or a memfd.
func offDisk(path string) bool {
	return strings.HasSuffix(path, deletedSuffix) || strings.HasPrefix(path, "/memfd:")
}

// analyzeRunning analyses an executable that is no longer on disk through
// exe, its process's /proc/PID/exe. It has no chain: no path on disk
// holds that code, so no one can replace it there.
func analyzeRunning(path, exe string) observe.Binary {
	b := observe.Binary{Path: path, Origin: observe.OriginUnknown, OffDisk: true, Chain: dirChain(path)}
	f, err := os.Open(exe)
	if err != nil {
		b.Error = fmt.Sprintf("not on disk, and %v", err)
		return b
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		b.Error = err.Error()
		return b
	}
	res, err := elfsec.Analyze(f, fi.Size())
	if err != nil {
		b.Error = err.Error()
		return b
	}
	b.ELF = res
	return b
}

// Analyze judges the file at path, an absolute path as /proc gives it: its
// ELF hardening, and the owner and mode of the file and every directory
// above it. Paths from /proc/PID/exe and maps have their links resolved; a
// path given to execve (a process that exited before /proc was read) may
// not, and is resolved first, so the chain describes the file that ran.
// A script (#!) is no failure: its interpreter runs, and is analysed as
// the executable of a process still running it. (A script whose process
// exited before it was read is recorded by its path; its interpreter is
// then not analysed.)
func Analyze(path string) observe.Binary {
	b := observe.Binary{Path: path, Origin: observe.OriginUnknown}
	if offDisk(path) {
		b.OffDisk = true
		b.Chain = dirChain(path)
		b.Error = "not on disk: deleted or replaced since it was loaded (a process to restart after an upgrade), or run from memory; only a running executable can be read back, through /proc"
		return b
	}
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		b.Error = err.Error()
		return b
	}
	b.Chain = chain(real)
	res, interp, err := analyzeFile(real)
	switch {
	case err != nil:
		b.Error = err.Error()
	case interp != "":
		b.Interpreter = interp
	default:
		b.ELF = res
	}
	return b
}

// analyzeFile analyses the regular file at path: an ELF file's hardening,
// or a script's interpreter. Paths were recorded during the window and
// are opened at its end, as root, so a user may have swapped a directory
// on the way for a link to /dev meanwhile: the file is first opened
// O_PATH (no driver's open runs, nothing blocks), checked to be a regular
// file, and only then opened for reading, through that descriptor.
func analyzeFile(path string) (res *elfsec.Result, interpreter string, err error) {
	fd, err := unix.Open(path, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, "", &fs.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, "", &fs.PathError{Op: "stat", Path: path, Err: err}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return nil, "", fmt.Errorf("%s: not a regular file (mode %#o)", path, st.Mode)
	}
	f, err := os.OpenFile("/proc/self/fd/"+strconv.Itoa(fd), os.O_RDONLY, 0)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", path, err)
	}
	defer f.Close()
	res, err = elfsec.Analyze(f, st.Size)
	if errors.Is(err, elfsec.ErrNotELF) {
		if interp := shebang(f); interp != "" {
			return nil, interp, nil
		}
		return nil, "", fmt.Errorf("%s: neither an ELF file nor a script", path)
	}
	return res, "", err
}

// shebang returns the interpreter named by a script's first line, or "".
func shebang(f *os.File) string {
	buf := make([]byte, 256)
	n, _ := f.ReadAt(buf, 0)
	line, _, _ := strings.Cut(string(buf[:n]), "\n")
	rest, ok := strings.CutPrefix(line, "#!")
	if !ok {
		return ""
	}
	if fields := strings.Fields(rest); len(fields) > 0 {
		return fields[0]
	}
	return ""
}

// dirChain is the chain of the directories of an off-disk path (the
// " (deleted)" suffix removed): the code is not there any more, but who
// can write those directories could have put it there, and can put the
// next version there.
func dirChain(path string) []observe.PathElem {
	p := strings.TrimSuffix(path, deletedSuffix)
	if strings.HasPrefix(p, "/memfd:") || !filepath.IsAbs(p) {
		return nil
	}
	return chain(filepath.Dir(p))
}

// chain lists "/", each directory down to path, then path itself, with
// their owners and modes (lstat: a link is described, not followed). It
// is nil when an element cannot be read: a partial chain would hide what
// lies below.
func chain(path string) []observe.PathElem {
	clean := filepath.Clean(path)
	if !filepath.IsAbs(clean) {
		return nil
	}
	var out []observe.PathElem
	cur := "/"
	parts := strings.Split(strings.TrimPrefix(clean, "/"), "/")
	for i := -1; i < len(parts); i++ {
		if i >= 0 {
			cur = filepath.Join(cur, parts[i])
		}
		fi, err := os.Lstat(cur)
		if err != nil {
			return nil
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		if !ok {
			return nil
		}
		out = append(out, observe.PathElem{Path: cur, Mode: collect.UnixMode(fi.Mode()), UID: st.Uid, GID: st.Gid, Dir: fi.IsDir()})
	}
	return out
}
