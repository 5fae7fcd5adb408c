package system

import (
	"path"
	"strings"

	"github.com/kensa-dev/kensa/internal/host"
)

// ConfFile is one parsed sysctl configuration file, in the order it is
// applied.
type ConfFile struct {
	// Name is the file's path in the host ("/etc/sysctl.d/60-cis.conf"),
	// as it was found (not with links resolved).
	Name        string
	Assignments []Assignment
}

// Merge computes the persisted value of each key from files applied in
// order, as sysctl --system (procps-ng 4) and systemd-sysctl do:
//
//   - a later assignment of a key replaces an earlier one;
//   - a glob assignment ("net.ipv4.conf.*.rp_filter = 1") is kept under its
//     pattern, and is also applied to each of the known keys it matches,
//     unless the key has an explicit assignment anywhere (an explicit
//     assignment always beats a glob, whichever comes first) or an
//     exclusion ("-net.ipv4.conf.lo.rp_filter") matches the key; of two
//     globs matching one key, the later wins.
//
// The tools expand globs against the keys of the running kernel; Merge can
// only expand them against the keys it is given. Exclusions set nothing
// and do not appear in the result.
func Merge(files []ConfFile, known []string) map[string]host.Setting {
	out := map[string]host.Setting{}
	explicit := map[string]bool{}
	type glob struct {
		pattern string
		set     host.Setting
	}
	var globs []glob
	var excludes []string
	for _, f := range files {
		for _, a := range f.Assignments {
			switch {
			case a.Exclude:
				excludes = append(excludes, a.Key)
			case a.Glob():
				s := host.Setting{Value: a.Value, File: f.Name, Line: a.Line}
				out[a.Key] = s
				globs = append(globs, glob{a.Key, s})
			default:
				out[a.Key] = host.Setting{Value: a.Value, File: f.Name, Line: a.Line}
				explicit[a.Key] = true
			}
		}
	}
	if len(globs) == 0 {
		return out
	}
	for _, k := range known {
		k = Normalize(k)
		if explicit[k] || isGlob(k) {
			continue
		}
		excluded := false
		for _, e := range excludes {
			if keyMatch(e, k) {
				excluded = true
				break
			}
		}
		if excluded {
			continue
		}
		for _, g := range globs {
			if keyMatch(g.pattern, k) {
				out[k] = g.set
			}
		}
	}
	return out
}

// keyMatch matches a dotted key against a dotted pattern the way the tools
// match the corresponding paths below /proc/sys: a wildcard stays inside
// one path component. A malformed pattern matches nothing.
func keyMatch(pattern, key string) bool {
	if pattern == key {
		return true
	}
	ok, err := path.Match(KeyPath(pattern), KeyPath(key))
	return err == nil && ok
}

// validKey reports whether a key may be read below proc/sys: a plain
// dotted or slashed name, with no empty, "." or ".." component and no
// wildcard, so that a key taken from a scanned configuration file cannot
// name a file elsewhere.
func validKey(key string) bool {
	if key == "" || len(key) > 256 || isGlob(key) {
		return false
	}
	for _, c := range KeyPath(key) {
		if c < 0x21 || c == 0x7f || c == '\\' {
			return false
		}
	}
	for _, part := range strings.Split(KeyPath(key), "/") {
		if part == "" || part == "." || part == ".." {
			return false
		}
	}
	return true
}
