package users

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/kensa-dev/kensa/internal/collect"
	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/hostfs"
	"github.com/kensa-dev/kensa/internal/testfixture"
)

const hash = "$y$j9T$abcdefghijklmnop$SECRETSECRETSECRETSECRET"

func TestCollect(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "etc"), 0o755)
	os.WriteFile(filepath.Join(root, "etc/passwd"), []byte("root:x:0:0:root:/root:/bin/bash\n+nis\nbad line\nalice:x:1000:1000:Alice,,,:/home/alice:/bin/zsh\n"), 0o644)
	os.WriteFile(filepath.Join(root, "etc/shadow"), []byte("root:"+hash+":19700:0:99999:7:::\nalice:!"+hash+":19000::90:7:30:20000:\n"), 0o600)
	os.WriteFile(filepath.Join(root, "etc/group"), []byte("root:x:0:\nsudo:x:27:alice,bob\n"), 0o644)
	fsys, _ := hostfs.Open(root)
	inv := collect.Run(context.Background(), &collect.Env{FS: fsys}, []collect.Collector{New()}, nil)
	if r := inv.Collectors[0]; r.Status != host.StatusPartial || r.ErrorCount != 1 {
		t.Fatalf("run = %+v (the bad passwd line must be reported)", r)
	}
	i := func(v int) *int { return &v }
	want := []host.User{
		{Name: "root", UID: 0, GID: 0, Gecos: "root", Home: "/root", Shell: "/bin/bash", Line: 1, PasswdField: "shadowed", Shadow: &host.ShadowAging{PasswordState: "set", Scheme: "y", Line: 1, LastChange: i(19700), MinDays: i(0), MaxDays: i(99999), WarnDays: i(7)}},
		{Name: "alice", UID: 1000, GID: 1000, Gecos: "Alice,,,", Home: "/home/alice", Shell: "/bin/zsh", Line: 4, PasswdField: "shadowed", Shadow: &host.ShadowAging{PasswordState: "locked", Scheme: "y", Line: 2, LastChange: i(19000), MaxDays: i(90), WarnDays: i(7), InactiveDays: i(30), Expire: i(20000)}},
	}
	if d := cmp.Diff(want, inv.Users); d != "" {
		t.Errorf("users (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]host.Group{{Name: "root", GID: 0, Line: 1}, {Name: "sudo", GID: 27, Line: 2, Members: []string{"alice", "bob"}}}, inv.Groups); d != "" {
		t.Errorf("groups (-want +got):\n%s", d)
	}
	b, _ := json.Marshal(inv)
	if strings.Contains(string(b), "SECRET") || strings.Contains(string(b), "$y$") {
		t.Fatal("a password hash leaked into the inventory")
	}
}

func TestPasswordState(t *testing.T) {
	for in, want := range map[string]string{"": "empty", "*": "none", "!": "none", "!!": "none", "!" + hash: "locked", hash: "set", "*LK*": "none"} {
		if got := PasswordState(in); got != want {
			t.Errorf("PasswordState(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestShadowErrorsNeverEchoTheLine(t *testing.T) {
	_, errs := ParseShadow([]byte("broken:" + hash + "\n"))
	if len(errs) != 1 || strings.Contains(errs[0].Error(), "SECRET") {
		t.Fatalf("errs = %v", errs)
	}
}

// TestLongLineDoesNotHideLaterUsers: a garbage line is reported and the
// accounts after it are still read.
func TestLongLineDoesNotHideLaterUsers(t *testing.T) {
	b := []byte("root:x:0:0::/root:/bin/sh\n" + strings.Repeat("A", 2<<20) + "\nbob:x:1001:1001::/home/bob:/bin/sh\n")
	users, errs := ParsePasswd(b)
	if len(users) != 2 || users[1].Name != "bob" {
		t.Fatalf("users = %+v", users)
	}
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "line 2") {
		t.Fatalf("errs = %v", errs)
	}
}

// TestGarbageErrorsBounded: 60 MB of "x\n" lines in each account file is
// reported with a few messages per file, and each parse gives up after
// collect.MaxProblems. Accounts before the garbage are kept.
func TestGarbageErrorsBounded(t *testing.T) {
	garbage := strings.Repeat("x\n", 30_000_000)
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "etc"), 0o755)
	os.WriteFile(filepath.Join(root, "etc/passwd"), []byte("root:x:0:0::/root:/bin/sh\n"+garbage+"bob:x:1001:1001::/home/bob:/bin/sh\n"), 0o644)
	os.WriteFile(filepath.Join(root, "etc/shadow"), []byte("root:*:1:2:3:4:5:6:\n"+garbage), 0o600)
	os.WriteFile(filepath.Join(root, "etc/group"), []byte("root:x:0:\n"+garbage), 0o644)
	inv := testfixture.Collect(t, root, New())
	run := inv.Collectors[0]
	// Each file: collect.KeptProblems problems, "N more problems" and "too many
	// errors"; only the first collect.MaxErrors messages are kept.
	if run.Status != host.StatusPartial || run.ErrorCount != 3*(collect.KeptProblems+2) || len(run.Errors) != collect.MaxErrors {
		t.Fatalf("run = %+v", run)
	}
	if run.Errors[collect.KeptProblems] != "/etc/passwd: 9984 more problems" ||
		run.Errors[collect.KeptProblems+1] != "/etc/passwd: line 10002: too many errors; the rest of the file was skipped" {
		t.Errorf("summaries: %q", run.Errors[collect.KeptProblems:])
	}
	if len(inv.Users) != 1 || inv.Users[0].Name != "root" || inv.Users[0].Shadow == nil || len(inv.Groups) != 1 {
		t.Errorf("users %+v, groups %+v", inv.Users, inv.Groups)
	}
}

