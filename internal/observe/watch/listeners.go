package watch

import (
	"cmp"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"time"

	"github.com/kensa-dev/kensa/internal/collect/netstate"
	"github.com/kensa-dev/kensa/internal/observe"
	"github.com/kensa-dev/kensa/internal/observe/procpoll"
)

// maxListeners bounds the listening sockets remembered over a window.
const maxListeners = 100_000

// listenerKey identifies one listening socket: a socket closed and opened
// again on the same address is another one (another inode), so "listening
// for the whole window" means the same socket throughout.
type listenerKey struct {
	proto observe.Proto
	local netip.AddrPort
	inode uint64
}

// listenerSet accumulates the listening sockets of successive snapshots.
type listenerSet struct {
	procRoot string
	seen     map[listenerKey]*observe.Listener
	// first and last are the keys of the first and the latest snapshot.
	first, last map[listenerKey]bool
	dropped     int
	// established is, per listener, the most established connections on
	// its address and port one snapshot listed.
	established map[listenerKey]int
}

func newListenerSet(procRoot string) *listenerSet {
	return &listenerSet{procRoot: procRoot, seen: map[listenerKey]*observe.Listener{}, established: map[listenerKey]int{}}
}

// snapshot lists the listening TCP and bound UDP sockets of the observer's
// network namespace, looking up the owner of each socket not seen before.
func (s *listenerSet) snapshot(now time.Time) error {
	current := map[listenerKey]bool{}
	var fresh []uint64
	est := map[netip.AddrPort]int{} // established TCP connections by local end
	var errs error
	read := 0
	for _, t := range []struct {
		name  string
		proto observe.Proto
	}{{"net/tcp", observe.TCP}, {"net/tcp6", observe.TCP}, {"net/udp", observe.UDP}, {"net/udp6", observe.UDP}} {
		entries, err := procpoll.ReadTable(s.procRoot, t.name)
		if err != nil {
			if !errors.Is(err, os.ErrNotExist) { // a kernel without IPv6
				errs = errors.Join(errs, err)
			}
			continue
		}
		read++
		for _, e := range entries {
			if t.proto == observe.TCP && e.State == netstate.StateEstablished {
				est[netip.AddrPortFrom(e.Local.Addr().Unmap(), e.Local.Port())]++
				continue
			}
			if !e.Listening(t.proto == observe.TCP) {
				continue
			}
			local := netip.AddrPortFrom(e.Local.Addr().Unmap(), e.Local.Port())
			k := listenerKey{t.proto, local, e.Inode}
			current[k] = true
			l := s.seen[k]
			if l == nil {
				if len(s.seen) >= maxListeners {
					s.dropped++
					continue
				}
				l = &observe.Listener{Proto: t.proto, Local: local, UID: uint32(e.UID), FirstSeen: now}
				s.seen[k] = l
				fresh = append(fresh, e.Inode)
			}
			l.LastSeen = now
		}
	}
	if read == 0 {
		return errors.Join(errors.New("no socket table could be read"), errs)
	}
	if len(fresh) > 0 {
		owners := observe.SocketOwners(s.procRoot, fresh)
		for k, l := range s.seen {
			if o, ok := owners[k.inode]; ok && l.PID == 0 {
				l.PID, l.Comm = o.PID, o.Comm
				l.Exe = observe.ExeIn(s.procRoot, o.PID)
			}
		}
	}
	for k := range current {
		if k.proto != observe.TCP {
			continue
		}
		n := 0
		for local, c := range est {
			if accepts(k.local, local) {
				n += c
			}
		}
		s.established[k] = max(s.established[k], n)
	}
	if s.first == nil {
		s.first = current
	}
	s.last = current
	return errs
}

// result returns every listener seen, with whether it was there for the
// whole window, the inbound connections it received and the most
// connections established on it at a snapshot. Connections in other
// network namespaces (eBPF sees them) are not this namespace's listeners'.
func (s *listenerSet) result(conns []observe.Connection) []observe.Listener {
	byPort := map[uint16][]observe.Connection{}
	for _, c := range conns {
		if c.Direction == observe.Inbound && c.Netns == 0 {
			byPort[c.Local.Port()] = append(byPort[c.Local.Port()], c)
		}
	}
	out := make([]observe.Listener, 0, len(s.seen))
	for k, l := range s.seen {
		v := *l
		v.WholeWindow = s.first[k] && s.last[k]
		if v.Proto == observe.TCP {
			for _, c := range byPort[v.Local.Port()] {
				if accepts(v.Local, c.Local) {
					v.Inbound += c.Count
				}
			}
			v.Established = s.established[k]
		}
		out = append(out, v)
	}
	slices.SortFunc(out, func(a, b observe.Listener) int {
		return cmp.Or(cmp.Compare(a.Proto, b.Proto), cmp.Compare(a.Local.Port(), b.Local.Port()),
			a.Local.Addr().Compare(b.Local.Addr()), cmp.Compare(a.PID, b.PID))
	})
	return out
}

// accepts reports whether a socket listening on l receives a connection to
// local: same port, and the same address or a wildcard (0.0.0.0 takes
// IPv4, :: takes both families unless the socket is IPv6-only, which the
// tables do not say: a dual-stack wildcard is the default).
func accepts(l, local netip.AddrPort) bool {
	if l.Port() != local.Port() {
		return false
	}
	a := l.Addr()
	switch {
	case a == local.Addr():
		return true
	case a == netip.IPv4Unspecified():
		return local.Addr().Is4()
	case a == netip.IPv6Unspecified():
		return true
	}
	return false
}

// note says what the listener lists could not hold.
func (s *listenerSet) note() string {
	if s.dropped == 0 {
		return ""
	}
	return fmt.Sprintf("more than %d listening sockets: %d were not recorded", maxListeners, s.dropped)
}
