package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/kensa-dev/kensa/internal/assess"
	"github.com/kensa-dev/kensa/internal/auth"
	"github.com/kensa-dev/kensa/internal/fleet"
	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/observe"
	"github.com/kensa-dev/kensa/internal/pki"
	"github.com/kensa-dev/kensa/internal/report"
	"github.com/kensa-dev/kensa/internal/store"
)

var t0 = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

// fixture is a server on a real SQLite store, with one API token per role.
type fixture struct {
	t      *testing.T
	store  store.Store
	srv    *Server
	ca     *pki.Authority
	engine *Engine
	clock  *atomic.Int64
	tokens map[auth.Role]string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	st, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "kensa.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ca, _, err := pki.LoadOrCreate(filepath.Join(t.TempDir(), "pki"), pki.Options{}, t0)
	if err != nil {
		t.Fatal(err)
	}
	var n atomic.Int64
	clock := &atomic.Int64{} // nanoseconds after t0
	now := func() time.Time { return t0.Add(time.Duration(clock.Load())) }
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	newID := func(p string) string { return fmt.Sprintf("%s-%d", p, n.Add(1)) }
	engine := NewEngine(EngineConfig{Store: st, Support: supportAll{}, Now: now, Log: log, Grace: time.Minute, NewID: newID,
		Evaluate: func(ctx context.Context, inv *host.Inventory, obs *observe.Observations, obsErr error, pkgs []string) (*report.Report, error) {
			return assess.Evaluate(ctx, inv, assess.Options{Packages: pkgs, Observations: obs, ObservationError: obsErr, Clock: now, Tool: report.Tool{Name: "kensa", Version: "test"}})
		}})
	srv := New(Config{
		Store: st, Authority: ca, Engine: engine, Now: now, Log: log, HeartbeatInterval: time.Second,
		NewID: newID,
	})
	f := &fixture{t: t, store: st, srv: srv, ca: ca, engine: engine, clock: clock, tokens: map[auth.Role]string{}}
	for _, r := range []auth.Role{auth.Admin, auth.Operator, auth.Viewer} {
		secret, rec, err := auth.New(auth.KindAPI, t0)
		if err != nil {
			t.Fatal(err)
		}
		rec.Role = r
		if err := st.CreateToken(context.Background(), rec); err != nil {
			t.Fatal(err)
		}
		f.tokens[r] = secret
	}
	return f
}

// supportAll supports every rules package on every agent.
type supportAll struct{}

func (supportAll) Supports(string, fleet.Agent) (bool, fleet.ExclusionReason, string) {
	return true, "", ""
}

// advance moves the fixture's clock on.
func (f *fixture) advance(d time.Duration) { f.clock.Add(int64(d)) }

