package cli

import (
	"cmp"
	"errors"
	"os"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/kensa-dev/kensa/internal/agent"
	"github.com/kensa-dev/kensa/internal/collect"
	"github.com/kensa-dev/kensa/internal/collect/aptchangelog"
	"github.com/kensa-dev/kensa/internal/fleet"
)

func (a *app) agentCommand() *cobra.Command {
	var (
		cfg        agent.Config
		tags       []string
		limits     agent.Limits
		ioClass    string
		noDownload bool
		debCache   string
	)
	cmd := &cobra.Command{
		Use:   "agent",
		Short: "Run the Kensa agent: enrol with a server, heartbeat, collect and upload",
		Long: `kensa agent is the service on each host of a fleet. On its first start it
enrols with the server (--server) with a join token (kensa server join-token
create): it makes its own key, which never leaves the host, and gets a client
certificate; both are kept in --state with its agent id. From then on every
connection is mutual TLS and no join token is needed.

On first contact the agent must be able to verify the server: give its CA
certificate with --ca FILE, or pin the CA's fingerprint with --ca-fingerprint
(printed by kensa server join-token create). Without either it refuses to
send its join token.

It heartbeats with its health, version, OS, kernel and addresses, takes work
from the server, runs the collectors the run's rules packages need (and, on a
live host, the runtime observation window for the run's duration), and
uploads the inventory and observations. Every document is kept in the spool
(--state/spool) until the server has recorded it: while the server cannot be
reached the agent retries with backoff, and after a restart it sends the
spool first. An unchanged inventory is not sent again. The spool holds at most
100 documents or 1 GiB; when full the agent reports itself UNHEALTHY
(SPOOL_FULL) and the runs it could not keep as failed.

With --root the agent assesses an image or a mounted root file system instead
of this host; it cannot be observed, so the runtime package is excluded.
--hostname names it (its etc/hostname may be a template's).

The agent stays out of the host's way: --nice lowers its CPU priority,
--io-class its disk priority (idle: only when no other process reads; the
default best-effort at its lowest level), and --cpu-limit caps the cores its
code runs on at once (GOMAXPROCS; the systemd unit's CPUQuota is the hard
quota). HTTPS_PROXY and NO_PROXY are honoured. It runs until SIGTERM or
Ctrl-C, letting the upload in flight finish (or stay in the spool).

Environment: KENSA_SERVER, KENSA_JOIN_TOKEN, KENSA_CA and KENSA_CA_FINGERPRINT
stand for the flags of the same names (a join token on the command line
shows in the process list; the systemd unit takes it from
/etc/default/kensa-agent).`,
		Example: `  kensa agent --server https://kensa.example:8443 --join-token kensa_join_... \
      --ca-fingerprint SHA256:3f5a... --tag env=prod --tag role=db
  kensa agent --server https://kensa.example:8443    # later starts: the enrolment is in --state
  kensa agent --server https://10.0.0.5:8443 --join-token ... --ca /etc/kensa/ca.crt \
      --root /mnt/image --hostname golden-image --state /var/lib/kensa-agent-image`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg.Server = cmp.Or(cfg.Server, os.Getenv("KENSA_SERVER"))
			cfg.JoinToken = cmp.Or(cfg.JoinToken, os.Getenv("KENSA_JOIN_TOKEN"))
			cfg.CAFile = cmp.Or(cfg.CAFile, os.Getenv("KENSA_CA"))
			cfg.CAFingerprint = cmp.Or(cfg.CAFingerprint, os.Getenv("KENSA_CA_FINGERPRINT"))
			if cfg.Server == "" {
				return usageErrorf("--server: give the server's URL (https://host:port), or set KENSA_SERVER")
			}
			if cmd.Flags().Changed("root") && cfg.Root == "" {
				return usageErrorf("--root: empty directory name (an unset variable?); omit --root to assess this host")
			}
			var err error
			if cfg.Tags, err = fleet.ParseTags(tags); err != nil {
				return usageErrorf("--tag: %v", err)
			}
			switch ioClass {
			case "none":
				limits.IOClass = ""
			default:
				limits.IOClass = ioClass
			}
			if err := limits.Check(); err != nil {
				return usageErrorf("%v", err)
			}
			cfg.Discovery = collect.DefaultDiscovery()
			cfg.Updates = aptchangelog.Options{NoDownload: noDownload, CacheDir: debCache}
			cfg.Logger = a.serviceLogger()
			ag, err := agent.New(cfg)
			if err != nil {
				return usageErrorf("%v", err)
			}
			// Process-wide bounds, set before the agent starts its
			// goroutines (and threads): see agent.Limits.
			did, err := agent.ApplyLimits(limits)
			if err != nil {
				return err
			}
			if os.Getenv("GOMEMLIMIT") == "" {
				debug.SetMemoryLimit(collectionMemoryLimit)
			}
			cfg.Logger.Info("resource limits", "applied", did)
			err = ag.Run(cmd.Context())
			if errors.Is(err, agent.ErrNoTrust) || errors.Is(err, agent.ErrNotEnrolled) {
				return usageErrorf("%v", err)
			}
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Server, "server", "", "the server's `URL` (https://host:port; or KENSA_SERVER)")
	f.StringVar(&cfg.JoinToken, "join-token", "", "the join `TOKEN` to enrol with on the first start (or KENSA_JOIN_TOKEN)")
	f.StringArrayVar(&tags, "tag", nil, "label the agent with `KEY=VALUE` (repeatable; sent at enrolment)")
	f.StringVar(&cfg.StateDir, "state", agent.DefaultStateDir, "keep the enrolment (key, certificate, agent id) and the spool in `DIR`")
	f.StringVar(&cfg.Root, "root", "", "assess the image or root file system in `DIR` instead of this host (not observed: no runtime package)")
	f.StringVar(&cfg.Hostname, "hostname", "", "name the host `NAME` in the enrolment and every inventory (default: the host's, or the image's etc/hostname)")
	f.StringVar(&cfg.CAFile, "ca", "", "verify the server with the CA certificate in `FILE` (PEM; or KENSA_CA)")
	f.StringVar(&cfg.CAFingerprint, "ca-fingerprint", "", "verify the server by its CA's fingerprint, `SHA256:HEX` as kensa server join-token create prints it (or KENSA_CA_FINGERPRINT)")
	f.IntVar(&limits.Nice, "nice", 10, "CPU scheduling niceness of the agent, 1 (highest) to 19 (lowest); 0 leaves it")
	f.StringVar(&ioClass, "io-class", agent.IOClassBestEffort, "I/O scheduling class: best-effort (at its lowest level), idle (only when the disk is otherwise unused), or none")
	f.Float64Var(&limits.CPULimit, "cpu-limit", 0.5, "run the agent's code on at most this fraction of the cores at once (GOMAXPROCS, at least 1); 0 for no limit")
	f.BoolVar(&noDownload, "no-download", false, "Debian/Ubuntu: do not download pending updates' packages to read their changelogs (the feed-free CVE method)")
	f.StringVar(&debCache, "deb-cache", "", "where downloaded packages are kept for their changelogs (`DIR`; default /var/cache/kensa/debs)")
	cmd.MarkFlagDirname("state")
	cmd.MarkFlagDirname("root")
	cmd.MarkFlagFilename("ca")
	cmd.RegisterFlagCompletionFunc("io-class", fixedCompletion(agent.IOClassBestEffort, agent.IOClassIdle, "none"))
	return cmd
}
