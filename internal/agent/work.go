package agent

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/kensa-dev/kensa/internal/agentapi"
	"github.com/kensa-dev/kensa/internal/assess"
	"github.com/kensa-dev/kensa/internal/finding"
	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/hostfs"
	"github.com/kensa-dev/kensa/internal/observe"
	"github.com/kensa-dev/kensa/internal/observe/watch"
)

// collection is what a run's work produced.
type collection struct {
	inv    *host.Inventory
	obs    *observe.Observations
	obsErr error // why the runtime window could not run, if it was wanted
}

// work collects for a run and spools the documents, then the report that
// the work is done. ctx is the agent's, wctx the work's (ended by the
// server's cancel too). When the agent stops meanwhile, nothing is
// spooled: a partial inventory is not an inventory, and the server offers
// the work again or gives up at its deadline.
func (a *Agent) work(ctx, wctx context.Context, w agentapi.Work) {
	a.log.Info("collecting for a run", "run", w.RunID, "packages", w.Packages, "window", w.Duration)
	started := time.Now()
	col, err := a.collect(wctx, w)
	a.mu.Lock()
	canceled := a.canceled
	a.mu.Unlock()
	switch {
	case ctx.Err() != nil:
		a.log.Info("stopping: the run's collection is abandoned", "run", w.RunID)
		return
	case canceled:
		a.log.Info("collection stopped: the server canceled the run", "run", w.RunID)
		return
	}
	done := entryMeta{Kind: kindDone, RunID: w.RunID, Spooled: time.Now().UTC()}
	if err != nil {
		done.Error = truncate(err.Error(), 4096)
		a.log.Error("collection failed", "run", w.RunID, "err", err)
	} else {
		if col.obsErr != nil {
			done.ObservationError = truncate(col.obsErr.Error(), 4096)
			a.log.Warn("the observation window could not run: the runtime package is not evaluated", "run", w.RunID, "err", col.obsErr)
		}
		if err := a.spoolDocuments(w.RunID, col); err != nil {
			done.Error = truncate(err.Error(), 4096)
			a.log.Error("a document of the run could not be kept for upload", "run", w.RunID, "err", err)
		}
	}
	if err := a.spool.add(done, nil); err != nil {
		// Only a broken disk gets here (done reports are not bounded):
		// the server gives up on the run at its deadline.
		a.log.Error("the run's outcome could not be kept for upload", "run", w.RunID, "err", err)
		return
	}
	a.mu.Lock()
	if err := a.runs.add(w.RunID); err != nil {
		a.log.Warn("cannot record the finished run", "run", w.RunID, "err", err)
	}
	a.mu.Unlock()
	a.log.Info("collection done", "run", w.RunID, "took", time.Since(started).Round(time.Millisecond), "failed", done.Error != "")
	a.cfg.trace(evSpooled)
	wake(a.wakeUpload)
}

// collect runs the collectors the work's packages need and, for the
// runtime package on a live host, the observation window alongside (as
// kensa scan does). With --root the runtime package is not observed: the
// server excludes it for an image anyway.
func (a *Agent) collect(ctx context.Context, w agentapi.Work) (collection, error) {
	var col collection
	pkgs, err := assess.ParsePackages(w.Packages)
	if err != nil {
		return col, err
	}
	fsys, err := hostfs.Open(a.root)
	if err != nil {
		return col, err
	}
	var window chan struct{}
	if a.live && slices.Contains(pkgs, finding.PackageRuntime) {
		if w.Duration <= 0 {
			col.obsErr = errors.New("the work named the runtime package without an observation window")
		} else {
			window = make(chan struct{})
			opts := watch.Options{Duration: w.Duration, Self: os.Getpid(), Logger: a.log}
			go func() {
				defer close(window)
				col.obs, col.obsErr = watch.Run(ctx, opts)
			}()
		}
	}
	inv, err := assess.Inventory(ctx, assess.Options{
		Root: a.root, Packages: pkgs, Discovery: a.cfg.Discovery, Updates: a.cfg.Updates, Logger: a.log,
	})
	if window != nil {
		<-window // orders the goroutine's writes before these reads
	}
	if err != nil {
		return col, err
	}
	if err := ctx.Err(); err != nil {
		return col, err
	}
	if a.cfg.Hostname != "" {
		inv.Identity.Hostname = a.cfg.Hostname
	}
	if col.obs != nil {
		assess.SetOrigins(fsys, inv, col.obs)
	}
	col.inv = inv
	return col, nil
}

