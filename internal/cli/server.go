package cli

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/kensa-dev/kensa/internal/auth"
	"github.com/kensa-dev/kensa/internal/pki"
	"github.com/kensa-dev/kensa/internal/store"
)

// serverFlags locate a server's state: its data directory (SQLite file,
// certificate authority) and optionally a PostgreSQL database.
type serverFlags struct {
	data, database string
}

func (f *serverFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.data, "data", "", "the server's data `DIR`: its SQLite database (unless --database) and certificate authority (required)")
	cmd.Flags().StringVar(&f.database, "database", "", "a PostgreSQL `URL` (postgres://user:password@host/db) instead of the SQLite file in --data")
}

// open opens the server's store, creating the data directory (0700) and
// the SQLite file when need be.
func (f *serverFlags) open(ctx context.Context) (store.Store, error) {
	if f.data == "" {
		return nil, usageErrorf("--data: give the server's data directory")
	}
	if err := os.MkdirAll(f.data, 0o700); err != nil {
		return nil, fmt.Errorf("--data: %w", err)
	}
	switch {
	case f.database == "":
		return store.OpenSQLite(ctx, filepath.Join(f.data, "kensa.db"))
	case strings.HasPrefix(f.database, "postgres://"), strings.HasPrefix(f.database, "postgresql://"):
		return store.OpenPostgres(ctx, f.database)
	}
	return nil, usageErrorf("--database: want a postgres:// URL (the default is SQLite in --data)")
}

func (a *app) serverCommand() *cobra.Command {
	var (
		sf               serverFlags
		listen           string
		names            []string
		tlsCert, tlsKey  string
		heartbeat, grace time.Duration
		db               dbFlag
	)
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Run the Kensa server, and manage its tokens",
		Long: `kensa server holds the fleet: agents, assessment targets, templates, runs and
findings, behind an HTTPS API (/api/v1, described at /api/v1/openapi.json)
with mutual TLS for agents and tokens for people and scripts. Its state is in
--data DIR (an SQLite database and its certificate authority), or in
PostgreSQL with --database.

On first start the server creates its own certificate authority and a server
certificate for localhost, its loopback addresses and every --name; it prints
the CA's fingerprint, which agents pin on first contact (kensa agent
--ca-fingerprint). Or give your own certificate with --tls-cert and --tls-key.
It also keeps --data/webhook.key, the key that signs its webhook notifications
(X-Kensa-Signature); servers sharing one database must share it.

Tokens are made on the server's machine, with direct access to its data:
  kensa server token create --data DIR --role admin
  kensa server join-token create --data DIR --expires 24h --max-uses 10`,
		Example: `  kensa server --data /var/lib/kensa --listen :8443 --name kensa.example.com`,
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if (tlsCert == "") != (tlsKey == "") {
				return usageErrorf("--tls-cert and --tls-key go together")
			}
			if heartbeat < time.Second || grace < 0 {
				return usageErrorf("--heartbeat at least 1s, --grace not negative")
			}
			return a.runServer(cmd.Context(), serverRun{sf: sf, listen: listen, names: names, tlsCert: tlsCert, tlsKey: tlsKey,
				heartbeat: heartbeat, grace: grace, db: &db})
		},
	}
	sf.register(cmd)
	f := cmd.Flags()
	f.StringVar(&listen, "listen", ":8443", "the `ADDR`ess to serve HTTPS on")
	f.StringArrayVar(&names, "name", nil, "a DNS name or IP agents reach the server by, for its certificate (repeatable)")
	f.StringVar(&tlsCert, "tls-cert", "", "your own server certificate (PEM, with its chain) instead of one from the server's CA")
	f.StringVar(&tlsKey, "tls-key", "", "the key of --tls-cert")
	f.DurationVar(&heartbeat, "heartbeat", 10*time.Second, "how often agents send heartbeats")
	f.DurationVar(&grace, "grace", 2*time.Minute, "how long after a run's window the server waits for agents' documents")
	db.register(cmd, false)
	cmd.AddCommand(a.serverTokenCommand(), a.serverJoinTokenCommand())
	return cmd
}

