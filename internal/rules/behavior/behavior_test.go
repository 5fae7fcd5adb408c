package behavior

import (
	"fmt"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kensa-dev/kensa/internal/elfsec"
	"github.com/kensa-dev/kensa/internal/finding"
	"github.com/kensa-dev/kensa/internal/observe"
	"github.com/kensa-dev/kensa/internal/report"
)

var (
	t0 = time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	t1 = t0.Add(time.Minute)
)

// window returns observations of a one-minute window holding nothing.
func window() *observe.Observations {
	return &observe.Observations{
		Method: observe.MethodEBPF,
		Window: observe.Window{Requested: time.Minute, Start: t0, End: t1},
	}
}

func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

func outbound(pid int, exe string, uid uint32, remote string, count int) observe.Connection {
	return observe.Connection{PID: pid, Comm: filepath.Base(exe), Exe: exe, UID: uid, Local: ap("127.0.0.1:0"), Remote: ap(remote),
		Direction: observe.Outbound, Count: count, First: t0.Add(time.Second), Last: t0.Add(3 * time.Second)}
}

func listener(proto observe.Proto, local, exe string, whole bool, inbound int) observe.Listener {
	return observe.Listener{Proto: proto, Local: ap(local), PID: 900, Comm: filepath.Base(exe), Exe: exe, UID: 0,
		FirstSeen: t0, LastSeen: t1, WholeWindow: whole, Inbound: inbound}
}

func elfResult(nx, sp elfsec.Status, lang elfsec.Language) *elfsec.Result {
	return &elfsec.Result{
		Kind:           elfsec.Executable,
		Toolchain:      elfsec.Toolchain{Language: lang},
		NX:             elfsec.Check{Status: nx, Reason: "PT_GNU_STACK " + string(nx)},
		StackProtector: elfsec.Check{Status: sp, Reason: "__stack_chk_fail " + string(sp)},
	}
}

// rootChain is a root-owned, root-only path down to file.
func rootChain(file string) []observe.PathElem {
	var out []observe.PathElem
	parts := strings.Split(strings.Trim(file, "/"), "/")
	out = append(out, observe.PathElem{Path: "/", Mode: 0755, Dir: true})
	for i := range parts {
		p := "/" + strings.Join(parts[:i+1], "/")
		out = append(out, observe.PathElem{Path: p, Mode: 0755, Dir: i < len(parts)-1})
	}
	return out
}

// withElem returns chain with the element at path changed by f.
func withElem(chain []observe.PathElem, path string, f func(*observe.PathElem)) []observe.PathElem {
	chain = slices.Clone(chain)
	for i := range chain {
		if chain[i].Path == path {
			f(&chain[i])
		}
	}
	return chain
}

func binary(path string, origin observe.Origin, pkg string, r *elfsec.Result) observe.Binary {
	return observe.Binary{Path: path, Origin: origin, Package: pkg, ELF: r, Chain: rootChain(path)}
}

func proc(pid int, uid uint32, exe string, objects ...string) observe.Process {
	return observe.Process{PID: pid, PPID: 1, UID: uid, Comm: filepath.Base(exe), Exe: exe, Cmdline: []string{exe, "--serve"}, Running: true,
		Objects: append([]string{exe}, objects...)}
}

// unreadable is another user's process an unprivileged observer listed:
// uid, parent and name only.
func unreadable(pid int, uid uint32, comm string) observe.Process {
	return observe.Process{PID: pid, PPID: 1, UID: uid, Comm: comm, Running: true, Unreadable: true}
}

// hardened is a binary that passes every check, for processes that need
// an analysed executable.
func hardened(path string) observe.Binary {
	return binary(path, observe.FromPackage, "coreutils", elfResult(elfsec.Pass, elfsec.Pass, elfsec.LangUnknown))
}

func findingsOf(out Output, rule string) []finding.Finding {
	var fs []finding.Finding
	for _, f := range out.Findings {
		if f.RuleID == rule {
			fs = append(fs, f)
		}
	}
	return fs
}

func resultOf(t *testing.T, out Output, rule string) finding.Result {
	t.Helper()
	var rs []finding.Result
	for _, r := range out.Results {
		if r.RuleID == rule {
			rs = append(rs, r)
		}
	}
	if len(rs) != 1 {
		t.Fatalf("%d results for %s, want 1: %+v", len(rs), rule, out.Results)
	}
	return rs[0]
}

type ruleCase struct {
	name   string
	rule   string
	obs    func(*observe.Observations)
	status string
	// targets are the finding targets expected, in order (none for a
	// control case).
	targets []string
	// evidence, title, attrs and reason must appear in the (first)
	// finding's evidence lines, its title, its attributes, and the
	// rule's result reason.
	evidence []string
	title    string
	attrs    map[string]string
	reason   []string
	// notReason must not appear in the result reason.
	notReason []string
}

func runCases(t *testing.T, cases []ruleCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			obs := window()
			tc.obs(obs)
			out := Evaluate("host-1", obs)
			fs := findingsOf(out, tc.rule)
			var got []string
			for _, f := range fs {
				got = append(got, f.Attributes["target"])
			}
			if !slices.Equal(got, tc.targets) {
				t.Fatalf("targets = %q, want %q\nfindings: %+v", got, tc.targets, fs)
			}
			r := resultOf(t, out, tc.rule)
			if r.Status != tc.status {
				t.Errorf("status = %s, want %s (reason %q)", r.Status, tc.status, r.Reason)
			}
			for _, s := range tc.reason {
				if !strings.Contains(r.Reason, s) {
					t.Errorf("reason %q lacks %q", r.Reason, s)
				}
			}
			for _, s := range tc.notReason {
				if strings.Contains(r.Reason, s) {
					t.Errorf("reason %q has %q", r.Reason, s)
				}
			}
			if len(fs) == 0 {
				if len(tc.evidence)+len(tc.attrs) > 0 || tc.title != "" {
					t.Fatal("bad case: expectations on a finding, but none expected")
				}
				return
			}
			f := fs[0]
			ev := strings.Join(f.Evidence, "\n")
			for _, s := range tc.evidence {
				if !strings.Contains(ev, s) {
					t.Errorf("evidence lacks %q:\n%s", s, ev)
				}
			}
			if tc.title != "" && f.Title != tc.title {
				t.Errorf("title = %q, want %q", f.Title, tc.title)
			}
			for k, v := range tc.attrs {
				if f.Attributes[k] != v {
					t.Errorf("attribute %s = %q, want %q", k, f.Attributes[k], v)
				}
			}
			if f.Severity != rule(tc.rule).Severity || f.RulesPackage != finding.PackageRuntime {
				t.Errorf("severity %s package %s", f.Severity, f.RulesPackage)
			}
			if f.ID != finding.Fingerprint(finding.Subject{Host: "host-1", RulesPackage: finding.PackageRuntime, RuleID: tc.rule, Target: f.Attributes["target"]}) {
				t.Errorf("finding id %s is not the fingerprint of its subject", f.ID)
			}
		})
	}
}

