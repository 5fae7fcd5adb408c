package server

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/kensa-dev/kensa/internal/agentapi"
	"github.com/kensa-dev/kensa/internal/fleet"
	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/observe"
	"github.com/kensa-dev/kensa/internal/report"
	"github.com/kensa-dev/kensa/internal/store"
)

// Evaluator judges an agent's documents for the rules packages asked:
// assess.Evaluate with the server's vulnerability database. obsErr is why
// the agent's observation window could not run, when it could not.
type Evaluator func(ctx context.Context, inv *host.Inventory, obs *observe.Observations, obsErr error, packages []string) (*report.Report, error)

// EngineConfig is what the run engine needs.
type EngineConfig struct {
	Store    store.Store
	Support  fleet.Support
	Evaluate Evaluator
	Now      func() time.Time
	Log      *slog.Logger
	// Grace is how long after a run's observation window the server
	// waits for agents' documents: collection and upload time.
	Grace time.Duration
	// NewID makes run ids (for re-evaluations).
	NewID func(prefix string) string
	// FeedsGeneration names the vulnerability database's current data
	// (its sources and when each was last imported); when it changes,
	// the latest run of every template is evaluated again. Nil: never.
	FeedsGeneration func(ctx context.Context) (string, error)
	// Notify is called after a transition recorded webhook deliveries
	// (kensa server: the notifier's Poke). It must not block. Nil:
	// nothing; the deliveries wait in the store for a notifier.
	Notify func()
}

// Engine drives runs through their states. All it knows is in the
// store, so a restarted server (or another one sharing the database)
// carries on where it stopped: every step reads the run's state, and
// moves it with a compare and swap that only one server wins.
type Engine struct {
	cfg  EngineConfig
	poke chan struct{}
}

// feedsEvery is how often Run asks whether the vulnerability database
// changed.
const feedsEvery = 30 * time.Second

// NewEngine makes an engine. A nil NewID is server.NewID.
func NewEngine(cfg EngineConfig) *Engine {
	if cfg.NewID == nil {
		cfg.NewID = NewID
	}
	return &Engine{cfg: cfg, poke: make(chan struct{}, 1)}
}

// NewID is a random id with a prefix ("run-3f0c..."): 64 bits, so ids do
// not collide across servers sharing a database.
func NewID(prefix string) string {
	b := make([]byte, 8)
	rand.Read(b)
	return prefix + "-" + hex.EncodeToString(b)
}

// Poke asks the engine to look at the runs now, not at its next tick.
func (e *Engine) Poke() {
	select {
	case e.poke <- struct{}{}:
	default:
	}
}

// Run steps the runs every tick, and when poked, until ctx ends.
func (e *Engine) Run(ctx context.Context, tick time.Duration) {
	t := time.NewTicker(tick)
	defer t.Stop()
	var feedsChecked time.Time
	for {
		if time.Since(feedsChecked) >= feedsEvery {
			feedsChecked = time.Now()
			if err := e.checkFeeds(ctx); err != nil && ctx.Err() == nil {
				e.cfg.Log.Error("re-evaluation after a vulnerability database update", "err", err)
			}
		}
		if err := e.Step(ctx); err != nil && ctx.Err() == nil {
			e.cfg.Log.Error("run engine", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-e.poke:
		}
	}
}

// active are the states the engine moves runs out of.
var active = []fleet.RunState{fleet.RunCreated, fleet.RunStartDataCollectionPending, fleet.RunCollectingData,
	fleet.RunDataCollected, fleet.RunEvaluatingRules}

// Step advances every run that is not over as far as it can go now.
func (e *Engine) Step(ctx context.Context) error {
	runs, err := e.cfg.Store.Runs(ctx, active...)
	if err != nil {
		return err
	}
	slices.Reverse(runs) // oldest first
	var errs []error
	for _, r := range runs {
		for range len(active) {
			moved, err := e.advance(ctx, r)
			if errors.Is(err, store.ErrConflict) {
				break // another server moved it
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("run %s: %w", r.ID, err))
				break
			}
			if !moved {
				break
			}
			if r, err = e.cfg.Store.Run(ctx, r.ID); err != nil {
				errs = append(errs, err)
				break
			}
		}
	}
	return errors.Join(errs...)
}

// move applies a transition, from the run's state.
func (e *Engine) move(ctx context.Context, r fleet.Run, to fleet.RunState, reason string) error {
	return e.moveWith(ctx, r, to, reason, nil)
}

