// Package procpoll is the last-resort observer method: it polls the
// kernel's socket tables (/proc/net/tcp, tcp6) and process list (/proc) at
// an interval and reports what changed. It needs no privilege beyond
// reading /proc (as root it also sees every process's sockets) and no
// kernel feature, which is why it exists; what it cannot see is stated in
// observe.BlindSpots(observe.MethodProc): a connection that opens and
// closes between two polls is missed entirely.
package procpoll

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/kensa-dev/kensa/internal/collect/netstate"
	"github.com/kensa-dev/kensa/internal/observe"
)

// DefaultInterval is the polling period. Reading /proc/net/tcp walks the
// kernel's whole connection hash table, however few sockets there are:
// 7-8 ms a poll on this 24 GiB machine with two sockets open, so a poll a
// second keeps the method under the 1 % of a core the observer may use
// (0.9 % measured, bench/README.md), at the price of missing connections
// shorter than a second.
const DefaultInterval = time.Second

// maxTableBytes bounds one /proc/net table read; a host with a million
// sockets has tables of about 150 MB, past which reading is refused rather
// than allowed to exhaust memory.
const maxTableBytes = 64 << 20

// ReadTable reads and parses procRoot/name, a socket table such as
// "net/tcp6", bounded. Lines that do not parse are skipped. A table the
// kernel lacks (no IPv6) gives an error that is os.ErrNotExist.
func ReadTable(procRoot, name string) ([]netstate.ProcNetEntry, error) {
	b, err := observe.ReadProcFile(filepath.Join(procRoot, name), maxTableBytes)
	if err != nil {
		return nil, err
	}
	entries, _ := netstate.ParseProcNet(b)
	return entries, nil
}

// Options configure the poller.
type Options struct {
	// ProcRoot is the proc file system ("/proc" when empty).
	ProcRoot string
	// Interval is the polling period (DefaultInterval when zero).
	Interval time.Duration
}

// Observer polls until Close or the context ends.
type Observer struct {
	opts   Options
	sink   observe.Sink
	cancel context.CancelFunc
	done   chan struct{}

	mu    sync.Mutex
	stats observe.Stats
	err   error
}

// connKey identifies one connection: its endpoints and its socket's
// inode (a later connection on the same endpoints is another socket).
type connKey struct {
	local, remote netip.AddrPort
	inode         uint64
}

// absentPolls is how many polls in a row a connection must be missing
// from the table before it is forgotten: /proc/net/tcp is read in several
// read() calls and is no consistent snapshot, so a live connection can be
// missing from one poll while others open and close, and must not then
// count as new when it reappears.
const absentPolls = 3

// Start takes a first snapshot (connections and processes that exist now
// are the baseline, not events) and polls in the background. The sink is
// called from one goroutine and never after Close returns.
func Start(ctx context.Context, sink observe.Sink, opts Options) (*Observer, error) {
	if opts.ProcRoot == "" {
		opts.ProcRoot = "/proc"
	}
	if opts.Interval <= 0 {
		opts.Interval = DefaultInterval
	}
	p := &poller{root: opts.ProcRoot, conns: map[connKey]int{}, pids: map[int]string{}}
	if err := p.snapshot(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	o := &Observer{opts: opts, sink: sink, cancel: cancel, done: make(chan struct{})}
	go o.run(ctx, p)
	return o, nil
}

// Stats returns what was delivered so far.
func (o *Observer) Stats() observe.Stats {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.stats
}

// Err returns the last polling error (an unreadable table), if any.
func (o *Observer) Err() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.err
}

// Close stops polling after one last poll, so changes up to now are
// delivered; it may be called more than once.
func (o *Observer) Close() error {
	o.cancel()
	<-o.done
	return nil
}

func (o *Observer) run(ctx context.Context, p *poller) {
	defer close(o.done)
	t := time.NewTicker(o.opts.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			o.poll(p) // the window ends now: report what changed since the last tick
			return
		case <-t.C:
			o.poll(p)
		}
	}
}

func (o *Observer) poll(p *poller) {
	conns, starts, err := p.poll()
	for _, c := range conns {
		o.sink.Connection(c)
	}
	for _, s := range starts {
		o.sink.ProcessStart(s)
	}
	o.mu.Lock()
	o.stats.Events += uint64(len(conns) + len(starts))
	if err != nil {
		o.err = err
	}
	o.mu.Unlock()
}