func TestClientRules(t *testing.T) {
	runCases(t, []ruleCase{
		{
			name: "telnet over loopback", rule: RuleInsecureClientLogin, status: finding.StatusFail,
			obs: func(o *observe.Observations) {
				o.Connections = []observe.Connection{outbound(4711, "/usr/bin/telnet", 1000, "127.0.0.2:23", 3), outbound(4800, "/usr/bin/ssh", 1000, "127.0.0.2:22", 1)}
			},
			targets: []string{"/usr/bin/telnet telnet 127.0.0.2:23"},
			title:   "Cleartext telnet client: /usr/bin/telnet connected to 127.0.0.2:23",
			evidence: []string{
				"pid 4711 /usr/bin/telnet (uid 1000) connected to 127.0.0.2:23 (telnet) 3 times, first at 2025-03-01T10:00:01Z, last at 2025-03-01T10:00:03Z",
				"over loopback: the traffic did not leave the host",
			},
			attrs:  map[string]string{"protocol": "telnet", "remote": "127.0.0.2:23", "exe": "/usr/bin/telnet"},
			reason: []string{"4 established outbound connections to 1 peer", "3 went to a cleartext login port (telnet)"},
		},
		{
			name: "ssh control", rule: RuleInsecureClientLogin, status: finding.StatusPass,
			obs: func(o *observe.Observations) {
				o.Connections = []observe.Connection{outbound(4800, "/usr/bin/ssh", 1000, "192.0.2.7:22", 2)}
			},
			reason: []string{"2 established outbound connections to 1 peer, none to a cleartext login port (ftp 21, telnet 23, rexec 512, rlogin 513, rsh 514)"},
		},
		{
			name: "refused telnet is no login", rule: RuleInsecureClientLogin, status: finding.StatusPass,
			obs: func(o *observe.Observations) {
				c := outbound(4711, "/usr/bin/telnet", 1000, "192.0.2.7:23", 0)
				c.Failed = 2
				o.Connections = []observe.Connection{c}
			},
			reason: []string{"no established outbound connection", "2 attempts never established not judged"},
		},
		{
			name: "inbound to port 23 is not a client", rule: RuleInsecureClientLogin, status: finding.StatusPass,
			obs: func(o *observe.Observations) {
				c := outbound(900, "/usr/sbin/inetd", 0, "192.0.2.7:40000", 1)
				c.Direction, c.Local = observe.Inbound, ap("192.0.2.1:23")
				o.Connections = []observe.Connection{c}
			},
		},
		{
			name: "rsh to a remote host, exe unknown", rule: RuleInsecureClientLogin, status: finding.StatusFail,
			obs: func(o *observe.Observations) {
				c := outbound(5000, "", 0, "192.0.2.9:514", 1)
				c.Comm = "rsh"
				o.Connections = []observe.Connection{c}
			},
			targets:  []string{"rsh rsh 192.0.2.9:514"},
			evidence: []string{"pid 5000 rsh (executable unknown) (uid 0) connected to 192.0.2.9:514 (rsh) once, at 2025-03-01T10:00:01Z"},
			attrs:    map[string]string{"exe": "", "comm": "rsh", "protocol": "rsh"},
		},
		{
			name: "two runs of one program to one peer are one finding", rule: RuleInsecureClientLogin, status: finding.StatusFail,
			obs: func(o *observe.Observations) {
				o.Connections = []observe.Connection{outbound(4711, "/usr/bin/ftp", 1000, "192.0.2.7:21", 1), outbound(4712, "/usr/bin/ftp", 1001, "192.0.2.7:21", 1),
					outbound(4713, "/usr/bin/ftp", 1001, "192.0.2.8:21", 1)}
			},
			targets:  []string{"/usr/bin/ftp ftp 192.0.2.7:21", "/usr/bin/ftp ftp 192.0.2.8:21"},
			evidence: []string{"pid 4711 /usr/bin/ftp (uid 1000)", "pid 4712 /usr/bin/ftp (uid 1001)", "AUTH TLS"},
		},
		{
			name: "http client", rule: RuleInsecureClientGeneral, status: finding.StatusFail,
			obs: func(o *observe.Observations) {
				o.Connections = []observe.Connection{outbound(6000, "/usr/bin/curl", 1000, "192.0.2.80:80", 1), outbound(6001, "/usr/bin/curl", 1000, "192.0.2.80:443", 1)}
			},
			targets:  []string{"/usr/bin/curl http 192.0.2.80:80"},
			title:    "Cleartext http client: /usr/bin/curl connected to 192.0.2.80:80",
			evidence: []string{"pid 6000 /usr/bin/curl (uid 1000) connected to 192.0.2.80:80 (http) once"},
			attrs:    map[string]string{"protocol": "http", "remote": "192.0.2.80:80"},
			reason:   []string{"1 went to a cleartext client port (http)", "SNMP v1/v2c, TFTP and other UDP clients were not assessed"},
		},
		{
			name: "smtp says STARTTLS cannot be seen", rule: RuleInsecureClientGeneral, status: finding.StatusFail,
			obs: func(o *observe.Observations) {
				o.Connections = []observe.Connection{outbound(6100, "/usr/sbin/exim4", 101, "[2001:db8::25]:25", 2)}
			},
			targets:  []string{"/usr/sbin/exim4 smtp [2001:db8::25]:25"},
			evidence: []string{"smtp can switch to TLS inside the connection (STARTTLS); connection metadata cannot show whether it did"},
		},
		{
			name: "https and imaps control", rule: RuleInsecureClientGeneral, status: finding.StatusPass,
			obs: func(o *observe.Observations) {
				o.Connections = []observe.Connection{outbound(6001, "/usr/bin/curl", 1000, "192.0.2.80:443", 1), outbound(6002, "/usr/bin/mutt", 1000, "192.0.2.81:993", 1)}
			},
			reason: []string{"none to a cleartext client port", "SNMP v1/v2c, TFTP and other UDP clients were not assessed"},
		},
		{
			name: "a login port is not a general finding", rule: RuleInsecureClientGeneral, status: finding.StatusPass,
			obs: func(o *observe.Observations) {
				o.Connections = []observe.Connection{outbound(4711, "/usr/bin/telnet", 1000, "127.0.0.2:23", 1)}
			},
		},
	})
}