// spoolDocuments writes the run's documents to the spool: the inventory
// (as the last one recorded, when its content has not changed) and the
// observations, if any.
func (a *Agent) spoolDocuments(runID string, col collection) error {
	body, err := json.Marshal(col.inv)
	if err != nil {
		return fmt.Errorf("inventory: %w", err)
	}
	if len(body) > agentapi.MaxBlobBytes {
		return fmt.Errorf("inventory: %d bytes, more than the %d a document may have", len(body), agentapi.MaxBlobBytes)
	}
	m := entryMeta{Kind: agentapi.KindInventory, RunID: runID, Key: newKey(), Content: contentHash(col.inv), Spooled: time.Now().UTC()}
	if err := a.spoolInventory(m, body); err != nil {
		return fmt.Errorf("inventory: %w", err)
	}
	if col.obs == nil {
		return nil
	}
	if body, err = json.Marshal(col.obs); err != nil {
		return fmt.Errorf("observations: %w", err)
	}
	if len(body) > agentapi.MaxBlobBytes {
		return fmt.Errorf("observations: %d bytes, more than the %d a document may have", len(body), agentapi.MaxBlobBytes)
	}
	m = entryMeta{Kind: agentapi.KindObservations, RunID: runID, Key: newKey(), SHA256: sha256Hex(body), Size: int64(len(body)), Spooled: time.Now().UTC()}
	if err := a.spool.add(m, body); err != nil {
		return fmt.Errorf("observations: %w", err)
	}
	return nil
}

// spoolInventory spools an inventory. An inventory whose content is the
// last recorded one's is spooled as that one, byte for byte: the server
// has it (the upload asks first), so it is not sent again. Every
// collection differs in its time and durations, so without this no
// inventory would ever be unchanged.
func (a *Agent) spoolInventory(m entryMeta, body []byte) error {
	a.lastMu.Lock()
	defer a.lastMu.Unlock()
	last, err := readEntry(filepath.Join(a.cfg.StateDir, LastInventoryFile))
	if err == nil && m.Content != "" && last.meta.Content == m.Content && last.meta.SHA256 != "" {
		m.SHA256, m.Size = last.meta.SHA256, last.meta.Size
		return a.spool.addCopy(m, last)
	}
	m.SHA256, m.Size = sha256Hex(body), int64(len(body))
	return a.spool.add(m, body)
}

// keepLastInventory makes a recorded inventory entry the last one: a
// hard link of its spool file (a copy where links fail), renamed into
// place.
func (a *Agent) keepLastInventory(e entry) error {
	a.lastMu.Lock()
	defer a.lastMu.Unlock()
	dst := filepath.Join(a.cfg.StateDir, LastInventoryFile)
	tmp := dst + ".tmp"
	os.Remove(tmp)
	if err := os.Link(e.path, tmp); err != nil {
		rc, err := os.ReadFile(e.path)
		if err != nil {
			return err
		}
		if err := writeFileAtomic(dst, rc, fileMode); err != nil {
			return err
		}
		return nil
	}
	if err := os.Rename(tmp, dst); err != nil {
		os.Remove(tmp)
		return err
	}
	return syncDir(a.cfg.StateDir)
}

// contentHash is the SHA-256 of an inventory without what changes at
// every collection of an unchanged host: its collection time and the
// collectors' durations.
func contentHash(inv *host.Inventory) string {
	c := *inv
	c.CollectedAt = time.Time{}
	c.Collectors = slices.Clone(inv.Collectors)
	for i := range c.Collectors {
		c.Collectors[i].DurationMS = 0
	}
	if inv.Config != nil && inv.Config.FSWalk != nil {
		cfg := *inv.Config
		walk := *cfg.FSWalk
		walk.DurationMS = 0
		cfg.FSWalk = &walk
		c.Config = &cfg
	}
	b, err := json.Marshal(&c)
	if err != nil {
		return ""
	}
	return sha256Hex(b)
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}
