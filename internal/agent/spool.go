package agent

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Kinds of spool entries: the documents of agentapi, and the report that
// a run's work is done, which must follow its documents.
const kindDone = "done"

// Default bounds of the spool: a server unreachable for days must not
// fill the host's disk. Documents count; done reports (a few hundred
// bytes each) do not, so a run's outcome is always kept.
const (
	DefaultSpoolMaxBytes = 1 << 30
	DefaultSpoolMaxDocs  = 100
)

// ErrSpoolFull is a document the spool cannot keep within its bounds.
var ErrSpoolFull = errors.New("spool full")

// maxMetaLine bounds an entry's first line.
const maxMetaLine = 64 << 10

// entryMeta is the first line of a spool entry (JSON); the rest of the
// file is the document, gzip-compressed, as it is PUT.
type entryMeta struct {
	Kind  string `json:"kind"`
	RunID string `json:"run_id"`
	// Key is the upload's idempotency key, made once when the document
	// is spooled and kept with it: every retry, by this process or after
	// a restart, sends the same key.
	Key string `json:"key,omitempty"`
	// SHA256 is of the uncompressed document; Size its length.
	SHA256 string `json:"sha256,omitempty"`
	Size   int64  `json:"size,omitempty"`
	// Content is the SHA-256 of the inventory without its collection
	// time and durations: equal for an unchanged host.
	Content string `json:"content,omitempty"`
	// Error and ObservationError are a done report's.
	Error            string    `json:"error,omitempty"`
	ObservationError string    `json:"observation_error,omitempty"`
	Spooled          time.Time `json:"spooled"`
}

func (m entryMeta) document() bool { return m.Kind != kindDone }

// entry is a spooled item: its file and what its first line says.
type entry struct {
	seq  uint64
	path string
	meta entryMeta
	// offset is where the compressed document starts; size is the file's.
	offset, size int64
}

// spool keeps what the agent has to send, in order, one file per entry
// named by a sequence number. Each file is written whole (a temporary
// file renamed into place) before anything is sent, and removed only
// once the server has recorded it.
type spool struct {
	dir      string
	maxBytes int64
	maxDocs  int

	mu   sync.Mutex
	next uint64
}

const spoolSuffix = ".spool"

func openSpool(dir string, maxBytes int64, maxDocs int) (*spool, error) {
	if err := ensureDir(dir); err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	s := &spool{dir: dir, maxBytes: maxBytes, maxDocs: maxDocs, next: 1}
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	for _, de := range des {
		name := de.Name()
		if strings.HasPrefix(name, ".tmp-") {
			// An entry a crash interrupted before its rename: never
			// complete, never listed, so nothing is lost with it.
			os.Remove(filepath.Join(dir, name))
			continue
		}
		if seq, ok := seqOf(name); ok && seq >= s.next {
			s.next = seq + 1
		}
	}
	return s, nil
}

func seqOf(name string) (uint64, bool) {
	num, ok := strings.CutSuffix(name, spoolSuffix)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseUint(num, 10, 64)
	return n, err == nil
}

// list returns the entries in the order they were spooled. An entry that
// cannot be read is skipped with an error for the caller to log (and is
// left in place for a person to look at).
func (s *spool) list() ([]entry, []error) {
	des, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, []error{fmt.Errorf("spool: %w", err)}
	}
	var out []entry
	var errs []error
	for _, de := range des {
		seq, ok := seqOf(de.Name())
		if !ok || !de.Type().IsRegular() {
			continue
		}
		e, err := readEntry(filepath.Join(s.dir, de.Name()))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		e.seq = seq
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b entry) int {
		switch {
		case a.seq < b.seq:
			return -1
		case a.seq > b.seq:
			return 1
		}
		return 0
	})
	return out, errs
}

