package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/kensa-dev/kensa/internal/agentapi"
	"github.com/kensa-dev/kensa/internal/auth"
	"github.com/kensa-dev/kensa/internal/fleet"
	"github.com/kensa-dev/kensa/internal/store"
)

// maxCompressedBlob bounds an uploaded (gzip) document.
const maxCompressedBlob = 256 << 20

func (s *Server) agentRoutes() {
	huma.Register(s.api, op("enrol", http.MethodPost, "/enrol", "Enrol an agent with a join token", accessJoin, "agent protocol"), s.enrol)
	huma.Register(s.api, op("heartbeat", http.MethodPost, "/agent/heartbeat", "Report an agent's health; the answer may hold work", accessAgent, "agent protocol"), s.heartbeat)
	huma.Register(s.api, op("has-blob", http.MethodHead, "/agent/blobs/{sha256}", "Say whether the server has a document (200) or not (404)", accessAgent, "agent protocol"), s.hasBlob)
	put := op("put-blob", http.MethodPut, "/agent/blobs/{sha256}", "Send a document, gzip-compressed, named by the SHA-256 of its uncompressed bytes", accessAgent, "agent protocol")
	put.MaxBodyBytes = maxCompressedBlob
	huma.Register(s.api, put, s.putBlob)
	huma.Register(s.api, op("upload", http.MethodPost, "/agent/uploads", "Record a document sent for a run (idempotent by key)", accessAgent, "agent protocol"), s.upload)
	huma.Register(s.api, op("work-done", http.MethodPost, "/agent/done", "Say that the work for a run is done, or failed", accessAgent, "agent protocol"), s.workDone)
	huma.Register(s.api, op("renew", http.MethodPost, "/agent/renew", "Get a new client certificate for a new key, before the current one expires", accessAgent, "agent protocol"), s.renew)
}

type renewInput struct{ Body agentapi.RenewRequest }

type renewOutput struct{ Body agentapi.RenewResponse }

// renew signs a new certificate for the calling agent: it proved who it
// is with its current certificate, which authenticate checked (and that
// it is not revoked). Revoking the agent refuses every certificate it
// was ever given, old or new, since revocation is of the agent.
func (s *Server) renew(ctx context.Context, in *renewInput) (*renewOutput, error) {
	a := agentOf(ctx)
	block, _ := pem.Decode([]byte(in.Body.CSR))
	if block == nil || block.Type != "CERTIFICATE REQUEST" {
		return nil, huma.Error422UnprocessableEntity("csr: want a PEM CERTIFICATE REQUEST")
	}
	cert, err := s.cfg.Authority.SignAgent(block.Bytes, a.ID, s.cfg.Now(), 0)
	if err != nil {
		return nil, huma.Error422UnprocessableEntity("csr: " + err.Error())
	}
	s.cfg.Log.Info("agent certificate renewed", "agent", a.ID, "not_after", cert.NotAfter)
	out := &renewOutput{}
	out.Body.Certificate = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}))
	return out, nil
}

type enrolInput struct {
	Authorization string `header:"Authorization" doc:"Bearer and a join token: kensa_join_..."`
	Body          agentapi.EnrolRequest
}

type enrolOutput struct{ Body agentapi.EnrolResponse }

