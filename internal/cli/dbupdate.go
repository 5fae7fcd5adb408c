package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/kensa-dev/kensa/internal/assess"
	"github.com/kensa-dev/kensa/internal/buildinfo"
	"github.com/kensa-dev/kensa/internal/collect"
	"github.com/kensa-dev/kensa/internal/feed/fetch"
	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/vulndb"
	"github.com/spf13/cobra"
)

func (a *app) dbUpdateCommand(d *dbFlag) *cobra.Command {
	var (
		ecosystems []string
		mirror     string
		root       string
		stall      time.Duration
		retries    int
		list       bool
	)
	cmd := &cobra.Command{
		Use:   "update",
		Short: "Download the feeds this host needs (or those named) and import them",
		Long: `Download vulnerability feeds from their official public locations, or from a
mirror, and import them. Without --ecosystems, the feeds are those the host
needs: its distribution's (from its os-release) and those of the software found
on it (Go, PyPI, npm, Maven), plus CISA's Known Exploited Vulnerabilities.

Requests are conditional (ETag, Last-Modified): an unchanged feed is not
downloaded again. Each download is checked (size cap, Content-Length, the
publisher's checksum where one is published), written to a temporary file and
imported in one transaction, so a truncated, stalled or failed download leaves
the previous data of that feed usable.

--mirror replaces the official locations with a URL or a directory laid out as
<mirror>/<feed path>: run with --list to see each feed's path and URL.`,
		Example: `  kensa db update
  kensa db update --ecosystems Debian:12,Go,PyPI
  kensa db update --mirror https://mirror.example.org/kensa-feeds
  kensa db update --mirror /srv/feeds --ecosystems AlmaLinux:9`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			ecos := ecosystems
			if len(ecos) == 0 {
				inv, err := assess.Inventory(ctx, assess.Options{Root: root, Logger: a.logger, Discovery: collect.DefaultDiscovery()})
				if err != nil {
					return err
				}
				ecos = hostEcosystems(inv)
				a.infof("ecosystems of %s: %s", root, strings.Join(ecos, ", "))
				if un := fetch.Uncovered(ecos); len(un) > 0 {
					a.infof("no public feed is known for: %s", strings.Join(un, ", "))
				}
			}
			var feeds []fetch.Feed
			var err error
			if len(ecosystems) > 0 {
				feeds, err = fetch.Select(nil, ecosystems)
			} else {
				feeds, err = fetch.Select(ecos, nil)
			}
			if err != nil {
				return usageErrorf("%v", err)
			}
			if list {
				for _, f := range feeds {
					fmt.Fprintf(a.stdout, "%s\t%s\t%s\n", f.Name, f.Path, f.URL)
				}
				return nil
			}
			path, err := d.resolve()
			if err != nil {
				return err
			}
			store, err := vulndb.Open(ctx, path)
			if err != nil {
				return err
			}
			defer store.Close()
			if retries < 0 {
				return usageErrorf("--retries %d: want 0 or more", retries)
			}
			n := retries
			if n == 0 {
				n = -1 // fetch: negative means no retry, 0 its default
			}
			dl, err := fetch.New(fetch.Options{Version: buildinfo.Get().Version, Mirror: mirror, StallTimeout: stall, Retries: n})
			if err != nil {
				return usageErrorf("--mirror: %v", err)
			}
			// Downloads go next to the database, so the import reads a
			// local file and a full disk shows before anything changes.
			tmp, err := os.MkdirTemp(filepath.Dir(path), ".kensa-update-*")
			if err != nil {
				return err
			}
			defer os.RemoveAll(tmp)
			var failed []string
			for _, f := range feeds {
				if err := ctx.Err(); err != nil {
					return fmt.Errorf("interrupted: %w (feeds updated before it are kept, the others keep their previous data)", err)
				}
				if err := a.updateFeed(cmd, store, dl, f, tmp); err != nil {
					fmt.Fprintf(a.stderr, "kensa: %s: %v (its previous data, if any, is kept)\n", f.Name, err)
					failed = append(failed, f.Name)
				}
			}
			if len(failed) > 0 {
				return fmt.Errorf("%d of %d feed(s) could not be updated: %s", len(failed), len(feeds), strings.Join(failed, ", "))
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&ecosystems, "ecosystems", nil, "feeds or ecosystems to update, comma-separated (Debian:12, Go, osv/PyPI, kev, ...); default: what this host needs")
	f.StringVar(&mirror, "mirror", "", "fetch from this mirror `URL or DIR` instead of the official locations")
	f.StringVar(&root, "root", "/", "decide the feeds from the image at `DIR` instead of this host")
	f.DurationVar(&stall, "stall-timeout", fetch.DefaultStallTimeout, "abort a download when no byte arrives for this long")
	f.IntVar(&retries, "retries", fetch.DefaultRetries, "retry a failed download (network error, stall, truncated body, 5xx) this many times, with backoff")
	f.BoolVar(&list, "list", false, "list the feeds that would be updated (name, mirror path, URL) and exit")
	return cmd
}

// updateFeed downloads one feed, if it changed, and imports it.
func (a *app) updateFeed(cmd *cobra.Command, store *vulndb.Store, dl *fetch.Downloader, f fetch.Feed, tmp string) error {
	ctx := cmd.Context()
	prev, _, err := store.LastDownload(ctx, f.Name)
	if err != nil {
		return err
	}
	start := time.Now()
	res, err := dl.Get(ctx, f, fetch.Validators{ETag: prev.ETag, LastModified: prev.LastModified, SHA256: prev.SHA256}, tmp)
	if err != nil {
		if errors.Is(err, fetch.ErrNotFound) {
			return fmt.Errorf("not published: %w", err)
		}
		return err
	}
	if res.NotModified {
		prev.FetchedAt = res.Fetched
		a.infof("%s: unchanged since %s", f.Name, prev.FetchedAt.Format(time.DateOnly))
		return store.RecordDownload(ctx, prev)
	}
	defer os.Remove(res.Path)
	imp, err := store.Import(ctx, res.Path, vulndb.SourceMeta{Origin: res.URL, ETag: res.ETag, LastModified: res.LastModified, SHA256: res.SHA256})
	if err != nil {
		return err
	}
	rec := vulndb.Download{Name: f.Name, URL: res.URL, ETag: res.ETag, LastModified: res.LastModified, SHA256: res.SHA256, FetchedAt: res.Fetched}
	records := 0
	for _, s := range imp.Sources {
		rec.Sources = append(rec.Sources, s.Name)
		records += s.Records
	}
	if err := store.RecordDownload(ctx, rec); err != nil {
		return err
	}
	a.infof("%s: %d bytes, %d records in %s", f.Name, res.Size, records, time.Since(start).Round(time.Millisecond))
	return nil
}

// hostEcosystems lists the ecosystems of an inventory: its OS packages'
// (with the release) and its software's.
func hostEcosystems(inv *host.Inventory) []string {
	set := map[string]bool{}
	for _, p := range inv.Packages {
		if p.Ecosystem != "" {
			set[p.Ecosystem] = true
		}
	}
	if inv.OS != nil && inv.OS.Ecosystem() != "" {
		set[inv.OS.Ecosystem()] = true
	}
	for _, s := range inv.Software {
		set[s.Ecosystem] = true
	}
	out := make([]string, 0, len(set))
	for e := range set {
		out = append(out, e)
	}
	slices.Sort(out)
	return out
}
