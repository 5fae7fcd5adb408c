package behavior

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/kensa-dev/kensa/internal/finding"
	"github.com/kensa-dev/kensa/internal/observe"
)

// groups collects values by key and returns the keys sorted, so output
// does not depend on the order the observer listed things in.
type groups[T any] map[string][]T

func (g groups[T]) add(k string, v T) { g[k] = append(g[k], v) }

func (g groups[T]) keys() []string {
	ks := make([]string, 0, len(g))
	for k := range g {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// clients judges the established outbound connections to the ports of
// table (insecure-client-login, insecure-client-general). The subject is
// the program, the protocol and the peer: the pid changes with every run
// and is evidence only. extra is said in every result.
func (e *evaluation) clients(id string, table []service, what, extra string) {
	var established, failed int
	// A peer is an address in a network namespace: 10.0.0.5 in a
	// container's namespace is not the host's 10.0.0.5.
	type peer struct {
		netns uint32
		addr  netip.Addr
	}
	peers := map[peer]bool{}
	hits := groups[observe.Connection]{}
	svc := map[string]service{}
	for _, c := range e.obs.Connections {
		if c.Direction != observe.Outbound {
			continue
		}
		failed += c.Failed
		if c.Count <= 0 {
			continue
		}
		established += c.Count
		peers[peer{c.Netns, c.Remote.Addr()}] = true
		s, ok := lookup(table, observe.TCP, c.Remote.Port())
		if !ok {
			continue
		}
		// Connections in a container's network namespace (eBPF sees
		// them) are this host's traffic too. The namespace is not part
		// of the subject: its inode changes when the container restarts.
		k := program(c.Exe, c.Comm) + " " + s.Name + " " + c.Remote.String()
		hits.add(k, c)
		svc[k] = s
	}

	for _, k := range hits.keys() {
		cs, s := hits[k], svc[k]
		slices.SortFunc(cs, func(a, b observe.Connection) int {
			return cmp.Or(a.First.Compare(b.First), cmp.Compare(a.PID, b.PID))
		})
		c0 := cs[0]
		prog, remote := program(c0.Exe, c0.Comm), c0.Remote.String()
		f := e.finding(id, k, fmt.Sprintf("Cleartext %s client: %s connected to %s", s.Name, prog, remote),
			map[string]string{"protocol": s.Name, "remote": remote, "exe": c0.Exe, "comm": c0.Comm})
		for i, c := range cs {
			if i == maxListed {
				rest := 0
				for _, c := range cs[i:] {
					rest += c.Count
				}
				f.Evidence = append(f.Evidence, fmt.Sprintf("and %s from %s more", plural(rest, "connection", "connections"), plural(len(cs)-i, "process", "processes")))
				break
			}
			f.Evidence = append(f.Evidence, fmt.Sprintf("%s connected to %s (%s)%s %s",
				process(c.PID, c.Exe, c.Comm, c.UID), remote, s.Name, netnsText(c.Netns), times(c)))
		}
		if c0.Remote.Addr().IsLoopback() {
			f.Evidence = append(f.Evidence, "over loopback: the traffic did not leave the host (the program would do the same to a remote host)")
		}
		if s.Upgrade != "" {
			f.Evidence = append(f.Evidence, s.Name+" can switch to TLS inside the connection ("+s.Upgrade+"); connection metadata cannot show whether it did")
		}
	}

	var reason string
	switch {
	case established == 0:
		reason = fmt.Sprintf("no established outbound connection was observed, so none to a %s (%s)", what, serviceList(table))
	case len(hits) == 0:
		reason = fmt.Sprintf("%s to %s, none to a %s (%s)", plural(established, "established outbound connection", "established outbound connections"),
			plural(len(peers), "peer", "peers"), what, serviceList(table))
	default:
		var names []string
		for _, k := range hits.keys() {
			if name := svc[k].Name; !slices.Contains(names, name) {
				names = append(names, name)
			}
		}
		reason = fmt.Sprintf("%s to %s; %d went to a %s (%s): %s", plural(established, "established outbound connection", "established outbound connections"),
			plural(len(peers), "peer", "peers"), hitCount(hits), what, strings.Join(names, ", "), plural(len(hits), "finding", "findings"))
	}
	if failed > 0 {
		reason += fmt.Sprintf("; %s never established not judged", plural(failed, "attempt", "attempts"))
	}
	if e.obs.Method == observe.MethodProc {
		// The method's blind spot decides what a pass is worth here: the
		// commands of these protocols are often short (a telnet probe,
		// an ftp get, a curl of a small page).
		if len(hits) == 0 {
			reason += "; not proof that none was made: " + procMissesShort
		} else {
			reason += "; " + procMissesShort
		}
	}
	if extra != "" {
		reason += "; " + extra
	}
	e.result(id, status(len(hits) > 0), reason)
}

// procMissesShort is said in the client rules' results with the proc
// method, whose poll interval is procpoll.DefaultInterval.
const procMissesShort = "the /proc polling method sees only connections alive across a 1-second poll, so short cleartext connections may have been missed"

// netnsText places a connection of another network namespace, whose
// addresses are that namespace's; "" for the observer's own.
func netnsText(netns uint32) string {
	if netns == 0 {
		return ""
	}
	return fmt.Sprintf(" in network namespace %d", netns)
}

// hitCount sums the established connections of the groups.
func hitCount(g groups[observe.Connection]) int {
	n := 0
	for _, cs := range g {
		for _, c := range cs {
			n += c.Count
		}
	}
	return n
}

// times says how often and when a connection record was seen.
func times(c observe.Connection) string {
	if c.Count == 1 {
		return "once, at " + stamp(c.First)
	}
	return fmt.Sprintf("%d times, first at %s, last at %s", c.Count, stamp(c.First), stamp(c.Last))
}

func status(fail bool) string {
	if fail {
		return finding.StatusFail
	}
	return finding.StatusPass
}

// listenerKey is the subject of a listener finding: transport, local
// address and program. Sockets sharing it (SO_REUSEPORT workers, a
// restart with a new pid) are one subject.
func listenerKey(l observe.Listener) string {
	return string(l.Proto) + " " + l.Local.String() + " " + program(l.Exe, l.Comm)
}

func listenerAttrs(l observe.Listener) map[string]string {
	return map[string]string{"proto": string(l.Proto), "local": l.Local.String(), "exe": l.Exe, "comm": l.Comm}
}

// owner names a listener's process in evidence.
func owner(l observe.Listener) string {
	if l.PID == 0 && l.Exe == "" {
		return "a socket of no known process (it exited, the kernel holds it, or its file descriptors could not be read)"
	}
	return process(l.PID, l.Exe, l.Comm, l.UID)
}

// unusedListeners judges the TCP ports listening for the whole window
// (unused-listening-port). Sockets with the same subject are judged
// together: a port is unused only if none of them received a connection
// and no snapshot listed a connection established on it (a pool opened
// before the window shows the port in use without any new connection).
func (e *evaluation) unusedListeners() {
	tcp := groups[observe.Listener]{}
	udp := 0
	for _, l := range e.obs.Listeners {
		if l.Proto != observe.TCP {
			udp++
			continue
		}
		tcp.add(listenerKey(l), l)
	}
	w := e.obs.Window
	if d := w.End.Sub(w.Start); d < minUnusedWindow {
		// Any port looks unused in a window this short; Ctrl-C can end
		// one after a few seconds.
		e.result(RuleUnusedListeningPort, finding.StatusError, fmt.Sprintf("the window lasted %s, under %s: too short to call a listening port unused",
			d.Truncate(100*time.Millisecond), minUnusedWindow))
		return
	}
	span := fmt.Sprintf("%s, %s to %s", w.End.Sub(w.Start).Round(time.Second), stamp(w.Start), stamp(w.End))
	var judged, partial, unused, open int
	for _, k := range tcp.keys() {
		ls := tcp[k]
		var whole []observe.Listener
		inbound, established := 0, 0
		for _, l := range ls {
			inbound += l.Inbound
			established += l.Established
			if l.WholeWindow {
				whole = append(whole, l)
			}
		}
		if len(whole) == 0 {
			partial++
			continue
		}
		judged++
		if established > 0 {
			open++
		}
		if inbound > 0 || established > 0 {
			continue
		}
		unused++
		l0 := whole[0]
		f := e.finding(RuleUnusedListeningPort, k, fmt.Sprintf("Unused listening port: tcp %s (%s)", l0.Local, program(l0.Exe, l0.Comm)), listenerAttrs(l0))
		for i, l := range whole {
			if i == maxListed {
				f.Evidence = append(f.Evidence, fmt.Sprintf("and %s more", plural(len(whole)-i, "socket", "sockets")))
				break
			}
			f.Evidence = append(f.Evidence, fmt.Sprintf("%s listened on tcp %s for the whole window (%s) and received no connection", owner(l), l.Local, span))
		}
		if e.obs.Method == observe.MethodProc {
			f.Evidence = append(f.Evidence, "the proc method polls the socket tables: a connection opened and closed between two polls is missed, so the port may have received some")
		}
	}

	counts := fmt.Sprintf("%s present for part of the window not judged; %s not judged (datagrams are not observed)",
		plural(partial, "TCP port", "TCP ports"), plural(udp, "UDP socket", "UDP sockets"))
	if judged == 0 {
		e.result(RuleUnusedListeningPort, finding.StatusNotApplicable, "no TCP port listened for the whole window; "+counts)
		return
	}
	reason := fmt.Sprintf("%s listened for the whole window, %d received no connection", plural(judged, "TCP port", "TCP ports"), unused)
	if open > 0 {
		reason += fmt.Sprintf("; %d had connections established before or during the window", open)
	}
	e.result(RuleUnusedListeningPort, status(unused > 0), reason+"; "+counts)
}

// minUnusedWindow is the shortest window in which unused-listening-port
// judges anything: kensa scan's minimum --duration.
const minUnusedWindow = 10 * time.Second

// serverProtocols reports every listener, TCP or UDP, for part of the
// window or all of it, on the port of a cleartext protocol
// (insecure-server-protocol).
func (e *evaluation) serverProtocols() {
	hits := groups[observe.Listener]{}
	svc := map[string]service{}
	var tcp, udp int
	for _, l := range e.obs.Listeners {
		if l.Proto == observe.TCP {
			tcp++
		} else {
			udp++
		}
		s, ok := lookup(serverServices, l.Proto, l.Local.Port())
		if !ok {
			continue
		}
		k := listenerKey(l)
		hits.add(k, l)
		svc[k] = s
	}
	var names []string
	for _, k := range hits.keys() {
		ls, s := hits[k], svc[k]
		slices.SortFunc(ls, func(a, b observe.Listener) int {
			return cmp.Or(a.FirstSeen.Compare(b.FirstSeen), cmp.Compare(a.PID, b.PID))
		})
		l0 := ls[0]
		attrs := listenerAttrs(l0)
		attrs["protocol"] = s.Name
		f := e.finding(RuleInsecureServer, k, fmt.Sprintf("Cleartext %s server listening on %s %s (%s)", s.Name, l0.Proto, l0.Local, program(l0.Exe, l0.Comm)), attrs)
		for i, l := range ls {
			if i == maxListed {
				f.Evidence = append(f.Evidence, fmt.Sprintf("and %s more", plural(len(ls)-i, "socket", "sockets")))
				break
			}
			when := fmt.Sprintf("from %s to %s", stamp(l.FirstSeen), stamp(l.LastSeen))
			if l.WholeWindow {
				when = "for the whole window"
			}
			f.Evidence = append(f.Evidence, fmt.Sprintf("%s listened on %s %s (%s) %s", owner(l), l.Proto, l.Local, s.Name, when))
		}
		switch {
		case l0.Local.Addr().IsLoopback():
			f.Evidence = append(f.Evidence, "bound to a loopback address: only this host can connect")
		case l0.Local.Addr().IsUnspecified():
			f.Evidence = append(f.Evidence, "bound to every address of the host")
		}
		switch {
		case s.Upgrade != "":
			f.Evidence = append(f.Evidence, s.Name+" can switch to TLS inside the connection ("+s.Upgrade+"); a listening socket does not show whether the server offers or requires it")
		case strings.HasPrefix(s.Name, "snmp"):
			f.Evidence = append(f.Evidence, "a listening socket does not show which SNMP versions are accepted: only v3 with privacy is encrypted")
		}
		if !slices.Contains(names, s.Name) {
			names = append(names, s.Name)
		}
	}
	examined := fmt.Sprintf("%s (%d TCP, %d UDP)", plural(tcp+udp, "listening socket", "listening sockets"), tcp, udp)
	if len(hits) == 0 {
		e.result(RuleInsecureServer, finding.StatusPass, fmt.Sprintf("%s, none on a cleartext service port (%s)", examined, serviceList(serverServices)))
		return
	}
	e.result(RuleInsecureServer, finding.StatusFail, fmt.Sprintf("%s; %s on a cleartext service port (%s)", examined,
		plural(len(hits), "listener", "listeners"), strings.Join(names, ", ")))
}
