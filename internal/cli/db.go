package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"strings"
	"text/tabwriter"
	"time"

	"github.com/kensa-dev/kensa/internal/report"
	"github.com/kensa-dev/kensa/internal/rules/cve"
	"github.com/kensa-dev/kensa/internal/vulndb"
	"github.com/spf13/cobra"
)

// dbFlag is the --db flag shared by `kensa db` and `kensa scan`.
type dbFlag struct{ path string }

func (d *dbFlag) register(cmd *cobra.Command, persistent bool) {
	f := cmd.Flags()
	if persistent {
		f = cmd.PersistentFlags()
	}
	f.StringVar(&d.path, "db", "", "vulnerability database `FILE` (default $KENSA_DB, else ~/.cache/kensa/vulndb.sqlite)")
}

func (d *dbFlag) resolve() (string, error) {
	if d.path != "" {
		return d.path, nil
	}
	return vulndb.DefaultPath()
}

func (a *app) dbCommand() *cobra.Command {
	var d dbFlag
	cmd := &cobra.Command{
		Use:   "db",
		Short: "Manage the local vulnerability database",
		Long: `Manage the local vulnerability database: a SQLite file holding the advisories
of every feed imported, used by the cve rules package of kensa scan.

Feeds come from files you have (kensa db import) or from the feeds' official
locations or a mirror of them (kensa db update). Each feed is replaced in one
transaction: a failed or interrupted import leaves the previous data usable.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	d.register(cmd, true)
	cmd.AddCommand(a.dbImportCommand(&d), a.dbStatusCommand(&d), a.dbUpdateCommand(&d))
	return cmd
}

func (a *app) dbImportCommand(d *dbFlag) *cobra.Command {
	return &cobra.Command{
		Use:   "import PATH...",
		Short: "Import vulnerability feeds from files or directories",
		Long: `Import vulnerability feeds from files, directories or zip archives. The format
is detected from the content:

  OSV              an ecosystem's all.zip, a directory of OSV JSON records, or one record
                   (Go, PyPI, npm, Maven, crates.io, Debian, Ubuntu, AlmaLinux, Rocky Linux,
                   Red Hat, Alpine, ... every ecosystem OSV publishes)
  Ubuntu cvescan   the per-release JSON databases (ubuntu-vuln-db-<codename>.json[.bz2])
  Alpine secdb     <release>/<repository>.yaml or .json
  Debian tracker   the security tracker's JSON, or its data/DSA/list and data/DLA/list
  Amazon ALAS      a yum repository's updateinfo.xml[.gz]
  CISA KEV         known_exploited_vulnerabilities.json

gzip and bzip2 files are read directly. Importing a feed again replaces it.`,
		Example: `  kensa db import ~/feeds/Go/all.zip ~/feeds/kev/known_exploited_vulnerabilities.json
  kensa db import ../shared/vulndata        # every feed under a directory`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, p := range args {
				if _, err := os.Stat(p); err != nil {
					return fmt.Errorf("import: %w (nothing imported)", err)
				}
			}
			path, err := d.resolve()
			if err != nil {
				return err
			}
			store, err := vulndb.Open(cmd.Context(), path)
			if err != nil {
				return err
			}
			defer store.Close()
			var failed []string
			for _, p := range args {
				start := time.Now()
				res, err := store.Import(cmd.Context(), p, vulndb.SourceMeta{})
				for _, src := range res.Sources {
					a.infof("imported %s: %d records (%d vulnerabilities)%s", src.Name, src.Records, src.Vulnerabilities, ecosystemsNote(src.Ecosystems))
				}
				for _, s := range res.Skipped {
					a.infof("skipped %s", s)
				}
				if err != nil {
					if cmd.Context().Err() != nil {
						return fmt.Errorf("interrupted: %w (feeds imported before it are kept; the one being imported keeps its previous data)", err)
					}
					fmt.Fprintf(a.stderr, "kensa: %v\n", err)
					failed = append(failed, p)
					continue
				}
				a.infof("%s: %d feed(s) in %s", p, len(res.Sources), time.Since(start).Round(time.Millisecond))
			}
			if len(failed) > 0 {
				return fmt.Errorf("%d of %d path(s) failed to import (%s); the database keeps everything else", len(failed), len(args), strings.Join(failed, ", "))
			}
			a.infof("database: %s", store.Path())
			return nil
		},
	}
}

