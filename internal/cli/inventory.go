package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/kensa-dev/kensa/internal/assess"
	"github.com/kensa-dev/kensa/internal/collect"
	"github.com/kensa-dev/kensa/internal/collect/aptchangelog"
	"github.com/kensa-dev/kensa/internal/host"
	"github.com/spf13/cobra"
)

// targetFlags are the flags that choose and bound what is collected.
type targetFlags struct {
	noDownload  bool
	debCache    string
	root        string
	searchRoots []string
	maxDepth    int
	maxFiles    int
	maxFileSize string
	timeout     time.Duration
}

func (t *targetFlags) register(cmd *cobra.Command) {
	fs := cmd.Flags()
	d := collect.DefaultDiscovery()
	fs.StringVar(&t.root, "root", "/", "scan the image or unpacked root file system in `DIR` instead of the live host")
	cmd.MarkFlagDirname("root")
	cmd.MarkFlagDirname("search-root")
	fs.StringSliceVar(&t.searchRoots, "search-root", nil, "directory (inside the root) to search for software outside the package manager, recursively; repeatable. Replaces the whole default search: home directories and running processes are then not looked at")
	fs.IntVar(&t.maxDepth, "max-depth", d.MaxDepth, "how deep below each search root to look")
	fs.IntVar(&t.maxFiles, "max-files", d.MaxFiles, "stop searching for software after this many files")
	fs.StringVar(&t.maxFileSize, "max-file-size", formatSize(d.MaxFileSize), "skip Java archives larger than this (e.g. 512MiB)")
	fs.DurationVar(&t.timeout, "search-timeout", d.Timeout, "stop searching for software after this long")
	fs.BoolVar(&t.noDownload, "no-download", false, "Debian/Ubuntu: do not download pending updates' packages to read their changelogs (the feed-free CVE method); packages already in the cache are still read")
	fs.StringVar(&t.debCache, "deb-cache", "", "where downloaded packages are kept for their changelogs (`DIR`; default /var/cache/kensa/debs for root, else ~/.cache/kensa/debs)")
}

// collectionMemoryLimit is the soft memory limit of the Go runtime while a
// host is collected (inventory, scan). The inventory of a typical server is
// about 20 MB live; without a limit the garbage collector lets the heap
// double before collecting (47 MB peak on the benchmark host, 38 MB with
// it). Kensa runs on busy production hosts, so it collects harder near
// this size instead. It is a target, not a cap: a larger host only makes
// the collector work more (the runtime bounds that at half the CPU).
// GOMEMLIMIT overrides it.
const collectionMemoryLimit = 32 << 20

func (t *targetFlags) options(a *app) (assess.Options, error) {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(collectionMemoryLimit)
	}
	if t.root == "" {
		return assess.Options{}, usageErrorf("--root: empty directory name (an unset variable?); omit --root to scan this host")
	}
	if fi, err := os.Stat(t.root); err != nil {
		return assess.Options{}, usageErrorf("--root %s: %v", t.root, errors.Unwrap(err))
	} else if !fi.IsDir() {
		return assess.Options{}, usageErrorf("--root %s: not a directory", t.root)
	}
	size, err := parseSize(t.maxFileSize)
	if err != nil {
		return assess.Options{}, usageErrorf("--max-file-size: %v", err)
	}
	if t.maxDepth < 1 || t.maxFiles < 1 || t.timeout <= 0 {
		return assess.Options{}, usageErrorf("--max-depth, --max-files and --search-timeout must be positive")
	}
	return assess.Options{
		Root: t.root,
		Discovery: collect.DiscoveryConfig{
			Roots: t.searchRoots, MaxDepth: t.maxDepth, MaxFiles: t.maxFiles,
			MaxFileSize: size, Timeout: t.timeout,
		},
		Updates: aptchangelog.Options{NoDownload: t.noDownload, CacheDir: t.debCache},
		Logger:  a.logger,
	}, nil
}

func (a *app) inventoryCommand() *cobra.Command {
	var t targetFlags
	var output string
	var pretty bool
	cmd := &cobra.Command{
		Use:   "inventory",
		Short: "Write the inventory of this host (or of an image with --root) as JSON",
		Long: `Collect the inventory of this host, or of an image or unpacked root file
system with --root, and write it as JSON (docs/inventory.md): the OS
identity, kernels, OS packages with their files, software found outside the
package manager (Go binaries, Python, npm, Java), users and groups, and what
each collector did.`,
		Example: `  kensa inventory > host.json
  kensa inventory --root /mnt/image --output image.json
  kensa inventory --pretty | less`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts, err := t.options(a)
			if err != nil {
				return err
			}
			p := newProgress(a.stderr, a.quiet)
			if p != nil {
				opts.Progress = p
			}
			inv, err := assess.Inventory(cmd.Context(), opts)
			if p != nil {
				p.Close()
			}
			if err != nil {
				return err
			}
			if err := cmd.Context().Err(); err != nil {
				return err // interrupted: an incomplete inventory is not written
			}
			a.logCollectors(inv)
			return a.writeOutput(output, func(w io.Writer) error {
				enc := json.NewEncoder(w)
				if pretty {
					// Indenting a 10 MB document costs more than
					// collecting it, so it is asked for.
					enc.SetIndent("", "  ")
				}
				enc.SetEscapeHTML(false) // purls hold "&"
				return enc.Encode(inv)
			})
		},
	}
	t.register(cmd)
	cmd.Flags().StringVarP(&output, "output", "o", "", "write to `FILE` instead of stdout")
	cmd.Flags().BoolVar(&pretty, "pretty", false, "indent the JSON for reading (compact by default: the inventory of a server is megabytes)")
	return cmd
}

// logCollectors logs each collector's outcome: failures and partial runs as
// warnings (shown by default), the rest at debug level (--verbose), and a
// warning when the OS of an image could not be identified, which usually
// means --root does not point at the root of a file system.
func (a *app) logCollectors(inv *host.Inventory) {
	for _, c := range inv.Collectors {
		attrs := []any{"collector", c.Name, "status", c.Status, "items", c.Items, "duration_ms", c.DurationMS}
		switch c.Status {
		case host.StatusFailed:
			a.logger.Warn("collector failed: "+c.Reason, attrs...)
		case host.StatusPartial:
			a.logger.Warn(fmt.Sprintf("collector met %d error(s); first: %s", c.ErrorCount, c.Errors[0]), attrs...)
		case host.StatusSkipped:
			a.logger.Debug("collector skipped: "+c.Reason, attrs...)
		default:
			a.logger.Debug("collector done", attrs...)
		}
	}
	if inv.OS == nil && !inv.Identity.Live {
		a.logger.Warn("no OS release file found: is " + inv.Identity.Root + " the root of a file system?")
	}
}

// parseSize reads a byte size such as 1048576, 512KiB, 64MB or 1GiB.
func parseSize(in string) (int64, error) {
	s := strings.TrimSpace(in)
	units := []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1000}, {"MB", 1000_000}, {"GB", 1000_000_000}, {"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"B", 1}}
	mult := int64(1)
	for _, u := range units {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%q is not a positive size such as 512MiB", in)
	}
	return n * mult, nil
}

func formatSize(n int64) string {
	switch {
	case n%(1<<30) == 0:
		return fmt.Sprintf("%dGiB", n>>30)
	case n%(1<<20) == 0:
		return fmt.Sprintf("%dMiB", n>>20)
	}
	return strconv.FormatInt(n, 10)
}
