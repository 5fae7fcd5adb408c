package aptchangelog

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

const (
	// maxChangelogGz caps one changelog file in a package, compressed.
	// The largest in Debian (the kernel's, trimmed) are about 1 MiB.
	maxChangelogGz = 16 << 20
	// maxTarEntries bounds the members read from one package.
	maxTarEntries = 1_000_000
	// maxStderr is how much of a command's error output is kept.
	maxStderr = 2048
)

var (
	// ErrNotCached is returned by a Fetcher asked not to download when the
	// package is not in its cache.
	ErrNotCached = errors.New("not in the cache")
	// ErrDownload wraps a failed download; its message starts
	// "download failed".
	ErrDownload = errors.New("download failed")
	// ErrNoChangelog is returned when a package holds no changelog: its
	// documentation directory is a link to another package's, or there
	// is none.
	ErrNoChangelog = errors.New("no changelog in the package")
)

// Request names one binary package version whose changelog is wanted.
type Request struct {
	Name    string
	Version string
	// Arch is the package's architecture, "all" for arch-independent.
	Arch string
	// Size and SHA256 are the .deb's, from the package list; zero when
	// not known. A cached file that does not match them is not used.
	Size   int64
	SHA256 string
}

// Changelogs are the changelog files of one package, gzip-compressed as
// the package holds them.
type Changelogs struct {
	// Debian is usr/share/doc/PKG/changelog.Debian.gz, or changelog.gz of
	// a native package (one without the former).
	Debian []byte
	// BinNMU is changelog.Debian.ARCH.gz, the entries of binary-only
	// uploads; nil when absent.
	BinNMU []byte
}

// Fetcher gets the changelogs of candidate versions. The collector calls
// it from at most Options.Concurrency goroutines at once.
type Fetcher interface {
	// Fetch returns the changelogs of req. With download false it looks
	// only in its cache and returns an error wrapping ErrNotCached when
	// the package is not there. A failed download wraps ErrDownload, a
	// package without a changelog ErrNoChangelog.
	Fetch(ctx context.Context, req Request, download bool) (Changelogs, error)
}

// Prefetcher is implemented by a Fetcher that downloads many packages
// faster together than one by one. The collector calls Prefetch, when it
// may download, with the first package of each changelog group before it
// fetches them one by one.
type Prefetcher interface {
	// Prefetch returns an error wrapping ErrDownload when nothing could
	// be downloaded: the archive is not reachable.
	Prefetch(ctx context.Context, reqs []Request, concurrency int) error
}

// DebFetcher is the Fetcher of a scan: it keeps candidate .deb files in a
// cache directory, downloads missing ones with `apt-get download` (which
// uses the scanning machine's own apt configuration and package lists,
// and checks the file against them), and reads the changelogs out of a
// .deb with `dpkg-deb --fsys-tarfile`.
type DebFetcher struct {
	// Dir is the cache directory; created when a download needs it.
	Dir string
	// AptGet and DpkgDeb are the commands run; "" means "apt-get" and
	// "dpkg-deb" from PATH.
	AptGet, DpkgDeb string
	// Timeout bounds one run of apt-get download and one extraction; 0
	// means DefaultTimeout.
	Timeout time.Duration
}

// DefaultTimeout bounds one run of apt-get download and one extraction.
const DefaultTimeout = 2 * time.Minute

// DefaultCacheDir is where .deb files are kept: /var/cache/kensa/debs for
// root, else $XDG_CACHE_HOME/kensa/debs or ~/.cache/kensa/debs.
func DefaultCacheDir() (string, error) {
	if os.Geteuid() == 0 {
		return "/var/cache/kensa/debs", nil
	}
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("aptchangelog: cache directory: %w", err)
	}
	return filepath.Join(dir, "kensa", "debs"), nil
}

var (
	nameRE    = regexp.MustCompile(`^[a-z0-9][a-z0-9+.-]*$`)
	versionRE = regexp.MustCompile(`^[0-9A-Za-z][0-9A-Za-z.+~:-]*$`)
	archRE    = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)
	sha256RE  = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// valid checks that the request's fields are what Debian allows, so none
// can be taken for an option or a path by the commands run.
func (r Request) valid() error {
	if !nameRE.MatchString(r.Name) || len(r.Name) > 200 {
		return fmt.Errorf("invalid package name %q", r.Name)
	}
	if !versionRE.MatchString(r.Version) || len(r.Version) > 200 {
		return fmt.Errorf("invalid version %q", r.Version)
	}
	if !archRE.MatchString(r.Arch) || len(r.Arch) > 64 {
		return fmt.Errorf("invalid architecture %q", r.Arch)
	}
	if r.SHA256 != "" && !sha256RE.MatchString(r.SHA256) {
		return fmt.Errorf("invalid SHA256 %q", r.SHA256)
	}
	return nil
}

