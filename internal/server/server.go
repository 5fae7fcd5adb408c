// Package server is the HTTP API of `kensa server`: the fleet's agents,
// assessment targets and templates, tokens and enrolment, under
// /api/v1, described by an OpenAPI 3.1 document generated from the Go
// types of its operations (huma), so the document cannot drift from the
// code. Authentication (API tokens, agent client certificates) wraps the
// whole API; each operation names the least role that may call it.
package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"github.com/kensa-dev/kensa/internal/auth"
	"github.com/kensa-dev/kensa/internal/buildinfo"
	"github.com/kensa-dev/kensa/internal/store"
)

// Authority is the server's certificate authority (pki.Authority).
type Authority interface {
	// SignAgent signs an agent's certificate request (DER) for agentID.
	SignAgent(csrDER []byte, agentID string, now time.Time, validity time.Duration) (*x509.Certificate, error)
	// CAPEM is the CA certificate agents verify the server with.
	CAPEM() []byte
	// AgentIdentity tells the agent a TLS client certificate belongs to:
	// only certificates the CA issued to agents qualify.
	AgentIdentity(state *tls.ConnectionState) (agentID, serial string, ok bool)
}

// Config is what a Server is built from; every field is required.
type Config struct {
	Store     store.Store
	Authority Authority
	Engine    *Engine
	Now       func() time.Time
	Log       *slog.Logger
	// NewID returns a new random id with the given prefix ("agt", "tgt").
	NewID func(prefix string) string
	// HeartbeatInterval is what agents are told to wait between
	// heartbeats.
	HeartbeatInterval time.Duration
}

// Server serves the API.
type Server struct {
	cfg     Config
	api     huma.API
	handler http.Handler
}

// accessKey is the operation metadata naming who may call it.
const accessKey = "kensa-access"

// access values besides the roles.
const (
	accessPublic = "public"
	accessAgent  = "agent"
	accessJoin   = "join" // a join token, checked by the operation
)

// New builds the server and its routes.
func New(cfg Config) *Server {
	mux := http.NewServeMux()
	hc := huma.DefaultConfig("Kensa API", buildinfo.Get().Version)
	hc.Info.Description = "The API of a Kensa server: agents, assessment targets, templates, runs and findings. " +
		"Authenticate with an API token (Authorization: Bearer kensa_api_...); agents use their client certificates."
	hc.OpenAPIPath = apiPrefix + "/openapi"
	// The default docs page loads scripts from a CDN, and the schemas
	// path and links add nothing a client needs.
	hc.DocsPath, hc.SchemasPath = "", ""
	hc.CreateHooks = nil
	hc.Components.SecuritySchemes = map[string]*huma.SecurityScheme{
		"token": {Type: "http", Scheme: "bearer", Description: "An API token: kensa server token create --role admin|operator|viewer"},
	}
	api := humago.New(mux, hc)
	s := &Server{cfg: cfg, api: api}
	api.UseMiddleware(s.authorize)
	s.routes()
	s.handler = s.authenticate(mux)
	return s
}

// Handler is the server's HTTP handler.
func (s *Server) Handler() http.Handler { return s.handler }

// API is the huma API, for the OpenAPI document.
func (s *Server) API() huma.API { return s.api }

// authorize lets an operation run when the caller's identity has the
// access the operation names.
func (s *Server) authorize(ctx huma.Context, next func(huma.Context)) {
	need, _ := ctx.Operation().Metadata[accessKey].(string)
	id, _ := identityFrom(ctx.Context())
	switch need {
	case accessPublic, accessJoin:
		next(ctx)
		return
	case accessAgent:
		if id.Agent != nil {
			next(ctx)
			return
		}
	default:
		if id.Agent == nil && id.Role.Allows(auth.Role(need)) {
			next(ctx)
			return
		}
		if id.Agent == nil && id.Role != "" {
			huma.WriteErr(s.api, ctx, http.StatusForbidden, "this operation needs the "+need+" role; the token has "+string(id.Role))
			return
		}
	}
	huma.WriteErr(s.api, ctx, http.StatusForbidden, "not allowed")
}

// op describes an operation: its id, method, path (under /api/v1),
// summary and who may call it.
func op(id, method, path, summary, access string, tags ...string) huma.Operation {
	o := huma.Operation{
		OperationID: id, Method: method, Path: apiPrefix + path, Summary: summary, Tags: tags,
		Metadata: map[string]any{accessKey: access},
	}
	if access != accessPublic && access != accessAgent && access != accessJoin {
		o.Security = []map[string][]string{{"token": {}}}
		o.Description = "Needs the " + access + " role or above."
	}
	return o
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func itoa(n int) string { return strconv.Itoa(n) }

// health is the one operation that answers without authentication.
type healthOutput struct {
	Body struct {
		Status  string `json:"status" example:"ok"`
		Version string `json:"version"`
	}
}

func (s *Server) health(ctx context.Context, _ *struct{}) (*healthOutput, error) {
	out := &healthOutput{}
	out.Body.Status, out.Body.Version = "ok", buildinfo.Get().Version
	return out, nil
}
