package collect

import (
	"errors"
	"io/fs"
	"path"
	"sort"
	"strings"
	"syscall"

	"github.com/kensa-dev/kensa/internal/hostfs"
)

// DropIns lists the "*.conf" drop-in files of dirs the way systemd,
// procps and kmod read sysctl.d and modprobe.d: a file name in an earlier
// directory masks the same name in later ones, the files that remain are
// taken in lexical order of their names, and a file linked to /dev/null
// masks its name without being read. Hidden files and anything that is not
// a regular file or a link are skipped and reported; at most max names are
// kept. It returns the paths to read and how many names were found
// (masked ones included), so a caller can tell "no configuration" from
// "all of it masked". label names the files in messages ("sysctl.d").
func DropIns(fsys hostfs.FS, dirs []string, max int, label string, errorf func(string, ...any)) (files []string, names int) {
	type entry struct{ name, file string }
	seen := map[string]bool{}
	var entries []entry
	for _, dir := range dirs {
		des, err := fsys.ReadDir(dir)
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) {
				errorf("read %s: %v", dir, err)
			}
			continue
		}
		for _, de := range des {
			name := de.Name()
			if !strings.HasSuffix(name, ".conf") || strings.HasPrefix(name, ".") || seen[name] {
				continue
			}
			t := de.Type()
			if t&fs.ModeSymlink == 0 && !t.IsRegular() {
				errorf("%s: not a regular file (%s), skipped", path.Join(dir, name), TypeName(t))
				continue
			}
			if len(entries) >= max {
				errorf("%s: more than %d %s files, the rest are skipped", dir, max, label)
				break
			}
			seen[name] = true
			entries = append(entries, entry{name, path.Join(dir, name)})
		}
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].name < entries[j].name })
	for _, e := range entries {
		if !MaskedByDevNull(fsys, e.file) {
			files = append(files, e.file)
		}
	}
	return files, len(entries)
}

// MaskedByDevNull reports whether file is a symbolic link to /dev/null,
// the documented way to mask a vendor drop-in. An image rarely holds
// dev/null, so the link's text is looked at as well as where it leads.
func MaskedByDevNull(fsys hostfs.FS, file string) bool {
	fi, err := fsys.Lstat(file)
	if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		return false
	}
	if t, err := fsys.ReadLink(file); err == nil && path.Clean(t) == "/dev/null" {
		return true
	}
	r, err := fsys.Resolve(file)
	return err == nil && r == "/dev/null"
}

// TypeName names the type of a file mode in messages and facts: file,
// dir, link, fifo, socket, device or other.
func TypeName(m fs.FileMode) string {
	switch {
	case m&fs.ModeSymlink != 0:
		return "link"
	case m.IsDir():
		return "dir"
	case m.IsRegular():
		return "file"
	case m&fs.ModeNamedPipe != 0:
		return "fifo"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeDevice != 0:
		return "device"
	}
	return "other"
}

// UnixMode returns a file's permission bits with set-uid, set-gid and
// sticky in their octal places (04000, 02000, 01000), as the rules and
// chmod(1) write them; fs.FileMode keeps those as other flags.
func UnixMode(m fs.FileMode) uint32 {
	u := uint32(m.Perm())
	if m&fs.ModeSetuid != 0 {
		u |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		u |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		u |= 0o1000
	}
	return u
}
