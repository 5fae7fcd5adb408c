package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/kensa-dev/kensa/internal/apiclient"
	"github.com/kensa-dev/kensa/internal/finding"
	"github.com/kensa-dev/kensa/internal/fleet"
	"github.com/kensa-dev/kensa/internal/pki"
	"github.com/kensa-dev/kensa/internal/report"
	"github.com/kensa-dev/kensa/internal/store/storetest"
	"github.com/kensa-dev/kensa/internal/testfixture"
)

// The fleet tests run kensa server, kensa agent and the client commands
// as processes on this machine, as issue 7 asks: a server with its own
// CA, agents enrolled with a join token, each assessing a fixture root
// (--root, so no root privileges are needed and the runtime package is
// excluded), a target chosen by tag, a template of all four rules
// packages, a run followed to its end through the CLI. TestFleetRun does
// it on SQLite and on PostgreSQL (KENSA_TEST_POSTGRES); TestFleetServerKilled
// kills the server with SIGKILL while the run collects and restarts it.
//
// Every process is in its own process group, killed with its children
// when the test ends; its output goes to a file printed when the test
// fails. Nothing waits by sleeping: each wait polls for what it waits
// for (a log line, the health endpoint, a run's state) until a deadline.

// shared is what the fleet tests build once per test binary, in a
// directory TestMain makes and removes: the kensa binary, and a
// vulnerability database imported from the shared feeds.
var shared struct {
	dir string

	buildOnce sync.Once
	kensa     string
	buildErr  error

	dbOnce sync.Once
	db     string
	dbErr  error
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "kensa-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	shared.dir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// fleetKensa builds ./cmd/kensa once (CGO_ENABLED=0, as releases are).
func fleetKensa(t *testing.T) string {
	t.Helper()
	shared.buildOnce.Do(func() {
		goTool, err := exec.LookPath("go")
		if err != nil {
			shared.buildErr = fmt.Errorf("the go command is needed to build kensa: %w", err)
			return
		}
		mod, err := exec.Command(goTool, "env", "GOMOD").Output()
		if m := string(bytes.TrimSpace(mod)); err != nil || m == "" || m == os.DevNull {
			shared.buildErr = fmt.Errorf("go env GOMOD: %q, %v", mod, err)
			return
		}
		out := filepath.Join(shared.dir, "kensa")
		cmd := exec.Command(goTool, "build", "-buildvcs=false", "-o", out, "./cmd/kensa")
		cmd.Dir = filepath.Dir(string(bytes.TrimSpace(mod)))
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			shared.buildErr = fmt.Errorf("go build ./cmd/kensa: %v\n%s", err, b)
			return
		}
		shared.kensa = out
	})
	if shared.buildErr != nil {
		t.Fatal(shared.buildErr)
	}
	return shared.kensa
}

// feeds are the vulnerability feeds the server's database is imported
// from (../shared/vulndata/README.md): Debian's security tracker (which
// ends before bookworm), Alpine's secdb (v3.3 to v3.11) and Canonical's
// database for Ubuntu 20.04.
var feeds = [][]string{
	{"vulndata", "native", "debian", "debian-security-tracker-dsa-dla-2023-04-02.zip"},
	{"vulndata", "native", "alpine", "alpine-secdb-2020-06-08.zip"},
	{"vulndata", "native", "ubuntu", "ubuntu-vuln-db-focal.json.bz2"},
}

// fleetVulnDB imports the feeds once with kensa db import. The servers
// only read it.
func fleetVulnDB(t *testing.T, kensa string) string {
	t.Helper()
	var paths []string
	for _, f := range feeds {
		paths = append(paths, testfixture.Shared(t, f...)) // skips without ../shared
	}
	shared.dbOnce.Do(func() {
		db := filepath.Join(shared.dir, "vulndb.sqlite")
		ctx, cancel := context.WithTimeout(context.Background(), deadline)
		defer cancel()
		cmd := exec.CommandContext(ctx, kensa, append([]string{"db", "import", "--db", db}, paths...)...)
		cmd.Env = childEnv()
		if b, err := cmd.CombinedOutput(); err != nil {
			shared.dbErr = fmt.Errorf("kensa db import: %v\n%s", err, b)
			return
		}
		shared.db = db
	})
	if shared.dbErr != nil {
		t.Fatal(shared.dbErr)
	}
	return shared.db
}

// childEnv is the environment of the processes: this one's without
// KENSA_ variables and proxies, which would point them elsewhere.
func childEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch strings.ToUpper(k) {
		case "HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY":
			continue
		}
		if strings.HasPrefix(k, "KENSA_") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, extra...)
}

