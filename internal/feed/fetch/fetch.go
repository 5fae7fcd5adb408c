package fetch

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Defaults of Options.
const (
	DefaultStallTimeout = 60 * time.Second
	DefaultRetries      = 3
	DefaultBackoff      = time.Second
)

const (
	// maxWait caps a backoff or a server's Retry-After.
	maxWait = 2 * time.Minute
	// Caps of the two small files of a yum repository.
	maxMirrorList int64 = 64 << 10
	maxRepomd     int64 = 16 << 20
	maxRedirects        = 10
)

// ErrNotFound is what errors.Is finds in the error of a download the
// server answered with 404 or 410, or a file missing from a mirror
// directory: the feed is not published there (say, an Alpine release
// secdb has no directory for), as opposed to a failure.
var ErrNotFound = errors.New("fetch: not found")

// Validators identify the copy of a feed the caller already has, from the
// previous Result. Empty fields are not used.
type Validators struct {
	ETag         string
	LastModified string
	// SHA256 is the hex SHA-256 of the previous file. A download with the
	// same digest is reported as not modified and not written; for
	// Amazon Linux it is compared with repomd.xml's checksum before
	// anything is downloaded.
	SHA256 string
}

// Result describes a completed fetch.
type Result struct {
	// Path is the file written: <dstDir>/<Feed.Path>. Empty when
	// NotModified.
	Path string
	// Size and SHA256 (hex) are the file's; for a NotModified result
	// SHA256 is set when it is known (same content, or repomd.xml).
	Size   int64
	SHA256 string
	// ETag and LastModified are the server's validators, to pass back as
	// Validators next time.
	ETag         string
	LastModified string
	// NotModified is true when the server answered 304 or the content has
	// the previous SHA-256: nothing was written.
	NotModified bool
	// URL is where the file came from: the official URL, the resolved
	// updateinfo URL for Amazon Linux, the mirror URL, or a file:// URL
	// for a mirror directory.
	URL string
	// Fetched is when the fetch completed, by the Downloader's clock.
	Fetched time.Time
}

