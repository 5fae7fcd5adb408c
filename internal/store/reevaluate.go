package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/kensa-dev/kensa/internal/fleet"
)

// CreateCollectedRun stores, in one transaction, a run whose data is
// already collected (a re-evaluation of stored documents): the run in
// its state with its history, each agent's work (done) and the uploads
// it evaluates. Nothing of it is visible before all of it is, so the
// engine never sees the run half made.
func (s *sqlStore) CreateCollectedRun(ctx context.Context, r fleet.Run, work []RunAgent, uploads []Upload) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := s.insertRun(ctx, tx, r); err != nil {
			return err
		}
		for _, w := range work {
			pkgs, err := js(nonNil(w.Packages))
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO run_agents (run_id, agent_id, packages, status, error, updated) VALUES (?, ?, ?, ?, ?, ?)`),
				r.ID, w.AgentID, pkgs, w.Status, w.Error, s.t(w.Updated)); err != nil {
				return err
			}
		}
		for _, u := range uploads {
			if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO uploads (run_id, agent_id, kind, key, sha256, received) VALUES (?, ?, ?, ?, ?, ?)`),
				r.ID, u.AgentID, u.Kind, u.Key, u.SHA256, s.t(u.Received)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		if s.d.unique(err) {
			return fmt.Errorf("store: run %s: %w", r.ID, ErrExists)
		}
		return fmt.Errorf("store: run %s: %w", r.ID, err)
	}
	return nil
}

// Setting reads a named value; ErrNotFound when it was never set.
func (s *sqlStore) Setting(ctx context.Context, name string) (string, error) {
	var v string
	err := s.db.QueryRowContext(ctx, s.q(`SELECT value FROM settings WHERE name = ?`), name).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("store: setting %s: %w", name, ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("store: setting %s: %w", name, err)
	}
	return v, nil
}

// SetSetting writes a named value.
func (s *sqlStore) SetSetting(ctx context.Context, name, value string) error {
	_, err := s.exec(ctx, `INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value`, name, value)
	if err != nil {
		return fmt.Errorf("store: setting %s: %w", name, err)
	}
	return nil
}
