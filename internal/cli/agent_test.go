package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// kensa agent refuses a command line it cannot run with exit 2 and says
// why, before touching the state directory or the process's limits.
func TestAgentUsage(t *testing.T) {
	t.Parallel()
	state := filepath.Join(t.TempDir(), "state")
	// No process-wide limits in a test binary.
	quiet := []string{"--nice", "0", "--io-class", "none", "--cpu-limit", "0", "--state", state}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{}, "--server"},
		{[]string{"--server", "http://kensa.example"}, "https://"},
		{[]string{"--server", "https://kensa.example", "--ca", "a.pem", "--ca-fingerprint", "SHA256:00"}, "not both"},
		{[]string{"--server", "https://kensa.example", "--ca-fingerprint", "SHA256:00"}, "fingerprint"},
		{[]string{"--server", "https://kensa.example", "--tag", "env"}, "--tag"},
		{[]string{"--server", "https://kensa.example", "--tag", "a=1", "--tag", "a=2"}, "twice"},
		{[]string{"--server", "https://kensa.example", "--cpu-limit", "2"}, "CPU limit"},
		{[]string{"--server", "https://kensa.example", "--nice", "25"}, "nice"},
		{[]string{"--server", "https://kensa.example", "--io-class", "realtime"}, "I/O class"},
		{[]string{"--server", "https://kensa.example", "--root", ""}, "--root"},
		{[]string{"--server", "https://kensa.example", "--root", filepath.Join(state, "none")}, "--root"},
		{[]string{"--server", "https://kensa.example", "--hostname", "a b"}, "hostname"},
		// Not enrolled, and nothing to enrol with.
		{[]string{"--server", "https://kensa.example"}, "--join-token"},
		// A join token, but no way to verify the server it goes to.
		{[]string{"--server", "https://kensa.example", "--join-token", "kensa_join_x_y"}, "--ca-fingerprint"},
	} {
		args := append(append([]string{"agent"}, quiet...), c.args...)
		code, out, stderr := run(t, args...)
		if code != ExitUsage || out != "" || !strings.Contains(stderr, c.want) {
			t.Errorf("%q: exit %d, stdout %q, stderr %q (want %q)", c.args, code, out, stderr, c.want)
		}
	}
	if _, err := os.Stat(filepath.Join(state, "agent.json")); err == nil {
		t.Error("a refused start enrolled")
	}
}