// Options configure a Downloader. The zero value is usable.
type Options struct {
	// Client makes the requests; nil means a default client. It is
	// copied, and a redirect policy refusing https→http downgrades is
	// added when it has none.
	Client *http.Client
	// Version is Kensa's version, sent as User-Agent "kensa/<version>".
	Version string
	// Mirror, when set, replaces the official locations: an http(s) URL
	// or a directory (a file:// URL or a path). See the package
	// documentation for the layout.
	Mirror string
	// StallTimeout aborts a download when no byte arrives for this long
	// (waiting for the response included). Default DefaultStallTimeout.
	// It and Timeout run on real timers, not on Now.
	StallTimeout time.Duration
	// Timeout bounds one Get as a whole, retries included; 0 means none.
	Timeout time.Duration
	// Retries is how many times a network error, a stall, a truncated or
	// corrupt body, or a 5xx, 408 or 429 answer is retried. 0 means
	// DefaultRetries; negative means none.
	Retries int
	// Backoff is the wait before the first retry, doubled for each
	// further one (a longer Retry-After from the server wins, up to two
	// minutes). Default DefaultBackoff.
	Backoff time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Sleep waits between retries; default a timer that honours ctx.
	// Tests inject one that returns at once.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Downloader fetches feeds. It is safe for concurrent use by several
// goroutines as long as they write to different destinations.
type Downloader struct {
	client    *http.Client
	userAgent string
	mirrorURL *url.URL
	mirrorDir string
	stall     time.Duration
	timeout   time.Duration
	retries   int
	backoff   time.Duration
	now       func() time.Time
	sleep     func(ctx context.Context, d time.Duration) error
}

// New returns a Downloader; it fails when the mirror is neither an http(s)
// URL nor an existing directory.
func New(opts Options) (*Downloader, error) {
	d := &Downloader{
		userAgent: "kensa/" + opts.Version,
		stall:     opts.StallTimeout,
		timeout:   opts.Timeout,
		retries:   opts.Retries,
		backoff:   opts.Backoff,
		now:       opts.Now,
		sleep:     opts.Sleep,
	}
	if opts.Version == "" {
		d.userAgent = "kensa/unknown"
	}
	client := &http.Client{}
	if opts.Client != nil {
		c := *opts.Client
		client = &c
	}
	if client.CheckRedirect == nil {
		client.CheckRedirect = checkRedirect
	}
	d.client = client
	if d.stall <= 0 {
		d.stall = DefaultStallTimeout
	}
	switch {
	case d.retries == 0:
		d.retries = DefaultRetries
	case d.retries < 0:
		d.retries = 0
	}
	if d.backoff <= 0 {
		d.backoff = DefaultBackoff
	}
	if d.now == nil {
		d.now = time.Now
	}
	if d.sleep == nil {
		d.sleep = sleepCtx
	}
	if opts.Mirror != "" {
		if err := d.setMirror(opts.Mirror); err != nil {
			return nil, fmt.Errorf("fetch: mirror %s: %w", opts.Mirror, err)
		}
	}
	return d, nil
}

func (d *Downloader) setMirror(m string) error {
	u, err := url.Parse(m)
	if err == nil && (u.Scheme == "http" || u.Scheme == "https") {
		if u.Host == "" {
			return errors.New("no host in the URL")
		}
		if u.RawQuery != "" || u.Fragment != "" {
			return errors.New("a mirror URL takes no query or fragment")
		}
		u.Path = strings.TrimRight(u.Path, "/")
		u.RawPath = ""
		d.mirrorURL = u
		return nil
	}
	dir := m
	if err == nil && u.Scheme == "file" {
		dir = u.Path
	} else if err == nil && u.Scheme != "" && len(u.Scheme) > 1 {
		return fmt.Errorf("unsupported scheme %q (http, https, file or a directory)", u.Scheme)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return errors.New("not a directory")
	}
	d.mirrorDir = abs
	return nil
}

// MirrorURL returns the URL a URL mirror serves the feed at:
// <mirror>/<Feed.Path>, each segment escaped. It is "" without a URL
// mirror.
func (d *Downloader) MirrorURL(feed Feed) string {
	if d.mirrorURL == nil {
		return ""
	}
	u := *d.mirrorURL
	u.Path = d.mirrorURL.Path + "/" + feed.Path
	var esc []string
	for _, seg := range strings.Split(feed.Path, "/") {
		esc = append(esc, url.PathEscape(seg))
	}
	u.RawPath = d.mirrorURL.EscapedPath() + "/" + strings.Join(esc, "/")
	return u.String()
}

// Get downloads feed into dstDir/<feed.Path> (directories created 0700,
// the file 0600) unless prev still describes it. On any error nothing at
// the destination has changed and no temporary file is left.
func (d *Downloader) Get(ctx context.Context, feed Feed, prev Validators, dstDir string) (Result, error) {
	res, err := d.get(ctx, feed, prev, dstDir)
	if err != nil {
		return Result{}, fmt.Errorf("fetch: %s: %w", feed.Name, err)
	}
	res.Fetched = d.now()
	return res, nil
}

func (d *Downloader) get(ctx context.Context, feed Feed, prev Validators, dstDir string) (Result, error) {
	if feed.Path == "" || !fs.ValidPath(feed.Path) {
		return Result{}, fmt.Errorf("invalid feed path %q", feed.Path)
	}
	if feed.MaxSize <= 0 {
		return Result{}, errors.New("feed has no size limit")
	}
	if dstDir == "" {
		return Result{}, errors.New("no destination directory")
	}
	if d.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, d.timeout, timeoutError{d.timeout})
		defer cancel()
	}
	dst := filepath.Join(dstDir, filepath.FromSlash(feed.Path))
	switch {
	case d.mirrorDir != "":
		return d.copyFromDir(ctx, feed, prev, dst)
	case d.mirrorURL != nil:
		return d.download(ctx, feed, d.MirrorURL(feed), prev, dst, expect{size: -1})
	case feed.Resolve == ResolveDirect:
		return d.download(ctx, feed, feed.URL, prev, dst, expect{size: -1})
	case feed.Resolve == ResolveYumMirrorList:
		return d.getYum(ctx, feed, prev, dst)
	}
	return Result{}, fmt.Errorf("unknown resolution %q", feed.Resolve)
}

