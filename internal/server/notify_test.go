package server

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kensa-dev/kensa/internal/auth"
	"github.com/kensa-dev/kensa/internal/finding"
	"github.com/kensa-dev/kensa/internal/fleet"
	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/observe"
	"github.com/kensa-dev/kensa/internal/report"
	"github.com/kensa-dev/kensa/internal/report/reporttest"
	"github.com/kensa-dev/kensa/internal/store"
)

var testKey = []byte(strings.Repeat("0123456789abcdef", 4))

// hook is one request a receiver got.
type hook struct {
	path, event, delivery, signature, ctype string
	body                                    []byte
}

// receiver is a webhook receiver on loopback: it records every request
// and answers with what answer says for it (200 by default).
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	got    []hook
	answer func(n int, path string) int
}

func newReceiver(t *testing.T) *receiver {
	rc := &receiver{}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.got = append(rc.got, hook{path: r.URL.Path, event: r.Header.Get(HeaderEvent), delivery: r.Header.Get(HeaderDelivery),
			signature: r.Header.Get(HeaderSignature), ctype: r.Header.Get("Content-Type"), body: body})
		n, answer := len(rc.got), rc.answer
		rc.mu.Unlock()
		code := http.StatusOK
		if answer != nil {
			code = answer(n, r.URL.Path)
		}
		if code >= 300 && code < 400 {
			w.Header().Set("Location", "/moved")
		}
		w.WriteHeader(code)
		io.WriteString(w, "answer\x1b[31m "+strings.Repeat("x", 10000))
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) hooks() []hook {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]hook(nil), rc.got...)
}

// seedWith stores an agent, a target and a template with subscriptions,
// and makes the engine evaluate with a fake that reports the CVE
// fixture's findings.
func (f *fixture) seedWith(subs ...fleet.Subscription) {
	f.t.Helper()
	ctx := context.Background()
	if err := f.store.CreateAgent(ctx, healthy("a1", fleet.Tags{"env": "prod"})); err != nil {
		f.t.Fatal(err)
	}
	if err := f.store.CreateTarget(ctx, fleet.Target{ID: "tgt", Name: "prod", Selector: fleet.Selector{"env": "prod"}, Created: t0}); err != nil {
		f.t.Fatal(err)
	}
	tpl := fleet.Template{ID: "tpl", Name: "nightly", TargetID: "tgt", Packages: []string{"cve"}, Duration: 20 * time.Second, Subscriptions: subs, Created: t0}
	if err := tpl.Check(); err != nil {
		f.t.Fatal(err)
	}
	if err := f.store.CreateTemplate(ctx, tpl); err != nil {
		f.t.Fatal(err)
	}
	cfg := f.engine.cfg
	cfg.Evaluate = func(context.Context, *host.Inventory, *observe.Observations, error, []string) (*report.Report, error) {
		return reporttest.CVE(), nil
	}
	f.engine = NewEngine(cfg)
}

// collect takes agent a1's work, uploads an inventory and says done.
func (f *fixture) collect(run string) {
	f.t.Helper()
	ctx := context.Background()
	if err := f.store.SetWork(ctx, run, "a1", []string{store.WorkPending}, store.WorkCollecting, "", f.srv.cfg.Now()); err != nil {
		f.t.Fatal(err)
	}
	doc := []byte(`{}`)
	h := sha256.Sum256(doc)
	sum := hex.EncodeToString(h[:])
	if err := f.store.PutBlob(ctx, sum, gz(doc)); err != nil {
		f.t.Fatal(err)
	}
	if _, err := f.store.PutUpload(ctx, store.Upload{RunID: run, AgentID: "a1", Kind: "inventory", Key: "k1", SHA256: sum, Received: f.srv.cfg.Now()}); err != nil {
		f.t.Fatal(err)
	}
	if err := f.store.SetWork(ctx, run, "a1", []string{store.WorkCollecting}, store.WorkDone, "", f.srv.cfg.Now()); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) notifier(cfg NotifierConfig) *Notifier {
	cfg.Store, cfg.Key, cfg.Now, cfg.Log = f.store, testKey, f.srv.cfg.Now, f.srv.cfg.Log
	if cfg.Backoff == nil {
		cfg.Backoff = func(int) time.Duration { return time.Minute }
	}
	return NewNotifier(cfg)
}

