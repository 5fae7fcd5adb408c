package agent

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kensa-dev/kensa/internal/agentapi"
	"github.com/kensa-dev/kensa/internal/pki"
)

// fakeServer implements the agent endpoints of agentapi over mutual TLS
// with a real certificate authority, records what agents send, and can
// fail on demand: 503 answers, lost answers, a closed listener.
type fakeServer struct {
	t         *testing.T
	ca        *pki.Authority
	joinToken string
	addr      string // host:port, kept across down and up
	url       string

	mu      sync.Mutex
	changed chan struct{} // closed and replaced on every change
	srv     *http.Server

	// What was received.
	log         []string // "METHOD path" of every request that reached a handler
	enrols      []agentapi.EnrolRequest
	enrolAuth   []string
	heartbeats  []agentapi.Heartbeat
	hbAgents    []string // the agent id of each heartbeat
	blobs       map[string][]byte
	puts        map[string]int
	uploads     map[string]agentapi.Upload // by key: recorded once
	uploadPosts []agentapi.Upload          // every POST, recorded or not
	dones       []agentapi.WorkDone
	failures    int // 503 answers given
	nextAgent   int

	// Behaviour.
	interval    time.Duration
	offer       *agentapi.Work // offered on each heartbeat until its done arrives
	cancel      []string
	failBlobs   bool // 503 on blobs and uploads
	loseUploads int  // record an upload but answer 503, this many times
	// validity of the agent certificates signed (0: pki's default); a
	// minute makes an agent renew at once.
	validity time.Duration
	renewals []string // the agent id of each renewal
}

func newFakeServer(t *testing.T) *fakeServer {
	t.Helper()
	ca, _, err := pki.LoadOrCreate(t.TempDir(), pki.Options{DNSNames: []string{"kensa.test"}}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	s := &fakeServer{
		t: t, ca: ca, joinToken: "kensa_join_test_secret", changed: make(chan struct{}),
		blobs: map[string][]byte{}, puts: map[string]int{}, uploads: map[string]agentapi.Upload{},
		interval: 20 * time.Millisecond,
	}
	s.addr = "127.0.0.1:0"
	s.up()
	s.url = "https://" + s.addr
	t.Cleanup(s.down)
	return s
}

// up starts serving on the server's address (the same port after down).
func (s *fakeServer) up() {
	s.t.Helper()
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		s.t.Fatal(err)
	}
	srv := &http.Server{
		Handler:   http.HandlerFunc(s.serve),
		TLSConfig: s.ca.ServerTLSConfig(),
		ErrorLog:  slog.NewLogLogger(slog.DiscardHandler, slog.LevelError),
	}
	s.mu.Lock()
	s.addr = ln.Addr().String()
	s.srv = srv
	s.mu.Unlock()
	go srv.ServeTLS(ln, "", "")
}

// down closes the listener and every connection: the agent meets
// "connection refused" until up.
func (s *fakeServer) down() {
	s.mu.Lock()
	srv := s.srv
	s.srv = nil
	s.mu.Unlock()
	if srv != nil {
		srv.Close()
	}
}

// set changes the server's behaviour under its lock.
func (s *fakeServer) set(f func(s *fakeServer)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s)
	s.notify()
}

// notify wakes waitFor; called with mu held.
func (s *fakeServer) notify() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// waitFor waits until cond holds (called with mu held), failing the test
// after a minute: a guard against a hang, not a synchronisation.
func (s *fakeServer) waitFor(what string, cond func(s *fakeServer) bool) {
	s.t.Helper()
	deadline := time.NewTimer(time.Minute)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		ok := cond(s)
		ch := s.changed
		s.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-ch:
		case <-deadline.C:
			s.mu.Lock()
			defer s.mu.Unlock()
			s.t.Fatalf("waited a minute for %s; requests: %q", what, s.log)
		}
	}
}

// read runs f under the lock, to read what was recorded.
func (s *fakeServer) read(f func(s *fakeServer)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s)
}

