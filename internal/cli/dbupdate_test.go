package cli

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kensa-dev/kensa/internal/testfixture"
)

// kensa db update against a local mirror serving real feeds: a first
// update imports them, a second finds them unchanged, and a truncated
// body, a 5xx answer or a stall fails the update while the previous
// database stays fully usable. (The official locations cannot be reached
// from the development machines; the mirror layout is the same.)
func TestDBUpdateFromMirror(t *testing.T) {
	goZip := testfixture.Shared(t, "vulndata", "osv", "osv-scalibr", "Go", "all.zip")
	kev := testfixture.Shared(t, "vulndata", "kev", "known_exploited_vulnerabilities.json")
	goData, _ := os.ReadFile(goZip)
	kevData, _ := os.ReadFile(kev)
	var mode atomic.Value
	mode.Store("ok")
	stamp := time.Date(2026, 11, 5, 0, 0, 0, 0, time.UTC)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body []byte
		switch r.URL.Path {
		case "/osv/Go/all.zip":
			body = goData
		case "/kev/known_exploited_vulnerabilities.json":
			body = kevData
		default:
			http.NotFound(w, r)
			return
		}
		if r.URL.Path == "/osv/Go/all.zip" {
			switch mode.Load() {
			case "truncated":
				w.Header().Set("Content-Length", "9999999")
				w.Write(body[:1000])
				panic(http.ErrAbortHandler)
			case "5xx":
				http.Error(w, "maintenance", http.StatusServiceUnavailable)
				return
			case "stall":
				w.Header().Set("Content-Length", "9999999")
				w.Write(body[:1000])
				w.(http.Flusher).Flush()
				select {
				case <-r.Context().Done():
				case <-time.After(10 * time.Second):
				}
				return
			}
		}
		http.ServeContent(w, r, filepath.Base(r.URL.Path), stamp, strings.NewReader(string(body)))
	}))
	defer srv.Close()

	db := filepath.Join(t.TempDir(), "vulndb.sqlite")
	update := func() (int, string) {
		code, _, stderr := run(t, "db", "update", "--db", db, "--mirror", srv.URL, "--ecosystems", "Go", "--retries", "0", "--stall-timeout", "500ms")
		return code, stderr
	}
	if code, stderr := update(); code != ExitOK || !strings.Contains(stderr, "osv/Go") {
		t.Fatalf("first update: %d\n%s", code, stderr)
	}
	status := func() string {
		code, out, stderr := run(t, "db", "status", "--db", db)
		if code != ExitOK {
			t.Fatalf("status: %d %s", code, stderr)
		}
		return out
	}
	first := status()
	if !strings.Contains(first, "osv/Go") || !strings.Contains(first, "4789") || !strings.Contains(first, "kev") {
		t.Fatalf("status after update:\n%s", first)
	}
	if code, stderr := update(); code != ExitOK || !strings.Contains(stderr, "unchanged") {
		t.Errorf("second update should find the feeds unchanged: %d\n%s", code, stderr)
	}
	for _, m := range []string{"truncated", "5xx", "stall"} {
		mode.Store(m)
		start := time.Now()
		code, stderr := update()
		if code != ExitError || !strings.Contains(stderr, "osv/Go") || !strings.Contains(stderr, "previous data") {
			t.Errorf("%s: exit %d\n%s", m, code, stderr)
		}
		if d := time.Since(start); d > 8*time.Second {
			t.Errorf("%s: took %s", m, d)
		}
		if after := status(); !strings.Contains(after, "4789") {
			t.Errorf("%s: the previous data is gone:\n%s", m, after)
		}
	}
	// The database still serves a scan.
	root := testfixture.Shared(t, "fixtures", "pkgdb", "dpkg", "ubuntu-20.04-base")
	if code, _, stderr := run(t, "scan", "--root", root, "--db", db, "--packages", "cve", "--format", "json", "--output", filepath.Join(t.TempDir(), "r.json")); code != ExitOK {
		t.Errorf("scan after failed updates: %d\n%s", code, stderr)
	}
}
