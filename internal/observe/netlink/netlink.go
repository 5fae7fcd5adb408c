// Package netlink is the observer method used when eBPF is refused but
// netlink is not: process execs come from the kernel's proc connector
// (NETLINK_CONNECTOR, group CN_IDX_PROC) as they happen, and TCP
// connections from sock_diag (NETLINK_SOCK_DIAG): dumps of the established
// and listening sockets polled at an interval, which give each
// connection's process through /proc/*/fd, and the kernel's destroy
// messages (groups SKNLGRP_INET_TCP_DESTROY, SKNLGRP_INET6_TCP_DESTROY),
// one per freed TCP socket, which give the connections too short for any
// poll: inbound ones with the listener's owner, outbound ones without a
// process (counted in Stats.Unattributed). What it cannot see is stated in
// observe.BlindSpots(observe.MethodNetlink).
//
// The netlink messages are built and parsed here with golang.org/x/sys/unix
// (about 150 lines, three fixed-layout kernel structures) instead of
// github.com/mdlayher/netlink and github.com/vishvananda/netlink: the
// latter's SocketDiagTCPInfo dumps every TCP state with no state filter
// (the TIME_WAIT sockets of a busy host included), and the two modules add
// eight modules for what is a request and a fixed-size record each.
//
// A sock_diag dump with a state filter only copies the sockets asked for;
// reading /proc/net/tcp formats every socket as text through a seq_file
// that re-seeks on every read() (bench/README.md compares the two).
//
// One goroutine does everything: it waits in poll(2) on the connector
// socket until the next sock_diag poll is due, so the Sink is called from
// that goroutine only and exec events are read from /proc at once.
//
// Needs CAP_NET_ADMIN (the proc connector) and the initial PID and user
// namespaces (the kernel ignores subscriptions from others). When refused,
// Start returns an *UnavailableError so the caller can fall back to /proc
// polling and report why.
package netlink

import (
	"context"
	"encoding/binary"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/kensa-dev/kensa/internal/observe"
)

// DefaultInterval is the shortest sock_diag polling period when
// Options.Interval is zero. A poll's cost is mostly the kernel walking
// every bucket of its connection hash table, which grows with the host's
// memory (262,144 buckets, 0.6 ms a poll on this 24 GiB machine), so the
// default period adapts: pollCostFactor times the last poll's duration,
// within [DefaultInterval, maxInterval], which keeps polling near 0.4 % of
// a core on any host while seeing connections that last 100-150 ms or
// more on a host like this one.
const DefaultInterval = 100 * time.Millisecond

const (
	pollCostFactor = 250
	maxInterval    = 5 * time.Second
)

// Bounds on one poll, so a host with a huge socket table or process count
// cannot make the observer unbounded in memory or time.
const (
	maxSockets = 1 << 20 // sockets kept from one dump
)

// absentPolls is how many polls in a row a connection must be missing
// from the dump before it is forgotten: a sock_diag dump takes several
// recv() calls and is no consistent snapshot (as /proc/net/tcp, see
// procpoll), so a live connection can be missing from one dump while
// others open and close, and must not then count as new when it reappears.
const absentPolls = 3

// absentFor is how long a connection must also have been missing before it
// is forgotten: the kernel sends destroy messages from a workqueue, so one
// can arrive after the dumps that no longer list its socket, and must then
// still find the connection counted.
const absentFor = 5 * time.Second

// closeGrace is how long Close waits for the destroy messages of sockets
// freed just before the window ended (they leave through a workqueue).
const closeGrace = 100 * time.Millisecond

// Options configure the observer.
type Options struct {
	// ProcRoot is the proc file system ("/proc" when empty), read for the
	// executables, names and owners of processes and sockets.
	ProcRoot string
	// Interval is the sock_diag polling period; zero adapts it to the
	// cost of a poll (see DefaultInterval).
	Interval time.Duration
}

// UnavailableError means the kernel or the privileges refuse the method:
// no proc connector or sock_diag in the kernel, no CAP_NET_ADMIN, or a
// PID or user namespace other than the initial one. The caller should fall
// back to /proc polling and report Reason.
type UnavailableError struct {
	Reason string
	Err    error
}

