package system_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/kensa-dev/kensa/internal/collect/system"
)

func FuzzParseSysctl(f *testing.F) {
	for _, s := range []string{
		"kernel.randomize_va_space = 2\n",
		"# c\n; c\n-net.ipv4.conf.all.rp_filter = 1\n-net.ipv4.conf.lo.rp_filter\n",
		"net/ipv4/conf/eth0.100/rp_filter=2\r\nnet.ipv4.conf.*.log_martians = 1",
		"= 1\n-\n-=\nx\n\x00a = b\na\x00 = b\n",
		"  - kernel.x =  \t v a l  \n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		as, errs := system.ParseSysctl(data)
		lines := strings.Count(string(data), "\n") + 1
		if len(errs) > 20 {
			t.Errorf("%d errors, more than the cap", len(errs))
		}
		last := 0
		for _, a := range as {
			if a.Key == "" {
				t.Errorf("empty key: %+v", a)
			}
			if a.Line <= last || a.Line > lines {
				t.Errorf("line %d after %d of %d", a.Line, last, lines)
			}
			last = a.Line
			if strings.ContainsAny(a.Key, "\n\x00") || strings.ContainsAny(a.Value, "\n\x00") {
				t.Errorf("newline or NUL kept: %+v", a)
			}
			if strings.TrimRight(a.Key, " \t\r\v\f") != a.Key || strings.Trim(a.Value, " \t\r\v\f") != a.Value {
				t.Errorf("blanks kept: %+v", a)
			}
			if a.Exclude && a.Value != "" {
				t.Errorf("exclusion with a value: %+v", a)
			}
			if system.Normalize(a.Key) != a.Key {
				t.Errorf("key not normalised: %q", a.Key)
			}
			if system.Normalize(system.KeyPath(a.Key)) != a.Key {
				t.Errorf("KeyPath does not invert Normalize: %q -> %q", a.Key, system.KeyPath(a.Key))
			}
		}
		system.Merge([]system.ConfFile{{Name: "/f.conf", Assignments: as}}, slices.Concat(system.DefaultSysctlKeys, []string{"net.ipv4.conf.eth0/100.rp_filter"}))
	})
}
