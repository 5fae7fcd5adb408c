package cli

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestProgressIsSilentOffATerminal(t *testing.T) {
	var buf bytes.Buffer
	if p := newProgress(&buf, false); p != nil {
		t.Fatal("progress enabled on a non-terminal writer")
	}
}

func TestProgressDrawsABarAndClearsIt(t *testing.T) {
	var buf bytes.Buffer
	p := &progress{w: &buf, delay: time.Hour, start: time.Now()}
	p.timer = time.AfterFunc(time.Hour, func() {})
	p.Start("lang/go", 4, 10)
	p.tick()
	out := buf.String()
	if !strings.Contains(out, "[========            ] 5/10 collecting lang/go") {
		t.Fatalf("progress line = %q", out)
	}
	p.Close()
	if !strings.HasSuffix(buf.String(), "\r\033[K") {
		t.Fatalf("line not cleared: %q", buf.String())
	}
}