func (e *UnavailableError) Error() string {
	return "netlink observer unavailable: " + e.Reason + ": " + e.Err.Error()
}
func (e *UnavailableError) Unwrap() error { return e.Err }

// Observer watches until Close or the context ends.
type Observer struct {
	opts     Options
	adaptive bool // the interval follows the cost of a poll
	sink     observe.Sink
	cancel   context.CancelFunc
	done     chan struct{}

	// File descriptors, closed by run when it returns: the proc connector,
	// the sock_diag dump socket, the sock_diag destroy group and an eventfd
	// that Close writes to.
	cn, diag, destroy, wake int

	mu    sync.Mutex
	stats observe.Stats
	err   error
}

// Kernel constants not in x/sys/unix (include/uapi/linux/connector.h,
// cn_proc.h, inet_diag.h).
const (
	cnIdxProc           = 1
	cnValProc           = 1
	procCnMcastListen   = 1
	procEventNone       = 0
	procEventExec       = 2
	sizeofCnMsg         = 20
	sizeofInetDiagReqV1 = 60
	tcpdiagGetSock      = 18 // TCPDIAG_GETSOCK
	sizeofInetDiagMsg   = 72
	tcpEstablished      = 1
	tcpFinWait1         = 4
	tcpFinWait2         = 5
	tcpCloseWait        = 8
	tcpLastAck          = 9
	tcpListen           = 10
	tcpClosing          = 11
	inetDiagInfo        = 2   // INET_DIAG_INFO: struct tcp_info
	tcpInfoBytesAcked   = 120 // offsetof(struct tcp_info, tcpi_bytes_acked)
	// sock_diag multicast groups SKNLGRP_INET_TCP_DESTROY (1) and
	// SKNLGRP_INET6_TCP_DESTROY (3), as a bind(2) group mask.
	destroyGroups = 1<<(1-1) | 1<<(3-1)
)

// wasEstablished are the states a connection passes through after
// ESTABLISHED while its full socket lives. Dumping them too means a
// connection closed between two polls is still seen (with its inode, if
// its process still holds it), and one missing from a dump has been freed:
// its destroy message is sent or on its way.
const wasEstablished = 1<<tcpEstablished | 1<<tcpFinWait1 | 1<<tcpFinWait2 | 1<<tcpCloseWait | 1<<tcpLastAck | 1<<tcpClosing

// Start subscribes to exec events, takes a first socket dump (connections
// that exist now are the baseline, not events) and watches in the
// background. The sink is called from one goroutine and never after Close
// returns.
func Start(ctx context.Context, sink observe.Sink, opts Options) (*Observer, error) {
	if opts.ProcRoot == "" {
		opts.ProcRoot = "/proc"
	}
	adaptive := opts.Interval <= 0
	if adaptive {
		opts.Interval = DefaultInterval
	}
	o := &Observer{opts: opts, adaptive: adaptive, sink: sink, cn: -1, diag: -1, destroy: -1, wake: -1, done: make(chan struct{})}
	p := &poller{root: opts.ProcRoot, conns: map[endpoints]*conn{}, listeners: map[uint16]listener{}, buf: make([]byte, 64<<10)}
	var err error
	if o.cn, err = subscribe(); err == nil {
		if o.diag, err = unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.NETLINK_SOCK_DIAG); err != nil {
			err = &UnavailableError{Reason: "no sock_diag netlink socket", Err: err}
		}
	}
	var est []socket
	var listening map[uint16]uint64
	if err == nil {
		p.fd = o.diag
		if est, listening, err = p.dump(); err != nil {
			err = &UnavailableError{Reason: "sock_diag dump refused", Err: err}
		}
	}
	if err == nil {
		o.destroy, err = destroySocket()
	}
	if err == nil {
		if o.wake, err = unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK); err != nil {
			err = fmt.Errorf("netlink observer: eventfd: %w", err)
		}
	}
	if err != nil {
		o.closeFDs()
		return nil, err
	}
	for _, s := range est {
		p.conns[s.endpoints()] = &conn{inode: s.inode, seen: time.Now()}
	}
	p.updateListeners(listening)
	ctx, o.cancel = context.WithCancel(ctx)
	wake := o.wake
	context.AfterFunc(ctx, func() {
		var one [8]byte
		binary.NativeEndian.PutUint64(one[:], 1)
		unix.Write(wake, one[:]) // run closes wake only after seeing this
	})
	go o.run(p)
	return o, nil
}