// moveWith applies a transition, from the run's state, and records the
// webhook deliveries it raises in the same store call (notify.go): the
// engine never sends anything itself, so no receiver can slow it down.
// summary is what the run's evaluation found, for the transitions that
// end it.
func (e *Engine) moveWith(ctx context.Context, r fleet.Run, to fleet.RunState, reason string, summary *RunSummary) error {
	tr, err := fleet.Move(r.State, to, e.cfg.Now(), reason)
	if err != nil {
		return err
	}
	out, err := e.deliveries(ctx, r, tr, summary)
	if err != nil {
		return err
	}
	if err := e.cfg.Store.MoveRun(ctx, r.ID, tr, out...); err != nil {
		return err
	}
	e.cfg.Log.Info("run moved", "run", r.ID, "from", r.State, "to", to, "reason", reason)
	if len(out) > 0 && e.cfg.Notify != nil {
		e.cfg.Notify()
	}
	return nil
}

// advance takes one step of run r; moved says whether its state changed.
func (e *Engine) advance(ctx context.Context, r fleet.Run) (bool, error) {
	switch r.State {
	case fleet.RunCreated:
		return true, e.plan(ctx, r)
	case fleet.RunStartDataCollectionPending, fleet.RunCollectingData:
		return e.collecting(ctx, r)
	case fleet.RunDataCollected:
		return true, e.move(ctx, r, fleet.RunEvaluatingRules, "")
	case fleet.RunEvaluatingRules:
		return true, e.evaluate(ctx, r)
	}
	return false, nil
}

// planSupport is a fleet.Support that reads what it knows (the
// vulnerability database's ecosystems) once per plan rather than once
// per agent and package.
type planSupport interface {
	ForPlan(ctx context.Context) (fleet.Support, error)
}

// plan assigns the run's work and records its exclusions.
func (e *Engine) plan(ctx context.Context, r fleet.Run) error {
	tpl, err := e.cfg.Store.Template(ctx, r.TemplateID)
	if err != nil {
		return err
	}
	target, err := e.cfg.Store.Target(ctx, tpl.TargetID)
	if err != nil {
		return err
	}
	agents, err := e.cfg.Store.Agents(ctx)
	if err != nil {
		return err
	}
	// Busy agents: those with open work in another collecting run, read
	// from those runs (a few) rather than agent by agent (thousands).
	busy := map[string]string{}
	open, err := e.cfg.Store.Runs(ctx, fleet.RunStartDataCollectionPending, fleet.RunCollectingData)
	if err != nil {
		return err
	}
	for _, o := range open {
		if o.ID == r.ID {
			continue
		}
		work, err := e.cfg.Store.RunAgents(ctx, o.ID)
		if err != nil {
			return err
		}
		for _, w := range work {
			if w.Status == store.WorkPending || w.Status == store.WorkCollecting {
				busy[w.AgentID] = o.ID
			}
		}
	}
	support := e.cfg.Support
	if p, ok := support.(planSupport); ok {
		if support, err = p.ForPlan(ctx); err != nil {
			return err
		}
	}
	now := e.cfg.Now()
	assigned, excluded := fleet.Plan(tpl, target, agents, busy, support, now)
	work := make([]store.RunAgent, 0, len(assigned))
	for _, a := range assigned {
		work = append(work, store.RunAgent{AgentID: a.Agent.ID, Packages: a.Packages, Updated: now})
	}
	if err := e.cfg.Store.AssignRun(ctx, r.ID, work); err != nil {
		return err
	}
	if err := e.cfg.Store.SetPlan(ctx, r.ID, assigned, excluded); err != nil {
		return err
	}
	if len(assigned) == 0 {
		return e.move(ctx, r, fleet.RunFailed, fmt.Sprintf("no agent can be assessed: the target selects %d agent(s) and %d exclusion(s) apply (see exclusions)", selected(target, agents), len(excluded)))
	}
	return e.move(ctx, r, fleet.RunStartDataCollectionPending, "")
}

func selected(t fleet.Target, agents []fleet.Agent) int {
	n := 0
	for _, a := range agents {
		if t.Selects(a.Tags) {
			n++
		}
	}
	return n
}

// deadline is when the run stops waiting for documents: its window
// after collection was asked for, plus the grace.
func (e *Engine) deadline(ctx context.Context, r fleet.Run) (time.Time, time.Duration, error) {
	tpl, err := e.cfg.Store.Template(ctx, r.TemplateID)
	if err != nil {
		return time.Time{}, 0, err
	}
	start := r.Created
	for _, tr := range r.History {
		if tr.To == fleet.RunStartDataCollectionPending {
			start = tr.At
		}
	}
	return start.Add(tpl.Duration + e.cfg.Grace), tpl.Duration, nil
}

