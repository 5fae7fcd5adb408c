package agent

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kensa-dev/kensa/internal/agentapi"
	"github.com/kensa-dev/kensa/internal/collect/aptchangelog"
	"github.com/kensa-dev/kensa/internal/fleet"
	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/pki"
	"github.com/kensa-dev/kensa/internal/testfixture"
)

var allPackages = []string{"cve", "cis", "best-practices", "runtime"}

func fixtureRoot(t *testing.T) string {
	return testfixture.Shared(t, "fixtures", "pkgdb", "dpkg", "debian-12-this-host")
}

// testConfig is an agent of srv assessing the fixture root, with short
// waits: the server's interval, and retries within milliseconds.
func testConfig(t *testing.T, srv *fakeServer, tr *tracer) Config {
	return Config{
		Server:        srv.url,
		JoinToken:     srv.joinToken,
		CAFingerprint: pki.Fingerprint(srv.ca.CA()),
		Tags:          fleet.Tags{"env": "test"},
		StateDir:      t.TempDir(),
		Root:          fixtureRoot(t),
		Hostname:      "web-1",
		Version:       "test-1",
		Logger:        slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelInfo})),
		Updates:       aptchangelog.Options{NoDownload: true},
		minInterval:   time.Millisecond,
		backoffBase:   2 * time.Millisecond,
		backoffMax:    20 * time.Millisecond,
		trace:         tr.event,
	}
}

// start runs an agent until the returned stop is called (or the test
// ends); stop returns what Run returned.
func start(t *testing.T, cfg Config) (a *Agent, stop func() error) {
	t.Helper()
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	var once bool
	var result error
	stop = func() error {
		if !once {
			once = true
			cancel()
			result = <-done
		}
		return result
	}
	t.Cleanup(func() { stop() })
	return a, stop
}

// runOnce runs an agent that is expected to return by itself (an error
// at start).
func runOnce(t *testing.T, cfg Config) error {
	t.Helper()
	a, err := New(cfg)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err = a.Run(ctx)
	if ctx.Err() != nil {
		t.Fatal("Run did not return by itself")
	}
	return err
}

// The first start enrols (join token, CSR; the key stays in the state
// directory, 0600); the heartbeats carry the agent's status; a second
// start reuses the enrolment, with neither join token nor trust flags.
func TestEnrolOnceThenReuse(t *testing.T) {
	t.Parallel()
	srv := newFakeServer(t)
	tr := newTracer(t)
	cfg := testConfig(t, srv, tr)
	_, stop := start(t, cfg)
	tr.waitCount(evHeartbeat, 1)
	if err := stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	srv.read(func(s *fakeServer) {
		if len(s.enrols) != 1 || s.enrolAuth[0] != "Bearer "+s.joinToken {
			t.Fatalf("enrolments %d, auth %q", len(s.enrols), s.enrolAuth)
		}
		e := s.enrols[0]
		if e.Hostname != "web-1" || e.Tags["env"] != "test" || e.OS != "debian:12" || e.Live || e.Version != "test-1" {
			t.Errorf("enrolment: %+v", e)
		}
		hb := s.heartbeats[0]
		if hb.Health != "HEALTHY" || hb.Reason != fleet.ReasonIdle || hb.OS != "debian:12" || hb.Live || hb.Version != "test-1" ||
			hb.Kernel != "" || hb.Addresses != nil || hb.Running != "" || s.hbAgents[0] != "agt-1" {
			t.Errorf("heartbeat of an image agent: %+v from %s", hb, s.hbAgents[0])
		}
	})
	for name, want := range map[string]os.FileMode{"": dirMode, KeyFile: keyMode, IdentityFile: fileMode, CAFile: fileMode} {
		fi, err := os.Stat(filepath.Join(cfg.StateDir, name))
		if err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: %v, mode %v, want %v", name, err, fi.Mode().Perm(), want)
		}
	}

	again := cfg
	again.JoinToken, again.CAFingerprint, again.Tags = "", "", nil
	tr2 := newTracer(t)
	again.trace = tr2.event
	_, stop = start(t, again)
	tr2.waitCount(evHeartbeat, 1)
	stop()
	srv.read(func(s *fakeServer) {
		if len(s.enrols) != 1 || len(s.enrolAuth) != 1 {
			t.Errorf("the second start enrolled again: %d enrolments", len(s.enrolAuth))
		}
		if last := s.hbAgents[len(s.hbAgents)-1]; last != "agt-1" {
			t.Errorf("the second start heartbeats as %s", last)
		}
	})
}