// subscribe opens a proc connector socket listening to process events and
// waits for the kernel's acknowledgement, which it sends synchronously.
func subscribe() (int, error) {
	if !hasNetAdmin() {
		return -1, &UnavailableError{Reason: "the proc connector needs CAP_NET_ADMIN (run as root)", Err: unix.EPERM}
	}
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, unix.NETLINK_CONNECTOR)
	if err != nil {
		return -1, &UnavailableError{Reason: "no proc connector (CONFIG_PROC_EVENTS)", Err: err}
	}
	fail := func(reason string, err error) (int, error) {
		unix.Close(fd)
		return -1, &UnavailableError{Reason: reason, Err: err}
	}
	// A large receive buffer absorbs exec bursts (fork and exit events
	// share it) while a /proc read is in progress.
	if unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 4<<20) != nil {
		unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, 4<<20)
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: cnIdxProc}); err != nil {
		return fail("cannot join the proc connector group", err)
	}
	seq := uint32(time.Now().UnixNano())
	// The 4-byte PROC_CN_MCAST_LISTEN form: every kernel since 2.6.15
	// accepts it (the 8-byte form with an event filter is 6.6+, and older
	// kernels ignore it silently).
	msg := make([]byte, unix.SizeofNlMsghdr+sizeofCnMsg+4)
	ne := binary.NativeEndian
	ne.PutUint32(msg[0:], uint32(len(msg)))
	ne.PutUint16(msg[4:], unix.NLMSG_DONE)
	ne.PutUint32(msg[8:], seq)
	ne.PutUint32(msg[12:], uint32(os.Getpid()))
	cn := msg[unix.SizeofNlMsghdr:]
	ne.PutUint32(cn[0:], cnIdxProc)
	ne.PutUint32(cn[4:], cnValProc)
	ne.PutUint32(cn[8:], seq)
	ne.PutUint32(cn[12:], seq) // the acknowledgement has ack+1 (its seq is the kernel's own)
	ne.PutUint16(cn[16:], 4)
	ne.PutUint32(cn[20:], procCnMcastListen)
	if err := unix.Sendto(fd, msg, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return fail("proc connector subscription refused", err)
	}
	buf := make([]byte, 8<<10)
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		if _, err := unix.Poll(pfd, 100); err != nil && err != unix.EINTR {
			return fail("poll", err)
		}
		for {
			n, from, err := unix.Recvfrom(fd, buf, unix.MSG_DONTWAIT)
			if err == unix.EAGAIN || err == unix.ENOBUFS || err == unix.EINTR {
				break
			}
			if err != nil {
				return fail("proc connector", err)
			}
			if !fromKernel(from) {
				continue
			}
			for _, ev := range procEvents(buf[:n]) {
				if ev.what == procEventNone && ev.ack == seq+1 {
					if ev.err != 0 {
						return fail("proc connector subscription refused", unix.Errno(ev.err))
					}
					return fd, nil
				}
			}
		}
	}
	return fail("no acknowledgement from the proc connector (not in the initial PID and user namespaces?)", os.ErrDeadlineExceeded)
}

// destroySocket joins the sock_diag groups to which the kernel (4.10+)
// sends one inet_diag_msg, with its tcp_info, for every TCP socket it
// frees: connections too short for any poll are seen there.
func destroySocket() (int, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, unix.NETLINK_SOCK_DIAG)
	if err != nil {
		return -1, &UnavailableError{Reason: "no sock_diag netlink socket", Err: err}
	}
	if unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 8<<20) != nil {
		unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, 8<<20)
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: destroyGroups}); err != nil {
		unix.Close(fd)
		return -1, &UnavailableError{Reason: "cannot join the sock_diag TCP destroy groups (Linux 4.10+, CAP_NET_ADMIN)", Err: err}
	}
	return fd, nil
}

