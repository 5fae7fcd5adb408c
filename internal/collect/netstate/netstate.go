// Package netstate collects live network facts for the configuration rules
// (config/net): the sockets that listen, with the processes that own them,
// and the wireless interfaces with their state and driver.
//
// # Live facts
//
// Both are facts of a running kernel. As for the running kernel parameters
// (config/sysctl), they are read from proc/ and sys/ of the scanned root
// only: the live host's /proc and /sys, or the proc/ and sys/ a root
// carries (a fixture). An image built by debootstrap has empty proc/ and
// sys/ directories, and the facts are then not known: SocketsKnown and
// WirelessKnown are false and the sources say why, so a rule on them is
// not applicable rather than passing on an empty list.
//
// # Sockets
//
// proc/net/tcp, tcp6, udp and udp6 (ParseProcNet). A TCP socket listens
// in state 0A (LISTEN); a UDP socket is counted when it has a local port
// and no peer (state 07, remote port 0): it receives datagrams from
// anyone. On a live host the owning processes are found by the socket's
// inode: each /proc/<pid>/fd/<n> link reads "socket:[<inode>]". The walk
// is bounded (MaxProcs processes, MaxFDs descriptors in all) and skips
// what it may not read (another user's process when not root); owners
// are then partly known and OwnersSource says so.
//
// # Wireless interfaces
//
// sys/class/net/<name> is wireless when it has a wireless/ or phy80211
// entry (cfg80211 and the old wireless extensions). operstate is read
// from the interface, the driver from the name of the
// device/driver/module link, and the merged modprobe.d install and
// blacklist lines of that module as the kmod collector reads the
// configuration (kmod's order and masking).
package netstate

import (
	"context"
	"fmt"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/kensa-dev/kensa/internal/collect"
	"github.com/kensa-dev/kensa/internal/collect/kmod"
	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/hostfs"
)

const (
	// ProcNetLimit caps one proc/net file (a busy server has tens of
	// thousands of sockets, 150 bytes each).
	ProcNetLimit = 64 << 20
	// MaxProcs caps the processes whose descriptors are looked at.
	MaxProcs = 65536
	// MaxFDs caps the descriptor links read in all.
	MaxFDs = 1 << 20
	// MaxInterfaces caps the entries of sys/class/net looked at.
	MaxInterfaces = 4096
	// MaxListening caps the sockets kept.
	MaxListening = 65536
)

// procNetFiles are the files read, with their protocol.
var procNetFiles = []struct{ proto, file string }{
	{"tcp", "/proc/net/tcp"},
	{"tcp6", "/proc/net/tcp6"},
	{"udp", "/proc/net/udp"},
	{"udp6", "/proc/net/udp6"},
}

// Collector fills inv.Config.Network.
type Collector struct{}

// New returns the collector.
func New() *Collector { return &Collector{} }

// Name implements collect.Collector.
func (*Collector) Name() string { return "config/net" }

// Collect implements collect.Collector.
func (c *Collector) Collect(ctx context.Context, env *collect.Env, inv *host.Inventory) error {
	n := &host.Network{}
	readSockets(ctx, env, n)
	if err := ctx.Err(); err != nil {
		return err
	}
	readWireless(ctx, env, n)
	if inv.Config == nil {
		inv.Config = &host.Config{}
	}
	inv.Config.Network = n
	env.Count(len(n.Listening) + len(n.Wireless))
	if !n.SocketsKnown && len(n.SocketsIncomplete) == 0 && !n.WirelessKnown {
		return collect.NotApplicable("no live network facts: %s; %s", n.SocketsSource, n.WirelessSource)
	}
	return nil
}

