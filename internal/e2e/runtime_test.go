// Package e2e holds end-to-end tests: they build the kensa binary and run it
// on this host as a user would, against situations the tests plant. It has
// no code of its own. KENSA_E2E_VERBOSE=1 logs what a failure would (the
// findings and observations about the planted cases) on success too.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kensa-dev/kensa/internal/finding"
	"github.com/kensa-dev/kensa/internal/observe"
)

// addrs are the scenario's endpoints. They live in a block 127.A.B.0/24 of
// loopback addresses chosen at random for each window (127.0.0.1 is left to
// other tests, and two runs at once, two go test ./... on one machine, must
// not collide), so nothing meets a host service. The ports are the point
// where they are well known (23 telnet, 80 http, 21 ftp, 161 snmp; 22 and
// 443 are their secure counterparts, the controls); elsewhere they are
// unusual ones.
type addrs struct {
	prefix string // "127.A.B."
	telnet string // .2:23 planted: insecure-client-login, insecure-server-protocol
	ssh    string // .2:22 control of insecure-client-login
	http   string // .3:80 planted: insecure-client-general, insecure-server-protocol
	https  string // .3:443 control of insecure-client-general and insecure-server-protocol
	ftp    string // .4:21 planted: insecure-server-protocol (nobody connects)
	unused string // .4:8081 planted: unused-listening-port
	used   string // .4:8082 control of unused-listening-port (and of insecure-server-protocol)
	snmp   string // .4:161 UDP, planted: insecure-server-protocol; control of unused-listening-port (TCP only)
}

func block(a, b int) addrs {
	p := fmt.Sprintf("127.%d.%d.", a, b)
	return addrs{prefix: p, telnet: p + "2:23", ssh: p + "2:22", http: p + "3:80", https: p + "3:443",
		ftp: p + "4:21", unused: p + "4:8081", used: p + "4:8082", snmp: p + "4:161"}
}

const (
	window = 10 * time.Second
	// hold is how long a client keeps its connection open: the proc method
	// polls every second and sees only connections alive across a poll.
	hold = 4 * time.Second
	// deadline bounds each wait for something to happen; generous, for a
	// loaded 2-core CI machine running tests under -race.
	deadline = 2 * time.Minute
)

// methods are the observer methods; CI runs as root, where each must run.
var methods = []observe.Method{observe.MethodEBPF, observe.MethodNetlink, observe.MethodProc}

// scanReport is the part of kensa's JSON report this test reads.
type scanReport struct {
	Findings    []finding.Finding     `json:"findings"`
	Results     []finding.Result      `json:"results"`
	Observation *observe.Observations `json:"observation"`
}

// TestRuntimeRules is the end-to-end test of the runtime rules
// package: for each observer method it plants one case of each of the
// seven rules and a control beside it, runs `kensa scan --packages
// runtime` for a short window, and reads the JSON report. A rule that
// misses its case, or fires on its control, fails the test.
func TestRuntimeRules(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: the observer methods need it, and root-process-insecure-permissions needs a root process to judge (CI runs as root)")
	}
	if testing.Short() {
		t.Skip("-short: one 10 s window per observer method")
	}
	p := buildPrograms(t)
	kensa := buildKensa(t)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range methods {
		t.Run(string(m), func(t *testing.T) {
			scenario(t, kensa, self, p, m)
		})
	}
}

// buildKensa builds ./cmd/kensa as CI and releases do (CGO_ENABLED=0) into
// a temporary directory.
func buildKensa(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to build kensa: %v", err)
	}
	mod, err := exec.Command(goTool, "env", "GOMOD").Output()
	if err != nil || len(bytes.TrimSpace(mod)) == 0 || string(bytes.TrimSpace(mod)) == os.DevNull {
		t.Fatalf("go env GOMOD: %q, %v", mod, err)
	}
	out := filepath.Join(t.TempDir(), "kensa")
	cmd := exec.Command(goTool, "build", "-buildvcs=false", "-o", out, "./cmd/kensa")
	cmd.Dir = filepath.Dir(string(bytes.TrimSpace(mod)))
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/kensa: %v\n%s", err, b)
	}
	return out
}

