package osrelease

import (
	"cmp"
	"context"
	"errors"
	"io/fs"
	"regexp"
	"slices"
	"strings"

	"github.com/kensa-dev/kensa/internal/collect"
	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/hostfs"
)

// releaseFileLimit caps what is read of one release file.
const releaseFileLimit = 64 << 10

// Collector fills inv.OS and the host identity (hostname, machine id).
type Collector struct{}

// New returns the OS identity collector.
func New() *Collector { return &Collector{} }

// Name implements collect.Collector.
func (*Collector) Name() string { return "os/release" }

// Collect implements collect.Collector.
func (*Collector) Collect(ctx context.Context, env *collect.Env, inv *host.Inventory) error {
	collectIdentity(env, inv)
	files := map[string][]byte{}
	for _, name := range []string{"/etc/os-release", "/usr/lib/os-release", "/etc/debian_version", "/etc/redhat-release", "/etc/system-release", "/etc/alpine-release", "/etc/lsb-release"} {
		b, err := hostfs.ReadFileLimit(env.FS, name, releaseFileLimit)
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				env.Errorf("read %s: %v", name, err)
			}
			continue
		}
		files[name] = b
	}
	os := Identify(files)
	if os == nil {
		return errors.New("no OS release file could be read (etc/os-release, usr/lib/os-release, debian_version, redhat-release, system-release, alpine-release)")
	}
	os.EOL = EOL(os.ID, os.Major, env.Now())
	inv.OS = os
	env.Count(1)
	return nil
}

// collectIdentity reads the hostname and machine id of the scanned root.
func collectIdentity(env *collect.Env, inv *host.Inventory) {
	if b, err := hostfs.ReadFileLimit(env.FS, "/etc/machine-id", 1024); err == nil {
		// machine-id(5): 32 lower-case hex digits. Images often ship
		// "uninitialized" or an empty file, shared by every host made
		// from them: such a value identifies nothing.
		if id := strings.TrimSpace(string(b)); machineIDRe.MatchString(id) && strings.Trim(id, "0") != "" {
			inv.Identity.MachineID = id
		}
	}
	// On the live host the kernel's hostname is the truth; etc/hostname
	// may lag behind a rename. For an image, etc/hostname is all there is.
	for _, name := range []string{"/proc/sys/kernel/hostname", "/etc/hostname"} {
		if name == "/proc/sys/kernel/hostname" && !env.FS.Live() {
			continue
		}
		if b, err := hostfs.ReadFileLimit(env.FS, name, 1024); err == nil {
			if h := strings.TrimSpace(string(b)); h != "" && validHostname(h) {
				inv.Identity.Hostname = h
				return
			}
		}
	}
}

