package system_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kensa-dev/kensa/internal/collect/system"
	"github.com/kensa-dev/kensa/internal/host"
)

func TestParseSysctl(t *testing.T) {
	in := "# comment\n" +
		"; also a comment\n" +
		"   \n" +
		"kernel.randomize_va_space = 2\n" +
		"  net.ipv4.ip_forward=0  \r\n" +
		"-net.ipv4.conf.all.rp_filter = 1\n" +
		"net/ipv4/conf/eth0.100/rp_filter = 2\n" +
		"-net.ipv4.conf.lo.rp_filter\n" +
		"net.ipv4.conf.*.log_martians = 1\n" +
		"kernel.core_pattern = |/usr/bin/x %p # not a comment\n" +
		"vm.empty =\n" +
		"not an assignment\n" +
		"= 1\n" +
		"-\n" +
		"kernel.a = b = c\n" +
		"kernel.nul = 1\x00garbage\n" +
		"kernel.last = 5" // no final newline
	got, errs := system.ParseSysctl([]byte(in))
	want := []system.Assignment{
		{Key: "kernel.randomize_va_space", Value: "2", Line: 4},
		{Key: "net.ipv4.ip_forward", Value: "0", Line: 5},
		{Key: "net.ipv4.conf.all.rp_filter", Value: "1", Line: 6, IgnoreErrors: true},
		{Key: "net.ipv4.conf.eth0/100.rp_filter", Value: "2", Line: 7},
		{Key: "net.ipv4.conf.lo.rp_filter", Line: 8, Exclude: true},
		{Key: "net.ipv4.conf.*.log_martians", Value: "1", Line: 9},
		{Key: "kernel.core_pattern", Value: "|/usr/bin/x %p # not a comment", Line: 10},
		{Key: "vm.empty", Value: "", Line: 11},
		{Key: "kernel.a", Value: "b = c", Line: 15},
		{Key: "kernel.nul", Value: "1", Line: 16},
		{Key: "kernel.last", Value: "5", Line: 17},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ParseSysctl (-want +got):\n%s", diff)
	}
	if len(errs) != 3 {
		t.Errorf("errors = %v, want 3 (lines 12, 13, 14)", errs)
	}
	if !got[5].Glob() || got[0].Glob() {
		t.Error("Glob wrong")
	}
}

func TestNormalizeKeyPath(t *testing.T) {
	for _, c := range []struct{ in, dotted, path string }{
		{"kernel.randomize_va_space", "kernel.randomize_va_space", "kernel/randomize_va_space"},
		{"kernel/randomize_va_space", "kernel.randomize_va_space", "kernel/randomize_va_space"},
		{"net/ipv4/conf/eth0.100/rp_filter", "net.ipv4.conf.eth0/100.rp_filter", "net/ipv4/conf/eth0.100/rp_filter"},
		{"net.ipv4.conf.eth0/100.rp_filter", "net.ipv4.conf.eth0/100.rp_filter", "net/ipv4/conf/eth0.100/rp_filter"},
		{"plain", "plain", "plain"},
	} {
		if got := system.Normalize(c.in); got != c.dotted {
			t.Errorf("Normalize(%q) = %q, want %q", c.in, got, c.dotted)
		}
		if got := system.KeyPath(c.dotted); got != c.path {
			t.Errorf("KeyPath(%q) = %q, want %q", c.dotted, got, c.path)
		}
	}
}

func TestMerge(t *testing.T) {
	parse := func(name, text string) system.ConfFile {
		as, errs := system.ParseSysctl([]byte(text))
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		return system.ConfFile{Name: name, Assignments: as}
	}
	files := []system.ConfFile{
		parse("/a.conf", "net.ipv4.conf.all.rp_filter = 2\nnet.ipv4.conf.*.rp_filter = 1\nnet.ipv4.conf.*.log_martians = 1\n"),
		parse("/b.conf", "-net.ipv4.conf.lo.log_martians\nnet.ipv4.conf.*.rp_filter = 3\nkernel.x = 1\n"),
		parse("/c.conf", "kernel.x = 2\n"),
	}
	known := []string{"net.ipv4.conf.all.rp_filter", "net.ipv4.conf.default.rp_filter", "net.ipv4.conf.lo.log_martians", "net.ipv4.conf.all.log_martians", "net.ipv6.conf.all.rp_filter"}
	got := system.Merge(files, known)
	want := map[string]host.Setting{
		// An explicit assignment beats a later glob.
		"net.ipv4.conf.all.rp_filter": {Value: "2", File: "/a.conf", Line: 1},
		// Of two globs the later wins.
		"net.ipv4.conf.default.rp_filter": {Value: "3", File: "/b.conf", Line: 2},
		"net.ipv4.conf.*.rp_filter":       {Value: "3", File: "/b.conf", Line: 2},
		"net.ipv4.conf.*.log_martians":    {Value: "1", File: "/a.conf", Line: 3},
		// lo is excluded from the glob (by a later line: order does not matter).
		"net.ipv4.conf.all.log_martians": {Value: "1", File: "/a.conf", Line: 3},
		"kernel.x":                       {Value: "2", File: "/c.conf", Line: 1},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Merge (-want +got):\n%s", diff)
	}
}