func (a *app) serverTokenCommand() *cobra.Command {
	var (
		sf             serverFlags
		role, name     string
		expires        time.Duration
		token          = &cobra.Command{Use: "token", Short: "Manage API tokens", Args: noArgs}
		createTokenCmd = &cobra.Command{
			Use:   "create",
			Short: "Create an API token and print it (it is shown once)",
			Long: `Create an API token with a role and print it on stdout. The server keeps only
its hash: store the token now. Roles: admin (everything), operator (targets,
templates, runs, suppressions), viewer (reads only).`,
			Example: `  kensa server token create --data /var/lib/kensa --role admin --name "first admin"`,
			Args:    noArgs,
		}
	)
	createTokenCmd.RunE = func(cmd *cobra.Command, args []string) error {
		r, err := auth.ParseRole(role)
		if err != nil {
			return usageErrorf("--role: %v", err)
		}
		if expires < 0 {
			return usageErrorf("--expires %s: want a positive duration, or 0 for none", expires)
		}
		st, err := sf.open(cmd.Context())
		if err != nil {
			return err
		}
		defer st.Close()
		now := time.Now()
		secret, rec, err := auth.New(auth.KindAPI, now)
		if err != nil {
			return err
		}
		rec.Role, rec.Name = r, name
		if expires > 0 {
			rec.Expires = now.Add(expires).UTC()
		}
		if err := st.CreateToken(cmd.Context(), rec); err != nil {
			return err
		}
		a.infof("API token %s created (role %s); it is shown once", rec.ID, r)
		fmt.Fprintln(a.stdout, secret)
		return nil
	}
	sf.register(createTokenCmd)
	f := createTokenCmd.Flags()
	f.StringVar(&role, "role", "", "admin, operator or viewer (required)")
	f.StringVar(&name, "name", "", "what the token is for, shown in token lists")
	f.DurationVar(&expires, "expires", 0, "how long the token works (720h); 0 for no end")
	createTokenCmd.RegisterFlagCompletionFunc("role", fixedCompletion("admin", "operator", "viewer"))
	token.AddCommand(createTokenCmd)
	return token
}

func (a *app) serverJoinTokenCommand() *cobra.Command {
	var (
		sf      serverFlags
		name    string
		expires time.Duration
		maxUses int
	)
	join := &cobra.Command{Use: "join-token", Short: "Manage join tokens (agent enrolment)", Args: noArgs}
	create := &cobra.Command{
		Use:   "create",
		Short: "Create a join token and print it (it is shown once)",
		Long: `Create a token agents enrol with (kensa agent --join-token T) and print it on
stdout. It expires (--expires, 24h by default) and can be limited to a number
of enrolments (--max-uses 1: single use).`,
		Example: `  kensa server join-token create --data /var/lib/kensa --max-uses 1`,
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if expires <= 0 {
				return usageErrorf("--expires %s: join tokens must expire; give a positive duration", expires)
			}
			if maxUses < 0 {
				return usageErrorf("--max-uses %d: want 0 (no bound) or more", maxUses)
			}
			st, err := sf.open(cmd.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			now := time.Now()
			secret, rec, err := auth.New(auth.KindJoin, now)
			if err != nil {
				return err
			}
			rec.Name, rec.Expires, rec.MaxUses = name, now.Add(expires).UTC(), maxUses
			if err := st.CreateToken(cmd.Context(), rec); err != nil {
				return err
			}
			a.infof("join token %s created: expires %s, %s", rec.ID, rec.Expires.Format(time.RFC3339), usesPhrase(maxUses))
			if fp, err := caFingerprint(sf.data); err == nil {
				a.infof("agents verify the server with --ca-fingerprint %s (or --ca %s)", fp, filepath.Join(sf.data, "pki", pki.CACertFile))
			} else {
				a.infof("the server has no CA yet (it makes one on first start): agents will need its fingerprint, which kensa server logs")
			}
			fmt.Fprintln(a.stdout, secret)
			return nil
		},
	}
	sf.register(create)
	f := create.Flags()
	f.StringVar(&name, "name", "", "what the token is for")
	f.DurationVar(&expires, "expires", 24*time.Hour, "how long the token works")
	f.IntVar(&maxUses, "max-uses", 0, "enrolments allowed (1: single use); 0 for no bound until it expires")
	join.AddCommand(create)
	return join
}

func usesPhrase(n int) string {
	switch n {
	case 0:
		return "any number of enrolments"
	case 1:
		return "single use"
	}
	return fmt.Sprintf("%d enrolments", n)
}

// caFingerprint is the fingerprint of the server's CA in its data
// directory, for agents to pin.
func caFingerprint(data string) (string, error) {
	b, err := os.ReadFile(filepath.Join(data, "pki", pki.CACertFile))
	if err != nil {
		return "", err
	}
	block, _ := pem.Decode(b)
	if block == nil {
		return "", fmt.Errorf("%s: not PEM", pki.CACertFile)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return "", err
	}
	return pki.Fingerprint(cert), nil
}