func validHostname(h string) bool {
	if len(h) > 253 {
		return false
	}
	for _, r := range h {
		if !(r == '-' || r == '.' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

// Identify computes the OS identity from the contents of release files,
// keyed by their absolute path in the root. It returns nil when none of
// them identifies a system.
func Identify(files map[string][]byte) *host.OSRelease {
	var kv map[string]string
	var o host.OSRelease
	for _, name := range []string{"/etc/os-release", "/usr/lib/os-release"} {
		if b, ok := files[name]; ok {
			if m := Parse(b); m["ID"] != "" || m["NAME"] != "" {
				kv = m
				o.Sources = append(o.Sources, name)
				break
			}
		}
	}
	if kv != nil {
		o.ID = strings.ToLower(kv["ID"])
		o.IDLike = strings.Fields(strings.ToLower(kv["ID_LIKE"]))
		o.Name = kv["NAME"]
		o.PrettyName = kv["PRETTY_NAME"]
		o.VersionID = kv["VERSION_ID"]
		o.Codename = kv["VERSION_CODENAME"]
		if o.Codename == "" {
			o.Codename = kv["UBUNTU_CODENAME"]
		}
		if o.ID == "" {
			o.ID = "linux" // os-release(5): the default when ID is unset
		}
	}
	fallback(&o, files)
	if o.ID == "" {
		return nil
	}
	o.Family = Family(o.ID, o.IDLike)
	setRelease(&o, kv, files)
	return &o
}

var (
	redhatRe    = regexp.MustCompile(`^(.*?) release ([0-9][0-9A-Za-z.]*)`)
	machineIDRe = regexp.MustCompile(`^[0-9a-f]{32}$`)
)

// fallback identifies systems without os-release (CentOS 6, old Amazon
// Linux AMI, some minimal images) from their distro files.
func fallback(o *host.OSRelease, files map[string][]byte) {
	if o.ID != "" {
		return
	}
	if b, ok := files["/etc/alpine-release"]; ok && len(strings.TrimSpace(string(b))) > 0 {
		o.ID, o.Name = "alpine", "Alpine Linux"
		o.Sources = append(o.Sources, "/etc/alpine-release")
		return
	}
	for _, name := range []string{"/etc/system-release", "/etc/redhat-release"} {
		b, ok := files[name]
		if !ok {
			continue
		}
		line := firstLine(b)
		m := redhatRe.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		lower := strings.ToLower(m[1])
		names := releaseNames()
		i := slices.IndexFunc(names, func(n [2]string) bool { return strings.Contains(lower, n[0]) })
		if i < 0 {
			continue
		}
		o.ID = names[i][1]
		o.Name, o.PrettyName, o.VersionID = m[1], line, m[2]
		o.Sources = append(o.Sources, name)
		return
	}
	if b, ok := files["/etc/debian_version"]; ok && firstLine(b) != "" {
		o.ID, o.Name = "debian", "Debian GNU/Linux"
		o.Sources = append(o.Sources, "/etc/debian_version")
	}
}

// releaseNames maps the distro named in a redhat-release or system-release
// line to its os-release ID, in the order they are tried.
func releaseNames() [][2]string {
	return [][2]string{
		{"amazon linux", "amzn"}, {"almalinux", "almalinux"}, {"rocky", "rocky"},
		{"centos", "centos"}, {"oracle", "ol"}, {"fedora", "fedora"}, {"red hat", "rhel"},
	}
}

// FromRef reads an "ID:VERSION_ID" reference ("rhel:9.4", "ubuntu:22.04":
// what an agent reports of its OS, or what kensa rules list --os names)
// into the parts of an os-release the rules, profiles and feeds are keyed
// on, computed as they are from /etc/os-release (RHEL 9.4's major release
// is 9); nil when the ID is empty.
func FromRef(ref string) *host.OSRelease {
	id, v, _ := strings.Cut(strings.TrimSpace(ref), ":")
	id = strings.ToLower(id)
	if id == "" {
		return nil
	}
	o := &host.OSRelease{ID: id, VersionID: v, Family: Family(id, nil)}
	setRelease(o, nil, nil)
	return o
}

// Family maps a distro to the family whose package format and advisory
// semantics it shares.
func Family(id string, idLike []string) string {
	for _, x := range append([]string{id}, idLike...) {
		switch x {
		case "debian", "ubuntu", "raspbian", "linuxmint", "kali", "pop", "devuan":
			return "debian"
		case "rhel", "centos", "fedora", "almalinux", "rocky", "ol", "amzn", "redhat", "mariner", "azurelinux":
			return "rhel"
		case "alpine":
			return "alpine"
		case "suse", "opensuse", "sles", "sled", "opensuse-leap", "opensuse-tumbleweed", "sle-micro":
			return "suse"
		case "arch", "archlinux", "manjaro":
			return "arch"
		}
	}
	return "unknown"
}

var (
	numRe       = regexp.MustCompile(`^[0-9]+(\.[0-9]+)*`)
	ubuntuVerRe = regexp.MustCompile(`^([0-9]+\.[0-9]+(\.[0-9]+)?)`)
)

// setRelease fills Release, PointRelease and Major from VERSION_ID and the
// distro's own files.
func setRelease(o *host.OSRelease, kv map[string]string, files map[string][]byte) {
	v := o.VersionID
	switch o.ID {
	case "debian":
		// os-release says "12"; debian_version says "12.11", or
		// "trixie/sid" on testing, which has no VERSION_ID.
		dv := ""
		if b, ok := files["/etc/debian_version"]; ok {
			dv = firstLine(b)
			if !slices.Contains(o.Sources, "/etc/debian_version") {
				o.Sources = append(o.Sources, "/etc/debian_version")
			}
		}
		if v == "" {
			v = numRe.FindString(dv)
			if i := strings.IndexByte(v, '.'); i >= 0 {
				v = v[:i]
			}
		}
		o.Release, o.Major = v, v
		if numRe.MatchString(dv) {
			o.PointRelease = numRe.FindString(dv)
		} else if dv != "" {
			o.PointRelease = dv
		}
	case "ubuntu":
		o.Release, o.Major = v, v
		if m := ubuntuVerRe.FindStringSubmatch(kv["VERSION"]); m != nil {
			o.PointRelease = m[1]
		}
	case "alpine":
		ar := ""
		if b, ok := files["/etc/alpine-release"]; ok {
			ar = numRe.FindString(firstLine(b))
			if !slices.Contains(o.Sources, "/etc/alpine-release") {
				o.Sources = append(o.Sources, "/etc/alpine-release")
			}
		}
		if v == "" {
			v = ar
		}
		if strings.Contains(v, "_alpha") || strings.Contains(v, "_beta") || strings.Contains(v, "_rc") {
			// edge: VERSION_ID "3.19_alpha20230901" names the branch
			// it will become, not a release with advisories.
			o.Release, o.PointRelease = "edge", v
			return
		}
		o.Major = majorMinor(v)
		o.Release = o.Major
		o.PointRelease = cmp.Or(ar, v)
	case "amzn":
		// VERSION_ID is "2", "2023" or "2018.03"; system-release has the
		// full "2023.5.20240722".
		o.Release, o.Major = v, v
		if b, ok := files["/etc/system-release"]; ok {
			if m := redhatRe.FindStringSubmatch(firstLine(b)); m != nil {
				o.PointRelease = m[2]
			}
		}
	default:
		o.Release = v
		o.Major = v
		if o.Family == "rhel" && o.ID != "fedora" && o.ID != "amzn" {
			// RHEL and rebuilds: advisories are per major (AlmaLinux:8).
			if i := strings.IndexByte(v, '.'); i >= 0 {
				o.Major = v[:i]
			}
			if b, ok := files["/etc/redhat-release"]; ok {
				if m := redhatRe.FindStringSubmatch(firstLine(b)); m != nil {
					o.PointRelease = m[2]
				}
			}
		}
	}
	if o.PointRelease == o.Release {
		o.PointRelease = ""
	}
}

func majorMinor(v string) string {
	parts := strings.SplitN(numRe.FindString(v), ".", 3)
	if len(parts) >= 2 {
		return parts[0] + "." + parts[1]
	}
	return parts[0]
}

func firstLine(b []byte) string {
	s := string(b)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s)
}
