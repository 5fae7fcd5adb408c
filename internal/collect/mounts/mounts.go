// Package mounts collects the file systems of a host (config/mounts): the
// mounts in effect, from the scanned root's proc/mounts, and those
// configured in /etc/fstab.
//
// # Live mounts
//
// proc/mounts (falling back to proc/self/mounts) is read only when the
// scanned root has one: an image has none, and Live is then nil. Its
// lines are "device mount-point type options dump pass"; the kernel
// escapes space, tab, newline and backslash in the first two fields as
// octal (\040, \011, \012, \134), which are decoded. The file must
// resolve inside the root's proc/ (a link from proc/mounts to another
// file of the image is not read as a mount table).
//
// # /etc/fstab
//
// Lines are split on blanks; "#" starts a comment line; blank lines are
// skipped. Fields are device (UUID=, LABEL=, PARTUUID= kept as written),
// mount point, type, comma-separated options ("defaults" when absent),
// dump and pass. The same octal escapes are decoded, as getmntent does.
//
// Files are capped (FileLimit) and so is the number of entries kept
// (MaxEntries); only regular files are read (a FIFO or device is
// reported, never opened).
package mounts

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/kensa-dev/kensa/internal/collect"
	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/hostfs"
)

const (
	// FileLimit caps proc/mounts and /etc/fstab. A container host with
	// thousands of mounts has a proc/mounts of a few hundred KiB.
	FileLimit = 8 << 20
	// MaxEntries caps the mounts kept from one file.
	MaxEntries = 50000
	// Fstab is the file of configured mounts.
	Fstab = "/etc/fstab"
)

// ProcMounts are the live mount tables tried, in order.
var ProcMounts = []string{"/proc/mounts", "/proc/self/mounts"}

// Collector fills inv.Config.Mounts.
type Collector struct{}

// New returns the mounts collector.
func New() *Collector { return &Collector{} }

// Name implements collect.Collector.
func (*Collector) Name() string { return "config/mounts" }

// Collect implements collect.Collector.
func (c *Collector) Collect(ctx context.Context, env *collect.Env, inv *host.Inventory) error {
	m := &host.Mounts{}
	var src []string
	live, liveFile, liveFound := readLive(env)
	if liveFound {
		m.Live = live
		if m.Live == nil {
			m.Live = []host.Mount{}
		}
		src = append(src, fmt.Sprintf("live mounts from %s (%d)", liveFile, len(live)))
	} else {
		src = append(src, "no live mount table (proc/mounts absent: an image)")
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	fstab, fstabFound := readFstab(env)
	if fstabFound {
		m.Fstab, m.FstabFound = fstab, true
		src = append(src, fmt.Sprintf("%s (%d entries)", Fstab, len(fstab)))
	} else {
		src = append(src, "no "+Fstab)
	}
	m.Source = strings.Join(src, "; ")
	if !liveFound && !fstabFound {
		return collect.NotApplicable("no proc/mounts and no %s", Fstab)
	}
	if inv.Config == nil {
		inv.Config = &host.Config{}
	}
	inv.Config.Mounts = m
	env.Count(len(m.Live) + len(m.Fstab))
	return nil
}

// readLive reads the first live mount table present. found is false when
// there is none (an image).
func readLive(env *collect.Env) (out []host.Mount, file string, found bool) {
	for _, p := range ProcMounts {
		if _, err := env.FS.Lstat(p); err != nil {
			if !hostfs.Missing(err) {
				env.Errorf("%s: %v", p, err)
			}
			continue
		}
		r, err := env.FS.Resolve(p)
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				env.Errorf("%s: %v", p, err)
			}
			continue
		}
		if !strings.HasPrefix(r, "/proc/") {
			env.Errorf("%s: leads out of /proc (to %s), not read", p, r)
			continue
		}
		b, ok := read(env, p)
		if !ok {
			continue
		}
		return ParseMounts(b, p, env.Errorf), p, true
	}
	return nil, "", false
}

// readFstab reads /etc/fstab; found is false when it does not exist.
func readFstab(env *collect.Env) ([]host.Mount, bool) {
	if _, err := env.FS.Stat(Fstab); err != nil {
		if hostfs.Missing(err) {
			return nil, false
		}
		env.Errorf("%s: %v", Fstab, err)
		return nil, true
	}
	b, ok := read(env, Fstab)
	if !ok {
		return nil, true
	}
	return ParseFstab(b, Fstab, env.Errorf), true
}

// read reads a regular file (links resolved inside the root) of at most
// FileLimit bytes, reporting why it could not.
func read(env *collect.Env, p string) ([]byte, bool) {
	fi, err := env.FS.Stat(p)
	if err != nil {
		env.Errorf("%s: %v", p, err)
		return nil, false
	}
	if !fi.Mode().IsRegular() {
		env.Errorf("%s: not a regular file (%s), not read", p, fi.Mode().Type())
		return nil, false
	}
	b, err := hostfs.ReadFileLimit(env.FS, p, FileLimit)
	if err != nil {
		env.Errorf("read %s: %v", p, err)
		return nil, false
	}
	return b, true
}

// ParseMounts parses a proc/mounts table. file names the source in the
// entries; problems go to errorf.
func ParseMounts(b []byte, file string, errorf func(string, ...any)) []host.Mount {
	var out []host.Mount
	for i, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(f) < 4 {
			errorf("%s:%d: want at least 4 fields, got %d", file, i+1, len(f))
			continue
		}
		if len(out) >= MaxEntries {
			errorf("%s: more than %d mounts, the rest are skipped", file, MaxEntries)
			break
		}
		out = append(out, host.Mount{
			Device:     Unescape(f[0]),
			MountPoint: Unescape(f[1]),
			FSType:     Unescape(f[2]),
			Options:    options(f[3]),
			File:       file,
			Line:       i + 1,
		})
	}
	return out
}

// ParseFstab parses an fstab file.
func ParseFstab(b []byte, file string, errorf func(string, ...any)) []host.Mount {
	var out []host.Mount
	for i, line := range strings.Split(string(b), "\n") {
		t := strings.TrimSpace(line)
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		f := strings.Fields(t)
		if len(f) < 2 {
			errorf("%s:%d: want at least a device and a mount point", file, i+1)
			continue
		}
		if len(out) >= MaxEntries {
			errorf("%s: more than %d entries, the rest are skipped", file, MaxEntries)
			break
		}
		m := host.Mount{
			Device:     Unescape(f[0]),
			MountPoint: Unescape(f[1]),
			Options:    []string{"defaults"},
			File:       file,
			Line:       i + 1,
		}
		if len(f) > 2 {
			m.FSType = Unescape(f[2])
		}
		if len(f) > 3 {
			m.Options = options(f[3])
		}
		out = append(out, m)
	}
	return out
}

func options(s string) []string {
	var out []string
	for _, o := range strings.Split(s, ",") {
		if o != "" {
			out = append(out, Unescape(o))
		}
	}
	if out == nil {
		out = []string{}
	}
	return out
}

// Unescape decodes the kernel's and getmntent's octal escapes ("\040"
// is a space). A backslash not followed by three octal digits is kept.
func Unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && isOctal(s[i+1]) && isOctal(s[i+2]) && isOctal(s[i+3]) {
			v := (int(s[i+1]-'0') << 6) | (int(s[i+2]-'0') << 3) | int(s[i+3]-'0')
			if v <= 0xff {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }

// Clean normalises a mount point for comparison ("/tmp/" is "/tmp").
func Clean(p string) string {
	if strings.HasPrefix(p, "/") {
		return path.Clean(p)
	}
	return p
}