// expect is what a body must be, when something other than the server
// says so (repomd.xml): a hex SHA-256 and a size (-1: unknown).
type expect struct {
	sha256 string
	size   int64
}

// download fetches u into dst atomically.
func (d *Downloader) download(ctx context.Context, feed Feed, u string, prev Validators, dst string, exp expect) (Result, error) {
	var res Result
	err := install(dst, func(tmp *tempFile) (bool, error) {
		m, err := d.fetch(ctx, u, prev, feed.MaxSize, exp, tmp)
		if err != nil {
			return false, err
		}
		res = Result{URL: u, ETag: m.etag, LastModified: m.lastModified}
		if m.notModified {
			// Same content as before: the previous digest still holds.
			res.NotModified, res.SHA256 = true, prev.SHA256
			return false, nil
		}
		res.Size, res.SHA256 = m.size, m.sha256
		if prev.SHA256 != "" && strings.EqualFold(prev.SHA256, m.sha256) {
			res.NotModified = true
			return false, nil
		}
		res.Path = dst
		return true, nil
	})
	if err != nil {
		return Result{}, err
	}
	return res, nil
}

// install lets fill write the feed's file and, when fill returns true,
// renames it to dst. The file is a temporary one beside dst, created with
// its directory at the first byte written (so a 304 creates nothing).
// When fill fails or returns false, the temporary file is removed and dst
// is untouched.
func install(dst string, fill func(w *tempFile) (bool, error)) error {
	t := &tempFile{dst: dst}
	done := false
	defer func() {
		if !done && t.f != nil {
			t.f.Close()
			os.Remove(t.f.Name())
		}
	}()
	keep, err := fill(t)
	if err != nil || !keep {
		return err
	}
	if err := t.open(); err != nil { // an empty file is a file too
		return err
	}
	if err := t.f.Sync(); err != nil {
		return err
	}
	if err := t.f.Close(); err != nil {
		return err
	}
	if err := os.Rename(t.f.Name(), dst); err != nil {
		return err
	}
	done = true
	// Make the rename durable; a file system that cannot sync a
	// directory still has the file.
	if dir, err := os.Open(filepath.Dir(dst)); err == nil {
		dir.Sync()
		dir.Close()
	}
	return nil
}

// tempFile is the temporary file install renames into place.
type tempFile struct {
	dst string
	f   *os.File
}

func (t *tempFile) open() error {
	if t.f != nil {
		return nil
	}
	dir := filepath.Dir(t.dst)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(t.dst)+".*.part") // mode 0600
	if err != nil {
		return err
	}
	t.f = f
	return nil
}

func (t *tempFile) Write(p []byte) (int, error) {
	if err := t.open(); err != nil {
		return 0, err
	}
	return t.f.Write(p)
}

func (t *tempFile) reset() error {
	if t.f == nil {
		return nil
	}
	if err := t.f.Truncate(0); err != nil {
		return err
	}
	_, err := t.f.Seek(0, io.SeekStart)
	return err
}

// sink receives a body; reset empties it before a retry.
type sink interface {
	io.Writer
	reset() error
}

type bufSink struct{ bytes.Buffer }

func (s *bufSink) reset() error { s.Reset(); return nil }

// meta is what one successful request produced.
type meta struct {
	notModified  bool
	etag         string
	lastModified string
	size         int64
	sha256       string
}

// attemptError is one failed attempt: retry says whether trying again
// may help, status is the HTTP status when there was an answer.
type attemptError struct {
	err        error
	retry      bool
	status     string
	retryAfter time.Duration
}

func (e *attemptError) Error() string { return e.err.Error() }
func (e *attemptError) Unwrap() error { return e.err }

// notFoundError is a 404 or 410 answer, or a file missing from a mirror
// directory.
type notFoundError struct{ where, why string }

func (e notFoundError) Error() string        { return "not found at " + e.where + " (" + e.why + ")" }
func (e notFoundError) Is(target error) bool { return target == ErrNotFound }

// timeoutError is the cause of the overall timeout.
type timeoutError struct{ d time.Duration }

