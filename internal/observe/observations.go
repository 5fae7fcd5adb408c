package observe

import (
	"net/netip"
	"time"

	"github.com/kensa-dev/kensa/internal/elfsec"
)

// Observations is everything one window recorded on a live host, as plain
// data: the runtime rules package judges it without touching the host, and
// it is serialised whole into the JSON report so a reader (or a server) can
// check every finding against what was seen.
type Observations struct {
	// Method is the observer that ran; Fallbacks the better ones tried
	// first, with why each could not run.
	Method     Method     `json:"method"`
	Fallbacks  []Fallback `json:"fallbacks,omitempty"`
	BlindSpots []string   `json:"blind_spots"`
	Window     Window     `json:"window"`
	Stats      Stats      `json:"stats"`

	Connections []Connection `json:"connections"`
	Listeners   []Listener   `json:"listeners"`
	Processes   []Process    `json:"processes"`
	// Binaries are the executables and executable mappings of the
	// processes, each analysed once.
	Binaries []Binary `json:"binaries"`

	// Notes say what the window could not cover, beyond the method's blind
	// spots (limits reached); each makes the runtime coverage partial.
	// Kensa's own connections and commands are left out by design, without
	// a note.
	Notes []string `json:"notes,omitempty"`
}

// Fallback is an observer method that could not run, and why.
type Fallback struct {
	Method Method `json:"method"`
	Reason string `json:"reason"`
}

// Window is the span of time observed.
type Window struct {
	// Requested is the duration asked for (kensa scan --duration).
	Requested time.Duration `json:"requested_ns"`
	Start     time.Time     `json:"start"`
	End       time.Time     `json:"end"`
	// StoppedEarly: the window was ended before Requested (Ctrl-C, "stop
	// and evaluate"); what was collected until then is still judged.
	StoppedEarly bool `json:"stopped_early,omitempty"`
}

// Proto is a transport protocol of a listening socket.
type Proto string

const (
	TCP Proto = "tcp"
	UDP Proto = "udp"
)

// Listener is a socket listening for connections (TCP) or bound to receive
// datagrams (UDP, not connected) at some point of the window.
type Listener struct {
	Proto Proto          `json:"proto"`
	Local netip.AddrPort `json:"local"` // IPv4-mapped addresses unmapped; 0.0.0.0 / :: for any address
	// Owner: the process holding the socket, 0 / "" when none could be
	// found (it exited, or belongs to the kernel).
	PID  int    `json:"pid,omitempty"`
	Comm string `json:"comm,omitempty"`
	Exe  string `json:"exe,omitempty"`
	UID  uint32 `json:"uid"`
	// FirstSeen and LastSeen are the first and last snapshot that listed
	// it; WholeWindow is true when it was listening at the window's start
	// and still at its end.
	FirstSeen   time.Time `json:"first_seen"`
	LastSeen    time.Time `json:"last_seen"`
	WholeWindow bool      `json:"whole_window"`
	// Inbound counts the TCP connections it received during the window
	// (as the method saw them, see BlindSpots). UDP traffic is not
	// observed, so it stays 0 for UDP.
	Inbound int `json:"inbound"`
	// Established is the largest number of established TCP connections
	// on its address and port that one snapshot listed: connections
	// accepted before the window (a database's connection pool) show a
	// port in use that Inbound, which counts only new ones, misses.
	Established int `json:"established,omitempty"`
}

// Process is a process alive at some point of the window.
type Process struct {
	PID  int    `json:"pid"`
	PPID int    `json:"ppid"`
	UID  uint32 `json:"uid"` // effective uid
	Comm string `json:"comm"`
	// Exe is the executable's path; empty when it could not be read.
	Exe     string   `json:"exe,omitempty"`
	Cmdline []string `json:"cmdline,omitempty"`
	// StartedInWindow: the process was exec'd during the window (else it
	// was already running at its start). Running: still alive at its end.
	StartedInWindow bool `json:"started_in_window,omitempty"`
	Running         bool `json:"running"`
	// Objects are the files it has mapped executable (/proc/PID/maps):
	// the executable, the dynamic loader and its shared objects. Empty
	// for a process that exited before its maps could be read.
	Objects []string `json:"objects,omitempty"`
	// OtherMountNS: the process runs in another mount namespace (a
	// container); its paths name files there, which are not analysed.
	OtherMountNS bool `json:"other_mount_ns,omitempty"`
	// Unreadable: its executable, maps and command line could not be read
	// (another user's process, without root privileges); only its uid,
	// parent and name are known.
	Unreadable bool `json:"unreadable,omitempty"`
}

// Origin says where a binary comes from.
type Origin string

const (
	// FromPackage: an OS package's file list holds it.
	FromPackage Origin = "package"
	// ThirdParty: no OS package owns it (software installed from source,
	// a vendor tarball, a build left behind).
	ThirdParty Origin = "third-party"
	// OriginUnknown: no package database could be read, so ownership is
	// not known.
	OriginUnknown Origin = "unknown"
)

// Binary is one executable or shared object that a process ran or mapped.
type Binary struct {
	Path    string `json:"path"`
	Origin  Origin `json:"origin"`
	Package string `json:"package,omitempty"` // the owning OS package when Origin is FromPackage
	// ELF is the hardening analysis. It is nil for a script (Interpreter
	// is then its #! line's program, analysed as the process's executable)
	// and when the file could not be analysed (Error says why).
	ELF         *elfsec.Result `json:"elf,omitempty"`
	Interpreter string         `json:"interpreter,omitempty"`
	Error       string         `json:"error,omitempty"`
	// OffDisk: the code is not the file at Path (deleted or replaced since
	// it was loaded, as after an upgrade, or a memfd: run from memory). A
	// running executable is then analysed through /proc/PID/exe; a shared
	// object is not analysed. It has no Chain.
	OffDisk bool `json:"off_disk,omitempty"`
	// Chain is every directory from "/" down to the file, then the file
	// itself (links resolved): who could replace the code.
	Chain []PathElem `json:"chain,omitempty"`
}

// PathElem is a directory or file with its owner and mode.
type PathElem struct {
	Path string `json:"path"`
	// Mode holds the permission bits with setuid, setgid and sticky
	// (07777), as chmod takes them.
	Mode uint32 `json:"mode"`
	UID  uint32 `json:"uid"`
	GID  uint32 `json:"gid"`
	Dir  bool   `json:"dir,omitempty"`
}
