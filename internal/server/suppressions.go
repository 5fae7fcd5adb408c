package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/kensa-dev/kensa/internal/auth"
	"github.com/kensa-dev/kensa/internal/report"
	"github.com/kensa-dev/kensa/internal/store"
	"github.com/kensa-dev/kensa/internal/suppress"
)

// Suppressions kept by the server are the entries of a suppression file
// (docs/suppressions.md), managed through the API: the same fields,
// checked the same way (suppress.Rule.Validate) and applied the same way
// (report.ApplySuppressions) to every agent's report when a run is
// evaluated, tried oldest first as a file's are in file order. A
// suppression applies from the next evaluation: the stored findings of
// runs already evaluated are not rewritten.
func (s *Server) suppressionRoutes() {
	huma.Register(s.api, op("create-suppression", http.MethodPost, "/suppressions", "Create a suppression: a risk accepted, applied from the next evaluation", string(auth.Operator), "suppressions"), s.createSuppression)
	huma.Register(s.api, op("list-suppressions", http.MethodGet, "/suppressions", "List the suppressions, oldest first, each saying whether it has expired", string(auth.Viewer), "suppressions"), s.listSuppressions)
	huma.Register(s.api, op("get-suppression", http.MethodGet, "/suppressions/{id}", "Show a suppression", string(auth.Viewer), "suppressions"), s.getSuppression)
	huma.Register(s.api, op("delete-suppression", http.MethodDelete, "/suppressions/{id}", "Delete a suppression: it no longer applies from the next evaluation", string(auth.Operator), "suppressions"), s.deleteSuppression)
}

// suppressionFields are a suppression's fields as a suppression file
// names them.
type suppressionFields struct {
	Vulnerability string `json:"vulnerability,omitempty" maxLength:"256" doc:"One vulnerability id, exactly (case aside): the finding's id or any alias. Not a pattern"`
	Rule          string `json:"rule,omitempty" maxLength:"256" doc:"Pattern over the rule id (cis-5.2.*, cve/*)"`
	Package       string `json:"package,omitempty" maxLength:"256" doc:"Pattern over the affected package or its source package"`
	Host          string `json:"host,omitempty" maxLength:"256" doc:"Pattern over the host name or machine id"`
	Path          string `json:"path,omitempty" maxLength:"4096" doc:"Path pattern over the paths the finding names: absolute, or starting with **"`
	RulesPackage  string `json:"rules_package,omitempty" maxLength:"32" doc:"cve, cis, best-practices or runtime"`
	Reason        string `json:"reason" minLength:"1" maxLength:"4096" doc:"Why the risk is accepted"`
	Owner         string `json:"owner" minLength:"1" maxLength:"256" doc:"Who accepted it: an email address or a team"`
	Expires       string `json:"expires,omitempty" maxLength:"10" doc:"The last day it applies, YYYY-MM-DD (UTC); none: no expiry"`
}

type suppressionInput struct {
	Body suppressionFields
}

// suppressionView is a suppression as the API shows it.
type suppressionView struct {
	ID string `json:"id"`
	suppressionFields
	Expired   bool      `json:"expired" doc:"Past its expiry: it applies to nothing, and its findings stand again"`
	Created   time.Time `json:"created"`
	CreatedBy string    `json:"created_by" doc:"The id of the API token that created it"`
}

func (s *Server) viewSuppression(x store.Suppression) suppressionView {
	return suppressionView{
		ID: x.ID,
		suppressionFields: suppressionFields{Vulnerability: x.Vulnerability, Rule: x.Rule.Rule, Package: x.Package, Host: x.Host, Path: x.Path,
			RulesPackage: x.RulesPackage, Reason: x.Reason, Owner: x.Owner, Expires: x.ExpiresDate()},
		Expired: x.Expired(s.cfg.Now()), Created: x.Created, CreatedBy: x.CreatedBy,
	}
}

type suppressionOutput struct{ Body suppressionView }

