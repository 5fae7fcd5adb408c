package fetch

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"log"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kensa-dev/kensa/internal/testfixture"
)

// sleeps records the waits between retries instead of waiting.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleeps) get() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.d)
}

var fixedNow = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

// newDownloader returns a Downloader for srv with short timeouts and
// recorded sleeps.
func newDownloader(t *testing.T, srv *httptest.Server, opts Options) (*Downloader, *sleeps) {
	t.Helper()
	s := &sleeps{}
	if opts.Client == nil && srv != nil {
		opts.Client = srv.Client()
	}
	if opts.Version == "" {
		opts.Version = "v0.0.0-test"
	}
	if opts.StallTimeout == 0 {
		opts.StallTimeout = 5 * time.Second
	}
	opts.Sleep = s.sleep
	opts.Now = func() time.Time { return fixedNow }
	d, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return d, s
}

func testFeed(u string) Feed {
	return Feed{Name: "test/feed", Format: FormatOSV, URL: u, Path: "test/feed/all.zip", MaxSize: 1 << 20, Integrity: IntegrityGoogHash}
}

func randomBytes(n int) []byte {
	r := rand.New(rand.NewPCG(1, uint64(n)))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// googHashHeader is the x-goog-hash Google Cloud Storage sends for b.
func googHashHeader(b []byte) string {
	m := md5.Sum(b)
	c := make([]byte, 4)
	binary.BigEndian.PutUint32(c, crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli)))
	return "crc32c=" + base64.StdEncoding.EncodeToString(c) + ",md5=" + base64.StdEncoding.EncodeToString(m[:])
}

// noLeftovers fails when dir holds a temporary file.
func noLeftovers(t *testing.T, dir string) {
	t.Helper()
	filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".part") {
			t.Errorf("temporary file left: %s", p)
		}
		return nil
	})
}

// withPrevious puts an old file at the feed's destination and returns a
// check that it is still there, unchanged.
func withPrevious(t *testing.T, dir string, f Feed) func() {
	t.Helper()
	dst := filepath.Join(dir, filepath.FromSlash(f.Path))
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, []byte("previous"), 0o600); err != nil {
		t.Fatal(err)
	}
	return func() {
		t.Helper()
		b, err := os.ReadFile(dst)
		if err != nil || string(b) != "previous" {
			t.Errorf("previous file changed: %q, %v", b, err)
		}
		noLeftovers(t, dir)
	}
}

func TestGetSuccess(t *testing.T) {
	body := randomBytes(300_000)
	var ua, ae atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ua.Store(r.UserAgent())
		ae.Store(r.Header.Get("Accept-Encoding"))
		w.Header().Set("ETag", `"v1"`)
		w.Header().Set("Last-Modified", "Wed, 25 Nov 2026 10:00:00 GMT")
		w.Header().Set("X-Goog-Hash", googHashHeader(body))
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body)
	}))
	defer srv.Close()
	d, s := newDownloader(t, srv, Options{Version: "v1.2.3"})
	dir := t.TempDir()
	f := testFeed(srv.URL + "/Go/all.zip")
	res, err := d.Get(context.Background(), f, Validators{}, dir)
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, "test", "feed", "all.zip")
	want := Result{Path: dst, Size: int64(len(body)), SHA256: sha(body), ETag: `"v1"`, LastModified: "Wed, 25 Nov 2026 10:00:00 GMT", URL: f.URL, Fetched: fixedNow}
	if res != want {
		t.Errorf("Result\n got %+v\nwant %+v", res, want)
	}
	got, err := os.ReadFile(dst)
	if err != nil || !bytes.Equal(got, body) {
		t.Fatalf("file content differs (%d bytes, %v)", len(got), err)
	}
	if fi, _ := os.Stat(dst); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
	if ua.Load() != "kensa/v1.2.3" || ae.Load() != "identity" {
		t.Errorf("User-Agent %q, Accept-Encoding %q", ua.Load(), ae.Load())
	}
	if len(s.get()) != 0 {
		t.Errorf("slept %v", s.get())
	}
	noLeftovers(t, dir)
}

