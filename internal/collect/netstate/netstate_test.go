package netstate_test

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/kensa-dev/kensa/internal/collect/netstate"
	"github.com/kensa-dev/kensa/internal/finding"
	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/rules"
	"github.com/kensa-dev/kensa/internal/testfixture"
)

func write(t *testing.T, root, name, body string) {
	t.Helper()
	p := filepath.Join(root, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

func link(t *testing.T, root, name, target string) {
	t.Helper()
	p := filepath.Join(root, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, p); err != nil {
		t.Fatal(err)
	}
}

func runOf(t *testing.T, inv *host.Inventory) host.CollectorRun {
	t.Helper()
	for _, r := range inv.Collectors {
		if r.Name == "config/net" {
			return r
		}
	}
	t.Fatal("config/net did not run")
	return host.CollectorRun{}
}

const header = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"

// A root with the socket tables and interfaces of a running host.
func TestFixtureRoot(t *testing.T) {
	root := t.TempDir()
	write(t, root, "proc/net/tcp", header+
		"   0: 0100007F:0019 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 101 1 0 100 0 0 10 0\n"+
		"   1: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 102 1 0 100 0 0 10 0\n"+
		"   2: 0F02000A:0016 0202000A:D2C4 01 00000000:00000000 02:0009E5F2 00000000     0        0 103 4 0 20 4 30 10 -1\n")
	write(t, root, "proc/net/tcp6", header+
		"   0: 00000000000000000000000001000000:0019 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 104 1 0 100 0 0 10 0\n")
	write(t, root, "proc/net/udp", header+
		"  1: 00000000:0044 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 105 2 0 0\n"+
		"  2: 0F02000A:A1B2 08080808:0035 01 00000000:00000000 00:00000000 00000000   100        0 106 2 0 0\n")
	write(t, root, "proc/net/udp6", header)
	write(t, root, "sys/class/net/lo/operstate", "unknown\n")
	write(t, root, "sys/class/net/eth0/operstate", "up\n")
	write(t, root, "sys/class/net/wlan0/operstate", "down\n")
	if err := os.MkdirAll(filepath.Join(root, "sys/class/net/wlan0/wireless"), 0o755); err != nil {
		t.Fatal(err)
	}
	link(t, root, "sys/class/net/wlan0/device/driver/module", "../../../../module/iwlwifi")
	write(t, root, "etc/modprobe.d/wireless.conf", "install iwlwifi /bin/false\n")

	inv := testfixture.Collect(t, root, netstate.New())
	if r := runOf(t, inv); r.Status != host.StatusOK {
		t.Fatalf("run: %+v", r)
	}
	n := inv.Config.Network
	if !n.SocketsKnown || n.OwnersKnown {
		t.Errorf("known: sockets %v owners %v (%s)", n.SocketsKnown, n.OwnersKnown, n.OwnersSource)
	}
	var got []string
	for _, s := range n.Listening {
		got = append(got, s.Proto+" "+s.Address+" "+itoa(s.Port)+" "+s.File+":"+itoa(s.Line))
	}
	want := []string{
		"tcp 127.0.0.1 25 /proc/net/tcp:2",
		"tcp 0.0.0.0 22 /proc/net/tcp:3",
		"tcp6 ::1 25 /proc/net/tcp6:2",
		"udp 0.0.0.0 68 /proc/net/udp:2",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("listening:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(n.Wireless) != 1 {
		t.Fatalf("wireless: %+v", n.Wireless)
	}
	w := n.Wireless[0]
	if w.Name != "wlan0" || w.OperState != "down" || w.Driver != "iwlwifi" || w.DriverInstall == nil ||
		w.DriverInstall.Value != "/bin/false" || w.DriverInstall.File != "/etc/modprobe.d/wireless.conf" || w.DriverBlacklisted != nil {
		t.Errorf("wlan0: %+v install %+v", w, w.DriverInstall)
	}

	// The rules: the MTA is on loopback; sshd and the DHCP client are not;
	// the wireless driver is not blacklisted.
	outcome := func(c rules.Check) rules.Outcome { return c.Evaluate(inv) }
	if o := outcome(rules.Check{Listening: &rules.ListeningCheck{Protos: []string{"tcp"}, Ports: []int{25, 465, 587}}}); o.Status != finding.StatusPass {
		t.Errorf("mta: %+v", o)
	}
	o := outcome(rules.Check{Listening: &rules.ListeningCheck{}})
	if o.Status != finding.StatusFail || len(o.Evidence) < 2 ||
		!strings.Contains(o.Evidence[0], "tcp 0.0.0.0:22 (/proc/net/tcp:3)") || !strings.Contains(o.Evidence[1], "udp 0.0.0.0:68") {
		t.Errorf("all: %+v", o)
	}
	if o := outcome(rules.Check{Listening: &rules.ListeningCheck{Allowed: []string{"tcp/22", "udp/68"}}}); o.Status != finding.StatusPass {
		t.Errorf("approved: %+v", o)
	}
	o = outcome(rules.Check{Wireless: &rules.WirelessCheck{}})
	if o.Status != finding.StatusFail || !strings.Contains(strings.Join(o.Evidence, "\n"), "not blacklisted") {
		t.Errorf("wireless: %+v", o)
	}
	write(t, root, "etc/modprobe.d/wireless.conf", "install iwlwifi /bin/false\nblacklist iwlwifi\n")
	inv = testfixture.Collect(t, root, netstate.New())
	if o := (&rules.Check{Wireless: &rules.WirelessCheck{}}).Evaluate(inv); o.Status != finding.StatusPass {
		t.Errorf("wireless disabled: %+v", o)
	}
	write(t, root, "sys/class/net/wlan0/operstate", "up\n")
	inv = testfixture.Collect(t, root, netstate.New())
	if o := (&rules.Check{Wireless: &rules.WirelessCheck{}}).Evaluate(inv); o.Status != finding.StatusFail {
		t.Errorf("wireless up: %+v", o)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// An image (debootstrap leaves proc/ and sys/ empty) has no live facts:
// the rules are not applicable, never passing on an empty list.
func TestImageNotApplicable(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"proc", "sys", "etc"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	inv := testfixture.Collect(t, root, netstate.New())
	if r := runOf(t, inv); r.Status != host.StatusSkipped || !strings.Contains(r.Reason, "no proc/net") {
		t.Fatalf("run: %+v", r)
	}
	for _, c := range []rules.Check{{Listening: &rules.ListeningCheck{}}, {Wireless: &rules.WirelessCheck{}}} {
		if o := c.Evaluate(inv); o.Status != finding.StatusNotApplicable || !strings.Contains(o.Reason, "running kernel") {
			t.Errorf("%+v", o)
		}
	}
	// Not collected at all is an error.
	if o := (&rules.Check{Listening: &rules.ListeningCheck{}}).Evaluate(&host.Inventory{}); o.Status != finding.StatusError {
		t.Errorf("not collected: %+v", o)
	}
}

// Hostile roots: a FIFO where proc/net/tcp is, and links that lead out
// of the root, neither hang nor escape.
func TestHostileRoot(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "proc/net"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(root, "proc/net/tcp"), 0o644); err != nil {
		t.Fatal(err)
	}
	outside := t.TempDir()
	write(t, outside, "udp", header+"  1: 00000000:0044 00000000:0000 07 0:0 0:0 0 0 0 105 2 0 0\n")
	link(t, root, "proc/net/udp", filepath.Join(outside, "udp"))
	link(t, root, "sys/class/net", "/sys/class/net")
	inv := testfixture.Collect(t, root, netstate.New())
	n := inv.Config.Network
	if n.SocketsKnown || len(n.Listening) != 0 {
		t.Errorf("sockets from a FIFO or outside the root: %+v", n)
	}
	if n.WirelessKnown {
		t.Errorf("the host's /sys/class/net was read through a link: %+v", n)
	}
	if r := runOf(t, inv); len(r.Errors) == 0 {
		t.Errorf("the FIFO was not reported: %+v", r)
	}
}

// On the live host the owner of a socket is found by its inode.
func TestLiveOwners(t *testing.T) {
	if _, err := os.Stat("/proc/net/tcp"); err != nil {
		t.Skip("no /proc/net/tcp")
	}
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Skip(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	inv := testfixture.Collect(t, "/", netstate.New())
	n := inv.Config.Network
	if !n.SocketsKnown {
		t.Fatalf("sockets not known: %s", n.SocketsSource)
	}
	for _, s := range n.Listening {
		if s.Proto != "tcp" || s.Port != port || s.Address != "127.0.0.1" {
			continue
		}
		for _, p := range s.Processes {
			if p.PID == os.Getpid() {
				exe, _ := os.Executable()
				if p.Exe != exe {
					t.Errorf("exe %q, want %q", p.Exe, exe)
				}
				return
			}
		}
		t.Fatalf("socket found without this process as owner: %+v (%s)", s, n.OwnersSource)
	}
	t.Fatalf("listening socket 127.0.0.1:%d not found in %+v", port, n.Listening)
}

// A wireless interface without a driver module link (a built-in driver)
// is judged on its state alone.
func TestWirelessBuiltinDriver(t *testing.T) {
	root := t.TempDir()
	write(t, root, "sys/class/net/wlan0/operstate", "down\n")
	link(t, root, "sys/class/net/wlan0/phy80211", "../../ieee80211/phy0")
	inv := testfixture.Collect(t, root, netstate.New())
	c := rules.Check{Wireless: &rules.WirelessCheck{}}
	if o := c.Evaluate(inv); o.Status != finding.StatusPass || !strings.Contains(strings.Join(o.Evidence, "\n"), "only the interface's state is judged") {
		t.Errorf("down: %+v", o)
	}
	write(t, root, "sys/class/net/wlan0/operstate", "up\n")
	inv = testfixture.Collect(t, root, netstate.New())
	if o := c.Evaluate(inv); o.Status != finding.StatusFail || !strings.Contains(strings.Join(o.Evidence, "\n"), `operstate "up" (want down)`) {
		t.Errorf("up: %+v", o)
	}
}

// A socket table read in part (a file that could not be read, a line
// that did not parse, udp without tcp) never passes: the listening check
// gives error naming what is missing, unless a socket it did see is
// reachable, which fails.
func TestPartialSocketTable(t *testing.T) {
	const (
		lo25     = "   0: 0100007F:0019 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 101 1 0 100 0 0 10 0\n"
		any25    = "   0: 00000000:0019 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 101 1 0 100 0 0 10 0\n"
		mapped25 = "   0: 0000000000000000FFFF00000100007F:0019 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 104 1 0 100 0 0 10 0\n"
		udp68    = "   1: 00000000:0044 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 105 2 0 0\n"
	)
	mta := rules.Check{Listening: &rules.ListeningCheck{Protos: []string{"tcp"}, Ports: []int{25}}}
	for _, tc := range []struct {
		name   string
		files  map[string]string
		dirs   []string
		status string
		ev     string
	}{
		{"whole", map[string]string{"tcp": header + lo25, "tcp6": header + mapped25, "udp": header + udp68, "udp6": header}, nil,
			finding.StatusPass, "tcp6 [::ffff:127.0.0.1]:25 (/proc/net/tcp6:2): loopback"},
		{"no IPv6 in the kernel", map[string]string{"tcp": header + lo25, "udp": header + udp68}, nil,
			finding.StatusPass, "tcp 127.0.0.1:25 (/proc/net/tcp:2): loopback"},
		{"tcp6 unreadable", map[string]string{"tcp": header + lo25, "udp": header + udp68, "udp6": header}, []string{"proc/net/tcp6"},
			finding.StatusError, "/proc/net/tcp6 could not be read"},
		{"tcp6 line not understood", map[string]string{"tcp": header + lo25, "tcp6": header + "   0: 00000000000000000000000000000000:0019 garbage\n", "udp": header + udp68, "udp6": header}, nil,
			finding.StatusError, "/proc/net/tcp6: lines not understood (first: line 2:"},
		{"udp without tcp", map[string]string{"udp": header + udp68}, nil,
			finding.StatusError, "/proc/net/tcp does not exist while other socket tables do"},
		{"nothing readable", nil, []string{"proc/net/tcp", "proc/net/udp"},
			finding.StatusError, "/proc/net/tcp could not be read"},
		{"a reachable socket fails", map[string]string{"tcp": header + any25, "udp": header + udp68, "udp6": header}, []string{"proc/net/tcp6"},
			finding.StatusFail, "socket table incomplete: /proc/net/tcp6 could not be read"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			for name, body := range tc.files {
				write(t, root, "proc/net/"+name, body)
			}
			for _, d := range tc.dirs {
				if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			inv := testfixture.Collect(t, root, netstate.New())
			o := mta.Evaluate(inv)
			text := strings.Join(o.Evidence, "\n") + "\n" + o.Reason
			if o.Status != tc.status || !strings.Contains(text, tc.ev) {
				t.Errorf("got %s, want %s with %q:\n%s\nnetwork: %+v", o.Status, tc.status, tc.ev, text, inv.Config.Network)
			}
		})
	}
}
