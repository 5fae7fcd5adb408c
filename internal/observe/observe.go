// Package observe records what a live host does over a window of time:
// TCP connections made and accepted, and processes started.
//
// Rules never touch the host (see ARCHITECTURE.md), so an observer only
// produces plain, serialisable facts: a method (eBPF, and later netlink and
// /proc polling) feeds events into a Recorder, which aggregates them into
// Observations. Each method states its blind spots, because a runtime finding
// such as "this port received no connection" is only as good as what the
// method could see.
package observe

import (
	"net/netip"
	"time"
)

// Method names how the events were collected. It is reported with the
// results so a reader knows which blind spots apply.
type Method string

// MethodEBPF is the eBPF observer (package observe/ebpf): tp_btf programs
// on the inet_sock_set_state and sched_process_exec tracepoints.
const MethodEBPF Method = "ebpf"

// MethodProc is the polling method (package observe/procpoll): the socket
// tables and the process list of /proc, read at an interval.
const MethodProc Method = "proc"

// MethodNetlink is the netlink method (package observe/netlink): exec
// events from the proc connector, TCP sockets from sock_diag dumps at an
// interval and its messages for freed sockets.
const MethodNetlink Method = "netlink"

// Direction of a TCP connection as seen from this host.
type Direction string

const (
	// Outbound: a process on this host called connect().
	Outbound Direction = "outbound"
	// Inbound: a listening socket on this host completed a handshake.
	Inbound Direction = "inbound"
)

// ConnectionEvent is one TCP handshake that ended during the window, as an
// observer method reports it. Recorder aggregates them into Connections.
type ConnectionEvent struct {
	Time time.Time
	// PID is the process (thread group) id. For outbound connections it is
	// the process that called connect(). For inbound ones the kernel
	// completes the handshake outside any process, so it is the owner of
	// the listening socket (0 when it could not be found).
	PID  int
	UID  uint32
	Comm string // the kernel's task name, at most 15 bytes
	// Local and Remote are the connection's endpoints; IPv4-mapped IPv6
	// addresses are unmapped to IPv4.
	Local, Remote netip.AddrPort
	Direction     Direction
	// Failed is true for an outbound connect() whose handshake ended
	// without being established (refused, unreachable, timed out).
	Failed bool
	// Netns is the inode of the connection's network namespace when the
	// method sees other namespaces than its own (eBPF) and it is another
	// one; 0 for the observer's own.
	Netns uint32
}

// ProcessStart is one successful execve seen during the window.
type ProcessStart struct {
	Time time.Time
	PID  int
	PPID int // parent's process id at exec time
	UID  uint32
	Comm string // task name after the exec
	// Filename is the path given to execve (relative paths as given; for
	// scripts, the script).
	Filename string
}

// Connection aggregates ConnectionEvents with the same process, endpoints
// and direction. The local port of outbound connections is ephemeral, so
// outbound connections aggregate with Local's port set to 0.
type Connection struct {
	PID       int            `json:"pid"`
	Comm      string         `json:"comm"`
	Exe       string         `json:"exe,omitempty"` // resolved from /proc or the process's exec event; empty if it exited first
	UID       uint32         `json:"uid"`
	Local     netip.AddrPort `json:"local"`
	Remote    netip.AddrPort `json:"remote"`
	Direction Direction      `json:"direction"`
	// Netns: the network namespace's inode when not the observer's own
	// (a container's connection, seen by eBPF); its addresses are that
	// namespace's.
	Netns  uint32    `json:"netns,omitempty"`
	Count  int       `json:"count"`            // established connections
	Failed int       `json:"failed,omitempty"` // outbound attempts never established
	First  time.Time `json:"first"`
	Last   time.Time `json:"last"`
}

// Sink receives events from an observer method. Calls come from a single
// goroutine; a slow Sink makes the method lose events (counted as drops), so
// it must not block.
type Sink interface {
	Connection(ConnectionEvent)
	ProcessStart(ProcessStart)
}

// Stats counts what a method delivered and lost, so a report can say how
// complete the window is.
type Stats struct {
	Events uint64 `json:"events"` // delivered to the Sink
	// Lost counts events the kernel produced but could not queue because
	// the ring buffer was full (user space fell behind).
	Lost uint64 `json:"lost"`
	// Skipped counts runs of the eBPF programs the kernel skipped because
	// one was already running on that CPU (a tracepoint hit from an
	// interrupt during a run). Most are TCP state changes the observer
	// ignores anyway, but which ones cannot be known: a connection may be
	// among them.
	Skipped uint64 `json:"skipped,omitempty"`
	// Unattributed counts outbound handshakes that ended without their
	// connect() having been seen (started before the window): they are
	// still delivered, with PID 0.
	Unattributed uint64 `json:"unattributed"`
}

// BlindSpots lists what a method cannot see. Reports print it next to the
// results so an absence of findings is read correctly.
func BlindSpots(m Method) []string {
	switch m {
	case MethodEBPF:
		return []string{
			"UDP and other non-TCP traffic is not observed",
			"bytes transferred are not counted",
			"connections established before the window are not seen; processes started before the window are seen through /proc only",
			"inbound connections are attributed to the owner of the listening socket, not to the process that accept()s them",
			"outbound local ports are ephemeral and aggregated as port 0",
			"process names (comm) are truncated to 15 bytes; executables of processes that exited before being resolved are unknown",
			"events lost when the ring buffer is full are counted, not recovered; so are program runs the kernel skips (a tracepoint hit while a program already runs on that CPU)",
		}
	case MethodNetlink:
		return []string{
			"UDP and other non-TCP traffic is not observed",
			"bytes transferred are not counted",
			"connections established before the window are not seen; only the observer's network namespace is listed",
			"the direction is inferred: a connection whose local port was listening at the last socket poll (every 100 ms or more), or when the listeners were listed again because neither end of a freed connection was known to listen, is inbound",
			"an outbound connection that opens and closes between two socket polls is seen when its socket is freed, without its process (pid 0); inbound ones are attributed to the owner of the listening socket",
			"a socket's owner is looked up in /proc after the fact and may be gone",
			"an exec event carries only a pid: the executable (not the path given to execve), name, uid and parent are read from /proc at once and are unknown if the process exits first",
			"events lost when a netlink receive buffer overflows are counted as overruns, not recovered",
		}
	case MethodProc:
		return []string{
			"connections that open and close between two polls (1 s by default) are not seen at all",
			"UDP and other non-TCP traffic is not observed",
			"bytes transferred are not counted; a connection is counted once however long it lasts",
			"connections established before the window are not seen",
			"the direction is inferred: a connection whose local port is listening is inbound",
			"a process that starts and exits between two polls is not seen; an exec is seen as a changed executable; a socket's owner is looked up after the fact and may be gone",
		}
	}
	return nil
}