// scenario plants every case, runs one window with method m and checks the
// report.
func scenario(t *testing.T, kensa, self string, p *programs, m observe.Method) {
	// Long-running processes and listeners start before kensa, so they are
	// there for the whole window, and stop after it (t.Cleanup).
	start(t, p.weak, "weak")
	start(t, p.hardened, "hardened")
	start(t, p.loader, p.wwLib)
	start(t, p.loader, p.safeLib)
	a := listenAll(t)

	out := filepath.Join(t.TempDir(), "report.json")
	var clientsDone time.Time
	stderr := runKensa(t, kensa, m, out, func() {
		// Inside the window: one connection to each client case and to
		// the listener that must count as used.
		connect(t, a.telnet, a.ssh, a.http, a.https, a.used)
		clientsDone = time.Now()
	})
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("no report: %v\nkensa stderr:\n%s", err, stderr)
	}
	var r scanReport
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("report %s: %v", out, err)
	}
	t.Cleanup(func() {
		if t.Failed() || os.Getenv("KENSA_E2E_VERBOSE") != "" {
			explain(t, &r, a, p, self, kensa, stderr)
		}
	})
	if r.Observation == nil {
		t.Fatal("the report has no observation")
	}
	if r.Observation.Method != m {
		t.Fatalf("observation.method = %q, want %q (forced); fallbacks %+v", r.Observation.Method, m, r.Observation.Fallbacks)
	}
	// The clients take hold (4 s) of a 10 s window; should a loaded
	// machine have delayed them past its end, say so rather than blame a
	// rule for what the window could not contain.
	if end := r.Observation.Window.End; clientsDone.After(end) {
		t.Errorf("the clients closed their connections at %s, after the window ended (%s): the machine was too slow for this test's window",
			clientsDone.Format(time.RFC3339Nano), end.Format(time.RFC3339Nano))
	}
	check(t, &r, expectations(a, self, p))
}

// expectation is one planted case (want true: a finding of rule with at
// least these attributes) or one control (want false: no such finding).
type expectation struct {
	rule  string
	attrs map[string]string
	want  bool
	// severity of the planted case's finding.
	severity finding.Severity
	// evidence must appear in one of the planted finding's evidence
	// lines: it names the peer, the port or the binary.
	evidence string
	why      string
}

func expectations(a addrs, self string, p *programs) []expectation {
	client := func(rule, proto, addr string, sev finding.Severity) expectation {
		host, _, _ := net.SplitHostPort(addr)
		return expectation{rule: rule, attrs: map[string]string{"protocol": proto, "remote": addr, "exe": self}, want: true,
			severity: sev, evidence: host, why: "this test connected to " + addr}
	}
	server := func(proto, addr, transport string) expectation {
		_, port, _ := net.SplitHostPort(addr)
		return expectation{rule: "insecure-server-protocol", attrs: map[string]string{"protocol": proto, "proto": transport, "local": addr, "exe": self},
			want: true, severity: finding.Informational, evidence: port, why: "this test listened on " + addr}
	}
	none := func(rule, key, value, why string) expectation {
		return expectation{rule: rule, attrs: map[string]string{key: value}, why: why}
	}
	e := []expectation{
		client("insecure-client-login", "telnet", a.telnet, finding.Medium),
		none("insecure-client-login", "remote", a.ssh, "ssh is not cleartext"),
		none("insecure-client-general", "remote", a.ssh, "ssh is not cleartext"),

		client("insecure-client-general", "http", a.http, finding.Low),
		none("insecure-client-general", "remote", a.https, "https is not cleartext"),
		none("insecure-client-login", "remote", a.https, "https is not cleartext"),
		none("insecure-client-login", "remote", a.http, "http is not a login protocol"),

		server("telnet", a.telnet, "tcp"),
		server("http", a.http, "tcp"),
		server("ftp", a.ftp, "tcp"),
		server("snmp", a.snmp, "udp"),
		none("insecure-server-protocol", "local", a.https, "https is not cleartext"),
		none("insecure-server-protocol", "local", a.ssh, "ssh is not cleartext"),
		none("insecure-server-protocol", "local", a.unused, "8081 is no known cleartext service"),
		none("insecure-server-protocol", "local", a.used, "8082 is no known cleartext service"),

		{rule: "unused-listening-port", attrs: map[string]string{"proto": "tcp", "local": a.unused, "exe": self}, want: true,
			severity: finding.Informational, evidence: "8081", why: "nothing connected to " + a.unused + " during the window"},
		none("unused-listening-port", "local", a.used, "this test connected to it during the window"),
		none("unused-listening-port", "local", a.telnet, "this test connected to it during the window"),
		none("unused-listening-port", "local", a.http, "this test connected to it during the window"),
		none("unused-listening-port", "local", a.snmp, "UDP traffic is not observed, so a UDP socket cannot be called unused"),
	}
	for _, rule := range []string{"software-without-dep", "software-without-stack-cookies"} {
		e = append(e,
			expectation{rule: rule, attrs: map[string]string{"path": p.weak, "origin": string(observe.ThirdParty)}, want: true,
				severity: finding.Medium, evidence: p.weak, why: "built with " + strings.Join(weakFlags, " ") + " and running"},
			none(rule, "path", p.hardened, "built hardened"),
			none(rule, "path", p.loader, "built hardened"),
			none(rule, "path", p.wwLib, "built hardened"),
			none(rule, "path", p.safeLib, "built hardened"),
		)
	}
	e = append(e,
		none("software-without-stack-cookies", "path", self, "a Go binary: Go checks stack bounds instead of using canaries"),
		expectation{rule: "root-process-insecure-permissions", attrs: map[string]string{"exe": p.loader, "path": p.wwLib, "writable": p.wwDir}, want: true,
			severity: finding.High, evidence: p.wwLib, why: "a root process loaded it from a directory of mode 0777"},
		none("root-process-insecure-permissions", "path", p.safeLib, "loaded from a root-owned 0755 directory"),
		none("root-process-insecure-permissions", "path", p.loader, "in a root-owned 0755 directory"),
		none("root-process-insecure-permissions", "path", p.weak, "in a root-owned 0755 directory"),
		none("root-process-insecure-permissions", "path", p.hardened, "in a root-owned 0755 directory"),
	)
	return e
}

