package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/kensa-dev/kensa/internal/fleet"
)

// Delivery statuses.
const (
	// DeliveryPending: not sent yet, or to be tried again at NextAttempt.
	DeliveryPending = "pending"
	// DeliveryDelivered: the receiver answered 2xx.
	DeliveryDelivered = "delivered"
	// DeliveryFailed: given up (the receiver refused it, or it could not
	// be delivered in time); LastError says why.
	DeliveryFailed = "failed"
)

// Delivery is one webhook POST a run's transition raised: an outbox row,
// recorded with the transition (MoveRun) and sent by the server's
// notifier.
type Delivery struct {
	ID         string
	RunID      string
	TemplateID string
	// Seq is the run's transition that raised it (its place in the run's
	// history, from 1), N its place among that transition's deliveries:
	// a run's deliveries to one URL are sent in (Seq, N) order.
	Seq, N int
	Event  fleet.Event
	URL    string
	// Body is the JSON document sent, byte for byte: it is signed.
	Body        []byte
	Status      string
	Attempts    int
	Created     time.Time
	NextAttempt time.Time
	// LastAttempt is zero before the first attempt.
	LastAttempt time.Time
	// LastStatus is the HTTP status of the last answer, 0 for none.
	LastStatus int
	LastError  string
}

// DeliveryAttempt is the outcome of one attempt at a delivery.
type DeliveryAttempt struct {
	At         time.Time
	HTTPStatus int // 0: no answer
	Error      string
	// Status is the delivery's status after the attempt: delivered,
	// failed (given up), or pending, to be tried again at Next.
	Status string
	Next   time.Time
}

// DeliveryFilter chooses deliveries: a run's, or (RunID empty) the
// latest Limit of every run (0: no bound).
type DeliveryFilter struct {
	RunID string
	Limit int
}

const deliveryColumns = `id, run_id, template_id, seq, n, event, url, body, status, attempts, created, next_attempt, last_attempt, last_status, last_error`

func scanDelivery(row interface{ Scan(...any) error }) (Delivery, error) {
	var d Delivery
	var created, next dbTime
	err := row.Scan(&d.ID, &d.RunID, &d.TemplateID, &d.Seq, &d.N, &d.Event, &d.URL, &d.Body, &d.Status, &d.Attempts,
		&created, &next, dbNullTime{&d.LastAttempt}, &d.LastStatus, &d.LastError)
	d.Created, d.NextAttempt = created.t, next.t
	return d, err
}

// addDeliveries records the deliveries a run's transition seq raised,
// pending, in tx.
func (s *sqlStore) addDeliveries(ctx context.Context, tx *sql.Tx, runID string, seq int, out []Delivery) error {
	for i, d := range out {
		if d.ID == "" || d.URL == "" || !d.Event.Valid() {
			return fmt.Errorf("store: run %s: a delivery needs an id, a URL and a known event: %+v", runID, d)
		}
		body := d.Body
		if body == nil {
			body = []byte{}
		}
		next := d.NextAttempt
		if next.IsZero() {
			next = d.Created
		}
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO deliveries (id, run_id, template_id, seq, n, event, url, body, status, attempts, created, next_attempt, last_status, last_error)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, 0, '')`),
			d.ID, runID, d.TemplateID, seq, i, string(d.Event), d.URL, body, DeliveryPending, s.t(d.Created), s.t(next)); err != nil {
			return err
		}
	}
	return nil
}

func (s *sqlStore) Deliveries(ctx context.Context, f DeliveryFilter) ([]Delivery, error) {
	if f.RunID != "" {
		return list(ctx, s, "deliveries", `SELECT `+deliveryColumns+` FROM deliveries WHERE run_id = ? ORDER BY seq, n`, scanDelivery, f.RunID)
	}
	query := `SELECT ` + deliveryColumns + ` FROM deliveries ORDER BY created DESC, run_id DESC, seq DESC, n DESC`
	var args []any
	if f.Limit > 0 {
		query += ` LIMIT ?`
		args = append(args, f.Limit)
	}
	return list(ctx, s, "deliveries", query, scanDelivery, args...)
}

func (s *sqlStore) DueDeliveries(ctx context.Context, now time.Time, limit int) ([]Delivery, error) {
	if limit <= 0 {
		limit = 100
	}
	// A delivery is its queue's head when no earlier delivery of its run
	// to the same URL is pending (one being sent is pending, with its
	// next attempt in the future, so its queue waits).
	return list(ctx, s, "due deliveries", `SELECT `+deliveryColumns+` FROM deliveries d
		WHERE d.status = ? AND d.next_attempt <= ?
		AND NOT EXISTS (SELECT 1 FROM deliveries e WHERE e.run_id = d.run_id AND e.url = d.url AND e.status = ?
			AND (e.seq < d.seq OR (e.seq = d.seq AND e.n < d.n)))
		ORDER BY d.created, d.run_id, d.seq, d.n LIMIT ?`,
		scanDelivery, DeliveryPending, s.t(now), DeliveryPending, limit)
}

func (s *sqlStore) ClaimDelivery(ctx context.Context, id string, now, until time.Time) error {
	res, err := s.exec(ctx, `UPDATE deliveries SET next_attempt = ? WHERE id = ? AND status = ? AND next_attempt <= ?`,
		s.t(until), id, DeliveryPending, s.t(now))
	return s.changedDelivery(ctx, res, err, id, "is not pending and due")
}

func (s *sqlStore) RecordAttempt(ctx context.Context, id string, a DeliveryAttempt) error {
	switch a.Status {
	case DeliveryPending, DeliveryDelivered, DeliveryFailed:
	default:
		return fmt.Errorf("store: delivery %s: unknown status %q", id, a.Status)
	}
	next := a.Next
	if a.Status != DeliveryPending || next.IsZero() {
		next = a.At
	}
	res, err := s.exec(ctx, `UPDATE deliveries SET status = ?, attempts = attempts + 1, last_attempt = ?, last_status = ?, last_error = ?, next_attempt = ?
		WHERE id = ? AND status = ?`,
		a.Status, s.t(a.At), a.HTTPStatus, a.Error, s.t(next), id, DeliveryPending)
	return s.changedDelivery(ctx, res, err, id, "is no longer pending")
}

// changedDelivery turns an UPDATE of no delivery into ErrNotFound, or
// ErrConflict when the delivery exists.
func (s *sqlStore) changedDelivery(ctx context.Context, res sql.Result, err error, id, why string) error {
	if err != nil {
		return fmt.Errorf("store: delivery %s: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("store: delivery %s: %w", id, err)
	}
	if n > 0 {
		return nil
	}
	var status string
	err = s.db.QueryRowContext(ctx, s.q(`SELECT status FROM deliveries WHERE id = ?`), id).Scan(&status)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("store: delivery %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("store: delivery %s: %w", id, err)
	}
	return fmt.Errorf("store: delivery %s (%s) %s: %w", id, status, why, ErrConflict)
}
