package watch

import (
	"bytes"
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/kensa-dev/kensa/internal/observe"
)

// Bounds on what is kept of processes, so a busy host or a hostile process
// (a huge command line, a million mappings) cannot exhaust memory.
const (
	maxProcesses    = 20_000
	maxCmdlineBytes = 32 << 10
	maxCmdlineArgs  = 256
	maxMapsBytes    = 8 << 20
	maxObjects      = 4096 // executable mappings of one process
)

// kthreadd is the kernel's thread creator: it and its children are kernel
// threads, without an executable.
const kthreadd = 2

// procKey identifies one process image: a pid is reused, so its start
// time (field 22 of /proc/PID/stat) is part of the key, and an exec keeps
// pid and start time but runs another executable.
type procKey struct {
	pid   int
	start uint64
	exe   string
}

// processSet accumulates the processes of the snapshots and the execs the
// method delivered.
type processSet struct {
	procRoot string
	self     int
	selfMnt  string

	mu      sync.Mutex
	pending []observe.ProcessStart // execs not yet described

	procs   map[procKey]*observe.Process
	dropped int
	// unreadable holds the processes (not kernel threads) whose
	// executable could not be read: another user's, without privileges.
	unreadable map[int]bool
	// selfChildren counts Kensa's own children left out.
	selfChildren int
}

func newProcessSet(procRoot string, self int) *processSet {
	mnt, _ := os.Readlink(filepath.Join(procRoot, "self", "ns", "mnt"))
	return &processSet{procRoot: procRoot, self: self, selfMnt: mnt, procs: map[procKey]*observe.Process{}, unreadable: map[int]bool{}}
}

// started queues an exec; it is called from the method's goroutine and
// only appends, so the method is never held up by /proc reads.
func (s *processSet) started(p observe.ProcessStart) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.pending) < maxProcesses {
		s.pending = append(s.pending, p)
	} else {
		s.dropped++
	}
}

// describeStarted reads /proc for the execs queued since the last call. A
// process that already exited is kept with what its exec event said.
func (s *processSet) describeStarted() {
	s.mu.Lock()
	pending := s.pending
	s.pending = nil
	s.mu.Unlock()
	for _, ev := range pending {
		if s.self != 0 && (ev.PID == s.self || ev.PPID == s.self) {
			s.selfChildren++
			continue
		}
		if p, start, ok := s.read(ev.PID); ok {
			p.StartedInWindow = true
			s.add(procKey{p.PID, start, p.Exe}, p, true)
			continue
		}
		exe := ""
		if strings.HasPrefix(ev.Filename, "/") {
			exe = ev.Filename
		}
		p := &observe.Process{PID: ev.PID, PPID: ev.PPID, UID: ev.UID, Comm: ev.Comm, Exe: exe, StartedInWindow: true}
		s.add(procKey{pid: ev.PID, exe: exe}, p, false)
	}
}

// snapshot describes every process now. The final snapshot also marks
// which processes still run at the window's end.
func (s *processSet) snapshot(final bool) {
	pids, err := observe.PIDs(s.procRoot)
	if err != nil {
		return
	}
	alive := map[procKey]bool{}
	for _, pid := range pids {
		p, start, ok := s.read(pid)
		if !ok {
			continue // gone
		}
		if p.Exe == "" {
			// A kernel thread (kthreadd, pid 2, and its children) has
			// no executable; any other process hides it from us.
			if pid != kthreadd && p.PPID != kthreadd {
				s.unreadable[pid] = true
			}
			continue
		}
		if s.self != 0 && (pid == s.self || p.PPID == s.self) {
			continue
		}
		k := procKey{pid, start, p.Exe}
		alive[k] = true
		s.add(k, p, true)
	}
	if final {
		for k, p := range s.procs {
			p.Running = alive[k]
		}
	}
}

// add records p under k, or merges it into the record already there: the
// mappings seen at any time are kept (a library loaded by dlopen during
// the window, or unloaded).
func (s *processSet) add(k procKey, p *observe.Process, running bool) {
	p.Running = running
	cur := s.procs[k]
	if cur == nil {
		if len(s.procs) >= maxProcesses {
			s.dropped++
			return
		}
		s.procs[k] = p
		return
	}
	for _, o := range p.Objects {
		if !slices.Contains(cur.Objects, o) && len(cur.Objects) < maxObjects {
			cur.Objects = append(cur.Objects, o)
		}
	}
	cur.Running = running
	if len(cur.Cmdline) == 0 {
		cur.Cmdline = p.Cmdline
	}
}