func (e timeoutError) Error() string { return "timed out after " + e.d.String() }
func (e timeoutError) Unwrap() error { return context.DeadlineExceeded }

// errStalled is the cause with which a stalled request is cancelled.
var errStalled = errors.New("stalled")

// errRedirect marks a redirect the policy refused.
var errRedirect = errors.New("redirect refused")

func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= maxRedirects {
		return fmt.Errorf("%w: more than %d redirects", errRedirect, maxRedirects)
	}
	if via[0].URL.Scheme == "https" && req.URL.Scheme != "https" {
		return fmt.Errorf("%w: from https to %s", errRedirect, req.URL.Redacted())
	}
	return nil
}

// fetch GETs u into w, retrying what may be transient.
func (d *Downloader) fetch(ctx context.Context, u string, cond Validators, limit int64, exp expect, w sink) (meta, error) {
	var last *attemptError
	lastStatus := ""
	attempts := 0
	for {
		attempts++
		if attempts > 1 {
			if err := w.reset(); err != nil {
				return meta{}, err
			}
		}
		m, err := d.once(ctx, u, cond, limit, exp, w)
		if err == nil {
			return m, nil
		}
		if ctx.Err() != nil {
			return meta{}, fmt.Errorf("get %s: %w", u, context.Cause(ctx))
		}
		var ae *attemptError
		if !errors.As(err, &ae) || !ae.retry {
			return meta{}, err
		}
		last = ae
		if ae.status != "" {
			lastStatus = ae.status
		}
		if attempts > d.retries {
			break
		}
		wait := d.backoff << (attempts - 1)
		if ae.retryAfter > wait {
			wait = ae.retryAfter
		}
		if wait > maxWait || wait <= 0 {
			wait = maxWait
		}
		if err := d.sleep(ctx, wait); err != nil {
			return meta{}, fmt.Errorf("get %s: %w", u, context.Cause(ctx))
		}
	}
	msg := fmt.Sprintf("gave up after %d attempts", attempts)
	if lastStatus != "" && last.status == "" {
		msg += "; last HTTP status " + lastStatus
	}
	return meta{}, fmt.Errorf("%w (%s)", last, msg)
}

