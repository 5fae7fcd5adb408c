package watch

import (
	"context"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kensa-dev/kensa/internal/elfsec"
	"github.com/kensa-dev/kensa/internal/observe"
)

func TestMappedObjects(t *testing.T) {
	maps := `55d0c8a00000-55d0c8a02000 r--p 00000000 08:01 131 /usr/bin/cat
55d0c8a02000-55d0c8a07000 r-xp 00002000 08:01 131 /usr/bin/cat
7f0000000000-7f0000001000 r-xp 00000000 08:01 200 /opt/my app/lib/libx.so
7f0000001000-7f0000002000 rw-p 00000000 08:01 201 /usr/lib/data.bin
7f0000002000-7f0000003000 r-xp 00000000 08:01 202 /usr/lib/libold.so.1 (deleted)
7f0000003000-7f0000004000 r-xp 00000000 00:01 5 /memfd:sealed (deleted)
7f0000004000-7f0000005000 r-xp 00000000 00:00 0 [vdso]
7f0000005000-7f0000006000 r-xp 00000000 00:00 0
7f0000006000-7f0000007000 r-xp 00003000 08:01 131 /usr/bin/cat
7f0000007000-7f0000008000 r-xp 00000000 08:01 203 /opt/trailing space.so 
7f0000008000-7f0000009000 r-xp 00000000 08:01 204 /opt/new\012line.so
garbage
`
	p := filepath.Join(t.TempDir(), "maps")
	if err := os.WriteFile(p, []byte(maps), 0o644); err != nil {
		t.Fatal(err)
	}
	got, cut := mappedObjects(p)
	want := []string{"/usr/bin/cat", "/opt/my app/lib/libx.so", "/usr/lib/libold.so.1 (deleted)", "/opt/trailing space.so ", "/opt/new\nline.so"}
	if !slices.Equal(got, want) || cut {
		t.Errorf("mappedObjects = %q (cut %v), want %q", got, cut, want)
	}
}

func TestParseStat(t *testing.T) {
	// a name with spaces and parentheses must not shift the fields
	stat := "4711 (we (ird) name) S 1 4711 4711 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10"
	if got, ok := parseStat([]byte(stat)); !ok || got.start != 987654 || got.state != 'S' || got.flags != 4194560 {
		t.Errorf("parseStat = %+v, %v", got, ok)
	}
	kthread := "2 (kthreadd) S 0 0 0 0 -1 2129984 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0"
	if got, ok := parseStat([]byte(kthread)); !ok || got.flags&pfKthread == 0 {
		t.Errorf("kthreadd: %+v, %v; want PF_KTHREAD", got, ok)
	}
	if _, ok := parseStat([]byte("4711 (x) S 1")); ok {
		t.Error("a short line parsed")
	}
}

func TestAccepts(t *testing.T) {
	ap := netip.MustParseAddrPort
	tests := []struct {
		listener, local string
		want            bool
	}{
		{"127.0.0.2:23", "127.0.0.2:23", true},
		{"127.0.0.2:23", "127.0.0.3:23", false},
		{"127.0.0.2:23", "127.0.0.2:24", false},
		{"0.0.0.0:80", "10.0.0.1:80", true},
		{"0.0.0.0:80", "[2001:db8::1]:80", false},
		{"[::]:80", "10.0.0.1:80", true}, // dual-stack wildcard
		{"[::]:80", "[2001:db8::1]:80", true},
		{"[::1]:80", "127.0.0.1:80", false},
	}
	for _, tt := range tests {
		if got := accepts(ap(tt.listener), ap(tt.local)); got != tt.want {
			t.Errorf("accepts(%s, %s) = %v, want %v", tt.listener, tt.local, got, tt.want)
		}
	}
}

