package cli

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// writeOutput writes through fn to path, or to stdout when path is "" or
// "-".
//
// A regular file (or a link to one) is written to a temporary file beside
// it and renamed into place, so a failed or interrupted run never leaves a
// truncated report where a good one was; the replaced file keeps its mode
// and owner, and a new one is created 0644. Anything else that exists at
// the path (a device such as /dev/null or /dev/stdout, a FIFO) is opened
// and written as it is: Kensa often runs as root and must never replace a
// device node with a file.
func (a *app) writeOutput(path string, fn func(io.Writer) error) error {
	if path == "" || path == "-" {
		return fn(a.stdout)
	}
	target := path
	fi, err := os.Stat(path)
	switch {
	case err == nil && !fi.Mode().IsRegular():
		if fi.IsDir() {
			return fmt.Errorf("write %s: is a directory", path)
		}
		return writeInPlace(path, fn)
	case err == nil:
		// Replace the file a link points to, not the link.
		if target, err = filepath.EvalSymlinks(path); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
	case !os.IsNotExist(err):
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(target), "."+filepath.Base(target)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
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
	if err := keepModeAndOwner(tmp.Name(), fi); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), target); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// keepModeAndOwner gives the new file the mode and owner of the one it
// replaces (fi), or mode 0644 when there was none.
func keepModeAndOwner(name string, old fs.FileInfo) error {
	if old == nil {
		return os.Chmod(name, 0o644)
	}
	if err := os.Chmod(name, old.Mode().Perm()); err != nil {
		return err
	}
	if st, ok := old.Sys().(*syscall.Stat_t); ok && os.Geteuid() == 0 {
		return os.Chown(name, int(st.Uid), int(st.Gid))
	}
	return nil
}

// writeInPlace writes to an existing non-regular file such as a device.
func writeInPlace(path string, fn func(io.Writer) error) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
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
