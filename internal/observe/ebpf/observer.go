// Package ebpf is Kensa's eBPF runtime observer: two tp_btf programs
// (bpf/observe.c) report TCP handshakes and process execs through a ring
// buffer, and an Observer turns the records into observe events.
//
// Why tp_btf: BTF raw tracepoints need no tracefs mount and work where
// kprobes are compiled out and fentry is refused by lockdown (measured in
// shared/design/dependencies.md); CO-RE relocations against the running
// kernel's BTF make one committed object fit every kernel with BTF.
//
// Two goroutines: one drains the ring into an in-memory queue and does
// nothing else, so a slow Sink or a slow /proc lookup cannot make the
// kernel drop records; the other decodes the queue in order, attributes
// inbound connections and calls the Sink.
//
// Inbound handshakes complete in softirq, outside any process: they are
// attributed to the process that made the socket listen, remembered per
// (network namespace inode, port) from the LISTEN transition. A socket that
// was listening before the window is looked up once in /proc
// (observe.ListenerOwnerInNetns); that lookup finds nothing when no process
// of that namespace is visible in ProcRoot (e.g. another PID namespace).
// Without CONFIG_NET_NS the kernel reports namespace 0 and ports are keyed
// alone.
//
// Loading needs root (CAP_BPF + CAP_PERFMON) and a kernel with BTF. When it
// is refused, Start returns an *UnavailableError so the caller can fall back
// to another method and report why.
package ebpf

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/ringbuf"
	"github.com/cilium/ebpf/rlimit"
	"golang.org/x/sys/unix"

	"github.com/kensa-dev/kensa/internal/observe"
)

// Record kinds, the first byte of each ring buffer record (enum event_kind
// in bpf/observe.c).
const (
	kindConnect    = 1
	kindAccept     = 2
	kindListen     = 3
	kindUnlisten   = 4
	kindExec       = 5
	tcpEstablished = 1
)

// Indexes of the drops map (enum drop_reason).
const (
	dropRingbufFull = 0
	dropNoOwner     = 1
)

// maxQueued bounds the records waiting between the ring reader and the
// Sink; beyond it records are counted in Stats.Lost like a full ring.
const maxQueued = 1 << 17

// DefaultRingBufferBytes holds about 14,000 connection records. The reader
// normally keeps the ring near empty; the size covers bursts while the
// Go scheduler is busy elsewhere.
const DefaultRingBufferBytes = 1 << 20

// Options tune an Observer; the zero value is ready to use.
type Options struct {
	// RingBufferBytes is the kernel→user ring buffer size: a power of two,
	// at least the page size. 0 means DefaultRingBufferBytes.
	RingBufferBytes int
	// ProcRoot is where to find the owners of sockets that were listening
	// before the window ("/proc" when empty).
	ProcRoot string
}

// UnavailableError means the kernel or the privileges refuse eBPF: not
// root, no BTF, a kernel without the tracepoints, or a lockdown policy. The
// caller should fall back to another observer method and report Reason.
type UnavailableError struct {
	Reason string
	Err    error
}

func (e *UnavailableError) Error() string {
	return "ebpf observer unavailable: " + e.Reason + ": " + e.Err.Error()
}
func (e *UnavailableError) Unwrap() error { return e.Err }

// Observer is a running eBPF observer. Events go to the Sink given to Start
// from one goroutine, until Close returns.
type Observer struct {
	sink     observe.Sink
	procRoot string
	// netns is the inode of the observer's own network namespace: a
	// connection elsewhere (a container) is marked with its namespace.
	netns    uint32
	objs     observerObjects
	links    []link.Link
	reader   *ringbuf.Reader
	bootWall time.Time // wall clock at monotonic 0, to convert bpf_ktime_get_ns

	// listeners maps a listening socket to the process that made it
	// listen, so inbound handshakes (completed in softirq) get a process.
	// Only the delivering goroutine touches it.
	listeners map[listenKey]owner

	// queue holds raw records from the ring reader (run) for the
	// delivering goroutine (deliver).
	qmu       sync.Mutex
	qcond     *sync.Cond
	queue     [][]byte
	drained   bool   // run has returned: nothing more will be queued
	queueLost uint64 // records dropped because the queue was full

	events     atomic.Uint64
	done       chan struct{} // closed when run returns
	delivered  chan struct{} // closed when deliver returns
	deliverGID atomic.Uint64 // goroutine running deliver (and the Sink)
	stopped    atomic.Bool   // Close was called from the Sink: deliver no more
	closing    atomic.Bool   // a Close has started
	closed     chan struct{} // closed once the Close in progress has finished
	closeErr   error

	// statsMu orders Stats' reads of the kernel maps against Close freeing
	// them.
	statsMu sync.Mutex
	freed   bool
	final   observe.Stats // Stats at Close, when the kernel maps are gone

	mu      sync.Mutex
	stopCtx func() bool // unregisters the ctx watcher
}

