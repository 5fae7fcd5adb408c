package store

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/kensa-dev/kensa/internal/auth"
	"github.com/kensa-dev/kensa/internal/fleet"
)

//go:embed migrations
var migrations embed.FS

// dialect is what differs between the databases: placeholders, how a
// time is stored, how a unique violation reads, and the migrations.
type dialect struct {
	name string // goose dialect
	dir  string // migrations folder
	// dollar: placeholders are $1, $2 (PostgreSQL), not ?.
	dollar bool
	// jsonb: JSON columns are JSONB (PostgreSQL), not TEXT, and are
	// queried with its operators rather than SQLite's json functions.
	jsonb bool
	// timeArg is the value a time is stored as.
	timeArg func(time.Time) any
	// unique reports whether err is a violation of a unique or primary
	// key constraint.
	unique func(error) bool
}

// sqlStore is Store over database/sql.
type sqlStore struct {
	db *sql.DB
	d  dialect
}

// migrate brings the schema to the newest version. goose's provider
// takes a database lock on PostgreSQL, so servers starting together do
// not migrate twice.
func migrate(ctx context.Context, db *sql.DB, d dialect, opts ...goose.ProviderOption) error {
	dir, err := fs.Sub(migrations, "migrations/"+d.dir)
	if err != nil {
		return err
	}
	p, err := goose.NewProvider(goose.Dialect(d.name), db, dir, opts...)
	if err != nil {
		return fmt.Errorf("store: migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("store: migrate %s: %w", d.name, err)
	}
	return nil
}

// q rewrites ? placeholders for the dialect. The queries of this file
// hold no ? inside string literals.
func (s *sqlStore) q(query string) string {
	if !s.d.dollar {
		return query
	}
	var b strings.Builder
	n := 0
	for _, c := range query {
		if c == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

func (s *sqlStore) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return s.db.ExecContext(ctx, s.q(query), args...)
}

func (s *sqlStore) Close() error { return s.db.Close() }

// insert runs an INSERT, mapping a unique violation to ErrExists.
func (s *sqlStore) insert(ctx context.Context, what, query string, args ...any) error {
	if _, err := s.exec(ctx, query, args...); err != nil {
		if s.d.unique(err) {
			return fmt.Errorf("store: %s: %w", what, ErrExists)
		}
		return fmt.Errorf("store: %s: %w", what, err)
	}
	return nil
}

// t is the stored form of a time: UTC, to the microsecond (PostgreSQL's
// precision, kept by both databases so that they agree).
func (s *sqlStore) t(at time.Time) any { return s.d.timeArg(at.UTC().Truncate(time.Microsecond)) }

// dbTime scans a time stored either way: TEXT (SQLite) or TIMESTAMPTZ.
type dbTime struct{ t time.Time }

func (d *dbTime) Scan(v any) error {
	switch v := v.(type) {
	case time.Time:
		d.t = v.UTC()
	case string:
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return err
		}
		d.t = t.UTC()
	case []byte:
		return d.Scan(string(v))
	default:
		return fmt.Errorf("store: time stored as %T", v)
	}
	return nil
}

// textTime is how SQLite stores a time: UTC, nanoseconds, fixed width,
// so that times sort as text.
func textTime(t time.Time) any { return t.UTC().Format("2006-01-02T15:04:05.000000000Z07:00") }

// dbJSON scans a JSON document into v, stored as TEXT or JSONB.
type dbJSON struct{ v any }

func (d dbJSON) Scan(src any) error {
	var b []byte
	switch src := src.(type) {
	case string:
		b = []byte(src)
	case []byte:
		b = src
	default:
		return fmt.Errorf("store: json stored as %T", src)
	}
	return json.Unmarshal(b, d.v)
}

// js encodes v for a JSON column, as text (both databases take it).
func js(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

func notFound(what, id string, err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("store: %s %s: %w", what, id, ErrNotFound)
	}
	return fmt.Errorf("store: %s %s: %w", what, id, err)
}

const agentColumns = `id, hostname, tags, version, os, kernel, addresses, live, health, reason, last_seen, enrolled, revoked`

func scanAgent(row interface{ Scan(...any) error }) (fleet.Agent, error) {
	var a fleet.Agent
	var seen, enrolled dbTime
	a.Tags = fleet.Tags{}
	err := row.Scan(&a.ID, &a.Hostname, dbJSON{&a.Tags}, &a.Version, &a.OS, &a.Kernel, dbJSON{&a.Addresses},
		&a.Live, &a.Health, &a.Reason, &seen, &enrolled, &a.Revoked)
	a.LastSeen, a.Enrolled = seen.t, enrolled.t
	return a, err
}

func (s *sqlStore) CreateAgent(ctx context.Context, a fleet.Agent) error {
	tags, err := js(nonNilTags(a.Tags))
	if err != nil {
		return err
	}
	addrs, err := js(nonNil(a.Addresses))
	if err != nil {
		return err
	}
	return s.insert(ctx, "agent "+a.ID, `INSERT INTO agents (`+agentColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		a.ID, a.Hostname, tags, a.Version, a.OS, a.Kernel, addrs, a.Live, string(a.Health), a.Reason, s.t(a.LastSeen), s.t(a.Enrolled), a.Revoked)
}

func (s *sqlStore) Agent(ctx context.Context, id string) (fleet.Agent, error) {
	a, err := scanAgent(s.db.QueryRowContext(ctx, s.q(`SELECT `+agentColumns+` FROM agents WHERE id = ?`), id))
	if err != nil {
		return fleet.Agent{}, notFound("agent", id, err)
	}
	return a, nil
}

func (s *sqlStore) Agents(ctx context.Context) ([]fleet.Agent, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+agentColumns+` FROM agents ORDER BY hostname, id`)
	if err != nil {
		return nil, fmt.Errorf("store: agents: %w", err)
	}
	defer rows.Close()
	var out []fleet.Agent
	for rows.Next() {
		a, err := scanAgent(rows)
		if err != nil {
			return nil, fmt.Errorf("store: agents: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

func (s *sqlStore) Heartbeat(ctx context.Context, id string, h Heartbeat) error {
	addrs, err := js(nonNil(h.Addresses))
	if err != nil {
		return err
	}
	res, err := s.exec(ctx, `UPDATE agents SET version = ?, os = ?, kernel = ?, addresses = ?, live = ?, health = ?, reason = ?, last_seen = ? WHERE id = ?`,
		h.Version, h.OS, h.Kernel, addrs, h.Live, string(h.Health), h.Reason, s.t(h.At), id)
	return updated(res, err, "agent", id)
}

func (s *sqlStore) RevokeAgent(ctx context.Context, id string) error {
	res, err := s.exec(ctx, `UPDATE agents SET revoked = ? WHERE id = ?`, true, id)
	return updated(res, err, "agent", id)
}

// updated turns an UPDATE of no row into ErrNotFound.
func updated(res sql.Result, err error, what, id string) error {
	if err != nil {
		return fmt.Errorf("store: %s %s: %w", what, id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("store: %s %s: %w", what, id, err)
	} else if n == 0 {
		return fmt.Errorf("store: %s %s: %w", what, id, ErrNotFound)
	}
	return nil
}

func (s *sqlStore) CreateTarget(ctx context.Context, t fleet.Target) error {
	sel, err := js(nonNilSelector(t.Selector))
	if err != nil {
		return err
	}
	return s.insert(ctx, "target "+t.ID, `INSERT INTO targets (id, name, selector, all_agents, created) VALUES (?, ?, ?, ?, ?)`,
		t.ID, t.Name, sel, t.All, s.t(t.Created))
}

const targetColumns = `id, name, selector, all_agents, created`

func scanTarget(row interface{ Scan(...any) error }) (fleet.Target, error) {
	var t fleet.Target
	var created dbTime
	t.Selector = fleet.Selector{}
	err := row.Scan(&t.ID, &t.Name, dbJSON{&t.Selector}, &t.All, &created)
	t.Created = created.t
	return t, err
}

func (s *sqlStore) Target(ctx context.Context, id string) (fleet.Target, error) {
	t, err := scanTarget(s.db.QueryRowContext(ctx, s.q(`SELECT `+targetColumns+` FROM targets WHERE id = ?`), id))
	if err != nil {
		return fleet.Target{}, notFound("target", id, err)
	}
	return t, nil
}

func (s *sqlStore) Targets(ctx context.Context) ([]fleet.Target, error) {
	return list(ctx, s, "targets", `SELECT `+targetColumns+` FROM targets ORDER BY name`, scanTarget)
}

const templateColumns = `id, name, target_id, packages, duration_ms, attributes, created, subscriptions`

func (s *sqlStore) CreateTemplate(ctx context.Context, t fleet.Template) error {
	pkgs, err := js(nonNil(t.Packages))
	if err != nil {
		return err
	}
	attrs, err := js(nonNilMap(t.Attributes))
	if err != nil {
		return err
	}
	subs, err := js(nonNil(t.Subscriptions))
	if err != nil {
		return err
	}
	if _, err := s.Target(ctx, t.TargetID); err != nil {
		return fmt.Errorf("store: template %s: %w", t.ID, err)
	}
	return s.insert(ctx, "template "+t.ID, `INSERT INTO templates (`+templateColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		t.ID, t.Name, t.TargetID, pkgs, t.Duration.Milliseconds(), attrs, s.t(t.Created), subs)
}

func scanTemplate(row interface{ Scan(...any) error }) (fleet.Template, error) {
	var t fleet.Template
	var created dbTime
	var ms int64
	err := row.Scan(&t.ID, &t.Name, &t.TargetID, dbJSON{&t.Packages}, &ms, dbJSON{&t.Attributes}, &created, dbJSON{&t.Subscriptions})
	t.Duration, t.Created = time.Duration(ms)*time.Millisecond, created.t
	if len(t.Subscriptions) == 0 {
		t.Subscriptions = nil
	}
	return t, err
}

func (s *sqlStore) Template(ctx context.Context, id string) (fleet.Template, error) {
	t, err := scanTemplate(s.db.QueryRowContext(ctx, s.q(`SELECT `+templateColumns+` FROM templates WHERE id = ?`), id))
	if err != nil {
		return fleet.Template{}, notFound("template", id, err)
	}
	return t, nil
}

func (s *sqlStore) Templates(ctx context.Context) ([]fleet.Template, error) {
	return list(ctx, s, "templates", `SELECT `+templateColumns+` FROM templates ORDER BY name`, scanTemplate)
}

// list runs a query of many rows.
func list[T any](ctx context.Context, s *sqlStore, what, query string, scan func(interface{ Scan(...any) error }) (T, error), args ...any) ([]T, error) {
	rows, err := s.db.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", what, err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("store: %s: %w", what, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: %s: %w", what, err)
	}
	return out, nil
}

// tx runs fn in a transaction.
func (s *sqlStore) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

func (s *sqlStore) CreateRun(ctx context.Context, r fleet.Run) error {
	if _, err := s.Template(ctx, r.TemplateID); err != nil {
		return fmt.Errorf("store: run %s: %w", r.ID, err)
	}
	err := s.tx(ctx, func(tx *sql.Tx) error { return s.insertRun(ctx, tx, r) })
	if err != nil {
		if s.d.unique(err) {
			return fmt.Errorf("store: run %s: %w", r.ID, ErrExists)
		}
		return fmt.Errorf("store: run %s: %w", r.ID, err)
	}
	return nil
}

// insertRun inserts a run and its history in tx.
func (s *sqlStore) insertRun(ctx context.Context, tx *sql.Tx, r fleet.Run) error {
	if len(r.History) == 0 || r.History[len(r.History)-1].To != r.State {
		return fmt.Errorf("store: run %s: its history does not end in its state %s", r.ID, r.State)
	}
	assigned, err := js(nonNil(r.Assignments))
	if err != nil {
		return err
	}
	excluded, err := js(nonNil(r.Exclusions))
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO runs (id, template_id, state, created, assignments, exclusions) VALUES (?, ?, ?, ?, ?, ?)`),
		r.ID, r.TemplateID, string(r.State), s.t(r.Created), assigned, excluded); err != nil {
		return err
	}
	for i, tr := range r.History {
		if err := s.addTransition(ctx, tx, r.ID, i+1, tr); err != nil {
			return err
		}
	}
	return nil
}

func (s *sqlStore) addTransition(ctx context.Context, tx *sql.Tx, run string, seq int, tr fleet.Transition) error {
	_, err := tx.ExecContext(ctx, s.q(`INSERT INTO run_transitions (run_id, seq, from_state, to_state, at, reason) VALUES (?, ?, ?, ?, ?, ?)`),
		run, seq, string(tr.From), string(tr.To), s.t(tr.At), tr.Reason)
	return err
}

func (s *sqlStore) Run(ctx context.Context, id string) (fleet.Run, error) {
	r, err := scanRun(s.db.QueryRowContext(ctx, s.q(`SELECT `+runColumns+` FROM runs WHERE id = ?`), id))
	if err != nil {
		return fleet.Run{}, notFound("run", id, err)
	}
	if err := s.history(ctx, []*fleet.Run{&r}); err != nil {
		return fleet.Run{}, err
	}
	return r, nil
}

const runColumns = `id, template_id, state, created, assignments, exclusions`

func scanRun(row interface{ Scan(...any) error }) (fleet.Run, error) {
	var r fleet.Run
	var created dbTime
	err := row.Scan(&r.ID, &r.TemplateID, &r.State, &created, dbJSON{&r.Assignments}, dbJSON{&r.Exclusions})
	r.Created = created.t
	return r, err
}

// history fills in the runs' transitions.
func (s *sqlStore) history(ctx context.Context, runs []*fleet.Run) error {
	for _, r := range runs {
		trs, err := list(ctx, s, "run "+r.ID, `SELECT from_state, to_state, at, reason FROM run_transitions WHERE run_id = ? ORDER BY seq`,
			func(row interface{ Scan(...any) error }) (fleet.Transition, error) {
				var tr fleet.Transition
				var at dbTime
				err := row.Scan(&tr.From, &tr.To, &at, &tr.Reason)
				tr.At = at.t
				return tr, err
			}, r.ID)
		if err != nil {
			return err
		}
		r.History = trs
	}
	return nil
}

func (s *sqlStore) Runs(ctx context.Context, states ...fleet.RunState) ([]fleet.Run, error) {
	query := `SELECT ` + runColumns + ` FROM runs`
	var args []any
	if len(states) > 0 {
		query += ` WHERE state IN (?` + strings.Repeat(`, ?`, len(states)-1) + `)`
		for _, st := range states {
			args = append(args, string(st))
		}
	}
	query += ` ORDER BY created DESC, id`
	runs, err := list(ctx, s, "runs", query, scanRun, args...)
	if err != nil {
		return nil, err
	}
	ptrs := make([]*fleet.Run, len(runs))
	for i := range runs {
		ptrs[i] = &runs[i]
	}
	return runs, s.history(ctx, ptrs)
}

func (s *sqlStore) MoveRun(ctx context.Context, id string, tr fleet.Transition, out ...Delivery) error {
	if !fleet.CanMove(tr.From, tr.To) {
		return fmt.Errorf("store: run %s: %w", id, &fleet.ErrTransition{From: tr.From, To: tr.To})
	}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`UPDATE runs SET state = ? WHERE id = ? AND state = ?`), string(tr.To), id, string(tr.From))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			var state string
			if err := tx.QueryRowContext(ctx, s.q(`SELECT state FROM runs WHERE id = ?`), id).Scan(&state); err != nil {
				return notFound("run", id, err)
			}
			return fmt.Errorf("store: run %s is %s, not %s: %w", id, state, tr.From, ErrConflict)
		}
		var seq int
		if err := tx.QueryRowContext(ctx, s.q(`SELECT COALESCE(MAX(seq), 0) FROM run_transitions WHERE run_id = ?`), id).Scan(&seq); err != nil {
			return err
		}
		if err := s.addTransition(ctx, tx, id, seq+1, tr); err != nil {
			return err
		}
		return s.addDeliveries(ctx, tx, id, seq+1, out)
	})
	if err != nil && s.d.unique(err) {
		return fmt.Errorf("store: run %s: a delivery id taken: %w", id, ErrExists)
	}
	if err != nil && !errors.Is(err, ErrConflict) && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("store: run %s: %w", id, err)
	}
	return err
}

func (s *sqlStore) SetPlan(ctx context.Context, id string, assigned []fleet.Assignment, excluded []fleet.Exclusion) error {
	a, err := js(nonNil(assigned))
	if err != nil {
		return err
	}
	e, err := js(nonNil(excluded))
	if err != nil {
		return err
	}
	res, err := s.exec(ctx, `UPDATE runs SET assignments = ?, exclusions = ? WHERE id = ?`, a, e, id)
	return updated(res, err, "run", id)
}

func (s *sqlStore) PutBlob(ctx context.Context, sum string, body []byte) error {
	_, err := s.exec(ctx, `INSERT INTO blobs (sha256, body, size, created) VALUES (?, ?, ?, ?) ON CONFLICT (sha256) DO NOTHING`,
		sum, body, len(body), s.t(time.Now()))
	if err != nil {
		return fmt.Errorf("store: blob %s: %w", sum, err)
	}
	return nil
}

func (s *sqlStore) HasBlob(ctx context.Context, sum string) (bool, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM blobs WHERE sha256 = ?`), sum).Scan(&n); err != nil {
		return false, fmt.Errorf("store: blob %s: %w", sum, err)
	}
	return n > 0, nil
}

func (s *sqlStore) Blob(ctx context.Context, sum string) ([]byte, error) {
	var b []byte
	if err := s.db.QueryRowContext(ctx, s.q(`SELECT body FROM blobs WHERE sha256 = ?`), sum).Scan(&b); err != nil {
		return nil, notFound("blob", sum, err)
	}
	return b, nil
}

func (s *sqlStore) PutUpload(ctx context.Context, u Upload) (bool, error) {
	res, err := s.exec(ctx, `INSERT INTO uploads (run_id, agent_id, kind, key, sha256, received) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (run_id, agent_id, kind, key) DO NOTHING`,
		u.RunID, u.AgentID, u.Kind, u.Key, u.SHA256, s.t(u.Received))
	if err != nil {
		return false, fmt.Errorf("store: upload %s/%s/%s: %w", u.RunID, u.AgentID, u.Key, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return false, err
	} else if n == 1 {
		return true, nil
	}
	var sum string
	err = s.db.QueryRowContext(ctx, s.q(`SELECT sha256 FROM uploads WHERE run_id = ? AND agent_id = ? AND kind = ? AND key = ?`),
		u.RunID, u.AgentID, u.Kind, u.Key).Scan(&sum)
	if err != nil {
		return false, fmt.Errorf("store: upload %s/%s/%s: %w", u.RunID, u.AgentID, u.Key, err)
	}
	if sum != u.SHA256 {
		return false, fmt.Errorf("store: upload %s/%s/%s: sent before with other content: %w", u.RunID, u.AgentID, u.Key, ErrConflict)
	}
	return false, nil
}

func (s *sqlStore) Uploads(ctx context.Context, runID string) ([]Upload, error) {
	return list(ctx, s, "uploads", `SELECT run_id, agent_id, kind, key, sha256, received FROM uploads WHERE run_id = ? ORDER BY agent_id, kind, key`,
		func(row interface{ Scan(...any) error }) (Upload, error) {
			var u Upload
			var at dbTime
			err := row.Scan(&u.RunID, &u.AgentID, &u.Kind, &u.Key, &u.SHA256, &at)
			u.Received = at.t
			return u, err
		}, runID)
}

const tokenColumns = `id, kind, hash, role, name, created, expires, max_uses, uses, revoked`

// nullTime is the stored form of an optional time: NULL for zero.
func (s *sqlStore) nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return s.t(t)
}

// dbNullTime scans an optional time.
type dbNullTime struct{ t *time.Time }

func (d dbNullTime) Scan(v any) error {
	if v == nil {
		*d.t = time.Time{}
		return nil
	}
	var x dbTime
	if err := x.Scan(v); err != nil {
		return err
	}
	*d.t = x.t
	return nil
}

func scanToken(row interface{ Scan(...any) error }) (auth.Token, error) {
	var t auth.Token
	var created dbTime
	err := row.Scan(&t.ID, &t.Kind, &t.Hash, &t.Role, &t.Name, &created, dbNullTime{&t.Expires}, &t.MaxUses, &t.Uses, &t.Revoked)
	t.Created = created.t
	return t, err
}

func (s *sqlStore) CreateToken(ctx context.Context, t auth.Token) error {
	return s.insert(ctx, "token "+t.ID, `INSERT INTO tokens (`+tokenColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		t.ID, string(t.Kind), t.Hash, string(t.Role), t.Name, s.t(t.Created), s.nullTime(t.Expires), t.MaxUses, t.Uses, t.Revoked)
}

func (s *sqlStore) Token(ctx context.Context, id string) (auth.Token, error) {
	t, err := scanToken(s.db.QueryRowContext(ctx, s.q(`SELECT `+tokenColumns+` FROM tokens WHERE id = ?`), id))
	if err != nil {
		return auth.Token{}, notFound("token", id, err)
	}
	return t, nil
}

func (s *sqlStore) Tokens(ctx context.Context, kind auth.Kind) ([]auth.Token, error) {
	return list(ctx, s, "tokens", `SELECT `+tokenColumns+` FROM tokens WHERE kind = ? ORDER BY created, id`, scanToken, string(kind))
}

func (s *sqlStore) RevokeToken(ctx context.Context, id string) error {
	res, err := s.exec(ctx, `UPDATE tokens SET revoked = ? WHERE id = ?`, true, id)
	return updated(res, err, "token", id)
}

func (s *sqlStore) UseJoinToken(ctx context.Context, id string, now time.Time) error {
	res, err := s.exec(ctx, `UPDATE tokens SET uses = uses + 1
		WHERE id = ? AND kind = ? AND revoked = ? AND (max_uses = 0 OR uses < max_uses) AND (expires IS NULL OR expires > ?)`,
		id, string(auth.KindJoin), false, s.t(now))
	if err != nil {
		return fmt.Errorf("store: token %s: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("store: token %s: %w", id, err)
	} else if n == 0 {
		if _, err := s.Token(ctx, id); err != nil {
			return err
		}
		return fmt.Errorf("store: join token %s is revoked, expired or used up: %w", id, ErrConflict)
	}
	return nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

func nonNilTags(t fleet.Tags) fleet.Tags {
	if t == nil {
		return fleet.Tags{}
	}
	return t
}

func nonNilSelector(t fleet.Selector) fleet.Selector {
	if t == nil {
		return fleet.Selector{}
	}
	return t
}
