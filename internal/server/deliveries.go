package server

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/kensa-dev/kensa/internal/auth"
	"github.com/kensa-dev/kensa/internal/fleet"
	"github.com/kensa-dev/kensa/internal/store"
)

func (s *Server) deliveryRoutes() {
	huma.Register(s.api, op("list-deliveries", http.MethodGet, "/deliveries",
		"List webhook deliveries and their status: a run's in the order they are sent, or the latest", string(auth.Viewer), "runs"), s.listDeliveries)
}

type listDeliveriesInput struct {
	Run   string `query:"run" maxLength:"64" doc:"Only this run's deliveries, in the order they are sent"`
	Limit int    `query:"limit" minimum:"0" maximum:"1000" doc:"Without run: the latest this many (default 100)"`
}

// deliveryView is a delivery as the API shows it.
type deliveryView struct {
	ID         string      `json:"id"`
	RunID      string      `json:"run_id"`
	TemplateID string      `json:"template_id"`
	Event      fleet.Event `json:"event"`
	URL        string      `json:"url"`
	Status     string      `json:"status" enum:"pending,delivered,failed"`
	Attempts   int         `json:"attempts"`
	Created    time.Time   `json:"created"`
	// NextAttempt is when a pending delivery is tried (again).
	NextAttempt *time.Time `json:"next_attempt,omitempty"`
	LastAttempt *time.Time `json:"last_attempt,omitempty"`
	LastStatus  int        `json:"last_status,omitempty" doc:"The HTTP status of the last answer"`
	LastError   string     `json:"last_error,omitempty"`
	// Payload is the document sent (the body the signature is of).
	Payload json.RawMessage `json:"payload"`
}

type deliveriesOutput struct {
	Body struct {
		Deliveries []deliveryView `json:"deliveries"`
	}
}

func viewDelivery(d store.Delivery) deliveryView {
	v := deliveryView{ID: d.ID, RunID: d.RunID, TemplateID: d.TemplateID, Event: d.Event, URL: d.URL, Status: d.Status,
		Attempts: d.Attempts, Created: d.Created, LastStatus: d.LastStatus, LastError: d.LastError, Payload: d.Body}
	if d.Status == store.DeliveryPending {
		next := d.NextAttempt
		v.NextAttempt = &next
	}
	if !d.LastAttempt.IsZero() {
		last := d.LastAttempt
		v.LastAttempt = &last
	}
	if !json.Valid(v.Payload) {
		v.Payload = json.RawMessage("null")
	}
	return v
}

func (s *Server) listDeliveries(ctx context.Context, in *listDeliveriesInput) (*deliveriesOutput, error) {
	f := store.DeliveryFilter{RunID: in.Run, Limit: in.Limit}
	if f.RunID != "" {
		if _, err := s.cfg.Store.Run(ctx, f.RunID); err != nil {
			return nil, storeErr(err, "run")
		}
		f.Limit = 0
	} else if f.Limit == 0 {
		f.Limit = 100
	}
	ds, err := s.cfg.Store.Deliveries(ctx, f)
	if err != nil {
		return nil, err
	}
	out := &deliveriesOutput{}
	out.Body.Deliveries = make([]deliveryView, 0, len(ds))
	for _, d := range ds {
		out.Body.Deliveries = append(out.Body.Deliveries, viewDelivery(d))
	}
	return out, nil
}
