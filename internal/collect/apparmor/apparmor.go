// Package apparmor reads the state of AppArmor in the running kernel: the
// profiles loaded (securityfs) with their modes, and the confinement of
// each process (proc/PID/attr). These are facts of a live kernel: an
// image has profiles on disk but none loaded, and the collector says so
// instead of guessing.
package apparmor

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/kensa-dev/kensa/internal/collect"
	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/hostfs"
)

// Paths of the kernel's AppArmor interface, relative to the root.
const (
	profilesFile = "sys/kernel/security/apparmor/profiles"
	enabledFile  = "sys/module/apparmor/parameters/enabled"
)

// Bounds: a host with every profile of apparmor-profiles-extra loads a few
// hundred; a busy host runs a few thousand processes.
const (
	maxProfilesBytes = 4 << 20
	MaxProcesses     = 20000
	maxKept          = 200
)

// Collector fills inv.Config.AppArmor.
type Collector struct{}

// New returns the AppArmor collector.
func New() *Collector { return &Collector{} }

// Name implements collect.Collector.
func (*Collector) Name() string { return "config/apparmor" }

// Collect implements collect.Collector.
func (*Collector) Collect(ctx context.Context, env *collect.Env, inv *host.Inventory) error {
	if inv.Config == nil {
		inv.Config = &host.Config{}
	}
	aa := &host.AppArmor{}
	inv.Config.AppArmor = aa
	_, procErr := env.FS.Stat("proc/self")
	_, sysErr := env.FS.Stat("sys/kernel")
	if !env.FS.Live() && procErr != nil && sysErr != nil {
		aa.Source = "an image: which profiles are loaded and which processes are confined are facts of a running kernel"
		return collect.NotApplicable("an image has no running kernel")
	}
	aa.Live = true
	switch b, err := hostfs.ReadFileLimit(env.FS, enabledFile, 64); {
	case err == nil:
		aa.EnabledKnown = true
		aa.KernelEnabled = strings.TrimSpace(string(b)) == "Y"
		aa.Source = "/" + enabledFile
	case errors.Is(err, fs.ErrNotExist):
		aa.EnabledKnown = true
		aa.Source = "/" + enabledFile + " does not exist: the running kernel has no AppArmor"
	default:
		aa.Source = fmt.Sprintf("/%s: %v", enabledFile, err)
		env.Errorf("%s", aa.Source)
	}
	b, err := hostfs.ReadFileLimit(env.FS, profilesFile, maxProfilesBytes)
	switch {
	case err == nil:
		aa.ProfilesRead = true
		aa.Profiles = ParseProfiles(b)
	case errors.Is(err, fs.ErrNotExist):
		if aa.KernelEnabled {
			// Enabled, but securityfs is not mounted (or not readable):
			// the profiles cannot be listed.
			env.Errorf("/%s: %v (is securityfs mounted on /sys/kernel/security?)", profilesFile, err)
		}
	default:
		env.Errorf("/%s: %v", profilesFile, err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	processes(env, aa)
	env.Count(len(aa.Profiles))
	return nil
}

// ParseProfiles reads the kernel's profile list: one "name (mode)" a line,
// the name possibly holding spaces and parentheses.
func ParseProfiles(b []byte) []host.AppArmorProfile {
	var out []host.AppArmorProfile
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4096), 64<<10)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		i := strings.LastIndex(line, " (")
		if i <= 0 || !strings.HasSuffix(line, ")") {
			continue
		}
		out = append(out, host.AppArmorProfile{Name: line[:i], Mode: line[i+2 : len(line)-1]})
	}
	return out
}

// processes records the confinement of each process: proc/PID/attr/current
// (or attr/apparmor/current on kernels with LSM stacking) holds
// "unconfined" or "profile (mode)".
func processes(env *collect.Env, aa *host.AppArmor) {
	entries, err := env.FS.ReadDir("proc")
	if err != nil {
		env.Errorf("/proc: %v", err)
		return
	}
	n := 0
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid <= 0 {
			continue
		}
		if n++; n > MaxProcesses {
			env.Errorf("/proc: more than %d processes; the rest were not examined", MaxProcesses)
			aa.ProcessesTruncated = true
			break
		}
		dir := path.Join("proc", e.Name())
		label := ""
		for _, attr := range []string{"attr/apparmor/current", "attr/current"} {
			if b, err := hostfs.ReadFileLimit(env.FS, path.Join(dir, attr), 4096); err == nil {
				label = strings.TrimRight(strings.TrimSpace(string(b)), "\x00")
				break
			}
		}
		if label == "" {
			continue // exited, a kernel thread, or no LSM attribute
		}
		exe, err := env.FS.ReadLink(path.Join(dir, "exe"))
		if err != nil {
			continue // a kernel thread, or not ours to read
		}
		exe = strings.TrimSuffix(exe, " (deleted)")
		aa.Processes++
		if label != "unconfined" {
			aa.Confined++
			continue
		}
		if len(aa.Unconfined) < maxKept {
			aa.Unconfined = append(aa.Unconfined, host.AppArmorProcess{PID: pid, Exe: exe})
		}
	}
	slices.SortFunc(aa.Unconfined, func(a, b host.AppArmorProcess) int { return a.PID - b.PID })
}

// Attaches reports whether a profile's name attaches it to the executable
// exe: AppArmor names a profile after the path it confines, possibly with
// glob characters ("/usr/{,s}bin/foo", "/usr/lib/*/bin/x").
func Attaches(profile, exe string) bool {
	if !strings.HasPrefix(profile, "/") {
		return false
	}
	if profile == exe {
		return true
	}
	for _, alt := range expandBraces(profile, 0) {
		if ok, err := path.Match(alt, exe); err == nil && ok {
			return true
		}
	}
	return false
}

// expandBraces expands AppArmor's {a,b} alternations, nested ones too
// (bounded, so a hostile profile name cannot explode).
func expandBraces(s string, depth int) []string {
	open := strings.IndexByte(s, '{')
	if open < 0 || depth > 4 {
		return []string{s}
	}
	// Find the matching brace and the top-level commas between.
	level, last := 0, open+1
	var alts []string
	for i := open; i < len(s); i++ {
		switch s[i] {
		case '{':
			level++
		case ',':
			if level == 1 {
				alts = append(alts, s[last:i])
				last = i + 1
			}
		case '}':
			if level--; level == 0 {
				alts = append(alts, s[last:i])
				var out []string
				for _, alt := range alts {
					out = append(out, expandBraces(s[:open]+alt+s[i+1:], depth+1)...)
					if len(out) > 64 {
						return out
					}
				}
				return out
			}
		}
	}
	return []string{s} // unbalanced: taken literally
}

// String spells a profile for evidence.
func String(p host.AppArmorProfile) string { return fmt.Sprintf("%s (%s)", p.Name, p.Mode) }
