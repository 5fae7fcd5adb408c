package server

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/kensa-dev/kensa/internal/agentapi"
	"github.com/kensa-dev/kensa/internal/assess"
	"github.com/kensa-dev/kensa/internal/auth"
	"github.com/kensa-dev/kensa/internal/fleet"
	"github.com/kensa-dev/kensa/internal/pki"
	"github.com/kensa-dev/kensa/internal/report"
	"github.com/kensa-dev/kensa/internal/testfixture"
)

// tlsServer serves the fixture's API over TLS with the server's own
// certificate, as kensa server does.
func (f *fixture) tlsServer() *httptest.Server {
	hs := httptest.NewUnstartedServer(f.srv.Handler())
	hs.TLS = f.ca.ServerTLSConfig()
	hs.StartTLS()
	f.t.Cleanup(hs.Close)
	return hs
}

// client is an HTTPS client of the server: with an agent's certificate,
// or none.
func (f *fixture) client(cert *tls.Certificate) *http.Client {
	var cfg *tls.Config
	if cert != nil {
		cfg = pki.AgentTLSConfig(pki.StaticClientCert(*cert), f.ca.CAPool(), "127.0.0.1")
	} else {
		cfg = pki.ClientTLSConfig(f.ca.CAPool())
		cfg.ServerName = "127.0.0.1"
	}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}, Timeout: 30 * time.Second}
}

// call sends JSON (or raw bytes) and decodes the JSON answer into out.
func call(t *testing.T, c *http.Client, method, url, token string, body, out any) int {
	t.Helper()
	var rd io.Reader
	ctype := "application/json"
	switch b := body.(type) {
	case nil:
	case []byte:
		rd, ctype = bytes.NewReader(b), "application/gzip"
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, url, rd)
	if body != nil {
		req.Header.Set("Content-Type", ctype)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %d %s: %v", method, url, resp.StatusCode, b, err)
		}
	}
	return resp.StatusCode
}

// enrolAgent enrols an agent with a join token and returns its
// certificate.
func (f *fixture) enrolAgent(url, join, hostname string, tags map[string]string, live bool) (string, tls.Certificate) {
	f.t.Helper()
	key, err := pki.NewAgentKey()
	if err != nil {
		f.t.Fatal(err)
	}
	csr, err := pki.NewCSR(key)
	if err != nil {
		f.t.Fatal(err)
	}
	req := agentapi.EnrolRequest{CSR: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: csr})), Hostname: hostname, Tags: tags,
		Status: agentapi.Status{Version: "test", OS: "debian:12", Live: live}}
	var resp agentapi.EnrolResponse
	if code := call(f.t, f.client(nil), "POST", url+"/api/v1/enrol", join, req, &resp); code != 200 {
		f.t.Fatalf("enrol %s: %d", hostname, code)
	}
	keyPEM, _ := pki.KeyPEM(key)
	cert, err := tls.X509KeyPair([]byte(resp.Certificate), keyPEM)
	if err != nil {
		f.t.Fatal(err)
	}
	return resp.AgentID, cert
}