func TestListenerRules(t *testing.T) {
	runCases(t, []ruleCase{
		{
			name: "unused port", rule: RuleUnusedListeningPort, status: finding.StatusFail,
			obs: func(o *observe.Observations) {
				o.Listeners = []observe.Listener{listener(observe.TCP, "127.0.0.5:7000", "/opt/svc/bin/idle", true, 0), listener(observe.TCP, "0.0.0.0:22", "/usr/sbin/sshd", true, 1)}
			},
			targets:  []string{"tcp 127.0.0.5:7000 /opt/svc/bin/idle"},
			title:    "Unused listening port: tcp 127.0.0.5:7000 (/opt/svc/bin/idle)",
			evidence: []string{"pid 900 /opt/svc/bin/idle (uid 0) listened on tcp 127.0.0.5:7000 for the whole window (1m0s, 2025-03-01T10:00:00Z to 2025-03-01T10:01:00Z) and received no connection"},
			attrs:    map[string]string{"proto": "tcp", "local": "127.0.0.5:7000", "exe": "/opt/svc/bin/idle"},
			reason:   []string{"2 TCP ports listened for the whole window, 1 received no connection"},
		},
		{
			name: "a port with one connection is used", rule: RuleUnusedListeningPort, status: finding.StatusPass,
			obs: func(o *observe.Observations) {
				o.Listeners = []observe.Listener{listener(observe.TCP, "127.0.0.5:7000", "/opt/svc/bin/idle", true, 1)}
			},
		},
		{
			name: "reuseport sockets: one received a connection", rule: RuleUnusedListeningPort, status: finding.StatusPass,
			obs: func(o *observe.Observations) {
				a, b := listener(observe.TCP, "0.0.0.0:8443", "/usr/sbin/nginx", true, 0), listener(observe.TCP, "0.0.0.0:8443", "/usr/sbin/nginx", true, 4)
				b.PID = 901
				o.Listeners = []observe.Listener{a, b}
			},
			reason: []string{"1 TCP port listened for the whole window, 0 received no connection"},
		},
		{
			name: "part of the window and UDP are not judged", rule: RuleUnusedListeningPort, status: finding.StatusNotApplicable,
			obs: func(o *observe.Observations) {
				l := listener(observe.TCP, "127.0.0.5:7001", "/opt/svc/bin/late", false, 0)
				l.FirstSeen = t0.Add(30 * time.Second)
				o.Listeners = []observe.Listener{l, listener(observe.UDP, "0.0.0.0:5353", "/usr/sbin/avahi-daemon", true, 0)}
			},
			reason: []string{"1 TCP port present for part of the window not judged", "1 UDP socket not judged"},
		},
		{
			name: "proc method says polls miss short connections", rule: RuleUnusedListeningPort, status: finding.StatusFail,
			obs: func(o *observe.Observations) {
				o.Method = observe.MethodProc
				o.Listeners = []observe.Listener{listener(observe.TCP, "[::]:9000", "/opt/svc/bin/idle", true, 0)}
			},
			targets:  []string{"tcp [::]:9000 /opt/svc/bin/idle"},
			evidence: []string{"a connection opened and closed between two polls is missed, so the port may have received some"},
		},
		{
			name: "telnet server", rule: RuleInsecureServer, status: finding.StatusFail,
			obs: func(o *observe.Observations) {
				o.Listeners = []observe.Listener{listener(observe.TCP, "127.0.0.3:23", "/usr/sbin/inetd", true, 2), listener(observe.TCP, "0.0.0.0:22", "/usr/sbin/sshd", true, 0)}
			},
			targets:  []string{"tcp 127.0.0.3:23 /usr/sbin/inetd"},
			title:    "Cleartext telnet server listening on tcp 127.0.0.3:23 (/usr/sbin/inetd)",
			evidence: []string{"pid 900 /usr/sbin/inetd (uid 0) listened on tcp 127.0.0.3:23 (telnet) for the whole window", "bound to a loopback address"},
			attrs:    map[string]string{"protocol": "telnet", "proto": "tcp", "local": "127.0.0.3:23", "exe": "/usr/sbin/inetd"},
			reason:   []string{"2 listening sockets (2 TCP, 0 UDP); 1 listener on a cleartext service port (telnet)"},
		},
		{
			name: "ssh and syslog control", rule: RuleInsecureServer, status: finding.StatusPass,
			obs: func(o *observe.Observations) {
				o.Listeners = []observe.Listener{listener(observe.TCP, "0.0.0.0:22", "/usr/sbin/sshd", true, 0), listener(observe.UDP, "0.0.0.0:514", "/usr/sbin/rsyslogd", true, 0)}
			},
			reason: []string{"none on a cleartext service port"},
		},
		{
			name: "snmp agent over UDP, for part of the window", rule: RuleInsecureServer, status: finding.StatusFail,
			obs: func(o *observe.Observations) {
				l := listener(observe.UDP, "0.0.0.0:161", "/usr/sbin/snmpd", false, 0)
				l.FirstSeen = t0.Add(10 * time.Second)
				o.Listeners = []observe.Listener{l}
			},
			targets:  []string{"udp 0.0.0.0:161 /usr/sbin/snmpd"},
			evidence: []string{"(snmp) from 2025-03-01T10:00:10Z to 2025-03-01T10:01:00Z", "bound to every address", "which SNMP versions"},
			attrs:    map[string]string{"protocol": "snmp", "proto": "udp"},
		},
	})
}

