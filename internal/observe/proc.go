package observe

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// ExeFromProc returns the executable of a live process (readlink
// /proc/PID/exe), or "" when it exited or cannot be read.
func ExeFromProc(pid int) string { return ExeIn("/proc", pid) }

// ExeIn is ExeFromProc for the proc file system at procRoot.
func ExeIn(procRoot string, pid int) string {
	e, err := os.Readlink(filepath.Join(procRoot, strconv.Itoa(pid), "exe"))
	if err != nil {
		return ""
	}
	return e
}

// ListenerOwner finds, through procRoot (normally "/proc"), a process that
// holds a TCP socket listening on port (IPv4 or IPv6). It is how inbound
// connections to a socket that started listening before the window get a
// process: the kernel completes handshakes outside any process context.
// It returns pid 0 when no owner is found. Cost: one pass over every
// process's fd directory.
func ListenerOwner(procRoot string, port uint16) (pid int, uid uint32, comm string) {
	return ListenerOwnerInNetns(procRoot, 0, port)
}

// ListenerOwnerInNetns is ListenerOwner for the network namespace whose
// inode (as in the link /proc/PID/ns/net → "net:[INODE]") is netns; 0 means
// procRoot's own ("self"). Socket tables are per namespace, so the port is
// looked up in the tables of a process inside netns; the listening sockets
// found there are then matched against every process's fds (socket inodes
// are unique host-wide). Cost: up to two passes over the processes.
func ListenerOwnerInNetns(procRoot string, netns uint32, port uint16) (pid int, uid uint32, comm string) {
	ents, err := os.ReadDir(procRoot)
	if err != nil {
		return 0, 0, ""
	}
	tables := procRoot // procRoot/net is self's namespace
	if netns != 0 && NetnsOf(filepath.Join(procRoot, "self")) != netns {
		tables = ""
		for _, e := range ents {
			if _, err := strconv.Atoi(e.Name()); err == nil && NetnsOf(filepath.Join(procRoot, e.Name())) == netns {
				tables = filepath.Join(procRoot, e.Name())
				break
			}
		}
		if tables == "" {
			return 0, 0, "" // no process left in that namespace
		}
	}
	inodes := map[string]bool{}
	for _, f := range []string{"net/tcp", "net/tcp6"} {
		listeningInodes(filepath.Join(tables, f), port, inodes)
	}
	if len(inodes) == 0 {
		return 0, 0, ""
	}
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		dir := filepath.Join(procRoot, e.Name())
		fds, err := os.ReadDir(filepath.Join(dir, "fd"))
		if err != nil {
			continue
		}
		for _, fd := range fds {
			t, err := os.Readlink(filepath.Join(dir, "fd", fd.Name()))
			if err != nil || !strings.HasPrefix(t, "socket:[") {
				continue
			}
			if inodes[strings.TrimSuffix(strings.TrimPrefix(t, "socket:["), "]")] {
				c, _ := os.ReadFile(filepath.Join(dir, "comm"))
				_, uid, _ := ProcessStatus(dir)
				return p, uid, string(bytes.TrimSpace(c))
			}
		}
	}
	return 0, 0, ""
}

// listeningInodes adds the inodes of sockets in state LISTEN (0A) on port
// from a /proc/net/tcp{,6} table.
func listeningInodes(path string, port uint16, into map[string]bool) {
	f, err := os.Open(path)
	if err != nil {
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 10 || fields[3] != "0A" {
			continue
		}
		_, ps, ok := strings.Cut(fields[1], ":")
		if !ok {
			continue
		}
		if p, err := strconv.ParseUint(ps, 16, 16); err == nil && uint16(p) == port {
			into[fields[9]] = true
		}
	}
}

// NetnsOf returns the network namespace inode of the process at dir (a
// /proc/PID directory), or 0 when it cannot be read.
func NetnsOf(dir string) uint32 {
	l, err := os.Readlink(filepath.Join(dir, "ns", "net"))
	if err != nil {
		return 0
	}
	n, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimPrefix(l, "net:["), "]"), 10, 32)
	if err != nil {
		return 0
	}
	return uint32(n)
}