func gz(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

// One run through the API, as agents and an operator would drive it:
// enrol, target by tag, template, start; the agents take the work on
// their heartbeat, upload an inventory collected from a real fixture
// root (the second one's unchanged inventory is not sent again), say
// done; the engine evaluates and the run completes with findings and a
// report per agent. Along the way: an agent certificate on a user
// endpoint is refused, a revoked agent is refused at once, and a single
// use join token enrols once.
func TestRunFlow(t *testing.T) {
	f := newFixture(t)
	hs := f.tlsServer()
	url := hs.URL
	ctx := context.Background()
	admin, op := f.tokens[auth.Admin], f.tokens[auth.Operator]
	user := f.client(nil)

	var jt struct{ Token string }
	if code := call(t, user, "POST", url+"/api/v1/join-tokens", admin, map[string]any{"max_uses": 3}, &jt); code != 200 {
		t.Fatalf("join token: %d", code)
	}
	a1, c1 := f.enrolAgent(url, jt.Token, "db-1", map[string]string{"env": "prod"}, true)
	a2, c2 := f.enrolAgent(url, jt.Token, "db-2", map[string]string{"env": "prod"}, false)
	_, c3 := f.enrolAgent(url, jt.Token, "dev-1", map[string]string{"env": "dev"}, true)
	var refused agentapi.EnrolResponse
	key, _ := pki.NewAgentKey()
	csr, _ := pki.NewCSR(key)
	if code := call(t, user, "POST", url+"/api/v1/enrol", jt.Token, agentapi.EnrolRequest{CSR: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: csr})), Hostname: "x"}, &refused); code != 401 {
		t.Errorf("a fourth enrolment with a 3-use token: %d", code)
	}
	// An agent's certificate opens the agent endpoints only.
	if code := call(t, f.client(&c1), "GET", url+"/api/v1/agents", "", nil, nil); code != 403 {
		t.Errorf("agent certificate on a user endpoint: %d", code)
	}
	if code := call(t, f.client(&c1), "GET", url+"/api/v1/openapi.json", "", nil, nil); code != 403 {
		t.Errorf("agent certificate on the OpenAPI document: %d", code)
	}

	var tgt fleet.Target
	if code := call(t, user, "POST", url+"/api/v1/targets", op, map[string]any{"name": "prod", "tags": map[string]string{"env": "prod"}}, &tgt); code != 200 {
		t.Fatalf("target: %d", code)
	}
	var preview struct{ Agents []fleet.Agent }
	call(t, user, "GET", url+"/api/v1/targets/"+tgt.ID+"/preview", f.tokens[auth.Viewer], nil, &preview)
	if len(preview.Agents) != 2 {
		t.Errorf("preview: %d agents, want 2", len(preview.Agents))
	}
	var tpl struct{ ID string }
	if code := call(t, user, "POST", url+"/api/v1/templates", op, map[string]any{"name": "nightly", "target_id": tgt.ID,
		"packages": []string{"cve", "cis", "best-practices"}, "duration": "20s", "attributes": map[string]string{"ticket": "SEC-9"}}, &tpl); code != 200 {
		t.Fatalf("template: %d", code)
	}
	var run runView
	if code := call(t, user, "POST", url+"/api/v1/runs", op, map[string]any{"template_id": tpl.ID}, &run); code != 200 || run.State != fleet.RunCreated {
		t.Fatalf("start: %d %s", code, run.State)
	}
	if err := f.engine.Step(ctx); err != nil {
		t.Fatal(err)
	}
	call(t, user, "GET", url+"/api/v1/runs/"+run.ID, op, nil, &run)
	if run.State != fleet.RunStartDataCollectionPending || len(run.Agents) != 2 {
		t.Fatalf("after planning: %s, %d agents", run.State, len(run.Agents))
	}

	// dev-1 is not selected: its heartbeat carries no work.
	var hb agentapi.HeartbeatResponse
	call(t, f.client(&c3), "POST", url+"/api/v1/agent/heartbeat", "", agentapi.Heartbeat{Health: "HEALTHY"}, &hb)
	if hb.Work != nil {
		t.Errorf("work for an agent the target does not select: %+v", hb.Work)
	}
	root := testfixture.Shared(t, "fixtures", "pkgdb", "dpkg", "debian-12-this-host")
	inv, err := assess.Inventory(ctx, assess.Options{Root: root, Packages: []string{"cve", "cis", "best-practices"}})
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := json.Marshal(inv)
	h := sha256.Sum256(doc)
	sum := hex.EncodeToString(h[:])
	for i, c := range []tls.Certificate{c1, c2} {
		ac := f.client(&c)
		var hb agentapi.HeartbeatResponse
		if code := call(t, ac, "POST", url+"/api/v1/agent/heartbeat", "", agentapi.Heartbeat{Health: "HEALTHY"}, &hb); code != 200 || hb.Work == nil || hb.Work.RunID != run.ID || hb.Work.Duration != 20*time.Second {
			t.Fatalf("agent %d heartbeat: %d %+v", i, code, hb.Work)
		}
		have := call(t, ac, "HEAD", url+"/api/v1/agent/blobs/"+sum, "", nil, nil)
		if want := []int{404, 200}[i]; have != want {
			t.Errorf("agent %d: HEAD of the inventory: %d, want %d (the second is unchanged)", i, have, want)
		}
		if have == 404 {
			if code := call(t, ac, "PUT", url+"/api/v1/agent/blobs/"+sum, "", gz(doc), nil); code != 204 && code != 200 {
				t.Fatalf("PUT: %d", code)
			}
			if code := call(t, ac, "PUT", url+"/api/v1/agent/blobs/"+sum, "", gz([]byte("other")), nil); code != 400 {
				t.Errorf("a document whose hash is not its name: %d", code)
			}
		}
		up := agentapi.Upload{RunID: run.ID, Kind: agentapi.KindInventory, Key: "k-" + sum[:8], SHA256: sum}
		var created struct{ Created bool }
		call(t, ac, "POST", url+"/api/v1/agent/uploads", "", up, &created)
		var again struct{ Created bool }
		call(t, ac, "POST", url+"/api/v1/agent/uploads", "", up, &again)
		if !created.Created || again.Created {
			t.Errorf("upload: created %v, retry created %v", created.Created, again.Created)
		}
		if code := call(t, ac, "POST", url+"/api/v1/agent/done", "", agentapi.WorkDone{RunID: run.ID}, nil); code != 204 && code != 200 {
			t.Fatalf("done: %d", code)
		}
	}
	if err := f.engine.Step(ctx); err != nil {
		t.Fatal(err)
	}
	call(t, user, "GET", url+"/api/v1/runs/"+run.ID, f.tokens[auth.Viewer], nil, &run)
	var states []fleet.RunState
	for _, tr := range run.History {
		states = append(states, tr.To)
	}
	want := []fleet.RunState{fleet.RunCreated, fleet.RunStartDataCollectionPending, fleet.RunCollectingData, fleet.RunDataCollected, fleet.RunEvaluatingRules, fleet.RunCompleted}
	if run.State != fleet.RunCompleted || len(states) != len(want) {
		t.Fatalf("run %s, history %v", run.State, states)
	}
	var fs findingsOutput
	if code := call(t, user, "GET", url+"/api/v1/findings?run="+run.ID+"&limit=1000", f.tokens[auth.Viewer], nil, &fs.Body); code != 200 {
		t.Errorf("findings: %d", code)
	}
	perAgent := map[string]int{}
	for _, fv := range fs.Body.Findings {
		perAgent[fv.AgentID]++
		if fv.Status != "new" || fv.Finding.Attributes["ticket"] != "SEC-9" {
			t.Errorf("finding %s: status %s, attributes %v", fv.Finding.ID, fv.Status, fv.Finding.Attributes)
			break
		}
	}
	if perAgent[a1] == 0 || perAgent[a1] != perAgent[a2] {
		t.Errorf("findings per agent: %v; run agents %+v", perAgent, run.Agents)
	}
	req, _ := http.NewRequest("GET", url+"/api/v1/runs/"+run.ID+"/reports/"+a1, nil)
	req.Header.Set("Authorization", "Bearer "+f.tokens[auth.Viewer])
	resp, err := user.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if _, err := report.Parse(body); err != nil {
		t.Errorf("the agent's report is not a valid Kensa report: %v", err)
	}

	// Revoking an agent refuses it at once.
	if code := call(t, user, "POST", url+"/api/v1/agents/"+a2+"/revoke", admin, nil, nil); code != 200 {
		t.Fatalf("revoke: %d", code)
	}
	if code := call(t, f.client(&c2), "POST", url+"/api/v1/agent/heartbeat", "", agentapi.Heartbeat{Health: "HEALTHY"}, nil); code != 401 {
		t.Errorf("a revoked agent's heartbeat: %d", code)
	}

	// Renewal: a new key certified for the same agent, which then works;
	// a revoked agent cannot renew.
	newKey, _ := pki.NewAgentKey()
	newCSR, _ := pki.NewCSR(newKey)
	renewReq := agentapi.RenewRequest{CSR: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: newCSR}))}
	var renewed agentapi.RenewResponse
	if code := call(t, f.client(&c1), "POST", url+"/api/v1/agent/renew", "", renewReq, &renewed); code != 200 {
		t.Fatalf("renew: %d", code)
	}
	keyPEM, _ := pki.KeyPEM(newKey)
	nc, err := tls.X509KeyPair([]byte(renewed.Certificate), keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	if code := call(t, f.client(&nc), "POST", url+"/api/v1/agent/heartbeat", "", agentapi.Heartbeat{Health: "HEALTHY"}, nil); code != 200 {
		t.Errorf("heartbeat with the renewed certificate: %d", code)
	}
	if leaf, _ := x509.ParseCertificate(nc.Certificate[0]); leaf == nil || leaf.Subject.CommonName != a1 {
		t.Errorf("renewed certificate is not for %s", a1)
	}
	if code := call(t, f.client(&c2), "POST", url+"/api/v1/agent/renew", "", renewReq, nil); code != 401 {
		t.Errorf("a revoked agent's renewal: %d", code)
	}
}