func TestBinaryRules(t *testing.T) {
	const y = "/opt/x/bin/y"
	runCases(t, []ruleCase{
		{
			name: "third-party executable without NX", rule: RuleWithoutDEP, status: finding.StatusFail,
			obs: func(o *observe.Observations) {
				o.Processes = []observe.Process{proc(4000, 1000, y)}
				o.Binaries = []observe.Binary{binary(y, observe.ThirdParty, "", elfResult(elfsec.Fail, elfsec.Pass, elfsec.LangUnknown))}
			},
			targets: []string{y},
			title:   "Third-party software runs without DEP (NX): /opt/x/bin/y",
			evidence: []string{"/opt/x/bin/y: not from any OS package: third-party software", "elfsec: PT_GNU_STACK fail",
				"used by pid 4000 (uid 1000): /opt/x/bin/y --serve"},
			attrs:  map[string]string{"path": y, "origin": "third-party", "package": ""},
			reason: []string{"1 file used by 1 process examined: 1 without DEP (NX), 0 with"},
		},
		{
			name: "packaged library without NX", rule: RuleWithoutDEP, status: finding.StatusFail,
			obs: func(o *observe.Observations) {
				o.Processes = []observe.Process{proc(4000, 1000, "/usr/bin/app", "/usr/lib/libfoo.so.1"), proc(4001, 0, "/usr/bin/app", "/usr/lib/libfoo.so.1")}
				o.Binaries = []observe.Binary{hardened("/usr/bin/app"), binary("/usr/lib/libfoo.so.1", observe.FromPackage, "libfoo1", elfResult(elfsec.Fail, elfsec.Pass, elfsec.LangUnknown))}
			},
			targets:  []string{"/usr/lib/libfoo.so.1"},
			title:    "Software of package libfoo1 runs without DEP (NX): /usr/lib/libfoo.so.1",
			evidence: []string{"from the OS package libfoo1", "used by pid 4000 (uid 1000)", "used by pid 4001 (uid 0)"},
			attrs:    map[string]string{"origin": "package", "package": "libfoo1"},
			reason:   []string{"2 files used by 2 processes examined: 1 without DEP (NX), 1 with"},
		},
		{
			name: "NX unknown and pass are not findings", rule: RuleWithoutDEP, status: finding.StatusPass,
			obs: func(o *observe.Observations) {
				o.Processes = []observe.Process{proc(4000, 1000, y, "/usr/lib/libbar.so")}
				o.Binaries = []observe.Binary{binary(y, observe.ThirdParty, "", elfResult(elfsec.Unknown, elfsec.Pass, elfsec.LangUnknown)), hardened("/usr/lib/libbar.so")}
			},
			reason: []string{"0 without DEP (NX), 1 with, 0 not applicable, 1 unknown"},
		},
		{
			name: "only unknown is an error, not a pass", rule: RuleWithoutDEP, status: finding.StatusError,
			obs: func(o *observe.Observations) {
				o.Processes = []observe.Process{proc(4000, 1000, y)}
				o.Binaries = []observe.Binary{binary(y, observe.ThirdParty, "", elfResult(elfsec.Unknown, elfsec.Unknown, elfsec.LangUnknown))}
			},
		},
		{
			name: "a file no process used is not judged", rule: RuleWithoutDEP, status: finding.StatusPass,
			obs: func(o *observe.Observations) {
				o.Processes = []observe.Process{proc(4000, 1000, "/usr/bin/app")}
				o.Binaries = []observe.Binary{hardened("/usr/bin/app"), binary(y, observe.ThirdParty, "", elfResult(elfsec.Fail, elfsec.Fail, elfsec.LangUnknown))}
			},
		},
		{
			name: "a process in another mount namespace is skipped: nothing examined is an error, not no software", rule: RuleWithoutDEP, status: finding.StatusError,
			obs: func(o *observe.Observations) {
				p := proc(4000, 1000, y)
				p.OtherMountNS = true
				o.Processes = []observe.Process{p}
				o.Binaries = []observe.Binary{binary(y, observe.ThirdParty, "", elfResult(elfsec.Fail, elfsec.Fail, elfsec.LangUnknown))}
			},
			reason: []string{"1 process in other mount namespaces not analysed"},
		},
		{
			name: "packaged executable without stack cookies", rule: RuleWithoutStackCookies, status: finding.StatusFail,
			obs: func(o *observe.Observations) {
				o.Processes = []observe.Process{proc(4000, 1000, "/usr/bin/old")}
				o.Binaries = []observe.Binary{binary("/usr/bin/old", observe.FromPackage, "oldpkg", elfResult(elfsec.Pass, elfsec.Fail, elfsec.LangUnknown))}
			},
			targets:  []string{"/usr/bin/old"},
			title:    "Software of package oldpkg runs without stack cookies: /usr/bin/old",
			evidence: []string{"/usr/bin/old: from the OS package oldpkg", "elfsec: __stack_chk_fail fail"},
		},
		{
			name: "Go binary is not applicable, not a finding", rule: RuleWithoutStackCookies, status: finding.StatusPass,
			obs: func(o *observe.Observations) {
				o.Processes = []observe.Process{proc(4000, 1000, "/usr/local/bin/gosvc", "/usr/lib/libc.so.6")}
				o.Binaries = []observe.Binary{binary("/usr/local/bin/gosvc", observe.ThirdParty, "", elfResult(elfsec.Pass, elfsec.NotApplicable, elfsec.LangGo)), hardened("/usr/lib/libc.so.6")}
			},
			reason: []string{"0 without stack cookies, 1 with, 1 not applicable (1 Go)"},
		},
		{
			name: "unknown origin says so", rule: RuleWithoutStackCookies, status: finding.StatusFail,
			obs: func(o *observe.Observations) {
				o.Processes = []observe.Process{proc(4000, 1000, y)}
				o.Binaries = []observe.Binary{binary(y, observe.OriginUnknown, "", elfResult(elfsec.Pass, elfsec.Fail, elfsec.LangUnknown))}
			},
			targets:  []string{y},
			title:    "Software of unknown origin runs without stack cookies: /opt/x/bin/y",
			evidence: []string{"origin unknown: no package database could be read"},
		},
	})
}

