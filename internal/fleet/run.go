// Package fleet is the domain of fleet mode: agents and their health,
// assessment targets that select agents by tag, templates that say what
// to assess and for how long, and assessment runs with their state
// machine and exclusions. It holds rules about those objects and no
// infrastructure: the server stores them (internal/store) and drives
// runs; the agent and the command line speak about them.
//
// The objects and the run states follow Amazon Inspector Classic, which
// users of this kind of tool know: a run goes CREATED →
// START_DATA_COLLECTION_PENDING → COLLECTING_DATA → DATA_COLLECTED →
// EVALUATING_RULES → COMPLETED, or ends COMPLETED_WITH_ERRORS, FAILED or
// CANCELED, and every transition is recorded with its time.
package fleet

import (
	"fmt"
	"slices"
	"time"
)

// RunState is the state of an assessment run.
type RunState string

// Run states, in the order a run goes through them.
const (
	RunCreated                    RunState = "CREATED"
	RunStartDataCollectionPending RunState = "START_DATA_COLLECTION_PENDING"
	RunCollectingData             RunState = "COLLECTING_DATA"
	RunDataCollected              RunState = "DATA_COLLECTED"
	RunEvaluatingRules            RunState = "EVALUATING_RULES"
	RunCompleted                  RunState = "COMPLETED"
	// RunCompletedWithErrors: the run finished, but some agent's data
	// could not be collected or some rule could not be evaluated; its
	// exclusions and the reports' coverage say what.
	RunCompletedWithErrors RunState = "COMPLETED_WITH_ERRORS"
	// RunFailed: the run could not produce findings at all.
	RunFailed RunState = "FAILED"
	// RunCanceled: stopped without evaluating what was collected.
	RunCanceled RunState = "CANCELED"
)

// RunStates lists every state, in order.
func RunStates() []RunState {
	return []RunState{RunCreated, RunStartDataCollectionPending, RunCollectingData, RunDataCollected,
		RunEvaluatingRules, RunCompleted, RunCompletedWithErrors, RunFailed, RunCanceled}
}

// next holds the transitions a run may make. A run moves forward only;
// it can fail from any state that is not final, and be canceled before
// its rules are evaluated (once evaluation starts, stopping means letting
// it finish: its data is all there).
var next = map[RunState][]RunState{
	RunCreated:                    {RunStartDataCollectionPending, RunFailed, RunCanceled},
	RunStartDataCollectionPending: {RunCollectingData, RunFailed, RunCanceled},
	RunCollectingData:             {RunDataCollected, RunFailed, RunCanceled},
	RunDataCollected:              {RunEvaluatingRules, RunFailed, RunCanceled},
	RunEvaluatingRules:            {RunCompleted, RunCompletedWithErrors, RunFailed},
}

// Valid reports whether s is a known state.
func (s RunState) Valid() bool { return slices.Contains(RunStates(), s) }

// Final reports whether a run in state s is over.
func (s RunState) Final() bool {
	return s == RunCompleted || s == RunCompletedWithErrors || s == RunFailed || s == RunCanceled
}

// CanMove reports whether a run may go from one state to another.
func CanMove(from, to RunState) bool { return slices.Contains(next[from], to) }

// Transition is one change of a run's state.
type Transition struct {
	From RunState  `json:"from,omitempty"` // empty for the first, into CREATED
	To   RunState  `json:"to"`
	At   time.Time `json:"at"`
	// Reason says why, for the states that need one (FAILED, CANCELED,
	// COMPLETED_WITH_ERRORS) and wherever it helps ("stopped by
	// operator@example.com, evaluating what was collected").
	Reason string `json:"reason,omitempty"`
}

// ErrTransition is returned for a transition the state machine refuses.
type ErrTransition struct {
	From, To RunState
}

func (e *ErrTransition) Error() string {
	if e.From.Final() {
		return fmt.Sprintf("run is %s: it is over and cannot become %s", e.From, e.To)
	}
	return fmt.Sprintf("run cannot go from %s to %s", e.From, e.To)
}

// Move checks the transition of a run in state from to state to at the
// given time and returns it. States that end a run badly need a reason.
func Move(from, to RunState, at time.Time, reason string) (Transition, error) {
	if !CanMove(from, to) {
		return Transition{}, &ErrTransition{From: from, To: to}
	}
	if reason == "" && (to == RunFailed || to == RunCanceled || to == RunCompletedWithErrors) {
		return Transition{}, fmt.Errorf("run: moving to %s needs a reason", to)
	}
	return Transition{From: from, To: to, At: at.UTC(), Reason: reason}, nil
}

// Run is one assessment run of a template.
type Run struct {
	ID         string    `json:"id"`
	TemplateID string    `json:"template_id"`
	State      RunState  `json:"state"`
	Created    time.Time `json:"created"`
	// History is every transition, the first into CREATED.
	History []Transition `json:"history"`
	// Assignments and Exclusions are the run's plan (Plan), recorded when
	// data collection starts.
	Assignments []Assignment `json:"assignments"`
	Exclusions  []Exclusion  `json:"exclusions"`
}

// NewRun is a run of template tpl, created at the given time.
func NewRun(id, tpl string, at time.Time) Run {
	at = at.UTC()
	return Run{ID: id, TemplateID: tpl, State: RunCreated, Created: at,
		History: []Transition{{To: RunCreated, At: at}}}
}
