// Package apitest stands up a real Kensa server in-process for the
// tests of its clients (internal/apiclient, internal/cli): the server's
// own handler over HTTPS with its own CA (written to a file, as
// DATA/pki/ca.crt is, for --ca), an SQLite store in a temporary
// directory, one API token per role, and helpers that put agents and
// finished runs in the store directly, for what an API client cannot
// make by itself (agents enrol; findings come from agents' uploads).
package apitest

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kensa-dev/kensa/internal/auth"
	"github.com/kensa-dev/kensa/internal/fleet"
	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/observe"
	"github.com/kensa-dev/kensa/internal/pki"
	"github.com/kensa-dev/kensa/internal/report"
	"github.com/kensa-dev/kensa/internal/server"
	"github.com/kensa-dev/kensa/internal/store"
)

// Server is a running test server.
type Server struct {
	// URL is the server's base URL (https://127.0.0.1:PORT).
	URL string
	// CAFile is the server's CA certificate (PEM), as --ca takes it.
	CAFile string
	CAPool *x509.CertPool
	Store  store.Store
	Engine *server.Engine
	// Tokens holds an API token of each role.
	Tokens map[auth.Role]string

	t testing.TB
	n atomic.Int64
}

// Start starts a server that lives until the test ends. Its engine runs
// only when the test asks (RunEngine, or Engine.Step): a test that
// builds runs in the store itself must not race it.
func Start(t testing.TB) *Server {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.OpenSQLite(ctx, filepath.Join(dir, "kensa.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ca, _, err := pki.LoadOrCreate(filepath.Join(dir, "pki"), pki.Options{}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	s := &Server{Store: st, CAFile: filepath.Join(dir, "pki", pki.CACertFile), CAPool: ca.CAPool(), Tokens: map[auth.Role]string{}, t: t}
	s.Engine = server.NewEngine(server.EngineConfig{Store: st, Support: supportAll{}, Now: time.Now, Log: log,
		// Runs wait for their agents' documents: nothing here uploads.
		Grace: time.Hour,
		Evaluate: func(context.Context, *host.Inventory, *observe.Observations, error, []string) (*report.Report, error) {
			return nil, errors.New("apitest: no evaluation")
		}})
	srv := server.New(server.Config{Store: st, Authority: ca, Engine: s.Engine, Now: time.Now, Log: log,
		HeartbeatInterval: time.Second, NewID: s.NewID})
	hs := httptest.NewUnstartedServer(srv.Handler())
	hs.TLS = ca.ServerTLSConfig()
	hs.StartTLS()
	t.Cleanup(hs.Close)
	s.URL = hs.URL
	for _, r := range []auth.Role{auth.Admin, auth.Operator, auth.Viewer} {
		s.Tokens[r] = s.Token(r)
	}
	return s
}

// NewID is a new id with the given prefix, unique in the server.
func (s *Server) NewID(prefix string) string { return fmt.Sprintf("%s-%d", prefix, s.n.Add(1)) }

// Token creates an API token of a role in the store and returns it.
func (s *Server) Token(r auth.Role) string {
	s.t.Helper()
	secret, rec, err := auth.New(auth.KindAPI, time.Now())
	if err != nil {
		s.t.Fatal(err)
	}
	rec.Role = r
	if err := s.Store.CreateToken(context.Background(), rec); err != nil {
		s.t.Fatal(err)
	}
	return secret
}

// RunEngine drives the runs in the background, as kensa server does,
// until the test ends.
func (s *Server) RunEngine() {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { s.Engine.Run(ctx, 10*time.Millisecond) })
	s.t.Cleanup(func() { cancel(); wg.Wait() })
}

// AddAgent enrols an agent in the store: healthy (it has just sent a
// heartbeat), or silent for longer than fleet.HeartbeatTimeout.
func (s *Server) AddAgent(hostname string, tags fleet.Tags, healthy bool) fleet.Agent {
	s.t.Helper()
	now := time.Now().UTC()
	a := fleet.Agent{ID: s.NewID("agt"), Hostname: hostname, Tags: tags, Version: "test", OS: "debian:12", Live: true,
		Health: fleet.Healthy, Reason: fleet.ReasonIdle, LastSeen: now, Enrolled: now}
	if !healthy {
		a.LastSeen = now.Add(-time.Hour)
		a.Enrolled = a.LastSeen
	}
	if err := s.Store.CreateAgent(context.Background(), a); err != nil {
		s.t.Fatal(err)
	}
	return a
}

// Template puts a target selecting tags and a template of it in the
// store, and returns the template's id.
func (s *Server) Template(name string, tags fleet.Tags, packages ...string) string {
	s.t.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	tgt := fleet.Target{ID: s.NewID("tgt"), Name: name, Selector: fleet.Selector(tags), Created: now}
	if err := s.Store.CreateTarget(ctx, tgt); err != nil {
		s.t.Fatal(err)
	}
	tpl := fleet.Template{ID: s.NewID("tpl"), Name: name, TargetID: tgt.ID, Packages: packages, Duration: 20 * time.Second, Created: now}
	if err := s.Store.CreateTemplate(ctx, tpl); err != nil {
		s.t.Fatal(err)
	}
	return tpl.ID
}

// FinishedRun puts a run of template tpl in the store that went through
// every state to final (COMPLETED, or COMPLETED_WITH_ERRORS), with a
// report per agent as if the engine had evaluated their documents: the
// report stored (gzip, named by the SHA-256 of its JSON) and its
// findings saved, those the stored suppressions match set aside.
func (s *Server) FinishedRun(tpl string, final fleet.RunState, reports map[string]*report.Report) fleet.Run {
	s.t.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	r := fleet.NewRun(s.NewID("run"), tpl, now)
	if err := s.Store.CreateRun(ctx, r); err != nil {
		s.t.Fatal(err)
	}
	var work []store.RunAgent
	var assigned []fleet.Assignment
	for agentID := range reports {
		a, err := s.Store.Agent(ctx, agentID)
		if err != nil {
			s.t.Fatal(err)
		}
		work = append(work, store.RunAgent{AgentID: agentID, Packages: []string{"cve"}, Updated: now})
		assigned = append(assigned, fleet.Assignment{Agent: a, Packages: []string{"cve"}})
	}
	if err := s.Store.AssignRun(ctx, r.ID, work); err != nil {
		s.t.Fatal(err)
	}
	if err := s.Store.SetPlan(ctx, r.ID, assigned, nil); err != nil {
		s.t.Fatal(err)
	}
	for _, w := range work {
		if err := s.Store.SetWork(ctx, r.ID, w.AgentID, []string{store.WorkPending}, store.WorkDone, "", now); err != nil {
			s.t.Fatal(err)
		}
	}
	for agentID, rep := range reports {
		// The stored suppressions apply, as the engine applies them.
		suppressed, err := s.Engine.ApplySuppressions(ctx, rep)
		if err != nil {
			s.t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := report.WriteJSON(&buf, rep); err != nil {
			s.t.Fatal(err)
		}
		h := sha256.Sum256(buf.Bytes())
		sum := hex.EncodeToString(h[:])
		var gz bytes.Buffer
		zw := gzip.NewWriter(&gz)
		zw.Write(buf.Bytes())
		if err := zw.Close(); err != nil {
			s.t.Fatal(err)
		}
		if err := s.Store.PutBlob(ctx, sum, gz.Bytes()); err != nil {
			s.t.Fatal(err)
		}
		if err := s.Store.SaveResults(ctx, r.ID, agentID, sum, rep.Findings, suppressed, now); err != nil {
			s.t.Fatal(err)
		}
	}
	from := fleet.RunCreated
	for _, to := range []fleet.RunState{fleet.RunStartDataCollectionPending, fleet.RunCollectingData, fleet.RunDataCollected, fleet.RunEvaluatingRules, final} {
		reason := ""
		if to == fleet.RunCompletedWithErrors {
			reason = "1 of 2 agents evaluated; not: agt-x (failed: no documents by the run's deadline)"
		}
		tr, err := fleet.Move(from, to, now, reason)
		if err != nil {
			s.t.Fatal(err)
		}
		if err := s.Store.MoveRun(ctx, r.ID, tr); err != nil {
			s.t.Fatal(err)
		}
		from = to
	}
	got, err := s.Store.Run(ctx, r.ID)
	if err != nil {
		s.t.Fatal(err)
	}
	return got
}

// CAPEM returns the server's CA certificate.
func (s *Server) CAPEM() []byte {
	b, err := os.ReadFile(s.CAFile)
	if err != nil {
		s.t.Fatal(err)
	}
	return b
}

// supportAll supports every rules package on every agent.
type supportAll struct{}

func (supportAll) Supports(string, fleet.Agent) (bool, fleet.ExclusionReason, string) {
	return true, "", ""
}
