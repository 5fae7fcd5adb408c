package users

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/kensa-dev/kensa/internal/collect"
	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/hostfs"
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
