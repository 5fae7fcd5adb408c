package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/kensa-dev/kensa/internal/auth"
	"github.com/kensa-dev/kensa/internal/fleet"
	"github.com/kensa-dev/kensa/internal/store"
)

func (s *Server) routes() {
	huma.Register(s.api, op("health", http.MethodGet, "/health", "Say that the server is up", accessPublic, "server"), s.health)

	s.agentRoutes()
	s.runRoutes()
	s.suppressionRoutes()
	s.deliveryRoutes()
	huma.Register(s.api, op("list-agents", http.MethodGet, "/agents", "List the enrolled agents", string(auth.Viewer), "agents"), s.listAgents)
	huma.Register(s.api, op("get-agent", http.MethodGet, "/agents/{id}", "Show an agent", string(auth.Viewer), "agents"), s.getAgent)
	huma.Register(s.api, op("revoke-agent", http.MethodPost, "/agents/{id}/revoke", "Revoke an agent: it is refused from now on", string(auth.Admin), "agents"), s.revokeAgent)

	huma.Register(s.api, op("create-target", http.MethodPost, "/targets", "Create an assessment target", string(auth.Operator), "targets"), s.createTarget)
	huma.Register(s.api, op("list-targets", http.MethodGet, "/targets", "List the assessment targets", string(auth.Viewer), "targets"), s.listTargets)
	huma.Register(s.api, op("get-target", http.MethodGet, "/targets/{id}", "Show an assessment target", string(auth.Viewer), "targets"), s.getTarget)
	huma.Register(s.api, op("preview-target", http.MethodGet, "/targets/{id}/preview", "List the agents a target selects, with their health", string(auth.Viewer), "targets"), s.previewTarget)

	huma.Register(s.api, op("create-template", http.MethodPost, "/templates", "Create an assessment template (immutable)", string(auth.Operator), "templates"), s.createTemplate)
	huma.Register(s.api, op("list-templates", http.MethodGet, "/templates", "List the assessment templates", string(auth.Viewer), "templates"), s.listTemplates)
	huma.Register(s.api, op("get-template", http.MethodGet, "/templates/{id}", "Show an assessment template", string(auth.Viewer), "templates"), s.getTemplate)

	huma.Register(s.api, op("create-token", http.MethodPost, "/tokens", "Create an API token (shown once)", string(auth.Admin), "tokens"), s.createToken)
	huma.Register(s.api, op("create-join-token", http.MethodPost, "/join-tokens", "Create a join token for agents (shown once)", string(auth.Admin), "tokens"), s.createJoinToken)
	huma.Register(s.api, op("list-tokens", http.MethodGet, "/tokens", "List the API and join tokens (never their secrets)", string(auth.Admin), "tokens"), s.listTokens)
	huma.Register(s.api, op("revoke-token", http.MethodPost, "/tokens/{id}/revoke", "Revoke a token", string(auth.Admin), "tokens"), s.revokeToken)
}

// storeErr maps the store's errors to HTTP problems.
func storeErr(err error, what string) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return huma.Error404NotFound(what + " not found")
	case errors.Is(err, store.ErrExists):
		return huma.Error409Conflict(what + " already exists")
	case errors.Is(err, store.ErrConflict):
		return huma.Error409Conflict(err.Error())
	}
	return err
}

type idPath struct {
	ID string `path:"id" maxLength:"64" doc:"The object's id"`
}

// agentView is an agent as the API shows it: its health as of now.
type agentView struct {
	fleet.Agent
}

func (s *Server) view(a fleet.Agent) agentView {
	a.Health, a.Reason = a.HealthAt(s.cfg.Now())
	return agentView{a}
}

type agentsOutput struct {
	Body struct {
		Agents []agentView `json:"agents"`
	}
}

func (s *Server) listAgents(ctx context.Context, _ *struct{}) (*agentsOutput, error) {
	agents, err := s.cfg.Store.Agents(ctx)
	if err != nil {
		return nil, err
	}
	out := &agentsOutput{}
	out.Body.Agents = []agentView{}
	for _, a := range agents {
		out.Body.Agents = append(out.Body.Agents, s.view(a))
	}
	return out, nil
}

type agentOutput struct{ Body agentView }

func (s *Server) getAgent(ctx context.Context, in *idPath) (*agentOutput, error) {
	a, err := s.cfg.Store.Agent(ctx, in.ID)
	if err != nil {
		return nil, storeErr(err, "agent")
	}
	return &agentOutput{Body: s.view(a)}, nil
}

func (s *Server) revokeAgent(ctx context.Context, in *idPath) (*agentOutput, error) {
	if err := s.cfg.Store.RevokeAgent(ctx, in.ID); err != nil {
		return nil, storeErr(err, "agent")
	}
	s.cfg.Log.Info("agent revoked", "agent", in.ID)
	return s.getAgent(ctx, in)
}

// Targets.