// TestErrorsBounded: a few hundred bad lines are summed up and the whole
// file is read; shadow lines with several bad fields count each.
func TestErrorsBounded(t *testing.T) {
	users, errs := ParsePasswd([]byte(strings.Repeat("bad\n", 300) + "bob:x:1001:1001::/home/bob:/bin/sh\n"))
	if len(users) != 1 || len(errs) != collect.KeptProblems+1 || errs[collect.KeptProblems].Error() != "284 more problems" {
		t.Errorf("users %+v, errs %q", users, errs)
	}
	aging, errs := ParseShadow([]byte(strings.Repeat("u:"+hash+":a:b:c:d:e:f:\n", 2000) + "bob:*:1::::::\n"))
	// Six problems a line: the limit is passed on line 1667, and bob's
	// line is never read.
	if len(aging) != 1 || len(errs) != collect.KeptProblems+2 || errs[collect.KeptProblems].Error() != fmt.Sprintf("%d more problems", 1667*6-collect.KeptProblems) ||
		errs[collect.KeptProblems+1].Error() != "line 1668: too many errors; the rest of the file was skipped" {
		t.Errorf("aging %v, errs %q", aging, errs)
	}
	for _, e := range errs {
		if strings.Contains(e.Error(), "SECRET") {
			t.Fatal("a password hash leaked into an error")
		}
	}
	groups, errs := ParseGroup([]byte(strings.Repeat("g:x:y:\n", 20) + "root:x:0:\n"))
	if len(groups) != 1 || len(errs) != collect.KeptProblems+1 || errs[collect.KeptProblems].Error() != "4 more problems" {
		t.Errorf("groups %+v, errs %q", groups, errs)
	}
}

// TestDuplicatesKept: duplicate names and ids stay visible in passwd and
// group (checks look for them); shadow and gshadow use the first entry of
// a name, as getspnam and getsgnam do.
func TestDuplicatesKept(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "etc"), 0o755)
	os.WriteFile(filepath.Join(root, "etc/passwd"), []byte("root:x:0:0::/root:/bin/bash\ntoor:x:0:0::/root:/bin/sh\nroot:"+hash+":0:0::/root:/bin/sh\nnopw::1001:1001::/home/nopw:/bin/sh\nghost:x:1002:1002::/:/bin/sh\n"), 0o644)
	os.WriteFile(filepath.Join(root, "etc/shadow"), []byte("root:"+hash+":1:::::\nroot::2:::::\ntoor:!:3:::::\nnopw:!:4:::::\n"), 0o600)
	os.WriteFile(filepath.Join(root, "etc/group"), []byte("root:x:0:\nwheel:x:0:\nwheel:x:10:bob\nshadow:x:42:\n"), 0o644)
	os.WriteFile(filepath.Join(root, "etc/gshadow"), []byte("root:*::\nshadow:!:adm1,adm2:eve\nshadow:!::\nwheel:"+hash+"::\n"), 0o600)
	inv := testfixture.Collect(t, root, New())
	if r := inv.Collectors[0]; r.Status != host.StatusOK {
		t.Fatalf("run = %+v", r)
	}
	var got []string
	for _, u := range inv.Users {
		s := "-"
		if u.Shadow != nil {
			s = fmt.Sprintf("%s/%d", u.Shadow.PasswordState, *u.Shadow.LastChange)
		}
		got = append(got, fmt.Sprintf("%s:%d:%s:%s:%v:%d", u.Name, u.UID, u.PasswdField, s, u.NoShadowEntry, u.Line))
	}
	want := []string{"root:0:shadowed:set/1:false:1", "toor:0:shadowed:none/3:false:2", "root:0:other:set/1:false:3", "nopw:1001:empty:none/4:false:4", "ghost:1002:shadowed:-:true:5"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("users (-want +got):\n%s", d)
	}
	if len(inv.Groups) != 4 || inv.Groups[1].Name != "wheel" || inv.Groups[2].Name != "wheel" || inv.Groups[1].GID != 0 {
		t.Fatalf("groups = %+v", inv.Groups)
	}
	sh := inv.Groups[3].Shadow
	if sh == nil || sh.Line != 2 || !cmp.Equal(sh.Admins, []string{"adm1", "adm2"}) || !cmp.Equal(sh.Members, []string{"eve"}) {
		t.Errorf("shadow group's gshadow = %+v", sh)
	}
	if w := inv.Groups[1].Shadow; w == nil || w.PasswordState != "set" {
		t.Errorf("wheel's gshadow = %+v", w)
	}
	b, _ := json.Marshal(inv)
	if strings.Contains(string(b), "SECRET") {
		t.Fatal("a password hash leaked into the inventory")
	}
}

