package apiclient

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/kensa-dev/kensa/internal/fleet"
)

// Delivery is a webhook delivery as the API shows it.
type Delivery struct {
	ID         string      `json:"id"`
	RunID      string      `json:"run_id"`
	TemplateID string      `json:"template_id"`
	Event      fleet.Event `json:"event"`
	URL        string      `json:"url"`
	// Status is pending, delivered or failed (given up).
	Status      string     `json:"status"`
	Attempts    int        `json:"attempts"`
	Created     time.Time  `json:"created"`
	NextAttempt *time.Time `json:"next_attempt,omitempty"`
	LastAttempt *time.Time `json:"last_attempt,omitempty"`
	LastStatus  int        `json:"last_status,omitempty"`
	LastError   string     `json:"last_error,omitempty"`
	// Payload is the JSON document sent.
	Payload json.RawMessage `json:"payload"`
}

// ListDeliveries lists the webhook deliveries of a run, in the order
// they are sent; with runID empty, the latest limit (0: the server's
// default, 100) of every run, newest first.
func (c *Client) ListDeliveries(ctx context.Context, runID string, limit int) ([]Delivery, error) {
	q := url.Values{}
	if runID != "" {
		q.Set("run", runID)
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	var out struct {
		Deliveries []Delivery `json:"deliveries"`
	}
	err := c.call(ctx, http.MethodGet, "/deliveries", q, nil, &out)
	return out.Deliveries, err
}