type listenKey struct {
	netns uint32 // network namespace inode
	port  uint16
}

type owner struct {
	pid  int
	uid  uint32
	comm string
}

// Start loads and attaches the programs and starts delivering events to
// sink. The observer stops when ctx is done or Close is called; events the
// kernel produced before that are still delivered (Close drains the ring).
func Start(ctx context.Context, sink observe.Sink, opts Options) (*Observer, error) {
	if _, err := btf.LoadKernelSpec(); err != nil {
		return nil, &UnavailableError{Reason: "kernel BTF unavailable (/sys/kernel/btf/vmlinux)", Err: err}
	}
	if err := rlimit.RemoveMemlock(); err != nil {
		return nil, unavailable("raising RLIMIT_MEMLOCK", err)
	}
	spec, err := loadObserver()
	if err != nil {
		return nil, err // the embedded object is broken: a build problem, not the host's
	}
	size := opts.RingBufferBytes
	if size == 0 {
		size = DefaultRingBufferBytes
	}
	if size < os.Getpagesize() || size&(size-1) != 0 {
		return nil, fmt.Errorf("ebpf observer: RingBufferBytes %d is not a power of two ≥ the page size", size)
	}
	spec.Maps[observerMapEvents].MaxEntries = uint32(size)

	o := &Observer{
		sink: sink, procRoot: opts.ProcRoot, listeners: map[listenKey]owner{},
		done: make(chan struct{}), delivered: make(chan struct{}), closed: make(chan struct{}),
		bootWall: bootWallClock(),
	}
	o.qcond = sync.NewCond(&o.qmu)
	if o.procRoot == "" {
		o.procRoot = "/proc"
	}
	o.netns = observe.NetnsOf(o.procRoot + "/self")
	if err := spec.LoadAndAssign(&o.objs, nil); err != nil {
		return nil, unavailable("loading the BPF programs", err)
	}
	for _, p := range []*ebpf.Program{o.objs.InetSockSetState, o.objs.SchedProcessExec} {
		l, err := link.AttachTracing(link.TracingOptions{Program: p, AttachType: ebpf.AttachTraceRawTp})
		if err != nil {
			o.release()
			return nil, unavailable("attaching "+p.String(), err)
		}
		o.links = append(o.links, l)
	}
	if o.reader, err = ringbuf.NewReader(o.objs.Events); err != nil {
		o.release()
		return nil, fmt.Errorf("ebpf observer: ring buffer reader: %w", err)
	}
	go o.run()
	go o.deliver()
	stop := context.AfterFunc(ctx, func() { o.Close() })
	o.mu.Lock()
	o.stopCtx = stop
	o.mu.Unlock()
	return o, nil
}

// unavailable wraps load and attach errors caused by the host (privileges,
// lockdown, missing kernel features) as UnavailableError.
func unavailable(what string, err error) error {
	switch {
	case errors.Is(err, os.ErrPermission), errors.Is(err, unix.EPERM), errors.Is(err, unix.EACCES):
		if os.Geteuid() != 0 {
			return &UnavailableError{Reason: what + ": not root (needs CAP_BPF and CAP_PERFMON)", Err: err}
		}
		return &UnavailableError{Reason: what + ": permission denied as root (lockdown or a security module)", Err: err}
	case errors.Is(err, ebpf.ErrNotSupported), errors.Is(err, btf.ErrNotSupported),
		errors.Is(err, unix.EINVAL), errors.Is(err, unix.ENOENT), errors.Is(err, unix.EOPNOTSUPP):
		return &UnavailableError{Reason: what + ": not supported by this kernel", Err: err}
	}
	var ve *ebpf.VerifierError
	if errors.As(err, &ve) {
		return &UnavailableError{Reason: what + ": rejected by this kernel's verifier", Err: err}
	}
	return fmt.Errorf("ebpf observer: %s: %w", what, err)
}

