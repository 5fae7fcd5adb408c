package files_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kensa-dev/kensa/internal/collect/files"
	"github.com/kensa-dev/kensa/internal/host"
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

func collectFiles(t *testing.T, root string) (*host.ConfigFiles, host.CollectorRun) {
	t.Helper()
	inv := testfixture.Collect(t, root, files.New())
	var run host.CollectorRun
	for _, r := range inv.Collectors {
		if r.Name == "config/files" {
			run = r
		}
	}
	if run.Name == "" {
		t.Fatal("config/files did not run")
	}
	if inv.Config == nil || inv.Config.Files == nil {
		t.Fatalf("no facts: %+v", run)
	}
	return inv.Config.Files, run
}

func file(t *testing.T, cf *host.ConfigFiles, p string) host.ConfigFile {
	t.Helper()
	for _, f := range cf.Files {
		if f.Path == p {
			return f
		}
	}
	t.Fatalf("%s was not looked at; files: %v", p, paths(cf))
	return host.ConfigFile{}
}

func paths(cf *host.ConfigFiles) []string {
	var out []string
	for _, f := range cf.Files {
		if f.Exists {
			out = append(out, f.Path)
		}
	}
	return out
}

// setLines returns "file:n: text" for the lines of a set, in read order.
func setLines(cf *host.ConfigFiles, set string) []string {
	type l struct {
		seq int
		s   string
	}
	var ls []l
	for _, f := range cf.Files {
		if f.Set != set {
			continue
		}
		for _, x := range f.Lines {
			ls = append(ls, l{x.Seq, fmt.Sprintf("%s:%d: %s", f.Path, x.N, x.Text)})
		}
	}
	slices.SortFunc(ls, func(a, b l) int { return a.seq - b.seq })
	var out []string
	for _, x := range ls {
		out = append(out, x.s)
	}
	return out
}

func TestNothingToRead(t *testing.T) {
	// The facts stay (every file missing), so that each rule gives its
	// own outcome for a missing file; the run says there was nothing.
	cf, run := collectFiles(t, t.TempDir())
	if run.Status != host.StatusSkipped || cf == nil || len(paths(cf)) != 0 || len(cf.Files) == 0 {
		t.Errorf("empty root: %+v %+v", cf, run)
	}
}

func TestSudoersIncludesInPlace(t *testing.T) {
	root := t.TempDir()
	write(t, root, "etc/sudoers", `# comment
Defaults	env_reset
Defaults	secure_path="/usr/sbin:/usr/bin"   # trailing comment
Defaults:%admin, bob   !authenticate, timestamp_timeout = 20
Defaults>root !use_pty
Defaults logfile = "/var/log/sudo log"
Defaults !!use_pty, \
   !lecture
#1000 ALL=(ALL) ALL
root	ALL=(ALL:ALL) ALL
@includedir /etc/sudoers.d
#include local
Defaults timestamp_timeout=5
`)
	write(t, root, "etc/sudoers.d/b", "Defaults use_pty\n")
	write(t, root, "etc/sudoers.d/a", "Defaults !use_pty\n")
	write(t, root, "etc/sudoers.d/c.bak", "Defaults !authenticate\n")
	write(t, root, "etc/sudoers.d/d~", "Defaults !authenticate\n")
	write(t, root, "etc/sudoers.d/README", "# nothing\n")
	write(t, root, "etc/local", "Defaults\tlog_output\n")
	cf, run := collectFiles(t, root)
	got := setLines(cf, files.SetSudoers)
	want := []string{
		"/etc/sudoers:2: Defaults env_reset",
		"/etc/sudoers:3: Defaults secure_path=/usr/sbin:/usr/bin",
		"/etc/sudoers:4: Defaults:%admin,bob !authenticate",
		"/etc/sudoers:4: Defaults:%admin,bob timestamp_timeout=20",
		"/etc/sudoers:5: Defaults>root !use_pty",
		"/etc/sudoers:6: Defaults logfile=/var/log/sudo log",
		"/etc/sudoers:7: Defaults use_pty",
		"/etc/sudoers:7: Defaults !lecture",
		"/etc/sudoers:9: #1000 ALL=(ALL) ALL",
		"/etc/sudoers:10: root ALL=(ALL:ALL) ALL",
		"/etc/sudoers:11: @includedir /etc/sudoers.d",
		"/etc/sudoers.d/a:1: Defaults !use_pty",
		"/etc/sudoers.d/b:1: Defaults use_pty",
		"/etc/sudoers:12: @include local",
		"/etc/local:1: Defaults log_output",
		"/etc/sudoers:13: Defaults timestamp_timeout=5",
	}
	if !slices.Equal(got, want) {
		t.Errorf("sudoers lines:\n got %q\nwant %q", got, want)
	}
	if f := file(t, cf, "/etc/sudoers.d/a"); f.IncludedFrom != "/etc/sudoers:11" {
		t.Errorf("included from %q", f.IncludedFrom)
	}
	if run.ErrorCount != 0 {
		t.Errorf("errors: %v", run.Errors)
	}
}