// TestGetSharedFixture serves a real OSV zip the way a static server does
// (Content-Length, Last-Modified, If-Modified-Since) and fetches it twice.
func TestGetSharedFixture(t *testing.T) {
	src := testfixture.Shared(t, "vulndata", "osv", "osv-scalibr", "Go", "all.zip")
	body, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	mod := time.Date(2026, 11, 5, 23, 49, 57, 0, time.UTC)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Goog-Hash", googHashHeader(body))
		http.ServeContent(w, r, "all.zip", mod, bytes.NewReader(body))
	}))
	defer srv.Close()
	d, _ := newDownloader(t, srv, Options{})
	dir := t.TempDir()
	f := Catalog()[slices.IndexFunc(Catalog(), func(f Feed) bool { return f.Name == "osv/Go" })]
	f.URL = srv.URL + "/Go/all.zip"
	res, err := d.Get(context.Background(), f, Validators{}, dir)
	if err != nil {
		t.Fatal(err)
	}
	if res.SHA256 != sha(body) || res.Size != int64(len(body)) || res.Path != filepath.Join(dir, "osv", "Go", "all.zip") {
		t.Errorf("Result %+v", res)
	}
	if _, err := zip.OpenReader(res.Path); err != nil {
		t.Errorf("downloaded zip: %v", err)
	}
	again, err := d.Get(context.Background(), f, Validators{ETag: res.ETag, LastModified: res.LastModified, SHA256: res.SHA256}, dir)
	if err != nil {
		t.Fatal(err)
	}
	if !again.NotModified || again.Path != "" || again.SHA256 != res.SHA256 {
		t.Errorf("second Get %+v, want not modified", again)
	}
}

func TestNotModified(t *testing.T) {
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		if r.Header.Get("If-None-Match") == `"v1"` && r.Header.Get("If-Modified-Since") == "Wed, 25 Nov 2026 10:00:00 GMT" {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Write([]byte("new content"))
	}))
	defer srv.Close()
	d, _ := newDownloader(t, srv, Options{})
	dir := t.TempDir()
	prev := Validators{ETag: `"v1"`, LastModified: "Wed, 25 Nov 2026 10:00:00 GMT", SHA256: "ab"}
	res, err := d.Get(context.Background(), testFeed(srv.URL+"/x"), prev, dir)
	if err != nil {
		t.Fatal(err)
	}
	if !res.NotModified || res.Path != "" || res.ETag != `"v1"` || res.SHA256 != "ab" {
		t.Errorf("Result %+v", res)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("304 wrote %v", entries)
	}

	// Same content under a new ETag: reported as not modified, the
	// previous file untouched.
	check := withPrevious(t, dir, testFeed(""))
	res, err = d.Get(context.Background(), testFeed(srv.URL+"/x"), Validators{ETag: `"v0"`, SHA256: sha([]byte("new content"))}, dir)
	if err != nil {
		t.Fatal(err)
	}
	if !res.NotModified || res.Path != "" || res.SHA256 != sha([]byte("new content")) {
		t.Errorf("Result %+v", res)
	}
	check()
	if requests.Load() != 2 {
		t.Errorf("%d requests", requests.Load())
	}
}

func TestTruncatedBody(t *testing.T) {
	body := randomBytes(100_000)
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body[:len(body)/2])
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler) // closes the connection mid-body
	}))
	defer srv.Close()
	srv.Config.ErrorLog = quietLog()
	d, s := newDownloader(t, srv, Options{})
	dir := t.TempDir()
	check := withPrevious(t, dir, testFeed(""))
	_, err := d.Get(context.Background(), testFeed(srv.URL+"/x"), Validators{}, dir)
	if err == nil || !strings.Contains(err.Error(), "truncated body: received 50000 of 100000 bytes") || !strings.Contains(err.Error(), srv.URL+"/x") {
		t.Fatalf("err = %v", err)
	}
	check()
	if requests.Load() != 4 || len(s.get()) != 3 {
		t.Errorf("%d requests, sleeps %v; want 4 attempts", requests.Load(), s.get())
	}
}