// fleetPostgres is the test's PostgreSQL database, in a schema of its
// own (storetest.PostgresURL), dropped when the test ends.
func fleetPostgres(t *testing.T) string {
	t.Helper()
	return storetest.PostgresURL(t, "kensa_e2e_")
}

// proc is a process the test started: in its own process group, its
// stdout and stderr in a file, printed when the test fails (or with
// KENSA_E2E_VERBOSE=1).
type proc struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{} // closed when it has exited
	err  error         // how it exited, once done
}

// startProc starts kensa with args. The process group is killed when the
// test ends; its output is printed if the test failed.
func startProc(t *testing.T, kensa, logDir, name string, env []string, args ...string) *proc {
	t.Helper()
	p := &proc{name: name, log: filepath.Join(logDir, name+".log"), done: make(chan struct{})}
	f, err := os.OpenFile(p.log, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	p.cmd = exec.Command(kensa, args...)
	p.cmd.Stdout, p.cmd.Stderr = f, f
	p.cmd.Env = env
	// Its own group, so that killing it kills what it started; and
	// killed if the test binary dies.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		f.Close()
		t.Fatalf("start %s: %v", name, err)
	}
	f.Close() // the child has its copy
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.kill(t)
		if t.Failed() || os.Getenv("KENSA_E2E_VERBOSE") != "" {
			b, _ := os.ReadFile(p.log)
			t.Logf("--- %s (kensa %s) output:\n%s", name, strings.Join(args, " "), b)
		}
	})
	return p
}

// kill kills the process group with SIGKILL and waits for the process.
func (p *proc) kill(t *testing.T) {
	syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	select {
	case <-p.done:
	case <-time.After(deadline):
		t.Errorf("%s (pid %d) did not exit after SIGKILL", p.name, p.cmd.Process.Pid)
	}
}

func (p *proc) running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

func (p *proc) output() string {
	b, _ := os.ReadFile(p.log)
	return string(b)
}

// waitLog waits for a line of the process's output that re matches and
// returns its submatches. It fails the test if the process exits first.
func (p *proc) waitLog(t *testing.T, re *regexp.Regexp) []string {
	t.Helper()
	var out []string
	poll(t, deadline, fmt.Sprintf("%s to log %q", p.name, re), func() bool {
		if m := re.FindStringSubmatch(p.output()); m != nil {
			out = m
			return true
		}
		if !p.running() {
			t.Fatalf("%s exited (%v) before logging %q", p.name, p.err, re)
		}
		return false
	})
	return out
}

