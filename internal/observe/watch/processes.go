package watch

import (
	"bufio"
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io/fs"
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
	maxMapsLines    = 1 << 20 // vm.max_map_count is 65,530 by default
	maxObjects      = 4096    // executable mappings of one process
)

// pfKthread is PF_KTHREAD in the flags of /proc/PID/stat: a kernel thread,
// which has no executable.
const pfKthread = 0x00200000

// procID identifies one process: a pid is reused, so its start time
// (clock ticks since boot) is part of it.
type procID struct {
	pid   int
	start uint64
}

// procKey identifies one process image: an exec keeps the process (pid
// and start time) but runs another program, so each exec seen starts a
// new generation. A path that changes without an exec (the file renamed
// or deleted under a running process, as upgrades do) stays one image.
type procKey struct {
	procID
	gen int
}

// processSet accumulates the processes of the snapshots and the execs the
// method delivered.
type processSet struct {
	procRoot string
	self     int
	selfMnt  string

	mu      sync.Mutex
	pending []observe.ProcessStart // execs not yet described

	procs map[procKey]*observe.Process
	gen   map[procID]int // the current image of each process
	// kensa holds Kensa and its descendants (the commands its collectors
	// run, and theirs: apt-get's download methods), which are left out.
	kensa        map[int]bool
	dropped      int
	objectsCut   int // processes with more than maxObjects mappings
	kensaSkipped int
}