// TestUnreadableShadow: a shadow file that cannot be read is an error of
// the run, and no user is marked as read-without-entry, so checks cannot
// take the missing facts for a clean file.
func TestUnreadableShadow(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "etc/shadow"), 0o755) // a directory: unreadable as a file
	os.WriteFile(filepath.Join(root, "etc/passwd"), []byte("root:x:0:0::/root:/bin/bash\n"), 0o644)
	inv := testfixture.Collect(t, root, New())
	if r := inv.Collectors[0]; r.Status != host.StatusPartial || !strings.Contains(strings.Join(r.Errors, " "), "/etc/shadow") {
		t.Fatalf("run = %+v", r)
	}
	if u := inv.Users[0]; u.Shadow != nil || u.NoShadowEntry {
		t.Errorf("root = %+v, want shadow unknown", u)
	}
}

func TestScheme(t *testing.T) {
	for in, want := range map[string]string{
		hash: "y", "!" + hash: "y", "$6$salt$x": "6", "$2b$10$x": "2b", "$1$a$b": "1",
		"abcdefghijklm": "des", "": "", "*": "", "!": "", "$$x": "", "$Y!$x": "", "$6": "", "!!": "",
	} {
		if got := Scheme(in); got != want {
			t.Errorf("Scheme(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseGShadowErrors(t *testing.T) {
	m, errs := ParseGShadow([]byte("ok:!::\nbad:" + hash + "\n:x::\n" + strings.Repeat("A", 2<<20) + "\nlate:*:a:b,,c\n"))
	if len(m) != 2 || !cmp.Equal(m["late"].Members, []string{"b", "c"}) || !cmp.Equal(m["late"].Admins, []string{"a"}) {
		t.Errorf("entries = %+v", m)
	}
	if len(errs) != 3 {
		t.Errorf("errs = %q", errs)
	}
	for _, e := range errs {
		if strings.Contains(e.Error(), "SECRET") {
			t.Fatal("a hash leaked into an error")
		}
	}
}

// FuzzParseGShadow: any input parses without panic, no error echoes the
// input, and every entry has a known password state.
func FuzzParseGShadow(f *testing.F) {
	f.Add([]byte("root:*::\nshadow:!:adm:eve,bob\n"))
	f.Add([]byte("g:" + hash + ":a,b:c\r\n#c\n+nis\n\n:::\n"))
	f.Add([]byte("x:y:z\nfour:f:i:e:ld\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, errs := ParseGShadow(b)
		for name, g := range m {
			if name == "" || strings.Contains(name, ":") || strings.Contains(name, "\n") {
				t.Fatalf("bad name %q", name)
			}
			switch g.PasswordState {
			case "set", "empty", "locked", "none":
			default:
				t.Fatalf("state %q", g.PasswordState)
			}
			if g.Line < 1 {
				t.Fatalf("line %d", g.Line)
			}
		}
		if len(errs) > collect.KeptProblems+2 {
			t.Fatalf("%d errors", len(errs))
		}
		// No error quotes a password field (long enough not to be
		// found by chance in the message's own words).
		for _, l := range strings.Split(string(b), "\n") {
			f := strings.Split(l, ":")
			if len(f) < 2 || len(f[1]) < 12 {
				continue
			}
			for _, e := range errs {
				if strings.Contains(e.Error(), f[1]) {
					t.Fatalf("error %q quotes a password field", e)
				}
			}
		}
	})
}