// debName is the name apt-get download gives the file: the epoch's colon
// is written %3a.
func (r Request) debName() string {
	return r.Name + "_" + strings.ReplaceAll(r.Version, ":", "%3a") + "_" + r.Arch + ".deb"
}

// Fetch implements Fetcher.
func (f *DebFetcher) Fetch(ctx context.Context, req Request, download bool) (Changelogs, error) {
	if err := req.valid(); err != nil {
		return Changelogs{}, err
	}
	timeout := f.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	// The changelogs of a package already read are kept beside the cache,
	// keyed by the .deb's SHA-256 from the list: a warm scan reads a few
	// kilobytes per package instead of hashing and unpacking each .deb.
	if cl, ok := f.readExtracted(req); ok {
		return cl, nil
	}
	file := filepath.Join(f.Dir, req.debName())
	if !f.cached(file, req) {
		if !download {
			return Changelogs{}, ErrNotCached
		}
		dctx, cancel := context.WithTimeout(ctx, timeout)
		err := f.download(dctx, req)
		cancel()
		if err != nil {
			return Changelogs{}, err
		}
	}
	ectx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cl, err := f.extract(ectx, file, req)
	if err == nil {
		f.writeExtracted(req, cl)
	}
	return cl, err
}

// extractedPath is where the changelogs read from req's .deb are kept,
// named by the package, version, architecture and the .deb's SHA-256;
// "" when the list gave no SHA-256 to key them by.
func (f *DebFetcher) extractedPath(req Request) string {
	if req.SHA256 == "" {
		return ""
	}
	return filepath.Join(f.Dir, "changelogs", strings.TrimSuffix(req.debName(), ".deb")+"_"+req.SHA256+".json")
}

// readExtracted returns the changelogs kept for req, if any.
func (f *DebFetcher) readExtracted(req Request) (Changelogs, bool) {
	p := f.extractedPath(req)
	if p == "" {
		return Changelogs{}, false
	}
	fh, err := os.Open(p)
	if err != nil {
		return Changelogs{}, false
	}
	defer fh.Close()
	fi, err := fh.Stat()
	if err != nil || !fi.Mode().IsRegular() || fi.Size() > 4*maxChangelogGz {
		return Changelogs{}, false
	}
	var cl Changelogs
	if err := json.NewDecoder(fh).Decode(&cl); err != nil || len(cl.Debian) == 0 {
		return Changelogs{}, false
	}
	return cl, true
}

// writeExtracted keeps cl for req, atomically; failing to keep it only
// costs the next scan an extraction.
func (f *DebFetcher) writeExtracted(req Request, cl Changelogs) {
	p := f.extractedPath(req)
	if p == "" || len(cl.Debian) == 0 {
		return
	}
	if err := os.MkdirAll(filepath.Dir(p), cacheDirMode()); err != nil {
		return
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), ".tmp-*")
	if err != nil {
		return
	}
	err = json.NewEncoder(tmp).Encode(cl)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), p)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
}

// cached reports whether file is a regular file matching req.
func (f *DebFetcher) cached(file string, req Request) bool {
	fi, err := os.Lstat(file)
	if err != nil || !fi.Mode().IsRegular() || (req.Size > 0 && fi.Size() != req.Size) {
		return false
	}
	if req.SHA256 == "" {
		return true
	}
	sum, err := fileSHA256(file)
	return err == nil && sum == req.SHA256
}

