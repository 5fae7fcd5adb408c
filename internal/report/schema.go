package report

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

//go:embed schema/report.schema.json
var schemaJSON []byte

// schemaURL is the $id of the schema, under which it is compiled.
const schemaURL = "https://raw.githubusercontent.com/kensa-dev/kensa/main/internal/report/schema/report.schema.json"

// Schema returns the JSON Schema (draft 2020-12) of the report document of
// SchemaVersion. The caller may modify the returned slice.
func Schema() []byte { return bytes.Clone(schemaJSON) }

// compiledSchema is compiled once, on first use; it is immutable after.
var compiledSchema = sync.OnceValues(func() (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schemaJSON))
	if err != nil {
		return nil, fmt.Errorf("report: parse embedded schema: %w", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	// Formats are annotations only in draft 2020-12 unless asserted; the
	// report's times must really be RFC 3339.
	c.AssertFormat()
	if err := c.AddResource(schemaURL, doc); err != nil {
		return nil, fmt.Errorf("report: load embedded schema: %w", err)
	}
	s, err := c.Compile(schemaURL)
	if err != nil {
		return nil, fmt.Errorf("report: compile embedded schema: %w", err)
	}
	return s, nil
})

// Validate checks that doc is a valid report: first against the embedded
// JSON Schema, then for the consistency rules a schema cannot express (see
// Check). It is meant for tests of every producer of reports and for
// consumers that accept reports from elsewhere.
func Validate(doc []byte) error {
	_, err := Parse(doc)
	return err
}

// Parse validates doc as Validate does and returns the report it holds:
// what a consumer of reports from elsewhere (kensa report, kensa diff)
// reads them with. The schema validation and the decoding each walk the
// whole document (about a second each for a 77 MB report of 50,000
// findings), so they run side by side.
func Parse(doc []byte) (*Report, error) {
	if err := checkHead(doc); err != nil {
		return nil, err
	}
	s, err := compiledSchema()
	if err != nil {
		return nil, err
	}
	schemaErr := make(chan error, 1)
	go func() {
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
		if err != nil {
			schemaErr <- fmt.Errorf("report: invalid json: %w", err)
			return
		}
		if err := s.Validate(inst); err != nil {
			schemaErr <- fmt.Errorf("report: does not match schema: %w", err)
			return
		}
		schemaErr <- nil
	}()
	r, decodeErr := decodeBody(doc)
	if err := <-schemaErr; err != nil {
		return nil, err
	}
	if decodeErr != nil {
		return nil, decodeErr
	}
	if err := Check(r); err != nil {
		return nil, err
	}
	return r, nil
}

