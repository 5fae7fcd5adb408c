package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/kensa-dev/kensa/internal/auth"
	"github.com/kensa-dev/kensa/internal/fleet"
)

// identity is who made a request: a person or script with an API token
// (Role set), or an agent with its client certificate (Agent set).
type identity struct {
	TokenID string
	Role    auth.Role
	Agent   *fleet.Agent
}

type identityKey struct{}

func withIdentity(ctx context.Context, id identity) context.Context {
	return context.WithValue(ctx, identityKey{}, id)
}

func identityFrom(ctx context.Context) (identity, bool) {
	id, ok := ctx.Value(identityKey{}).(identity)
	return id, ok
}

// Paths outside the rules below.
const (
	apiPrefix   = "/api/v1"
	healthPath  = apiPrefix + "/health"
	enrolPath   = apiPrefix + "/enrol"
	agentPrefix = apiPrefix + "/agent/"
)

// authenticate wraps the whole API. Nothing answers without
// authentication but the health endpoint, and enrolment, which checks its
// join token itself. Agents (by client certificate) may use the agent
// endpoints only, API tokens everything else; the operations check the
// role (authorize). A revoked agent or token is refused at once: each
// request reads its record.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case healthPath:
			next.ServeHTTP(w, r)
			return
		case enrolPath:
			if _, err := s.joinToken(r); err != nil {
				s.refuse(w, r, http.StatusUnauthorized, "enrolment needs a valid join token (Authorization: Bearer kensa_join_...)", slog.Any("err", err))
				return
			}
			next.ServeHTTP(w, r)
			return
		}
		ctx := r.Context()
		var id identity
		if agentID, _, ok := s.cfg.Authority.AgentIdentity(r.TLS); ok {
			a, err := s.cfg.Store.Agent(ctx, agentID)
			switch {
			case err != nil:
				s.refuse(w, r, http.StatusUnauthorized, "unknown agent", slog.String("agent", agentID), slog.Any("err", err))
				return
			case a.Revoked:
				s.refuse(w, r, http.StatusUnauthorized, "agent revoked", slog.String("agent", agentID))
				return
			}
			id.Agent = &a
		} else {
			tok, err := s.apiToken(r)
			if err != nil {
				s.refuse(w, r, http.StatusUnauthorized, "authentication required: an API token (Authorization: Bearer kensa_api_...)", slog.Any("err", err))
				return
			}
			id.TokenID, id.Role = tok.ID, tok.Role
		}
		agentPath := strings.HasPrefix(r.URL.Path, agentPrefix)
		switch {
		case agentPath && id.Agent == nil:
			s.refuse(w, r, http.StatusForbidden, "agent endpoints take an agent's client certificate, not an API token")
			return
		case !agentPath && id.Agent != nil:
			s.refuse(w, r, http.StatusForbidden, "an agent certificate opens the agent endpoints only", slog.String("agent", id.Agent.ID))
			return
		}
		next.ServeHTTP(w, r.WithContext(withIdentity(ctx, id)))
	})
}

// apiToken checks the bearer token of r: an API token.
func (s *Server) apiToken(r *http.Request) (auth.Token, error) { return s.token(r, auth.KindAPI) }

// joinToken checks the bearer token of r: a join token, still usable. It
// does not count a use: enrolment does, once the agent is signed.
func (s *Server) joinToken(r *http.Request) (auth.Token, error) { return s.token(r, auth.KindJoin) }

func (s *Server) token(r *http.Request, want auth.Kind) (auth.Token, error) {
	secret, ok := bearer(r)
	if !ok {
		return auth.Token{}, errors.New("no bearer token")
	}
	kind, tokenID, sec, err := auth.Parse(secret)
	if err != nil {
		return auth.Token{}, err
	}
	if kind != want {
		return auth.Token{}, fmt.Errorf("a %s token where a %s token is needed", kind, want)
	}
	tok, err := s.cfg.Store.Token(r.Context(), tokenID)
	if err != nil {
		return auth.Token{}, auth.ErrUnknown
	}
	if err := tok.Check(sec, s.cfg.Now()); err != nil {
		return auth.Token{}, err
	}
	return tok, nil
}

func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return "", false
	}
	return strings.TrimSpace(token), true
}

// refuse answers an authentication or authorisation failure with a
// problem document, and logs the reason the client is not told.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, status int, msg string, attrs ...any) {
	s.cfg.Log.Info("request refused", append([]any{slog.String("path", r.URL.Path), slog.Int("status", status), slog.String("why", msg)}, attrs...)...)
	w.Header().Set("Content-Type", "application/problem+json")
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="kensa"`)
	}
	w.WriteHeader(status)
	title := http.StatusText(status)
	body := `{"title":` + jsonString(title) + `,"status":` + itoa(status) + `,"detail":` + jsonString(msg) + "}\n"
	w.Write([]byte(body))
}