func TestRetry5xxThenSuccess(t *testing.T) {
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch requests.Add(1) {
		case 1:
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(http.StatusServiceUnavailable)
		case 2:
			w.WriteHeader(http.StatusBadGateway)
		default:
			w.Write([]byte("finally"))
		}
	}))
	defer srv.Close()
	d, s := newDownloader(t, srv, Options{})
	dir := t.TempDir()
	res, err := d.Get(context.Background(), testFeed(srv.URL+"/x"), Validators{}, dir)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(res.Path); string(b) != "finally" {
		t.Errorf("content %q", b)
	}
	if want := []time.Duration{7 * time.Second, 2 * time.Second}; !slices.Equal(s.get(), want) {
		t.Errorf("sleeps %v, want %v (Retry-After, then backoff)", s.get(), want)
	}
}

func TestRetry5xxForever(t *testing.T) {
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		http.Error(w, "down", http.StatusInternalServerError)
	}))
	defer srv.Close()
	d, s := newDownloader(t, srv, Options{})
	dir := t.TempDir()
	check := withPrevious(t, dir, testFeed(""))
	_, err := d.Get(context.Background(), testFeed(srv.URL+"/x"), Validators{}, dir)
	want := "fetch: test/feed: get " + srv.URL + "/x: 500 Internal Server Error (gave up after 4 attempts)"
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v\nwant %s", err, want)
	}
	check()
	if requests.Load() != 4 {
		t.Errorf("%d requests, want 4", requests.Load())
	}
	if want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}; !slices.Equal(s.get(), want) {
		t.Errorf("sleeps %v, want %v", s.get(), want)
	}
}

func TestNotFound(t *testing.T) {
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		http.NotFound(w, r)
	}))
	defer srv.Close()
	d, s := newDownloader(t, srv, Options{})
	dir := t.TempDir()
	_, err := d.Get(context.Background(), testFeed(srv.URL+"/x"), Validators{}, dir)
	if err == nil || !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "not found at "+srv.URL+"/x (404 Not Found)") {
		t.Fatalf("err = %v", err)
	}
	if requests.Load() != 1 || len(s.get()) != 0 {
		t.Errorf("%d requests, sleeps %v: a 404 is not retried", requests.Load(), s.get())
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("wrote %v", entries)
	}

	srv403 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		w.WriteHeader(http.StatusForbidden)
	}))
	defer srv403.Close()
	requests.Store(0)
	_, err = d.Get(context.Background(), testFeed(srv403.URL+"/x"), Validators{}, dir)
	if err == nil || errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "403 Forbidden") || requests.Load() != 1 {
		t.Errorf("403: err = %v, %d requests", err, requests.Load())
	}
}

func TestStall(t *testing.T) {
	body := randomBytes(10_000)
	for _, tc := range []struct {
		name    string
		handler http.HandlerFunc
		want    string
	}{
		{"mid-body", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			w.Write(body[:5000])
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
			case <-time.After(10 * time.Second):
			}
		}, "stalled: no "},
		{"before headers", func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(10 * time.Second):
			}
		}, "stalled: no response for 300ms"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(tc.handler)
			defer srv.Close()
			d, s := newDownloader(t, srv, Options{StallTimeout: 300 * time.Millisecond, Retries: 1})
			dir := t.TempDir()
			start := time.Now()
			_, err := d.Get(context.Background(), testFeed(srv.URL+"/x"), Validators{}, dir)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "gave up after 2 attempts") {
				t.Fatalf("err = %v", err)
			}
			t.Log(err)
			if el := time.Since(start); el > 3*time.Second {
				t.Errorf("took %v to notice the stall", el)
			}
			if len(s.get()) != 1 {
				t.Errorf("sleeps %v: a stall is retried", s.get())
			}
			noLeftovers(t, dir)
		})
	}
}

// TestSlowButSteady: a body that trickles in, each read well within the
// stall timeout, completes even though it takes longer than the timeout:
// the stall timeout is a deadline per read, not for the whole body. (The
// margins are wide because test machines can be heavily loaded.)
func TestSlowButSteady(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for i := range 8 {
			fmt.Fprintf(w, "chunk %d\n", i)
			w.(http.Flusher).Flush()
			time.Sleep(100 * time.Millisecond)
		}
	}))
	defer srv.Close()
	d, _ := newDownloader(t, srv, Options{StallTimeout: 600 * time.Millisecond, Retries: -1})
	res, err := d.Get(context.Background(), testFeed(srv.URL+"/x"), Validators{}, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if res.Size != 64 {
		t.Errorf("size %d", res.Size)
	}
}