// read describes a live process from procRoot/PID: executable, name,
// command line, parent, effective uid, executable mappings, and its start
// time. ok is false when the process is gone.
func (s *processSet) read(pid int) (p *observe.Process, start uint64, ok bool) {
	dir := filepath.Join(s.procRoot, strconv.Itoa(pid))
	stat, err := observe.ReadProcFile(filepath.Join(dir, "stat"), 4096)
	if err != nil {
		return nil, 0, false
	}
	start = startTime(stat)
	p = &observe.Process{PID: pid, Comm: observe.ProcessComm(dir), Exe: observe.ExeIn(s.procRoot, pid)}
	if b, err := observe.ReadProcFile(filepath.Join(dir, "status"), 64<<10); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			k, v, _ := strings.Cut(line, ":")
			f := strings.Fields(v)
			switch {
			case k == "PPid" && len(f) > 0:
				p.PPID, _ = strconv.Atoi(f[0])
			case k == "Uid" && len(f) > 1:
				if u, err := strconv.ParseUint(f[1], 10, 32); err == nil {
					p.UID = uint32(u) // effective: what the process may do
				}
			}
		}
	}
	p.Cmdline = cmdline(dir)
	p.Objects = mappedObjects(filepath.Join(dir, "maps"))
	if s.selfMnt != "" {
		if mnt, err := os.Readlink(filepath.Join(dir, "ns", "mnt")); err == nil && mnt != s.selfMnt {
			p.OtherMountNS = true
		}
	}
	return p, start, true
}

// startTime is field 22 of /proc/PID/stat (clock ticks since boot). The
// name (field 2) is in parentheses and may hold spaces and parentheses
// itself, so fields are counted after its last ')'.
func startTime(stat []byte) uint64 {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(stat[i+1:]))
	// f[0] is field 3 (state): field 22 is f[19].
	if len(f) < 20 {
		return 0
	}
	v, _ := strconv.ParseUint(f[19], 10, 64)
	return v
}

// cmdline returns the arguments of the process at dir, bounded.
func cmdline(dir string) []string {
	b, err := observe.ReadProcFile(filepath.Join(dir, "cmdline"), maxCmdlineBytes)
	if err != nil {
		// too long: keep what fits
		f, oerr := os.Open(filepath.Join(dir, "cmdline"))
		if oerr != nil {
			return nil
		}
		defer f.Close()
		b = make([]byte, maxCmdlineBytes)
		n, _ := f.Read(b)
		b = b[:n]
	}
	b = bytes.TrimRight(b, "\x00")
	if len(b) == 0 {
		return nil
	}
	args := strings.Split(string(b), "\x00")
	if len(args) > maxCmdlineArgs {
		args = append(args[:maxCmdlineArgs], fmt.Sprintf("... (%d more)", len(args)-maxCmdlineArgs))
	}
	return args
}

// mappedObjects returns the files mapped executable in a maps file,
// deduplicated, in order. A file deleted or replaced since it was mapped
// keeps the kernel's " (deleted)" suffix: the code running is then not the
// file on disk, which the binary analysis reports.
func mappedObjects(path string) []string {
	b, err := observe.ReadProcFile(path, maxMapsBytes)
	if err != nil {
		return nil
	}
	var out []string
	seen := map[string]bool{}
	for line := range strings.SplitSeq(string(b), "\n") {
		// address perms offset dev inode pathname; the pathname may hold
		// spaces, so it is everything after the fifth field.
		f := strings.Fields(line)
		if len(f) < 6 || len(f[1]) < 3 || f[1][2] != 'x' {
			continue
		}
		i := strings.Index(line, " /")
		if i < 0 {
			continue // anonymous, [vdso]
		}
		name := strings.TrimSpace(line[i:])
		if strings.HasPrefix(name, "/memfd:") {
			continue // anonymous memory with a name, no file
		}
		if !seen[name] {
			seen[name] = true
			out = append(out, name)
			if len(out) >= maxObjects {
				break
			}
		}
	}
	return out
}

// result returns the processes, by pid, and adds to notes what was left
// out. (What the processes are, such as a container's in another mount
// namespace, the runtime rules' coverage counts from the data itself.)
func (s *processSet) result(notes []string) ([]observe.Process, []string) {
	out := make([]observe.Process, 0, len(s.procs))
	for _, p := range s.procs {
		out = append(out, *p)
	}
	slices.SortFunc(out, func(a, b observe.Process) int {
		return cmp.Or(cmp.Compare(a.PID, b.PID), cmp.Compare(a.Exe, b.Exe))
	})
	if s.dropped > 0 {
		notes = append(notes, fmt.Sprintf("more than %d processes: %d were not recorded", maxProcesses, s.dropped))
	}
	if n := len(s.unreadable); n > 0 {
		notes = append(notes, fmt.Sprintf("%d running process(es) could not be read (another user's, without root privileges): their executables, libraries and sockets are unknown", n))
	}
	return out, notes
}