// hasNetAdmin reports whether this process has CAP_NET_ADMIN in effect.
func hasNetAdmin() bool {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return os.Geteuid() == 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "CapEff:"); ok {
			caps, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			return err == nil && caps&(1<<unix.CAP_NET_ADMIN) != 0
		}
	}
	return os.Geteuid() == 0
}

func fromKernel(from unix.Sockaddr) bool {
	sa, ok := from.(*unix.SockaddrNetlink)
	return ok && sa.Pid == 0
}

// procEvent is the part of a proc connector message this method uses.
type procEvent struct {
	seq, ack uint32
	what     uint32
	tgid     uint32 // PROC_EVENT_EXEC
	err      uint32 // PROC_EVENT_NONE (an acknowledgement)
}

// procEvents parses the proc connector messages in one datagram.
func procEvents(b []byte) []procEvent {
	var out []procEvent
	for _, m := range messages(b) {
		if m.typ != unix.NLMSG_DONE || len(m.data) < sizeofCnMsg+24 {
			continue
		}
		ne := binary.NativeEndian
		cn := m.data
		if ne.Uint32(cn[0:]) != cnIdxProc || ne.Uint32(cn[4:]) != cnValProc {
			continue
		}
		ev := cn[sizeofCnMsg:]
		e := procEvent{seq: ne.Uint32(cn[8:]), ack: ne.Uint32(cn[12:]), what: ne.Uint32(ev[0:])}
		switch e.what {
		case procEventExec:
			e.tgid = ne.Uint32(ev[20:]) // exec_proc_event{process_pid, process_tgid}
		case procEventNone:
			e.err = ne.Uint32(ev[16:])
		}
		out = append(out, e)
	}
	return out
}

type message struct {
	typ   uint16
	flags uint16
	seq   uint32
	data  []byte
}

// messages splits a datagram into netlink messages, stopping at the first
// malformed header.
func messages(b []byte) []message {
	var out []message
	for len(b) >= unix.SizeofNlMsghdr {
		ne := binary.NativeEndian
		l := int(ne.Uint32(b[0:]))
		if l < unix.SizeofNlMsghdr || l > len(b) {
			break
		}
		out = append(out, message{typ: ne.Uint16(b[4:]), flags: ne.Uint16(b[6:]), seq: ne.Uint32(b[8:]), data: b[unix.SizeofNlMsghdr:l]})
		l = (l + unix.NLMSG_ALIGNTO - 1) &^ (unix.NLMSG_ALIGNTO - 1)
		if l >= len(b) {
			break
		}
		b = b[l:]
	}
	return out
}

// Stats returns what was delivered so far. Lost counts receive buffer
// overruns of the proc connector socket: each lost one or more events.
func (o *Observer) Stats() observe.Stats {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.stats
}

// Err returns the last error (a refused dump or a failed receive), if any.
func (o *Observer) Err() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.err
}

// Close stops watching after delivering the exec events already queued
// and one last socket poll, so changes up to now are delivered; it may be
// called more than once, but not from the Sink.
func (o *Observer) Close() error {
	o.cancel()
	<-o.done
	return nil
}

func (o *Observer) closeFDs() {
	for _, fd := range []*int{&o.cn, &o.diag, &o.destroy, &o.wake} {
		if *fd >= 0 {
			unix.Close(*fd)
			*fd = -1
		}
	}
}

func (o *Observer) fail(err error) {
	o.mu.Lock()
	o.err = err
	o.mu.Unlock()
}