func TestSudoersIncludeLoopAndDepth(t *testing.T) {
	root := t.TempDir()
	write(t, root, "etc/sudoers", "@include /etc/sudoers.d/a\n")
	write(t, root, "etc/sudoers.d/a", "Defaults use_pty\n#include /etc/sudoers\n#includedir /etc/sudoers.d\n")
	// A chain deeper than the limit.
	write(t, root, "etc/deep/f0", "#include f1\n")
	for i := 1; i <= files.MaxIncludeDepth+3; i++ {
		write(t, root, fmt.Sprintf("etc/deep/f%d", i), fmt.Sprintf("#include f%d\n", i+1))
	}
	write(t, root, "etc/sudoers.d/deep", "@include /etc/deep/f0\n")
	done := make(chan struct{})
	var cf *host.ConfigFiles
	var run host.CollectorRun
	go func() { cf, run = collectFiles(t, root); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("include loop: the collector did not end")
	}
	var loops, deep int
	for _, f := range cf.Files {
		if strings.Contains(f.Error, "include loop") {
			loops++
		}
		if strings.Contains(f.Error, "levels deep") {
			deep++
		}
	}
	if loops == 0 || deep != 1 {
		t.Errorf("want include loops and one too-deep file, got %d and %d: %v", loops, deep, run.Errors)
	}
	n := 0
	for _, f := range cf.Files {
		if f.Set == files.SetSudoers && f.Error == "" {
			n++
		}
	}
	if n > 2+files.MaxIncludeDepth+1 {
		t.Errorf("%d sudoers files read", n)
	}
}