func TestAnalyze(t *testing.T) {
	dir := t.TempDir()
	ww := filepath.Join(dir, "ww")
	if err := os.Mkdir(ww, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(ww, 0o777); err != nil { // past the umask
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(ww, "prog")
	if err := os.WriteFile(bin, b, 0o755); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(bin, link); err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(dir, "run.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh -e\necho hi\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	text := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(text, []byte("plain text"), 0o644); err != nil {
		t.Fatal(err)
	}

	got := Analyze(link)
	if got.ELF == nil || got.Error != "" {
		t.Fatalf("Analyze(link to the test binary) = ELF %v, error %q", got.ELF, got.Error)
	}
	if got.ELF.Toolchain.Language != elfsec.LangGo {
		t.Errorf("the test binary is Go, got %q", got.ELF.Toolchain.Language)
	}
	if got.Path != link {
		t.Errorf("Path = %q, want the path processes name, %q", got.Path, link)
	}
	// The chain describes the file that runs, links resolved: the last
	// two elements are the 0777 directory and the 0755 file.
	n := len(got.Chain)
	if n < 3 || got.Chain[0].Path != "/" || got.Chain[n-1].Path != bin || got.Chain[n-2].Path != ww {
		t.Fatalf("Chain = %+v", got.Chain)
	}
	if d, f := got.Chain[n-2], got.Chain[n-1]; d.Mode != 0o777 || !d.Dir || f.Mode != 0o755 || f.Dir || f.UID != uint32(os.Getuid()) {
		t.Errorf("chain ends with %+v, %+v", d, f)
	}

	if s := Analyze(script); s.Interpreter != "/bin/sh" || s.ELF != nil || s.Error != "" {
		t.Errorf("Analyze(script) = %+v, want interpreter /bin/sh and no error", s)
	}
	if s := Analyze(text); s.Error == "" || !strings.Contains(s.Error, "neither an ELF file nor a script") {
		t.Errorf("Analyze(text) error = %q", s.Error)
	}
	// Off disk: not read, but who can write its directory is still
	// known (the next start runs what is put there).
	if s := Analyze(bin + deletedSuffix); s.Error == "" || !s.OffDisk || len(s.Chain) == 0 || s.Chain[len(s.Chain)-1].Path != ww {
		t.Errorf("Analyze(deleted) = %+v, want an error and the chain of its directory", s)
	}
	// A device is never opened for reading (a watchdog would arm), even
	// when a path leads to it.
	dev := filepath.Join(dir, "dev")
	if err := os.Symlink("/dev/null", dev); err != nil {
		t.Fatal(err)
	}
	if s := Analyze(dev); !strings.Contains(s.Error, "not a regular file") {
		t.Errorf("Analyze(link to /dev/null) error = %q", s.Error)
	}
	if s := Analyze(filepath.Join(dir, "missing")); s.Error == "" {
		t.Error("Analyze(missing) has no error")
	}
}

// TestListenerSet uses the live /proc: a listener open at both snapshots
// is there for the whole window; one closed before the second is not.
func TestListenerSet(t *testing.T) {
	stay, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer stay.Close()
	gone, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	udp, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer udp.Close()
	// A connection established before the window (a pool): the port is
	// in use although no new connection arrives.
	pooled, err := net.Dial("tcp4", stay.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer pooled.Close()
	s := newListenerSet("/proc")
	if err := s.snapshot(time.Now()); err != nil {
		t.Fatal(err)
	}
	gone.Close()
	if err := s.snapshot(time.Now()); err != nil {
		t.Fatal(err)
	}
	local := func(a net.Addr) netip.AddrPort { return netip.MustParseAddrPort(a.String()) }
	conns := []observe.Connection{
		{Direction: observe.Inbound, Local: local(stay.Addr()), Count: 2},
		{Direction: observe.Outbound, Local: local(stay.Addr()), Count: 5},             // not received
		{Direction: observe.Inbound, Local: local(stay.Addr()), Count: 7, Netns: 4711}, // another namespace's listener
	}
	ls := s.result(conns)
	find := func(proto observe.Proto, a netip.AddrPort) *observe.Listener {
		for i := range ls {
			if ls[i].Proto == proto && ls[i].Local == a {
				return &ls[i]
			}
		}
		t.Fatalf("listener %s %s not found in %+v", proto, a, ls)
		return nil
	}
	st := find(observe.TCP, local(stay.Addr()))
	if !st.WholeWindow || st.Inbound != 2 || st.Established != 1 || st.PID != os.Getpid() || st.Exe == "" {
		t.Errorf("listener kept open: %+v", st)
	}
	if g := find(observe.TCP, local(gone.Addr())); g.WholeWindow || g.Established != 0 {
		t.Errorf("listener closed before the end: %+v", g)
	}
	if u := find(observe.UDP, local(udp.LocalAddr())); !u.WholeWindow || u.PID != os.Getpid() {
		t.Errorf("UDP socket: %+v", u)
	}
}

type recordingDisplay struct {
	mu      sync.Mutex
	method  observe.Method
	started chan struct{}
	ticks   int
	ended   bool
}

func (d *recordingDisplay) Started(m observe.Method, _ []observe.Fallback, _ time.Time) {
	d.mu.Lock()
	d.method = m
	d.mu.Unlock()
	close(d.started)
}
func (d *recordingDisplay) Tick(Progress) { d.mu.Lock(); d.ticks++; d.mu.Unlock() }
func (d *recordingDisplay) Closed()       {}
func (d *recordingDisplay) Ended(bool, observe.Stats) {
	d.mu.Lock()
	d.ended = true
	d.mu.Unlock()
}

// TestRunProc runs a short window with the /proc method, which works
// without privileges: a connection held across polls, a child process
// started in the window, and Stop ending it early.
func TestRunProc(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep(1)")
	}
	stop := make(chan struct{})
	d := &recordingDisplay{started: make(chan struct{})}
	type result struct {
		obs *observe.Observations
		err error
	}
	done := make(chan result, 1)
	go func() {
		o, err := Run(context.Background(), Options{Duration: time.Hour, Method: observe.MethodProc, Stop: stop, Display: d})
		done <- result{o, err}
	}()
	<-d.started

	child := exec.Command(sleep, "30")
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	defer child.Process.Kill()
	c, err := net.Dial("tcp4", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	// Hold the connection until a poll saw it (at most a generous deadline).
	deadline := time.Now().Add(20 * time.Second)
	for {
		d.mu.Lock()
		ticks := d.ticks
		d.mu.Unlock()
		if ticks >= 3 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	close(stop)
	r := <-done
	c.Close()
	if r.err != nil {
		t.Fatal(r.err)
	}
	o := r.obs
	if o.Method != observe.MethodProc || !o.Window.StoppedEarly || !d.ended {
		t.Errorf("method %s, stopped early %v, ended %v", o.Method, o.Window.StoppedEarly, d.ended)
	}
	var out bool
	for _, cn := range o.Connections {
		if cn.Direction == observe.Outbound && cn.Remote.String() == ln.Addr().String() && cn.PID == os.Getpid() {
			out = true
		}
	}
	if !out {
		t.Errorf("the outbound connection to %s is missing: %+v", ln.Addr(), o.Connections)
	}
	var child1 *observe.Process
	for i, p := range o.Processes {
		if p.PID == child.Process.Pid {
			child1 = &o.Processes[i]
		}
	}
	if child1 == nil || !child1.StartedInWindow || !child1.Running || len(child1.Cmdline) != 2 || child1.Cmdline[1] != "30" || len(child1.Objects) == 0 {
		t.Fatalf("child process: %+v", child1)
	}
	real, _ := filepath.EvalSymlinks(sleep)
	var bin *observe.Binary
	for i, b := range o.Binaries {
		if b.Path == real {
			bin = &o.Binaries[i]
		}
	}
	if bin == nil || bin.ELF == nil || bin.Origin != observe.OriginUnknown {
		t.Errorf("binary of sleep (%s): %+v", real, bin)
	}
}

// TestRunSelf: Kensa's own connections, children and grandchildren (apt-get
// runs download methods) are left out.
func TestRunSelf(t *testing.T) {
	if _, err := exec.LookPath("sleep"); err != nil {
		t.Skip("no sleep(1)")
	}
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	stop := make(chan struct{})
	d := &recordingDisplay{started: make(chan struct{})}
	done := make(chan *observe.Observations, 1)
	go func() {
		o, err := Run(context.Background(), Options{Duration: time.Hour, Method: observe.MethodProc, Stop: stop, Display: d, Self: os.Getpid()})
		if err != nil {
			t.Error(err)
		}
		done <- o
	}()
	<-d.started
	// sh runs sleep as its child: a grandchild of this process.
	child := exec.Command("sh", "-c", "sleep 30; true")
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	defer child.Process.Kill()
	c, err := net.Dial("tcp4", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// Let polls see the connection and the grandchild; the assertions do
	// not depend on how many ran.
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		d.mu.Lock()
		ticks := d.ticks
		d.mu.Unlock()
		if ticks >= 3 {
			break
		}
	}
	close(stop)
	o := <-done
	if o == nil {
		t.Fatal("no observations")
	}
	for _, p := range o.Processes {
		if p.PID == os.Getpid() || p.PID == child.Process.Pid || p.PPID == child.Process.Pid {
			t.Errorf("process %d of Kensa itself recorded: %+v", p.PID, p)
		}
	}
	for _, cn := range o.Connections {
		if cn.PID == os.Getpid() {
			t.Errorf("Kensa's own connection recorded: %+v", cn)
		}
	}
}

// TestAnalyzeOffDisk: an executable deleted while it runs is analysed
// through /proc/PID/exe; a deleted shared object is reported, not read.
func TestAnalyzeOffDisk(t *testing.T) {
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep(1)")
	}
	b, err := os.ReadFile(sleep)
	if err != nil {
		t.Fatal(err)
	}
	copyPath := filepath.Join(t.TempDir(), "sleeper")
	if err := os.WriteFile(copyPath, b, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(copyPath, "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	if err := os.Remove(copyPath); err != nil {
		t.Fatal(err)
	}
	procs := []observe.Process{
		{PID: cmd.Process.Pid, Running: true, Exe: copyPath + deletedSuffix, Objects: []string{"/usr/lib/libgone.so.1" + deletedSuffix}},
	}
	bins, _ := analyzeBinaries(context.Background(), "/proc", procs, nil)
	if len(bins) != 2 {
		t.Fatalf("binaries %+v", bins)
	}
	for _, bin := range bins {
		switch bin.Path {
		case copyPath + deletedSuffix:
			if !bin.OffDisk || bin.ELF == nil || bin.Error != "" || len(bin.Chain) == 0 || bin.Chain[len(bin.Chain)-1].Path != filepath.Dir(copyPath) {
				t.Errorf("deleted executable: %+v", bin)
			}
		default:
			if !bin.OffDisk || bin.ELF != nil || bin.Error == "" {
				t.Errorf("deleted shared object: %+v", bin)
			}
		}
	}
}