func TestRootPermissions(t *testing.T) {
	const (
		foo = "/usr/sbin/foo"
		lib = "/tmp/ww/libx.so"
	)
	root := func(o *observe.Observations, chain []observe.PathElem, uid uint32) {
		o.Processes = []observe.Process{proc(812, uid, foo, lib)}
		b := hardened(lib)
		b.Chain = chain
		o.Binaries = []observe.Binary{hardened(foo), b}
	}
	sticky := func(e *observe.PathElem) { e.Mode = 01777 }
	runCases(t, []ruleCase{
		{
			name: "library in a world-writable directory", rule: RuleRootInsecurePerms, status: finding.StatusFail,
			obs: func(o *observe.Observations) {
				root(o, withElem(rootChain(lib), "/tmp/ww", func(e *observe.PathElem) { e.Mode = 0777 }), 0)
			},
			targets: []string{foo + " " + lib},
			title:   "Root process /usr/sbin/foo maps a file a non-root user can replace: /tmp/ww/libx.so",
			evidence: []string{
				"pid 812 (uid 0) /usr/sbin/foo maps /tmp/ww/libx.so; directory /tmp/ww is mode 0777 owned by uid 0: writable by every user",
			},
			attrs:  map[string]string{"exe": foo, "path": lib, "writable": "/tmp/ww"},
			reason: []string{"1 root process examined (2 code files): 1 running code a non-root user can change (1 finding)"},
		},
		{
			name: "the same library loaded by a non-root process", rule: RuleRootInsecurePerms, status: finding.StatusNotApplicable,
			obs: func(o *observe.Observations) {
				root(o, withElem(rootChain(lib), "/tmp/ww", func(e *observe.PathElem) { e.Mode = 0777 }), 1000)
			},
			reason: []string{"no root process observed"},
		},
		{
			name: "root's file in sticky /tmp", rule: RuleRootInsecurePerms, status: finding.StatusPass,
			obs: func(o *observe.Observations) {
				root(o, withElem(withElem(rootChain(lib), "/tmp", sticky), "/tmp/ww", func(e *observe.PathElem) { e.Mode = 0755 }), 0)
			},
		},
		{
			name: "sticky /tmp with a user's directory in it", rule: RuleRootInsecurePerms, status: finding.StatusFail,
			obs: func(o *observe.Observations) {
				root(o, withElem(withElem(rootChain(lib), "/tmp", sticky), "/tmp/ww", func(e *observe.PathElem) { e.UID = 1000 }), 0)
			},
			targets:  []string{foo + " " + lib},
			evidence: []string{"directory /tmp/ww is mode 0755 owned by uid 1000: writable by uid 1000 (its owner)"},
			attrs:    map[string]string{"writable": "/tmp/ww"},
		},
		{
			name: "sticky directory owned by a user", rule: RuleRootInsecurePerms, status: finding.StatusFail,
			obs: func(o *observe.Observations) {
				root(o, withElem(rootChain(lib), "/tmp/ww", func(e *observe.PathElem) { e.Mode, e.UID = 01777, 1000 }), 0)
			},
			targets:  []string{foo + " " + lib},
			evidence: []string{"directory /tmp/ww is mode 1777 owned by uid 1000: writable by uid 1000 (its owner)"},
		},
		{
			name: "group-writable by a non-root group", rule: RuleRootInsecurePerms, status: finding.StatusFail,
			obs: func(o *observe.Observations) {
				root(o, withElem(rootChain(lib), lib, func(e *observe.PathElem) { e.Mode, e.GID = 0664, 50 }), 0)
			},
			targets:  []string{foo + " " + lib},
			evidence: []string{"file /tmp/ww/libx.so is mode 0664 owned by uid 0, gid 50: writable by members of group 50"},
			attrs:    map[string]string{"writable": lib},
		},
		{
			name: "group-writable by root's group", rule: RuleRootInsecurePerms, status: finding.StatusPass,
			obs: func(o *observe.Observations) {
				root(o, withElem(rootChain(lib), lib, func(e *observe.PathElem) { e.Mode = 0664 }), 0)
			},
		},
		{
			name: "the executable itself, every weak element listed", rule: RuleRootInsecurePerms, status: finding.StatusFail,
			obs: func(o *observe.Observations) {
				const exe = "/opt/tool/bin/t"
				chain := withElem(withElem(rootChain(exe), "/opt/tool", func(e *observe.PathElem) { e.UID = 1001 }), exe, func(e *observe.PathElem) { e.Mode = 0777 })
				p := proc(77, 0, exe)
				o.Processes = []observe.Process{p}
				b := hardened(exe)
				b.Chain = chain
				o.Binaries = []observe.Binary{b}
			},
			targets: []string{"/opt/tool/bin/t /opt/tool/bin/t"},
			title:   "Root process runs an executable a non-root user can replace: /opt/tool/bin/t",
			evidence: []string{"pid 77 (uid 0) /opt/tool/bin/t runs /opt/tool/bin/t; directory /opt/tool is mode 0755 owned by uid 1001: writable by uid 1001 (its owner); " +
				"file /opt/tool/bin/t is mode 0777 owned by uid 0: writable by every user"},
			attrs: map[string]string{"writable": "/opt/tool"},
		},
		{
			name: "root process in another mount namespace is skipped", rule: RuleRootInsecurePerms, status: finding.StatusNotApplicable,
			obs: func(o *observe.Observations) {
				root(o, withElem(rootChain(lib), "/tmp/ww", func(e *observe.PathElem) { e.Mode = 0777 }), 0)
				o.Processes[0].OtherMountNS = true
			},
			reason: []string{"1 root process in other mount namespaces not analysed"},
		},
		{
			name: "no permissions known is an error", rule: RuleRootInsecurePerms, status: finding.StatusError,
			obs: func(o *observe.Observations) {
				o.Processes = []observe.Process{proc(812, 0, foo)}
			},
			reason: []string{"1 file with unknown permissions"},
		},
	})
}

// TestFingerprintsStable: the same subjects seen in another window, by
// other pids at other times, are the same findings; another host's are not.
func TestFingerprintsStable(t *testing.T) {
	planted := func(pid int, at time.Time) *observe.Observations {
		o := window()
		o.Window.Start, o.Window.End = at, at.Add(time.Minute)
		c := outbound(pid, "/usr/bin/telnet", 1000, "127.0.0.2:23", pid%7+1)
		c.First, c.Last = at, at
		l := listener(observe.TCP, "127.0.0.3:23", "/usr/sbin/inetd", true, 0)
		l.PID = pid + 1
		p := proc(pid+2, 0, "/usr/sbin/foo", "/tmp/ww/libx.so")
		lib := binary("/tmp/ww/libx.so", observe.ThirdParty, "", elfResult(elfsec.Fail, elfsec.Fail, elfsec.LangUnknown))
		lib.Chain = withElem(lib.Chain, "/tmp/ww", func(e *observe.PathElem) { e.Mode = 0777 })
		o.Connections, o.Listeners, o.Processes = []observe.Connection{c}, []observe.Listener{l}, []observe.Process{p}
		o.Binaries = []observe.Binary{hardened("/usr/sbin/foo"), lib}
		return o
	}
	ids := func(out Output) map[string]string {
		m := map[string]string{}
		for _, f := range out.Findings {
			if _, dup := m[f.RuleID+" "+f.Attributes["target"]]; dup {
				t.Fatalf("two findings of %s about %s", f.RuleID, f.Attributes["target"])
			}
			m[f.RuleID+" "+f.Attributes["target"]] = f.ID
		}
		return m
	}
	a := ids(Evaluate("host-1", planted(4711, t0)))
	b := ids(Evaluate("host-1", planted(9123, t0.Add(48*time.Hour))))
	if len(a) != 6 {
		t.Fatalf("%d findings, want 6 (login, unused, server, dep, cookies, root): %v", len(a), a)
	}
	if !maps.Equal(a, b) {
		t.Errorf("fingerprints changed with pids and times:\n%v\n%v", a, b)
	}
	other := ids(Evaluate("host-2", planted(4711, t0)))
	for k, id := range a {
		if other[k] == id {
			t.Errorf("%s: same id on another host", k)
		}
	}
}