func TestHostileFiles(t *testing.T) {
	outside := t.TempDir()
	write(t, outside, "secret", "OUTSIDE THE ROOT\n")
	root := t.TempDir()
	// A link out of the root restarts at the root: there is no such file.
	link(t, root, "etc/motd", filepath.Join(outside, "secret"))
	// A link to a secret file inside the root is not followed.
	write(t, root, "etc/shadow", "root:$y$j9T$secrethash:19000:0:99999:7:::\n")
	link(t, root, "etc/issue", "/etc/shadow")
	// Too large, binary, a private key, a FIFO.
	write(t, root, "etc/issue.net", strings.Repeat("x", files.FileLimit+1))
	write(t, root, "etc/profile", "TMOUT=900\x00\n")
	write(t, root, "etc/bash.bashrc", "-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n")
	write(t, root, "root/.profile", "umask 027\n")
	if err := os.MkdirAll(filepath.Join(root, "etc/profile.d"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscallMkfifo(filepath.Join(root, "etc/profile.d/fifo.sh")); err != nil {
		t.Fatal(err)
	}
	// Too many drop-ins.
	for i := range files.MaxDirFiles + 5 {
		write(t, root, fmt.Sprintf("etc/default/grub.d/%04d.cfg", i), "GRUB_TIMEOUT=1\n")
	}
	cf, run := collectFiles(t, root)
	if f := file(t, cf, "/etc/motd"); f.Exists || len(f.Lines) > 0 {
		t.Errorf("link out of the root: %+v", f)
	}
	if f := file(t, cf, "/etc/issue"); !strings.Contains(f.Error, "secrets") || len(f.Lines) > 0 {
		t.Errorf("link to /etc/shadow: %+v", f)
	}
	if f := file(t, cf, "/etc/issue.net"); !strings.Contains(f.Error, "read limit") || len(f.Lines) > 0 {
		t.Errorf("huge file: %+v", f)
	}
	if f := file(t, cf, "/etc/profile"); !strings.Contains(f.Error, "NUL") || len(f.Lines) > 0 {
		t.Errorf("binary file: %+v", f)
	}
	if f := file(t, cf, "/etc/bash.bashrc"); !strings.Contains(f.Error, "private key") || len(f.Lines) > 0 {
		t.Errorf("private key: %+v", f)
	}
	if f := file(t, cf, "/root/.profile"); len(f.Lines) != 1 || f.Lines[0].Text != "umask 027" {
		t.Errorf("root profile: %+v", f)
	}
	for _, f := range cf.Files {
		if f.Path == "/etc/profile.d/fifo.sh" {
			t.Errorf("a FIFO was opened: %+v", f)
		}
		for _, l := range f.Lines {
			if strings.Contains(l.Text, "OUTSIDE") || strings.Contains(l.Text, "secrethash") {
				t.Errorf("%s: kept %q", f.Path, l.Text)
			}
		}
	}
	grubd := 0
	for _, f := range cf.Files {
		if f.Set == files.SetDefaultGrub && f.Exists && f.Error == "" {
			grubd++
		}
	}
	if grubd != files.MaxDirFiles {
		t.Errorf("%d grub.d files read, want the cap %d", grubd, files.MaxDirFiles)
	}
	// The cut is a fact of the set, not only a log line: the files left
	// out are the last ones, whose settings win.
	if f := file(t, cf, "/etc/default/grub.d"); f.Set != files.SetDefaultGrub || !f.Exists || !strings.Contains(f.Error, "more than 256 files; the rest were not read") {
		t.Errorf("no record of the cut grub.d: %+v", f)
	}
	if run.Status != host.StatusPartial || !slices.ContainsFunc(run.Errors, func(e string) bool { return strings.Contains(e, "more than") }) {
		t.Errorf("run: %s %v", run.Status, run.Errors)
	}
}

func TestJournaldDropInOrder(t *testing.T) {
	root := t.TempDir()
	write(t, root, "etc/systemd/journald.conf", "[Journal]\n#Storage=auto\nStorage=volatile\n; comment\nCompress=no\n")
	write(t, root, "usr/lib/systemd/journald.conf.d/10-vendor.conf", "[Journal]\nStorage=none\n")
	write(t, root, "usr/lib/systemd/journald.conf.d/20-vendor.conf", "[Journal]\nCompress=yes\n")
	write(t, root, "etc/systemd/journald.conf.d/10-vendor.conf", "[Journal]\nStorage=persistent\n[Other]\nStorage=x\n")
	write(t, root, "run/systemd/journald.conf.d/05-run.conf", "[Journal]\nSeal=no\n")
	link(t, root, "etc/systemd/journald.conf.d/20-vendor.conf", "/dev/null")
	cf, _ := collectFiles(t, root)
	got := setLines(cf, files.SetJournald)
	want := []string{
		"/etc/systemd/journald.conf:3: Storage=volatile",
		"/etc/systemd/journald.conf:5: Compress=no",
		"/run/systemd/journald.conf.d/05-run.conf:2: Seal=no",
		"/etc/systemd/journald.conf.d/10-vendor.conf:2: Storage=persistent",
		"/etc/systemd/journald.conf.d/10-vendor.conf:4: Storage=x",
	}
	if !slices.Equal(got, want) {
		t.Errorf("journald lines:\n got %q\nwant %q", got, want)
	}
	f := file(t, cf, "/etc/systemd/journald.conf.d/10-vendor.conf")
	if f.Lines[0].Section != "Journal" || f.Lines[1].Section != "Other" {
		t.Errorf("sections: %+v", f.Lines)
	}
}

func TestRsyslogAndChronyIncludes(t *testing.T) {
	root := t.TempDir()
	write(t, root, "etc/rsyslog.conf", "module(load=\"imuxsock\")\n$FileCreateMode 0644\n$IncludeConfig /etc/rsyslog.d/*.conf\ninclude(file=\"/etc/rsyslog.extra\" mode=\"optional\")\n*.* /var/log/syslog\n")
	write(t, root, "etc/rsyslog.d/50-b.conf", "$FileCreateMode 0640\n")
	write(t, root, "etc/rsyslog.d/10-a.conf", "# only a comment\n$ModLoad imtcp\n")
	write(t, root, "etc/rsyslog.d/ignored.txt", "$FileCreateMode 0777\n")
	write(t, root, "etc/rsyslog.extra", "$InputTCPServerRun 514\n")
	write(t, root, "etc/chrony/chrony.conf", "confdir /etc/chrony/conf.d /usr/share/chrony/conf.d\n! pool old.example\nsourcedir /run/chrony-dhcp\nsourcedir /etc/chrony/sources.d\nkeyfile /etc/chrony/chrony.keys\ninclude /etc/chrony/extra/*.inc\n")
	write(t, root, "etc/chrony/conf.d/b.conf", "makestep 1 3\n")
	write(t, root, "usr/share/chrony/conf.d/b.conf", "pool masked.example\n")
	write(t, root, "usr/share/chrony/conf.d/a.conf", "pool a.example iburst\n")
	write(t, root, "etc/chrony/sources.d/local.sources", "server ntp.example iburst\n")
	write(t, root, "etc/chrony/chrony.keys", "1 SHA256 HEX:SECRET\n")
	write(t, root, "etc/chrony/extra/x.inc", "server x.example\n")
	cf, run := collectFiles(t, root)
	got := setLines(cf, files.SetRsyslog)
	want := []string{
		`/etc/rsyslog.conf:1: module(load="imuxsock")`,
		"/etc/rsyslog.conf:2: $FileCreateMode 0644",
		"/etc/rsyslog.conf:3: $IncludeConfig /etc/rsyslog.d/*.conf",
		"/etc/rsyslog.d/10-a.conf:2: $ModLoad imtcp",
		"/etc/rsyslog.d/50-b.conf:1: $FileCreateMode 0640",
		`/etc/rsyslog.conf:4: include(file="/etc/rsyslog.extra" mode="optional")`,
		"/etc/rsyslog.extra:1: $InputTCPServerRun 514",
		"/etc/rsyslog.conf:5: *.* /var/log/syslog",
	}
	if !slices.Equal(got, want) {
		t.Errorf("rsyslog lines:\n got %q\nwant %q", got, want)
	}
	got = setLines(cf, files.SetChrony)
	want = []string{
		"/etc/chrony/chrony.conf:1: confdir /etc/chrony/conf.d /usr/share/chrony/conf.d",
		"/usr/share/chrony/conf.d/a.conf:1: pool a.example iburst",
		"/etc/chrony/conf.d/b.conf:1: makestep 1 3",
		"/etc/chrony/chrony.conf:3: sourcedir /run/chrony-dhcp",
		"/etc/chrony/chrony.conf:4: sourcedir /etc/chrony/sources.d",
		"/etc/chrony/sources.d/local.sources:1: server ntp.example iburst",
		"/etc/chrony/chrony.conf:5: keyfile /etc/chrony/chrony.keys",
		"/etc/chrony/chrony.conf:6: include /etc/chrony/extra/*.inc",
		"/etc/chrony/extra/x.inc:1: server x.example",
	}
	if !slices.Equal(got, want) {
		t.Errorf("chrony lines:\n got %q\nwant %q", got, want)
	}
	for _, f := range cf.Files {
		if strings.Contains(f.Path, "chrony.keys") {
			t.Errorf("the chrony key file was looked at: %+v", f)
		}
	}
	if run.ErrorCount != 0 {
		t.Errorf("errors: %v", run.Errors)
	}
}

func TestGrubKeepsNoHash(t *testing.T) {
	root := t.TempDir()
	write(t, root, "boot/grub/grub.cfg", `set default="0"
### BEGIN /etc/grub.d/40_custom ###
set superusers="admin"
password_pbkdf2 admin grub.pbkdf2.sha512.10000.AABBCCDD.EEFF0011
password legacy s3cr3t
menuentry 'Debian GNU/Linux' --class debian {
	linux	/boot/vmlinuz-6.1.0-18-amd64 root=UUID=abc ro quiet \
	  apparmor=1 security=apparmor
	initrd	/boot/initrd.img-6.1.0-18-amd64
}
`)
	write(t, root, "etc/default/grub", "GRUB_CMDLINE_LINUX=\"apparmor=1 security=apparmor\"\n")
	cf, _ := collectFiles(t, root)
	got := setLines(cf, files.SetGrub)
	want := []string{
		`/boot/grub/grub.cfg:3: set superusers="admin"`,
		"/boot/grub/grub.cfg:4: password_pbkdf2 admin " + files.GrubPBKDF2Hash,
		"/boot/grub/grub.cfg:5: password legacy " + files.GrubPlainText,
		"/boot/grub/grub.cfg:7: linux /boot/vmlinuz-6.1.0-18-amd64 root=UUID=abc ro quiet apparmor=1 security=apparmor",
	}
	if !slices.Equal(got, want) {
		t.Errorf("grub lines:\n got %q\nwant %q", got, want)
	}
	for _, l := range got {
		if strings.Contains(l, "AABBCC") || strings.Contains(l, "s3cr3t") {
			t.Errorf("kept a secret: %s", l)
		}
	}
	if f := file(t, cf, "/boot/grub2/grub.cfg"); f.Exists {
		t.Errorf("grub2: %+v", f)
	}
}

func TestBannersKeepHashLines(t *testing.T) {
	root := t.TempDir()
	write(t, root, "etc/issue", "Debian GNU/Linux 12 \\n \\l\r\n\r\n# not a comment\n")
	write(t, root, "etc/motd", "")
	write(t, root, "etc/dconf/db/gdm.d/01-banner", "[org/gnome/login-screen]\nbanner-message-enable=true\n")
	write(t, root, "etc/dconf/db/gdm.d/locks/01-banner", "# locks\n/org/gnome/login-screen/banner-message-enable\n")
	cf, _ := collectFiles(t, root)
	if got := setLines(cf, files.SetBanner); !slices.Equal(got, []string{`/etc/issue:1: Debian GNU/Linux 12 \n \l`, "/etc/issue:3: # not a comment"}) {
		t.Errorf("banner: %q", got)
	}
	if f := file(t, cf, "/etc/motd"); !f.Exists || len(f.Lines) != 0 {
		t.Errorf("empty motd: %+v", f)
	}
	if f := file(t, cf, "/etc/issue.net"); f.Exists {
		t.Errorf("issue.net: %+v", f)
	}
	got := setLines(cf, files.SetDconf)
	if !slices.Equal(got, []string{"/etc/dconf/db/gdm.d/01-banner:2: banner-message-enable=true", "/etc/dconf/db/gdm.d/locks/01-banner:2: /org/gnome/login-screen/banner-message-enable"}) {
		t.Errorf("dconf: %q", got)
	}
	if f := file(t, cf, "/etc/dconf/db/gdm.d/01-banner"); f.Lines[0].Section != "org/gnome/login-screen" {
		t.Errorf("dconf section: %+v", f.Lines)
	}
}

// TestGrubSplitsCommands: a kept command (set superusers, linux) shares
// its line with a password command after ";" or inside braces; each
// command is judged alone, and no hash survives whatever surrounds it.
func TestGrubSplitsCommands(t *testing.T) {
	const hash = "grub.pbkdf2.sha512.10000.SALTSALT.HASHHASH"
	in := `set superusers="root"; password_pbkdf2 root ` + hash + `
menuentry 'x' { linux /vmlinuz root=/dev/sda1 ro ${extra} apparmor=1; password legacy s3cr3t; }
if true; then linux /vmlinuz-2 apparmor=0 && password_pbkdf2 bob ` + hash + `; fi
set superusers="a;b" other=` + hash + `
linux /vmlinuz-3 quiet \
  init=/x || password root pl41n
linux /vmlinuz-4 "q;uoted" # password root commented
set superusers=root 'x' GRUB.PBKDF2.SHA512.1.UP.PER
`
	got := files.ExtractGrub([]byte(in))
	var texts []string
	for _, l := range got {
		texts = append(texts, fmt.Sprintf("%d: %s", l.N, l.Text))
	}
	want := []string{
		`1: set superusers="root"`,
		"1: password_pbkdf2 root " + files.GrubPBKDF2Hash,
		"2: linux /vmlinuz root=/dev/sda1 ro ${extra} apparmor=1",
		"2: password legacy " + files.GrubPlainText,
		"3: linux /vmlinuz-2 apparmor=0",
		"3: password_pbkdf2 bob " + files.GrubPBKDF2Hash,
		`4: set superusers="a;b"`,
		"5: linux /vmlinuz-3 quiet init=/x",
		"5: password root " + files.GrubPlainText,
		`7: linux /vmlinuz-4 "q;uoted"`,
		"8: set superusers=root",
	}
	if !slices.Equal(texts, want) {
		t.Errorf("grub lines:\n got %q\nwant %q", texts, want)
	}
	for _, l := range got {
		if strings.Contains(strings.ToLower(l.Text), "grub.pbkdf2.") || strings.Contains(l.Text, "s3cr3t") || strings.Contains(l.Text, "pl41n") {
			t.Errorf("kept a secret: %q", l.Text)
		}
	}
	// The guard: a hash in an argument of a kept command is replaced.
	got = files.ExtractGrub([]byte("linux /vmlinuz x=" + hash + " ro\n"))
	if len(got) != 1 || got[0].Text != "linux /vmlinuz x="+files.GrubPBKDF2Hash+" ro" {
		t.Errorf("kernel line with a hash: %+v", got)
	}
}

// TestSystemdDropInCut: more journald drop-ins than the cap; the ones past
// it are not read and the set says so.
func TestSystemdDropInCut(t *testing.T) {
	root := t.TempDir()
	write(t, root, "etc/systemd/journald.conf", "[Journal]\nStorage=persistent\n")
	for i := range files.MaxDirFiles + 3 {
		write(t, root, fmt.Sprintf("usr/lib/systemd/journald.conf.d/%04d.conf", i), "[Journal]\nCompress=yes\n")
	}
	cf, _ := collectFiles(t, root)
	read := 0
	for _, f := range cf.Files {
		if f.Set == files.SetJournald && f.Error == "" && f.Exists {
			read++
		}
	}
	if read != files.MaxDirFiles+1 {
		t.Errorf("%d journald files read, want journald.conf and %d drop-ins", read, files.MaxDirFiles)
	}
	if f := file(t, cf, "/etc/systemd/journald.conf.d"); f.Set != files.SetJournald || !strings.Contains(f.Error, "more than 256 drop-ins") {
		t.Errorf("no record of the cut: %+v", f)
	}
}

// TestSudoersBindingIsOneWord: a Defaults binding naming a group or user
// with blanks (quoted or escaped) stays one word, so that rules matching
// "Defaults\S* !authenticate" see bound settings whatever the names.
func TestSudoersBindingIsOneWord(t *testing.T) {
	in := "Defaults:%\"domain admins\" !authenticate\n" +
		"Defaults:domain\\ users, bob\t!use_pty\n" +
		"Defaults>\"run\tas\" timestamp_timeout=30\n" +
		"Defaults:a\fb !logfile\n"
	var got []string
	for _, l := range files.ParseSudoers([]byte(in)) {
		got = append(got, l.Line.Text)
	}
	want := []string{
		`Defaults:%"domain\x20admins" !authenticate`,
		`Defaults:domain\x20users,bob !use_pty`,
		`Defaults>"run\x09as" timestamp_timeout=30`,
		`Defaults:a\x0cb !logfile`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

// The Red Hat family's files: grub2's 01_users block, whose hash is in
// user.cfg (kept only as a placeholder), the BLS entries, /etc/bashrc in
// the profile set, chronyd's options, SELinux, the crypto policy and dnf.
func TestRedHatFamilySets(t *testing.T) {
	root := t.TempDir()
	write(t, root, "boot/grub2/grub.cfg", `### BEGIN /etc/grub.d/01_users ###
if [ -f ${prefix}/user.cfg ]; then
  source ${prefix}/user.cfg
  if [ -n "${GRUB2_PASSWORD}" ]; then
    set superusers="root"
    export superusers
    password_pbkdf2 root ${GRUB2_PASSWORD}
  fi
fi
### END /etc/grub.d/01_users ###
blscfg
`)
	write(t, root, "boot/grub2/user.cfg", "GRUB2_PASSWORD=grub.pbkdf2.sha512.10000.AABBCCDD.EEFF0011\nOTHER=s3cr3t\n")
	write(t, root, "boot/loader/entries/abc-5.14.0-427.13.1.el9_4.x86_64.conf", "title Red Hat Enterprise Linux\n# a comment\noptions root=/dev/mapper/rhel-root ro selinux=0\n")
	write(t, root, "boot/grub2/grubenv", "# GRUB Environment Block\nkernelopts=root=/dev/mapper/rhel-root ro enforcing=0 \n"+strings.Repeat("#", 64))
	write(t, root, "etc/bashrc", "# /etc/bashrc\numask 022\n")
	write(t, root, "etc/sysconfig/chronyd", "# Command-line options for chronyd\nOPTIONS=\"-F 2\"\n")
	write(t, root, "etc/selinux/config", "# comment\nSELINUX=enforcing\nSELINUXTYPE=targeted\n")
	write(t, root, "etc/crypto-policies/config", "DEFAULT:NO-SHA1\n")
	write(t, root, "etc/dnf/dnf.conf", "[main]\ngpgcheck=1\n")
	write(t, root, "etc/yum.conf", "[main]\n# yum 3\ncachedir=/var/cache/yum\ngpgcheck=0\n")
	write(t, root, "etc/yum.repos.d/extra.repo", "[extra]\n; comment\ngpgcheck=0\n")
	cf, _ := collectFiles(t, root)
	for set, want := range map[string][]string{
		files.SetGrub: {`/boot/grub2/grub.cfg:5: set superusers="root"`,
			"/boot/grub2/grub.cfg:7: password_pbkdf2 root ${GRUB2_PASSWORD}"},
		files.SetGrubUser: {"/boot/grub2/user.cfg:1: GRUB2_PASSWORD=" + files.GrubPBKDF2Hash},
		files.SetBLS: {"/boot/loader/entries/abc-5.14.0-427.13.1.el9_4.x86_64.conf:1: title Red Hat Enterprise Linux", "/boot/loader/entries/abc-5.14.0-427.13.1.el9_4.x86_64.conf:3: options root=/dev/mapper/rhel-root ro selinux=0",
			"/boot/grub2/grubenv:2: kernelopts=root=/dev/mapper/rhel-root ro enforcing=0"},
		files.SetProfile:       {"/etc/bashrc:2: umask 022"},
		files.SetDefaultChrony: {`/etc/sysconfig/chronyd:2: OPTIONS="-F 2"`},
		files.SetSELinux:       {"/etc/selinux/config:2: SELINUX=enforcing", "/etc/selinux/config:3: SELINUXTYPE=targeted"},
		files.SetCryptoPolicy:  {"/etc/crypto-policies/config:1: DEFAULT:NO-SHA1"},
		files.SetDNF:           {"/etc/dnf/dnf.conf:2: gpgcheck=1", "/etc/yum.conf:3: cachedir=/var/cache/yum", "/etc/yum.conf:4: gpgcheck=0", "/etc/yum.repos.d/extra.repo:3: gpgcheck=0"},
	} {
		if got := setLines(cf, set); !slices.Equal(got, want) {
			t.Errorf("%s lines:\n got %q\nwant %q", set, got, want)
		}
	}
	for _, f := range cf.Files {
		for _, l := range f.Lines {
			if strings.Contains(l.Text, "AABBCC") || strings.Contains(l.Text, "s3cr3t") {
				t.Errorf("kept a secret: %s:%d: %s", f.Path, l.N, l.Text)
			}
		}
	}
}

func TestGrubUserPlaceholders(t *testing.T) {
	for in, want := range map[string]string{
		"GRUB2_PASSWORD=grub.pbkdf2.sha512.10000.AA.BB\n": "GRUB2_PASSWORD=" + files.GrubPBKDF2Hash,
		"GRUB2_PASSWORD=\n":        "GRUB2_PASSWORD=" + files.GrubMissingHash,
		"GRUB2_PASSWORD=hunter2\n": "GRUB2_PASSWORD=" + files.GrubNotPBKDF2,
	} {
		got := files.ExtractGrubUser([]byte(in))
		if len(got) != 1 || got[0].Text != want {
			t.Errorf("%q: %+v, want %s", in, got, want)
		}
	}
}

// /etc/sysconfig/sshd is read as a shell file.
func TestSSHDSysconfig(t *testing.T) {
	root := t.TempDir()
	write(t, root, "etc/sysconfig/sshd", "# To opt-out, uncomment the following line\n# CRYPTO_POLICY=\nCRYPTO_POLICY=\nSSH_USE_STRONG_RNG=0\n")
	cf, _ := collectFiles(t, root)
	want := []string{"/etc/sysconfig/sshd:3: CRYPTO_POLICY=", "/etc/sysconfig/sshd:4: SSH_USE_STRONG_RNG=0"}
	if got := setLines(cf, files.SetSSHDSysconfig); !slices.Equal(got, want) {
		t.Errorf("lines:\n got %q\nwant %q", got, want)
	}
}

// AIDE's configuration: variables substituted, @@ifdef applied, a file
// and (AIDE 0.17) a directory included in place, groups expanded in the
// selection lines (later definitions, builtins, "-" removing, unknown
// names marked), exclusions kept.
func TestAIDEConf(t *testing.T) {
	root := t.TempDir()
	write(t, root, "etc/aide.conf", `# AIDE
@@define DBDIR /var/lib/aide
database=file:@@{DBDIR}/aide.db.gz
FIPSR = p+i+n+u+g+s+m+c+acl+selinux+xattrs+sha256
NORMAL = FIPSR+sha512
@@ifdef NOSUCH
/usr/sbin/auditctl E
@@else
/usr/sbin/auditctl NORMAL+b-m-c
@@endif
@@include /etc/aide.d/tools.conf
@@include /etc/aide.conf.d ^[a-z]+\.conf$
!/usr/sbin/autrace
/usr/sbin/augenrules f R+UNDEFINED
`)
	write(t, root, "etc/aide.d/tools.conf", "TOOLS = p+i+n+u+g+s+b+acl+xattrs+sha512\n=/usr/sbin/auditd$ TOOLS\n")
	write(t, root, "etc/aide.conf.d/b.conf", "/usr/sbin/aureport L\n")
	write(t, root, "etc/aide.conf.d/a.conf", "/usr/sbin/ausearch >\n")
	write(t, root, "etc/aide.conf.d/skip.txt", "/usr/sbin/ausearch E\n")
	cf, run := collectFiles(t, root)
	want := []string{
		"/etc/aide.conf:3: database=file:/var/lib/aide/aide.db.gz",
		"/etc/aide.conf:4: FIPSR = p+i+n+u+g+s+m+c+acl+selinux+xattrs+sha256",
		"/etc/aide.conf:5: NORMAL = FIPSR+sha512",
		"/etc/aide.conf:9: /usr/sbin/auditctl p+i+n+u+g+s+b+acl+selinux+xattrs+sha256+sha512 # written: NORMAL+b-m-c",
		"/etc/aide.conf:11: @@include /etc/aide.d/tools.conf",
		"/etc/aide.d/tools.conf:1: TOOLS = p+i+n+u+g+s+b+acl+xattrs+sha512",
		"/etc/aide.d/tools.conf:2: =/usr/sbin/auditd$ p+i+n+u+g+s+b+acl+xattrs+sha512 # written: TOOLS",
		`/etc/aide.conf:12: @@include /etc/aide.conf.d ^[a-z]+\.conf$`,
		"/etc/aide.conf.d/a.conf:1: /usr/sbin/ausearch p+i+l+n+u+g+S+acl+selinux+xattrs # written: >",
		"/etc/aide.conf.d/b.conf:1: /usr/sbin/aureport p+i+l+n+u+g+acl+selinux+xattrs # written: L",
		"/etc/aide.conf:13: !/usr/sbin/autrace",
		"/etc/aide.conf:14: /usr/sbin/augenrules f p+i+l+n+u+g+s+m+c+acl+selinux+xattrs+md5+?UNDEFINED # written: R+UNDEFINED",
	}
	got := setLines(cf, files.SetAIDE)
	if !slices.Equal(got, want) {
		t.Errorf("lines:\n got %q\nwant %q", got, want)
	}
	if run.ErrorCount != 0 {
		t.Errorf("errors: %v", run.Errors)
	}
}

// An @@x_include runs programs and @@ifhost depends on the host name:
// the file is then an error, not read further; an include loop is
// refused.
func TestAIDEConfNotKnown(t *testing.T) {
	for name, conf := range map[string]string{
		"x_include": "/usr/sbin/auditctl p\n@@x_include /etc/aide.conf.d ^[a-z]+$\n/usr/sbin/auditd p\n",
		"ifhost":    "/usr/sbin/auditctl p\n@@ifhost web1\n/usr/sbin/auditd p\n@@endif\n",
	} {
		t.Run(name, func(t *testing.T) {
			root := t.TempDir()
			write(t, root, "etc/aide.conf", conf)
			cf, run := collectFiles(t, root)
			f := file(t, cf, "/etc/aide.conf")
			if !strings.Contains(f.Error, "line 2:") || len(f.Lines) != 1 || run.ErrorCount != 1 {
				t.Errorf("file: %+v, errors %v", f, run.Errors)
			}
		})
	}
	root := t.TempDir()
	write(t, root, "etc/aide.conf", "@@include /etc/aide.conf\n")
	cf, _ := collectFiles(t, root)
	var loop bool
	for _, f := range cf.Files {
		loop = loop || strings.Contains(f.Error, "include loop")
	}
	if !loop {
		t.Errorf("no loop refused: %+v", cf.Files)
	}
}

// A variable defined as itself twice over would double at each line: the
// substituted line is capped. A group defined from itself stays bounded.
func TestAIDEConfBounded(t *testing.T) {
	root := t.TempDir()
	conf := "@@define A xxxxxxxxxxxxxxxx\nG = p+NOPE\n"
	for range 40 {
		conf += "@@define A @@{A}@@{A}\nG = G+G+NOPE\n"
	}
	conf += "/usr/sbin/auditctl G\n"
	write(t, root, "etc/aide.conf", conf)
	cf, _ := collectFiles(t, root)
	f := file(t, cf, "/etc/aide.conf")
	if !strings.Contains(f.Error, "bytes once its variables are substituted") {
		t.Errorf("error: %q", f.Error)
	}
	root = t.TempDir()
	write(t, root, "etc/aide.conf", strings.ReplaceAll(conf, "@@define A @@{A}@@{A}\n", ""))
	cf, _ = collectFiles(t, root)
	if got := setLines(cf, files.SetAIDE); got[len(got)-1] != "/etc/aide.conf:43: /usr/sbin/auditctl p+?NOPE # written: G" {
		t.Errorf("last line: %q", got[len(got)-1])
	}
}