// do sends a request to the server's handler and decodes a JSON answer.
func (f *fixture) do(method, path, token string, body any) (int, map[string]any) {
	f.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req := httptest.NewRequest(method, path, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	f.srv.Handler().ServeHTTP(rec, req)
	var out map[string]any
	json.Unmarshal(rec.Body.Bytes(), &out)
	return rec.Code, out
}

func TestHealthNeedsNoToken(t *testing.T) {
	f := newFixture(t)
	code, body := f.do("GET", "/api/v1/health", "", nil)
	if code != 200 || body["status"] != "ok" {
		t.Errorf("health: %d %v", code, body)
	}
}

// The OpenAPI document is generated from the operations, and every
// operation names who may call it.
func TestOpenAPIDocument(t *testing.T) {
	f := newFixture(t)
	if code, _ := f.do("GET", "/api/v1/openapi.json", "", nil); code != 401 {
		t.Errorf("openapi.json without a token: %d", code)
	}
	code, doc := f.do("GET", "/api/v1/openapi.json", f.tokens[auth.Viewer], nil)
	if code != 200 || !strings.HasPrefix(fmt.Sprint(doc["openapi"]), "3.") {
		t.Fatalf("openapi.json: %d %v", code, doc["openapi"])
	}
	paths := doc["paths"].(map[string]any)
	for _, p := range []string{"/api/v1/health", "/api/v1/enrol", "/api/v1/agents", "/api/v1/targets/{id}/preview", "/api/v1/templates", "/api/v1/tokens"} {
		if paths[p] == nil {
			t.Errorf("openapi.json has no %s", p)
		}
	}
	for _, o := range operations(f.srv) {
		if o.access == "" {
			t.Errorf("%s %s names no access", o.method, o.path)
		}
	}
}

type operation struct{ method, path, access string }

// operations lists every operation of the server with its access.
func operations(s *Server) []operation {
	var out []operation
	for path, item := range s.API().OpenAPI().Paths {
		for method, o := range map[string]*huma.Operation{"GET": item.Get, "POST": item.Post, "PUT": item.Put, "DELETE": item.Delete, "PATCH": item.Patch} {
			if o == nil {
				continue
			}
			access, _ := o.Metadata[accessKey].(string)
			out = append(out, operation{method, path, access})
		}
	}
	slices.SortFunc(out, func(a, b operation) int { return strings.Compare(a.path+a.method, b.path+b.method) })
	return out
}

// pathOf fills an operation's path parameters.
func pathOf(o operation) string { return strings.ReplaceAll(o.path, "{id}", "none") }

// Every operation, called without a token, with each role's token, and
// with a revoked token: nothing but health answers without a token; a
// role below the operation's is refused (403) before the operation runs;
// agent operations refuse API tokens; a revoked token is refused (401).
func TestAuthorizationMatrix(t *testing.T) {
	f := newFixture(t)
	ops := operations(f.srv)
	if len(ops) < 15 {
		t.Fatalf("only %d operations", len(ops))
	}
	for _, o := range ops {
		t.Run(o.method+" "+o.path, func(t *testing.T) {
			code, _ := f.do(o.method, pathOf(o), "", map[string]any{})
			switch {
			case o.access == accessPublic && code == 200:
			case o.access != accessPublic && code == 401:
			default:
				t.Errorf("without a token: %d (access %s)", code, o.access)
			}
			for _, role := range []auth.Role{auth.Viewer, auth.Operator, auth.Admin} {
				code, body := f.do(o.method, pathOf(o), f.tokens[role], map[string]any{})
				allowed := o.access == accessPublic || role.Allows(auth.Role(o.access))
				switch {
				case o.access == accessJoin:
					if code != 401 {
						t.Errorf("%s token on enrolment: %d, want 401", role, code)
					}
				case o.access == accessAgent:
					if code != 403 {
						t.Errorf("%s token on an agent operation: %d, want 403", role, code)
					}
				case allowed && (code == 401 || code == 403):
					t.Errorf("%s token refused: %d %v", role, code, body)
				case !allowed && code != 403:
					t.Errorf("%s token on a %s operation: %d, want 403", role, o.access, code)
				}
			}
		})
	}
	// A revoked token is refused at once, everywhere.
	_, _, _, _ = auth.Parse(f.tokens[auth.Admin])
	_, id, _, _ := auth.Parse(f.tokens[auth.Viewer])
	if err := f.store.RevokeToken(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	for _, o := range ops {
		if o.access == accessPublic {
			continue
		}
		if code, _ := f.do(o.method, pathOf(o), f.tokens[auth.Viewer], map[string]any{}); code != 401 {
			t.Errorf("revoked token on %s %s: %d, want 401", o.method, o.path, code)
		}
	}
	// So is a token past its expiry, and a join token used as an API token.
	secret, rec, _ := auth.New(auth.KindAPI, t0)
	rec.Role, rec.Expires = auth.Admin, t0
	f.store.CreateToken(context.Background(), rec)
	if code, _ := f.do("GET", "/api/v1/agents", secret, nil); code != 401 {
		t.Errorf("expired token: %d", code)
	}
	join, jrec, _ := auth.New(auth.KindJoin, t0)
	jrec.Expires = t0.Add(time.Hour)
	f.store.CreateToken(context.Background(), jrec)
	if code, _ := f.do("GET", "/api/v1/agents", join, nil); code != 401 {
		t.Errorf("join token on the API: %d", code)
	}
}
