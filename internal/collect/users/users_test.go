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

// TestGlibcID: ids are read as glibc's strtoul-based parser reads them.
func TestGlibcID(t *testing.T) {
	for in, want := range map[string]int{
		"0": 0, " 0": 0, "\t+0": 0, "+0": 0, "-0": 0, "007": 7, "1000": 1000,
		"4294967295": 4294967295, "4294967296": 4294967295, "99999999999999999999999": 4294967295,
		"-1": 4294967295, "-18446744073709551615": 1,
	} {
		if got, ok := GlibcID(in); !ok || got != want {
			t.Errorf("GlibcID(%q) = %d, %v; want %d", in, got, ok, want)
		}
	}
	for _, in := range []string{"", " ", "+", "-", "0 ", "0x0", "1e3", "++0", "+-0", "٣"} {
		if got, ok := GlibcID(in); ok {
			t.Errorf("GlibcID(%q) = %d, want rejected", in, got)
		}
	}
}

// TestGlibcFormsAndSkippedLines: lines glibc reads as accounts are
// accounts here (a blank before the uid, a "+" sign, missing trailing
// fields, leading white space); NIS compat lines and rejected lines are
// counted with their line numbers on inv.AccountFiles, never their
// content, and the ids a compat line spells are kept.
func TestGlibcFormsAndSkippedLines(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "etc"), 0o755)
	os.WriteFile(filepath.Join(root, "etc/passwd"), []byte(strings.Join([]string{
		"root:x:0:0:root:/root:/bin/bash",
		"evil:x: 0:0::/root:/bin/bash",
		"plus:x:+0:0::/root:/bin/bash",
		"  short:x:5:6",
		"+toor:" + hash + ":0:0::/root:/bin/bash",
		"+",
		"-bob::::::",
		"musl0:" + hash + "::0::/root:/bin/sh",
		"# comment",
		"shell:x:7:7::/:/bin/sh:odd",
	}, "\n")+"\n"), 0o644)
	os.WriteFile(filepath.Join(root, "etc/group"), []byte("root:x:0:\n+wheel:x:0:\nstaff:x: 50\nbad:x:5x:\n"), 0o644)
	inv := testfixture.Collect(t, root, New())
	var got []string
	for _, u := range inv.Users {
		got = append(got, fmt.Sprintf("%s:%d:%d:%s:%d", u.Name, u.UID, u.GID, u.Shell, u.Line))
	}
	want := []string{"root:0:0:/bin/bash:1", "evil:0:0:/bin/bash:2", "plus:0:0:/bin/bash:3", "short:5:6::4", "shell:7:7:/bin/sh:odd:10"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("users (-want +got):\n%s", d)
	}
	af := inv.AccountFiles
	if af == nil {
		t.Fatal("no AccountFiles")
	}
	zero := 0
	wantPW := host.AccountFile{Path: "/etc/passwd", Read: true, Compat: 3, CompatLines: []int{5, 6, 7},
		CompatIDs: []host.CompatEntry{{Line: 5, Name: "+toor", UID: &zero, GID: &zero}}, Unparsed: 1, UnparsedLines: []int{8}}
	if d := cmp.Diff(wantPW, af.Passwd); d != "" {
		t.Errorf("passwd (-want +got):\n%s", d)
	}
	wantGR := host.AccountFile{Path: "/etc/group", Read: true, Compat: 1, CompatLines: []int{2},
		CompatIDs: []host.CompatEntry{{Line: 2, Name: "+wheel", GID: &zero}}, Unparsed: 1, UnparsedLines: []int{4}}
	if d := cmp.Diff(wantGR, af.Group); d != "" {
		t.Errorf("group (-want +got):\n%s", d)
	}
	if len(inv.Groups) != 2 || inv.Groups[1].Name != "staff" || inv.Groups[1].GID != 50 {
		t.Errorf("groups = %+v", inv.Groups)
	}
	if !af.Shadow.Missing || af.Shadow.Read || !af.GShadow.Missing {
		t.Errorf("shadow %+v, gshadow %+v: want missing", af.Shadow, af.GShadow)
	}
	b, _ := json.Marshal(inv)
	if strings.Contains(string(b), "SECRET") {
		t.Fatal("a password hash leaked into the inventory")
	}
}

