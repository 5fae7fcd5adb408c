package hostfs

import (
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
)

// imageFS is a directory holding another system's root file system.
type imageFS struct {
	dir  string
	root *os.Root
}

func (m *imageFS) Root() string { return m.dir }
func (m *imageFS) Live() bool   { return false }

func (m *imageFS) hostLstat(rel string) (fs.FileInfo, error) {
	return os.Lstat(filepath.Join(m.dir, filepath.FromSlash(rel)))
}

func (m *imageFS) hostReadlink(rel string) (string, error) {
	return os.Readlink(filepath.Join(m.dir, filepath.FromSlash(rel)))
}

// rel resolves name inside the root and returns it relative to the root.
func (m *imageFS) rel(name string, followLast bool) (string, error) {
	abs, err := resolveLinks(name, followLast, m.hostLstat, m.hostReadlink, m.dir)
	if err != nil {
		return "", err
	}
	return clean(abs), nil
}

func (m *imageFS) Open(name string) (fs.File, error) {
	rel, err := m.rel(name, true)
	if err != nil {
		return nil, err
	}
	// os.Root checks again, so a link swapped in after the resolution above
	// still cannot lead out of the root.
	fi, err := m.root.Lstat(rel)
	if err != nil {
		return nil, err
	}
	if !openable(fi.Mode()) {
		return nil, &fs.PathError{Op: "open", Path: "/" + rel, Err: ErrNotRegular}
	}
	f, err := m.root.OpenFile(rel, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return nil, err
	}
	return &imageFile{File: f, name: "/" + rel}, nil
}

func (m *imageFS) Stat(name string) (fs.FileInfo, error) {
	rel, err := m.rel(name, true)
	if err != nil {
		return nil, err
	}
	return m.root.Lstat(rel)
}

func (m *imageFS) Lstat(name string) (fs.FileInfo, error) {
	rel, err := m.rel(name, false)
	if err != nil {
		return nil, err
	}
	return m.root.Lstat(rel)
}

func (m *imageFS) ReadLink(name string) (string, error) {
	rel, err := m.rel(name, false)
	if err != nil {
		return "", err
	}
	return m.root.Readlink(rel)
}

func (m *imageFS) ReadDir(name string) ([]fs.DirEntry, error) {
	f, err := m.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	d, ok := f.(fs.ReadDirFile)
	if !ok {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: syscall.ENOTDIR}
	}
	entries, err := d.ReadDir(-1)
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	return entries, err
}

func (m *imageFS) ReadFile(name string) ([]byte, error) {
	return ReadFileLimit(m, name, DefaultReadLimit)
}

func (m *imageFS) Resolve(name string) (string, error) {
	rel, err := m.rel(name, true)
	if err != nil {
		return "", err
	}
	return path.Join("/", rel), nil
}

// imageFile reports names inside the image, not on the scanning machine.
type imageFile struct {
	*os.File
	name string
}

func (f *imageFile) ReadDir(n int) ([]fs.DirEntry, error) { return f.File.ReadDir(n) }

// resolveLinks resolves every symbolic link in name as if root were the
// system's root and returns the result as a clean absolute path within it.
// lstat and readlink take root-relative slash paths. When followLast is
// false a final link is left in place (for Lstat and ReadLink). A missing
// component ends the resolution with its error, as the kernel's does.
func resolveLinks(name string, followLast bool, lstat func(string) (fs.FileInfo, error), readlink func(string) (string, error), root string) (string, error) {
	if root == "/" {
		// The live host: let lstat/readlink take absolute paths.
		lstatRel, readlinkRel := lstat, readlink
		lstat = func(rel string) (fs.FileInfo, error) { return lstatRel("/" + rel) }
		readlink = func(rel string) (string, error) { return readlinkRel("/" + rel) }
	}
	pending := strings.Split(clean(name), "/")
	var done []string
	links := 0
	for len(pending) > 0 {
		p := pending[0]
		pending = pending[1:]
		switch p {
		case "", ".":
			continue
		case "..":
			if len(done) > 0 {
				done = done[:len(done)-1]
			}
			continue
		}
		cand := strings.Join(append(done, p), "/")
		if len(pending) == 0 && !followLast {
			done = append(done, p)
			break
		}
		fi, err := lstat(cand)
		if err != nil {
			if os.IsNotExist(err) {
				return "", &fs.PathError{Op: "resolve", Path: "/" + clean(name), Err: fs.ErrNotExist}
			}
			return "", &fs.PathError{Op: "resolve", Path: "/" + clean(name), Err: err}
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			done = append(done, p)
			continue
		}
		links++
		if links > MaxLinks {
			return "", &fs.PathError{Op: "resolve", Path: "/" + clean(name), Err: ErrLinkLoop}
		}
		target, err := readlink(cand)
		if err != nil {
			return "", &fs.PathError{Op: "resolve", Path: "/" + clean(name), Err: err}
		}
		if strings.HasPrefix(target, "/") {
			done = done[:0]
		}
		pending = append(strings.Split(target, "/"), pending...)
	}
	return "/" + strings.Join(done, "/"), nil
}