// TestResultsOnePerRule: every rule gives exactly one result, untargeted,
// with a reason, in Rules() order, whatever the window holds.
func TestResultsOnePerRule(t *testing.T) {
	busy := window()
	busy.Connections = []observe.Connection{outbound(1, "/usr/bin/telnet", 0, "192.0.2.1:23", 1), outbound(2, "/usr/bin/curl", 0, "192.0.2.1:80", 1)}
	busy.Listeners = []observe.Listener{listener(observe.TCP, "0.0.0.0:23", "/usr/sbin/inetd", true, 0)}
	for name, obs := range map[string]*observe.Observations{"nil": nil, "empty": window(), "busy": busy} {
		out := Evaluate("h", obs)
		var got []string
		for _, r := range out.Results {
			got = append(got, r.RuleID)
			if r.Target != "" || r.Reason == "" || r.RulesPackage != finding.PackageRuntime {
				t.Errorf("%s: %+v", name, r)
			}
			if !slices.Contains([]string{finding.StatusPass, finding.StatusFail, finding.StatusNotApplicable, finding.StatusError}, r.Status) {
				t.Errorf("%s: status %q", name, r.Status)
			}
		}
		var want []string
		for _, r := range Rules() {
			want = append(want, r.ID)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: results %v, want %v", name, got, want)
		}
		if out.Findings == nil {
			t.Errorf("%s: nil findings", name)
		}
		for _, f := range out.Findings {
			if f.Attributes == nil || len(f.Evidence) == 0 || f.Title == "" || f.Description == "" || f.Recommendation == "" {
				t.Errorf("%s: incomplete finding %+v", name, f)
			}
		}
	}
	if out := Evaluate("h", nil); out.Coverage[0].Status != report.NotEvaluated || out.Results[0].Status != finding.StatusError {
		t.Errorf("nil observations: %+v %+v", out.Coverage, out.Results[0])
	}
}

func TestCoverage(t *testing.T) {
	cases := []struct {
		name   string
		obs    func(*observe.Observations)
		status string
		reason []string
		absent []string // must not be in the reason
	}{
		{name: "complete", obs: func(o *observe.Observations) {
			o.Processes = []observe.Process{proc(1, 0, "/usr/bin/app")}
			o.Binaries = []observe.Binary{hardened("/usr/bin/app")}
		}, status: report.Evaluated, reason: []string{"ebpf method, 1m0s window"}},
		{name: "events lost", obs: func(o *observe.Observations) { o.Stats.Lost = 12 }, status: report.Partial, reason: []string{"12 events lost"}},
		{name: "program runs skipped", obs: func(o *observe.Observations) { o.Stats.Skipped = 150 }, status: report.Partial, reason: []string{"the kernel skipped 150 runs of the eBPF programs"}},
		{name: "observer notes", obs: func(o *observe.Observations) {
			o.Notes = []string{"3 processes in other mount namespaces not analysed"}
		}, status: report.Partial, reason: []string{"3 processes in other mount namespaces not analysed"}},
		{name: "file not analysed", obs: func(o *observe.Observations) {
			o.Processes = []observe.Process{proc(1, 0, "/usr/bin/app", "/usr/lib/gone.so")}
			o.Binaries = []observe.Binary{hardened("/usr/bin/app"), {Path: "/usr/lib/gone.so", Error: "open: no such file or directory"}}
		}, status: report.Partial, reason: []string{"1 file used by processes could not be analysed (/usr/lib/gone.so: open: no such file or directory)"}},
		{name: "a script is no gap", obs: func(o *observe.Observations) {
			// a process that exited: its exec named the script
			o.Processes = []observe.Process{proc(1, 0, "/usr/local/bin/backup.sh")}
			o.Binaries = []observe.Binary{{Path: "/usr/local/bin/backup.sh", Interpreter: "/bin/sh"}}
		}, status: report.Evaluated, reason: []string{"ebpf method"}},
		{name: "file missing from binaries", obs: func(o *observe.Observations) {
			o.Processes = []observe.Process{proc(1, 0, "/usr/bin/app")}
		}, status: report.Partial, reason: []string{"/usr/bin/app: not analysed"}},
		{name: "process in another mount namespace", obs: func(o *observe.Observations) {
			p := proc(1, 0, "/usr/bin/app")
			p.OtherMountNS = true
			o.Processes = []observe.Process{p}
		}, status: report.Partial, reason: []string{"1 process in other mount namespaces"}},
		{name: "another user's process is unreadable, not exited", obs: func(o *observe.Observations) {
			o.Processes = []observe.Process{proc(1, 0, "/usr/bin/app"), unreadable(2, 0, "sshd"), unreadable(3, 1001, "postgres")}
			o.Binaries = []observe.Binary{hardened("/usr/bin/app")}
		}, status: report.Partial, reason: []string{"2 processes could not be read (access denied: another user's without root privileges, or protected from root by the kernel or a sandbox): their code was not analysed"},
			absent: []string{"exited before"}},
		{name: "a process started in the window that exited first", obs: func(o *observe.Observations) {
			o.Processes = []observe.Process{{PID: 7, PPID: 1, UID: 1000, Comm: "true", StartedInWindow: true}}
		}, status: report.Partial, reason: []string{"1 process exited before their executable could be read"}, absent: []string{"could not be read (another user's"}},
		{name: "a running process listed without code did not exit", obs: func(o *observe.Observations) {
			o.Processes = []observe.Process{{PID: 8, PPID: 1, UID: 1000, Comm: "app", Running: true}}
		}, status: report.Partial, reason: []string{"1 process listed without an executable or mapped code"}, absent: []string{"exited before"}},
		{name: "stopped early is still evaluated", obs: func(o *observe.Observations) {
			o.Window.StoppedEarly, o.Window.Requested = true, time.Hour
		}, status: report.Evaluated, reason: []string{"stopped early; 1h0m0s requested"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := window()
			tc.obs(o)
			cov := Evaluate("h", o).Coverage
			if len(cov) != 2 || cov[0].Scope != "observation" || cov[1].Scope != "*" {
				t.Fatalf("coverage %+v", cov)
			}
			for _, c := range cov {
				if c.Package != finding.PackageRuntime || c.Status != tc.status {
					t.Errorf("%+v, want status %s", c, tc.status)
				}
			}
			for _, s := range tc.reason {
				if !strings.Contains(cov[0].Reason, s) {
					t.Errorf("reason %q lacks %q", cov[0].Reason, s)
				}
			}
			for _, s := range tc.absent {
				if strings.Contains(cov[0].Reason, s) {
					t.Errorf("reason %q has %q", cov[0].Reason, s)
				}
			}
		})
	}
}