// once makes one request. Errors worth retrying are *attemptError with
// retry set.
func (d *Downloader) once(ctx context.Context, u string, cond Validators, limit int64, exp expect, w sink) (meta, error) {
	sctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	// The stall timer is a deadline on the next byte: armed before the
	// request, pushed back by every read that returns data.
	stall := time.AfterFunc(d.stall, func() { cancel(errStalled) })
	defer stall.Stop()

	req, err := http.NewRequestWithContext(sctx, http.MethodGet, u, nil)
	if err != nil {
		return meta{}, err
	}
	req.Header.Set("User-Agent", d.userAgent)
	// Identity, so that the bytes stored are the bytes the checksums
	// and Content-Length describe.
	req.Header.Set("Accept-Encoding", "identity")
	if cond.ETag != "" {
		req.Header.Set("If-None-Match", cond.ETag)
	}
	if cond.LastModified != "" {
		req.Header.Set("If-Modified-Since", cond.LastModified)
	}
	resp, err := d.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		if ctx.Err() == nil && errors.Is(context.Cause(sctx), errStalled) {
			return meta{}, &attemptError{err: fmt.Errorf("get %s: stalled: no response for %s", u, d.stall), retry: true}
		}
		var cve *tls.CertificateVerificationError
		retry := !errors.As(err, &cve) && !errors.Is(err, errRedirect)
		return meta{}, &attemptError{err: fmt.Errorf("get %s: %w", u, err), retry: retry}
	}
	defer resp.Body.Close()

	m := meta{etag: resp.Header.Get("ETag"), lastModified: resp.Header.Get("Last-Modified")}
	switch code := resp.StatusCode; {
	case code == http.StatusOK:
	case code == http.StatusNotModified:
		if cond.ETag == "" && cond.LastModified == "" {
			return meta{}, fmt.Errorf("get %s: %s to an unconditional request", u, resp.Status)
		}
		m.notModified = true
		if m.etag == "" {
			m.etag = cond.ETag
		}
		if m.lastModified == "" {
			m.lastModified = cond.LastModified
		}
		return m, nil
	case code == http.StatusNotFound || code == http.StatusGone:
		return meta{}, notFoundError{u, resp.Status}
	case code >= 500 || code == http.StatusRequestTimeout || code == http.StatusTooManyRequests:
		return meta{}, &attemptError{
			err:        fmt.Errorf("get %s: %s", u, resp.Status),
			retry:      true,
			status:     resp.Status,
			retryAfter: d.retryAfter(resp.Header.Get("Retry-After")),
		}
	default:
		return meta{}, fmt.Errorf("get %s: unexpected status %s", u, resp.Status)
	}

	cl := resp.ContentLength
	if cl > limit {
		return meta{}, fmt.Errorf("get %s: size %d bytes (Content-Length) exceeds the limit of %d bytes", u, cl, limit)
	}
	if exp.size >= 0 && cl >= 0 && cl != exp.size {
		return meta{}, &attemptError{err: fmt.Errorf("get %s: size %d bytes (Content-Length), but repomd.xml says %d", u, cl, exp.size), retry: true}
	}
	wantMD5, wantCRC, err := googHash(resp.Header.Values("X-Goog-Hash"))
	if err != nil {
		return meta{}, fmt.Errorf("get %s: %w", u, err)
	}

	sum := sha256.New()
	hashes := []hash.Hash{sum}
	var md5sum, crcsum hash.Hash
	if wantMD5 != nil {
		md5sum = md5.New()
		hashes = append(hashes, md5sum)
	}
	if wantCRC != nil {
		crcsum = crc32.New(crc32.MakeTable(crc32.Castagnoli))
		hashes = append(hashes, crcsum)
	}
	buf := make([]byte, 64<<10)
	var n int64
	for {
		k, rerr := resp.Body.Read(buf)
		if k > 0 {
			stall.Reset(d.stall)
			n += int64(k)
			if n > limit {
				return meta{}, fmt.Errorf("get %s: body exceeds the limit of %d bytes", u, limit)
			}
			if _, err := w.Write(buf[:k]); err != nil {
				return meta{}, err
			}
			for _, h := range hashes {
				h.Write(buf[:k])
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			if ctx.Err() != nil {
				return meta{}, context.Cause(ctx)
			}
			if errors.Is(context.Cause(sctx), errStalled) {
				return meta{}, &attemptError{err: fmt.Errorf("get %s: stalled: no data for %s after %s", u, d.stall, progress(n, cl)), retry: true}
			}
			if cl >= 0 && n < cl {
				return meta{}, &attemptError{err: fmt.Errorf("get %s: truncated body: received %s: %v", u, progress(n, cl), rerr), retry: true}
			}
			return meta{}, &attemptError{err: fmt.Errorf("get %s: read body after %d bytes: %w", u, n, rerr), retry: true}
		}
	}
	if cl >= 0 && n != cl {
		return meta{}, &attemptError{err: fmt.Errorf("get %s: truncated body: received %s", u, progress(n, cl)), retry: true}
	}
	if exp.size >= 0 && n != exp.size {
		return meta{}, &attemptError{err: fmt.Errorf("get %s: received %d bytes, but repomd.xml says %d", u, n, exp.size), retry: true}
	}
	m.size = n
	m.sha256 = hex.EncodeToString(sum.Sum(nil))
	if exp.sha256 != "" && !strings.EqualFold(exp.sha256, m.sha256) {
		return meta{}, &attemptError{err: fmt.Errorf("get %s: sha256 mismatch: repomd.xml says %s, received %s", u, exp.sha256, m.sha256), retry: true}
	}
	if md5sum != nil && !bytes.Equal(md5sum.Sum(nil), wantMD5) {
		return meta{}, &attemptError{err: fmt.Errorf("get %s: md5 mismatch: x-goog-hash says %x, received %x", u, wantMD5, md5sum.Sum(nil)), retry: true}
	}
	if crcsum != nil && !bytes.Equal(crcsum.Sum(nil), wantCRC) {
		return meta{}, &attemptError{err: fmt.Errorf("get %s: crc32c mismatch: x-goog-hash says %x, received %x", u, wantCRC, crcsum.Sum(nil)), retry: true}
	}
	return m, nil
}

