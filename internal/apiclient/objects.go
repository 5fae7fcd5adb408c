package apiclient

import (
	"context"
	"net/http"
	"time"

	"github.com/kensa-dev/kensa/internal/auth"
	"github.com/kensa-dev/kensa/internal/fleet"
)

// Agents.

// ListAgents lists the enrolled agents, with their health as of now.
func (c *Client) ListAgents(ctx context.Context) ([]fleet.Agent, error) {
	var out struct {
		Agents []fleet.Agent `json:"agents"`
	}
	err := c.call(ctx, http.MethodGet, "/agents", nil, nil, &out)
	return out.Agents, err
}

// GetAgent shows an agent.
func (c *Client) GetAgent(ctx context.Context, agentID string) (fleet.Agent, error) {
	var out fleet.Agent
	err := c.call(ctx, http.MethodGet, "/agents/"+id(agentID), nil, nil, &out)
	return out, err
}

// RevokeAgent revokes an agent (admin): the server refuses it from now
// on.
func (c *Client) RevokeAgent(ctx context.Context, agentID string) (fleet.Agent, error) {
	var out fleet.Agent
	err := c.call(ctx, http.MethodPost, "/agents/"+id(agentID)+"/revoke", nil, nil, &out)
	return out, err
}

// Targets.

// TargetRequest is a new assessment target: agents chosen by tags, or
// every agent (All), not both.
type TargetRequest struct {
	Name string     `json:"name"`
	Tags fleet.Tags `json:"tags,omitempty"`
	All  bool       `json:"all,omitempty"`
}

// CreateTarget creates an assessment target (operator).
func (c *Client) CreateTarget(ctx context.Context, req TargetRequest) (fleet.Target, error) {
	var out fleet.Target
	err := c.call(ctx, http.MethodPost, "/targets", nil, req, &out)
	return out, err
}

// ListTargets lists the assessment targets.
func (c *Client) ListTargets(ctx context.Context) ([]fleet.Target, error) {
	var out struct {
		Targets []fleet.Target `json:"targets"`
	}
	err := c.call(ctx, http.MethodGet, "/targets", nil, nil, &out)
	return out.Targets, err
}

// GetTarget shows an assessment target.
func (c *Client) GetTarget(ctx context.Context, targetID string) (fleet.Target, error) {
	var out fleet.Target
	err := c.call(ctx, http.MethodGet, "/targets/"+id(targetID), nil, nil, &out)
	return out, err
}

// PreviewTarget lists the agents a target selects now, with their
// health.
func (c *Client) PreviewTarget(ctx context.Context, targetID string) ([]fleet.Agent, error) {
	var out struct {
		Agents []fleet.Agent `json:"agents"`
	}
	err := c.call(ctx, http.MethodGet, "/targets/"+id(targetID)+"/preview", nil, nil, &out)
	return out.Agents, err
}

// Templates.

// Template is an assessment template as the API shows it: its duration
// as text ("20s"), which fleet.Template holds as a time.Duration.
type Template struct {
	ID         string            `json:"id"`
	Name       string            `json:"name"`
	TargetID   string            `json:"target_id"`
	Packages   []string          `json:"packages"`
	Duration   string            `json:"duration"`
	Attributes map[string]string `json:"attributes,omitempty"`
	// Subscriptions are the webhooks told of the template's runs'
	// events.
	Subscriptions []fleet.Subscription `json:"subscriptions,omitempty"`
	Created       time.Time            `json:"created"`
}

// TemplateRequest is a new assessment template. Duration is a Go
// duration from 10s to 24h ("20s", "1h"). Subscriptions ask for
// webhooks (at most 16; https://, or http:// to loopback).
type TemplateRequest struct {
	Name          string               `json:"name"`
	TargetID      string               `json:"target_id"`
	Packages      []string             `json:"packages"`
	Duration      string               `json:"duration"`
	Attributes    map[string]string    `json:"attributes,omitempty"`
	Subscriptions []fleet.Subscription `json:"subscriptions,omitempty"`
}

// CreateTemplate creates an assessment template (operator); templates
// are immutable.
func (c *Client) CreateTemplate(ctx context.Context, req TemplateRequest) (Template, error) {
	var out Template
	err := c.call(ctx, http.MethodPost, "/templates", nil, req, &out)
	return out, err
}

// ListTemplates lists the assessment templates.
func (c *Client) ListTemplates(ctx context.Context) ([]Template, error) {
	var out struct {
		Templates []Template `json:"templates"`
	}
	err := c.call(ctx, http.MethodGet, "/templates", nil, nil, &out)
	return out.Templates, err
}

// GetTemplate shows an assessment template.
func (c *Client) GetTemplate(ctx context.Context, templateID string) (Template, error) {
	var out Template
	err := c.call(ctx, http.MethodGet, "/templates/"+id(templateID), nil, nil, &out)
	return out, err
}

// Tokens.

// TokenRequest is a new API token. ExpiresIn is a Go duration ("720h"),
// empty for a token that does not expire.
type TokenRequest struct {
	Role      auth.Role `json:"role"`
	Name      string    `json:"name,omitempty"`
	ExpiresIn string    `json:"expires_in,omitempty"`
}

// JoinTokenRequest is a new join token for agents. ExpiresIn defaults to
// 24h on the server; MaxUses 0 bounds nothing but the expiry.
type JoinTokenRequest struct {
	Name      string `json:"name,omitempty"`
	ExpiresIn string `json:"expires_in,omitempty"`
	MaxUses   int    `json:"max_uses,omitempty"`
}

type tokenAnswer struct {
	Token  string     `json:"token"`
	Record auth.Token `json:"record"`
}

// CreateToken creates an API token (admin) and returns it (the server
// shows it this once) with its record.
func (c *Client) CreateToken(ctx context.Context, req TokenRequest) (string, auth.Token, error) {
	var out tokenAnswer
	err := c.call(ctx, http.MethodPost, "/tokens", nil, req, &out)
	return out.Token, out.Record, err
}

// CreateJoinToken creates a join token (admin) and returns it with its
// record.
func (c *Client) CreateJoinToken(ctx context.Context, req JoinTokenRequest) (string, auth.Token, error) {
	var out tokenAnswer
	err := c.call(ctx, http.MethodPost, "/join-tokens", nil, req, &out)
	return out.Token, out.Record, err
}

// ListTokens lists the API and join tokens (admin), never their secrets.
func (c *Client) ListTokens(ctx context.Context) ([]auth.Token, error) {
	var out struct {
		Tokens []auth.Token `json:"tokens"`
	}
	err := c.call(ctx, http.MethodGet, "/tokens", nil, nil, &out)
	return out.Tokens, err
}

// RevokeToken revokes a token (admin) and returns its record.
func (c *Client) RevokeToken(ctx context.Context, tokenID string) (auth.Token, error) {
	var out auth.Token
	err := c.call(ctx, http.MethodPost, "/tokens/"+id(tokenID)+"/revoke", nil, nil, &out)
	return out, err
}
