// Package agent is `kensa agent`: the long-running service on each host of
// a fleet. It enrols with the server once (a join token and a certificate
// request; its key never leaves the host), then speaks mutual TLS only:
// it heartbeats with its health, takes work from the server's answers,
// runs the collectors (and, for the runtime package on a live host, the
// observation window) and uploads what they produced, as agentapi
// describes.
//
// Nothing collected is lost to an unreachable server: every document is
// written to the spool (in the state directory) before it is sent, and
// removed only once the server has recorded it. Uploads carry an
// idempotency key made once per document, so a retry after a lost answer
// is recorded once; an unchanged inventory is not sent again. What the
// spool holds when the agent starts is sent before anything else.
package agent

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kensa-dev/kensa/internal/agentapi"
	"github.com/kensa-dev/kensa/internal/buildinfo"
	"github.com/kensa-dev/kensa/internal/collect"
	"github.com/kensa-dev/kensa/internal/collect/aptchangelog"
	"github.com/kensa-dev/kensa/internal/fleet"
	"github.com/kensa-dev/kensa/internal/pki"
)

// DefaultStateDir is where the agent keeps its enrolment and spool.
const DefaultStateDir = "/var/lib/kensa-agent"

// Heartbeat intervals: the default when the server names none (three of
// them make fleet.HeartbeatTimeout), and the bounds put on what a server
// asks, so that a wrong answer neither floods it nor silences the agent.
const (
	DefaultInterval = 30 * time.Second
	minInterval     = time.Second
	maxInterval     = 10 * time.Minute
)

// DefaultShutdownGrace is how long the upload in flight when the agent is
// told to stop may take to finish.
const DefaultShutdownGrace = 10 * time.Second

// Config is what an agent is built from.
type Config struct {
	// Server is the server's URL (https://host:port).
	Server string
	// JoinToken enrols the agent on its first start; unused once it is
	// enrolled.
	JoinToken string
	// Tags label the agent; sent at enrolment.
	Tags fleet.Tags
	// StateDir keeps the enrolment and the spool (DefaultStateDir when
	// empty).
	StateDir string
	// Root is the directory to assess: "" or "/" is the live host,
	// anything else an image (not observed: the runtime package is
	// excluded).
	Root string
	// Hostname, when set, names the host in the enrolment and in every
	// inventory (for an image, whose etc/hostname may be a template's).
	Hostname string
	// CAFile or CAFingerprint verify the server on first contact (one is
	// needed to enrol); later the CA kept at enrolment does, or CAFile
	// when given.
	CAFile        string
	CAFingerprint string
	// Version is reported to the server (buildinfo's when empty).
	Version string
	Logger  *slog.Logger
	// Proxy picks the proxy of each request; nil means
	// http.ProxyFromEnvironment (HTTPS_PROXY, NO_PROXY).
	Proxy func(*http.Request) (*url.URL, error)
	// Discovery and Updates tune the collectors as for kensa scan.
	Discovery collect.DiscoveryConfig
	Updates   aptchangelog.Options
	// SpoolMaxBytes and SpoolMaxDocs bound the spool (the defaults when
	// zero).
	SpoolMaxBytes int64
	SpoolMaxDocs  int
	// ShutdownGrace: DefaultShutdownGrace when zero.
	ShutdownGrace time.Duration

	// For tests: shorter waits, and events to synchronise on.
	minInterval, backoffBase, backoffMax time.Duration
	trace                                func(event string)
}

// Events passed to Config.trace.
const (
	evHeartbeat    = "heartbeat"     // a heartbeat was answered
	evUploadFailed = "upload-failed" // a pass over the spool stopped at an error
	evSent         = "sent"          // a spool entry was recorded by the server
	evSpooled      = "spooled"       // a run's work is in the spool
	evCanceled     = "canceled"      // a run the server canceled is dropped
	evRenewed      = "renewed"       // the client certificate was renewed
)

// Agent is one running agent.
type Agent struct {
	cfg      Config
	base     *url.URL
	root     string
	live     bool
	hostname string
	log      *slog.Logger
	proxy    func(*http.Request) (*url.URL, error)

	spool   *spool
	cert    atomic.Pointer[tls.Certificate]
	renewal renewal // used by the heartbeat loop only

	wakeUpload chan struct{}
	wakeBeat   chan struct{}

	// lastMu orders the uploader's replacing of the last inventory
	// with a run's reading of it.
	lastMu sync.Mutex

	mu       sync.Mutex
	runs     *finishedRuns
	running  string             // the run being collected for
	stopWork context.CancelFunc // ends it
	canceled bool               // the server canceled it
	// dropped are the runs the server canceled: their entries are not
	// sent, even from a listing of the spool made before the cancel.
	dropped map[string]bool
}