func progress(n, total int64) string {
	if total < 0 {
		return fmt.Sprintf("%d bytes", n)
	}
	return fmt.Sprintf("%d of %d bytes", n, total)
}

// googHash reads the md5 and crc32c digests of Google Cloud Storage's
// x-goog-hash headers ("crc32c=n03x6A==, md5=Ojk9c3dhfxgoKVVHYwFbHQ==",
// possibly as several headers). Unknown digests are ignored.
func googHash(values []string) (md5sum, crc []byte, err error) {
	for _, v := range values {
		for part := range strings.SplitSeq(v, ",") {
			k, val, ok := strings.Cut(strings.TrimSpace(part), "=")
			if !ok {
				continue
			}
			want := 0
			switch strings.ToLower(k) {
			case "md5":
				want = md5.Size
			case "crc32c":
				want = 4
			default:
				continue
			}
			b, err := base64.StdEncoding.DecodeString(val)
			if err != nil || len(b) != want {
				return nil, nil, fmt.Errorf("malformed x-goog-hash %s value %q", k, val)
			}
			if want == md5.Size {
				md5sum = b
			} else {
				crc = b
			}
		}
	}
	return md5sum, crc, nil
}

// retryAfter reads a Retry-After header: seconds or an HTTP date.
func (d *Downloader) retryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && s >= 0 {
		return min(time.Duration(s)*time.Second, maxWait)
	}
	if t, err := http.ParseTime(v); err == nil {
		return min(max(t.Sub(d.now()), 0), maxWait)
	}
	return 0
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// getYum resolves an Amazon Linux mirror list to the repository's
// updateinfo file and downloads it, checked against repomd.xml.
func (d *Downloader) getYum(ctx context.Context, feed Feed, prev Validators, dst string) (Result, error) {
	var list bufSink
	if _, err := d.fetch(ctx, feed.URL, Validators{}, maxMirrorList, expect{size: -1}, &list); err != nil {
		return Result{}, err
	}
	base, err := parseMirrorList(list.Bytes())
	if err != nil {
		return Result{}, fmt.Errorf("mirror list %s: %w", feed.URL, err)
	}
	repomdURL := base.JoinPath("repodata", "repomd.xml").String()
	var rm bufSink
	if _, err := d.fetch(ctx, repomdURL, Validators{}, maxRepomd, expect{size: -1}, &rm); err != nil {
		return Result{}, err
	}
	ui, err := parseRepomd(rm.Bytes(), "updateinfo")
	if err != nil {
		return Result{}, fmt.Errorf("%s: %w", repomdURL, err)
	}
	loc, err := url.Parse(ui.href)
	if err != nil {
		return Result{}, fmt.Errorf("%s: updateinfo location %q: %w", repomdURL, ui.href, err)
	}
	u := base.ResolveReference(loc)
	if u.Scheme != "http" && u.Scheme != "https" {
		return Result{}, fmt.Errorf("%s: updateinfo location %q is not http(s)", repomdURL, ui.href)
	}
	if prev.SHA256 != "" && strings.EqualFold(prev.SHA256, ui.sha256) {
		return Result{URL: u.String(), SHA256: strings.ToLower(ui.sha256), Size: ui.size, NotModified: true}, nil
	}
	if ui.size > feed.MaxSize {
		return Result{}, fmt.Errorf("%s: updateinfo is %d bytes, more than the limit of %d bytes", repomdURL, ui.size, feed.MaxSize)
	}
	// The file's name changes with its content, so the previous
	// validators belong to another URL: only the digest is compared.
	return d.download(ctx, feed, u.String(), Validators{SHA256: prev.SHA256}, dst, expect{sha256: ui.sha256, size: ui.size})
}

// parseMirrorList returns the first repository base of a yum mirror list,
// with "$basearch" expanded and a trailing slash.
func parseMirrorList(b []byte) (*url.URL, error) {
	for line := range strings.Lines(string(b)) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.ReplaceAll(line, "$basearch", amazonArch)
		u, err := url.Parse(line)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("first entry %q is not an http(s) URL", line)
		}
		if !strings.HasSuffix(u.Path, "/") {
			u.Path += "/"
			if u.RawPath != "" {
				u.RawPath += "/"
			}
		}
		return u, nil
	}
	return nil, errors.New("no repository URL in it")
}