// poll calls cond until it is true, failing the test after d.
func poll(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	end := time.Now().Add(d)
	for !cond() {
		if time.Now().After(end) {
			t.Fatalf("gave up after %v waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond) // the polling interval, not a synchronisation
	}
}

// fleetEnv is a running server and what talks to it.
type fleetEnv struct {
	t        *testing.T
	kensa    string
	dir      string // logs, states, outputs
	data     string // the server's --data
	database string // --database, or "" for SQLite
	vulndb   string
	port     string
	fp       string // the CA's fingerprint, as the server logged it
	server   *proc
	starts   int
	token    string // admin
	join     string // join token, 3 uses
	api      *apiclient.Client
}

var (
	listeningRE   = regexp.MustCompile(`msg="kensa server listening" addr=([0-9.]+):([0-9]+)`)
	fingerprintRE = regexp.MustCompile(`fingerprint=(SHA256:[0-9a-f]+)`)
)

// newFleet creates the tokens and starts the server on a port of its
// choosing (127.0.0.1:0).
func newFleet(t *testing.T, database string) *fleetEnv {
	t.Helper()
	kensa := fleetKensa(t)
	f := &fleetEnv{t: t, kensa: kensa, dir: t.TempDir(), database: database, vulndb: fleetVulnDB(t, kensa)}
	f.data = filepath.Join(f.dir, "server")
	f.token = strings.TrimSpace(f.mustServerCmd("server", "token", "create", "--role", "admin", "--name", "e2e"))
	f.join = strings.TrimSpace(f.mustServerCmd("server", "join-token", "create", "--max-uses", "3", "--expires", "1h"))
	f.startServer("127.0.0.1:0")
	roots := x509.NewCertPool()
	b, err := os.ReadFile(f.caFile())
	if err != nil || !roots.AppendCertsFromPEM(b) {
		t.Fatalf("the server's CA %s: %v", f.caFile(), err)
	}
	if f.api, err = apiclient.New(f.url(), f.token, pki.ClientTLSConfig(roots)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.api.Close)
	f.waitHealthy()
	return f
}

func (f *fleetEnv) caFile() string { return filepath.Join(f.data, "pki", pki.CACertFile) }
func (f *fleetEnv) url() string    { return "https://127.0.0.1:" + f.port }

// storeArgs locate the server's state.
func (f *fleetEnv) storeArgs() []string {
	args := []string{"--data", f.data}
	if f.database != "" {
		args = append(args, "--database", f.database)
	}
	return args
}

// mustServerCmd runs a kensa server subcommand and returns its stdout.
func (f *fleetEnv) mustServerCmd(args ...string) string {
	f.t.Helper()
	out, err := f.run(nil, append(args, f.storeArgs()...)...)
	if err != nil {
		f.t.Fatal(err)
	}
	return out
}

// startServer starts kensa server on listen and waits until it says on
// which port it listens. A restart on a fixed port retries while the
// port is still taken.
func (f *fleetEnv) startServer(listen string) {
	t := f.t
	t.Helper()
	for attempt := 1; ; attempt++ {
		f.starts++
		args := append([]string{"server", "--listen", listen, "--db", f.vulndb, "--heartbeat", "1s", "--grace", "30s"}, f.storeArgs()...)
		p := startProc(t, f.kensa, f.dir, fmt.Sprintf("server-%d", f.starts), childEnv(), args...)
		var m []string
		poll(t, deadline, "the server to listen", func() bool {
			m = listeningRE.FindStringSubmatch(p.output())
			return m != nil || !p.running()
		})
		if m == nil {
			if strings.Contains(p.output(), "address already in use") && attempt < 50 {
				continue // the killed server's port is not free yet
			}
			t.Fatalf("kensa server exited (%v) without listening:\n%s", p.err, p.output())
		}
		fp := fingerprintRE.FindStringSubmatch(p.output())
		if fp == nil {
			t.Fatalf("kensa server did not log its CA fingerprint:\n%s", p.output())
		}
		if f.fp != "" && fp[1] != f.fp {
			t.Fatalf("the restarted server's CA is %s, not %s: it made a new CA", fp[1], f.fp)
		}
		f.fp, f.port, f.server = fp[1], m[2], p
		return
	}
}

func (f *fleetEnv) waitHealthy() {
	f.t.Helper()
	poll(f.t, deadline, "GET /api/v1/health", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, err := f.api.Health(ctx)
		return err == nil
	})
}

// run runs kensa as a client (env: KENSA_SERVER, KENSA_TOKEN,
// KENSA_CA when the server is up) and returns its stdout; an error says
// how it exited, with its stderr.
func (f *fleetEnv) run(env []string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, f.kensa, args...)
	cmd.Env = childEnv(env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		return stdout.String(), fmt.Errorf("kensa %s: %w\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String(), nil
}

func (f *fleetEnv) clientEnv() []string {
	return []string{"KENSA_SERVER=" + f.url(), "KENSA_TOKEN=" + f.token, "KENSA_CA=" + f.caFile()}
}

// cli runs a client command and returns its stdout, failing the test if
// it fails.
func (f *fleetEnv) cli(args ...string) string {
	f.t.Helper()
	out, err := f.run(f.clientEnv(), args...)
	if err != nil {
		f.t.Fatal(err)
	}
	return out
}

// cliID runs a command that prints the id of what it created.
func (f *fleetEnv) cliID(args ...string) string {
	f.t.Helper()
	id := strings.TrimSpace(f.cli(args...))
	if id == "" || strings.ContainsAny(id, " \n") {
		f.t.Fatalf("kensa %s printed %q, not an id", strings.Join(args, " "), id)
	}
	return id
}

// agentSpec is an agent to start.
type agentSpec struct {
	hostname, root, tag string
	server              string // its --server: the server's URL unless set
	pin                 bool   // trust the server by --ca-fingerprint instead of --ca
}

// agentProc is a running agent.
type agentProc struct {
	*proc
	spec  agentSpec
	state string
}

func (f *fleetEnv) startAgent(s agentSpec) *agentProc {
	f.t.Helper()
	a := &agentProc{spec: s, state: filepath.Join(f.dir, "agent-"+s.hostname)}
	server := s.server
	if server == "" {
		server = f.url()
	}
	trust := []string{"--ca", f.caFile()}
	if s.pin {
		trust = []string{"--ca-fingerprint", f.fp}
	}
	args := append([]string{"agent", "--server", server, "--root", s.root, "--hostname", s.hostname, "--tag", s.tag,
		"--state", a.state, "--no-download", "--deb-cache", filepath.Join(f.dir, "debs-"+s.hostname)}, trust...)
	// The join token by the environment, as the systemd unit passes it.
	a.proc = startProc(f.t, f.kensa, f.dir, "agent-"+s.hostname, childEnv("KENSA_JOIN_TOKEN="+f.join), args...)
	return a
}

// waitAgents waits until every agent named is enrolled, healthy and has
// reported its OS, and returns their ids by hostname.
func (f *fleetEnv) waitAgents(hostnames ...string) map[string]string {
	f.t.Helper()
	ids := map[string]string{}
	poll(f.t, deadline, fmt.Sprintf("agents %v to enrol and report", hostnames), func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		agents, err := f.api.ListAgents(ctx)
		if err != nil {
			return false
		}
		clear(ids)
		for _, a := range agents {
			if slices.Contains(hostnames, a.Hostname) && a.Health == fleet.Healthy && a.OS != "" {
				ids[a.Hostname] = a.ID
			}
		}
		return len(ids) == len(hostnames)
	})
	return ids
}

// getRun asks the server for a run (in process: fast enough to poll).
func (f *fleetEnv) getRun(id string) (apiclient.Run, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return f.api.GetRun(ctx, id)
}

// showRun is kensa run show RUN --format json.
func (f *fleetEnv) showRun(id string) apiclient.Run {
	f.t.Helper()
	var r apiclient.Run
	if err := json.Unmarshal([]byte(f.cli("run", "show", id, "--format", "json")), &r); err != nil {
		f.t.Fatalf("kensa run show --format json: %v", err)
	}
	return r
}

// findingRow is what kensa findings list --format json prints of a
// finding.
type findingRow struct {
	finding.Finding
	RunID   string `json:"run_id"`
	AgentID string `json:"agent_id"`
	Status  string `json:"status"`
}

func (f *fleetEnv) findings(runID string) []findingRow {
	f.t.Helper()
	var doc struct {
		Findings []findingRow `json:"findings"`
	}
	if err := json.Unmarshal([]byte(f.cli("findings", "list", "--run", runID, "--format", "json")), &doc); err != nil {
		f.t.Fatalf("kensa findings list --format json: %v", err)
	}
	return doc.Findings
}

// wantHistory checks that a run went through every state to COMPLETED,
// in order, each transition from the state the previous one reached.
func wantHistory(t *testing.T, r apiclient.Run) {
	t.Helper()
	want := []fleet.RunState{fleet.RunCreated, fleet.RunStartDataCollectionPending, fleet.RunCollectingData,
		fleet.RunDataCollected, fleet.RunEvaluatingRules, fleet.RunCompleted}
	var got []fleet.RunState
	for i, tr := range r.History {
		got = append(got, tr.To)
		if i > 0 && (tr.From != r.History[i-1].To || tr.At.Before(r.History[i-1].At)) {
			t.Errorf("transition %d %s -> %s at %s does not follow %s at %s", i, tr.From, tr.To, tr.At, r.History[i-1].To, r.History[i-1].At)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("history %v, want %v", got, want)
	}
}

// roots are the agents' fixture roots.
type roots struct {
	debian, alpine, ubuntu string
}

// fleetRoots locates the fixture roots: Debian 12 and Ubuntu 20.04 as
// they are, and a copy of the Alpine 3.14 minirootfs with an
// /etc/login.defs that lets passwords live forever (PASS_MAX_DAYS
// 99999), so that the one rules package Alpine is assessed for
// (best-practices: the CIS package has no rules for Alpine, and the
// feeds no advisories for 3.14) has something to find.
func fleetRoots(t *testing.T) roots {
	t.Helper()
	r := roots{
		debian: testfixture.Shared(t, "fixtures", "pkgdb", "dpkg", "debian-12-this-host"),
		ubuntu: testfixture.Shared(t, "fixtures", "pkgdb", "dpkg", "ubuntu-20.04-base"),
		alpine: filepath.Join(t.TempDir(), "alpine"),
	}
	if err := os.CopyFS(r.alpine, os.DirFS(testfixture.Shared(t, "fixtures", "pkgdb", "apk", "alpine-3.14-minirootfs"))); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(r.alpine, "etc", "login.defs"), []byte("PASS_MAX_DAYS\t99999\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return r
}

// Hostnames of the agents.
const (
	hostDebian = "debian"
	hostAlpine = "prod-alpine"
	hostUbuntu = "prod-ubuntu"
)

// TestFleetRun is issue 7's end-to-end test: a server and three agents,
// a target selecting two of them by tag, a template of all four rules
// packages with a 20 s window, run through the CLI to COMPLETED.
func TestFleetRun(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { fleetRun(t, false) })
	t.Run("postgres", func(t *testing.T) { fleetRun(t, true) })
}

func fleetRun(t *testing.T, postgres bool) {
	began := time.Now()
	defer func() { t.Logf("wall time %v", time.Since(began).Round(time.Millisecond)) }()
	rt := fleetRoots(t) // skips without ../shared
	database := ""
	if postgres {
		database = fleetPostgres(t)
	}
	f := newFleet(t, database)
	// Selected: Ubuntu 20.04, which the imported focal feed covers (the
	// cve package is evaluated), and Alpine 3.14, which CIS does not
	// cover and whose feed stops at 3.11. Not selected: Debian 12, which
	// trusts the server by the fingerprint it logged.
	f.startAgent(agentSpec{hostname: hostUbuntu, root: rt.ubuntu, tag: "env=prod"})
	f.startAgent(agentSpec{hostname: hostAlpine, root: rt.alpine, tag: "env=prod"})
	f.startAgent(agentSpec{hostname: hostDebian, root: rt.debian, tag: "env=dev", pin: true})
	ids := f.waitAgents(hostDebian, hostAlpine, hostUbuntu)
	ubu, alp, dev := ids[hostUbuntu], ids[hostAlpine], ids[hostDebian]

	target := f.cliID("target", "create", "--name", "prod", "--tag", "env=prod")
	var preview struct {
		Agents []fleet.Agent `json:"agents"`
	}
	if err := json.Unmarshal([]byte(f.cli("target", "preview", target, "--format", "json")), &preview); err != nil {
		t.Fatal(err)
	}
	var previewed []string
	for _, a := range preview.Agents {
		previewed = append(previewed, a.ID)
	}
	slices.Sort(previewed)
	if !slices.Equal(previewed, sorted(ubu, alp)) {
		t.Errorf("target preview lists %v, want %s and %s", previewed, ubu, alp)
	}
	tpl := f.cliID("template", "create", "--name", "all-packages", "--target", target,
		"--packages", "cve,cis,best-practices,runtime", "--duration", "20s", "--attribute", "suite=e2e")
	started := time.Now()
	runID := f.cliID("run", "start", tpl, "--wait", "--timeout", "3m", "--interval", "200ms")
	t.Logf("run %s: COMPLETED %v after run start", runID, time.Since(started).Round(time.Millisecond))

	r := f.showRun(runID)
	if r.State != fleet.RunCompleted {
		t.Fatalf("run %s is %s (%s), want COMPLETED", runID, r.State, r.Reason())
	}
	wantHistory(t, r)

	// The plan: which packages each selected agent is assessed for, and
	// why the others are not.
	gotPlan := map[string][]string{}
	for _, a := range r.Assignments {
		gotPlan[a.Agent.ID] = a.Packages
	}
	wantPlan := map[string][]string{ubu: {"cve", "best-practices"}, alp: {"best-practices"}}
	if fmt.Sprint(gotPlan) != fmt.Sprint(wantPlan) {
		t.Errorf("assignments %v, want %v", gotPlan, wantPlan)
	}
	type excl struct {
		agent, pkg string
		reason     fleet.ExclusionReason
	}
	var gotExcl []excl
	for _, e := range r.Exclusions {
		gotExcl = append(gotExcl, excl{e.AgentID, e.Package, e.Reason})
		t.Logf("exclusion: %s %s: %s: %s", e.Hostname, e.Package, e.Reason, e.Detail)
	}
	wantExcl := []excl{
		// Ubuntu 20.04: no CIS profile (22.04 and 24.04 have one).
		{ubu, "cis", fleet.ExcludedUnsupportedOS},
		{ubu, "runtime", fleet.ExcludedNotLive},
		// Alpine 3.14: secdb stops at 3.11; CIS has no Alpine rules.
		{alp, "cve", fleet.ExcludedNoFeedData},
		{alp, "cis", fleet.ExcludedUnsupportedOS},
		{alp, "runtime", fleet.ExcludedNotLive},
	}
	less := func(a, b excl) int { return strings.Compare(a.agent+a.pkg, b.agent+b.pkg) }
	slices.SortFunc(gotExcl, less)
	slices.SortFunc(wantExcl, less)
	if !slices.Equal(gotExcl, wantExcl) {
		t.Errorf("exclusions %v, want %v", gotExcl, wantExcl)
	}
	counts := map[string]int{}
	for _, w := range r.Agents {
		if w.Status != "done" || w.Findings == nil {
			t.Errorf("agent %s: work %s (%s), findings %v: want done with a report", w.AgentID, w.Status, w.Error, w.Findings)
			continue
		}
		counts[w.AgentID] = *w.Findings
	}
	if len(r.Agents) != 2 {
		t.Errorf("the run has work for %d agents, want 2 (%s, %s)", len(r.Agents), ubu, alp)
	}

	// The findings: from both selected agents, none from the third.
	fs := f.findings(runID)
	perAgent := map[string]int{}
	cve := 0
	for _, x := range fs {
		perAgent[x.AgentID]++
		if x.AgentID == ubu && x.RulesPackage == "cve" {
			cve++
		}
		if x.RunID != runID || x.Status != "new" || x.Attributes["suite"] != "e2e" {
			t.Errorf("finding %s (%s) of agent %s: run %q, status %q, attribute suite %q: want %s, new, e2e",
				x.ID, x.RuleID, x.AgentID, x.RunID, x.Status, x.Attributes["suite"], runID)
		}
	}
	t.Logf("findings: %d from %s (%s), %d from %s (%s), %d from %s (%s)",
		perAgent[ubu], hostUbuntu, ubu, perAgent[alp], hostAlpine, alp, perAgent[dev], hostDebian, dev)
	switch {
	case perAgent[ubu] == 0 || perAgent[alp] == 0:
		t.Errorf("findings from %s: %d, from %s: %d: want some from both", hostUbuntu, perAgent[ubu], hostAlpine, perAgent[alp])
	case perAgent[dev] != 0:
		t.Errorf("%d findings from %s, which the target does not select", perAgent[dev], hostDebian)
	case len(perAgent) != 2:
		t.Errorf("findings from agents %v, want only %s and %s", perAgent, ubu, alp)
	case cve == 0:
		t.Errorf("no cve findings from %s: the focal feed was matched against nothing", hostUbuntu)
	}
	t.Logf("cve findings from %s: %d", hostUbuntu, cve)
	for id, n := range counts {
		if perAgent[id] != n {
			t.Errorf("agent %s: run show counts %d findings, findings list has %d", id, n, perAgent[id])
		}
	}

	// Each agent's report: valid JSON by the report contract, and HTML.
	for host, id := range map[string]string{hostUbuntu: ubu, hostAlpine: alp} {
		js := filepath.Join(f.dir, host+".json")
		html := filepath.Join(f.dir, host+".html")
		f.cli("report", "get", runID, "--agent", id, "-f", "json", "-o", js, "-f", "html", "-o", html)
		b, err := os.ReadFile(js)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := report.Parse(b)
		if err != nil {
			t.Errorf("report of %s: %v", host, err)
			continue
		}
		if rep.Host.Hostname != host || len(rep.Findings) != perAgent[id] {
			t.Errorf("report of %s: host %q with %d findings, want %s with %d", id, rep.Host.Hostname, len(rep.Findings), host, perAgent[id])
		}
		h, err := os.ReadFile(html)
		if err != nil || !bytes.Contains(h, []byte("<html")) || !bytes.Contains(h, []byte(host)) {
			t.Errorf("HTML report of %s: %d bytes, %v: want an HTML document naming the host", host, len(h), err)
		}
	}
}

func sorted(s ...string) []string {
	slices.Sort(s)
	return s
}

// TestFleetServerKilled kills the server with SIGKILL while a run
// collects, restarts it on the same data and port, and checks that the
// run completes with every agent's documents: those recorded before the
// kill, and those an agent collected while the server was down, which it
// kept in its spool and sent once the server was back.
//
// To make that second case certain rather than a matter of timing, the
// Debian agent talks to the server through a relay (gate) that holds
// what the server sends it from the moment the server has given it the
// run's work: the server is killed before the agent learns of the work,
// so it collects with the server down.
func TestFleetServerKilled(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { serverKilled(t, false) })
	t.Run("postgres", func(t *testing.T) { serverKilled(t, true) })
}

func serverKilled(t *testing.T, postgres bool) {
	began := time.Now()
	defer func() { t.Logf("wall time %v", time.Since(began).Round(time.Millisecond)) }()
	rt := fleetRoots(t) // skips without ../shared
	database := ""
	if postgres {
		database = fleetPostgres(t)
	}
	f := newFleet(t, database)
	g := newGate(t, "127.0.0.1:"+f.port)
	// The gate's address is a loopback IP: the server's certificate
	// names those.
	agDeb := f.startAgent(agentSpec{hostname: hostDebian, root: rt.debian, tag: "env=prod", server: "https://" + g.addr()})
	agAlp := f.startAgent(agentSpec{hostname: hostAlpine, root: rt.alpine, tag: "env=prod"})
	ids := f.waitAgents(hostDebian, hostAlpine)
	deb, alp := ids[hostDebian], ids[hostAlpine]

	target := f.cliID("target", "create", "--name", "prod", "--tag", "env=prod")
	tpl := f.cliID("template", "create", "--name", "all-packages", "--target", target,
		"--packages", "cve,cis,best-practices,runtime", "--duration", "20s")

	// Arm the gate: before it passes on anything the server sends the
	// Debian agent, it asks the server whether that agent has taken a
	// run's work; from the first yes it holds everything. The server
	// records the work as taken before it answers the heartbeat that
	// carries it, so that answer is held. (It asks of every run, not of
	// the one started below: the agent may take the work before kensa
	// run start has printed its id.)
	g.arm(func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		runs, err := f.api.ListRuns(ctx, "")
		if err != nil {
			return false
		}
		for _, r := range runs {
			for _, w := range r.Agents {
				if w.AgentID == deb && w.Status == "collecting" {
					return true
				}
			}
		}
		return false
	})
	id := f.cliID("run", "start", tpl)
	select {
	case <-g.holding:
	case <-time.After(deadline):
		t.Fatalf("the Debian agent did not take the work of run %s within %v", id, deadline)
	}
	var r apiclient.Run
	poll(t, deadline, "the run to be COLLECTING_DATA", func() bool {
		var err error
		r, err = f.getRun(id)
		return err == nil && r.State == fleet.RunCollectingData
	})
	// The Debian agent's work is open while the gate holds its answer:
	// the run cannot go past COLLECTING_DATA.
	for _, w := range r.Agents {
		if w.AgentID == deb && w.Status != "collecting" {
			t.Fatalf("run %s: the Debian agent's work is %s, want collecting", id, w.Status)
		}
	}
	t.Logf("run %s is %s; killing the server (pid %d) with SIGKILL", id, r.State, f.server.cmd.Process.Pid)
	killed := time.Now()
	f.server.kill(t)
	if err := f.server.err; err == nil || !strings.Contains(err.Error(), "killed") {
		t.Fatalf("the server exited with %v, not killed", err)
	}

	// The agent learns of the work now, collects, and cannot upload.
	g.release()
	agDeb.waitLog(t, regexp.MustCompile(`msg="collection done" run=`+regexp.QuoteMeta(id)))
	agDeb.waitLog(t, regexp.MustCompile(`upload failed; the documents stay in the spool`))
	kinds := spooled(t, agDeb.state, id)
	if !slices.Contains(kinds, "inventory") || !slices.Contains(kinds, "done") {
		t.Fatalf("with the server down, the Debian agent's spool holds %v for run %s, want its inventory and done report", kinds, id)
	}
	t.Logf("with the server down the Debian agent spooled %v", kinds)

	// Restart on the same data and port; the agents come back to it.
	f.startServer("127.0.0.1:" + f.port)
	restarted := time.Now()
	t.Logf("server restarted %v after the kill", restarted.Sub(killed).Round(time.Millisecond))
	f.waitHealthy()
	if out := f.cli("run", "wait", id, "--timeout", "2m", "--interval", "200ms"); strings.TrimSpace(out) != string(fleet.RunCompleted) {
		t.Fatalf("kensa run wait printed %q, want COMPLETED", out)
	}
	t.Logf("run %s COMPLETED %v after the restart", id, time.Since(restarted).Round(time.Millisecond))

	r = f.showRun(id)
	wantHistory(t, r)
	for _, w := range r.Agents {
		if w.Status != "done" || w.Findings == nil || *w.Findings == 0 {
			t.Errorf("agent %s: work %s (%s), findings %v: want done, with findings", w.AgentID, w.Status, w.Error, w.Findings)
		}
	}
	if len(r.Agents) != 2 {
		t.Errorf("the run has work for %d agents, want 2", len(r.Agents))
	}
	perAgent := map[string]int{}
	for _, x := range f.findings(id) {
		perAgent[x.AgentID]++
	}
	if perAgent[deb] == 0 || perAgent[alp] == 0 {
		t.Errorf("findings %v: want some from %s (%s) and %s (%s)", perAgent, hostDebian, deb, hostAlpine, alp)
	}
	for host, id2 := range map[string]string{hostDebian: deb, hostAlpine: alp} {
		b, err := f.run(f.clientEnv(), "report", "get", id, "--agent", id2, "-f", "json")
		if err != nil {
			t.Errorf("report of %s: %v", host, err)
		} else if _, err := report.Parse([]byte(b)); err != nil {
			t.Errorf("report of %s: %v", host, err)
		}
	}

	// Both agents heartbeat to the new server, still running; the
	// Debian agent's spool is empty: everything was delivered.
	poll(t, deadline, "both agents to heartbeat to the restarted server", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		agents, err := f.api.ListAgents(ctx)
		if err != nil {
			return false
		}
		n := 0
		for _, a := range agents {
			if a.LastSeen.After(restarted) && a.Health == fleet.Healthy {
				n++
			}
		}
		return n == 2
	})
	poll(t, deadline, "the Debian agent's spool to empty", func() bool { return len(spooled(t, agDeb.state, "")) == 0 })
	for _, a := range []*agentProc{agDeb, agAlp} {
		if !a.running() {
			t.Errorf("agent %s exited: %v", a.spec.hostname, a.err)
		}
	}
}