func (o *Observer) run(p *poller) {
	defer close(o.done)
	defer o.closeFDs()
	buf := make([]byte, 16<<10)
	next := time.Now().Add(o.opts.Interval)
	pfd := []unix.PollFd{{Fd: int32(o.cn), Events: unix.POLLIN}, {Fd: int32(o.destroy), Events: unix.POLLIN}, {Fd: int32(o.wake), Events: unix.POLLIN}}
	for {
		timeout := max(time.Until(next), 0)
		pfd[0].Revents, pfd[1].Revents, pfd[2].Revents = 0, 0, 0
		if _, err := unix.Poll(pfd, int(timeout.Milliseconds())+1); err != nil && err != unix.EINTR {
			o.fail(fmt.Errorf("poll: %w", err))
			time.Sleep(o.opts.Interval) // should not happen; do not spin
		}
		if pfd[0].Revents != 0 {
			o.drain(buf)
		}
		if pfd[1].Revents != 0 {
			o.destroyed(p, buf)
		}
		if pfd[2].Revents != 0 {
			// The window ends now. The kernel sends destroy messages
			// from a workqueue, so wait for those of the sockets freed
			// just before; then what changed since the last poll.
			for end := time.Now().Add(closeGrace); time.Now().Before(end); {
				o.drain(buf)
				o.destroyed(p, buf)
				pfd[0].Revents, pfd[1].Revents = 0, 0
				unix.Poll(pfd[:2], int(time.Until(end).Milliseconds())+1)
			}
			o.drain(buf)
			o.destroyed(p, buf)
			o.poll(p)
			return
		}
		if now := time.Now(); !now.Before(next) {
			// Destroy messages first, so those already sent are matched
			// before the dump.
			o.destroyed(p, buf)
			o.poll(p)
			interval := o.opts.Interval
			if o.adaptive {
				interval = min(max(pollCostFactor*time.Since(now), DefaultInterval), maxInterval)
			}
			next = time.Now().Add(interval)
		}
	}
}

// drain delivers the exec events queued on the connector socket.
func (o *Observer) drain(buf []byte) {
	var events, lost uint64
	defer func() {
		o.mu.Lock()
		o.stats.Events += events
		o.stats.Lost += lost
		o.mu.Unlock()
	}()
	for range 4096 { // bounded, so socket polls are not starved by an exec storm
		n, from, err := unix.Recvfrom(o.cn, buf, unix.MSG_DONTWAIT)
		switch {
		case err == unix.EAGAIN:
			return
		case err == unix.ENOBUFS:
			lost++ // the receive buffer overflowed: events were dropped
			continue
		case err == unix.EINTR:
			continue
		case err != nil:
			o.fail(fmt.Errorf("proc connector: %w", err))
			return
		}
		if !fromKernel(from) {
			continue
		}
		for _, ev := range procEvents(buf[:n]) {
			if ev.what == procEventExec && ev.tgid != 0 {
				o.sink.ProcessStart(execed(o.opts.ProcRoot, int(ev.tgid)))
				events++
			}
		}
	}
}

// destroyed delivers the connections freed since they were last polled
// that no poll saw.
func (o *Observer) destroyed(p *poller, buf []byte) {
	var events, lost, unattributed uint64
	defer func() {
		o.mu.Lock()
		o.stats.Events += events
		o.stats.Lost += lost
		o.stats.Unattributed += unattributed
		o.mu.Unlock()
	}()
	for range 4096 { // bounded, so the other sources are not starved
		n, from, err := unix.Recvfrom(o.destroy, buf, unix.MSG_DONTWAIT)
		switch {
		case err == unix.EAGAIN:
			return
		case err == unix.ENOBUFS:
			lost++
			continue
		case err == unix.EINTR:
			continue
		case err != nil:
			o.fail(fmt.Errorf("sock_diag destroy group: %w", err))
			return
		}
		if !fromKernel(from) {
			continue
		}
		now := time.Now()
		for _, m := range messages(buf[:n]) {
			if m.typ != unix.SOCK_DIAG_BY_FAMILY {
				continue
			}
			ev, ok := p.destroyedConn(now, m.data)
			if !ok {
				continue
			}
			if ev.PID == 0 && ev.Direction == observe.Outbound {
				unattributed++
			}
			o.sink.Connection(ev)
			events++
		}
	}
}