type targetInput struct {
	Body struct {
		Name string     `json:"name" minLength:"1" maxLength:"256"`
		Tags fleet.Tags `json:"tags,omitempty" doc:"Select the agents with all these tags"`
		All  bool       `json:"all,omitempty" doc:"Select every agent (instead of tags)"`
	}
}

type targetOutput struct{ Body fleet.Target }

func (s *Server) createTarget(ctx context.Context, in *targetInput) (*targetOutput, error) {
	t := fleet.Target{ID: s.cfg.NewID("tgt"), Name: in.Body.Name, Selector: fleet.Selector(in.Body.Tags), All: in.Body.All, Created: s.cfg.Now().UTC()}
	if t.Selector == nil {
		t.Selector = fleet.Selector{}
	}
	if err := t.Check(); err != nil {
		return nil, huma.Error422UnprocessableEntity(err.Error())
	}
	if err := s.cfg.Store.CreateTarget(ctx, t); err != nil {
		return nil, storeErr(err, "a target named "+t.Name)
	}
	return &targetOutput{Body: t}, nil
}

type targetsOutput struct {
	Body struct {
		Targets []fleet.Target `json:"targets"`
	}
}

func (s *Server) listTargets(ctx context.Context, _ *struct{}) (*targetsOutput, error) {
	ts, err := s.cfg.Store.Targets(ctx)
	if err != nil {
		return nil, err
	}
	out := &targetsOutput{}
	out.Body.Targets = append([]fleet.Target{}, ts...)
	return out, nil
}

func (s *Server) getTarget(ctx context.Context, in *idPath) (*targetOutput, error) {
	t, err := s.cfg.Store.Target(ctx, in.ID)
	if err != nil {
		return nil, storeErr(err, "target")
	}
	return &targetOutput{Body: t}, nil
}

func (s *Server) previewTarget(ctx context.Context, in *idPath) (*agentsOutput, error) {
	t, err := s.cfg.Store.Target(ctx, in.ID)
	if err != nil {
		return nil, storeErr(err, "target")
	}
	agents, err := s.cfg.Store.Agents(ctx)
	if err != nil {
		return nil, err
	}
	out := &agentsOutput{}
	out.Body.Agents = []agentView{}
	for _, a := range agents {
		if t.Selects(a.Tags) {
			out.Body.Agents = append(out.Body.Agents, s.view(a))
		}
	}
	return out, nil
}

// Templates.

type templateInput struct {
	Body struct {
		Name          string               `json:"name" minLength:"1" maxLength:"256"`
		TargetID      string               `json:"target_id" minLength:"1" maxLength:"64"`
		Packages      []string             `json:"packages" minItems:"1" maxItems:"4" doc:"Rules packages: cve, cis, best-practices, runtime"`
		Duration      string               `json:"duration" doc:"How long to observe: 10s to 24h (Go duration: 20s, 15m, 1h)"`
		Attributes    map[string]string    `json:"attributes,omitempty" doc:"Added to every finding of the template's runs"`
		Subscriptions []fleet.Subscription `json:"subscriptions,omitempty" maxItems:"16" doc:"Webhooks told of the template's runs' events (RUN_STARTED, RUN_COMPLETED, RUN_FAILED, RUN_STATE_CHANGED, FINDING_REPORTED)"`
	}
}

type templateOutput struct{ Body templateView }

// templateView shows the duration as text ("20s").
type templateView struct {
	fleet.Template
	Duration string `json:"duration"`
}

func viewTemplate(t fleet.Template) templateView { return templateView{t, t.Duration.String()} }

func (s *Server) createTemplate(ctx context.Context, in *templateInput) (*templateOutput, error) {
	d, err := time.ParseDuration(in.Body.Duration)
	if err != nil {
		return nil, huma.Error422UnprocessableEntity("duration: " + err.Error())
	}
	t := fleet.Template{ID: s.cfg.NewID("tpl"), Name: in.Body.Name, TargetID: in.Body.TargetID, Packages: slices.Clone(in.Body.Packages),
		Duration: d, Attributes: in.Body.Attributes, Subscriptions: slices.Clone(in.Body.Subscriptions), Created: s.cfg.Now().UTC()}
	if len(t.Subscriptions) == 0 {
		t.Subscriptions = nil
	}
	if err := t.Check(); err != nil {
		return nil, huma.Error422UnprocessableEntity(err.Error())
	}
	if err := s.cfg.Store.CreateTemplate(ctx, t); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, huma.Error422UnprocessableEntity("target " + t.TargetID + " not found")
		}
		return nil, storeErr(err, "a template named "+t.Name)
	}
	return &templateOutput{Body: viewTemplate(t)}, nil
}

type templatesOutput struct {
	Body struct {
		Templates []templateView `json:"templates"`
	}
}

