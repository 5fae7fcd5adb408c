package cli

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kensa-dev/kensa/internal/auth"
	"github.com/kensa-dev/kensa/internal/store"
)

// kensa server token create and join-token create print a token once on
// stdout, and the server's store knows it by its hash.
func TestServerTokenCreate(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	code, out, stderr := run(t, "server", "token", "create", "--data", data, "--role", "viewer", "--name", "dashboards")
	if code != ExitOK {
		t.Fatalf("token create: exit %d: %s", code, stderr)
	}
	secret := strings.TrimSpace(out)
	kind, id, sec, err := auth.Parse(secret)
	if err != nil || kind != auth.KindAPI {
		t.Fatalf("printed %q: %v", out, err)
	}
	code, out, stderr = run(t, "server", "join-token", "create", "--data", data, "--max-uses", "1", "--expires", "1h")
	if code != ExitOK {
		t.Fatalf("join-token create: exit %d: %s", code, stderr)
	}
	jkind, jid, _, err := auth.Parse(strings.TrimSpace(out))
	if err != nil || jkind != auth.KindJoin || !strings.Contains(stderr, "single use") {
		t.Fatalf("printed %q (%v), said %q", out, err, stderr)
	}

	st, err := store.OpenSQLite(context.Background(), filepath.Join(data, "kensa.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rec, err := st.Token(context.Background(), id)
	if err != nil || rec.Role != auth.Viewer || rec.Name != "dashboards" || rec.Check(sec, time.Now()) != nil {
		t.Errorf("stored API token: %+v, %v", rec, err)
	}
	jrec, err := st.Token(context.Background(), jid)
	if err != nil || jrec.MaxUses != 1 || time.Until(jrec.Expires) > time.Hour || time.Until(jrec.Expires) < 50*time.Minute {
		t.Errorf("stored join token: %+v, %v", jrec, err)
	}

	for _, args := range [][]string{
		{"server", "token", "create", "--data", data, "--role", "root"},
		{"server", "token", "create", "--role", "admin"},
		{"server", "join-token", "create", "--data", data, "--expires", "0s"},
		{"server", "token", "create", "--data", data, "--role", "admin", "--database", "mysql://x"},
	} {
		if code, out, _ := run(t, args...); code != ExitUsage || out != "" {
			t.Errorf("%q: exit %d, printed %q", args, code, out)
		}
	}
}
