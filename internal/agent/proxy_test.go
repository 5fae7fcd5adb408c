package agent

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kensa-dev/kensa/internal/collect/aptchangelog"
	"github.com/kensa-dev/kensa/internal/pki"
)

// The agent honours HTTPS_PROXY: run in a child process with only the
// environment to tell it (http.ProxyFromEnvironment reads it once per
// process), it reaches the server, named kensa.test (which no resolver
// knows), through a proxy that counts its CONNECTs; enrolment and
// heartbeats both go that way.
func TestHTTPSProxy(t *testing.T) {
	if os.Getenv("KENSA_AGENT_PROXY_CHILD") != "" {
		proxyChild(t)
		return
	}
	t.Parallel()
	srv := newFakeServer(t)
	_, port, err := net.SplitHostPort(srv.addr)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var connects []string
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodConnect {
			http.Error(w, "CONNECT only", http.StatusMethodNotAllowed)
			return
		}
		mu.Lock()
		connects = append(connects, r.Host)
		mu.Unlock()
		host, p, err := net.SplitHostPort(r.Host)
		if err != nil || host != "kensa.test" {
			http.Error(w, "unknown host", http.StatusForbidden)
			return
		}
		up, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", p))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		conn, rw, err := w.(http.Hijacker).Hijack()
		if err != nil {
			up.Close()
			return
		}
		conn.Write([]byte("HTTP/1.1 200 Connection established\r\n\r\n"))
		go func() {
			io.Copy(up, rw)
			up.Close()
		}()
		io.Copy(conn, up)
		conn.Close()
	}))
	defer proxy.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestHTTPSProxy$", "-test.v")
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); !strings.HasSuffix(strings.ToLower(k), "_proxy") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env,
		"HTTPS_PROXY=http://"+proxy.Listener.Addr().String(),
		"KENSA_AGENT_PROXY_CHILD=1",
		"KENSA_AGENT_TEST_SERVER=https://kensa.test:"+port,
		"KENSA_AGENT_TEST_PIN="+pki.Fingerprint(srv.ca.CA()),
		"KENSA_AGENT_TEST_TOKEN="+srv.joinToken,
		"KENSA_AGENT_TEST_STATE="+t.TempDir(),
	)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestHTTPSProxy") {
		t.Fatalf("child: %v\n%s", err, out)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(connects) == 0 || connects[0] != "kensa.test:"+port {
		t.Errorf("CONNECTs through the proxy: %q", connects)
	}
	srv.read(func(s *fakeServer) {
		if len(s.enrols) != 1 || len(s.heartbeats) == 0 {
			t.Errorf("through the proxy: %d enrolments, %d heartbeats", len(s.enrols), len(s.heartbeats))
		}
	})
}

// proxyChild is the agent of TestHTTPSProxy: enrol, one heartbeat, stop.
func proxyChild(t *testing.T) {
	tr := newTracer(t)
	cfg := Config{
		Server:        os.Getenv("KENSA_AGENT_TEST_SERVER"),
		JoinToken:     os.Getenv("KENSA_AGENT_TEST_TOKEN"),
		CAFingerprint: os.Getenv("KENSA_AGENT_TEST_PIN"),
		StateDir:      os.Getenv("KENSA_AGENT_TEST_STATE"),
		Root:          fixtureRoot(t),
		Hostname:      "proxied",
		Logger:        slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Updates:       aptchangelog.Options{NoDownload: true},
		minInterval:   time.Millisecond,
		backoffBase:   2 * time.Millisecond,
		backoffMax:    20 * time.Millisecond,
		trace:         tr.event,
	}
	_, stop := start(t, cfg)
	tr.waitCount(evHeartbeat, 1)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}
