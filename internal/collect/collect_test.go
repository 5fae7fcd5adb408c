package collect

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/hostfs"
)

type fake struct {
	name string
	fn   func(env *Env, inv *host.Inventory) error
}

func (f fake) Name() string { return f.name }
func (f fake) Collect(_ context.Context, env *Env, inv *host.Inventory) error {
	return f.fn(env, inv)
}

func TestRunRecordsEveryOutcome(t *testing.T) {
	fsys, err := hostfs.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	collectors := []Collector{
		fake{"ok", func(env *Env, inv *host.Inventory) error { env.Count(2); return nil }},
		fake{"partial", func(env *Env, inv *host.Inventory) error {
			for i := 0; i < MaxErrors+5; i++ {
				env.Errorf("problem %d", i)
			}
			return nil
		}},
		fake{"skipped", func(*Env, *host.Inventory) error { return NotApplicable("no database here") }},
		fake{"failed", func(*Env, *host.Inventory) error { return errors.New("unreadable") }},
		fake{"panics", func(*Env, *host.Inventory) error { var m map[string]int; m["x"]++; return nil }},
		fake{"after", func(env *Env, inv *host.Inventory) error { env.Count(1); return nil }},
	}
	inv := Run(context.Background(), &Env{FS: fsys}, collectors, nil)
	want := map[string]string{"ok": host.StatusOK, "partial": host.StatusPartial, "skipped": host.StatusSkipped, "failed": host.StatusFailed, "panics": host.StatusFailed, "after": host.StatusOK}
	if len(inv.Collectors) != len(want) {
		t.Fatalf("got %d runs", len(inv.Collectors))
	}
	for _, r := range inv.Collectors {
		if r.Status != want[r.Name] {
			t.Errorf("%s: status %s, want %s (%s)", r.Name, r.Status, want[r.Name], r.Reason)
		}
		switch r.Name {
		case "ok":
			if r.Items != 2 {
				t.Errorf("ok items = %d", r.Items)
			}
		case "partial":
			if r.ErrorCount != MaxErrors+5 || len(r.Errors) != MaxErrors {
				t.Errorf("partial: count %d, kept %d", r.ErrorCount, len(r.Errors))
			}
		case "skipped":
			if r.Reason != "no database here" {
				t.Errorf("reason %q", r.Reason)
			}
		case "panics":
			if !strings.Contains(r.Reason, "panic") {
				t.Errorf("reason %q", r.Reason)
			}
		}
	}
	if inv.SchemaVersion != host.SchemaVersion || inv.Identity.Live || inv.Identity.Root != fsys.Root() {
		t.Errorf("identity %+v", inv.Identity)
	}
}

func TestRunStopsOnCancel(t *testing.T) {
	fsys, _ := hostfs.Open(t.TempDir())
	ctx, cancel := context.WithCancel(context.Background())
	ran := false
	inv := Run(ctx, &Env{FS: fsys}, []Collector{
		fake{"cancels", func(*Env, *host.Inventory) error { cancel(); return nil }},
		fake{"never", func(*Env, *host.Inventory) error { ran = true; return nil }},
	}, nil)
	if ran || inv.Collectors[1].Status != host.StatusSkipped {
		t.Fatalf("collector ran after cancel: %+v", inv.Collectors[1])
	}
}
