package agent

import (
	"cmp"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strings"

	"github.com/kensa-dev/kensa/internal/agentapi"
	"github.com/kensa-dev/kensa/internal/collect/osrelease"
	"github.com/kensa-dev/kensa/internal/hostfs"
)

// maxAddresses is agentapi's bound on reported addresses.
const maxAddresses = 64

// status is what the agent says of itself: its version, the OS of its
// root (ID:VERSION_ID), and, on a live host, the running kernel and the
// host's addresses (an image has neither).
func (a *Agent) status() agentapi.Status {
	s := agentapi.Status{Version: a.cfg.Version, Live: a.live}
	s.OS, _ = osOf(a.root)
	if a.live {
		s.Kernel = kernelRelease()
		s.Addresses = addresses()
	}
	return s
}

// osOf identifies the OS of the root as os-release ID:VERSION_ID
// ("debian:12"), the form the server plans with; without a VERSION_ID
// (a rolling distribution) the release the distribution files give, or
// the ID alone.
func osOf(root string) (string, error) {
	fsys, err := hostfs.Open(root)
	if err != nil {
		return "", err
	}
	files := map[string][]byte{}
	for _, name := range []string{"/etc/os-release", "/usr/lib/os-release", "/etc/debian_version", "/etc/redhat-release", "/etc/system-release", "/etc/alpine-release", "/etc/lsb-release"} {
		if b, err := hostfs.ReadFileLimit(fsys, name, 64<<10); err == nil {
			files[name] = b
		}
	}
	o := osrelease.Identify(files)
	if o == nil {
		return "", fmt.Errorf("%s: no OS release file could be read", root)
	}
	v := cmp.Or(o.VersionID, o.Release)
	if v == "" {
		return o.ID, nil
	}
	return o.ID + ":" + v, nil
}

// hostnameOf is the name of the host at root: the kernel's on the live
// host, the image's etc/hostname otherwise ("" when there is none).
func hostnameOf(root string, live bool) string {
	if live {
		h, _ := os.Hostname()
		return h
	}
	fsys, err := hostfs.Open(root)
	if err != nil {
		return ""
	}
	b, err := hostfs.ReadFileLimit(fsys, "/etc/hostname", 1024)
	if err != nil {
		return ""
	}
	h := strings.TrimSpace(string(b))
	if checkHostname(h) != nil {
		return ""
	}
	return h
}

// checkHostname accepts what may name a host in the fleet: at most 253
// letters, digits, '.', '-' and '_' (what osrelease accepts from
// etc/hostname).
func checkHostname(h string) error {
	if h == "" || len(h) > 253 {
		return errors.New("want 1 to 253 characters")
	}
	for _, r := range h {
		if !(r == '-' || r == '.' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return fmt.Errorf("%q: want letters, digits, '.', '-' or '_'", h)
		}
	}
	return nil
}

// addresses are the host's IP addresses other than loopback and
// link-local ones (which say nothing about where the host is), sorted,
// at most maxAddresses.
func addresses() []string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil
	}
	var out []string
	for _, ad := range addrs {
		ipn, ok := ad.(*net.IPNet)
		if !ok {
			continue
		}
		ip := ipn.IP
		if ip.IsLoopback() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() || ip.IsUnspecified() {
			continue
		}
		out = append(out, ip.String())
	}
	slices.Sort(out)
	out = slices.Compact(out)
	if len(out) > maxAddresses {
		out = out[:maxAddresses]
	}
	return out
}
