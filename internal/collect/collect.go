// Package collect runs collectors: the only code that touches a host. Each
// collector reads one source of facts through a hostfs.FS and adds them to a
// host.Inventory. Rules never read the host; they read the Inventory.
//
// A collector that fails records why, and the others go on: a report must be
// able to say "rpm database unreadable" instead of silently showing fewer
// packages.
package collect

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sort"
	"time"

	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/hostfs"
)

// MaxErrors caps the errors a collector keeps in the Inventory; the count
// of all of them is kept too.
const MaxErrors = 20

// Collector gathers one kind of fact.
type Collector interface {
	// Name is a stable, path-like name such as "pkg/dpkg".
	Name() string
	// Collect adds its facts to inv. It returns ErrNotApplicable (wrapped,
	// with a reason) when its source is absent, and records recoverable
	// problems with env.Errorf; a returned error means it failed.
	Collect(ctx context.Context, env *Env, inv *host.Inventory) error
}

// Env is what a collector may use.
type Env struct {
	FS     hostfs.FS
	Logger *slog.Logger
	// Clock is the time source, injected so tests are repeatable; nil
	// means time.Now.
	Clock func() time.Time

	run *host.CollectorRun
}

// Errorf records a problem that did not stop the collector.
func (e *Env) Errorf(format string, args ...any) {
	if e.run == nil {
		return
	}
	e.run.ErrorCount++
	msg := fmt.Sprintf(format, args...)
	if len(e.run.Errors) < MaxErrors {
		e.run.Errors = append(e.run.Errors, msg)
	}
	if e.Logger != nil {
		e.Logger.Debug("collector error", "collector", e.run.Name, "error", msg)
	}
}

// Count adds n to the items the current collector found.
func (e *Env) Count(n int) {
	if e.run != nil {
		e.run.Items += n
	}
}

// notApplicable is returned by collectors whose source is absent.
type notApplicable struct{ reason string }

func (n notApplicable) Error() string { return n.reason }

// NotApplicable returns the error a collector gives when there is nothing
// for it to read here (no rpm database on a Debian host).
func NotApplicable(format string, args ...any) error {
	return notApplicable{fmt.Sprintf(format, args...)}
}

// Progress is told as each collector starts and ends.
type Progress interface {
	Start(name string, index, total int)
	Done(name string, index, total int)
}

// Run runs the collectors in order and returns the inventory. It never
// fails as a whole: every collector's outcome is recorded in
// inv.Collectors. A panicking collector is recovered and marked failed, so
// one bad parser cannot take down a scan.
func Run(ctx context.Context, env *Env, collectors []Collector, progress Progress) *host.Inventory {
	inv := &host.Inventory{
		SchemaVersion: host.SchemaVersion,
		CollectedAt:   env.Now().UTC(),
		Identity:      host.Identity{Root: env.FS.Root(), Live: env.FS.Live()},
		Packages:      []host.Package{},
		Software:      []host.Software{},
		Users:         []host.User{},
		Groups:        []host.Group{},
	}
	for i, c := range collectors {
		if progress != nil {
			progress.Start(c.Name(), i, len(collectors))
		}
		run := host.CollectorRun{Name: c.Name()}
		start := time.Now()
		if err := ctx.Err(); err != nil {
			run.Status, run.Reason = host.StatusSkipped, "canceled: "+err.Error()
		} else {
			runOne(ctx, env, c, inv, &run)
		}
		run.DurationMS = float64(time.Since(start).Microseconds()) / 1000
		inv.Collectors = append(inv.Collectors, run)
		if progress != nil {
			progress.Done(c.Name(), i, len(collectors))
		}
	}
	enrichPackages(inv)
	sortInventory(inv)
	return inv
}

func runOne(ctx context.Context, env *Env, c Collector, inv *host.Inventory, run *host.CollectorRun) {
	cenv := *env
	cenv.run = run
	if cenv.Logger == nil {
		cenv.Logger = slog.New(slog.DiscardHandler)
	}
	err := func() (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("panic: %v", r)
				cenv.Logger.Error("collector panicked", "collector", c.Name(), "panic", r, "stack", string(debug.Stack()))
			}
		}()
		return c.Collect(ctx, &cenv, inv)
	}()
	switch {
	case err == nil && run.ErrorCount > 0:
		run.Status = host.StatusPartial
	case err == nil:
		run.Status = host.StatusOK
	default:
		if na, ok := err.(notApplicable); ok {
			run.Status, run.Reason = host.StatusSkipped, na.reason
		} else {
			run.Status, run.Reason = host.StatusFailed, err.Error()
		}
	}
}

// Now returns the current time from the Env's clock.
func (e *Env) Now() time.Time {
	if e.Clock != nil {
		return e.Clock()
	}
	return time.Now()
}

// sortInventory orders lists so that two scans of the same host produce
// the same document.
func sortInventory(inv *host.Inventory) {
	sort.SliceStable(inv.Packages, func(i, j int) bool {
		a, b := inv.Packages[i], inv.Packages[j]
		if a.Manager != b.Manager {
			return a.Manager < b.Manager
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		if a.Arch != b.Arch {
			return a.Arch < b.Arch
		}
		return a.Version < b.Version
	})
	sort.SliceStable(inv.Software, func(i, j int) bool {
		a, b := inv.Software[i], inv.Software[j]
		if a.Location != b.Location {
			return a.Location < b.Location
		}
		if a.Ecosystem != b.Ecosystem {
			return a.Ecosystem < b.Ecosystem
		}
		return a.Name < b.Name
	})
}