func (o *Observer) poll(p *poller) {
	conns, err := p.poll()
	for _, c := range conns {
		o.sink.Connection(c)
	}
	o.mu.Lock()
	o.stats.Events += uint64(len(conns))
	if err != nil {
		o.err = err
	}
	o.mu.Unlock()
}

// socket is one record of a sock_diag dump.
type socket struct {
	state         uint8
	local, remote netip.AddrPort
	uid           uint32
	inode         uint64
}

// endpoints identify a connection among those alive at one time.
type endpoints struct{ local, remote netip.AddrPort }

// conn is a connection already counted (or present at Start).
//
// Its socket's inode tells a later connection on the same endpoints from
// it, but an inode is 0 once the socket is orphaned (closed by its process
// while the kernel finishes the close) and for the FIN_WAIT2 remnant that
// replaces a freed socket, so a dumped socket with inode 0 is taken to be
// the counted connection. Each socket is freed once, so a second destroy
// message on the same endpoints is another connection.
type conn struct {
	inode uint64
	gen   int // the last poll that saw it
	seen  time.Time
	freed bool // its destroy message was read
}

func (s socket) endpoints() endpoints { return endpoints{s.local, s.remote} }

// poller holds the established connections of the previous polls.
type poller struct {
	root string
	fd   int
	seq  uint32
	buf  []byte
	// conns are the connections counted, kept until absentPolls polls
	// have not seen them.
	conns map[endpoints]*conn
	gen   int
	// listeners maps the ports listening at the last poll (or refresh)
	// to their sockets' owners.
	listeners map[uint16]listener
	// refreshed is when the listeners were last listed alone (see
	// refreshListeners).
	refreshed time.Time
}

// refreshEvery bounds the listener-only dumps a burst of destroy messages
// can cause.
const refreshEvery = 10 * time.Millisecond

// destroyedConn turns a destroy message into a connection event when it is
// a connection no poll counted: it was established if the peer acked our
// SYN (tcpi_bytes_acked counts it), else it is a failed connect().
func (p *poller) destroyedConn(now time.Time, b []byte) (observe.ConnectionEvent, bool) {
	s, ok := parseDiag(b)
	if !ok || s.remote.Port() == 0 || !s.local.IsValid() {
		return observe.ConnectionEvent{}, false // a listener, or never connected
	}
	if c, seen := p.conns[s.endpoints()]; seen && !c.freed {
		c.freed = true
		return observe.ConnectionEvent{}, false
	}
	acked, ok := bytesAcked(b[sizeofInetDiagMsg:])
	if !ok {
		return observe.ConnectionEvent{}, false
	}
	// Counted now: a FIN_WAIT2 remnant in the next dumps is this one.
	p.conns[s.endpoints()] = &conn{gen: p.gen, seen: now, freed: true}
	_, localListens := p.listeners[s.local.Port()]
	_, remoteListens := p.listeners[s.remote.Port()]
	if !localListens && !remoteListens && acked > 0 {
		// Neither end is a port known to listen: the listener may be
		// newer than the last poll (connections accepted by a server
		// that just started), and this the accepted side. List the
		// listeners again before guessing outbound.
		p.refreshListeners(now)
	}
	ev := observe.ConnectionEvent{Time: now, Local: s.local, Remote: s.remote, UID: s.uid, Direction: observe.Outbound, Failed: acked == 0}
	if l, inbound := p.listeners[s.local.Port()]; inbound {
		if acked == 0 {
			return observe.ConnectionEvent{}, false // an accepted child always has its SYN-ACK acked
		}
		ev.Direction = observe.Inbound
		ev.PID, ev.Comm = l.owner.PID, l.owner.Comm
	}
	return ev, true
}