// flush sends every delivery due, round after round, until none is.
func flush(t *testing.T, n *Notifier) int {
	t.Helper()
	total := 0
	for {
		sent, err := n.SendDue(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if sent == 0 {
			return total
		}
		total += sent
	}
}

func (f *fixture) deliveries(run string) []deliveryView {
	f.t.Helper()
	code, body := f.do("GET", "/api/v1/deliveries?run="+run, f.tokens[auth.Viewer], nil)
	if code != 200 {
		f.t.Fatalf("GET /deliveries: %d %v", code, body)
	}
	b, _ := json.Marshal(body["deliveries"])
	var out []deliveryView
	if err := json.Unmarshal(b, &out); err != nil {
		f.t.Fatal(err)
	}
	return out
}

// A run through the engine tells each subscriber of its events, in
// order, each signed with the server's key; FINDING_REPORTED comes once,
// with the counts by severity.
func TestWebhooksFollowTheRun(t *testing.T) {
	f := newFixture(t)
	rc := newReceiver(t)
	a, b := rc.URL+"/a", rc.URL+"/b"
	f.seedWith(
		fleet.Subscription{Event: fleet.EventRunStateChanged, URL: a},
		fleet.Subscription{Event: fleet.EventRunStarted, URL: a},
		fleet.Subscription{Event: fleet.EventFindingReported, URL: a},
		fleet.Subscription{Event: fleet.EventRunCompleted, URL: a},
		fleet.Subscription{Event: fleet.EventRunFailed, URL: a},
		fleet.Subscription{Event: fleet.EventRunCompleted, URL: b},
	)
	n := f.notifier(NotifierConfig{})
	f.start("r1")
	f.step()
	f.advance(time.Second)
	f.collect("r1")
	f.step()
	if r := f.run("r1"); r.State != fleet.RunCompleted {
		t.Fatalf("run: %s %+v", r.State, r.History)
	}
	if sent := flush(t, n); sent != 9 {
		t.Errorf("%d deliveries sent, want 9", sent)
	}
	var gotA []string
	var notes []Notification
	for _, h := range rc.hooks() {
		var note Notification
		if err := json.Unmarshal(h.body, &note); err != nil {
			t.Fatalf("body %s: %v", h.body, err)
		}
		// The signature, as a receiver checks it.
		m := hmac.New(sha256.New, testKey)
		m.Write(h.body)
		if want := "sha256=" + hex.EncodeToString(m.Sum(nil)); !hmac.Equal([]byte(h.signature), []byte(want)) {
			t.Errorf("%s: signature %q, want %q", note.ID, h.signature, want)
		}
		if h.event != string(note.Event) || h.delivery != note.ID || h.ctype != "application/json" || note.RunID != "r1" ||
			note.TemplateID != "tpl" || note.TemplateName != "nightly" || note.KensaVersion == "" || note.At.IsZero() {
			t.Errorf("%s: headers %+v, body %+v", note.ID, h, note)
		}
		if h.path == "/a" {
			gotA = append(gotA, string(note.Event)+" "+string(note.State))
			notes = append(notes, note)
		} else if note.Event != fleet.EventRunCompleted {
			t.Errorf("/b got %s", note.Event)
		}
	}
	want := []string{
		"RUN_STATE_CHANGED START_DATA_COLLECTION_PENDING", "RUN_STARTED START_DATA_COLLECTION_PENDING",
		"RUN_STATE_CHANGED COLLECTING_DATA", "RUN_STATE_CHANGED DATA_COLLECTED", "RUN_STATE_CHANGED EVALUATING_RULES",
		"RUN_STATE_CHANGED COMPLETED", "FINDING_REPORTED COMPLETED", "RUN_COMPLETED COMPLETED",
	}
	if diff := cmp.Diff(want, gotA); diff != "" {
		t.Fatalf("events at /a, in order (-want +got):\n%s", diff)
	}
	if notes[0].PreviousState != fleet.RunCreated || notes[0].Summary != nil || !notes[2].At.Equal(t0.Add(time.Second)) {
		t.Errorf("the first events: %+v %+v", notes[0], notes[2])
	}
	rep := reporttest.CVE()
	sum := notes[6].Summary
	if sum == nil || sum.Findings != len(rep.Findings) || sum.AgentsEvaluated != 1 || sum.AgentsFailed != 0 ||
		sum.BySeverity[string(finding.High)] != report.Summarize(rep).BySeverity[string(finding.High)] || len(sum.BySeverity) != len(finding.Severities()) {
		t.Errorf("FINDING_REPORTED summary: %+v, want %d findings %v", sum, len(rep.Findings), report.Summarize(rep).BySeverity)
	}
	ds := f.deliveries("r1")
	if len(ds) != 9 {
		t.Fatalf("GET /deliveries?run=r1: %d deliveries", len(ds))
	}
	for _, d := range ds {
		if d.Status != store.DeliveryDelivered || d.Attempts != 1 || d.LastStatus != 200 || d.NextAttempt != nil || d.LastAttempt == nil || len(d.Payload) == 0 {
			t.Errorf("delivery %s: %+v", d.ID, d)
		}
	}
	if code, _ := f.do("GET", "/api/v1/deliveries?run=nope", f.tokens[auth.Viewer], nil); code != 404 {
		t.Errorf("deliveries of an unknown run: %d", code)
	}
	code, body := f.do("GET", "/api/v1/deliveries?limit=2", f.tokens[auth.Viewer], nil)
	if list, _ := body["deliveries"].([]any); code != 200 || len(list) != 2 {
		t.Errorf("the latest 2 deliveries: %d %v", code, body)
	}
}

// A 500 is retried after the backoff, and the delivery is delivered
// once; a receiver that stays down is given up 24 h after the event.
func TestWebhookRetries(t *testing.T) {
	f := newFixture(t)
	rc := newReceiver(t)
	rc.answer = func(n int, path string) int {
		if path == "/down" || n == 1 {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	}
	f.seedWith(fleet.Subscription{Event: fleet.EventRunStarted, URL: rc.URL + "/flaky"})
	var backoffs []int
	n := f.notifier(NotifierConfig{Backoff: func(attempts int) time.Duration {
		backoffs = append(backoffs, attempts)
		return time.Duration(attempts) * time.Hour
	}})
	f.start("r1")
	f.step()
	if sent := flush(t, n); sent != 1 {
		t.Fatalf("first round: %d sent", sent)
	}
	d := f.deliveries("r1")[0]
	if d.Status != store.DeliveryPending || d.Attempts != 1 || d.LastStatus != 500 || d.NextAttempt == nil || !d.NextAttempt.Equal(t0.Add(time.Hour)) ||
		!strings.HasPrefix(d.LastError, "HTTP 500 Internal Server Error: answer [31m xxx") || strings.Contains(d.LastError, "\x1b") || len(d.LastError) > 250 {
		t.Fatalf("after a 500: %+v", d)
	}
	f.advance(time.Hour - time.Millisecond)
	if sent := flush(t, n); sent != 0 {
		t.Errorf("sent %d before the backoff ended", sent)
	}
	f.advance(time.Millisecond)
	if sent := flush(t, n); sent != 1 {
		t.Errorf("sent %d after the backoff", sent)
	}
	d = f.deliveries("r1")[0]
	hooks := rc.hooks()
	if d.Status != store.DeliveryDelivered || d.Attempts != 2 || d.LastStatus != 200 || d.LastError != "" || len(hooks) != 2 ||
		hooks[0].delivery != hooks[1].delivery || !bytes.Equal(hooks[0].body, hooks[1].body) {
		t.Errorf("after the retry: %+v; %d requests", d, len(hooks))
	}
	f.advance(48 * time.Hour)
	if sent := flush(t, n); sent != 0 || len(rc.hooks()) != 2 {
		t.Errorf("a delivered delivery sent again: %d", sent)
	}

	// Down for good: attempts at +0, +1 h, +3 h, ..., given up once 24 h
	// have passed since the event.
	g := newFixture(t)
	g.seedWith(fleet.Subscription{Event: fleet.EventRunStarted, URL: rc.URL + "/down"})
	m := g.notifier(NotifierConfig{Backoff: func(attempts int) time.Duration { return time.Duration(attempts) * time.Hour }})
	g.start("r1")
	g.step()
	for range 10 {
		flush(t, m)
		d = g.deliveries("r1")[0]
		if d.Status != store.DeliveryPending {
			break
		}
		g.clock.Store(int64(d.NextAttempt.Sub(t0)))
	}
	if d.Status != store.DeliveryFailed || d.Attempts != 8 || !strings.Contains(d.LastError, "given up: not delivered within 24h0m0s") {
		t.Errorf("a receiver down for good: %+v", d)
	}
}

// A 4xx is refused for good: given up at once, recorded, and the next
// delivery of the run goes; a redirect is not followed.
func TestWebhookGivesUpOnRefusal(t *testing.T) {
	f := newFixture(t)
	rc := newReceiver(t)
	rc.answer = func(n int, path string) int {
		switch path {
		case "/gone":
			return http.StatusNotFound
		case "/moved-away":
			return http.StatusFound
		}
		return http.StatusOK
	}
	f.seedWith(fleet.Subscription{Event: fleet.EventRunStateChanged, URL: rc.URL + "/gone"},
		fleet.Subscription{Event: fleet.EventRunStarted, URL: rc.URL + "/gone"},
		fleet.Subscription{Event: fleet.EventRunStarted, URL: rc.URL + "/moved-away"})
	n := f.notifier(NotifierConfig{})
	f.start("r1")
	f.step()
	if sent := flush(t, n); sent != 3 {
		t.Errorf("%d sent, want 3 (each tried once)", sent)
	}
	ds := f.deliveries("r1")
	for _, d := range ds {
		if d.Status != store.DeliveryFailed || d.Attempts != 1 || d.NextAttempt != nil {
			t.Errorf("%s %s: %+v", d.Event, d.URL, d)
		}
	}
	if ds[0].LastStatus != 404 || !strings.Contains(ds[0].LastError, "HTTP 404 Not Found") || !strings.Contains(ds[0].LastError, "not retried") {
		t.Errorf("the 404: %+v", ds[0])
	}
	if ds[2].LastStatus != 302 || !strings.Contains(ds[2].LastError, "redirects are not followed") {
		t.Errorf("the redirect: %+v", ds[2])
	}
	for _, h := range rc.hooks() {
		if h.path == "/moved" {
			t.Error("a redirect was followed")
		}
	}
	f.advance(time.Hour)
	if sent := flush(t, n); sent != 0 {
		t.Errorf("%d sent again after a refusal", sent)
	}
}

// The engine records deliveries and never sends one: a receiver that
// does not answer holds up neither the engine nor a stop.
func TestEngineDoesNotWaitForReceivers(t *testing.T) {
	f := newFixture(t)
	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		once.Do(func() { close(entered) })
		<-release
	}))
	defer slow.Close()
	f.seedWith(fleet.Subscription{Event: fleet.EventRunStateChanged, URL: slow.URL + "/hook"})
	n := f.notifier(NotifierConfig{})
	cfg := f.engine.cfg
	cfg.Notify = n.Poke
	f.engine = NewEngine(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { n.Run(ctx, time.Hour) })
	defer func() {
		close(release)
		cancel()
		wg.Wait()
	}()

	f.start("r1")
	f.step() // → START_DATA_COLLECTION_PENDING: a delivery, and a poke
	<-entered
	// The receiver holds the first delivery; the engine goes on.
	if err := f.engine.Stop(context.Background(), "r1", false, "tester"); err != nil {
		t.Fatal(err)
	}
	f.step()
	if r := f.run("r1"); r.State != fleet.RunCanceled {
		t.Errorf("run: %s", r.State)
	}
	ds, err := f.store.Deliveries(context.Background(), store.DeliveryFilter{RunID: "r1"})
	if err != nil || len(ds) != 2 || ds[1].Status != store.DeliveryPending {
		t.Errorf("deliveries while the receiver hangs: %+v %v", ds, err)
	}
}