// spooled lists the kinds of an agent's spool entries for a run (every
// run when runID is empty), read from the first line of each entry.
func spooled(t *testing.T, state, runID string) []string {
	t.Helper()
	dir := filepath.Join(state, "spool")
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, de := range des {
		if !de.Type().IsRegular() {
			continue
		}
		fh, err := os.Open(filepath.Join(dir, de.Name()))
		if err != nil {
			continue // sent and removed meanwhile
		}
		line, _ := bufio.NewReader(fh).ReadBytes('\n')
		fh.Close()
		var m struct {
			Kind  string `json:"kind"`
			RunID string `json:"run_id"`
		}
		if json.Unmarshal(line, &m) != nil || m.Kind == "" {
			continue // not an entry (a file being written)
		}
		if runID == "" || m.RunID == runID {
			kinds = append(kinds, m.Kind)
		}
	}
	return kinds
}

// gate relays TCP connections to a backend, and can hold what the
// backend sends back: once armed, it asks its check before passing on
// each chunk from the backend, and from the first yes holds every chunk
// of every connection until released. What it holds it keeps reading,
// so a backend that dies meanwhile loses nothing already sent.
type gate struct {
	t       *testing.T
	ln      net.Listener
	backend string

	mu      sync.Mutex
	check   func() bool
	holding chan struct{} // closed when it starts holding
	held    bool
	open    chan struct{} // closed by release
	conns   []net.Conn
	wg      sync.WaitGroup
}

