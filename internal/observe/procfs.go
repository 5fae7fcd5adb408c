package observe

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Bounds on one pass over /proc, shared by the methods that read it, so a
// host with a huge process count cannot make an observer unbounded.
const (
	// MaxProcesses caps the processes listed.
	MaxProcesses = 100000
	// MaxFDLinks caps the fd links read by one SocketOwners pass.
	MaxFDLinks = 1 << 20
)

// ReadProcFile reads a proc file (their size is 0 in stat, so it reads to
// EOF), refusing more than limit bytes.
func ReadProcFile(name string, limit int64) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s: larger than %d bytes", name, limit)
	}
	return b, nil
}

// ProcessComm is the task name of the process at dir (a /proc/PID
// directory), "" when it cannot be read.
func ProcessComm(dir string) string {
	b, _ := ReadProcFile(filepath.Join(dir, "comm"), 256)
	return string(bytes.TrimSpace(b))
}

// PIDs lists the processes of procRoot, at most MaxProcesses.
func PIDs(procRoot string) ([]int, error) {
	ents, err := os.ReadDir(procRoot)
	if err != nil {
		return nil, err
	}
	var out []int
	for _, e := range ents {
		if pid, err := strconv.Atoi(e.Name()); err == nil && pid > 0 {
			out = append(out, pid)
			if len(out) >= MaxProcesses {
				break
			}
		}
	}
	return out, nil
}

// DescribeProcess reads what /proc says of a process that has just started
// running exe: its name, parent and effective uid. Fields of a process
// that already exited stay empty.
func DescribeProcess(procRoot string, now time.Time, pid int, exe string) ProcessStart {
	dir := filepath.Join(procRoot, strconv.Itoa(pid))
	ps := ProcessStart{Time: now, PID: pid, Comm: ProcessComm(dir), Filename: exe}
	ps.PPID, ps.UID, _ = ProcessStatus(dir)
	return ps
}

// ProcessStatus reads the parent and the effective uid of the process at
// dir (a /proc/PID directory) from its status file, which every user may
// read. The effective uid is what the process may do: a setuid-root
// program run by a user has euid 0. ok is false when it cannot be read.
func ProcessStatus(dir string) (ppid int, euid uint32, ok bool) {
	b, err := ReadProcFile(filepath.Join(dir, "status"), 64<<10)
	if err != nil {
		return 0, 0, false
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		k, v, _ := strings.Cut(line, ":")
		f := strings.Fields(v)
		switch {
		case k == "PPid" && len(f) > 0:
			ppid, _ = strconv.Atoi(f[0])
		case k == "Uid" && len(f) > 1: // real, effective, saved, filesystem
			if u, err := strconv.ParseUint(f[1], 10, 32); err == nil {
				euid = uint32(u)
			}
		}
	}
	return ppid, euid, true
}

// SocketOwner is a process holding a socket.
type SocketOwner struct {
	PID  int
	Comm string
}

// SocketOwners maps socket inodes to a process holding them: one pass over
// procRoot/*/fd, bounded by MaxProcesses and MaxFDLinks, ended as soon as
// every inode has its owner. An inode without an owner is absent.
func SocketOwners(procRoot string, inodes []uint64) map[uint64]SocketOwner {
	want := map[string]uint64{}
	for _, ino := range inodes {
		if ino != 0 {
			want["socket:["+strconv.FormatUint(ino, 10)+"]"] = ino
		}
	}
	out := map[uint64]SocketOwner{}
	if len(want) == 0 {
		return out
	}
	pids, err := PIDs(procRoot)
	if err != nil {
		return out
	}
	links := 0
	for _, pid := range pids {
		dir := filepath.Join(procRoot, strconv.Itoa(pid))
		fds, err := os.ReadDir(filepath.Join(dir, "fd"))
		if err != nil {
			continue
		}
		for _, fd := range fds {
			if links++; links > MaxFDLinks || len(out) == len(want) {
				return out
			}
			t, err := os.Readlink(filepath.Join(dir, "fd", fd.Name()))
			if err != nil {
				continue
			}
			if ino, ok := want[t]; ok {
				if _, dup := out[ino]; !dup {
					out[ino] = SocketOwner{PID: pid, Comm: ProcessComm(dir)}
				}
			}
		}
	}
	return out
}
