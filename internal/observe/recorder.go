package observe

import (
	"cmp"
	"net/netip"
	"slices"
	"sync"
)

// MaxProcessStarts bounds the ProcessStarts a Recorder keeps, so a long
// window on a busy host cannot grow without limit; later ones are counted
// in ProcessStartsDropped.
const MaxProcessStarts = 100_000

// MaxConnections bounds the distinct connections (process, endpoints,
// direction) a Recorder keeps: a user spraying connections to every port
// of 127.0.0.0/8 must not grow the observer's memory at will. Events of
// connections past it are counted (ConnectionsDropped).
const MaxConnections = 200_000

// Recorder is a Sink that aggregates events into the window's facts. It is
// safe for concurrent use, so a report can read it while a method feeds it.
type Recorder struct {
	exeOf func(pid int) string

	mu           sync.Mutex
	conns        map[connKey]*Connection
	connsDropped int
	procs        []ProcessStart
	procsDropped int
	exe          map[int]string // pid → executable, resolved once
}

type connKey struct {
	pid           int
	local, remote netip.AddrPort
	dir           Direction
	netns         uint32
}

// NewRecorder returns an empty Recorder. exeOf resolves a pid's executable
// (for the live host: readlink /proc/PID/exe, see ExeFromProc); it is called
// at most once per pid and may be nil.
func NewRecorder(exeOf func(pid int) string) *Recorder {
	return &Recorder{exeOf: exeOf, conns: map[connKey]*Connection{}, exe: map[int]string{}}
}

// Connection implements Sink.
func (r *Recorder) Connection(ev ConnectionEvent) {
	local := ev.Local
	if ev.Direction == Outbound {
		// ephemeral: aggregate all connections to one peer
		local = netip.AddrPortFrom(local.Addr(), 0)
	}
	k := connKey{pid: ev.PID, local: local, remote: ev.Remote, dir: ev.Direction, netns: ev.Netns}
	if ev.Direction == Inbound {
		// the peer's port is ephemeral
		k.remote = netip.AddrPortFrom(ev.Remote.Addr(), 0)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.conns[k]
	if c == nil {
		if len(r.conns) >= MaxConnections {
			r.connsDropped++
			return
		}
		c = &Connection{PID: ev.PID, Comm: ev.Comm, UID: ev.UID, Local: k.local, Remote: k.remote,
			Direction: ev.Direction, Netns: ev.Netns, First: ev.Time, Exe: r.exeLocked(ev.PID)}
		r.conns[k] = c
	}
	if ev.Failed {
		c.Failed++
	} else {
		c.Count++
	}
	c.Last = ev.Time
}

func (r *Recorder) exeLocked(pid int) string {
	if pid <= 0 {
		return ""
	}
	if e, ok := r.exe[pid]; ok {
		return e
	}
	e := ""
	if r.exeOf != nil {
		e = r.exeOf(pid)
	}
	r.exe[pid] = e
	return e
}

// ProcessStart implements Sink.
func (r *Recorder) ProcessStart(p ProcessStart) {
	r.mu.Lock()
	defer r.mu.Unlock()
	// the pid now runs another image: forget what was resolved for it
	delete(r.exe, p.PID)
	if len(p.Filename) > 0 && p.Filename[0] == '/' {
		r.exe[p.PID] = p.Filename
	}
	if len(r.procs) >= MaxProcessStarts {
		r.procsDropped++
		return
	}
	r.procs = append(r.procs, p)
}

// Connections returns the aggregated connections, ordered by direction,
// remote, local and pid.
func (r *Recorder) Connections() []Connection {
	r.mu.Lock()
	out := make([]Connection, 0, len(r.conns))
	for _, c := range r.conns {
		out = append(out, *c)
	}
	r.mu.Unlock()
	slices.SortFunc(out, func(a, b Connection) int {
		return cmp.Or(cmp.Compare(a.Direction, b.Direction), a.Remote.Compare(b.Remote),
			a.Local.Compare(b.Local), cmp.Compare(a.PID, b.PID))
	})
	return out
}

// ConnectionsDropped counts the events of connections not kept past
// MaxConnections.
func (r *Recorder) ConnectionsDropped() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.connsDropped
}

// ProcessStarts returns the execs seen, in arrival order, and how many were
// dropped past MaxProcessStarts.
func (r *Recorder) ProcessStarts() ([]ProcessStart, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.procs), r.procsDropped
}