// bytesAcked reads tcpi_bytes_acked from the INET_DIAG_INFO attribute.
func bytesAcked(attrs []byte) (uint64, bool) {
	ne := binary.NativeEndian
	for len(attrs) >= 4 {
		l, typ := int(ne.Uint16(attrs)), ne.Uint16(attrs[2:])&^(1<<15|1<<14)
		if l < 4 || l > len(attrs) {
			return 0, false
		}
		if typ == inetDiagInfo && l >= 4+tcpInfoBytesAcked+8 {
			return ne.Uint64(attrs[4+tcpInfoBytesAcked:]), true
		}
		l = (l + 3) &^ 3
		if l >= len(attrs) {
			break
		}
		attrs = attrs[l:]
	}
	return 0, false
}

// refreshListeners lists the listening sockets alone, at most once per
// refreshEvery. Asked for LISTEN only, the kernel walks its listening hash
// and skips the connection hash, which makes the cost of a poll: this is
// cheap.
func (p *poller) refreshListeners(now time.Time) {
	if now.Sub(p.refreshed) < refreshEvery {
		return
	}
	p.refreshed = now
	socks, err := p.dumpStates(1 << tcpListen)
	if err != nil {
		return // the next poll lists them
	}
	listening := map[uint16]uint64{}
	for _, s := range socks {
		if _, dup := listening[s.local.Port()]; !dup && s.state == tcpListen {
			listening[s.local.Port()] = s.inode
		}
	}
	p.updateListeners(listening)
}

// dump lists the established TCP sockets, and the listening ones by local
// port (with their inode), of both address families.
func (p *poller) dump() (established []socket, listening map[uint16]uint64, err error) {
	socks, err := p.dumpStates(wasEstablished | 1<<tcpListen)
	if err != nil {
		return nil, nil, err
	}
	listening = map[uint16]uint64{}
	for _, s := range socks {
		switch {
		case wasEstablished&(1<<s.state) != 0:
			established = append(established, s)
		case s.state == tcpListen:
			if _, dup := listening[s.local.Port()]; !dup {
				listening[s.local.Port()] = s.inode
			}
		}
	}
	return established, listening, nil
}

// dumpStates sends a TCPDIAG_GETSOCK dump request (struct inet_diag_req,
// the original inet_diag interface, still served by every kernel) for the
// sockets in the states of the mask: unlike SOCK_DIAG_BY_FAMILY it asks for
// both address families at once, so the kernel walks its connection hash
// table once per poll, not twice. The walk visits every bucket (262,144
// here), which is most of a poll's cost.
func (p *poller) dumpStates(states uint32) ([]socket, error) {
	p.seq++
	req := make([]byte, unix.SizeofNlMsghdr+sizeofInetDiagReqV1)
	ne := binary.NativeEndian
	ne.PutUint32(req[0:], uint32(len(req)))
	ne.PutUint16(req[4:], tcpdiagGetSock)
	ne.PutUint16(req[6:], unix.NLM_F_REQUEST|unix.NLM_F_DUMP)
	ne.PutUint32(req[8:], p.seq)
	r := req[unix.SizeofNlMsghdr:]
	ne.PutUint32(r[52:], states) // idiag_states: the kernel copies only these
	if err := unix.Sendto(p.fd, req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return nil, fmt.Errorf("sock_diag request: %w", err)
	}
	var out []socket
	for {
		n, _, err := unix.Recvfrom(p.fd, p.buf, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("sock_diag: %w", err)
		}
		for _, m := range messages(p.buf[:n]) {
			if m.seq != p.seq {
				continue // a reply to an earlier, abandoned request
			}
			switch m.typ {
			case unix.NLMSG_DONE:
				return out, nil
			case unix.NLMSG_ERROR:
				if len(m.data) >= 4 {
					if e := int32(ne.Uint32(m.data)); e < 0 {
						return nil, fmt.Errorf("sock_diag: %w", unix.Errno(-e))
					}
				}
				return out, nil
			case tcpdiagGetSock:
				if s, ok := parseDiag(m.data); ok && len(out) < maxSockets {
					out = append(out, s)
				}
			}
		}
	}
}