// bootWallClock returns the wall time at CLOCK_MONOTONIC zero.
func bootWallClock() time.Time {
	var ts unix.Timespec
	now := time.Now()
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		return now
	}
	return now.Add(-time.Duration(ts.Nano()))
}

// run drains the ring into the queue as fast as it can: it never blocks on
// the Sink or on /proc.
func (o *Observer) run() {
	defer close(o.done)
	for {
		rec, err := o.reader.Read() // a fresh RawSample each time: it is queued
		o.qmu.Lock()
		if err != nil {
			// ErrFlushed: Close drained the ring; ErrClosed: closed under us.
			o.drained = true
			o.qcond.Broadcast()
			o.qmu.Unlock()
			return
		}
		if len(o.queue) >= maxQueued {
			o.queueLost++
		} else {
			o.queue = append(o.queue, rec.RawSample)
			o.qcond.Signal()
		}
		o.qmu.Unlock()
	}
}

// deliver decodes the queued records in order and calls the Sink, until
// run has returned and the queue is empty.
func (o *Observer) deliver() {
	defer close(o.delivered)
	o.deliverGID.Store(goroutineID())
	for {
		o.qmu.Lock()
		for len(o.queue) == 0 && !o.drained {
			o.qcond.Wait()
		}
		batch := o.queue
		o.queue = nil
		o.qmu.Unlock()
		if len(batch) == 0 {
			return // drained and empty
		}
		for _, b := range batch {
			if o.stopped.Load() {
				return
			}
			o.dispatch(b)
		}
	}
}

func (o *Observer) dispatch(b []byte) {
	if len(b) == 0 {
		return
	}
	switch b[0] {
	case kindConnect, kindAccept, kindListen, kindUnlisten:
		var ev observerConnEvent
		if len(b) < int(unsafe.Sizeof(ev)) {
			return
		}
		if _, err := binary.Decode(b, binary.NativeEndian, &ev); err != nil {
			return
		}
		o.conn(&ev)
	case kindExec:
		var ev observerExecEvent
		if len(b) < int(unsafe.Sizeof(ev)) {
			return
		}
		if _, err := binary.Decode(b, binary.NativeEndian, &ev); err != nil {
			return
		}
		o.events.Add(1)
		o.sink.ProcessStart(observe.ProcessStart{
			Time: o.bootWall.Add(time.Duration(ev.TsNs)), PID: int(ev.Owner.Tgid), PPID: int(ev.Ppid),
			UID: ev.Owner.Uid, Comm: cstring(ev.Owner.Comm[:]), Filename: cstring(ev.Filename[:]),
		})
	}
}

func (o *Observer) conn(ev *observerConnEvent) {
	local := netip.AddrPortFrom(addr(ev.Family, ev.Saddr), ev.Sport)
	remote := netip.AddrPortFrom(addr(ev.Family, ev.Daddr), ev.Dport)
	who := owner{pid: int(ev.Owner.Tgid), uid: ev.Owner.Uid, comm: cstring(ev.Owner.Comm[:])}
	out := observe.ConnectionEvent{Time: o.bootWall.Add(time.Duration(ev.TsNs)), Local: local, Remote: remote}
	key := listenKey{netns: ev.Netns, port: ev.Sport}
	switch ev.Kind {
	case kindListen:
		o.listeners[key] = who
		return
	case kindUnlisten:
		if o.listeners[key].pid == who.pid {
			delete(o.listeners, key)
		}
		return
	case kindConnect:
		out.Direction = observe.Outbound
		out.Failed = ev.Newstate != tcpEstablished
	case kindAccept:
		out.Direction = observe.Inbound
		w, ok := o.listeners[key]
		if !ok {
			// listening since before the window: ask /proc once per socket
			// (on the delivering goroutine; the ring reader goes on)
			w.pid, w.uid, w.comm = observe.ListenerOwnerInNetns(o.procRoot, ev.Netns, ev.Sport)
			o.listeners[key] = w
		}
		who = w
	}
	out.PID, out.UID, out.Comm = who.pid, who.uid, who.comm
	if ev.Netns != 0 && ev.Netns != o.netns {
		out.Netns = ev.Netns
	}
	o.events.Add(1)
	o.sink.Connection(out)
}

func addr(family uint8, b [16]byte) netip.Addr {
	if family == unix.AF_INET {
		return netip.AddrFrom4([4]byte(b[:4]))
	}
	return netip.AddrFrom16(b).Unmap()
}