// poller holds the previous snapshot: the established connections, and
// each process with its executable (a changed executable is an exec).
type poller struct {
	root string
	// conns maps each connection to the poll it was last seen in (gen).
	conns map[connKey]int
	gen   int
	pids  map[int]string
}

// table reads the established and listening TCP sockets.
func (p *poller) table() (established []netstate.ProcNetEntry, listening map[uint16]bool, err error) {
	listening = map[uint16]bool{}
	read := 0
	for _, name := range []string{"net/tcp", "net/tcp6"} {
		entries, rerr := ReadTable(p.root, name)
		if rerr != nil {
			if name == "net/tcp6" && errors.Is(rerr, os.ErrNotExist) {
				continue // a kernel without IPv6
			}
			err = errors.Join(err, rerr)
			continue
		}
		read++
		for _, e := range entries {
			switch e.State {
			case netstate.StateEstablished:
				established = append(established, e)
			case netstate.StateListen:
				listening[e.Local.Port()] = true
			}
		}
	}
	if read == 0 && err == nil {
		err = errors.New("no TCP socket table was read")
	}
	return established, listening, err
}

func (p *poller) snapshot() error {
	est, _, err := p.table()
	if err != nil {
		return fmt.Errorf("procpoll: %w", err)
	}
	for _, e := range est {
		p.conns[key(e)] = p.gen
	}
	pids, err := observe.PIDs(p.root)
	if err != nil {
		return fmt.Errorf("procpoll: %w", err)
	}
	for _, pid := range pids {
		p.pids[pid] = p.exe(pid)
	}
	return nil
}

// poll returns the connections established and the processes started
// since the previous poll.
func (p *poller) poll() ([]observe.ConnectionEvent, []observe.ProcessStart, error) {
	now := time.Now()
	est, listening, err := p.table()
	p.gen++
	var fresh []netstate.ProcNetEntry
	for _, e := range est {
		k := key(e)
		if _, known := p.conns[k]; !known {
			fresh = append(fresh, e)
		}
		p.conns[k] = p.gen
	}
	if err == nil {
		// A failed read forgets nothing: no false "new" next time.
		for k, last := range p.conns {
			if p.gen-last >= absentPolls {
				delete(p.conns, k)
			}
		}
	}
	var conns []observe.ConnectionEvent
	if len(fresh) > 0 {
		inodes := make([]uint64, len(fresh))
		for i, e := range fresh {
			inodes[i] = e.Inode
		}
		owners := observe.SocketOwners(p.root, inodes)
		for _, e := range fresh {
			ev := observe.ConnectionEvent{Time: now, Local: unmap(e.Local), Remote: unmap(e.Remote), UID: uint32(e.UID), Direction: observe.Outbound}
			if listening[e.Local.Port()] {
				ev.Direction = observe.Inbound
			}
			if o, ok := owners[e.Inode]; ok {
				ev.PID, ev.Comm = o.PID, o.Comm
			}
			conns = append(conns, ev)
		}
	}
	var starts []observe.ProcessStart
	pids, perr := observe.PIDs(p.root)
	if perr == nil {
		current := make(map[int]string, len(pids))
		for _, pid := range pids {
			exe := p.exe(pid)
			prev, known := p.pids[pid]
			if known && exe == "" {
				// Unreadable now (a zombie, or exiting): unknown, not
				// another executable.
				exe = prev
			}
			current[pid] = exe
			// A new pid, or a known one running another executable (an
			// exec after a fork seen earlier) starts a process.
			if !known || prev != exe {
				starts = append(starts, observe.DescribeProcess(p.root, now, pid, exe))
			}
		}
		p.pids = current
	}
	return conns, starts, errors.Join(err, perr)
}

// exe is a process's executable, "" for a kernel thread or one that
// cannot be read.
func (p *poller) exe(pid int) string { return observe.ExeIn(p.root, pid) }

func key(e netstate.ProcNetEntry) connKey {
	return connKey{unmap(e.Local), unmap(e.Remote), e.Inode}
}

// unmap turns an IPv4-mapped IPv6 endpoint into IPv4, as the eBPF method
// reports it.
func unmap(a netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(a.Addr().Unmap(), a.Port())
}