// parseDiag decodes a struct inet_diag_msg.
func parseDiag(b []byte) (socket, bool) {
	if len(b) < sizeofInetDiagMsg {
		return socket{}, false
	}
	ne := binary.NativeEndian
	s := socket{state: b[1], uid: ne.Uint32(b[64:]), inode: uint64(ne.Uint32(b[68:]))}
	sport, dport := binary.BigEndian.Uint16(b[4:]), binary.BigEndian.Uint16(b[6:])
	switch b[0] {
	case unix.AF_INET:
		s.local = netip.AddrPortFrom(netip.AddrFrom4([4]byte(b[8:12])), sport)
		s.remote = netip.AddrPortFrom(netip.AddrFrom4([4]byte(b[24:28])), dport)
	case unix.AF_INET6:
		// IPv4-mapped endpoints of dual-stack sockets are unmapped, as the
		// eBPF method reports them.
		s.local = netip.AddrPortFrom(netip.AddrFrom16([16]byte(b[8:24])).Unmap(), sport)
		s.remote = netip.AddrPortFrom(netip.AddrFrom16([16]byte(b[24:40])).Unmap(), dport)
	default:
		return socket{}, false
	}
	return s, true
}

// poll returns the connections established since the previous poll
// (including those already closing: see wasEstablished).
func (p *poller) poll() ([]observe.ConnectionEvent, error) {
	now := time.Now()
	est, listening, err := p.dump()
	if err != nil {
		return nil, err // a failed dump forgets nothing: no false "new" next time
	}
	p.gen++
	var fresh []socket
	for _, s := range est {
		c, known := p.conns[s.endpoints()]
		if !known || (s.inode != 0 && s.inode != c.inode) {
			fresh = append(fresh, s)
			c = &conn{inode: s.inode}
			p.conns[s.endpoints()] = c
		}
		c.gen, c.seen = p.gen, now
	}
	for k, c := range p.conns {
		if p.gen-c.gen >= absentPolls && now.Sub(c.seen) >= absentFor {
			// Gone, and its destroy message (if any) read long ago.
			delete(p.conns, k)
		}
	}
	p.updateListeners(listening)
	if len(fresh) == 0 {
		return nil, nil
	}
	want := make([]uint64, 0, len(fresh))
	for _, s := range fresh {
		want = append(want, s.inode)
	}
	owners := observe.SocketOwners(p.root, want)
	conns := make([]observe.ConnectionEvent, 0, len(fresh))
	for _, s := range fresh {
		ev := observe.ConnectionEvent{Time: now, Local: s.local, Remote: s.remote, UID: s.uid, Direction: observe.Outbound}
		l, inbound := p.listeners[s.local.Port()]
		if inbound {
			ev.Direction = observe.Inbound
		}
		if o, ok := owners[s.inode]; ok {
			ev.PID, ev.Comm = o.PID, o.Comm
		} else if inbound {
			// Not accepted yet, or its acceptor is gone: the listener's
			// owner.
			ev.PID, ev.Comm = l.owner.PID, l.owner.Comm
		}
		conns = append(conns, ev)
	}
	return conns, nil
}

// listener is a listening socket and its owner (zero if not found).
type listener struct {
	inode uint64
	owner observe.SocketOwner
}

// updateListeners keeps the listening ports and looks up the owners of
// listening sockets not seen before, once each.
func (p *poller) updateListeners(listening map[uint16]uint64) {
	var want []uint64
	for port, ino := range listening {
		if l, ok := p.listeners[port]; !ok || l.inode != ino {
			want = append(want, ino)
		}
	}
	var owners map[uint64]observe.SocketOwner
	if len(want) > 0 {
		owners = observe.SocketOwners(p.root, want)
	}
	next := make(map[uint16]listener, len(listening))
	for port, ino := range listening {
		if l, ok := p.listeners[port]; ok && l.inode == ino {
			next[port] = l
		} else {
			next[port] = listener{inode: ino, owner: owners[ino]}
		}
	}
	p.listeners = next
}

// execed describes a process that has just exec'd, read from /proc at once.
func execed(procRoot string, pid int) observe.ProcessStart {
	return observe.DescribeProcess(procRoot, time.Now(), pid, observe.ExeIn(procRoot, pid))
}