func (s *Server) createSuppression(ctx context.Context, in *suppressionInput) (*suppressionOutput, error) {
	b := in.Body
	now := s.cfg.Now()
	by, _ := identityFrom(ctx)
	x := store.Suppression{Rule: suppress.Rule{
		ID:            s.cfg.NewID("sup"),
		Vulnerability: strings.TrimSpace(b.Vulnerability), Rule: strings.TrimSpace(b.Rule), Package: strings.TrimSpace(b.Package),
		Host: strings.TrimSpace(b.Host), Path: strings.TrimSpace(b.Path), RulesPackage: strings.TrimSpace(b.RulesPackage),
		Reason: strings.TrimSpace(b.Reason), Owner: strings.TrimSpace(b.Owner),
	}, Created: now.UTC(), CreatedBy: by.TokenID}
	var errs []error
	exp, err := suppress.ParseExpires(b.Expires)
	if err != nil {
		errs = append(errs, err)
	}
	x.Expires = exp
	if exp != nil && x.Expired(now) {
		errs = append(errs, fmt.Errorf("expires %s: the day has passed (UTC): the suppression would apply to nothing", x.ExpiresDate()))
	}
	if err := x.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, huma.Error422UnprocessableEntity(strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	if err := s.cfg.Store.CreateSuppression(ctx, x); err != nil {
		return nil, storeErr(err, "suppression "+x.ID)
	}
	s.cfg.Log.Info("suppression created", "suppression", x.ID, "matches", x.String(), "owner", x.Owner, "expires", x.ExpiresDate(), "by", by.TokenID)
	stored, err := s.cfg.Store.Suppression(ctx, x.ID)
	if err != nil {
		return nil, err
	}
	return &suppressionOutput{Body: s.viewSuppression(stored)}, nil
}

type suppressionsOutput struct {
	Body struct {
		Suppressions []suppressionView `json:"suppressions"`
	}
}

func (s *Server) listSuppressions(ctx context.Context, _ *struct{}) (*suppressionsOutput, error) {
	xs, err := s.cfg.Store.Suppressions(ctx)
	if err != nil {
		return nil, err
	}
	out := &suppressionsOutput{}
	out.Body.Suppressions = []suppressionView{}
	for _, x := range xs {
		out.Body.Suppressions = append(out.Body.Suppressions, s.viewSuppression(x))
	}
	return out, nil
}

func (s *Server) getSuppression(ctx context.Context, in *idPath) (*suppressionOutput, error) {
	x, err := s.cfg.Store.Suppression(ctx, in.ID)
	if err != nil {
		return nil, storeErr(err, "suppression")
	}
	return &suppressionOutput{Body: s.viewSuppression(x)}, nil
}

func (s *Server) deleteSuppression(ctx context.Context, in *idPath) (*struct{}, error) {
	if err := s.cfg.Store.DeleteSuppression(ctx, in.ID); err != nil {
		return nil, storeErr(err, "suppression")
	}
	by, _ := identityFrom(ctx)
	s.cfg.Log.Info("suppression deleted", "suppression", in.ID, "by", by.TokenID)
	return nil, nil
}

// serverSuppressions names the stored suppressions in a report's
// suppressions record, where a scan names its suppression file.
const serverSuppressions = "kensa server: /api/v1/suppressions"

// suppressionFile is the stored suppressions as the suppression file
// they stand for, in the order they are tried. Its SHA-256 is of their
// ids and fields, so that a report says exactly which decisions it was
// made under.
func suppressionFile(xs []store.Suppression) (*suppress.File, error) {
	f := &suppress.File{Path: serverSuppressions, Rules: make([]suppress.Rule, 0, len(xs))}
	h := sha256.New()
	enc := json.NewEncoder(h)
	for _, x := range xs {
		f.Rules = append(f.Rules, x.Rule)
		if err := enc.Encode([]string{x.ID, x.Vulnerability, x.Rule.Rule, x.Package, x.Host, x.Path, x.RulesPackage, x.Reason, x.Owner, x.ExpiresDate()}); err != nil {
			return nil, err
		}
	}
	f.SHA256 = hex.EncodeToString(h.Sum(nil))
	return f, nil
}

// ApplySuppressions sets aside the findings of an agent's report that
// the stored suppressions match, exactly as kensa scan does with a
// suppression file: they move to the report's suppressed list (never
// dropped), the report records the suppressions (with those expired,
// which apply to nothing, and those unused) and its summary is made
// again. It returns the suppressed findings for the store, each with the
// suppression that took it. With no stored suppression the report is
// left as it is, as a scan without a file leaves it. Evaluation calls it
// on every agent's report; it is exported for what stands in for
// evaluation (internal/apiclient/apitest).
func (e *Engine) ApplySuppressions(ctx context.Context, rep *report.Report) ([]store.SuppressedFinding, error) {
	xs, err := e.cfg.Store.Suppressions(ctx)
	if err != nil || len(xs) == 0 {
		return nil, err
	}
	file, err := suppressionFile(xs)
	if err != nil {
		return nil, err
	}
	// A rule is named in the report by its id (suppress.Rule.String),
	// which is how each suppressed finding finds its suppression again.
	byName := make(map[string]store.FindingSuppression, len(xs))
	for _, x := range xs {
		byName[x.String()] = store.FindingSuppression{ID: x.ID, Reason: x.Reason, Owner: x.Owner}
	}
	before := len(rep.Suppressed)
	report.ApplySuppressions(rep, file, e.cfg.Now())
	out := make([]store.SuppressedFinding, 0, len(rep.Suppressed)-before)
	for _, sf := range rep.Suppressed[before:] {
		by, ok := byName[sf.Rule]
		if !ok {
			return nil, fmt.Errorf("finding %s suppressed by %q, which is not a stored suppression", sf.Finding.ID, sf.Rule)
		}
		out = append(out, store.SuppressedFinding{Finding: sf.Finding, By: by})
	}
	return out, nil
}