func TestRulesMetadata(t *testing.T) {
	want := map[string]finding.Severity{
		"insecure-client-login": finding.Medium, "insecure-client-general": finding.Low, "unused-listening-port": finding.Informational,
		"insecure-server-protocol": finding.Informational, "software-without-dep": finding.Medium, "software-without-stack-cookies": finding.Medium,
		"root-process-insecure-permissions": finding.High,
	}
	rs := Rules()
	if len(rs) != len(want) {
		t.Fatalf("%d rules, want %d", len(rs), len(want))
	}
	for _, r := range rs {
		if want[r.ID] != r.Severity {
			t.Errorf("%s: severity %s, want %s", r.ID, r.Severity, want[r.ID])
		}
		if r.Title == "" || r.Description == "" || r.Recommendation == "" {
			t.Errorf("%s: missing text", r.ID)
		}
	}
	if !strings.Contains(rule(RuleInsecureClientGeneral).Description, "STARTTLS") || !strings.Contains(rule(RuleInsecureClientGeneral).Description, "SNMP") {
		t.Error("insecure-client-general must say STARTTLS cannot be seen and SNMP is not assessed")
	}
}

// TestDocs: docs/runtime-rules.md documents every rule, and its port
// table is exactly the code's tables: one row per port, as
// "| port | proto | name | client rule | server rule |".
func TestDocs(t *testing.T) {
	b, err := os.ReadFile("../../../docs/runtime-rules.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for _, r := range Rules() {
		if !strings.Contains(doc, "`"+r.ID+"`") {
			t.Errorf("docs/runtime-rules.md does not document %s", r.ID)
		}
	}
	var want []string
	for _, s := range concat(loginServices, generalClientServices, serverServices) {
		client, server := "-", "-"
		if _, ok := lookup(loginServices, s.Proto, s.Port); ok {
			client = "`" + RuleInsecureClientLogin + "`"
		} else if _, ok := lookup(generalClientServices, s.Proto, s.Port); ok {
			client = "`" + RuleInsecureClientGeneral + "`"
		} else if s.Proto == observe.UDP {
			client = "not assessed (UDP)"
		}
		if _, ok := lookup(serverServices, s.Proto, s.Port); ok {
			server = "`" + RuleInsecureServer + "`"
		}
		row := fmt.Sprintf("| %d | %s | %s | %s | %s |", s.Port, s.Proto, s.Name, client, server)
		if !slices.Contains(want, row) {
			want = append(want, row)
		}
	}
	var got []string
	for _, line := range strings.Split(doc, "\n") {
		if len(line) > 2 && line[0] == '|' && line[2] >= '0' && line[2] <= '9' {
			got = append(got, strings.TrimSpace(line))
		}
	}
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("port table of docs/runtime-rules.md:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestUnreadableProcesses: an observer without root privileges lists
// other users' processes without their code. The rules must say those
// were not judged, never that there was nothing to judge.
func TestUnreadableProcesses(t *testing.T) {
	const app = "/usr/bin/app"
	mine := func(o *observe.Observations) {
		o.Processes = append(o.Processes, proc(4000, 1000, app))
		o.Binaries = append(o.Binaries, hardened(app))
	}
	runCases(t, []ruleCase{
		{
			name: "every root process unreadable is an error", rule: RuleRootInsecurePerms, status: finding.StatusError,
			obs: func(o *observe.Observations) {
				mine(o)
				o.Processes = append(o.Processes, unreadable(1, 0, "systemd"), unreadable(700, 0, "sshd"))
			},
			reason:    []string{"2 root processes could not be read (access denied: another user's without root privileges, or protected from root by the kernel or a sandbox)", "run kensa as root"},
			notReason: []string{"no root process observed"},
		},
		{
			name: "an unreadable root process beside a readable one", rule: RuleRootInsecurePerms, status: finding.StatusPass,
			obs: func(o *observe.Observations) {
				o.Processes = []observe.Process{proc(812, 0, app), unreadable(1, 0, "systemd")}
				o.Binaries = []observe.Binary{hardened(app)}
			},
			reason: []string{"1 root process examined (1 code file)", "1 root process could not be read (access denied: another user's without root privileges, or protected from root by the kernel or a sandbox): their code's permissions are unknown"},
		},
		{
			name: "another user's unreadable process is not a root process", rule: RuleRootInsecurePerms, status: finding.StatusNotApplicable,
			obs: func(o *observe.Observations) {
				mine(o)
				o.Processes = append(o.Processes, unreadable(900, 1001, "postgres"))
			},
			reason: []string{"no root process observed"},
		},
		{
			name: "only unreadable processes: DEP is an error", rule: RuleWithoutDEP, status: finding.StatusError,
			obs: func(o *observe.Observations) {
				o.Processes = []observe.Process{unreadable(1, 0, "systemd"), unreadable(900, 1001, "postgres")}
			},
			reason:    []string{"no file examined: 2 processes could not be read (access denied: another user's without root privileges, or protected from root by the kernel or a sandbox)", "run kensa as root"},
			notReason: []string{"0 files used by 0 processes"},
		},
		{
			name: "only unreadable processes: stack cookies is an error", rule: RuleWithoutStackCookies, status: finding.StatusError,
			obs: func(o *observe.Observations) {
				o.Processes = []observe.Process{unreadable(1, 0, "systemd")}
			},
			reason: []string{"1 process could not be read"},
		},
		{
			name: "readable code passes and says what was not read", rule: RuleWithoutDEP, status: finding.StatusPass,
			obs: func(o *observe.Observations) {
				mine(o)
				o.Processes = append(o.Processes, unreadable(1, 0, "systemd"))
			},
			reason: []string{"1 file used by 1 process examined", "1 process could not be read (access denied: another user's without root privileges, or protected from root by the kernel or a sandbox)"},
		},
		{
			name: "no process at all is still not applicable", rule: RuleWithoutDEP, status: finding.StatusNotApplicable,
			obs: func(o *observe.Observations) {},
		},
	})
}

// TestUnusedPortEstablished: a port whose connections were all accepted
// before the window (a connection pool) is in use.
func TestUnusedPortEstablished(t *testing.T) {
	runCases(t, []ruleCase{
		{
			name: "connections established before the window", rule: RuleUnusedListeningPort, status: finding.StatusFail,
			obs: func(o *observe.Observations) {
				pg, redis := listener(observe.TCP, "127.0.0.1:5432", "/usr/lib/postgresql/bin/postgres", true, 0), listener(observe.TCP, "127.0.0.1:6379", "/usr/bin/redis-server", true, 0)
				pg.Established, redis.Established = 12, 1
				o.Listeners = []observe.Listener{pg, redis, listener(observe.TCP, "127.0.0.5:7000", "/opt/svc/bin/idle", true, 0)}
			},
			targets: []string{"tcp 127.0.0.5:7000 /opt/svc/bin/idle"},
			reason:  []string{"3 TCP ports listened for the whole window, 1 received no connection", "2 had connections established before or during the window"},
		},
		{
			name: "one reuseport socket with an established connection", rule: RuleUnusedListeningPort, status: finding.StatusPass,
			obs: func(o *observe.Observations) {
				a, b := listener(observe.TCP, "0.0.0.0:8443", "/usr/sbin/nginx", true, 0), listener(observe.TCP, "0.0.0.0:8443", "/usr/sbin/nginx", true, 0)
				b.PID, b.Established = 901, 3
				o.Listeners = []observe.Listener{a, b}
			},
			reason: []string{"1 TCP port listened for the whole window, 0 received no connection", "1 had connections established"},
		},
	})
}

// TestUnusedPortShortWindow: a window cut short by Ctrl-C cannot call a
// port unused; one of the CLI's minimum length can.
func TestUnusedPortShortWindow(t *testing.T) {
	idle := func(o *observe.Observations) {
		o.Listeners = []observe.Listener{listener(observe.TCP, "127.0.0.5:7000", "/opt/svc/bin/idle", true, 0)}
	}
	runCases(t, []ruleCase{
		{
			name: "2 seconds", rule: RuleUnusedListeningPort, status: finding.StatusError,
			obs: func(o *observe.Observations) {
				idle(o)
				o.Window.End = o.Window.Start.Add(2*time.Second + 30*time.Millisecond)
				o.Window.StoppedEarly = true
			},
			reason: []string{"the window lasted 2s, under 10s: too short to call a listening port unused"},
		},
		{
			name: "just under 10 seconds", rule: RuleUnusedListeningPort, status: finding.StatusError,
			obs: func(o *observe.Observations) {
				idle(o)
				o.Window.End = o.Window.Start.Add(10*time.Second - time.Millisecond)
			},
			reason: []string{"the window lasted 9.9s, under 10s"},
		},
		{
			name: "10 seconds is judged", rule: RuleUnusedListeningPort, status: finding.StatusFail,
			obs: func(o *observe.Observations) {
				idle(o)
				o.Window.End = o.Window.Start.Add(10 * time.Second)
			},
			targets: []string{"tcp 127.0.0.5:7000 /opt/svc/bin/idle"},
		},
	})
}

// TestClientRulesProcMethod: with /proc polling, a client rule's result
// says short connections may have been missed, a pass most of all.
func TestClientRulesProcMethod(t *testing.T) {
	const caveat = "the /proc polling method sees only connections alive across a 1-second poll, so short cleartext connections may have been missed"
	runCases(t, []ruleCase{
		{
			name: "login pass", rule: RuleInsecureClientLogin, status: finding.StatusPass,
			obs: func(o *observe.Observations) {
				o.Method = observe.MethodProc
				o.Connections = []observe.Connection{outbound(4800, "/usr/bin/ssh", 1000, "192.0.2.7:22", 1)}
			},
			reason: []string{"not proof that none was made: " + caveat},
		},
		{
			name: "general pass, nothing seen", rule: RuleInsecureClientGeneral, status: finding.StatusPass,
			obs:    func(o *observe.Observations) { o.Method = observe.MethodProc },
			reason: []string{"no established outbound connection", "not proof that none was made: " + caveat},
		},
		{
			name: "login fail", rule: RuleInsecureClientLogin, status: finding.StatusFail,
			obs: func(o *observe.Observations) {
				o.Method = observe.MethodProc
				o.Connections = []observe.Connection{outbound(4711, "/usr/bin/telnet", 1000, "192.0.2.7:23", 1)}
			},
			targets:   []string{"/usr/bin/telnet telnet 192.0.2.7:23"},
			reason:    []string{caveat},
			notReason: []string{"not proof"},
		},
		{
			name: "other methods say nothing of polls", rule: RuleInsecureClientLogin, status: finding.StatusPass,
			obs: func(o *observe.Observations) {
				o.Method = observe.MethodNetlink
			},
			notReason: []string{"1-second poll"},
		},
	})
}

// TestClientRulesNetns: a container's connection, in another network
// namespace, is judged; its evidence names the namespace, its subject does
// not (the inode changes when the container restarts).
func TestClientRulesNetns(t *testing.T) {
	const ns = 4026532281
	inNS := func(c observe.Connection, netns uint32) observe.Connection { c.Netns = netns; return c }
	runCases(t, []ruleCase{
		{
			name: "telnet from a container", rule: RuleInsecureClientLogin, status: finding.StatusFail,
			obs: func(o *observe.Observations) {
				o.Connections = []observe.Connection{inNS(outbound(5100, "/usr/bin/telnet", 0, "172.17.0.3:23", 1), ns)}
			},
			targets:  []string{"/usr/bin/telnet telnet 172.17.0.3:23"},
			evidence: []string{"pid 5100 /usr/bin/telnet (uid 0) connected to 172.17.0.3:23 (telnet) in network namespace 4026532281 once"},
			attrs:    map[string]string{"remote": "172.17.0.3:23"},
		},
	})

	// The same program to the same address from the host and from a
	// container: one subject, two evidence lines, each saying where.
	o := window()
	o.Connections = []observe.Connection{
		outbound(6000, "/usr/bin/curl", 1000, "10.0.0.5:80", 1),
		inNS(outbound(6001, "/usr/bin/curl", 1000, "10.0.0.5:80", 2), ns),
	}
	o.Connections[1].First = t0.Add(2 * time.Second)
	out := Evaluate("host-1", o)
	fs := findingsOf(out, RuleInsecureClientGeneral)
	if len(fs) != 1 || fs[0].Attributes["target"] != "/usr/bin/curl http 10.0.0.5:80" {
		t.Fatalf("findings %+v, want one about /usr/bin/curl http 10.0.0.5:80", fs)
	}
	var host, container []string
	for _, ev := range fs[0].Evidence {
		switch {
		case strings.Contains(ev, "pid 6000 "):
			host = append(host, ev)
		case strings.Contains(ev, "pid 6001 "):
			container = append(container, ev)
		}
	}
	if len(host) != 1 || strings.Contains(host[0], "network namespace") {
		t.Errorf("host connection's evidence %q: want one line without a namespace", host)
	}
	if len(container) != 1 || !strings.Contains(container[0], "in network namespace 4026532281") {
		t.Errorf("container connection's evidence %q: want one line naming namespace %d", container, ns)
	}
	// 10.0.0.5 in the container's namespace is another peer than the
	// host's 10.0.0.5.
	if r := resultOf(t, out, RuleInsecureClientGeneral); !strings.Contains(r.Reason, "3 established outbound connections to 2 peers") {
		t.Errorf("reason %q: want 3 connections to 2 peers", r.Reason)
	}
}