// rules are the runtime package's rules; each has a planted case above.
var rules = []string{
	"insecure-client-login", "insecure-client-general", "unused-listening-port", "insecure-server-protocol",
	"software-without-dep", "software-without-stack-cookies", "root-process-insecure-permissions",
}

func check(t *testing.T, r *scanReport, want []expectation) {
	t.Helper()
	for _, e := range want {
		var got []finding.Finding
		for _, f := range r.Findings {
			if f.RuleID == e.rule && matches(f.Attributes, e.attrs) {
				got = append(got, f)
			}
		}
		switch {
		case e.want && len(got) == 0:
			t.Errorf("%s: no finding with %v (%s)", e.rule, e.attrs, e.why)
		case !e.want && len(got) > 0:
			t.Errorf("%s: control fired: %v (%s)", e.rule, got[0].Attributes, e.why)
		}
		for _, f := range got {
			if !e.want {
				break
			}
			if f.RulesPackage != finding.PackageRuntime || f.Severity != e.severity || f.Title == "" {
				t.Errorf("%s %v: package %q, severity %q, title %q; want %q, %q and a title", e.rule, e.attrs, f.RulesPackage, f.Severity, f.Title, finding.PackageRuntime, e.severity)
			}
			if !slices.ContainsFunc(f.Evidence, func(l string) bool { return strings.Contains(l, e.evidence) }) {
				t.Errorf("%s %v: evidence does not name %q: %q", e.rule, e.attrs, e.evidence, f.Evidence)
			}
		}
	}
	// Every rule fired on its planted case, so each has a failing result.
	for _, rule := range rules {
		if !slices.ContainsFunc(r.Results, func(res finding.Result) bool {
			return res.RulesPackage == finding.PackageRuntime && res.RuleID == rule && res.Status == finding.StatusFail
		}) {
			t.Errorf("%s: no result with status fail in results[]", rule)
		}
	}
}

func matches(attrs, want map[string]string) bool {
	for k, v := range want {
		if attrs[k] != v {
			return false
		}
	}
	return true
}

