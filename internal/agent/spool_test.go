package agent

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The spool keeps entries in order across reopening, drops what a crash
// left half-written, and bounds documents by count and by bytes (done
// reports are always kept).
func TestSpool(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "spool")
	s, err := openSpool(dir, 1<<20, 2)
	if err != nil {
		t.Fatal(err)
	}
	doc := []byte(`{"hello":"world"}`)
	if err := s.add(entryMeta{Kind: "inventory", RunID: "r1", Key: "k1", SHA256: sha256Hex(doc), Size: int64(len(doc))}, doc); err != nil {
		t.Fatal(err)
	}
	if err := s.add(entryMeta{Kind: kindDone, RunID: "r1"}, nil); err != nil {
		t.Fatal(err)
	}
	// A crash in the middle of writing an entry leaves a temporary file.
	if err := os.WriteFile(filepath.Join(dir, ".tmp-123"), []byte("half"), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err = openSpool(dir, 1<<20, 2)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, ".tmp-123")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("half-written entry kept: %v", err)
	}
	if err := s.add(entryMeta{Kind: "observations", RunID: "r2", Key: "k2"}, []byte("{}")); err != nil {
		t.Fatal(err)
	}
	entries, errs := s.list()
	if len(errs) > 0 || len(entries) != 3 {
		t.Fatalf("entries %+v, errors %v", entries, errs)
	}
	for i, want := range []string{"k1", "", "k2"} {
		if entries[i].meta.Key != want {
			t.Errorf("entry %d: key %q, want %q (order lost)", i, entries[i].meta.Key, want)
		}
	}
	if got, err := entries[0].document(); err != nil || string(got) != string(doc) {
		t.Errorf("document: %q, %v", got, err)
	}
	if !s.full() {
		t.Error("two documents of two: not full")
	}
	if err := s.add(entryMeta{Kind: "inventory", RunID: "r3", Key: "k3"}, doc); !errors.Is(err, ErrSpoolFull) {
		t.Errorf("a third document: %v", err)
	}
	if err := s.add(entryMeta{Kind: kindDone, RunID: "r3", Error: "spool full"}, nil); err != nil {
		t.Errorf("a done report in a full spool: %v", err)
	}
	if err := s.remove(entries[0]); err != nil {
		t.Fatal(err)
	}
	if s.full() {
		t.Error("full after a removal")
	}

	small, err := openSpool(filepath.Join(t.TempDir(), "small"), 200, 100)
	if err != nil {
		t.Fatal(err)
	}
	big := []byte(randomText(2000))
	if err := small.add(entryMeta{Kind: "inventory", RunID: "r", Key: "k"}, big); !errors.Is(err, ErrSpoolFull) {
		t.Errorf("a document over the byte bound: %v", err)
	}
	if entries, _ := small.list(); len(entries) != 0 {
		t.Errorf("the refused document was kept: %+v", entries)
	}
}

// randomText is n random hex digits: gzip cannot shrink them below half.
func randomText(n int) string {
	var b strings.Builder
	for b.Len() < n {
		b.WriteString(newKey())
	}
	return b.String()
}