// collecting moves a collecting run on when its agents have taken the
// work, when all have finished, or at the deadline.
func (e *Engine) collecting(ctx context.Context, r fleet.Run) (bool, error) {
	work, err := e.cfg.Store.RunAgents(ctx, r.ID)
	if err != nil {
		return false, err
	}
	deadline, _, err := e.deadline(ctx, r)
	if err != nil {
		return false, err
	}
	now := e.cfg.Now()
	pending, open := 0, 0
	for _, w := range work {
		switch w.Status {
		case store.WorkPending:
			pending++
			open++
		case store.WorkCollecting:
			open++
		}
	}
	late := !now.Before(deadline)
	if late && open > 0 {
		for _, w := range work {
			if w.Status == store.WorkPending || w.Status == store.WorkCollecting {
				why := "no documents by the run's deadline " + deadline.Format(time.RFC3339)
				if w.Status == store.WorkPending {
					why = "the agent did not take the work before the run's deadline " + deadline.Format(time.RFC3339)
				}
				if err := e.cfg.Store.SetWork(ctx, r.ID, w.AgentID, []string{w.Status}, store.WorkFailed, why, now); err != nil && !errors.Is(err, store.ErrConflict) {
					return false, err
				}
			}
		}
		open = 0
	}
	switch {
	case r.State == fleet.RunStartDataCollectionPending && (pending < len(work) || late):
		return true, e.move(ctx, r, fleet.RunCollectingData, "")
	case r.State == fleet.RunCollectingData && open == 0:
		return true, e.move(ctx, r, fleet.RunDataCollected, "")
	}
	return false, nil
}

// Stop stops a run: with evaluate, what was collected is evaluated (the
// agents still collecting are told to stop); without, the run is
// canceled.
func (e *Engine) Stop(ctx context.Context, id string, evaluate bool, by string) error {
	r, err := e.cfg.Store.Run(ctx, id)
	if err != nil {
		return err
	}
	if r.State.Final() {
		return fmt.Errorf("run %s is %s: %w", id, r.State, store.ErrConflict)
	}
	if !evaluate || r.State == fleet.RunCreated {
		if r.State == fleet.RunEvaluatingRules {
			return fmt.Errorf("run %s is evaluating its rules: it cannot be canceled now, it finishes soon: %w", id, store.ErrConflict)
		}
		if err := e.cancelWork(ctx, r, "the run was canceled by "+by); err != nil {
			return err
		}
		return e.move(ctx, r, fleet.RunCanceled, "stopped by "+by+" without evaluating")
	}
	if err := e.cancelWork(ctx, r, "the run was stopped by "+by+" before the agent finished"); err != nil {
		return err
	}
	if r.State == fleet.RunStartDataCollectionPending {
		if err := e.move(ctx, r, fleet.RunCollectingData, "stopped by "+by); err != nil {
			return err
		}
		r.State = fleet.RunCollectingData
	}
	if r.State == fleet.RunCollectingData {
		if err := e.move(ctx, r, fleet.RunDataCollected, "stopped by "+by+", evaluating what was collected"); err != nil {
			return err
		}
	}
	e.Poke()
	return nil
}

func (e *Engine) cancelWork(ctx context.Context, r fleet.Run, why string) error {
	work, err := e.cfg.Store.RunAgents(ctx, r.ID)
	if err != nil {
		return err
	}
	for _, w := range work {
		if w.Status == store.WorkPending || w.Status == store.WorkCollecting {
			if err := e.cfg.Store.SetWork(ctx, r.ID, w.AgentID, []string{w.Status}, store.WorkCanceled, why, e.cfg.Now()); err != nil && !errors.Is(err, store.ErrConflict) {
				return err
			}
		}
	}
	return nil
}

