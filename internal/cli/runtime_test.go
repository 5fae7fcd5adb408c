package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kensa-dev/kensa/internal/finding"
	"github.com/kensa-dev/kensa/internal/report"
	"github.com/kensa-dev/kensa/internal/testfixture"
)

func TestRuntimeUsageErrors(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"scan", "--packages", "runtime", "--duration", "5s"}, "want 10s to 24h0m0s"},
		{[]string{"scan", "--packages", "runtime", "--duration", "25h"}, "want 10s to 24h0m0s"},
		{[]string{"scan", "--packages", "runtime", "--duration", "soon"}, "invalid argument"},
		{[]string{"scan", "--packages", "cve", "--duration", "1m"}, "add runtime to --packages"},
		{[]string{"scan", "--packages", "cis", "--observer", "ebpf"}, "add runtime to --packages"},
		{[]string{"scan", "--packages", "runtime", "--observer", "dtrace"}, `unknown observer method "dtrace"`},
		{[]string{"scan", "--observer", "proc"}, "give --duration"},
	} {
		code, _, stderr := run(t, tt.args...)
		if code != ExitUsage || !strings.Contains(stderr, tt.want) {
			t.Errorf("%q: exit %d, stderr %q; want exit %d and %q", tt.args, code, stderr, ExitUsage, tt.want)
		}
	}
}

func TestInterrupts(t *testing.T) {
	var i Interrupts
	if i.Interrupt() {
		t.Fatal("Interrupt without a window claimed to end one")
	}
	stop, done := i.openWindow()
	if !i.Interrupt() {
		t.Fatal("Interrupt with a window open did not end it")
	}
	select {
	case <-stop:
	default:
		t.Fatal("the window's stop channel is still open")
	}
	if i.Interrupt() {
		t.Error("a second Interrupt ended the window again: it must cancel the scan")
	}
	done()
	_, done2 := i.openWindow()
	done2()
	if i.Interrupt() {
		t.Error("Interrupt after the window closed claimed to end one")
	}
}

// TestScanImageDoesNotWait: an image cannot be observed; the runtime
// package says so and the scan does not wait for the hour asked.
func TestScanImageDoesNotWait(t *testing.T) {
	root := testfixture.Shared(t, "fixtures", "pkgdb", "dpkg", "debian-12-this-host")
	out := filepath.Join(t.TempDir(), "r.json")
	start := time.Now()
	code, _, stderr := run(t, "scan", "--root", root, "--packages", "runtime", "--duration", "1h", "--format", "json", "--output", out)
	if code != ExitOK || time.Since(start) > 5*time.Minute {
		t.Fatalf("exit %d after %s: %s", code, time.Since(start), stderr)
	}
	if !strings.Contains(stderr, "an image cannot be observed") {
		t.Errorf("no warning: %q", stderr)
	}
	r := readReport(t, out)
	if r.Observation != nil || len(r.Coverage) != 1 || r.Coverage[0].Status != report.NotEvaluated || !strings.Contains(r.Coverage[0].Reason, "is an image") {
		t.Errorf("observation %v, coverage %+v", r.Observation, r.Coverage)
	}
}

// TestScanDefaultPackagesOpenNoWindow: a scan of every package does not
// wait unasked; the runtime coverage says how to observe.
func TestScanDefaultPackagesOpenNoWindow(t *testing.T) {
	out := filepath.Join(t.TempDir(), "r.json")
	code, _, stderr := run(t, "scan", "--format", "json", "--output", out, "--db", filepath.Join(t.TempDir(), "none.sqlite"), "--no-download")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	r := readReport(t, out)
	for _, c := range r.Coverage {
		if c.Package == finding.PackageRuntime && (c.Status != report.NotEvaluated || !strings.Contains(c.Reason, "--duration")) {
			t.Errorf("runtime coverage %+v", c)
		}
	}
	if r.Observation != nil {
		t.Error("an observation without a window")
	}
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestScanStopAndEvaluate: the first interrupt ends an hour's window, and
// what was seen is evaluated and reported (Inspector's "stop and
// evaluate"). The /proc method runs without privileges.
func TestScanStopAndEvaluate(t *testing.T) {
	out := filepath.Join(t.TempDir(), "r.json")
	intr := &Interrupts{}
	var stderr syncBuffer
	code := make(chan int, 1)
	go func() {
		code <- Main(WithInterrupts(context.Background(), intr),
			[]string{"scan", "--packages", "runtime", "--duration", "1h", "--observer", "proc", "--format", "json", "--output", out},
			strings.NewReader(""), &bytes.Buffer{}, &stderr)
	}()
	deadline := time.Now().Add(2 * time.Minute)
	for !strings.Contains(stderr.String(), "observing with proc") {
		if time.Now().After(deadline) {
			t.Fatalf("the window never started: %q", stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !intr.Interrupt() {
		t.Fatal("Interrupt found no open window")
	}
	if c := <-code; c != ExitOK {
		t.Fatalf("exit %d: %s", c, stderr.String())
	}
	if !strings.Contains(stderr.String(), "window ended early (Ctrl-C)") {
		t.Errorf("stderr does not say the window ended early: %q", stderr.String())
	}
	r := readReport(t, out)
	o := r.Observation
	if o == nil || o.Method != "proc" || !o.Window.StoppedEarly || o.Window.End.Sub(o.Window.Start) > 30*time.Minute {
		t.Fatalf("observation %+v", o)
	}
	if len(o.Processes) == 0 || len(o.Binaries) == 0 {
		t.Errorf("%d processes, %d binaries observed", len(o.Processes), len(o.Binaries))
	}
	results := map[string]bool{}
	for _, res := range r.Results {
		if res.RulesPackage == finding.PackageRuntime {
			results[res.RuleID] = true
		}
	}
	if len(results) != 7 {
		t.Errorf("runtime results for %d rules, want 7: %v", len(results), results)
	}
}

func readReport(t *testing.T, path string) *report.Report {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := report.Validate(b); err != nil {
		t.Fatalf("report does not validate: %v", err)
	}
	r, err := report.ReadJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestRulesListRuntime(t *testing.T) {
	code, out, stderr := run(t, "rules", "list", "--package", "runtime", "--os", "ubuntu:24.04")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, id := range []string{"insecure-client-login", "insecure-client-general", "unused-listening-port", "insecure-server-protocol",
		"software-without-dep", "software-without-stack-cookies", "root-process-insecure-permissions"} {
		if !strings.Contains(out, "runtime  "+id) {
			t.Errorf("rules list lacks %s:\n%s", id, out)
		}
	}
	if strings.Contains(out, "cis-") || !strings.Contains(out, "not to an image") {
		t.Errorf("rules list --package runtime:\n%s", out)
	}
}