// readSockets reads the proc/net files of the scanned root. The table is
// known only when proc/net/tcp and udp (and tcp6 and udp6 where they
// exist: a kernel without IPv6 has none) were read and parsed whole; any
// file that could not be read, a line that did not parse or a bound
// reached is named in SocketsIncomplete, so that a rule fails on a
// socket it saw but never passes on a partial table.
func readSockets(ctx context.Context, env *collect.Env, n *host.Network) {
	var read, absent, incomplete []string
	for _, pf := range procNetFiles {
		b, err := hostfs.ReadFileLimit(env.FS, pf.file, ProcNetLimit)
		if err != nil {
			if hostfs.Missing(err) {
				absent = append(absent, pf.file)
			} else {
				env.Errorf("read %s: %v", pf.file, err)
				incomplete = append(incomplete, fmt.Sprintf("%s could not be read: %v", pf.file, err))
			}
			continue
		}
		read = append(read, pf.file)
		entries, errs := ParseProcNet(b)
		for _, e := range errs {
			env.Errorf("%s: %v", pf.file, e)
		}
		if len(errs) > 0 {
			incomplete = append(incomplete, fmt.Sprintf("%s: lines not understood (first: %v)", pf.file, errs[0]))
		}
		tcp := strings.HasPrefix(pf.proto, "tcp")
		for _, e := range entries {
			if !e.Listening(tcp) {
				continue
			}
			if len(n.Listening) >= MaxListening {
				env.Errorf("more than %d listening sockets, the rest are skipped", MaxListening)
				incomplete = append(incomplete, fmt.Sprintf("%s: more than %d listening sockets, the rest are skipped", pf.file, MaxListening))
				break
			}
			n.Listening = append(n.Listening, host.Socket{
				Proto:   pf.proto,
				Address: e.Local.Addr().String(),
				Port:    int(e.Local.Port()),
				UID:     e.UID,
				Inode:   e.Inode,
				File:    pf.file,
				Line:    e.Line,
			})
		}
	}
	if len(read) == 0 && len(incomplete) == 0 {
		n.SocketsSource = "not available: no proc/net in the scanned root (an image has no running kernel)"
		return
	}
	// tcp6 and udp6 may be absent (a kernel without IPv6, a fact), but a
	// table with tcp and no udp, or the reverse, is a partial picture.
	for _, f := range absent {
		if len(read) > 0 && (f == "/proc/net/tcp" || f == "/proc/net/udp") {
			incomplete = append(incomplete, f+" does not exist while other socket tables do")
		}
	}
	n.SocketsIncomplete = incomplete
	n.SocketsKnown = len(incomplete) == 0
	n.SocketsSource = strings.Join(read, ", ")
	if len(read) == 0 {
		n.SocketsSource = "no socket table could be read"
	}
	if !env.FS.Live() {
		n.OwnersSource = "owning processes are only looked up on a live host"
		return
	}
	findOwners(ctx, env, n)
}

// findOwners maps socket inodes to the processes holding them.
func findOwners(ctx context.Context, env *collect.Env, n *host.Network) {
	want := map[uint64][]int{}
	for i, s := range n.Listening {
		if s.Inode != 0 {
			want[s.Inode] = append(want[s.Inode], i)
		}
	}
	if len(want) == 0 {
		n.OwnersKnown = true
		return
	}
	des, err := env.FS.ReadDir("/proc")
	if err != nil {
		n.OwnersSource = fmt.Sprintf("read /proc: %v", err)
		return
	}
	n.OwnersLookedUp = true
	procs, fds, denied := 0, 0, 0
	truncated := false
	for _, de := range des {
		pid, err := strconv.Atoi(de.Name())
		if err != nil || pid <= 0 {
			continue
		}
		if procs >= MaxProcs || fds >= MaxFDs {
			truncated = true
			break
		}
		if ctx.Err() != nil {
			truncated = true
			break
		}
		procs++
		dir := "/proc/" + de.Name() + "/fd"
		links, err := env.FS.ReadDir(dir)
		if err != nil {
			if !hostfs.Missing(err) {
				denied++
			}
			continue
		}
		var proc *host.SocketProcess
		linkDenied := false
		for _, l := range links {
			if fds >= MaxFDs {
				truncated = true
				break
			}
			fds++
			t, err := env.FS.ReadLink(dir + "/" + l.Name())
			if err != nil {
				// A process of another user (or under another
				// security context) lists its descriptors but hides
				// where they lead: its sockets stay without owner.
				if !hostfs.Missing(err) && !linkDenied {
					linkDenied = true
					denied++
				}
				continue
			}
			inode, ok := socketInode(t)
			if !ok {
				continue
			}
			idx, ok := want[inode]
			if !ok {
				continue
			}
			if proc == nil {
				proc = describe(env, pid)
			}
			for _, i := range idx {
				if !slices.ContainsFunc(n.Listening[i].Processes, func(p host.SocketProcess) bool { return p.PID == pid }) {
					n.Listening[i].Processes = append(n.Listening[i].Processes, *proc)
				}
			}
		}
	}
	for i := range n.Listening {
		sort.Slice(n.Listening[i].Processes, func(a, b int) bool {
			return n.Listening[i].Processes[a].PID < n.Listening[i].Processes[b].PID
		})
	}
	var why []string
	if denied > 0 {
		why = append(why, fmt.Sprintf("the descriptors of %d processes could not be read", denied))
	}
	if truncated {
		why = append(why, fmt.Sprintf("the walk of /proc stopped after %d processes and %d descriptors", procs, fds))
	}
	n.OwnersKnown = len(why) == 0
	if len(why) > 0 {
		n.OwnersSource = "owners partly known: " + strings.Join(why, "; ")
	} else {
		n.OwnersSource = fmt.Sprintf("/proc/<pid>/fd of %d processes", procs)
	}
}