func newGate(t *testing.T, backend string) *gate {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := &gate{t: t, ln: ln, backend: backend, holding: make(chan struct{}), open: make(chan struct{})}
	g.wg.Add(1)
	go g.serve()
	t.Cleanup(g.close)
	return g
}

func (g *gate) addr() string { return g.ln.Addr().String() }

func (g *gate) arm(check func() bool) {
	g.mu.Lock()
	g.check = check
	g.mu.Unlock()
}

func (g *gate) release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.held {
		g.held = false
		close(g.open)
	}
}

func (g *gate) close() {
	g.ln.Close()
	g.release()
	g.mu.Lock()
	for _, c := range g.conns {
		c.Close()
	}
	g.mu.Unlock()
	g.wg.Wait()
}

func (g *gate) track(c net.Conn) {
	g.mu.Lock()
	g.conns = append(g.conns, c)
	g.mu.Unlock()
}

func (g *gate) serve() {
	defer g.wg.Done()
	for {
		c, err := g.ln.Accept()
		if err != nil {
			return
		}
		g.track(c)
		g.wg.Add(1)
		go g.relay(c)
	}
}

// pass is called before a chunk from the backend goes to the client.
func (g *gate) pass() {
	g.mu.Lock()
	check := g.check
	g.mu.Unlock()
	if check != nil && check() {
		g.mu.Lock()
		if g.check != nil {
			g.check, g.held = nil, true
			close(g.holding)
		}
		g.mu.Unlock()
	}
	g.mu.Lock()
	held, open := g.held, g.open
	g.mu.Unlock()
	if held {
		<-open
	}
}

func (g *gate) relay(client net.Conn) {
	defer g.wg.Done()
	defer client.Close()
	server, err := net.DialTimeout("tcp", g.backend, 5*time.Second)
	if err != nil {
		return // the server is down: so is the connection
	}
	g.track(server)
	defer server.Close()
	// Client to server, as it comes.
	up := make(chan struct{})
	go func() {
		defer close(up)
		io.Copy(server, client)
		server.(*net.TCPConn).CloseWrite()
	}()
	// Server to client: read as it comes, queued, passed on through the
	// gate.
	chunks := make(chan []byte, 4096)
	go func() {
		defer close(chunks)
		for {
			b := make([]byte, 32<<10)
			n, err := server.Read(b)
			if n > 0 {
				chunks <- b[:n]
			}
			if err != nil {
				return
			}
		}
	}()
	for b := range chunks {
		g.pass()
		if _, err := client.Write(b); err != nil {
			server.Close()
			for range chunks {
			}
			break
		}
	}
	client.(*net.TCPConn).CloseWrite()
	// The client closes its side once it has read to the end; closing
	// ours before would lose what it has not read to a reset.
	<-up
}