func (s *Server) enrol(ctx context.Context, in *enrolInput) (*enrolOutput, error) {
	now := s.cfg.Now()
	// authenticate checked the join token; its use is counted below.
	_, id, _, err := auth.Parse(strings.TrimSpace(strings.TrimPrefix(in.Authorization, "Bearer ")))
	if err != nil {
		return nil, huma.Error401Unauthorized("not a join token")
	}
	tags := fleet.Tags(in.Body.Tags)
	if err := tags.Check(); err != nil {
		return nil, huma.Error422UnprocessableEntity(err.Error())
	}
	block, _ := pem.Decode([]byte(in.Body.CSR))
	if block == nil || block.Type != "CERTIFICATE REQUEST" {
		return nil, huma.Error422UnprocessableEntity("csr: want a PEM CERTIFICATE REQUEST")
	}
	agentID := s.cfg.NewID("agt")
	cert, err := s.cfg.Authority.SignAgent(block.Bytes, agentID, now, 0)
	if err != nil {
		return nil, huma.Error422UnprocessableEntity("csr: " + err.Error())
	}
	// The token's use is counted last, atomically: of two agents racing
	// for a single-use token, one enrols.
	if err := s.cfg.Store.UseJoinToken(ctx, id, now); err != nil {
		return nil, huma.Error401Unauthorized("join token refused: unknown, revoked, expired or used up")
	}
	b := in.Body
	a := fleet.Agent{ID: agentID, Hostname: b.Hostname, Tags: tags, Version: b.Version, OS: b.OS, Kernel: b.Kernel,
		Addresses: b.Addresses, Live: b.Live, Health: fleet.Healthy, Reason: fleet.ReasonIdle, LastSeen: now, Enrolled: now}
	if err := s.cfg.Store.CreateAgent(ctx, a); err != nil {
		return nil, fmt.Errorf("enrol: %w", err)
	}
	s.cfg.Log.Info("agent enrolled", "agent", agentID, "hostname", a.Hostname, "token", id)
	out := &enrolOutput{}
	out.Body.AgentID = agentID
	out.Body.Certificate = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}))
	out.Body.CA = string(s.cfg.Authority.CAPEM())
	return out, nil
}

type heartbeatInput struct{ Body agentapi.Heartbeat }

type heartbeatOutput struct{ Body agentapi.HeartbeatResponse }

// agentOf is the agent a request comes from (authenticate set it).
func agentOf(ctx context.Context) fleet.Agent {
	id, _ := identityFrom(ctx)
	return *id.Agent
}

func (s *Server) heartbeat(ctx context.Context, in *heartbeatInput) (*heartbeatOutput, error) {
	a := agentOf(ctx)
	b := in.Body
	now := s.cfg.Now()
	if b.Health != string(fleet.Healthy) && b.Health != string(fleet.Unhealthy) {
		return nil, huma.Error422UnprocessableEntity("health: want HEALTHY or UNHEALTHY")
	}
	err := s.cfg.Store.Heartbeat(ctx, a.ID, store.Heartbeat{Version: b.Version, OS: b.OS, Kernel: b.Kernel,
		Addresses: b.Addresses, Live: b.Live, Health: fleet.HealthStatus(b.Health), Reason: b.Reason, At: now})
	if err != nil {
		return nil, storeErr(err, "agent")
	}
	out := &heartbeatOutput{}
	out.Body.Interval = s.cfg.HeartbeatInterval
	work, err := s.cfg.Store.AgentWork(ctx, a.ID)
	if err != nil {
		return nil, err
	}
	for _, w := range work {
		// A pending run is taken now; a run the agent collects for but
		// does not name was lost by a restarted agent: give it again.
		if w.Status == store.WorkCollecting && b.Running == w.RunID {
			continue
		}
		if w.Status == store.WorkPending {
			if err := s.cfg.Store.SetWork(ctx, w.RunID, a.ID, []string{store.WorkPending}, store.WorkCollecting, "", now); err != nil {
				if errors.Is(err, store.ErrConflict) {
					continue
				}
				return nil, err
			}
			if s.cfg.Engine != nil {
				s.cfg.Engine.Poke()
			}
		}
		r, err := s.cfg.Store.Run(ctx, w.RunID)
		if err != nil {
			return nil, err
		}
		deadline, duration, err := s.cfg.Engine.deadline(ctx, r)
		if err != nil {
			return nil, err
		}
		out.Body.Work = &agentapi.Work{RunID: w.RunID, Packages: w.Packages, Duration: duration, Deadline: deadline}
		break
	}
	if b.Running != "" && (out.Body.Work == nil || out.Body.Work.RunID != b.Running) {
		if ws, err := s.cfg.Store.RunAgents(ctx, b.Running); err == nil {
			for _, w := range ws {
				if w.AgentID == a.ID && w.Status != store.WorkCollecting {
					out.Body.Cancel = append(out.Body.Cancel, b.Running)
				}
			}
		}
	}
	return out, nil
}

type blobInput struct {
	SHA256 string `path:"sha256" pattern:"^[0-9a-f]{64}$"`
}

type blobHeadOutput struct {
	Status int
}

