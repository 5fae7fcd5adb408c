package rules

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/kensa-dev/kensa/internal/host"
)

// MountOptionCheck checks the options of the file system mounted on a
// mount point. The live mount (proc/mounts) decides when the host has
// one, since it is what is in effect; an image has none, and its
// /etc/fstab entry decides instead.
type MountOptionCheck struct {
	// MountPoint is the absolute path of the mount point ("/tmp").
	MountPoint string `yaml:"mount_point"`
	// Options are the options the mount must have (nodev, nosuid,
	// noexec, ...); empty with require_mount checks only the mount.
	Options []string `yaml:"options"`
	// RequireMount makes a mount point that is not a separate file
	// system a failure. Without it, such a mount point is not applicable
	// (the CIS option controls apply "if the partition exists").
	RequireMount bool `yaml:"require_mount"`
	// DefaultOptions are the options the mount point is mounted with at
	// every boot when no fstab entry configures it (systemd mounts /dev/shm
	// as an API file system with nosuid,nodev). For an image without an
	// fstab entry, the mount point is then taken as separate with these
	// options.
	DefaultOptions []string `yaml:"default_options"`
}

func (c *MountOptionCheck) validate() error {
	if c.MountPoint == "" || !strings.HasPrefix(c.MountPoint, "/") {
		return fmt.Errorf("mount_option: mount_point %q: an absolute path is required", c.MountPoint)
	}
	if len(c.Options) == 0 && !c.RequireMount {
		return fmt.Errorf("mount_option: options or require_mount is required")
	}
	for _, o := range slices.Concat(c.Options, c.DefaultOptions) {
		if o == "" || strings.ContainsAny(o, ", \t") {
			return fmt.Errorf("mount_option: option %q: one option per item", o)
		}
	}
	return nil
}

// lastMount returns the last entry for mp (a later mount hides an earlier
// one on the same point; a later fstab line is mounted over an earlier).
func lastMount(ms []host.Mount, mp string) (host.Mount, bool) {
	for i := len(ms) - 1; i >= 0; i-- {
		p := ms[i].MountPoint
		if strings.HasPrefix(p, "/") {
			p = path.Clean(p)
		}
		if p == mp {
			return ms[i], true
		}
	}
	return host.Mount{}, false
}

// mountEvidence spells a mount as "proc/mounts: /tmp tmpfs rw,nosuid" or
// "/etc/fstab:12: tmpfs /tmp tmpfs defaults,nodev".
func mountEvidence(m host.Mount) string {
	opts := strings.Join(m.Options, ",")
	if strings.HasPrefix(m.File, "/proc/") {
		return fmt.Sprintf("%s: %s %s %s", strings.TrimPrefix(m.File, "/"), m.MountPoint, m.FSType, opts)
	}
	return fmt.Sprintf("%s:%d: %s %s %s %s", m.File, m.Line, m.Device, m.MountPoint, m.FSType, opts)
}

// optionSet reports whether opt ("nodev") is in effect in opts, read left
// to right as mount(8) does: a later "dev" undoes an earlier "nodev".
// "defaults" sets no flag in libmount, so it undoes nothing.
func optionSet(opts []string, opt string) bool {
	positive, isNo := strings.CutPrefix(opt, "no")
	set := false
	for _, o := range opts {
		switch {
		case o == opt:
			set = true
		case isNo && o == positive:
			set = false
		}
	}
	return set
}

func (c *MountOptionCheck) missing(opts []string) []string {
	var out []string
	for _, o := range c.Options {
		if !optionSet(opts, o) {
			out = append(out, o)
		}
	}
	return out
}

func (c *MountOptionCheck) evaluate(inv *host.Inventory) Outcome {
	if inv.Config == nil || inv.Config.Mounts == nil {
		return errorf("the mounts were not collected")
	}
	ms := inv.Config.Mounts
	mp := path.Clean(c.MountPoint)
	want := strings.Join(c.Options, ",")
	fstab, inFstab := lastMount(ms.Fstab, mp)

	var m host.Mount
	var ev []string
	if ms.Live != nil {
		live, ok := lastMount(ms.Live, mp)
		if !ok {
			what := fmt.Sprintf("proc/mounts: no file system is mounted on %s (it is a directory of its parent file system)", mp)
			if inFstab {
				what += "; " + mountEvidence(fstab) + " is configured but not mounted"
			}
			if c.RequireMount {
				return fail(what)
			}
			return notApplicable(what)
		}
		m = live
		ev = append(ev, mountEvidence(m))
		switch {
		case !inFstab && len(c.DefaultOptions) == 0:
			ev = append(ev, fmt.Sprintf("note: %s has no %s entry: mounted by a systemd unit (tmp.mount) or by hand, check that it persists across reboots", mp, "/etc/fstab"))
		case inFstab:
			if miss := c.missing(fstab.Options); len(miss) > 0 && len(c.missing(m.Options)) == 0 {
				ev = append(ev, fmt.Sprintf("warning: %s lacks %s: the next boot would mount %s without it", mountEvidence(fstab), strings.Join(miss, ","), mp))
			}
		}
	} else {
		switch {
		case inFstab:
			m = fstab
			ev = append(ev, mountEvidence(m))
		case len(c.DefaultOptions) > 0:
			m = host.Mount{MountPoint: mp, Options: c.DefaultOptions}
			ev = append(ev, fmt.Sprintf("no /etc/fstab entry for %s (an image): mounted at boot with the default options %s", mp, strings.Join(c.DefaultOptions, ",")))
		default:
			what := fmt.Sprintf("/etc/fstab: no entry for %s (an image without proc/mounts: a systemd .mount unit is not examined)", mp)
			if ms.Fstab == nil && !ms.FstabFound {
				what = fmt.Sprintf("no /etc/fstab and no proc/mounts: nothing mounts %s separately (a systemd .mount unit is not examined)", mp)
			}
			if c.RequireMount {
				return fail(what)
			}
			return notApplicable(what)
		}
	}
	if miss := c.missing(m.Options); len(miss) > 0 {
		line := fmt.Sprintf("%s lacks %s", mp, strings.Join(miss, ","))
		if len(c.Options) > len(miss) {
			line += "; want " + want
		}
		ev = append(ev, line)
		return fail(ev...)
	}
	if len(c.Options) > 0 {
		ev = append(ev, fmt.Sprintf("%s has %s", mp, want))
	}
	return pass(ev...)
}
