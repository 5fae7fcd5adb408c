package cli

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// writeOutput writes through fn to path, or to stdout when path is "" or
// "-" (or names the process's stdout or stderr, as /dev/stdout does).
//
// A regular file is written to a temporary file beside it and renamed into
// place, so a failed or interrupted run never leaves a truncated report
// where a good one was; a replaced file keeps its mode and owner, and a new
// one gets 0666 less the umask, as any program's output does. Anything else
// that exists at the path (a device such as /dev/null, a FIFO) is written
// as it is: Kensa often runs as root and must never replace a device node
// with a file.
//
// A symbolic link is followed only when it belongs to the user running
// Kensa (or to root): run as root, Kensa must not be led by another user's
// link in a shared directory into replacing a file such as /etc/shadow.
func (a *app) writeOutput(path string, fn func(io.Writer) error) error {
	switch path {
	case "", "-", "/dev/stdout", "/dev/fd/1", "/proc/self/fd/1":
		return fn(a.stdout)
	case "/dev/stderr", "/dev/fd/2", "/proc/self/fd/2":
		return fn(a.stderr)
	}
	target := path
	lfi, err := os.Lstat(path)
	switch {
	case os.IsNotExist(err):
		return replaceFile(path, nil, fn)
	case err != nil:
		return fmt.Errorf("write %s: %w", path, err)
	case lfi.Mode()&fs.ModeSymlink != 0:
		if err := trustedLink(lfi); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
		if target, err = filepath.EvalSymlinks(path); err != nil {
			if !os.IsNotExist(err) {
				return fmt.Errorf("write %s: %w", path, err)
			}
			// A dangling link: write where it points, as a shell would.
			if target, err = os.Readlink(path); err != nil {
				return fmt.Errorf("write %s: %w", path, err)
			}
			if !filepath.IsAbs(target) {
				target = filepath.Join(filepath.Dir(path), target)
			}
			return replaceFile(target, nil, fn)
		}
	}
	fi, err := os.Stat(target)
	switch {
	case os.IsNotExist(err):
		return replaceFile(target, nil, fn)
	case err != nil:
		return fmt.Errorf("write %s: %w", path, err)
	case fi.IsDir():
		return fmt.Errorf("write %s: is a directory", path)
	case !fi.Mode().IsRegular():
		return writeInPlace(target, fn)
	}
	return replaceFile(target, fi, fn)
}

// trustedLink refuses, when running as root, a link owned by another user.
func trustedLink(fi fs.FileInfo) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || os.Geteuid() != 0 || st.Uid == 0 {
		return nil
	}
	return fmt.Errorf("refusing to follow a symbolic link owned by uid %d while running as root", st.Uid)
}

// replaceFile writes a temporary file beside path and renames it over path.
// old describes the file replaced, or is nil.
func replaceFile(path string, old fs.FileInfo, fn func(io.Writer) error) error {
	var suffix [6]byte
	rand.Read(suffix[:])
	tmpName := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp-"+hex.EncodeToString(suffix[:]))
	// 0666: the kernel applies the umask to a new file.
	tmp, err := os.OpenFile(tmpName, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmpName) // no-op after a successful rename
	if err := fn(tmp); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if old != nil {
		if err := os.Chmod(tmpName, old.Mode().Perm()); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
		if st, ok := old.Sys().(*syscall.Stat_t); ok && os.Geteuid() == 0 {
			if err := os.Chown(tmpName, int(st.Uid), int(st.Gid)); err != nil {
				return fmt.Errorf("write %s: %w", path, err)
			}
		}
	}
	if err := os.Rename(tmpName, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// writeInPlace writes to an existing non-regular file such as a device.
func writeInPlace(path string, fn func(io.Writer) error) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := fn(f); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