func (s *Server) hasBlob(ctx context.Context, in *blobInput) (*blobHeadOutput, error) {
	has, err := s.cfg.Store.HasBlob(ctx, in.SHA256)
	if err != nil {
		return nil, err
	}
	if !has {
		return &blobHeadOutput{Status: http.StatusNotFound}, nil
	}
	return &blobHeadOutput{Status: http.StatusOK}, nil
}

type putBlobInput struct {
	SHA256  string `path:"sha256" pattern:"^[0-9a-f]{64}$"`
	RawBody []byte `contentType:"application/gzip"`
}

// putBlob checks that the document is what its name says, within bounds,
// and keeps it compressed.
func (s *Server) putBlob(ctx context.Context, in *putBlobInput) (*emptyOutput, error) {
	raw, err := decompress(in.RawBody, agentapi.MaxBlobBytes)
	if err != nil {
		return nil, huma.Error400BadRequest("document: " + err.Error())
	}
	h := sha256.Sum256(raw)
	if got := hex.EncodeToString(h[:]); got != in.SHA256 {
		return nil, huma.Error400BadRequest("document: its SHA-256 is " + got + ", not " + in.SHA256)
	}
	if err := s.cfg.Store.PutBlob(ctx, in.SHA256, in.RawBody); err != nil {
		return nil, err
	}
	return &emptyOutput{}, nil
}

type uploadInput struct{ Body agentapi.Upload }

type uploadOutput struct {
	Body struct {
		Created bool `json:"created" doc:"false when the key was recorded before"`
	}
}

func (s *Server) upload(ctx context.Context, in *uploadInput) (*uploadOutput, error) {
	a := agentOf(ctx)
	u := in.Body
	if err := s.ownWork(ctx, u.RunID, a.ID); err != nil {
		return nil, err
	}
	if has, err := s.cfg.Store.HasBlob(ctx, u.SHA256); err != nil {
		return nil, err
	} else if !has {
		return nil, huma.Error422UnprocessableEntity("send the document first: PUT /api/v1/agent/blobs/" + u.SHA256)
	}
	created, err := s.cfg.Store.PutUpload(ctx, store.Upload{RunID: u.RunID, AgentID: a.ID, Kind: u.Kind, Key: u.Key, SHA256: u.SHA256, Received: s.cfg.Now()})
	if err != nil {
		return nil, storeErr(err, "upload")
	}
	out := &uploadOutput{}
	out.Body.Created = created
	return out, nil
}

// ownWork checks that the agent has work in the run.
func (s *Server) ownWork(ctx context.Context, runID, agentID string) error {
	ws, err := s.cfg.Store.RunAgents(ctx, runID)
	if err != nil {
		return err
	}
	for _, w := range ws {
		if w.AgentID == agentID {
			return nil
		}
	}
	return huma.Error404NotFound("no work of this agent in run " + runID)
}

type doneInput struct{ Body agentapi.WorkDone }

func (s *Server) workDone(ctx context.Context, in *doneInput) (*emptyOutput, error) {
	a := agentOf(ctx)
	d := in.Body
	if err := s.ownWork(ctx, d.RunID, a.ID); err != nil {
		return nil, err
	}
	to, why := store.WorkDone, d.ObservationError
	if d.Error != "" {
		to, why = store.WorkFailed, "the agent could not collect: "+d.Error
	} else {
		uploads, err := s.cfg.Store.Uploads(ctx, d.RunID)
		if err != nil {
			return nil, err
		}
		has := false
		for _, u := range uploads {
			has = has || (u.AgentID == a.ID && u.Kind == agentapi.KindInventory)
		}
		if !has {
			return nil, huma.Error422UnprocessableEntity("no inventory was uploaded for run " + d.RunID)
		}
	}
	err := s.cfg.Store.SetWork(ctx, d.RunID, a.ID, []string{store.WorkPending, store.WorkCollecting}, to, why, s.cfg.Now())
	switch {
	case errors.Is(err, store.ErrConflict):
		// Done twice (a retry), or the run moved on: nothing to change.
	case err != nil:
		return nil, err
	}
	if s.cfg.Engine != nil {
		s.cfg.Engine.Poke()
	}
	return &emptyOutput{}, nil
}

type emptyOutput struct{}