// explain logs the part of the report that decides the test, so a CI log
// says why it failed: the findings about what the test planted, and what
// the window saw of the test's addresses, processes and binaries.
func explain(t *testing.T, r *scanReport, a addrs, p *programs, self, kensa, stderr string) {
	ours := func(s string) bool {
		for _, x := range []string{a.prefix, p.base, self, kensa} {
			if strings.Contains(s, x) {
				return true
			}
		}
		return false
	}
	var b strings.Builder
	count := map[string]int{}
	for _, f := range r.Findings {
		count[f.RuleID]++
		attrs, _ := json.Marshal(f.Attributes)
		if ours(string(attrs)) {
			fmt.Fprintf(&b, "  finding %s %s %s\n    evidence %q\n", f.RuleID, f.Severity, attrs, f.Evidence)
		}
	}
	fmt.Fprintf(&b, "findings per rule (whole host): %v\n", count)
	for _, res := range r.Results {
		if res.RulesPackage == finding.PackageRuntime {
			fmt.Fprintf(&b, "  result %s %s %s %s\n", res.RuleID, res.Target, res.Status, res.Reason)
		}
	}
	if o := r.Observation; o != nil {
		fmt.Fprintf(&b, "observation: method %s, fallbacks %+v, window %s..%s, stats %+v, notes %q\n",
			o.Method, o.Fallbacks, o.Window.Start.Format(time.RFC3339Nano), o.Window.End.Format(time.RFC3339Nano), o.Stats, o.Notes)
		fmt.Fprintf(&b, "%d connections, %d listeners, %d processes, %d binaries in all; the test's:\n",
			len(o.Connections), len(o.Listeners), len(o.Processes), len(o.Binaries))
		for _, c := range o.Connections {
			if ours(c.Local.String() + " " + c.Remote.String()) {
				fmt.Fprintf(&b, "  connection %+v\n", c)
			}
		}
		for _, l := range o.Listeners {
			if ours(l.Local.String()) {
				fmt.Fprintf(&b, "  listener %+v\n", l)
			}
		}
		for _, pr := range o.Processes {
			if ours(pr.Exe) {
				fmt.Fprintf(&b, "  process %d uid %d %s running %v objects %q\n", pr.PID, pr.UID, pr.Exe, pr.Running, pr.Objects)
			}
		}
		for _, bin := range o.Binaries {
			if !ours(bin.Path) {
				continue
			}
			fmt.Fprintf(&b, "  binary %s origin %s %s", bin.Path, bin.Origin, bin.Error)
			if bin.ELF != nil {
				fmt.Fprintf(&b, " nx %s, stack protector %s (%s)", bin.ELF.NX.Status, bin.ELF.StackProtector.Status, bin.ELF.Toolchain.Language)
			}
			for _, e := range bin.Chain {
				fmt.Fprintf(&b, "\n    %04o %d:%d %s", e.Mode, e.UID, e.GID, e.Path)
			}
			b.WriteString("\n")
		}
	}
	fmt.Fprintf(&b, "kensa stderr:\n%s", stderr)
	t.Log("\n" + b.String())
}

// start runs a planted program until the test ends and returns once it has
// printed "ready" (the library is loaded, the process is in its loop).
func start(t *testing.T, path string, args ...string) {
	t.Helper()
	w := newWatcher("ready")
	cmd := exec.Command(path, args...)
	cmd.Stdout = w
	cmd.Stderr = w
	// If the test binary dies, so do its programs.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	select {
	case <-w.seen:
	case err := <-exited:
		exited <- err // for the cleanup
		t.Fatalf("%s %v exited before it was ready: %v\n%s", path, args, err, w)
	case <-time.After(deadline):
		t.Fatalf("%s %v not ready after %v\n%s", path, args, deadline, w)
	}
}

// listenAll starts the scenario's servers in a free block of loopback
// addresses and stops them when the test ends. It tries other blocks while
// a planted address is taken (another run of this test).
func listenAll(t *testing.T) addrs {
	t.Helper()
	for range 20 {
		a := block(100+rand.IntN(100), rand.IntN(256))
		s := &servers{}
		err := s.listen(t, a)
		if err == nil {
			t.Cleanup(s.close)
			return a
		}
		s.close()
		if !errors.Is(err, syscall.EADDRINUSE) {
			t.Fatal(err)
		}
		t.Logf("%v; trying another block", err)
	}
	t.Fatal("no free block of loopback addresses in 20 tries")
	return addrs{}
}

