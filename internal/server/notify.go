package server

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/kensa-dev/kensa/internal/buildinfo"
	"github.com/kensa-dev/kensa/internal/finding"
	"github.com/kensa-dev/kensa/internal/fleet"
	"github.com/kensa-dev/kensa/internal/report"
	"github.com/kensa-dev/kensa/internal/store"
)

// Notifications. A template's subscriptions ask for webhooks on its
// runs' events (fleet.TransitionEvents). The engine never sends one: it
// records a delivery per event and subscription in the store call that
// moves the run (an outbox), so a delivery is neither lost when the
// server stops nor able to slow the engine down; the notifier
// (notifier.go) sends them.

// Notification is the JSON document a webhook receives.
type Notification struct {
	// ID is the delivery's id, also in the X-Kensa-Delivery header: a
	// retried delivery keeps it, so a receiver can drop one it has seen.
	ID           string      `json:"id"`
	Event        fleet.Event `json:"event"`
	RunID        string      `json:"run_id"`
	TemplateID   string      `json:"template_id"`
	TemplateName string      `json:"template_name"`
	// State is the run's state after the transition, PreviousState
	// before it.
	State         fleet.RunState `json:"state"`
	PreviousState fleet.RunState `json:"previous_state,omitempty"`
	// At is when the transition happened.
	At     time.Time `json:"at"`
	Reason string    `json:"reason,omitempty"`
	// Summary is what the run's evaluation found, on the events of the
	// transition that ends an evaluation (FINDING_REPORTED,
	// RUN_COMPLETED, and the RUN_STATE_CHANGED and RUN_FAILED beside
	// them).
	Summary      *RunSummary `json:"summary,omitempty"`
	KensaVersion string      `json:"kensa_version"`
}

// RunSummary counts what a run's evaluation found.
type RunSummary struct {
	// AgentsEvaluated and AgentsFailed count the agents whose documents
	// were evaluated, and those that sent none or could not be.
	AgentsEvaluated int `json:"agents_evaluated"`
	AgentsFailed    int `json:"agents_failed"`
	// Findings counts the findings that stand, BySeverity by severity
	// (every severity present, 0 or more); Suppressed those a
	// suppression set aside.
	Findings   int            `json:"findings"`
	BySeverity map[string]int `json:"by_severity"`
	Suppressed int            `json:"suppressed"`
}

func newRunSummary() *RunSummary {
	s := &RunSummary{BySeverity: map[string]int{}}
	for _, sev := range finding.Severities() {
		s.BySeverity[string(sev)] = 0
	}
	return s
}

// add counts an agent's report.
func (s *RunSummary) add(rep *report.Report) {
	s.AgentsEvaluated++
	s.Findings += len(rep.Findings)
	for _, f := range rep.Findings {
		s.BySeverity[string(f.Severity)]++
	}
	s.Suppressed += len(rep.Suppressed)
}

// deliveries are the webhooks a transition of run r raises: one per
// event of the transition and subscription of the run's template to it,
// in the order of the events, then of the subscriptions.
func (e *Engine) deliveries(ctx context.Context, r fleet.Run, tr fleet.Transition, summary *RunSummary) ([]store.Delivery, error) {
	tpl, err := e.cfg.Store.Template(ctx, r.TemplateID)
	if err != nil {
		return nil, err
	}
	if len(tpl.Subscriptions) == 0 {
		return nil, nil
	}
	var out []store.Delivery
	for _, ev := range fleet.TransitionEvents(tr) {
		for _, sub := range tpl.Subscriptions {
			if sub.Event != ev {
				continue
			}
			n := Notification{ID: e.cfg.NewID("dlv"), Event: ev, RunID: r.ID, TemplateID: tpl.ID, TemplateName: tpl.Name,
				State: tr.To, PreviousState: tr.From, At: tr.At, Reason: tr.Reason, Summary: summary, KensaVersion: buildinfo.Get().Version}
			body, err := json.Marshal(n)
			if err != nil {
				return nil, fmt.Errorf("notification: %w", err)
			}
			out = append(out, store.Delivery{ID: n.ID, RunID: r.ID, TemplateID: tpl.ID, Event: ev, URL: sub.URL, Body: body, Created: tr.At})
		}
	}
	return out, nil
}