func (s *fakeServer) doneFor(run string) (agentapi.WorkDone, bool) {
	for _, d := range s.dones {
		if d.RunID == run {
			return d, true
		}
	}
	return agentapi.WorkDone{}, false
}

// agentLog is the requests on agent endpoints other than heartbeats.
func (s *fakeServer) agentLog() []string {
	var out []string
	for _, l := range s.log {
		if strings.Contains(l, "/api/v1/agent/") && !strings.HasSuffix(l, "/heartbeat") {
			out = append(out, l)
		}
	}
	return out
}

func (s *fakeServer) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.notify()
	s.log = append(s.log, r.Method+" "+r.URL.Path)
	if r.URL.Path == enrolPath && r.Method == http.MethodPost {
		s.enrol(w, r)
		return
	}
	agentID, _, ok := s.ca.AgentIdentity(r.TLS)
	if !ok {
		problem(w, http.StatusUnauthorized, "no agent certificate")
		return
	}
	switch {
	case r.URL.Path == renewPath && r.Method == http.MethodPost:
		var req agentapi.RenewRequest
		if !decode(w, r, &req) {
			return
		}
		blk, _ := pem.Decode([]byte(req.CSR))
		if blk == nil {
			problem(w, http.StatusUnprocessableEntity, "csr: not PEM")
			return
		}
		cert, err := s.ca.SignAgent(blk.Bytes, agentID, time.Now(), 0)
		if err != nil {
			problem(w, http.StatusUnprocessableEntity, err.Error())
			return
		}
		s.renewals = append(s.renewals, agentID)
		answer(w, agentapi.RenewResponse{Certificate: string(pki.CertPEM(cert))})
	case r.URL.Path == heartbeatPath && r.Method == http.MethodPost:
		var hb agentapi.Heartbeat
		if !decode(w, r, &hb) {
			return
		}
		s.heartbeats = append(s.heartbeats, hb)
		s.hbAgents = append(s.hbAgents, agentID)
		resp := agentapi.HeartbeatResponse{Interval: s.interval, Cancel: s.cancel}
		if s.offer != nil {
			if _, done := s.doneFor(s.offer.RunID); !done {
				resp.Work = s.offer
			}
		}
		answer(w, resp)
	case strings.HasPrefix(r.URL.Path, blobsPath):
		if s.failBlobs {
			s.failures++
			problem(w, http.StatusServiceUnavailable, "down for the test")
			return
		}
		sha := strings.TrimPrefix(r.URL.Path, blobsPath)
		switch r.Method {
		case http.MethodHead:
			if _, ok := s.blobs[sha]; !ok {
				w.WriteHeader(http.StatusNotFound)
			}
		case http.MethodPut:
			if r.Header.Get("Content-Type") != "application/gzip" {
				problem(w, http.StatusUnsupportedMediaType, "want application/gzip")
				return
			}
			zr, err := gzip.NewReader(r.Body)
			if err != nil {
				problem(w, http.StatusBadRequest, err.Error())
				return
			}
			b, err := io.ReadAll(zr)
			if err != nil {
				problem(w, http.StatusBadRequest, err.Error())
				return
			}
			sum := sha256.Sum256(b)
			if hex.EncodeToString(sum[:]) != sha {
				problem(w, http.StatusBadRequest, "content does not match its SHA-256")
				return
			}
			s.blobs[sha] = b
			s.puts[sha]++
			w.WriteHeader(http.StatusCreated)
		default:
			problem(w, http.StatusMethodNotAllowed, "")
		}
	case r.URL.Path == uploadsPath && r.Method == http.MethodPost:
		if s.failBlobs {
			s.failures++
			problem(w, http.StatusServiceUnavailable, "down for the test")
			return
		}
		var u agentapi.Upload
		if !decode(w, r, &u) {
			return
		}
		s.uploadPosts = append(s.uploadPosts, u)
		if _, ok := s.blobs[u.SHA256]; !ok {
			problem(w, http.StatusConflict, "no such blob")
			return
		}
		if old, ok := s.uploads[u.Key]; ok && old != u {
			problem(w, http.StatusConflict, "key reused for other content")
			return
		}
		s.uploads[u.Key] = u
		if s.loseUploads > 0 {
			s.loseUploads--
			s.failures++
			problem(w, http.StatusServiceUnavailable, "recorded, but the answer is lost")
			return
		}
		answer(w, struct{}{})
	case r.URL.Path == donePath && r.Method == http.MethodPost:
		var d agentapi.WorkDone
		if !decode(w, r, &d) {
			return
		}
		if _, ok := s.doneFor(d.RunID); !ok {
			s.dones = append(s.dones, d)
		}
		w.WriteHeader(http.StatusNoContent)
	default:
		problem(w, http.StatusNotFound, "no such endpoint")
	}
}

