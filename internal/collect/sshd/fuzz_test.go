package sshd_test

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/kensa-dev/kensa/internal/collect"
	"github.com/kensa-dev/kensa/internal/collect/sshd"
	"github.com/kensa-dev/kensa/internal/host"
)

// FuzzEvaluate runs the evaluator on a main file and a drop-in that both
// hold the input (so an Include in it may include itself).
func FuzzEvaluate(f *testing.F) {
	f.Add([]byte("Include /etc/ssh/sshd_config.d/*.conf\nPermitRootLogin yes\nMatch User x\n  X11Forwarding yes\n"))
	f.Add([]byte("permitrootlogin=No\nPASSWORDAUTHENTICATION  \"no\"\nProtocol 1\nMaxAuthTries\t4\n"))
	f.Add([]byte("Match all\nAllowUsers a b\nInclude sshd_config\nMatch Address 10.0.0.0/8\nInclude sshd_config.d/[a-\n"))
	f.Add([]byte("Banner 'a \\' b' #c\nLoginGraceTime 1h2m3s\nMaxStartups 5\nForceCommand  x \"y\"\n\"Key\"=v\n= x\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		fsys := fstest.MapFS{
			"etc/ssh/sshd_config":          {Data: b},
			"etc/ssh/sshd_config.d/a.conf": {Data: b},
		}
		cfg, errs := sshd.Evaluate(fsys, sshd.ParseVersion("9.2p1"))
		if len(errs) > collect.KeptProblems+2 {
			t.Fatalf("%d errors", len(errs))
		}
		check := func(m map[string]host.Setting) {
			for k, s := range m {
				if k == "" || k != strings.ToLower(k) || strings.ContainsAny(k, " \t\r\n\"=") || k[0] == '#' {
					t.Fatalf("bad keyword %q", k)
				}
				if s.File != "" && (s.Line < 1 || s.Value == "") {
					t.Fatalf("%s: %+v", k, s)
				}
			}
		}
		check(cfg.Global)
		for k := range sshd.Defaults(sshd.ParseVersion("9.2p1")) {
			if _, ok := cfg.Global[k]; !ok {
				t.Fatalf("default %s missing", k)
			}
		}
		for _, m := range cfg.Matches {
			if m.Criteria == "" || m.Settings == nil || m.Line < 1 {
				t.Fatalf("match %+v", m)
			}
			check(m.Settings)
		}
		if len(cfg.Files) > 2 {
			t.Fatalf("files %v", cfg.Files)
		}
	})
}
