package store

import (
	"context"
	"fmt"
	"time"

	"github.com/kensa-dev/kensa/internal/finding"
	"github.com/kensa-dev/kensa/internal/suppress"
)

// Suppression is a suppression the server keeps: the same rule as an
// entry of a suppression file (suppress.Rule, with its ID set and no
// Line), who created it (the API token's id) and when. Suppressions are
// never changed: to change one, delete it and create another.
type Suppression struct {
	suppress.Rule
	Created   time.Time
	CreatedBy string
}

// FindingSuppression is the suppression that matched a finding when its
// run was evaluated: its id, reason and owner as they were then.
type FindingSuppression struct {
	ID, Reason, Owner string
}

// SuppressedFinding is a finding a suppression matched: kept, apart.
type SuppressedFinding struct {
	Finding finding.Finding
	By      FindingSuppression
}

const suppressionColumns = `id, vulnerability, rule, package, host, path, rules_package, reason, owner, expires, created, created_by`

func (s *sqlStore) CreateSuppression(ctx context.Context, x Suppression) error {
	if x.ID == "" {
		return fmt.Errorf("store: a suppression needs an id")
	}
	var expires any
	if d := x.ExpiresDate(); d != "" {
		expires = d
	}
	return s.insert(ctx, "suppression "+x.ID, `INSERT INTO suppressions (`+suppressionColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		x.ID, x.Vulnerability, x.Rule.Rule, x.Package, x.Host, x.Path, x.RulesPackage, x.Reason, x.Owner, expires, s.t(x.Created), x.CreatedBy)
}

func scanSuppression(row interface{ Scan(...any) error }) (Suppression, error) {
	var x Suppression
	var created dbTime
	var expires dbDate
	err := row.Scan(&x.ID, &x.Vulnerability, &x.Rule.Rule, &x.Package, &x.Host, &x.Path, &x.RulesPackage, &x.Reason, &x.Owner,
		&expires, &created, &x.CreatedBy)
	if err != nil {
		return x, err
	}
	x.Created = created.t
	x.Expires, err = suppress.ParseExpires(expires.s)
	return x, err
}

func (s *sqlStore) Suppression(ctx context.Context, id string) (Suppression, error) {
	x, err := scanSuppression(s.db.QueryRowContext(ctx, s.q(`SELECT `+suppressionColumns+` FROM suppressions WHERE id = ?`), id))
	if err != nil {
		return Suppression{}, notFound("suppression", id, err)
	}
	return x, nil
}

func (s *sqlStore) Suppressions(ctx context.Context) ([]Suppression, error) {
	return list(ctx, s, "suppressions", `SELECT `+suppressionColumns+` FROM suppressions ORDER BY created, id`, scanSuppression)
}

func (s *sqlStore) DeleteSuppression(ctx context.Context, id string) error {
	res, err := s.exec(ctx, `DELETE FROM suppressions WHERE id = ?`, id)
	return updated(res, err, "suppression", id)
}

// dbDate scans a day stored as TEXT (SQLite, YYYY-MM-DD) or DATE
// (PostgreSQL), or NULL, into its YYYY-MM-DD form ("" for NULL).
type dbDate struct{ s string }

func (d *dbDate) Scan(v any) error {
	switch v := v.(type) {
	case nil:
		d.s = ""
	case time.Time:
		d.s = v.Format(time.DateOnly)
	case string:
		d.s = v
	case []byte:
		d.s = string(v)
	default:
		return fmt.Errorf("store: date stored as %T", v)
	}
	return nil
}