func (s *fakeServer) enrol(w http.ResponseWriter, r *http.Request) {
	s.enrolAuth = append(s.enrolAuth, r.Header.Get("Authorization"))
	if r.Header.Get("Authorization") != "Bearer "+s.joinToken {
		problem(w, http.StatusUnauthorized, "enrolment needs a valid join token")
		return
	}
	var req agentapi.EnrolRequest
	if !decode(w, r, &req) {
		return
	}
	s.enrols = append(s.enrols, req)
	blk, _ := pem.Decode([]byte(req.CSR))
	if blk == nil || blk.Type != "CERTIFICATE REQUEST" {
		problem(w, http.StatusUnprocessableEntity, "csr: want a PEM CERTIFICATE REQUEST")
		return
	}
	s.nextAgent++
	id := fmt.Sprintf("agt-%d", s.nextAgent)
	cert, err := s.ca.SignAgent(blk.Bytes, id, time.Now(), s.validity)
	if err != nil {
		problem(w, http.StatusUnprocessableEntity, err.Error())
		return
	}
	answer(w, agentapi.EnrolResponse{AgentID: id, Certificate: string(pki.CertPEM(cert)), CA: string(s.ca.CAPEM())})
}

func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		problem(w, http.StatusBadRequest, err.Error())
		return false
	}
	return true
}

func answer(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

func problem(w http.ResponseWriter, status int, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"title": http.StatusText(status), "status": status, "detail": detail})
}

// tracer records an agent's trace events for tests to wait on.
type tracer struct {
	t       *testing.T
	mu      sync.Mutex
	counts  map[string]int
	changed chan struct{}
}

func newTracer(t *testing.T) *tracer {
	return &tracer{t: t, counts: map[string]int{}, changed: make(chan struct{})}
}

func (tr *tracer) event(ev string) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.counts[ev]++
	close(tr.changed)
	tr.changed = make(chan struct{})
}

func (tr *tracer) count(ev string) int {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return tr.counts[ev]
}

// waitCount waits until ev has happened n times in all.
func (tr *tracer) waitCount(ev string, n int) {
	tr.t.Helper()
	deadline := time.NewTimer(time.Minute)
	defer deadline.Stop()
	for {
		tr.mu.Lock()
		got, ch := tr.counts[ev], tr.changed
		tr.mu.Unlock()
		if got >= n {
			return
		}
		select {
		case <-ch:
		case <-deadline.C:
			tr.t.Fatalf("waited a minute for %d %q events; got %d", n, ev, got)
		}
	}
}

// inventoryOf decodes a blob the server holds (kept uncompressed).
func (s *fakeServer) inventoryOf(t *testing.T, sha string, v any) {
	t.Helper()
	s.mu.Lock()
	b, ok := s.blobs[sha]
	s.mu.Unlock()
	if !ok {
		t.Fatalf("no blob %s", sha)
	}
	if err := json.NewDecoder(bytes.NewReader(b)).Decode(v); err != nil {
		t.Fatal(err)
	}
}

// caFile writes the server's CA to a file, as --ca takes it.
func (s *fakeServer) caFile(t *testing.T) string {
	p := filepath.Join(t.TempDir(), "ca.pem")
	if err := writeFileAtomic(p, s.ca.CAPEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