func fileSHA256(name string) (string, error) {
	fh, err := os.Open(name)
	if err != nil {
		return "", err
	}
	defer fh.Close()
	h := sha256.New()
	if _, err := io.Copy(h, fh); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// download runs apt-get download in a new directory inside the cache and
// moves the file into place once it is complete and checked.
func (f *DebFetcher) download(ctx context.Context, req Request) error {
	missing, err := f.downloadBatch(ctx, []Request{req})
	if err == nil && len(missing) > 0 {
		err = fmt.Errorf("%w: apt-get download %s: no file %s matching the package list", ErrDownload, req.spec(), req.debName())
	}
	return err
}

// spec is the argument of apt-get download: name:arch=version, or
// name=version for arch all (which apt files under the native
// architecture).
func (r Request) spec() string {
	if r.Arch == "all" {
		return r.Name + "=" + r.Version
	}
	return r.Name + ":" + r.Arch + "=" + r.Version
}

// downloadBatch downloads reqs with one apt-get run, in a new directory
// inside the cache, and moves each file into the cache once it is
// complete and checked against its list. It returns the requests whose
// file is not there after a successful run.
func (f *DebFetcher) downloadBatch(ctx context.Context, reqs []Request) (missing []Request, err error) {
	if err := os.MkdirAll(f.Dir, cacheDirMode()); err != nil {
		return nil, fmt.Errorf("%w: cache directory: %v", ErrDownload, err)
	}
	tmp, err := os.MkdirTemp(f.Dir, ".download-")
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDownload, err)
	}
	defer os.RemoveAll(tmp)
	aptSandbox(tmp)
	args := []string{"download", "-q"}
	for _, r := range reqs {
		args = append(args, r.spec())
	}
	cmd := exec.CommandContext(ctx, command(f.AptGet, "apt-get"), args...)
	cmd.Dir = tmp
	stderr := &tailBuffer{max: maxStderr}
	cmd.Stderr = stderr
	cmd.Stdout = io.Discard
	killGroup(cmd)
	runErr := cmd.Run()
	// Keep what arrived whole even when the run failed: apt-get goes on
	// with the other packages when one fails.
	for _, r := range reqs {
		got := filepath.Join(tmp, r.debName())
		if !f.cached(got, r) || os.Rename(got, filepath.Join(f.Dir, r.debName())) != nil {
			missing = append(missing, r)
		}
	}
	if runErr != nil {
		if ctx.Err() != nil {
			runErr = ctx.Err()
		}
		what := reqs[0].spec()
		if len(reqs) > 1 {
			what = fmt.Sprintf("of %d packages", len(reqs))
		}
		return missing, fmt.Errorf("%w: apt-get download %s: %v%s", ErrDownload, what, runErr, stderr.suffix())
	}
	return missing, nil
}

// maxBatch is the most packages one apt-get run downloads in Prefetch.
const maxBatch = 40

// Prefetch downloads into the cache those of reqs that are not there yet,
// several packages a run of apt-get: each run costs apt seconds of
// start-up (reading every package list) before the first byte is
// fetched. It runs up to concurrency runs at once (DefaultConcurrency
// when 0), each bounded by the Timeout. A package that did not arrive is
// downloaded alone by Fetch, which says why it failed; the error, when
// no package arrived at all, is the last run's.
func (f *DebFetcher) Prefetch(ctx context.Context, reqs []Request, concurrency int) error {
	var todo []Request
	for _, r := range reqs {
		if r.valid() == nil && !f.cached(filepath.Join(f.Dir, r.debName()), r) {
			todo = append(todo, r)
		}
	}
	if len(todo) < 2 {
		return nil // Fetch does as well
	}
	if concurrency <= 0 {
		concurrency = DefaultConcurrency
	}
	n := max(min(concurrency, len(todo)), (len(todo)+maxBatch-1)/maxBatch)
	timeout := f.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	var (
		mu      sync.Mutex
		arrived int
		lastErr error
		wg      sync.WaitGroup
	)
	sem := make(chan struct{}, concurrency)
	for i := range n {
		batch := todo[i*len(todo)/n : (i+1)*len(todo)/n]
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			bctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			missing, err := f.downloadBatch(bctx, batch)
			mu.Lock()
			defer mu.Unlock()
			arrived += len(batch) - len(missing)
			if err != nil {
				lastErr = err
			}
		}()
	}
	wg.Wait()
	if arrived == 0 && lastErr != nil {
		return lastErr
	}
	return nil
}

// killGroup runs cmd in a process group of its own and makes a canceled
// context kill the whole group: apt-get's download methods and dpkg-deb's
// decompressor are child processes that would otherwise live on, holding
// the output pipe open.
func killGroup(cmd *exec.Cmd) {
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); err != nil {
			return cmd.Process.Kill()
		}
		return nil
	}
	cmd.WaitDelay = 5 * time.Second
}

// cacheDirMode is 0755 for root's shared cache (which the _apt user
// downloading for root must traverse) and 0700 for a user's own.
func cacheDirMode() os.FileMode {
	if os.Geteuid() == 0 {
		return 0o755
	}
	return 0o700
}

// aptSandbox lets apt, run as root, download as its unprivileged _apt
// user into dir (apt downloads as root otherwise, with a warning). Only
// the scanning machine's own user database is read.
func aptSandbox(dir string) {
	if os.Geteuid() != 0 {
		return
	}
	u, err := user.Lookup("_apt")
	if err != nil {
		return
	}
	if uid, err := strconv.Atoi(u.Uid); err == nil {
		_ = os.Chown(dir, uid, -1)
	}
}

func command(set, def string) string {
	if set != "" {
		return set
	}
	return def
}

