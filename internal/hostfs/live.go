package hostfs

import (
	"io/fs"
	"os"
	"syscall"
)

// liveFS is the running host. Its root is "/", so the kernel's own path
// resolution can never leave it and is used as is: that keeps a live scan as
// cheap as plain os calls.
type liveFS struct{}

func (liveFS) Root() string { return "/" }
func (liveFS) Live() bool   { return true }

func (liveFS) abs(name string) string {
	c := clean(name)
	if c == "." {
		return "/"
	}
	return "/" + c
}

func (l liveFS) Open(name string) (fs.File, error) {
	p := l.abs(name)
	fi, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	if !openable(fi.Mode()) {
		return nil, &fs.PathError{Op: "open", Path: p, Err: ErrNotRegular}
	}
	// O_NONBLOCK: should the file be swapped for a FIFO after the Stat, the
	// open still returns at once.
	f, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	return f, nil
}

func (l liveFS) Stat(name string) (fs.FileInfo, error)  { return os.Stat(l.abs(name)) }
func (l liveFS) Lstat(name string) (fs.FileInfo, error) { return os.Lstat(l.abs(name)) }
func (l liveFS) ReadLink(name string) (string, error)   { return os.Readlink(l.abs(name)) }

func (l liveFS) ReadDir(name string) ([]fs.DirEntry, error) { return os.ReadDir(l.abs(name)) }

func (l liveFS) ReadFile(name string) ([]byte, error) {
	return ReadFileLimit(l, name, DefaultReadLimit)
}

func (l liveFS) Resolve(name string) (string, error) {
	return resolveLinks(name, true, os.Lstat, os.Readlink, "/")
}