func cstring(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

// Stats returns what was delivered and lost so far, read from the kernel's
// per-CPU drop counters; after Close, the totals at Close. Lost counts
// records the ring buffer (or the queue) had no room for; Skipped the
// programs' recursion misses (runs the kernel skipped, see
// recursionMisses), most of which are state changes no event is made of.
func (o *Observer) Stats() observe.Stats {
	o.statsMu.Lock()
	defer o.statsMu.Unlock()
	if o.freed {
		return o.final
	}
	return o.stats()
}

// stats reads the counters; the caller holds statsMu and the kernel
// objects are not freed yet.
func (o *Observer) stats() observe.Stats {
	s := observe.Stats{Events: o.events.Load()}
	o.qmu.Lock()
	s.Lost = o.queueLost
	o.qmu.Unlock()
	s.Lost += o.dropCount(dropRingbufFull)
	s.Skipped = o.recursionMisses()
	s.Unattributed = o.dropCount(dropNoOwner)
	return s
}

// recursionMisses is how many times the kernel skipped one of the programs
// because a BPF program was already running on that CPU (for instance a
// tracepoint hit inside another BPF program, or an NMI): each is an event
// that never reached the ring. Counted since Linux 5.12; 0 before.
func (o *Observer) recursionMisses() uint64 {
	var n uint64
	for _, p := range []*ebpf.Program{o.objs.InetSockSetState, o.objs.SchedProcessExec} {
		if p == nil {
			continue
		}
		if st, err := p.Stats(); err == nil {
			n += st.RecursionMisses
		}
	}
	return n
}

func (o *Observer) dropCount(reason uint32) uint64 {
	if o.objs.Drops == nil {
		return 0
	}
	var perCPU []uint64
	if err := o.objs.Drops.Lookup(reason, &perCPU); err != nil {
		return 0
	}
	var n uint64
	for _, v := range perCPU {
		n += v
	}
	return n
}

// Close detaches the programs, delivers the events still in the ring
// buffer, and frees the kernel objects. After it returns the Sink is not
// called again. It is safe to call more than once and from any goroutine.
//
// Called from inside the Sink, Close cannot wait for the Sink's goroutine
// (it is that goroutine): it stops delivery instead. The events not yet
// delivered are discarded, the Sink is not called again once the current
// call returns, and Close returns without waiting; if another Close is
// already in progress it returns nil at once and that one finishes.
func (o *Observer) Close() error {
	id := goroutineID()
	inSink := id != 0 && id == o.deliverGID.Load()
	if inSink {
		o.stopped.Store(true)
	}
	if o.closing.CompareAndSwap(false, true) {
		o.shutdown(!inSink)
	} else if inSink {
		return nil // the other Close waits for this Sink call to return
	}
	<-o.closed
	if !inSink {
		<-o.delivered // no Sink call in progress either
	}
	return o.closeErr
}

// shutdown does the work of the first Close; wait says whether it may wait
// for the delivering goroutine (not when called from the Sink).
func (o *Observer) shutdown(wait bool) {
	o.mu.Lock()
	if o.stopCtx != nil {
		o.stopCtx()
	}
	o.mu.Unlock()
	var errs []error
	for _, l := range o.links {
		errs = append(errs, l.Close())
	}
	o.links = nil
	// no new records can arrive: drain the rest, then stop the reader
	errs = append(errs, o.reader.Flush())
	<-o.done
	errs = append(errs, o.reader.Close())
	if wait {
		<-o.delivered
	}
	o.statsMu.Lock()
	o.final = o.stats()
	o.freed = true
	errs = append(errs, o.objs.Close())
	o.statsMu.Unlock()
	o.closeErr = errors.Join(errs...)
	close(o.closed)
}

// goroutineID returns the current goroutine's id, parsed from the first
// line of its stack trace ("goroutine 42 [running]:"); 0 if unparsable. It
// only serves Close to recognise a call from inside the Sink.
func goroutineID() uint64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	b, ok := bytes.CutPrefix(b, []byte("goroutine "))
	if !ok {
		return 0
	}
	if i := bytes.IndexByte(b, ' '); i >= 0 {
		b = b[:i]
	}
	id, _ := strconv.ParseUint(string(b), 10, 64)
	return id
}

// release frees what a failed Start had loaded.
func (o *Observer) release() {
	for _, l := range o.links {
		l.Close()
	}
	o.objs.Close()
}