// servers accept connections and hold each until its client closes it.
type servers struct {
	mu     sync.Mutex
	closed bool
	lns    []net.Listener
	conns  []net.Conn
	udp    []net.PacketConn
	wg     sync.WaitGroup
}

// listen opens every listener of a, the planted ones first: once they are
// open the block is this run's. A control may then be shared: when a host
// service listens on the wildcard address at that port (sshd on
// 0.0.0.0:22), the control client connects to it there; the control holds
// as long as the connection is made.
func (s *servers) listen(t *testing.T, a addrs) error {
	for _, addr := range []string{a.telnet, a.http, a.ftp, a.unused, a.used, a.ssh, a.https} {
		ln, err := net.Listen("tcp4", addr)
		if err != nil {
			if (addr == a.ssh || addr == a.https) && errors.Is(err, syscall.EADDRINUSE) {
				t.Logf("%s is taken by a host service; the control client connects to it", addr)
				continue
			}
			return err
		}
		s.lns = append(s.lns, ln)
		s.wg.Go(func() { s.accept(ln) })
	}
	c, err := net.ListenPacket("udp4", a.snmp)
	if err != nil {
		return err
	}
	s.udp = append(s.udp, c)
	return nil
}

func (s *servers) accept(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.conns = append(s.conns, c)
		if s.closed {
			c.Close() // accepted as close ran
		}
		s.mu.Unlock()
		s.wg.Go(func() {
			buf := make([]byte, 512)
			for {
				if _, err := c.Read(buf); err != nil {
					return
				}
			}
		})
	}
}

func (s *servers) close() {
	for _, ln := range s.lns {
		ln.Close()
	}
	for _, c := range s.udp {
		c.Close()
	}
	s.mu.Lock()
	s.closed = true
	for _, c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// connect opens one connection to each address at once, holds them for
// hold, and closes them. A failed connection fails the test: a control
// that was never exercised proves nothing.
func connect(t *testing.T, addrs ...string) {
	t.Helper()
	errs := make(chan error, len(addrs))
	for _, a := range addrs {
		go func() {
			c, err := net.DialTimeout("tcp4", a, deadline)
			if err != nil {
				errs <- err
				return
			}
			time.Sleep(hold)
			errs <- c.Close()
		}()
	}
	for range addrs {
		if err := <-errs; err != nil {
			t.Errorf("client: %v", err)
		}
	}
}

// runKensa runs a runtime scan with method m forced, writing the JSON report
// to out. inWindow runs once kensa says the window has started (its first
// snapshot is taken: connections made before it are not seen, by design).
// It returns kensa's stderr.
func runKensa(t *testing.T, kensa string, m observe.Method, out string, inWindow func()) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), window+2*deadline)
	defer cancel()
	w := newWatcher("observing with")
	cmd := exec.CommandContext(ctx, kensa, "scan", "--packages", "runtime", "--duration", window.String(),
		"--observer", string(m), "--format", "json", "--output", out, "--no-download")
	cmd.Stderr = w
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	began := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	var err error
	select {
	case <-w.seen:
		t.Logf("%s: window started %v after launch", m, time.Since(began).Round(time.Millisecond))
		inWindow()
		err = <-exited
	case err = <-exited:
		t.Fatalf("kensa exited (%v) without starting a window:\n%s", err, w)
	case <-time.After(deadline):
		cancel()
		<-exited
		t.Fatalf("kensa did not start its window within %v:\n%s", deadline, w)
	}
	t.Logf("%s: kensa ran %v", m, time.Since(began).Round(time.Millisecond))
	if err != nil {
		t.Fatalf("kensa scan --observer %s: %v\n%s", m, err, w)
	}
	return w.String()
}

// watcher collects a process's output and closes seen when it contains
// needle.
type watcher struct {
	needle []byte
	seen   chan struct{}
	mu     sync.Mutex
	buf    bytes.Buffer
	done   bool
}

func newWatcher(needle string) *watcher {
	return &watcher{needle: []byte(needle), seen: make(chan struct{})}
}

func (w *watcher) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if !w.done && bytes.Contains(w.buf.Bytes(), w.needle) {
		w.done = true
		close(w.seen)
	}
	return len(p), nil
}

func (w *watcher) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}
