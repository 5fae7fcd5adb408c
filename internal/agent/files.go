package agent

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// File modes of the state directory: the directory and the key are the
// agent's alone (it runs as root and reads the whole host; its key is
// its identity); certificates and the rest are not secret but stay
// inside the 0700 directory anyway.
const (
	dirMode  fs.FileMode = 0o700
	keyMode  fs.FileMode = 0o600
	fileMode fs.FileMode = 0o600
)

// ensureDir makes dir with mode 0700, or tightens an existing one: the
// state holds the agent's key and the documents it has not uploaded yet.
func ensureDir(dir string) error {
	if err := os.MkdirAll(dir, dirMode); err != nil {
		return err
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s: not a directory", dir)
	}
	if fi.Mode().Perm() != dirMode {
		return os.Chmod(dir, dirMode)
	}
	return nil
}

// writeAtomic replaces path with what write writes: into a temporary
// file beside it, with its mode set before any byte is written, synced,
// renamed over path, and the directory synced. A crash leaves the old
// file or the new one, never a part of either.
func writeAtomic(path string, mode fs.FileMode, write func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	name := tmp.Name()
	defer os.Remove(name) // a no-op once renamed
	fail := func(err error) error {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Chmod(mode); err != nil {
		return fail(err)
	}
	if err := write(tmp); err != nil {
		return fail(err)
	}
	if err := tmp.Sync(); err != nil {
		return fail(err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(name, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return syncDir(filepath.Dir(path))
}

// writeFileAtomic is writeAtomic of a byte slice.
func writeFileAtomic(path string, data []byte, mode fs.FileMode) error {
	return writeAtomic(path, mode, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// syncDir makes a rename, link or removal in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
