package system

import (
	"context"
	"errors"
	"io/fs"
	"path"
	"slices"
	"syscall"

	"github.com/kensa-dev/kensa/internal/collect"
	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/hostfs"
)

// SystemDirs are the directories that must be writable only by root
// (best practices KS-BP-009).
var SystemDirs = []string{
	"/bin", "/sbin", "/usr", "/usr/bin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin",
	"/lib", "/lib64", "/usr/lib", "/usr/lib64", "/usr/local/lib", "/etc", "/boot",
}

// CISFiles are the files and directories whose owner and mode the CIS
// benchmarks check (shared/checks/linux-controls.csv, kind file_perms, and
// the sticky temporary directories of the mount checks).
var CISFiles = []string{
	"/etc/passwd", "/etc/passwd-", "/etc/shadow", "/etc/shadow-",
	"/etc/group", "/etc/group-", "/etc/gshadow", "/etc/gshadow-",
	"/etc/shells", "/etc/security/opasswd", "/etc/security/opasswd.old",
	"/etc/ssh/sshd_config", "/etc/ssh/sshd_config.d",
	"/etc/ssh/ssh_host_rsa_key", "/etc/ssh/ssh_host_ecdsa_key", "/etc/ssh/ssh_host_ed25519_key",
	"/etc/ssh/ssh_host_rsa_key.pub", "/etc/ssh/ssh_host_ecdsa_key.pub", "/etc/ssh/ssh_host_ed25519_key.pub",
	"/etc/crontab", "/etc/cron.hourly", "/etc/cron.daily", "/etc/cron.weekly", "/etc/cron.monthly", "/etc/cron.d",
	"/etc/cron.allow", "/etc/cron.deny", "/etc/at.allow", "/etc/at.deny",
	"/etc/motd", "/etc/issue", "/etc/issue.net",
	"/boot/grub/grub.cfg", "/boot/grub2/grub.cfg", "/boot/grub2/grubenv", "/boot/grub2/user.cfg",
	"/etc/sudoers", "/etc/sudoers.d",
	"/var/lib/aide/aide.db", "/var/lib/aide/aide.db.gz",
	"/tmp", "/var/tmp", "/dev/shm",
}

// DefaultPaths returns SystemDirs then CISFiles, in a new slice.
func DefaultPaths() []string {
	return slices.Concat(SystemDirs, CISFiles)
}

// MaxPaths caps the paths one collector examines.
const MaxPaths = 10000

// PathsCollector fills inv.Config.Paths. It runs after os/users, whose
// accounts and groups name the owners.
type PathsCollector struct {
	paths []string
}

// NewPaths returns the paths collector for the given absolute paths, or for
// DefaultPaths when paths is empty.
func NewPaths(paths []string) *PathsCollector {
	if len(paths) == 0 {
		paths = DefaultPaths()
	}
	return &PathsCollector{paths: slices.Clone(paths)}
}

// Name implements collect.Collector.
func (*PathsCollector) Name() string { return "config/paths" }

// Paths returns the paths the collector examines, cleaned, without
// repeats, in the order given.
func (c *PathsCollector) Paths() []string {
	seen := map[string]bool{}
	var out []string
	for _, p := range c.paths {
		p = path.Clean("/" + p)
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}

// Collect implements collect.Collector.
func (c *PathsCollector) Collect(ctx context.Context, env *collect.Env, inv *host.Inventory) error {
	users := map[int]string{}
	for _, u := range inv.Users {
		if _, ok := users[u.UID]; !ok {
			users[u.UID] = u.Name
		}
	}
	groups := map[int]string{}
	for _, g := range inv.Groups {
		if _, ok := groups[g.GID]; !ok {
			groups[g.GID] = g.Name
		}
	}
	paths := c.Paths()
	if len(paths) > MaxPaths {
		env.Errorf("%d paths asked for, only the first %d are examined", len(paths), MaxPaths)
		paths = paths[:MaxPaths]
	}
	out := make([]host.PathInfo, 0, len(paths))
	for _, p := range paths {
		if err := ctx.Err(); err != nil {
			return err
		}
		pi := Examine(env.FS, p)
		if pi.Exists && pi.UID >= 0 {
			pi.Owner = users[pi.UID]
			pi.Group = groups[pi.GID]
		}
		if pi.Error != "" {
			env.Errorf("%s: %s", p, pi.Error)
		}
		if pi.Exists {
			env.Count(1)
		}
		out = append(out, pi)
	}
	if inv.Config == nil {
		inv.Config = &host.Config{}
	}
	inv.Config.Paths = out
	return nil
}

// Examine describes one path of fsys:
//
//   - Type is what the path itself is (as lstat sees it): file, dir,
//     link or other (a FIFO, socket or device), so that a rule can refuse
//     a symbolic link where it wants a file;
//   - Resolved is where it leads with every link resolved inside the root
//     ("/bin" is "/usr/bin" on a merged-/usr system);
//   - Mode, UID and GID are those of what it leads to (for a link, its
//     target: a link's own mode is meaningless, and access is decided by
//     the target). For a link that leads nowhere (dangling, a loop) they are
//     the link's own, and Error says why.
//
// A path that does not exist has Exists false and no Error; one whose
// parent cannot be searched has an Error. UID and GID are -1 when the file
// system gives no owner. Owner and Group names are left to the caller.
func Examine(fsys hostfs.FS, p string) host.PathInfo {
	p = path.Clean("/" + p)
	pi := host.PathInfo{Path: p, UID: -1, GID: -1}
	lfi, err := fsys.Lstat(p)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) {
			pi.Error = err.Error()
		}
		return pi
	}
	pi.Exists = true
	switch pi.Type = collect.TypeName(lfi.Mode()); pi.Type {
	case "file", "dir", "link":
	default:
		pi.Type = "other" // host.PathInfo's set: fifo, socket, device
	}
	fi := lfi
	if lfi.Mode()&fs.ModeSymlink != 0 {
		r, rerr := fsys.Resolve(p)
		var sfi fs.FileInfo
		if rerr == nil {
			sfi, rerr = fsys.Lstat(r)
		}
		if rerr != nil {
			target, _ := fsys.ReadLink(p)
			if errors.Is(rerr, fs.ErrNotExist) {
				pi.Error = "dangling symbolic link to " + target
			} else {
				pi.Error = "symbolic link to " + target + ": " + rerr.Error()
			}
		} else {
			pi.Resolved, fi = r, sfi
		}
	} else if r, err := fsys.Resolve(p); err == nil {
		// A link in a parent directory ("/lib64/x" with /lib64 a link).
		pi.Resolved = r
	}
	pi.Mode = collect.UnixMode(fi.Mode())
	if uid, gid, ok := hostfs.Owner(fi); ok {
		pi.UID, pi.GID = int(uid), int(gid)
	}
	return pi
}