// Check reports the consistency problems of r that the schema cannot
// express, all of them joined:
//
//   - a rules package with coverage entries has no package-wide "*" entry;
//   - a (package, scope) coverage entry appears twice;
//   - a package-wide "*" entry disagrees with the package's other entries,
//     its scopes: it is evaluated while a scope is not; not_evaluated while
//     a scope is evaluated; or partial while every scope is evaluated, or
//     every scope is not_evaluated (a package without scopes may have any
//     status; see checkStar and docs/report.md);
//   - a finding or result belongs to a rules package without coverage, or
//     a finding to one whose "*" entry is not_evaluated;
//   - two findings share an id (their fingerprints would be ambiguous);
//   - the summary disagrees with the findings and coverage;
//   - finished_at is before started_at.
func Check(r *Report) error {
	var errs []error
	type key struct{ pkg, scope string }
	seen := map[key]bool{}
	ran := map[string]bool{}
	whole := map[string]string{}      // package → status of its "*" entry
	scopes := map[string][]Coverage{} // package → its other entries
	for _, c := range r.Coverage {
		k := key{c.Package, c.Scope}
		if seen[k] {
			errs = append(errs, fmt.Errorf("coverage: %s/%s appears more than once", c.Package, c.Scope))
		}
		seen[k] = true
		ran[c.Package] = true
		if c.Scope == "*" {
			whole[c.Package] = c.Status
		} else {
			scopes[c.Package] = append(scopes[c.Package], c)
		}
	}
	for _, pkg := range slices.SortedFunc(maps.Keys(ran), comparePackage) {
		status, ok := whole[pkg]
		if !ok {
			errs = append(errs, fmt.Errorf("coverage: rules package %s has scopes but no \"*\" entry for the package as a whole", pkg))
			continue
		}
		errs = append(errs, checkStar(pkg, status, scopes[pkg])...)
	}
	ids := map[string]bool{}
	for _, f := range r.Findings {
		if ids[f.ID] {
			errs = append(errs, fmt.Errorf("findings: id %s appears more than once (%s %s)", f.ID, f.RulesPackage, f.RuleID))
		}
		ids[f.ID] = true
		switch {
		case !ran[f.RulesPackage]:
			errs = append(errs, fmt.Errorf("findings: %s finding %s (%s) but coverage has no %s entry", f.RulesPackage, f.ID, f.RuleID, f.RulesPackage))
		case whole[f.RulesPackage] == NotEvaluated:
			errs = append(errs, fmt.Errorf("findings: %s finding %s (%s) but coverage says %s/* is not_evaluated", f.RulesPackage, f.ID, f.RuleID, f.RulesPackage))
		}
	}
	noCoverage := map[string]bool{}
	for _, res := range r.Results {
		if !ran[res.RulesPackage] && !noCoverage[res.RulesPackage] {
			noCoverage[res.RulesPackage] = true
			errs = append(errs, fmt.Errorf("results: %s results but coverage has no %s entry", res.RulesPackage, res.RulesPackage))
		}
	}
	if want := Summarize(r); !sameSummary(r.Summary, want) {
		errs = append(errs, fmt.Errorf("summary: %+v does not match the findings and coverage, which give %+v", r.Summary, want))
	}
	if r.FinishedAt.Before(r.StartedAt) {
		errs = append(errs, fmt.Errorf("finished_at %s is before started_at %s", r.FinishedAt, r.StartedAt))
	}
	if len(errs) > 0 {
		return fmt.Errorf("report: inconsistent: %w", errors.Join(errs...))
	}
	return nil
}

// checkStar checks the status of the "*" entry of pkg against the
// package's other entries, its scopes. With E the scopes that are
// evaluated and N those that are not (partial or not_evaluated):
//
//   - "*" evaluated requires N empty: every scope evaluated;
//   - "*" not_evaluated requires E empty: no scope evaluated (a scope may
//     be partial: a collector that met errors, under a package that did not
//     run at all);
//   - "*" partial requires N non-empty and the scopes not all
//     not_evaluated: some of the package ran, not all of it.
//
// So a package whose scopes are all evaluated is evaluated, one whose
// scopes are all not_evaluated is not_evaluated, and one with both an
// evaluated scope and a scope that is not is partial. A package without
// scopes may have any status.
func checkStar(pkg, status string, scopes []Coverage) []error {
	if len(scopes) == 0 {
		return nil
	}
	var errs []error
	allEvaluated, allNot := true, true
	for _, c := range scopes {
		if c.Status != Evaluated {
			allEvaluated = false
		}
		if c.Status != NotEvaluated {
			allNot = false
		}
	}
	switch status {
	case Evaluated:
		for _, c := range scopes {
			if c.Status != Evaluated {
				errs = append(errs, fmt.Errorf("coverage: %s/* is evaluated but %s/%s is %s: the package as a whole is not fully evaluated", pkg, pkg, c.Scope, c.Status))
			}
		}
	case NotEvaluated:
		for _, c := range scopes {
			if c.Status == Evaluated {
				errs = append(errs, fmt.Errorf("coverage: %s/* is not_evaluated but %s/%s is evaluated: the package as a whole is partial", pkg, pkg, c.Scope))
			}
		}
	case Partial:
		switch {
		case allEvaluated:
			errs = append(errs, fmt.Errorf("coverage: %s/* is partial but every scope of %s is evaluated: the package as a whole is evaluated", pkg, pkg))
		case allNot:
			errs = append(errs, fmt.Errorf("coverage: %s/* is partial but every scope of %s is not_evaluated: the package as a whole is not_evaluated", pkg, pkg))
		}
	}
	return errs
}

func sameSummary(a, b Summary) bool {
	return a.Findings == b.Findings && a.Complete == b.Complete &&
		a.CoverageGaps == b.CoverageGaps && maps.Equal(a.BySeverity, b.BySeverity) &&
		slices.Equal(a.NotRun, b.NotRun) && a.Suppressed == b.Suppressed
}