func (s *Server) listTemplates(ctx context.Context, _ *struct{}) (*templatesOutput, error) {
	ts, err := s.cfg.Store.Templates(ctx)
	if err != nil {
		return nil, err
	}
	out := &templatesOutput{}
	out.Body.Templates = []templateView{}
	for _, t := range ts {
		out.Body.Templates = append(out.Body.Templates, viewTemplate(t))
	}
	return out, nil
}

func (s *Server) getTemplate(ctx context.Context, in *idPath) (*templateOutput, error) {
	t, err := s.cfg.Store.Template(ctx, in.ID)
	if err != nil {
		return nil, storeErr(err, "template")
	}
	return &templateOutput{Body: viewTemplate(t)}, nil
}

// Tokens.

type tokenInput struct {
	Body struct {
		Role      auth.Role `json:"role" enum:"admin,operator,viewer"`
		Name      string    `json:"name,omitempty" maxLength:"256"`
		ExpiresIn string    `json:"expires_in,omitempty" doc:"Go duration (720h); none for a token that does not expire"`
	}
}

type joinTokenInput struct {
	Body struct {
		Name      string `json:"name,omitempty" maxLength:"256"`
		ExpiresIn string `json:"expires_in,omitempty" default:"24h" doc:"Go duration; join tokens always expire"`
		MaxUses   int    `json:"max_uses,omitempty" minimum:"0" doc:"Enrolments allowed; 0 for no bound until it expires"`
	}
}

type tokenOutput struct {
	Body struct {
		Token  string     `json:"token" doc:"The token: shown once, never stored"`
		Record auth.Token `json:"record"`
	}
}

func expiry(now time.Time, in string, required bool) (time.Time, error) {
	if in == "" {
		if required {
			return time.Time{}, errors.New("expires_in: required")
		}
		return time.Time{}, nil
	}
	d, err := time.ParseDuration(in)
	if err != nil || d <= 0 {
		return time.Time{}, fmt.Errorf("expires_in %q: want a positive Go duration (24h, 720h)", in)
	}
	return now.Add(d).UTC(), nil
}

func (s *Server) createToken(ctx context.Context, in *tokenInput) (*tokenOutput, error) {
	if _, err := auth.ParseRole(string(in.Body.Role)); err != nil {
		return nil, huma.Error422UnprocessableEntity(err.Error())
	}
	now := s.cfg.Now()
	exp, err := expiry(now, in.Body.ExpiresIn, false)
	if err != nil {
		return nil, huma.Error422UnprocessableEntity(err.Error())
	}
	secret, rec, err := auth.New(auth.KindAPI, now)
	if err != nil {
		return nil, err
	}
	rec.Role, rec.Name, rec.Expires = in.Body.Role, in.Body.Name, exp
	return s.saveToken(ctx, secret, rec)
}

func (s *Server) createJoinToken(ctx context.Context, in *joinTokenInput) (*tokenOutput, error) {
	now := s.cfg.Now()
	exp, err := expiry(now, in.Body.ExpiresIn, true)
	if err != nil {
		return nil, huma.Error422UnprocessableEntity(err.Error())
	}
	secret, rec, err := auth.New(auth.KindJoin, now)
	if err != nil {
		return nil, err
	}
	rec.Name, rec.Expires, rec.MaxUses = in.Body.Name, exp, in.Body.MaxUses
	return s.saveToken(ctx, secret, rec)
}

func (s *Server) saveToken(ctx context.Context, secret string, rec auth.Token) (*tokenOutput, error) {
	if err := s.cfg.Store.CreateToken(ctx, rec); err != nil {
		return nil, err
	}
	by, _ := identityFrom(ctx)
	s.cfg.Log.Info("token created", "token", rec.ID, "kind", rec.Kind, "role", rec.Role, "by", by.TokenID)
	out := &tokenOutput{}
	out.Body.Token, out.Body.Record = secret, rec
	return out, nil
}

type tokensOutput struct {
	Body struct {
		Tokens []auth.Token `json:"tokens"`
	}
}

func (s *Server) listTokens(ctx context.Context, _ *struct{}) (*tokensOutput, error) {
	out := &tokensOutput{}
	out.Body.Tokens = []auth.Token{}
	for _, k := range []auth.Kind{auth.KindAPI, auth.KindJoin} {
		ts, err := s.cfg.Store.Tokens(ctx, k)
		if err != nil {
			return nil, err
		}
		out.Body.Tokens = append(out.Body.Tokens, ts...)
	}
	return out, nil
}

type tokenRecordOutput struct{ Body auth.Token }

func (s *Server) revokeToken(ctx context.Context, in *idPath) (*tokenRecordOutput, error) {
	if err := s.cfg.Store.RevokeToken(ctx, in.ID); err != nil {
		return nil, storeErr(err, "token")
	}
	by, _ := identityFrom(ctx)
	s.cfg.Log.Info("token revoked", "token", in.ID, "by", by.TokenID)
	t, err := s.cfg.Store.Token(ctx, in.ID)
	if err != nil {
		return nil, storeErr(err, "token")
	}
	return &tokenRecordOutput{Body: t}, nil
}