func ecosystemsNote(ecos []string) string {
	switch {
	case len(ecos) == 0:
		return ""
	case len(ecos) > 6:
		return fmt.Sprintf(" for %s and %d more ecosystems", strings.Join(ecos[:6], ", "), len(ecos)-6)
	}
	return " for " + strings.Join(ecos, ", ")
}

// infof prints progress to stderr unless --quiet.
func (a *app) infof(format string, args ...any) {
	if !a.quiet {
		fmt.Fprintf(a.stderr, format+"\n", args...)
	}
}

func (a *app) dbStatusCommand(d *dbFlag) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the feeds in the vulnerability database and their age",
		Long: `Show, per feed: records, vulnerabilities, the newest record, when the data was
generated, the last update (import, or a check that found it unchanged) and the
data's age. A feed older than 7 days is flagged STALE: it may miss recent
vulnerabilities.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "table" && format != "json" {
				return usageErrorf("--format %q: want table or json", format)
			}
			path, err := d.resolve()
			if err != nil {
				return err
			}
			store, err := vulndb.OpenExisting(cmd.Context(), path)
			if errors.Is(err, vulndb.ErrNotFound) {
				return fmt.Errorf("%w: run `kensa db update`, or `kensa db import PATH` with feed files", err)
			}
			if err != nil {
				return err
			}
			defer store.Close()
			srcs, err := store.Sources(cmd.Context())
			if err != nil {
				return err
			}
			now := time.Now().UTC()
			if format == "json" {
				type row struct {
					vulndb.Source
					AgeHours float64 `json:"age_hours"`
					Stale    bool    `json:"stale"`
				}
				out := struct {
					Database string `json:"database"`
					Sources  []row  `json:"sources"`
				}{Database: path, Sources: []row{}}
				for _, s := range srcs {
					age := now.Sub(dataTimeOrImport(s))
					out.Sources = append(out.Sources, row{Source: s, AgeHours: float64(age.Round(time.Hour) / time.Hour), Stale: age > cve.StaleAfter})
				}
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(out)
			}
			return writeStatus(a.stdout, path, srcs, now)
		},
	}
	cmd.Flags().StringVarP(&format, "format", "f", "table", "output format: table or json")
	cmd.RegisterFlagCompletionFunc("format", fixedCompletion("table", "json"))
	return cmd
}

func dataTimeOrImport(s vulndb.Source) time.Time {
	if t := s.DataTime(); !t.IsZero() {
		return t
	}
	return s.ImportedAt
}

func writeStatus(w io.Writer, path string, srcs []vulndb.Source, now time.Time) error {
	fmt.Fprintf(w, "Database: %s\n", path)
	if len(srcs) == 0 {
		fmt.Fprintln(w, "No feeds imported: run `kensa db update`, or `kensa db import PATH`.")
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "FEED\tFORMAT\tRECORDS\tVULNS\tNEWEST RECORD\tGENERATED\tLAST UPDATE\tAGE")
	stale := 0
	for _, s := range srcs {
		age := now.Sub(dataTimeOrImport(s))
		ageText := report.FormatAge(age)
		if s.DataTime().IsZero() {
			ageText += " (since import: the feed does not date its data)"
		}
		if age > cve.StaleAfter {
			ageText += "  STALE"
			stale++
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%s\t%s\t%s\n", s.Name, s.Format, s.Records, s.Vulnerabilities,
			dateOrDash(s.NewestRecord), dateOrDash(s.Generated), s.CheckedAt.Format("2006-01-02 15:04"), ageText)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if stale > 0 {
		fmt.Fprintf(w, "\nWarning: %d feed(s) older than 7 days may miss recent vulnerabilities: run `kensa db update`.\n", stale)
	}
	return nil
}

func dateOrDash(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Format("2006-01-02")
}

// openVulnDB opens the store a scan matches against. A missing or unusable
// store is not an error of the scan: the CVE coverage says why nothing
// was matched, and the scan goes on.
func openVulnDB(cmd *cobra.Command, d *dbFlag) (*vulndb.Store, string, error) {
	path, err := d.resolve()
	if err != nil {
		return nil, "", err
	}
	store, err := vulndb.OpenExisting(cmd.Context(), path)
	if err != nil {
		return nil, path, err
	}
	return store, path, nil
}