func TestOverallTimeout(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for {
			if _, err := w.Write([]byte("x")); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	}))
	defer srv.Close()
	d, s := newDownloader(t, srv, Options{Timeout: 200 * time.Millisecond})
	dir := t.TempDir()
	_, err := d.Get(context.Background(), testFeed(srv.URL+"/x"), Validators{}, dir)
	if err == nil || !strings.Contains(err.Error(), "timed out after 200ms") || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
	if len(s.get()) != 0 {
		t.Errorf("retried after the overall timeout: %v", s.get())
	}
	noLeftovers(t, dir)
}

func TestSizeCap(t *testing.T) {
	body := randomBytes(4096)
	for _, tc := range []struct {
		name          string
		contentLength bool
		want          string
	}{
		{"announced", true, "size 4096 bytes (Content-Length) exceeds the limit of 1024 bytes"},
		{"unannounced", false, "body exceeds the limit of 1024 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var requests atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				requests.Add(1)
				if tc.contentLength {
					w.Header().Set("Content-Length", strconv.Itoa(len(body)))
				} else {
					w.(http.Flusher).Flush() // chunked: no Content-Length
				}
				w.Write(body)
			}))
			defer srv.Close()
			d, _ := newDownloader(t, srv, Options{})
			dir := t.TempDir()
			check := withPrevious(t, dir, testFeed(""))
			f := testFeed(srv.URL + "/x")
			f.MaxSize = 1024
			_, err := d.Get(context.Background(), f, Validators{}, dir)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v", err)
			}
			check()
			if requests.Load() != 1 {
				t.Errorf("%d requests: an oversized body is not retried", requests.Load())
			}
		})
	}
}

func TestGoogHashMismatch(t *testing.T) {
	body := []byte("the real bytes")
	other := googHashHeader([]byte("other bytes"))
	right := googHashHeader(body)
	crcOnly, md5Only, _ := strings.Cut(right, ",")
	badCRC, _, _ := strings.Cut(other, ",")
	badMD5 := other[strings.Index(other, ",")+1:]
	for _, tc := range []struct {
		name, header, want string
	}{
		{"md5", crcOnly + "," + badMD5, "md5 mismatch"},
		{"crc32c", badCRC + "," + md5Only, "crc32c mismatch"},
		{"crc32c only", badCRC, "crc32c mismatch"},
		{"malformed", "md5=!!!", "malformed x-goog-hash"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("X-Goog-Hash", tc.header)
				w.Write(body)
			}))
			defer srv.Close()
			d, _ := newDownloader(t, srv, Options{})
			dir := t.TempDir()
			check := withPrevious(t, dir, testFeed(""))
			_, err := d.Get(context.Background(), testFeed(srv.URL+"/x"), Validators{}, dir)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v", err)
			}
			check()
		})
	}
	// Two headers, one per digest, as GCS may send them.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("X-Goog-Hash", crcOnly)
		w.Header().Add("X-Goog-Hash", md5Only)
		w.Write(body)
	}))
	defer srv.Close()
	d, _ := newDownloader(t, srv, Options{})
	if _, err := d.Get(context.Background(), testFeed(srv.URL+"/x"), Validators{}, t.TempDir()); err != nil {
		t.Errorf("matching hashes in two headers: %v", err)
	}
}

func TestCancelMidDownload(t *testing.T) {
	t.Parallel()
	body := randomBytes(200_000)
	started := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body[:100_000])
		w.(http.Flusher).Flush()
		close(started)
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	}))
	defer srv.Close()
	d, s := newDownloader(t, srv, Options{})
	dir := t.TempDir()
	check := withPrevious(t, dir, testFeed(""))
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-started
		time.Sleep(20 * time.Millisecond) // let the client read what was sent
		cancel()
	}()
	_, err := d.Get(ctx, testFeed(srv.URL+"/x"), Validators{}, dir)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	check()
	if len(s.get()) != 0 {
		t.Errorf("retried after cancel: %v", s.get())
	}
}