// evaluate judges each agent's documents, stores the findings and
// reports, and ends the run.
func (e *Engine) evaluate(ctx context.Context, r fleet.Run) error {
	tpl, err := e.cfg.Store.Template(ctx, r.TemplateID)
	if err != nil {
		return err
	}
	work, err := e.cfg.Store.RunAgents(ctx, r.ID)
	if err != nil {
		return err
	}
	uploads, err := e.cfg.Store.Uploads(ctx, r.ID)
	if err != nil {
		return err
	}
	done, failed := 0, []string{}
	summary := newRunSummary()
	for _, w := range work {
		if w.Status != store.WorkDone {
			failed = append(failed, w.AgentID+" ("+w.Status+": "+w.Error+")")
			continue
		}
		rep, err := e.evaluateAgent(ctx, r, tpl, w, uploads)
		if err != nil {
			e.cfg.Log.Error("evaluation failed", "run", r.ID, "agent", w.AgentID, "err", err)
			failed = append(failed, w.AgentID+" (evaluation failed: "+err.Error()+")")
			continue
		}
		summary.add(rep)
		done++
	}
	summary.AgentsFailed = len(failed)
	switch {
	case done == 0:
		return e.moveWith(ctx, r, fleet.RunFailed, "no agent's data could be evaluated: "+strings.Join(failed, "; "), summary)
	case len(failed) > 0:
		return e.moveWith(ctx, r, fleet.RunCompletedWithErrors, fmt.Sprintf("%d of %d agents evaluated; not: %s", done, len(work), strings.Join(failed, "; ")), summary)
	}
	return e.moveWith(ctx, r, fleet.RunCompleted, "", summary)
}

// evaluateAgent evaluates and stores one agent's documents, and returns
// its report.
func (e *Engine) evaluateAgent(ctx context.Context, r fleet.Run, tpl fleet.Template, w store.RunAgent, uploads []store.Upload) (*report.Report, error) {
	var invSum, obsSum string
	for _, u := range uploads {
		if u.AgentID != w.AgentID {
			continue
		}
		switch u.Kind {
		case agentapi.KindInventory:
			invSum = u.SHA256
		case agentapi.KindObservations:
			obsSum = u.SHA256
		}
	}
	if invSum == "" {
		return nil, errors.New("no inventory was uploaded")
	}
	var inv host.Inventory
	if err := e.document(ctx, invSum, &inv); err != nil {
		return nil, fmt.Errorf("inventory: %w", err)
	}
	var obs *observe.Observations
	if obsSum != "" {
		obs = &observe.Observations{}
		if err := e.document(ctx, obsSum, obs); err != nil {
			return nil, fmt.Errorf("observations: %w", err)
		}
	}
	// A done agent's work error is why its observation window could not
	// run (agentapi.WorkDone.ObservationError).
	var obsErr error
	if w.Error != "" {
		obsErr = errors.New(w.Error)
	}
	rep, err := e.cfg.Evaluate(ctx, &inv, obs, obsErr, w.Packages)
	if err != nil {
		return nil, err
	}
	// The template's attributes go on every finding; a rule's own
	// attribute of the same name is kept.
	for i := range rep.Findings {
		f := &rep.Findings[i]
		if f.Attributes == nil {
			f.Attributes = map[string]string{}
		}
		for _, k := range slices.Sorted(maps.Keys(tpl.Attributes)) {
			if _, ok := f.Attributes[k]; !ok {
				f.Attributes[k] = tpl.Attributes[k]
			}
		}
	}
	// The stored suppressions set findings aside as a suppression file
	// does in kensa scan (suppressions.go).
	suppressed, err := e.ApplySuppressions(ctx, rep)
	if err != nil {
		return nil, fmt.Errorf("suppressions: %w", err)
	}
	var buf bytes.Buffer
	if err := report.WriteJSON(&buf, rep); err != nil {
		return nil, err
	}
	sum, blob, err := compress(buf.Bytes())
	if err != nil {
		return nil, err
	}
	if err := e.cfg.Store.PutBlob(ctx, sum, blob); err != nil {
		return nil, err
	}
	return rep, e.cfg.Store.SaveResults(ctx, r.ID, w.AgentID, sum, rep.Findings, suppressed, e.cfg.Now())
}

// document reads a stored document (a gzip-compressed blob) into v.
func (e *Engine) document(ctx context.Context, sum string, v any) error {
	b, err := e.cfg.Store.Blob(ctx, sum)
	if err != nil {
		return err
	}
	raw, err := decompress(b, agentapi.MaxBlobBytes)
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, v)
}

// compress gzips a document; its id is the SHA-256 of the uncompressed
// bytes, as agents name their uploads.
func compress(doc []byte) (string, []byte, error) {
	h := sha256.Sum256(doc)
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(doc); err != nil {
		return "", nil, err
	}
	if err := zw.Close(); err != nil {
		return "", nil, err
	}
	return hex.EncodeToString(h[:]), buf.Bytes(), nil
}

// decompress gunzips at most limit bytes: a compressed document is not
// trusted to be small.
func decompress(b []byte, limit int64) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	out, err := io.ReadAll(io.LimitReader(zr, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(out)) > limit {
		return nil, fmt.Errorf("document larger than %d bytes uncompressed", limit)
	}
	return out, nil
}
