package agent

import (
	"context"
	"net/http"
	"time"

	"github.com/kensa-dev/kensa/internal/agentapi"
)

// uploader sends what the spool holds until ctx ends: at once when a run
// adds to it, and after a failure again after a backoff. first is the
// outcome of the pass Run made before starting it.
func (a *Agent) uploader(ctx context.Context, c *client, first error) {
	bo := a.newBackoff()
	err := first
	for {
		if err != nil {
			if !sleep(ctx, bo.next()) {
				return
			}
		} else {
			bo.reset()
			select {
			case <-ctx.Done():
				return
			case <-a.wakeUpload:
			}
		}
		err = a.drain(ctx, c)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			a.log.Warn("upload failed; the documents stay in the spool and are sent later", "err", err)
			a.cfg.trace(evUploadFailed)
		}
	}
}

// drain sends the spool's entries in order, stopping at the first that
// fails in a way worth retrying (no connection, a 5xx answer), which it
// returns. An entry the server refuses for good (a 4xx answer: the run
// is unknown or over) is dropped, and logged as an error. Once ctx ends
// no further entry is started; the one in flight has the shutdown grace
// to finish.
func (a *Agent) drain(ctx context.Context, c *client) error {
	entries, errs := a.spool.list()
	for _, err := range errs {
		a.log.Error("a spool entry cannot be read; it is left in place", "err", err)
	}
	for _, e := range entries {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if a.wasCanceled(e.meta.RunID) {
			// Canceled since the listing: its entries are dropped (by
			// cancelRun; this is in case the listing was older).
			a.spool.remove(e)
			continue
		}
		sctx, cancel := withGrace(ctx, a.cfg.ShutdownGrace)
		sendErr := a.send(sctx, c, e)
		cancel()
		switch {
		case sendErr != nil && !permanent(sendErr):
			return sendErr
		case sendErr != nil:
			a.log.Error("the server refused a spooled entry for good; it is dropped", "kind", e.meta.Kind, "run", e.meta.RunID, "err", sendErr)
		case e.meta.Kind == agentapi.KindInventory:
			if err := a.keepLastInventory(e); err != nil {
				a.log.Warn("cannot keep the last inventory: the next one is sent whole", "err", err)
			}
		}
		if err := a.spool.remove(e); err != nil {
			return err
		}
		if sendErr == nil {
			a.cfg.trace(evSent)
		}
	}
	return nil
}

// send delivers one entry: a done report, or a document: asked for by
// its SHA-256 (HEAD: 200 the server has it, 404 not), sent compressed
// when the server lacks it (PUT), then recorded for its run with its
// idempotency key (POST uploads).
func (a *Agent) send(ctx context.Context, c *client, e entry) error {
	m := e.meta
	if m.Kind == kindDone {
		return c.postJSON(ctx, donePath, nil, agentapi.WorkDone{RunID: m.RunID, Error: m.Error, ObservationError: m.ObservationError}, nil)
	}
	blob := blobsPath + m.SHA256
	err := c.do(ctx, request{method: http.MethodHead, path: blob})
	switch {
	case err == nil:
		a.log.Debug("the server has the document already: not sent again", "kind", m.Kind, "run", m.RunID, "sha256", m.SHA256)
	case statusOf(err) == http.StatusNotFound:
		started := time.Now()
		err := c.do(ctx, request{
			method: http.MethodPut, path: blob, body: e.body, length: e.size - e.offset,
			header: map[string]string{"Content-Type": "application/gzip"},
		})
		if err != nil {
			return err
		}
		a.log.Debug("document sent", "kind", m.Kind, "run", m.RunID, "bytes", m.Size, "compressed", e.size-e.offset, "took", time.Since(started).Round(time.Millisecond))
	default:
		return err
	}
	return c.postJSON(ctx, uploadsPath, nil, agentapi.Upload{RunID: m.RunID, Kind: m.Kind, Key: m.Key, SHA256: m.SHA256}, nil)
}