// New checks cfg and builds an agent; Run starts it.
func New(cfg Config) (*Agent, error) {
	u, err := url.Parse(cfg.Server)
	switch {
	case cfg.Server == "":
		return nil, errors.New("no server URL")
	case err != nil:
		return nil, fmt.Errorf("server URL: %w", err)
	case u.Scheme != "https" || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "":
		return nil, fmt.Errorf("server URL %q: want https://host[:port]", cfg.Server)
	}
	if cfg.CAFile != "" && cfg.CAFingerprint != "" {
		return nil, errors.New("give --ca or --ca-fingerprint, not both")
	}
	if cfg.CAFingerprint != "" {
		if _, err := pki.PinnedTLSConfig(cfg.CAFingerprint, u.Hostname()); err != nil {
			return nil, err
		}
	}
	if err := cfg.Tags.Check(); err != nil {
		return nil, err
	}
	if cfg.StateDir == "" {
		cfg.StateDir = DefaultStateDir
	}
	if cfg.Version == "" {
		cfg.Version = buildinfo.Get().Version
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.SpoolMaxBytes <= 0 {
		cfg.SpoolMaxBytes = DefaultSpoolMaxBytes
	}
	if cfg.SpoolMaxDocs <= 0 {
		cfg.SpoolMaxDocs = DefaultSpoolMaxDocs
	}
	if cfg.ShutdownGrace <= 0 {
		cfg.ShutdownGrace = DefaultShutdownGrace
	}
	if cfg.minInterval <= 0 {
		cfg.minInterval = minInterval
	}
	if cfg.backoffBase <= 0 {
		cfg.backoffBase = defaultBackoffBase
	}
	if cfg.backoffMax <= 0 {
		cfg.backoffMax = defaultBackoffMax
	}
	if cfg.trace == nil {
		cfg.trace = func(string) {}
	}
	a := &Agent{
		cfg: cfg, base: u, log: cfg.Logger, proxy: cfg.Proxy,
		wakeUpload: make(chan struct{}, 1), wakeBeat: make(chan struct{}, 1),
		dropped: map[string]bool{},
	}
	if a.proxy == nil {
		a.proxy = http.ProxyFromEnvironment
	}
	a.root, a.live = "/", true
	if cfg.Root != "" && filepath.Clean(cfg.Root) != "/" {
		abs, err := filepath.Abs(cfg.Root)
		if err != nil {
			return nil, err
		}
		a.root, a.live = abs, false
	}
	if _, err := osOf(a.root); err != nil && !a.live {
		return nil, fmt.Errorf("--root: %w", err)
	}
	a.hostname = cfg.Hostname
	if a.hostname == "" {
		a.hostname = hostnameOf(a.root, a.live)
	}
	if err := checkHostname(a.hostname); err != nil {
		if cfg.Hostname == "" {
			return nil, fmt.Errorf("the host's name cannot be read from %s: give --hostname", a.root)
		}
		return nil, fmt.Errorf("hostname: %w", err)
	}
	return a, nil
}

// Run enrols the agent if it has not, then heartbeats, collects and
// uploads until ctx ends. It returns nil when ctx ends, and an error when
// the agent cannot start (no enrolment and none possible, an unusable
// state directory).
func (a *Agent) Run(ctx context.Context) error {
	if err := ensureDir(a.cfg.StateDir); err != nil {
		return fmt.Errorf("state: %w", err)
	}
	var err error
	if a.spool, err = openSpool(filepath.Join(a.cfg.StateDir, SpoolDir), a.cfg.SpoolMaxBytes, a.cfg.SpoolMaxDocs); err != nil {
		return err
	}
	if a.runs, err = loadRuns(a.cfg.StateDir); err != nil {
		return err
	}
	enr, err := loadEnrolment(a.cfg.StateDir)
	if err != nil {
		return err
	}
	if enr == nil {
		if enr, err = a.enrol(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		a.log.Info("enrolled", "agent", enr.AgentID, "server", a.base.Host, "hostname", enr.Hostname)
	} else {
		a.log.Info("starting", "agent", enr.AgentID, "server", a.base.Host, "state", a.cfg.StateDir)
		if len(a.cfg.Tags) > 0 && !maps.Equal(a.cfg.Tags, enr.Tags) {
			a.log.Warn("tags are sent at enrolment only: the server keeps the enrolled ones", "enrolled", enr.Tags)
		}
	}
	a.cert.Store(&enr.cert)
	roots := enr.roots
	if a.cfg.CAFile != "" {
		// The user's file wins over the copy kept at enrolment: a
		// server certificate from a renewed CA is then trusted.
		if roots, _, err = loadPool(a.cfg.CAFile); err != nil {
			return fmt.Errorf("--ca: %w", err)
		}
	}
	a.renewal = renewal{agentID: enr.AgentID, roots: roots}
	c := newClient(a.base, pki.AgentTLSConfig(a.clientCert, roots, ""), a.proxy)
	defer c.close()

	// What an earlier run left in the spool goes first, before the
	// first heartbeat can bring new work.
	first := a.drain(ctx, c)
	if first != nil && ctx.Err() == nil {
		a.log.Warn("the spool could not be sent yet; it is kept and retried", "err", first)
		a.cfg.trace(evUploadFailed)
	}
	var wg sync.WaitGroup
	wg.Go(func() { a.uploader(ctx, c, first) })
	a.heartbeats(ctx, c, &wg)
	wg.Wait()
	return nil
}

// clientCert answers the server's request for a certificate with the
// agent's current one.
func (a *Agent) clientCert(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
	return a.cert.Load(), nil
}

// heartbeats reports the agent's health until ctx ends, and acts on the
// answers: runs to cancel, work to start.
func (a *Agent) heartbeats(ctx context.Context, c *client, wg *sync.WaitGroup) {
	bo := a.newBackoff()
	for {
		var resp agentapi.HeartbeatResponse
		err := c.postJSON(ctx, heartbeatPath, nil, a.heartbeat(), &resp)
		if ctx.Err() != nil {
			return
		}
		var wait time.Duration
		if err != nil {
			wait = bo.next()
			a.log.Warn("heartbeat failed", "retry_in", wait.Round(time.Millisecond), "err", err)
		} else {
			bo.reset()
			wait = a.interval(resp.Interval)
			a.handle(ctx, resp, wg)
			a.cfg.trace(evHeartbeat)
			a.maybeRenew(ctx, c, time.Now())
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		case <-a.wakeBeat:
			t.Stop()
		}
	}
}

// interval is the server's heartbeat interval within bounds.
func (a *Agent) interval(d time.Duration) time.Duration {
	switch {
	case d <= 0:
		return DefaultInterval
	case d < a.cfg.minInterval:
		return a.cfg.minInterval
	case d > maxInterval:
		return maxInterval
	}
	return d
}

// heartbeat is the agent's report: its status and health. Health is
// UNHEALTHY when the spool is full (documents would be lost) or the root
// cannot be identified (no collection could succeed); otherwise HEALTHY,
// RUNNING while collecting for a run.
func (a *Agent) heartbeat() agentapi.Heartbeat {
	hb := agentapi.Heartbeat{Status: a.status(), Health: string(fleet.Healthy), Reason: fleet.ReasonIdle}
	a.mu.Lock()
	hb.Running = a.running
	a.mu.Unlock()
	switch {
	case a.spool.full():
		hb.Health, hb.Reason = string(fleet.Unhealthy), fleet.ReasonSpoolFull
	case hb.OS == "":
		hb.Health, hb.Reason = string(fleet.Unhealthy), fleet.ReasonCollectorsFailed
	case hb.Running != "":
		hb.Reason = fleet.ReasonRunning
	}
	return hb
}

// wasCanceled reports whether the server canceled a run.
func (a *Agent) wasCanceled(id string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.dropped[id]
}

// handle acts on a heartbeat's answer.
func (a *Agent) handle(ctx context.Context, resp agentapi.HeartbeatResponse, wg *sync.WaitGroup) {
	for _, id := range resp.Cancel {
		a.cancelRun(id)
	}
	if w := resp.Work; w != nil && w.RunID != "" {
		a.startWork(ctx, *w, wg)
	}
}

// cancelRun stops collecting for a run the server stopped, and drops its
// documents from the spool: the server no longer wants them.
func (a *Agent) cancelRun(id string) {
	a.mu.Lock()
	if a.running == id && a.stopWork != nil {
		a.canceled = true
		a.stopWork()
	}
	known := a.runs.has(id)
	a.dropped[id] = true
	if err := a.runs.add(id); err != nil {
		a.log.Warn("cannot record a canceled run", "run", id, "err", err)
	}
	a.mu.Unlock()
	entries, _ := a.spool.list()
	dropped := 0
	for _, e := range entries {
		if e.meta.RunID == id {
			if err := a.spool.remove(e); err == nil {
				dropped++
			}
		}
	}
	if !known || dropped > 0 {
		a.log.Info("run canceled by the server", "run", id, "dropped_from_spool", dropped)
	}
	a.cfg.trace(evCanceled)
}

// startWork starts collecting for a run, unless the agent is busy with
// another or has done this one.
func (a *Agent) startWork(ctx context.Context, w agentapi.Work, wg *sync.WaitGroup) {
	a.mu.Lock()
	defer a.mu.Unlock()
	switch {
	case a.running == w.RunID || a.runs.has(w.RunID):
		return
	case a.running != "":
		a.log.Warn("work offered while collecting for another run: ignored", "run", w.RunID, "running", a.running)
		return
	}
	wctx, stop := context.WithCancel(ctx)
	a.running, a.stopWork, a.canceled = w.RunID, stop, false
	wg.Go(func() {
		defer func() {
			stop()
			a.mu.Lock()
			a.running, a.stopWork = "", nil
			a.mu.Unlock()
			wake(a.wakeBeat)
		}()
		a.work(ctx, wctx, w)
	})
}

// wake signals a loop without blocking; one pending signal is enough.
func wake(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}