// repomdFile is one file a repomd.xml lists.
type repomdFile struct {
	href   string
	sha256 string
	size   int64
}

// parseRepomd finds the file of the given type in a repomd.xml.
func parseRepomd(b []byte, typ string) (repomdFile, error) {
	var doc struct {
		Data []struct {
			Type     string `xml:"type,attr"`
			Checksum struct {
				Type  string `xml:"type,attr"`
				Value string `xml:",chardata"`
			} `xml:"checksum"`
			Location struct {
				Href string `xml:"href,attr"`
			} `xml:"location"`
			Size int64 `xml:"size"`
		} `xml:"data"`
	}
	if err := xml.Unmarshal(b, &doc); err != nil {
		return repomdFile{}, fmt.Errorf("parse repomd.xml: %w", err)
	}
	for _, data := range doc.Data {
		if data.Type != typ {
			continue
		}
		f := repomdFile{href: strings.TrimSpace(data.Location.Href), sha256: strings.TrimSpace(data.Checksum.Value), size: data.Size}
		if f.href == "" {
			return repomdFile{}, fmt.Errorf("%s has no location", typ)
		}
		if data.Checksum.Type != "sha256" {
			return repomdFile{}, fmt.Errorf("%s has a %q checksum; only sha256 is supported", typ, data.Checksum.Type)
		}
		if s, err := hex.DecodeString(f.sha256); err != nil || len(s) != sha256.Size {
			return repomdFile{}, fmt.Errorf("%s has a malformed sha256 %q", typ, f.sha256)
		}
		if f.size <= 0 {
			f.size = -1
		}
		return f, nil
	}
	return repomdFile{}, fmt.Errorf("no %s file listed", typ)
}

// copyFromDir installs the feed's file from a mirror directory.
func (d *Downloader) copyFromDir(ctx context.Context, feed Feed, prev Validators, dst string) (Result, error) {
	src := filepath.Join(d.mirrorDir, filepath.FromSlash(feed.Path))
	where := (&url.URL{Scheme: "file", Path: filepath.ToSlash(src)}).String()
	f, err := os.Open(src)
	if errors.Is(err, fs.ErrNotExist) {
		return Result{}, notFoundError{src, "missing from the mirror directory"}
	}
	if err != nil {
		return Result{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return Result{}, err
	}
	if !fi.Mode().IsRegular() {
		return Result{}, fmt.Errorf("%s is not a regular file", src)
	}
	if fi.Size() > feed.MaxSize {
		return Result{}, fmt.Errorf("%s: size %d bytes exceeds the limit of %d bytes", src, fi.Size(), feed.MaxSize)
	}
	var res Result
	err = install(dst, func(tmp *tempFile) (bool, error) {
		sum := sha256.New()
		buf := make([]byte, 64<<10)
		var n int64
		for {
			if err := ctx.Err(); err != nil {
				return false, fmt.Errorf("copy %s: %w", src, context.Cause(ctx))
			}
			k, rerr := f.Read(buf)
			if k > 0 {
				n += int64(k)
				if n > feed.MaxSize {
					return false, fmt.Errorf("%s: exceeds the limit of %d bytes", src, feed.MaxSize)
				}
				if _, err := tmp.Write(buf[:k]); err != nil {
					return false, err
				}
				sum.Write(buf[:k])
			}
			if rerr == io.EOF {
				break
			}
			if rerr != nil {
				return false, fmt.Errorf("read %s: %w", src, rerr)
			}
		}
		if n != fi.Size() {
			return false, fmt.Errorf("%s changed while it was copied (%d bytes, then %d)", src, fi.Size(), n)
		}
		res = Result{URL: where, Size: n, SHA256: hex.EncodeToString(sum.Sum(nil))}
		if prev.SHA256 != "" && strings.EqualFold(prev.SHA256, res.SHA256) {
			res.NotModified = true
			return false, nil
		}
		res.Path = dst
		return true, nil
	})
	if err != nil {
		return Result{}, err
	}
	return res, nil
}