func TestDirMirror(t *testing.T) {
	mirror := t.TempDir()
	body := randomBytes(5000)
	feed := Catalog()[slices.IndexFunc(Catalog(), func(f Feed) bool { return f.Name == "osv/Rocky Linux" })]
	src := filepath.Join(mirror, "osv", "Rocky Linux", "all.zip")
	os.MkdirAll(filepath.Dir(src), 0o755)
	if err := os.WriteFile(src, body, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{mirror, "file://" + filepath.ToSlash(mirror)} {
		d, _ := newDownloader(t, nil, Options{Mirror: m})
		dir := t.TempDir()
		res, err := d.Get(context.Background(), feed, Validators{}, dir)
		if err != nil {
			t.Fatal(err)
		}
		if res.SHA256 != sha(body) || res.Size != 5000 || res.Path != filepath.Join(dir, "osv", "Rocky Linux", "all.zip") || !strings.HasPrefix(res.URL, "file://") {
			t.Errorf("Result %+v", res)
		}
		if b, _ := os.ReadFile(res.Path); !bytes.Equal(b, body) {
			t.Error("copy differs")
		}
		if fi, _ := os.Stat(res.Path); fi.Mode().Perm() != 0o600 {
			t.Errorf("mode %v", fi.Mode().Perm())
		}
		// Unchanged: nothing written.
		again, err := d.Get(context.Background(), feed, Validators{SHA256: res.SHA256}, dir)
		if err != nil || !again.NotModified {
			t.Errorf("again: %+v, %v", again, err)
		}
	}

	d, _ := newDownloader(t, nil, Options{Mirror: mirror})
	dir := t.TempDir()
	kev := Catalog()[len(Catalog())-1]
	_, err := d.Get(context.Background(), kev, Validators{}, dir)
	want := "fetch: kev: not found at " + filepath.Join(mirror, "kev", "known_exploited_vulnerabilities.json") + " (missing from the mirror directory)"
	if err == nil || err.Error() != want || !errors.Is(err, ErrNotFound) {
		t.Errorf("missing file: err = %v\nwant %s", err, want)
	}

	check := withPrevious(t, dir, feed)
	small := feed
	small.MaxSize = 4096
	if _, err := d.Get(context.Background(), small, Validators{}, dir); err == nil || !strings.Contains(err.Error(), "exceeds the limit of 4096 bytes") {
		t.Errorf("size cap: err = %v", err)
	}
	check()

	if _, err := New(Options{Mirror: filepath.Join(mirror, "nope")}); err == nil {
		t.Error("a missing mirror directory is accepted")
	}
	if _, err := New(Options{Mirror: src}); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("a file as mirror: %v", err)
	}
}

func TestURLMirror(t *testing.T) {
	body := []byte("mirrored")
	var paths []string
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		paths = append(paths, r.URL.EscapedPath())
		mu.Unlock()
		w.Write(body)
	}))
	defer srv.Close()
	d, _ := newDownloader(t, srv, Options{Mirror: srv.URL + "/kensa/"})
	dir := t.TempDir()
	for _, name := range []string{"osv/Rocky Linux", "alas/ALAS2023", "kev"} {
		feed := Catalog()[slices.IndexFunc(Catalog(), func(f Feed) bool { return f.Name == name })]
		res, err := d.Get(context.Background(), feed, Validators{}, dir)
		if err != nil {
			t.Fatal(err)
		}
		if res.SHA256 != sha(body) || !strings.HasPrefix(res.URL, srv.URL+"/kensa/") {
			t.Errorf("%s: %+v", name, res)
		}
	}
	want := []string{"/kensa/osv/Rocky%20Linux/all.zip", "/kensa/alas/al2023/updateinfo.xml.gz", "/kensa/kev/known_exploited_vulnerabilities.json"}
	if !slices.Equal(paths, want) {
		t.Errorf("requested %q, want %q", paths, want)
	}
	// The download directory has the mirror layout.
	for _, p := range []string{"osv/Rocky Linux/all.zip", "alas/al2023/updateinfo.xml.gz", "kev/known_exploited_vulnerabilities.json"} {
		if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(p))); err != nil {
			t.Error(err)
		}
	}
	if _, err := New(Options{Mirror: "ftp://example.org/x"}); err == nil {
		t.Error("ftp mirror accepted")
	}
}

