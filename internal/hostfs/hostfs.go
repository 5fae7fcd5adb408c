// Package hostfs presents a host, or an image of one, as a rooted file system.
//
// Every collector reads the host through an FS, never through package os, so
// that the same collector works on the live machine ("/"), on an unpacked or
// mounted image (--root DIR) and on a fixture tree in a test.
//
// A scanned image is hostile input. An FS resolves symbolic links itself, as
// if the root were chrooted: absolute targets restart at the root, ".." stops
// at the root, so no link ever leads out of it. Loops end with an error after
// a bounded number of links. Only regular files and directories are opened
// (a FIFO or a device would block a reader or never end), and ReadFile caps
// what it reads.
package hostfs

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"syscall"
)

// MaxLinks bounds the symbolic links followed while resolving one name, as
// the kernel's own limit (40) does.
const MaxLinks = 40

// DefaultReadLimit caps ReadFile. The largest text databases Kensa reads
// (a dpkg status file of a desktop install) are a few MiB.
const DefaultReadLimit = 64 << 20

var (
	// ErrNotRegular is returned when opening something that is neither a
	// regular file nor a directory.
	ErrNotRegular = errors.New("not a regular file or directory")
	// ErrTooLarge is returned when a file exceeds the read limit.
	ErrTooLarge = errors.New("file exceeds the read limit")
	// ErrLinkLoop is returned when resolving a name takes more than MaxLinks links.
	ErrLinkLoop = errors.New("too many levels of symbolic links")
)

// FS is a host's file system seen from its root. Names are slash-separated
// paths relative to the root; a leading "/" is accepted and ignored, so
// absolute paths from package databases can be used as they are. (This is
// laxer than fs.ValidPath on purpose; a backslash is an ordinary character.)
type FS interface {
	fs.FS
	fs.StatFS
	fs.ReadDirFS
	fs.ReadFileFS
	// Lstat describes name without following a final symbolic link.
	Lstat(name string) (fs.FileInfo, error)
	// ReadLink returns the target of the symbolic link name, unresolved.
	ReadLink(name string) (string, error)
	// Resolve returns name with every symbolic link resolved inside the
	// root, as a clean absolute path within the host ("/usr/bin/x").
	Resolve(name string) (string, error)
	// Root is the directory on the scanning machine; "/" for the live host.
	Root() string
	// Live reports whether the FS is the running system itself, so that
	// proc/ and sys/ describe the machine doing the scan.
	Live() bool
}

// Open returns an FS rooted at dir. dir "/" is the live host.
func Open(dir string) (FS, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("hostfs: %w", err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("hostfs: root %s: %w", dir, err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("hostfs: root %s is not a directory", dir)
	}
	if abs == "/" {
		return liveFS{}, nil
	}
	r, err := os.OpenRoot(abs)
	if err != nil {
		return nil, fmt.Errorf("hostfs: %w", err)
	}
	return &imageFS{dir: abs, root: r}, nil
}

// clean turns a name into a clean root-relative path ("." for the root).
func clean(name string) string {
	name = path.Clean("/" + name)
	if name == "/" {
		return "."
	}
	return name[1:]
}

// Owner returns the numeric owner and group of a FileInfo from an FS.
func Owner(fi fs.FileInfo) (uid, gid uint32, ok bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0, false
	}
	return st.Uid, st.Gid, true
}

// ReadFileLimit reads a regular file of at most limit bytes.
func ReadFileLimit(fsys fs.FS, name string, limit int64) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		return nil, &fs.PathError{Op: "read", Path: name, Err: syscall.EISDIR}
	}
	if fi.Size() > limit {
		return nil, &fs.PathError{Op: "read", Path: name, Err: fmt.Errorf("%w (%d > %d bytes)", ErrTooLarge, fi.Size(), limit)}
	}
	// Size the buffer from Stat (one allocation for an ordinary file), but
	// read to the limit whatever Stat said: files in proc/ report size 0.
	buf := bytes.NewBuffer(make([]byte, 0, fi.Size()+512))
	if _, err := buf.ReadFrom(io.LimitReader(f, limit+1)); err != nil {
		return nil, &fs.PathError{Op: "read", Path: name, Err: err}
	}
	b := buf.Bytes()
	if int64(len(b)) > limit {
		return nil, &fs.PathError{Op: "read", Path: name, Err: fmt.Errorf("%w (%d bytes)", ErrTooLarge, limit)}
	}
	return b, nil
}

// openable reports whether a file of this mode may be opened: reading a
// FIFO blocks and reading a device may never end.
func openable(m fs.FileMode) bool {
	return m.IsRegular() || m.IsDir()
}

// OpenAt opens the regular file name of fsys for random access, as
// debug/buildinfo and archive/zip need. Files of this package are
// *os.File underneath and are used as they are; any other file is read
// into memory. A file larger than maxSize is not opened: the error wraps
// ErrTooLarge.
func OpenAt(fsys fs.FS, name string, maxSize int64) (io.ReaderAt, int64, io.Closer, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, 0, nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, 0, nil, &fs.PathError{Op: "open", Path: name, Err: ErrNotRegular}
	}
	if fi.Size() > maxSize {
		f.Close()
		return nil, 0, nil, &fs.PathError{Op: "open", Path: name, Err: fmt.Errorf("%w (%d > %d bytes)", ErrTooLarge, fi.Size(), maxSize)}
	}
	if ra, ok := f.(io.ReaderAt); ok {
		return ra, fi.Size(), f, nil
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxSize+1))
	if err != nil {
		return nil, 0, nil, &fs.PathError{Op: "read", Path: name, Err: err}
	}
	if int64(len(b)) > maxSize {
		return nil, 0, nil, &fs.PathError{Op: "read", Path: name, Err: ErrTooLarge}
	}
	return bytes.NewReader(b), int64(len(b)), io.NopCloser(nil), nil
}

// Missing reports whether err says a name does not exist in the root: the
// file is absent, or a component of its path is absent or not a
// directory. Collectors treat that as "not configured", and every other
// error as a fact they could not read.
func Missing(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}
