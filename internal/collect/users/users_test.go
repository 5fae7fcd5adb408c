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
		{Name: "root", UID: 0, GID: 0, Gecos: "root", Home: "/root", Shell: "/bin/bash", Shadow: &host.ShadowAging{PasswordState: "set", LastChange: i(19700), MinDays: i(0), MaxDays: i(99999), WarnDays: i(7)}},
		{Name: "alice", UID: 1000, GID: 1000, Gecos: "Alice,,,", Home: "/home/alice", Shell: "/bin/zsh", Shadow: &host.ShadowAging{PasswordState: "locked", LastChange: i(19000), MaxDays: i(90), WarnDays: i(7), InactiveDays: i(30), Expire: i(20000)}},
	}
	if d := cmp.Diff(want, inv.Users); d != "" {
		t.Errorf("users (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]host.Group{{Name: "root", GID: 0}, {Name: "sudo", GID: 27, Members: []string{"alice", "bob"}}}, inv.Groups); d != "" {
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