// Templates carry their subscriptions through the API, checked.
func TestTemplateSubscriptionsAPI(t *testing.T) {
	f := newFixture(t)
	op := f.tokens[auth.Operator]
	if code, _ := f.do("POST", "/api/v1/targets", op, map[string]any{"name": "prod", "tags": map[string]string{"env": "prod"}}); code != 200 {
		t.Fatalf("target: %d", code)
	}
	_, targets := f.do("GET", "/api/v1/targets", op, nil)
	tgt := targets["targets"].([]any)[0].(map[string]any)["id"]
	tpl := func(name string, subs ...map[string]string) (int, map[string]any) {
		return f.do("POST", "/api/v1/templates", op, map[string]any{"name": name, "target_id": tgt, "packages": []string{"cve"}, "duration": "20s", "subscriptions": subs})
	}
	code, body := tpl("nightly", map[string]string{"event": "RUN_COMPLETED", "url": "https://hooks.example.com/kensa"})
	if code != 200 {
		t.Fatalf("create: %d %v", code, body)
	}
	_, got := f.do("GET", "/api/v1/templates/"+body["id"].(string), f.tokens[auth.Viewer], nil)
	want := []any{map[string]any{"event": "RUN_COMPLETED", "url": "https://hooks.example.com/kensa"}}
	if diff := cmp.Diff(want, got["subscriptions"]); diff != "" {
		t.Errorf("the template's subscriptions (-want +got):\n%s", diff)
	}
	if code, body := tpl("clear", map[string]string{"event": "RUN_FAILED", "url": "http://hooks.example.com/"}); code != 422 || !strings.Contains(body["detail"].(string), "loopback") {
		t.Errorf("plain http to another host: %d %v", code, body)
	}
	if code, _ := tpl("secret", map[string]string{"event": "RUN_FAILED", "url": "https://u:p@hooks.example.com/"}); code != 422 {
		t.Errorf("credentials in the URL: %d", code)
	}
	if code, _ := tpl("unknown", map[string]string{"event": "RUN_DONE", "url": "https://hooks.example.com/"}); code != 422 {
		t.Errorf("an unknown event: %d", code)
	}
	var many []map[string]string
	for i := range 17 {
		many = append(many, map[string]string{"event": "RUN_FAILED", "url": "https://hooks.example.com/" + itoa(i)})
	}
	if code, _ := tpl("many", many...); code != 422 {
		t.Errorf("17 subscriptions: %d", code)
	}
}