func newProcessSet(procRoot string, self int) *processSet {
	mnt, _ := os.Readlink(filepath.Join(procRoot, "self", "ns", "mnt"))
	s := &processSet{procRoot: procRoot, self: self, selfMnt: mnt,
		procs: map[procKey]*observe.Process{}, gen: map[procID]int{}, kensa: map[int]bool{}}
	if self != 0 {
		s.kensa[self] = true
	}
	return s
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

// isKensa reports whether pid is Kensa or one of its descendants.
func (s *processSet) isKensa(pid int) bool { return s.kensa[pid] }

// describeStarted reads /proc for the execs queued since the last call. A
// process that already exited is kept with what its exec event said.
func (s *processSet) describeStarted() {
	s.mu.Lock()
	pending := s.pending
	s.pending = nil
	s.mu.Unlock()
	for _, ev := range pending {
		if s.kensa[ev.PID] || s.kensa[ev.PPID] {
			// Events come in order: a parent's exec before its child's.
			s.kensa[ev.PID] = true
			s.kensaSkipped++
			continue
		}
		if len(s.procs) >= maxProcesses {
			s.dropped++
			continue
		}
		if p, id, ok := s.read(ev.PID); ok && p != nil {
			if s.kensa[p.PPID] {
				s.kensa[p.PID] = true
				s.kensaSkipped++
				continue
			}
			p.StartedInWindow = true
			s.gen[id]++ // a new image of this process
			s.add(procKey{id, s.gen[id]}, p)
			continue
		}
		// Gone already: what the exec event said.
		exe := ""
		if strings.HasPrefix(ev.Filename, "/") {
			exe = ev.Filename
		}
		s.add(procKey{procID: procID{pid: ev.PID}, gen: -len(s.procs) - 1}, &observe.Process{
			PID: ev.PID, PPID: ev.PPID, UID: ev.UID, Comm: ev.Comm, Exe: exe, StartedInWindow: true})
	}
}

// snapshot describes every process now. The final snapshot also marks
// which processes still run at the window's end.
func (s *processSet) snapshot(final bool) {
	pids, err := observe.PIDs(s.procRoot)
	if err != nil {
		return
	}
	type seen struct {
		p  *observe.Process
		id procID
	}
	var now []seen
	for _, pid := range pids {
		if p, id, ok := s.read(pid); ok && p != nil {
			now = append(now, seen{p, id})
		}
	}
	// Kensa's descendants, whatever the order of their pids.
	for changed := true; changed; {
		changed = false
		for _, n := range now {
			if !s.kensa[n.p.PID] && s.kensa[n.p.PPID] {
				s.kensa[n.p.PID] = true
				changed = true
			}
		}
	}
	alive := map[procKey]bool{}
	for _, n := range now {
		if s.kensa[n.p.PID] {
			continue
		}
		k := procKey{n.id, s.gen[n.id]}
		alive[k] = true
		s.add(k, n.p)
	}
	if final {
		for k, p := range s.procs {
			p.Running = alive[k]
		}
	}
}

// add records p under k, or merges it into the record already there: the
// mappings seen at any time are kept (a library loaded by dlopen during
// the window, or unloaded), and the latest executable path (" (deleted)"
// once the file is replaced).
func (s *processSet) add(k procKey, p *observe.Process) {
	p.Running = true
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
	if p.Exe != "" {
		cur.Exe = p.Exe
	}
	cur.UID = p.UID
	if len(cur.Cmdline) == 0 {
		cur.Cmdline = p.Cmdline
	}
}

// read describes a live process from procRoot/PID: executable, name,
// command line, parent, effective uid, executable mappings. ok is false
// when the process is gone; p is nil for a kernel thread or a zombie,
// which run no code of their own. A process whose executable cannot be
// read (another user's, without privileges) is returned Unreadable, with
// what status, readable by all, says.
func (s *processSet) read(pid int) (p *observe.Process, id procID, ok bool) {
	dir := filepath.Join(s.procRoot, strconv.Itoa(pid))
	stat, err := observe.ReadProcFile(filepath.Join(dir, "stat"), 4096)
	if err != nil {
		return nil, id, false
	}
	st, ok := parseStat(stat)
	if !ok {
		return nil, id, false
	}
	id = procID{pid, st.start}
	if st.state == 'Z' || st.state == 'X' || st.flags&pfKthread != 0 {
		return nil, id, true
	}
	ppid, euid, ok := observe.ProcessStatus(dir)
	if !ok {
		return nil, id, false
	}
	p = &observe.Process{PID: pid, PPID: ppid, UID: euid, Comm: observe.ProcessComm(dir)}
	exe, err := os.Readlink(filepath.Join(dir, "exe"))
	switch {
	case errors.Is(err, fs.ErrPermission):
		p.Unreadable = true
		return p, id, true
	case err != nil:
		return nil, id, false // exited meanwhile
	}
	p.Exe = exe
	p.Cmdline = cmdline(dir)
	var cut bool
	p.Objects, cut = mappedObjects(filepath.Join(dir, "maps"))
	if cut {
		s.objectsCut++
	}
	if s.selfMnt != "" {
		if mnt, err := os.Readlink(filepath.Join(dir, "ns", "mnt")); err == nil && mnt != s.selfMnt {
			p.OtherMountNS = true
		}
	}
	return p, id, true
}

// procStat is what read needs of /proc/PID/stat.
type procStat struct {
	state byte
	flags uint64
	start uint64
}

// parseStat reads the state (field 3), flags (9) and start time (22) of
// /proc/PID/stat. The name (field 2) is in parentheses and may hold spaces
// and parentheses itself, so fields are counted after its last ')'.
func parseStat(stat []byte) (procStat, bool) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return procStat{}, false
	}
	f := strings.Fields(string(stat[i+1:]))
	// f[0] is field 3.
	if len(f) < 20 || len(f[0]) != 1 {
		return procStat{}, false
	}
	flags, err1 := strconv.ParseUint(f[6], 10, 64)
	start, err2 := strconv.ParseUint(f[19], 10, 64)
	if err1 != nil || err2 != nil {
		return procStat{}, false
	}
	return procStat{state: f[0][0], flags: flags, start: start}, true
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
// deduplicated, in order, and whether maxObjects cut the list. A file
// deleted or replaced since it was mapped keeps the kernel's " (deleted)"
// suffix: the code running is then not the file on disk, which the binary
// analysis reports. The file is read line by line (a process may have
// hundreds of thousands of mappings), at most maxMapsLines.
func mappedObjects(path string) (out []string, cut bool) {
	f, err := os.Open(path)
	if err != nil {
		return nil, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 4096), 64<<10) // a path is at most PATH_MAX
	seen := map[string]bool{}
	for n := 0; sc.Scan() && n < maxMapsLines; n++ {
		name, ok := mappedName(sc.Text())
		if !ok || seen[name] {
			continue
		}
		if len(out) >= maxObjects {
			return out, true
		}
		seen[name] = true
		out = append(out, name)
	}
	return out, false
}

// mappedName returns the file of an executable mapping of a maps line:
//
//	address perms offset dev inode pathname
//
// The fields before the path hold no '/', so the path starts at the first
// " /"; it is kept whole (it may hold spaces, even trailing ones), and the
// kernel's escape of a newline in it, \012, is decoded. Anonymous
// mappings, [vdso] and memfds (memory with a name, no file) are not files.
func mappedName(line string) (string, bool) {
	f := strings.Fields(line)
	if len(f) < 6 || len(f[1]) < 3 || f[1][2] != 'x' {
		return "", false
	}
	i := strings.Index(line, " /")
	if i < 0 {
		return "", false
	}
	name := strings.TrimLeft(line[i:], " ")
	if strings.HasPrefix(name, "/memfd:") {
		return "", false
	}
	return strings.ReplaceAll(name, `\012`, "\n"), true
}

// result returns the processes, by pid, and adds to notes what was left
// out. (What the processes are, such as a container's in another mount
// namespace or another user's that could not be read, the runtime rules'
// coverage counts from the data itself.)
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
	if s.objectsCut > 0 {
		notes = append(notes, fmt.Sprintf("%d process(es) map more than %d executable files: the rest were not analysed", s.objectsCut, maxObjects))
	}
	return out, notes
}