// socketInode reads the inode of a descriptor link "socket:[12345]".
func socketInode(target string) (uint64, bool) {
	s, ok := strings.CutPrefix(target, "socket:[")
	if !ok {
		return 0, false
	}
	s, ok = strings.CutSuffix(s, "]")
	if !ok {
		return 0, false
	}
	v, err := strconv.ParseUint(s, 10, 64)
	return v, err == nil
}

// describe names a process: its executable and comm.
func describe(env *collect.Env, pid int) *host.SocketProcess {
	p := &host.SocketProcess{PID: pid}
	dir := "/proc/" + strconv.Itoa(pid)
	if exe, err := env.FS.ReadLink(dir + "/exe"); err == nil {
		p.Exe = exe
	}
	if b, err := hostfs.ReadFileLimit(env.FS, dir+"/comm", 256); err == nil {
		p.Comm = strings.TrimSpace(string(b))
	}
	return p
}

// readWireless lists the wireless interfaces of sys/class/net.
func readWireless(ctx context.Context, env *collect.Env, n *host.Network) {
	const dir = "/sys/class/net"
	des, err := env.FS.ReadDir(dir)
	if err != nil || len(des) == 0 {
		if err != nil && !hostfs.Missing(err) {
			env.Errorf("read %s: %v", dir, err)
		}
		n.WirelessSource = "not available: no sys/class/net in the scanned root (an image has no running kernel)"
		return
	}
	n.WirelessKnown = true
	n.WirelessSource = dir
	drivers := 0
	for i, de := range des {
		if i >= MaxInterfaces {
			env.Errorf("%s: more than %d entries, the rest are skipped", dir, MaxInterfaces)
			n.WirelessKnown = false
			n.WirelessSource += fmt.Sprintf(" (only the first %d entries were looked at)", MaxInterfaces)
			break
		}
		name := de.Name()
		ifdir := path.Join(dir, name)
		if !exists(env.FS, ifdir+"/wireless") && !exists(env.FS, ifdir+"/phy80211") {
			continue
		}
		w := host.WirelessInterface{Name: name}
		if b, err := hostfs.ReadFileLimit(env.FS, ifdir+"/operstate", 256); err == nil {
			w.OperState = strings.TrimSpace(string(b))
		} else {
			env.Errorf("read %s/operstate: %v", ifdir, err)
		}
		if t, err := env.FS.ReadLink(ifdir + "/device/driver/module"); err == nil {
			w.Driver = kmod.Normalize(path.Base(t))
			drivers++
		}
		n.Wireless = append(n.Wireless, w)
	}
	if drivers == 0 {
		return
	}
	// The modprobe configuration of the drivers, read as kmod reads it.
	conf := kmod.ReadConf(ctx, env.FS, env.Errorf)
	for i, w := range n.Wireless {
		if w.Driver != "" {
			n.Wireless[i].DriverInstall = conf.Install(w.Driver)
			n.Wireless[i].DriverBlacklisted = conf.Blacklist(w.Driver)
		}
	}
}

func exists(fsys hostfs.FS, name string) bool {
	_, err := fsys.Lstat(name)
	return err == nil
}