// readEntry reads an entry's first line.
func readEntry(path string) (entry, error) {
	f, err := os.Open(path)
	if err != nil {
		return entry{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return entry{}, err
	}
	line, err := bufio.NewReaderSize(io.LimitReader(f, maxMetaLine), maxMetaLine).ReadSlice('\n')
	if err != nil {
		return entry{}, fmt.Errorf("spool: %s: no entry header: %w", path, err)
	}
	e := entry{path: path, offset: int64(len(line)), size: fi.Size()}
	if err := json.Unmarshal(line, &e.meta); err != nil {
		return entry{}, fmt.Errorf("spool: %s: entry header: %w", path, err)
	}
	return e, nil
}

// usage is the documents in the spool and the bytes they take.
func (s *spool) usage() (docs int, bytes int64) {
	entries, _ := s.list()
	for _, e := range entries {
		if e.meta.document() {
			docs++
		}
		bytes += e.size
	}
	return docs, bytes
}

// full reports whether the spool can take no further document.
func (s *spool) full() bool {
	docs, n := s.usage()
	return docs >= s.maxDocs || n >= s.maxBytes
}

// add spools a document (compressed as it is written) or, with a nil
// body, a done report. A document that does not fit the bounds is not
// kept: ErrSpoolFull.
func (s *spool) add(m entryMeta, body []byte) error {
	return s.write(m, func(w io.Writer) error {
		if body == nil {
			return nil
		}
		zw, err := gzip.NewWriterLevel(w, gzip.DefaultCompression)
		if err != nil {
			return err
		}
		if _, err := zw.Write(body); err != nil {
			return err
		}
		return zw.Close()
	})
}

// addCopy spools a document whose compressed body is another entry's
// (the last inventory, unchanged).
func (s *spool) addCopy(m entryMeta, from entry) error {
	return s.write(m, func(w io.Writer) error {
		f, err := os.Open(from.path)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(w, io.NewSectionReader(f, from.offset, from.size-from.offset))
		return err
	})
}

func (s *spool) write(m entryMeta, body func(io.Writer) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	docs, used := s.usage()
	if m.document() && docs >= s.maxDocs {
		return fmt.Errorf("%w: %d documents (at most %d)", ErrSpoolFull, docs, s.maxDocs)
	}
	line, err := json.Marshal(m)
	if err != nil {
		return err
	}
	seq := s.next
	path := filepath.Join(s.dir, fmt.Sprintf("%020d%s", seq, spoolSuffix))
	tmp, err := os.CreateTemp(s.dir, ".tmp-*")
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	name := tmp.Name()
	defer os.Remove(name) // a no-op once renamed
	cw := &countingWriter{w: tmp}
	err = func() error {
		if _, err := cw.Write(append(line, '\n')); err != nil {
			return err
		}
		if err := body(cw); err != nil {
			return err
		}
		return tmp.Sync()
	}()
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	if m.document() && used+cw.n > s.maxBytes {
		return fmt.Errorf("%w: %d bytes spooled, this document takes %d more (at most %d)", ErrSpoolFull, used, cw.n, s.maxBytes)
	}
	if err := os.Rename(name, path); err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	s.next++
	return syncDir(s.dir)
}

// remove deletes an entry the server has recorded.
func (s *spool) remove(e entry) error {
	if err := os.Remove(e.path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("spool: %w", err)
	}
	return syncDir(s.dir)
}

// body opens an entry's compressed document.
func (e entry) body() (io.ReadCloser, error) {
	f, err := os.Open(e.path)
	if err != nil {
		return nil, err
	}
	return struct {
		io.Reader
		io.Closer
	}{io.NewSectionReader(f, e.offset, e.size-e.offset), f}, nil
}

// document reads an entry's document, uncompressed (for tests and
// checks: uploads stream the compressed body).
func (e entry) document() ([]byte, error) {
	rc, err := e.body()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	zr, err := gzip.NewReader(rc)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, io.LimitReader(zr, e.meta.Size+1)); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// newKey is an idempotency key: 128 random bits, made once per document.
func newKey() string {
	b := make([]byte, 16)
	rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}
