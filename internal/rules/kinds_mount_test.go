package rules_test

import (
	"strings"
	"testing"

	"github.com/kensa-dev/kensa/internal/finding"
	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/rules"
)

func TestMountOption(t *testing.T) {
	live := func(mp string, opts ...string) host.Mount {
		return host.Mount{Device: "tmpfs", MountPoint: mp, FSType: "tmpfs", Options: opts, File: "/proc/mounts", Line: 3}
	}
	fstab := func(mp string, opts ...string) host.Mount {
		return host.Mount{Device: "UUID=abc", MountPoint: mp, FSType: "ext4", Options: opts, File: "/etc/fstab", Line: 12}
	}
	inv := func(m *host.Mounts) *host.Inventory { return &host.Inventory{Config: &host.Config{Mounts: m}} }
	opts := &rules.MountOptionCheck{MountPoint: "/tmp", Options: []string{"nodev", "nosuid", "noexec"}}
	sep := &rules.MountOptionCheck{MountPoint: "/tmp", RequireMount: true}
	shm := &rules.MountOptionCheck{MountPoint: "/dev/shm", Options: []string{"noexec"}, DefaultOptions: []string{"rw", "nosuid", "nodev"}}

	for _, tc := range []struct {
		name   string
		check  *rules.MountOptionCheck
		inv    *host.Inventory
		status string
		ev     string // a substring of the joined evidence and reason
	}{
		{"not collected", opts, &host.Inventory{}, finding.StatusError, "not collected"},
		{"live pass", opts, inv(&host.Mounts{Live: []host.Mount{live("/tmp", "rw", "nosuid", "nodev", "noexec")}}), finding.StatusPass, "proc/mounts: /tmp tmpfs rw,nosuid,nodev,noexec"},
		{"live fail lists missing", opts, inv(&host.Mounts{Live: []host.Mount{live("/tmp", "rw", "nosuid")}}), finding.StatusFail, "/tmp lacks nodev,noexec"},
		{"trailing slash", opts, inv(&host.Mounts{Live: []host.Mount{live("/tmp/", "nosuid", "nodev", "noexec")}}), finding.StatusPass, ""},
		{"last mount wins", opts, inv(&host.Mounts{Live: []host.Mount{live("/tmp", "nosuid", "nodev", "noexec"), live("/tmp", "rw")}}), finding.StatusFail, "lacks"},
		{"not separate live", opts, inv(&host.Mounts{Live: []host.Mount{live("/", "rw")}, Fstab: []host.Mount{fstab("/tmp", "nodev")}}), finding.StatusNotApplicable, "configured but not mounted"},
		{"not separate image", opts, inv(&host.Mounts{Fstab: []host.Mount{fstab("/", "defaults")}}), finding.StatusNotApplicable, "no entry for /tmp"},
		{"no fstab, no proc", opts, inv(&host.Mounts{}), finding.StatusNotApplicable, "no /etc/fstab"},
		{"live wins over fstab", opts, inv(&host.Mounts{Live: []host.Mount{live("/tmp", "nosuid", "nodev", "noexec")}, Fstab: []host.Mount{fstab("/tmp", "defaults")}}), finding.StatusPass, "warning: /etc/fstab:12: UUID=abc /tmp ext4 defaults lacks nodev,nosuid,noexec"},
		{"image fstab pass", opts, inv(&host.Mounts{Fstab: []host.Mount{fstab("/tmp", "defaults", "nodev", "nosuid", "noexec")}}), finding.StatusPass, "/etc/fstab:12: UUID=abc /tmp ext4"},
		{"fstab later option undoes", opts, inv(&host.Mounts{Fstab: []host.Mount{fstab("/tmp", "nodev", "nosuid", "noexec", "exec")}}), finding.StatusFail, "lacks noexec"},
		{"require live", sep, inv(&host.Mounts{Live: []host.Mount{live("/tmp", "rw")}}), finding.StatusPass, "no /etc/fstab entry"},
		{"require missing live", sep, inv(&host.Mounts{Live: []host.Mount{live("/", "rw")}}), finding.StatusFail, "no file system is mounted on /tmp"},
		{"require missing image", sep, inv(&host.Mounts{Fstab: []host.Mount{}}), finding.StatusFail, "no entry for /tmp"},
		{"default options image", shm, inv(&host.Mounts{Fstab: []host.Mount{}}), finding.StatusFail, "default options rw,nosuid,nodev"},
		{"fstab overrides default", shm, inv(&host.Mounts{Fstab: []host.Mount{fstab("/dev/shm", "noexec")}}), finding.StatusPass, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := rules.Check{MountOption: tc.check}
			o := c.Evaluate(tc.inv)
			all := strings.Join(append(o.Evidence, o.Reason), "\n")
			if o.Status != tc.status || !strings.Contains(all, tc.ev) {
				t.Errorf("%s %q, want %s with %q", o.Status, all, tc.status, tc.ev)
			}
		})
	}
}
