package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"time"

	"github.com/kensa-dev/kensa/internal/assess"
	"github.com/kensa-dev/kensa/internal/buildinfo"
	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/observe"
	"github.com/kensa-dev/kensa/internal/pki"
	"github.com/kensa-dev/kensa/internal/report"
	"github.com/kensa-dev/kensa/internal/rules"
	"github.com/kensa-dev/kensa/internal/server"
	"github.com/kensa-dev/kensa/internal/vulndb"
)

type serverRun struct {
	sf               serverFlags
	listen           string
	names            []string
	tlsCert, tlsKey  string
	heartbeat, grace time.Duration
	db               *dbFlag
}

// runServer runs kensa server until ctx ends (SIGINT, SIGTERM), then
// stops taking requests and lets those in flight finish.
func (a *app) runServer(ctx context.Context, o serverRun) error {
	log := a.serviceLogger()
	st, err := o.sf.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	var opts pki.Options
	for _, n := range o.names {
		if ip := net.ParseIP(n); ip != nil {
			opts.IPs = append(opts.IPs, ip)
		} else {
			opts.DNSNames = append(opts.DNSNames, n)
		}
	}
	opts.CertFile, opts.KeyFile = o.tlsCert, o.tlsKey
	ca, changes, err := pki.LoadOrCreate(filepath.Join(o.sf.data, "pki"), opts, time.Now())
	if err != nil {
		return err
	}
	if changes.CreatedCA {
		log.Info("created the server's certificate authority", "dir", filepath.Join(o.sf.data, "pki"))
	}
	if changes.IssuedServer {
		log.Info("issued the server certificate", "reason", changes.Reason)
	}
	log.Info("CA fingerprint, for kensa agent --ca-fingerprint", "fingerprint", pki.Fingerprint(ca.CA()))
	webhookKey, created, err := server.LoadOrCreateWebhookKey(o.sf.data)
	if err != nil {
		return err
	}
	if created {
		log.Info("created the key that signs webhooks: give it to their receivers", "file", filepath.Join(o.sf.data, server.WebhookKeyFile))
	}

	all, err := rules.Load()
	if err != nil {
		return err
	}
	support := server.Support{Rules: all}
	dbPath, err := o.db.resolve()
	if err != nil {
		return err
	}
	vdb, dbErr := vulndb.OpenExisting(ctx, dbPath)
	if dbErr != nil {
		log.Warn("no vulnerability database: the cve package excludes every agent (NO_FEED_DATA) until there is one", "db", dbPath, "error", dbErr)
		support.DBError = dbErr
	} else {
		defer vdb.Close()
		support.Ecosystems = vdb.Ecosystems
	}
	bi := buildinfo.Get()
	tool := report.Tool{Name: "kensa", Version: bi.Version, Commit: bi.Commit}
	evaluate := func(ctx context.Context, inv *host.Inventory, obs *observe.Observations, obsErr error, pkgs []string) (*report.Report, error) {
		opts := assess.Options{Packages: pkgs, Observations: obs, ObservationError: obsErr, Tool: tool, Logger: log, Clock: time.Now, DBPath: dbPath, DBError: dbErr}
		if vdb != nil {
			snap, err := vdb.Snapshot(ctx)
			if err != nil {
				return nil, err
			}
			defer snap.Close()
			opts.VulnDB = snap
		}
		return assess.Evaluate(ctx, inv, opts)
	}
	notifier := server.NewNotifier(server.NotifierConfig{Store: st, Key: webhookKey, Now: time.Now, Log: log})
	ecfg := server.EngineConfig{Store: st, Support: support, Evaluate: evaluate, Now: time.Now, Log: log, Grace: o.grace, NewID: server.NewID,
		Notify: notifier.Poke}
	if vdb != nil {
		ecfg.FeedsGeneration = func(ctx context.Context) (string, error) { return feedsGeneration(ctx, vdb) }
	}
	engine := server.NewEngine(ecfg)
	srv := server.New(server.Config{Store: st, Authority: ca, Engine: engine, Now: time.Now, Log: log,
		NewID: server.NewID, HeartbeatInterval: o.heartbeat})

	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return fmt.Errorf("--listen %s: %w", o.listen, err)
	}
	hs := &http.Server{
		Handler:           srv.Handler(),
		TLSConfig:         ca.ServerTLSConfig(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() { engine.Run(ctx, time.Second) })
	wg.Go(func() { notifier.Run(ctx, time.Second) })
	log.Info("kensa server listening", "addr", ln.Addr().String(), "data", o.sf.data)
	errc := make(chan error, 1)
	go func() { errc <- hs.ServeTLS(ln, "", "") }()
	select {
	case err = <-errc:
	case <-ctx.Done():
		log.Info("kensa server stopping: finishing the requests in flight")
		shut, stop := context.WithTimeout(context.Background(), 30*time.Second)
		defer stop()
		err = hs.Shutdown(shut)
	}
	cancel()
	wg.Wait()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// feedsGeneration names the vulnerability database's data: each source
// and when it was last imported. An import or update changes it.
func feedsGeneration(ctx context.Context, db *vulndb.Store) (string, error) {
	srcs, err := db.Sources(ctx)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	for _, s := range srcs {
		fmt.Fprintf(h, "%s\x00%s\x00%s\x00%d\n", s.Name, s.ImportedAt.UTC().Format(time.RFC3339Nano), s.Generated.UTC().Format(time.RFC3339Nano), s.Records)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