// extract reads the changelogs of req's package out of the .deb file,
// reading its file-system tar from dpkg-deb as a stream.
func (f *DebFetcher) extract(ctx context.Context, file string, req Request) (Changelogs, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cmd := exec.CommandContext(ctx, command(f.DpkgDeb, "dpkg-deb"), "--fsys-tarfile", file)
	stderr := &tailBuffer{max: maxStderr}
	cmd.Stderr = stderr
	killGroup(cmd)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return Changelogs{}, fmt.Errorf("dpkg-deb: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return Changelogs{}, fmt.Errorf("dpkg-deb: %w", err)
	}
	cl, complete, terr := ReadDebTar(out, req.Name, req.Arch)
	if !complete {
		// The rest is not needed, or cannot be read: stop dpkg-deb
		// rather than have it write the rest.
		cancel()
	}
	werr := cmd.Wait()
	switch {
	case complete && werr != nil:
		// dpkg-deb failed (not a .deb, a damaged one): the tar it
		// wrote ended early, and its message says why.
		return Changelogs{}, fmt.Errorf("dpkg-deb --fsys-tarfile %s: %v%s", filepath.Base(file), werr, stderr.suffix())
	case terr != nil && ctx.Err() != nil && werr != nil && !errors.Is(terr, ErrNoChangelog):
		// Timed out, or the tar was bad: say which.
		if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
			return Changelogs{}, fmt.Errorf("dpkg-deb --fsys-tarfile %s: %w", filepath.Base(file), err)
		}
		return Changelogs{}, terr
	case terr != nil:
		return Changelogs{}, terr
	}
	return cl, nil
}

// ReadDebTar reads the changelogs of package name (of architecture arch)
// from the file-system tar of its .deb, as `dpkg-deb --fsys-tarfile`
// writes it. It stops once it has the Debian changelog and has read past
// the package's documentation directory (dpkg-deb writes members sorted),
// and then complete is false: the rest of r was not read. A changelog
// member larger than maxChangelogGz is an error. When the documentation
// directory is a link to another package's, or holds no changelog, the
// error wraps ErrNoChangelog.
func ReadDebTar(r io.Reader, name, arch string) (cl Changelogs, complete bool, err error) {
	dir := "usr/share/doc/" + name
	want := map[string]*[]byte{
		dir + "/changelog.Debian.gz":              &cl.Debian,
		dir + "/changelog.Debian." + arch + ".gz": &cl.BinNMU,
	}
	var native []byte // changelog.gz, the Debian changelog of a native package
	want[dir+"/changelog.gz"] = &native
	link, inDir := "", false
	tr := tar.NewReader(r)
	for n := 0; ; n++ {
		if n == maxTarEntries {
			return Changelogs{}, false, fmt.Errorf("more than %d members in the package", maxTarEntries)
		}
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			complete = true
			break
		}
		if err != nil {
			return Changelogs{}, false, fmt.Errorf("package contents: %w", err)
		}
		member := strings.TrimPrefix(path.Clean("/"+hdr.Name), "/")
		if member == dir || strings.HasPrefix(member, dir+"/") {
			inDir = true
		} else if inDir && (cl.Debian != nil || link != "") {
			break // past the directory: nothing more to find
		}
		if member == dir && hdr.Typeflag == tar.TypeSymlink {
			link = hdr.Linkname
		}
		dst, ok := want[member]
		if !ok || hdr.Typeflag != tar.TypeReg || dst == &native && cl.Debian != nil {
			continue
		}
		if hdr.Size > maxChangelogGz {
			return Changelogs{}, false, fmt.Errorf("%s: %d bytes, over the %d MiB limit", member, hdr.Size, maxChangelogGz>>20)
		}
		b, err := io.ReadAll(io.LimitReader(tr, maxChangelogGz+1))
		if err != nil {
			return Changelogs{}, false, fmt.Errorf("%s: %w", member, err)
		}
		*dst = b
	}
	if cl.Debian == nil {
		cl.Debian = native
	}
	switch {
	case cl.Debian != nil:
		return cl, complete, nil
	case link != "":
		return Changelogs{}, complete, fmt.Errorf("%w: /%s is a link to %s", ErrNoChangelog, dir, link)
	default:
		return Changelogs{}, complete, fmt.Errorf("%w: no /%s/changelog.Debian.gz", ErrNoChangelog, dir)
	}
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	buf bytes.Buffer
	max int
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	n := len(p)
	if len(p) > t.max {
		p = p[len(p)-t.max:]
	}
	t.buf.Write(p)
	if over := t.buf.Len() - t.max; over > 0 {
		t.buf.Next(over)
	}
	return n, nil
}

// suffix is ": " and the last line of the output, or "" when there was
// none.
func (t *tailBuffer) suffix() string {
	s := strings.TrimSpace(t.buf.String())
	if s == "" {
		return ""
	}
	lines := strings.Split(s, "\n")
	// apt ends with "E: ..." lines; the last error says most.
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.HasPrefix(lines[i], "E: ") {
			return ": " + strings.TrimSpace(lines[i])
		}
	}
	return ": " + strings.TrimSpace(lines[len(lines)-1])
}