// TestSkippedLinesCapped: the line numbers kept are bounded, the count
// is not.
func TestSkippedLinesCapped(t *testing.T) {
	var af host.AccountFile
	parsePasswd([]byte(strings.Repeat("+\nx:x:a:0::/:/bin/sh\n", 50)), &af)
	if af.Compat != 50 || af.Unparsed != 50 || len(af.CompatLines) != host.MaxSkippedLines || len(af.UnparsedLines) != host.MaxSkippedLines || af.UnparsedLines[1] != 4 {
		t.Errorf("af = %+v", af)
	}
	// The rest of a file skipped after too many problems counts.
	af = host.AccountFile{}
	parsePasswd([]byte(strings.Repeat("bad\n", collect.MaxProblems+5)), &af)
	if af.Unparsed != collect.MaxProblems+1 {
		t.Errorf("unparsed = %d", af.Unparsed)
	}
}

// TestGShadowReadRecorded: whether /etc/gshadow was read, is missing or
// could not be read is recorded, so shadow_group_empty can say so.
func TestGShadowReadRecorded(t *testing.T) {
	for _, tc := range []struct {
		name string
		mk   func(root string)
		want func(f host.AccountFile) bool
	}{
		{"read", func(root string) { os.WriteFile(filepath.Join(root, "etc/gshadow"), []byte("shadow:!::\n"), 0o600) }, func(f host.AccountFile) bool { return f.Read && !f.Missing && f.Error == "" }},
		{"missing", func(string) {}, func(f host.AccountFile) bool { return !f.Read && f.Missing && f.Error == "" }},
		{"unreadable", func(root string) { os.MkdirAll(filepath.Join(root, "etc/gshadow"), 0o755) }, func(f host.AccountFile) bool { return !f.Read && !f.Missing && f.Error != "" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			os.MkdirAll(filepath.Join(root, "etc"), 0o755)
			os.WriteFile(filepath.Join(root, "etc/passwd"), []byte("root:x:0:0::/root:/bin/bash\n"), 0o644)
			os.WriteFile(filepath.Join(root, "etc/group"), []byte("root:x:0:\nshadow:x:42:\n"), 0o644)
			tc.mk(root)
			inv := testfixture.Collect(t, root, New())
			if inv.AccountFiles == nil || !tc.want(inv.AccountFiles.GShadow) {
				t.Errorf("gshadow = %+v", inv.AccountFiles)
			}
		})
	}
}

// FuzzParsePasswd: any input parses without panic; every user has a
// name that is not a compat name, ids in 32 bits and a line; skipped
// lines are counted and bounded.
func FuzzParsePasswd(f *testing.F) {
	f.Add([]byte("root:x:0:0:root:/root:/bin/bash\nevil:x: +0:0::/:/bin/sh\n+toor:x:0:0::/:\n+\n-x\n"))
	f.Add([]byte("a:b:-1:99999999999999999999:\x00x\r\n  \t#c\nshort:x:1:2\n:x:0:0::/:\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var af host.AccountFile
		users, errs := parsePasswd(b, &af)
		for _, u := range users {
			if u.Name == "" || compat(u.Name) || strings.ContainsAny(u.Name, ":\n\x00") || u.UID < 0 || u.UID > 0xffffffff || u.GID < 0 || u.GID > 0xffffffff || u.Line < 1 {
				t.Fatalf("bad user %+v", u)
			}
		}
		if len(af.CompatLines) > host.MaxSkippedLines || len(af.UnparsedLines) > host.MaxSkippedLines || len(af.CompatIDs) > host.MaxCompatIDs ||
			af.Compat < len(af.CompatLines) || af.Unparsed < len(af.UnparsedLines) {
			t.Fatalf("af = %+v", af)
		}
		if len(errs) > collect.KeptProblems+2 {
			t.Fatalf("%d errors", len(errs))
		}
		var gaf host.AccountFile
		groups, _ := parseGroup(b, &gaf)
		for _, g := range groups {
			if g.Name == "" || compat(g.Name) || g.GID < 0 || g.GID > 0xffffffff {
				t.Fatalf("bad group %+v", g)
			}
		}
	})
}
