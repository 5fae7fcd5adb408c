package server

import (
	"context"
	"errors"
	"fmt"

	"github.com/kensa-dev/kensa/internal/fleet"
	"github.com/kensa-dev/kensa/internal/store"
)

// feedsSetting names the stored generation of the vulnerability database
// the latest runs were evaluated against.
const feedsSetting = "vulndb-generation"

// Reevaluate makes a new run of run id's template that evaluates the
// documents id's agents uploaded again, without contacting them: what a
// vulnerability database update calls for. The new run starts with its
// data collected, its history saying so, and the engine evaluates it as
// any other; its findings are new, recurring or gone against the
// earlier run's like a collected run's.
func (e *Engine) Reevaluate(ctx context.Context, id, why string) (fleet.Run, error) {
	old, err := e.cfg.Store.Run(ctx, id)
	if err != nil {
		return fleet.Run{}, err
	}
	if old.State != fleet.RunCompleted && old.State != fleet.RunCompletedWithErrors {
		return fleet.Run{}, fmt.Errorf("run %s is %s: only a completed run's documents can be evaluated again: %w", id, old.State, store.ErrConflict)
	}
	work, err := e.cfg.Store.RunAgents(ctx, id)
	if err != nil {
		return fleet.Run{}, err
	}
	uploads, err := e.cfg.Store.Uploads(ctx, id)
	if err != nil {
		return fleet.Run{}, err
	}
	now := e.cfg.Now()
	reason := fmt.Sprintf("re-evaluation of run %s (%s): the documents its agents uploaded, evaluated again; no agent is contacted", id, why)
	r := fleet.NewRun(e.cfg.NewID("run"), old.TemplateID, now)
	r.History[0].Reason = reason
	for _, to := range []fleet.RunState{fleet.RunStartDataCollectionPending, fleet.RunCollectingData, fleet.RunDataCollected} {
		tr, err := fleet.Move(r.State, to, now, reason)
		if err != nil {
			return fleet.Run{}, err
		}
		r.History, r.State = append(r.History, tr), to
	}
	r.Exclusions = old.Exclusions
	var done []store.RunAgent
	for _, w := range work {
		if w.Status != store.WorkDone {
			continue
		}
		w.RunID, w.Updated = r.ID, now
		done = append(done, w)
	}
	for _, a := range old.Assignments {
		for _, w := range done {
			if w.AgentID == a.Agent.ID {
				r.Assignments = append(r.Assignments, a)
			}
		}
	}
	if len(done) == 0 {
		return fleet.Run{}, fmt.Errorf("run %s has no agent's documents to evaluate again: %w", id, store.ErrConflict)
	}
	var copied []store.Upload
	for _, u := range uploads {
		u.RunID, u.Key = r.ID, "reevaluation:"+u.Key
		copied = append(copied, u)
	}
	if err := e.cfg.Store.CreateCollectedRun(ctx, r, done, copied); err != nil {
		return fleet.Run{}, err
	}
	e.cfg.Log.Info("run re-evaluation started", "run", r.ID, "of", id, "why", why)
	e.Poke()
	return r, nil
}

// checkFeeds re-evaluates the latest completed run of every template when
// the vulnerability database has changed since they were evaluated (its
// generation differs from the stored one). The first time, it only
// records the generation.
func (e *Engine) checkFeeds(ctx context.Context) error {
	if e.cfg.FeedsGeneration == nil {
		return nil
	}
	gen, err := e.cfg.FeedsGeneration(ctx)
	if err != nil || gen == "" {
		return err
	}
	seen, err := e.cfg.Store.Setting(ctx, feedsSetting)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return e.cfg.Store.SetSetting(ctx, feedsSetting, gen)
	case err != nil:
		return err
	case seen == gen:
		return nil
	}
	runs, err := e.cfg.Store.Runs(ctx, fleet.RunCompleted, fleet.RunCompletedWithErrors)
	if err != nil {
		return err
	}
	latest := map[string]bool{}
	var errs []error
	for _, r := range runs { // newest first
		if latest[r.TemplateID] {
			continue
		}
		latest[r.TemplateID] = true
		if _, err := e.Reevaluate(ctx, r.ID, "the vulnerability database changed"); err != nil && !errors.Is(err, store.ErrConflict) {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	return e.cfg.Store.SetSetting(ctx, feedsSetting, gen)
}