// Enrolment is refused without a way to verify the server, with a pinned
// fingerprint or a CA file that is not the server's, and with a join
// token the server refuses; a --ca file of the server's CA works.
func TestEnrolTrust(t *testing.T) {
	t.Parallel()
	srv := newFakeServer(t)
	other, _, err := pki.LoadOrCreate(t.TempDir(), pki.Options{}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	otherCA := filepath.Join(t.TempDir(), "other.pem")
	if err := writeFileAtomic(otherCA, other.CAPEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	tr := newTracer(t)

	cfg := testConfig(t, srv, tr)
	cfg.CAFingerprint = ""
	if err := runOnce(t, cfg); !errors.Is(err, ErrNoTrust) || !strings.Contains(err.Error(), "--ca") || !strings.Contains(err.Error(), "--ca-fingerprint") {
		t.Errorf("no trust flag: %v", err)
	}

	cfg = testConfig(t, srv, tr)
	cfg.CAFingerprint = pki.Fingerprint(other.CA())
	if err := runOnce(t, cfg); err == nil || !strings.Contains(err.Error(), "fingerprint") {
		t.Errorf("wrong fingerprint: %v", err)
	}

	cfg = testConfig(t, srv, tr)
	cfg.CAFingerprint, cfg.CAFile = "", otherCA
	if err := runOnce(t, cfg); err == nil || !strings.Contains(err.Error(), "verification") {
		t.Errorf("another CA file: %v", err)
	}
	srv.read(func(s *fakeServer) {
		if len(s.log) != 0 {
			t.Errorf("a request reached the server without verifying it: %q", s.log)
		}
	})

	cfg = testConfig(t, srv, tr)
	cfg.JoinToken = "kensa_join_test_wrong"
	if err := runOnce(t, cfg); err == nil || !strings.Contains(err.Error(), "join token") {
		t.Errorf("wrong join token: %v", err)
	}
	if _, err := os.Stat(filepath.Join(cfg.StateDir, IdentityFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a refused enrolment left an identity: %v", err)
	}

	cfg = testConfig(t, srv, tr)
	cfg.CAFingerprint, cfg.CAFile = "", srv.caFile(t)
	_, stop := start(t, cfg)
	tr.waitCount(evHeartbeat, 1)
	stop()
	srv.read(func(s *fakeServer) {
		if len(s.enrols) != 1 {
			t.Errorf("enrolments: %d, want the one with --ca", len(s.enrols))
		}
	})
}

// A live agent reports the running kernel and is Live.
func TestLiveStatus(t *testing.T) {
	t.Parallel()
	srv := newFakeServer(t)
	tr := newTracer(t)
	cfg := testConfig(t, srv, tr)
	cfg.Root, cfg.Hostname = "", ""
	_, stop := start(t, cfg)
	tr.waitCount(evHeartbeat, 1)
	stop()
	srv.read(func(s *fakeServer) {
		hb := s.heartbeats[0]
		if !hb.Live || hb.Kernel == "" || s.enrols[0].Hostname == "" {
			t.Errorf("live heartbeat: %+v, enrolled as %q", hb, s.enrols[0].Hostname)
		}
	})
}

// A run's work: the inventory of the fixture root (with --hostname) goes
// up as HEAD, PUT, POST uploads, then done; the work, offered again
// until done, is collected once. A second run with the same host sends
// no PUT: the same blob is recorded for it.
func TestWorkUploaded(t *testing.T) {
	t.Parallel()
	srv := newFakeServer(t)
	tr := newTracer(t)
	cfg := testConfig(t, srv, tr)
	a, stop := start(t, cfg)
	srv.set(func(s *fakeServer) {
		s.offer = &agentapi.Work{RunID: "run-1", Packages: allPackages, Duration: 20 * time.Second, Deadline: time.Now().Add(time.Hour)}
	})
	srv.waitFor("run-1 done", func(s *fakeServer) bool { _, ok := s.doneFor("run-1"); return ok })

	var sha string
	srv.read(func(s *fakeServer) {
		if len(s.uploads) != 1 {
			t.Fatalf("uploads: %+v", s.uploads)
		}
		for _, u := range s.uploads {
			if u.RunID != "run-1" || u.Kind != agentapi.KindInventory {
				t.Errorf("upload: %+v", u)
			}
			sha = u.SHA256
		}
		want := []string{"HEAD " + blobsPath + sha, "PUT " + blobsPath + sha, "POST " + uploadsPath, "POST " + donePath}
		if got := s.agentLog(); !slices.Equal(got, want) {
			t.Errorf("requests:\n got %q\nwant %q", got, want)
		}
		if d, _ := s.doneFor("run-1"); d.Error != "" || d.ObservationError != "" {
			t.Errorf("done: %+v", d)
		}
	})
	var inv host.Inventory
	srv.inventoryOf(t, sha, &inv)
	if inv.Identity.Hostname != "web-1" || inv.Identity.Live || inv.OS == nil || inv.OS.ID != "debian" || len(inv.Packages) == 0 {
		t.Errorf("uploaded inventory: identity %+v, os %+v, %d packages", inv.Identity, inv.OS, len(inv.Packages))
	}

	srv.set(func(s *fakeServer) {
		s.log = nil
		s.offer = &agentapi.Work{RunID: "run-2", Packages: allPackages, Duration: 20 * time.Second}
	})
	srv.waitFor("run-2 done", func(s *fakeServer) bool { _, ok := s.doneFor("run-2"); return ok })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	srv.read(func(s *fakeServer) {
		want := []string{"HEAD " + blobsPath + sha, "POST " + uploadsPath, "POST " + donePath}
		if got := s.agentLog(); !slices.Equal(got, want) {
			t.Errorf("requests of the unchanged inventory:\n got %q\nwant %q", got, want)
		}
		if s.puts[sha] != 1 || len(s.uploads) != 2 {
			t.Errorf("PUTs %v, uploads %+v", s.puts, s.uploads)
		}
		for _, u := range s.uploads {
			if u.SHA256 != sha {
				t.Errorf("upload %+v: want the unchanged inventory %s", u, sha)
			}
		}
	})
	if entries, _ := a.spool.list(); len(entries) != 0 {
		t.Errorf("spool not empty: %+v", entries)
	}
}

// While the server answers 503, the documents stay in the spool (with
// their key); once it is back they are uploaded, once.
func TestServerUnavailable(t *testing.T) {
	t.Parallel()
	srv := newFakeServer(t)
	tr := newTracer(t)
	srv.set(func(s *fakeServer) {
		s.failBlobs = true
		s.offer = &agentapi.Work{RunID: "run-1", Packages: []string{"cve"}}
	})
	a, stop := start(t, testConfig(t, srv, tr))
	tr.waitCount(evSpooled, 1)
	srv.waitFor("three 503s", func(s *fakeServer) bool { return s.failures >= 3 })
	entries, _ := a.spool.list()
	if len(entries) != 2 || entries[0].meta.Kind != agentapi.KindInventory || entries[1].meta.Kind != kindDone {
		t.Fatalf("spool while the server is down: %+v", entries)
	}
	key := entries[0].meta.Key

	srv.set(func(s *fakeServer) { s.failBlobs = false })
	srv.waitFor("run-1 done", func(s *fakeServer) bool { _, ok := s.doneFor("run-1"); return ok })
	stop()
	srv.read(func(s *fakeServer) {
		if len(s.uploadPosts) != 1 || s.uploadPosts[0].Key != key || len(s.uploads) != 1 {
			t.Errorf("uploads: posted %+v, want one with key %s", s.uploadPosts, key)
		}
	})
	if entries, _ := a.spool.list(); len(entries) != 0 {
		t.Errorf("spool not empty: %+v", entries)
	}
}

// An upload whose answer is lost is retried with the same idempotency
// key, and recorded once.
func TestLostAnswerSameKey(t *testing.T) {
	t.Parallel()
	srv := newFakeServer(t)
	tr := newTracer(t)
	srv.set(func(s *fakeServer) {
		s.loseUploads = 2
		s.offer = &agentapi.Work{RunID: "run-1", Packages: []string{"cve"}}
	})
	_, stop := start(t, testConfig(t, srv, tr))
	srv.waitFor("run-1 done", func(s *fakeServer) bool { _, ok := s.doneFor("run-1"); return ok })
	stop()
	srv.read(func(s *fakeServer) {
		if len(s.uploadPosts) != 3 || len(s.uploads) != 1 {
			t.Fatalf("posted %+v, recorded %+v: want 3 posts, 1 record", s.uploadPosts, s.uploads)
		}
		for _, u := range s.uploadPosts[1:] {
			if u != s.uploadPosts[0] {
				t.Errorf("retry %+v differs from %+v", u, s.uploadPosts[0])
			}
		}
	})
}

// An agent stopped with documents in its spool sends them first when it
// starts again, before any heartbeat, with the keys they were spooled
// with.
func TestRestartSendsSpoolFirst(t *testing.T) {
	t.Parallel()
	srv := newFakeServer(t)
	tr := newTracer(t)
	cfg := testConfig(t, srv, tr)
	srv.set(func(s *fakeServer) {
		s.failBlobs = true
		s.offer = &agentapi.Work{RunID: "run-1", Packages: []string{"cve"}}
	})
	a, stop := start(t, cfg)
	tr.waitCount(evSpooled, 1)
	srv.waitFor("a 503", func(s *fakeServer) bool { return s.failures >= 1 })
	stop()
	entries, _ := a.spool.list()
	if len(entries) != 2 {
		t.Fatalf("spool after stopping: %+v", entries)
	}
	key, sha := entries[0].meta.Key, entries[0].meta.SHA256

	srv.set(func(s *fakeServer) { s.failBlobs, s.log = false, nil })
	_, stop = start(t, cfg)
	srv.waitFor("run-1 done", func(s *fakeServer) bool { _, ok := s.doneFor("run-1"); return ok })
	stop()
	srv.read(func(s *fakeServer) {
		if len(s.log) == 0 || s.log[0] != "HEAD "+blobsPath+sha {
			t.Errorf("first request after the restart: %q, want the spooled document's HEAD", s.log)
		}
		if len(s.uploads) != 1 || s.uploads[key].SHA256 != sha {
			t.Errorf("uploads %+v, want one with the spooled key %s", s.uploads, key)
		}
	})
}

// With the server's listener closed (connection refused) the agent
// keeps retrying; when the server listens again the document is
// uploaded once.
func TestServerClosedListener(t *testing.T) {
	t.Parallel()
	srv := newFakeServer(t)
	tr := newTracer(t)
	srv.set(func(s *fakeServer) {
		s.failBlobs = true
		s.offer = &agentapi.Work{RunID: "run-1", Packages: []string{"cve"}}
	})
	a, stop := start(t, testConfig(t, srv, tr))
	tr.waitCount(evSpooled, 1)
	srv.down()
	srv.set(func(s *fakeServer) { s.failBlobs = false })
	n := tr.count(evUploadFailed)
	tr.waitCount(evUploadFailed, n+3)
	entries, _ := a.spool.list()
	if len(entries) != 2 {
		t.Fatalf("spool while the server is down: %+v", entries)
	}
	key := entries[0].meta.Key
	srv.up()
	srv.waitFor("run-1 done", func(s *fakeServer) bool { _, ok := s.doneFor("run-1"); return ok })
	stop()
	srv.read(func(s *fakeServer) {
		if len(s.uploads) != 1 || len(s.uploadPosts) != 1 || s.uploadPosts[0].Key != key {
			t.Errorf("uploads %+v, want one with key %s", s.uploadPosts, key)
		}
	})
}

// A spool at its bound keeps no further document: the agent says
// UNHEALTHY SPOOL_FULL, and reports the run it could not keep as failed;
// once the spool drains it is healthy again.
func TestSpoolFull(t *testing.T) {
	t.Parallel()
	srv := newFakeServer(t)
	tr := newTracer(t)
	cfg := testConfig(t, srv, tr)
	cfg.SpoolMaxDocs = 1
	srv.set(func(s *fakeServer) {
		s.failBlobs = true
		s.offer = &agentapi.Work{RunID: "run-1", Packages: []string{"cve"}}
	})
	_, stop := start(t, cfg)
	tr.waitCount(evSpooled, 1)
	srv.set(func(s *fakeServer) { s.offer = &agentapi.Work{RunID: "run-2", Packages: []string{"cve"}} })
	tr.waitCount(evSpooled, 2)
	srv.waitFor("a SPOOL_FULL heartbeat", func(s *fakeServer) bool {
		hb := s.heartbeats[len(s.heartbeats)-1]
		return hb.Health == "UNHEALTHY" && hb.Reason == fleet.ReasonSpoolFull
	})
	srv.set(func(s *fakeServer) { s.failBlobs = false })
	srv.waitFor("run-2 done", func(s *fakeServer) bool { _, ok := s.doneFor("run-2"); return ok })
	srv.read(func(s *fakeServer) {
		d1, _ := s.doneFor("run-1")
		d2, _ := s.doneFor("run-2")
		if d1.Error != "" || !strings.Contains(d2.Error, "spool full") {
			t.Errorf("done reports: %+v, %+v", d1, d2)
		}
		if len(s.uploads) != 1 {
			t.Errorf("uploads: %+v", s.uploads)
		}
	})
	n := 0
	srv.read(func(s *fakeServer) { n = len(s.heartbeats) })
	srv.waitFor("a healthy heartbeat", func(s *fakeServer) bool {
		return len(s.heartbeats) > n && s.heartbeats[len(s.heartbeats)-1].Health == "HEALTHY"
	})
	stop()
}

// A run the server cancels is dropped from the spool: nothing of it is
// uploaded.
func TestCancelDropsSpooled(t *testing.T) {
	t.Parallel()
	srv := newFakeServer(t)
	tr := newTracer(t)
	srv.set(func(s *fakeServer) {
		s.failBlobs = true
		s.offer = &agentapi.Work{RunID: "run-1", Packages: []string{"cve"}}
	})
	a, stop := start(t, testConfig(t, srv, tr))
	tr.waitCount(evSpooled, 1)
	srv.set(func(s *fakeServer) { s.offer, s.cancel = nil, []string{"run-1"} })
	tr.waitCount(evCanceled, 1)
	if entries, _ := a.spool.list(); len(entries) != 0 {
		t.Errorf("spool after the cancel: %+v", entries)
	}
	srv.set(func(s *fakeServer) {
		s.failBlobs, s.cancel = false, nil
		s.offer = &agentapi.Work{RunID: "run-2", Packages: []string{"cve"}}
	})
	srv.waitFor("run-2 done", func(s *fakeServer) bool { _, ok := s.doneFor("run-2"); return ok })
	stop()
	srv.read(func(s *fakeServer) {
		if _, ok := s.doneFor("run-1"); ok || len(s.uploads) != 1 {
			t.Errorf("the canceled run was uploaded: dones %+v, uploads %+v; requests %q", s.dones, s.uploads, s.log)
		}
	})
}

// The health of a heartbeat: RUNNING while collecting, UNHEALTHY when the
// root cannot be identified.
func TestHeartbeatHealth(t *testing.T) {
	t.Parallel()
	srv := newFakeServer(t)
	cfg := testConfig(t, srv, newTracer(t))
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if a.spool, err = openSpool(filepath.Join(cfg.StateDir, SpoolDir), 1<<20, 1); err != nil {
		t.Fatal(err)
	}
	if hb := a.heartbeat(); hb.Health != "HEALTHY" || hb.Reason != fleet.ReasonIdle {
		t.Errorf("idle: %+v", hb)
	}
	a.running = "run-9"
	if hb := a.heartbeat(); hb.Health != "HEALTHY" || hb.Reason != fleet.ReasonRunning || hb.Running != "run-9" {
		t.Errorf("running: %+v", hb)
	}
	a.root = t.TempDir() // no os-release
	if hb := a.heartbeat(); hb.Health != "UNHEALTHY" || hb.Reason != fleet.ReasonCollectorsFailed {
		t.Errorf("unidentifiable root: %+v", hb)
	}
}

// New refuses what cannot work.
func TestNewRefuses(t *testing.T) {
	t.Parallel()
	srv := newFakeServer(t)
	base := testConfig(t, srv, newTracer(t))
	for name, mod := range map[string]func(c *Config){
		"http URL":        func(c *Config) { c.Server = "http://127.0.0.1:1" },
		"no URL":          func(c *Config) { c.Server = "" },
		"both trusts":     func(c *Config) { c.CAFile = "x" },
		"bad fingerprint": func(c *Config) { c.CAFingerprint = "SHA256:abc" },
		"bad tag":         func(c *Config) { c.Tags = fleet.Tags{"": "x"} },
		"no hostname":     func(c *Config) { c.Hostname = "" }, // the fixture has no etc/hostname
		"bad hostname":    func(c *Config) { c.Hostname = "a b" },
		"missing root":    func(c *Config) { c.Root = filepath.Join(t.TempDir(), "none") },
	} {
		cfg := base
		mod(&cfg)
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// On a live host, work with the runtime package runs the observation
// window alongside the collectors and uploads the observations too.
func TestLiveWorkObserves(t *testing.T) {
	t.Parallel()
	srv := newFakeServer(t)
	tr := newTracer(t)
	cfg := testConfig(t, srv, tr)
	cfg.Root, cfg.Hostname = "", ""
	_, stop := start(t, cfg)
	srv.set(func(s *fakeServer) {
		s.offer = &agentapi.Work{RunID: "run-1", Packages: []string{"runtime"}, Duration: time.Second}
	})
	srv.waitFor("run-1 done", func(s *fakeServer) bool { _, ok := s.doneFor("run-1"); return ok })
	stop()
	var kinds []string
	var invSHA string
	srv.read(func(s *fakeServer) {
		for _, u := range s.uploadPosts {
			kinds = append(kinds, u.Kind)
			if u.Kind == agentapi.KindInventory {
				invSHA = u.SHA256
			}
		}
		if d, _ := s.doneFor("run-1"); d.Error != "" || d.ObservationError != "" {
			t.Errorf("done: %+v", d)
		}
	})
	if !slices.Equal(kinds, []string{agentapi.KindInventory, agentapi.KindObservations}) {
		t.Fatalf("uploads: %q", kinds)
	}
	var inv host.Inventory
	srv.inventoryOf(t, invSHA, &inv)
	if !inv.Identity.Live {
		t.Errorf("live inventory: %+v", inv.Identity)
	}
}

// An agent whose certificate has less than a third of its life left
// renews it after a heartbeat: a new key, the same agent id, kept in the
// state (the previous pair beside it) and used from the next connection;
// it does not renew again while the new one is young. A restart loads
// the renewed pair, and a pair cut short by a crash falls back to the
// previous one.
func TestCertificateRenewal(t *testing.T) {
	t.Parallel()
	srv := newFakeServer(t)
	srv.read(func(s *fakeServer) { s.validity = time.Minute })
	tr := newTracer(t)
	cfg := testConfig(t, srv, tr)
	_, stop := start(t, cfg)
	tr.waitCount(evRenewed, 1)
	tr.waitCount(evHeartbeat, 3)
	stop()
	srv.read(func(s *fakeServer) {
		if len(s.renewals) != 1 || s.renewals[0] != "agt-1" {
			t.Errorf("renewals %v, want one for agt-1", s.renewals)
		}
		last := s.hbAgents[len(s.hbAgents)-1]
		if last != "agt-1" {
			t.Errorf("heartbeats after renewal from %q", last)
		}
	})
	renewed, err := loadKeyPair(cfg.StateDir)
	if err != nil {
		t.Fatal(err)
	}
	if life := renewed.Leaf.NotAfter.Sub(renewed.Leaf.NotBefore); life < 24*time.Hour {
		t.Errorf("the kept certificate lives %s: not the renewed one", life)
	}
	prev, err := pki.LoadKeyPair(filepath.Join(cfg.StateDir, prevCertFile), filepath.Join(cfg.StateDir, prevKeyFile))
	if err != nil || prev.Leaf.NotAfter.Sub(prev.Leaf.NotBefore) > time.Hour {
		t.Errorf("previous pair: %v", err)
	}
	// A crash between the new key and its certificate: the key does
	// not match; the previous pair is loaded.
	if err := os.WriteFile(filepath.Join(cfg.StateDir, KeyFile), []byte("-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n"), keyMode); err != nil {
		t.Fatal(err)
	}
	got, err := loadKeyPair(cfg.StateDir)
	if err != nil || !got.Leaf.Equal(prev.Leaf) {
		t.Errorf("after a cut-short renewal: %v", err)
	}
}
