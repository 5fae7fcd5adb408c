package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kensa-dev/kensa/internal/finding"
	"github.com/kensa-dev/kensa/internal/fleet"
	"github.com/kensa-dev/kensa/internal/store"
	"github.com/kensa-dev/kensa/internal/suppress"
)

func day(s string) *time.Time {
	t, err := suppress.ParseExpires(s)
	if err != nil {
		panic(err)
	}
	return t
}

// Suppressions are stored whole, listed oldest first (the order they are
// tried in), read back as rules that apply, and deleted.
func testSuppressions(t *testing.T, open Opener) {
	ctx := context.Background()
	s, _ := open(t)
	first := store.Suppression{Rule: suppress.Rule{ID: "sup-2", Vulnerability: "CVE-2023-38545", Package: "curl", Host: "db-*",
		Reason: "SOCKS5 proxies are not used", Owner: "security@example.com", Expires: day("2026-12-31")}, Created: t0, CreatedBy: "tok-1"}
	second := store.Suppression{Rule: suppress.Rule{ID: "sup-1", Rule: "cis-5.2.*", Path: "/opt/**", RulesPackage: "cis",
		Reason: "vendor host", Owner: "platform"}, Created: t0.Add(time.Second), CreatedBy: "tok-2"}
	mustNil(t, s.CreateSuppression(ctx, first))
	mustNil(t, s.CreateSuppression(ctx, second))
	wantErr(t, "a duplicate suppression id", s.CreateSuppression(ctx, first), store.ErrExists)

	got, err := s.Suppression(ctx, "sup-2")
	mustNil(t, err)
	want := first
	want.Created = us
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("suppression (-stored +read):\n%s", diff)
	}
	if err := got.Validate(); err != nil || got.Expired(time.Date(2026, 12, 31, 23, 59, 0, 0, time.UTC)) || !got.Expired(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("the stored rule: %v, expiry %s", err, got.ExpiresDate())
	}
	list, err := s.Suppressions(ctx)
	mustNil(t, err)
	if len(list) != 2 || list[0].ID != "sup-2" || list[1].ID != "sup-1" || list[1].Expires != nil || list[1].Rule.Rule != "cis-5.2.*" || list[1].CreatedBy != "tok-2" {
		t.Errorf("suppressions, oldest first: %+v", list)
	}
	mustNil(t, s.DeleteSuppression(ctx, "sup-2"))
	wantErr(t, "deleting a deleted suppression", s.DeleteSuppression(ctx, "sup-2"), store.ErrNotFound)
	_, err = s.Suppression(ctx, "sup-2")
	wantErr(t, "a deleted suppression", err, store.ErrNotFound)
	list, _ = s.Suppressions(ctx)
	if len(list) != 1 || list[0].ID != "sup-1" {
		t.Errorf("after the delete: %+v", list)
	}
}

func withAttrs(f finding.Finding, kv ...string) finding.Finding {
	for i := 0; i+1 < len(kv); i += 2 {
		f.Attributes[kv[i]] = kv[i+1]
	}
	return f
}

// ids lists findings as run/agent/id.
func ids(fs []store.StoredFinding) []string {
	out := []string{}
	for _, f := range fs {
		out = append(out, f.RunID+"/"+f.AgentID+"/"+f.Finding.ID)
	}
	return out
}

