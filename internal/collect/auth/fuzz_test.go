package auth_test

import (
	"strings"
	"testing"

	"github.com/kensa-dev/kensa/internal/collect/auth"
)

func FuzzParsePAM(f *testing.F) {
	for _, s := range []string{
		"auth [success=1 default=ignore] pam_unix.so nullok\n",
		"-session optional pam_systemd.so\n@include common-auth\n",
		"password requisite pam_pwquality.so \\\n# c\n retry=3 [a b\\]] # x\n",
		"auth\tinclude\tsystem-auth\r\nAccount SUBSTACK x\n[x] y z\n-\n",
		"auth [default=die pam_x.so\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		lines, errs := auth.ParsePAM(b)
		if len(errs) > 20 {
			t.Fatalf("%d errors kept", len(errs))
		}
		prev := 0
		for _, l := range lines {
			if l.Line <= prev {
				t.Fatalf("line numbers not increasing: %d after %d", l.Line, prev)
			}
			prev = l.Line
			switch l.Type {
			case "auth", "account", "password", "session":
				if l.Control == "" && l.Module == "" {
					t.Fatalf("empty control and module: %+v", l)
				}
				if l.Module == "" {
					t.Fatalf("empty module: %+v", l)
				}
			case "@include":
				if l.Module == "" {
					t.Fatalf("@include without a name: %+v", l)
				}
			default:
				t.Fatalf("type %q", l.Type)
			}
			for _, a := range append([]string{l.Module}, l.Args...) {
				if strings.Contains(a, "#") {
					t.Fatalf("comment in a field: %+v", l)
				}
			}
		}
	})
}

func FuzzParseLoginDefs(f *testing.F) {
	for _, s := range []string{
		"PASS_MAX_DAYS\t99999\n# c\nUMASK 022\n",
		"  ENV_PATH \"PATH=/bin\" \n LONELY\n",
		"minlen = 14\nenforce_for_root\nx=\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		defs, _ := auth.ParseLoginDefs(b, "/etc/login.defs")
		for k, s := range defs {
			if k == "" || strings.ContainsAny(k, " \t\n") || strings.HasPrefix(k, "#") {
				t.Fatalf("key %q", k)
			}
			if strings.Contains(s.Value, "\"") || strings.Contains(s.Value, "\n") || s.Line < 1 {
				t.Fatalf("%s = %+v", k, s)
			}
		}
		kvs, _ := auth.ParseKeyValues(b)
		for _, kv := range kvs {
			if strings.ContainsAny(kv.Key, "#= \t\n") || strings.Contains(kv.Value, "#") {
				t.Fatalf("kv %+v", kv)
			}
		}
	})
}

func FuzzParseSearchKey(f *testing.F) {
	for _, s := range []string{
		"remember = 24\nenforce_for_root\n# c\nRETRY=3 # x\n",
		"  =x\n\t\r\n#\nfile\t/etc/x\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for k, s := range auth.ParseSearchKey(b, "/f") {
			if k != strings.ToLower(k) || strings.ContainsAny(k, " \t=#") {
				t.Fatalf("key %q", k)
			}
			if strings.Contains(s.Value, "#") || s.Line < 1 {
				t.Fatalf("setting %q: %+v", k, s)
			}
		}
	})
}

func FuzzParseUserAddDefaults(f *testing.F) {
	for _, s := range []string{
		"SHELL=/bin/sh\n# INACTIVE=-1\nINACTIVE=45\n",
		"INACTIVE=0x2d\nEXPIRE=\nGROUP=100\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for k, s := range auth.ParseUserAddDefaults(b, "/f") {
			if s.Line < 1 || len(s.Value) > 1023 {
				t.Fatalf("%s: %+v", k, s)
			}
			n, valid := auth.UserAddInactive(s, true)
			if n < -1 || (!valid && n != -1) {
				t.Fatalf("UserAddInactive(%q) = %d, %v", s.Value, n, valid)
			}
		}
	})
}