// The key is made once, 0600, and loaded as it is after; a damaged one
// stops the server and is left alone.
func TestWebhookKey(t *testing.T) {
	dir := t.TempDir()
	key, created, err := LoadOrCreateWebhookKey(dir)
	if err != nil || !created || len(key) != 64 {
		t.Fatalf("create: %q %v %v", key, created, err)
	}
	path := filepath.Join(dir, WebhookKeyFile)
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("mode: %v %v", fi.Mode(), err)
	}
	again, created, err := LoadOrCreateWebhookKey(dir)
	if err != nil || created || !bytes.Equal(again, key) {
		t.Errorf("load: %q %v %v", again, created, err)
	}
	if file, _ := os.ReadFile(path); string(file) != string(key)+"\n" {
		t.Errorf("file %q", file)
	}
	os.Chmod(path, 0o644)
	if _, _, err := LoadOrCreateWebhookKey(dir); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("a readable key was not tightened: %v", fi.Mode())
	}
	os.WriteFile(path, []byte("damaged\n"), 0o600)
	if _, _, err := LoadOrCreateWebhookKey(dir); err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Errorf("a damaged key: %v", err)
	}
	if file, _ := os.ReadFile(path); string(file) != "damaged\n" {
		t.Errorf("a damaged key was overwritten: %q", file)
	}
	if got := Sign([]byte("key"), []byte("The quick brown fox jumps over the lazy dog")); got != "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8" {
		t.Errorf("Sign: %s", got)
	}
}