// yumRepo serves a mirror list, a repomd.xml and an updateinfo.xml.gz,
// the way Amazon Linux's repositories do.
func yumRepo(t *testing.T, updateinfo []byte, listedSHA string) (*httptest.Server, *[]string) {
	t.Helper()
	var mu sync.Mutex
	var paths []string
	mux := http.NewServeMux()
	var srv *httptest.Server
	mux.HandleFunc("/al2023/core/mirrors/latest/x86_64/mirror.list", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "# comment\n\n%s/al2023/core/guids/0123abcd/$basearch\n%s/elsewhere/\n", srv.URL, srv.URL)
	})
	mux.HandleFunc("/al2023/core/guids/0123abcd/x86_64/repodata/repomd.xml", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>
<repomd xmlns="http://linux.duke.edu/metadata/repo" xmlns:rpm="http://linux.duke.edu/metadata/rpm">
  <revision>1732000000</revision>
  <data type="primary_db"><checksum type="sha256">%s</checksum><location href="repodata/primary.sqlite.gz"/><size>1</size></data>
  <data type="updateinfo">
    <checksum type="sha256">%s</checksum>
    <open-checksum type="sha256">%s</open-checksum>
    <location href="repodata/%s-updateinfo.xml.gz"/>
    <size>%d</size>
  </data>
</repomd>`, strings.Repeat("0", 64), listedSHA, strings.Repeat("1", 64), listedSHA[:16], len(updateinfo))
	})
	mux.HandleFunc("/al2023/core/guids/0123abcd/x86_64/repodata/", func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "-updateinfo.xml.gz") {
			http.NotFound(w, r)
			return
		}
		w.Write(updateinfo)
	})
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		paths = append(paths, r.URL.Path)
		mu.Unlock()
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, &paths
}

func gzipped(t *testing.T, s string) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(s))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestYumMirrorListResolution(t *testing.T) {
	updateinfo := gzipped(t, `<?xml version="1.0"?><updates><update type="security"><id>ALAS2023-2023-001</id></update></updates>`)
	srv, paths := yumRepo(t, updateinfo, sha(updateinfo))
	feed := Catalog()[slices.IndexFunc(Catalog(), func(f Feed) bool { return f.Name == "alas/ALAS2023" })]
	feed.URL = srv.URL + "/al2023/core/mirrors/latest/x86_64/mirror.list"
	d, _ := newDownloader(t, srv, Options{})
	dir := t.TempDir()
	res, err := d.Get(context.Background(), feed, Validators{}, dir)
	if err != nil {
		t.Fatal(err)
	}
	wantURL := srv.URL + "/al2023/core/guids/0123abcd/x86_64/repodata/" + sha(updateinfo)[:16] + "-updateinfo.xml.gz"
	if res.URL != wantURL || res.SHA256 != sha(updateinfo) || res.Path != filepath.Join(dir, "alas", "al2023", "updateinfo.xml.gz") {
		t.Errorf("Result %+v", res)
	}
	if b, _ := os.ReadFile(res.Path); !bytes.Equal(b, updateinfo) {
		t.Error("content differs")
	}
	// Unchanged per repomd.xml: the updateinfo is not downloaded again.
	*paths = nil
	again, err := d.Get(context.Background(), feed, Validators{SHA256: res.SHA256}, dir)
	if err != nil || !again.NotModified || again.URL != wantURL {
		t.Errorf("again: %+v, %v", again, err)
	}
	if len(*paths) != 2 {
		t.Errorf("requests %q: want the mirror list and repomd.xml only", *paths)
	}

	// A file that does not match repomd.xml's checksum is refused.
	srv2, _ := yumRepo(t, updateinfo, strings.Repeat("ab", 32))
	feed.URL = srv2.URL + "/al2023/core/mirrors/latest/x86_64/mirror.list"
	d2, _ := newDownloader(t, srv2, Options{Retries: -1})
	dir2 := t.TempDir()
	check := withPrevious(t, dir2, feed)
	if _, err := d2.Get(context.Background(), feed, Validators{}, dir2); err == nil || !strings.Contains(err.Error(), "sha256 mismatch: repomd.xml says abab") {
		t.Errorf("bad checksum: err = %v", err)
	}
	check()
}

func TestParseMirrorListAndRepomd(t *testing.T) {
	for in, want := range map[string]string{
		"https://cdn.amazonlinux.com/al2023/core/guids/abc/x86_64/\n":                 "https://cdn.amazonlinux.com/al2023/core/guids/abc/x86_64/",
		"# c\n\r\nhttp://amazonlinux.us-east-1.amazonaws.com/2/core/2.0/x86_64/f00\n": "http://amazonlinux.us-east-1.amazonaws.com/2/core/2.0/x86_64/f00/",
		"https://cdn.example/al2023/$basearch":                                        "https://cdn.example/al2023/x86_64/",
	} {
		u, err := parseMirrorList([]byte(in))
		if err != nil || u.String() != want {
			t.Errorf("parseMirrorList(%q) = %v, %v; want %s", in, u, err, want)
		}
	}
	for _, in := range []string{"", "# only\n", "file:///etc/passwd\n", "/relative/path\n"} {
		if u, err := parseMirrorList([]byte(in)); err == nil {
			t.Errorf("parseMirrorList(%q) = %v", in, u)
		}
	}
	for _, in := range []string{
		"<repomd></repomd>",
		`<repomd><data type="updateinfo"><checksum type="sha">abc</checksum><location href="x"/></data></repomd>`,
		`<repomd><data type="updateinfo"><checksum type="sha256">xyz</checksum><location href="x"/></data></repomd>`,
		`<repomd><data type="updateinfo"><checksum type="sha256">` + strings.Repeat("a", 64) + `</checksum></data></repomd>`,
		"not xml",
	} {
		if f, err := parseRepomd([]byte(in), "updateinfo"); err == nil {
			t.Errorf("parseRepomd(%q) = %+v", in, f)
		}
	}

	// The real repomd.xml of an Amazon Linux 2 repository.
	zr, err := zip.OpenReader(testfixture.Shared(t, "vulndata", "native", "amazon", "amazon-alas-samples-vuln-list-update-2026-06-30.zip"))
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	rc, err := zr.Open("amazon/testdata/fixtures/repomd_valid.xml")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	f, err := parseRepomd(b, "updateinfo")
	want := repomdFile{href: "repodata/updateinfo.xml.gz", sha256: "e6f569f8ed2246a6b06c0fef7cfd71560df02781327e31c38396ed358d591d48", size: 146324}
	if err != nil || f != want {
		t.Errorf("parseRepomd(repomd_valid.xml) = %+v, %v; want %+v", f, err, want)
	}
}

func TestRedirectDowngradeRefused(t *testing.T) {
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("over http"))
	}))
	defer plain.Close()
	var requests atomic.Int32
	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		http.Redirect(w, r, plain.URL+"/x", http.StatusFound)
	}))
	defer tlsSrv.Close()
	d, _ := newDownloader(t, tlsSrv, Options{})
	_, err := d.Get(context.Background(), testFeed(tlsSrv.URL+"/x"), Validators{}, t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "redirect refused: from https to http://") {
		t.Fatalf("err = %v", err)
	}
	if requests.Load() != 1 {
		t.Errorf("%d requests: a refused redirect is not retried", requests.Load())
	}
}

func TestRetryAfterDate(t *testing.T) {
	d, _ := newDownloader(t, nil, Options{})
	for in, want := range map[string]time.Duration{
		"":                              0,
		"3":                             3 * time.Second,
		"100000":                        maxWait,
		"Fri, 27 Nov 2026 12:00:30 GMT": 30 * time.Second,
		"Fri, 27 Nov 2026 11:00:00 GMT": 0,
		"soon":                          0,
	} {
		if got := d.retryAfter(in); got != want {
			t.Errorf("retryAfter(%q) = %v, want %v", in, got, want)
		}
	}
}

// quietLog silences the server's log of handlers aborted on purpose.
func quietLog() *log.Logger { return log.New(io.Discard, "", 0) }