// Suppressed findings are stored apart and listed only when asked; tags
// (the agent's, as they are now), attributes and the time range filter
// in the database; pages follow the key whatever the filters.
func testFindingFilters(t *testing.T, open Opener) {
	ctx := context.Background()
	s, _ := open(t)
	setup(t, s)
	web := agent("a2", "web-1")
	web.Tags = fleet.Tags{"env": "dev", "role": "web"}
	mustNil(t, s.CreateAgent(ctx, agent("a1", "db-1")))
	mustNil(t, s.CreateAgent(ctx, web))
	mustNil(t, s.CreateRun(ctx, fleet.NewRun("r1", "p1", t0)))
	mustNil(t, s.CreateRun(ctx, fleet.NewRun("r2", "p1", t0.Add(time.Hour))))
	mustNil(t, s.PutBlob(ctx, "rep", []byte("{}")))

	odd := `we"ird.key/'x`
	f1 := withAttrs(found("f1", finding.High, "cve", "cve/Debian"), "ticket", "SEC-1", odd, `va"l`)
	f2 := withAttrs(found("f2", finding.Low, "cis", "cis-1.1"), "ticket", "SEC-2")
	f3 := withAttrs(found("f3", finding.High, "cve", "cve/Debian"), "ticket", "SEC-1")
	by := store.FindingSuppression{ID: "sup-1", Reason: "accepted", Owner: "security"}
	mustNil(t, s.SaveResults(ctx, "r1", "a1", "rep", []finding.Finding{f1, f2}, []store.SuppressedFinding{{Finding: f3, By: by}}, t0))
	mustNil(t, s.SaveResults(ctx, "r1", "a2", "rep", []finding.Finding{found("f1", finding.High, "cve", "cve/Debian"), found("f4", finding.Medium, "cve", "cve/Go")}, nil, t0))
	// r2: f1 again on a1, and f3 no longer suppressed (its suppression
	// expired or was deleted).
	mustNil(t, s.SaveResults(ctx, "r2", "a1", "rep", []finding.Finding{f1, f3}, nil, t0.Add(time.Hour)))

	check := func(what string, f store.FindingFilter, want ...string) []store.StoredFinding {
		t.Helper()
		got, err := s.Findings(ctx, f)
		mustNil(t, err)
		if want == nil {
			want = []string{}
		}
		if diff := cmp.Diff(want, ids(got)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", what, diff)
		}
		return got
	}
	check("the findings that stand (the default)", store.FindingFilter{RunID: "r1"}, "r1/a1/f1", "r1/a1/f2", "r1/a2/f1", "r1/a2/f4")
	only := check("only suppressed", store.FindingFilter{Suppressed: store.OnlySuppressed}, "r1/a1/f3")
	if len(only) == 1 && (only[0].Suppression == nil || *only[0].Suppression != by || only[0].Finding.Attributes["ticket"] != "SEC-1" || only[0].FirstRun != "r1" || only[0].LastRun != "r2") {
		t.Errorf("a suppressed finding: %+v", only[0])
	}
	all := check("suppressed included", store.FindingFilter{Suppressed: store.IncludeSuppressed},
		"r1/a1/f1", "r1/a1/f2", "r1/a1/f3", "r1/a2/f1", "r1/a2/f4", "r2/a1/f1", "r2/a1/f3")
	if len(all) == 7 && (all[0].Suppression != nil || all[6].Suppression != nil) {
		t.Errorf("a finding that stands has a suppression: %+v / %+v", all[0], all[6])
	}
	reps, _ := s.RunReports(ctx, "r1")
	if len(reps) != 2 || reps[0].Findings != 2 {
		t.Errorf("a report counts the findings that stand: %+v", reps)
	}

	check("tag env=prod", store.FindingFilter{Tags: map[string]string{"env": "prod"}}, "r1/a1/f1", "r1/a1/f2", "r2/a1/f1", "r2/a1/f3")
	check("tags env=dev, role=web", store.FindingFilter{RunID: "r1", Tags: map[string]string{"env": "dev", "role": "web"}}, "r1/a2/f1", "r1/a2/f4")
	check("tags env=dev, role=db: no agent has both", store.FindingFilter{Tags: map[string]string{"env": "dev", "role": "db"}})
	check("a tag no agent has", store.FindingFilter{Tags: map[string]string{"zone": "eu"}})

	check("attribute ticket=SEC-1", store.FindingFilter{Attributes: map[string]string{"ticket": "SEC-1"}}, "r1/a1/f1", "r2/a1/f1", "r2/a1/f3")
	check("attribute ticket=SEC-1, suppressed too", store.FindingFilter{Attributes: map[string]string{"ticket": "SEC-1"}, Suppressed: store.IncludeSuppressed},
		"r1/a1/f1", "r1/a1/f3", "r2/a1/f1", "r2/a1/f3")
	check("two attributes", store.FindingFilter{Attributes: map[string]string{"ticket": "SEC-1", "target": "f3"}}, "r2/a1/f3")
	check("a key and value with quotes", store.FindingFilter{Attributes: map[string]string{odd: `va"l`}}, "r1/a1/f1", "r2/a1/f1")
	check("a value that differs", store.FindingFilter{Attributes: map[string]string{"ticket": "sec-1"}})
	check("an attribute and a tag", store.FindingFilter{Attributes: map[string]string{"target": "f1"}, Tags: map[string]string{"env": "dev"}}, "r1/a2/f1")

	// Last seen: f1 and f3 on a1 at t0+1h; the rest at t0.
	check("since t0+30m", store.FindingFilter{Since: t0.Add(30 * time.Minute)}, "r1/a1/f1", "r2/a1/f1", "r2/a1/f3")
	check("until t0+30m", store.FindingFilter{Until: t0.Add(30 * time.Minute)}, "r1/a1/f2", "r1/a2/f1", "r1/a2/f4")
	// As stored (to the microsecond), a1's f1 and f3 were last seen at
	// us+1h, the others at us.
	check("since is inclusive, until exclusive", store.FindingFilter{Since: us, Until: us.Add(time.Hour), RunID: "r1"}, "r1/a1/f2", "r1/a2/f1", "r1/a2/f4")
	check("since us+1h, until us+1h+1us", store.FindingFilter{Since: us.Add(time.Hour), Until: us.Add(time.Hour + time.Microsecond), AgentID: "a1"}, "r1/a1/f1", "r2/a1/f1", "r2/a1/f3")
	check("a bound within a microsecond: since", store.FindingFilter{Since: us.Add(time.Nanosecond), RunID: "r1"}, "r1/a1/f1")
	check("a bound within a microsecond: until", store.FindingFilter{Until: us.Add(time.Nanosecond), RunID: "r1"}, "r1/a1/f2", "r1/a2/f1", "r1/a2/f4")

	// Pages of one, with every kind of filter at once: the same rows as
	// one page.
	f := store.FindingFilter{Tags: map[string]string{"env": "prod"}, Attributes: map[string]string{"ticket": "SEC-1"}, Since: us,
		Until: t0.Add(2 * time.Hour), Suppressed: store.IncludeSuppressed, Severities: []finding.Severity{finding.High}}
	whole := check("every filter", f, "r1/a1/f1", "r1/a1/f3", "r2/a1/f1", "r2/a1/f3")
	var paged []store.StoredFinding
	for range 10 {
		f.Limit = 1
		page, err := s.Findings(ctx, f)
		mustNil(t, err)
		if len(page) == 0 {
			break
		}
		paged = append(paged, page...)
		f.After = page[len(page)-1].Cursor()
	}
	if diff := cmp.Diff(ids(whole), ids(paged)); diff != "" {
		t.Errorf("pages of one (-whole +paged):\n%s", diff)
	}
}
