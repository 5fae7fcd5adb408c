package auth_test

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/kensa-dev/kensa/internal/collect/auth"
	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/testfixture"
)

// copyTree copies the regular files under src into dst.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return write(dst, rel, string(b))
	})
	if err != nil {
		t.Fatal(err)
	}
}

func write(root, rel, body string) error {
	p := filepath.Join(root, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return os.WriteFile(p, []byte(body), 0o644)
}

func mustWrite(t *testing.T, root, rel, body string) {
	t.Helper()
	if err := write(root, rel, body); err != nil {
		t.Fatal(err)
	}
}

func collectRoot(t *testing.T, root string) (*host.Inventory, host.CollectorRun) {
	t.Helper()
	inv := testfixture.Collect(t, root, auth.New())
	return inv, inv.Collectors[0]
}

func find(stack []host.PAMEntry, typ, module string) *host.PAMEntry {
	for i, e := range stack {
		if e.Type == typ && auth.ModuleName(e) == module {
			return &stack[i]
		}
	}
	return nil
}

func debianRoot(t *testing.T) string {
	root := t.TempDir()
	copyTree(t, testfixture.Shared(t, "fixtures", "config", "debian12"), root)
	return root
}

func TestDebian12Defaults(t *testing.T) {
	root := debianRoot(t)
	inv, run := collectRoot(t, root)
	if run.Status != host.StatusOK {
		t.Fatalf("run = %+v", run)
	}
	ld := inv.Config.Login
	if got := ld.Settings["PASS_MAX_DAYS"]; got.Value != "99999" || got.File != "/etc/login.defs" || got.Line == 0 {
		t.Errorf("PASS_MAX_DAYS = %+v", got)
	}
	for k, want := range map[string]string{"PASS_MIN_DAYS": "0", "PASS_WARN_AGE": "7", "ENCRYPT_METHOD": "SHA512", "UMASK": "022", "ENV_SUPATH": "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"} {
		if got := ld.Settings[k].Value; got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	p := inv.Config.PAM
	for _, svc := range []string{"common-auth", "common-account", "common-password", "common-session", "login", "sshd", "su", "other"} {
		if _, ok := p.Stacks[svc]; !ok {
			t.Errorf("stack %s missing", svc)
		}
	}
	if _, ok := p.Stacks["passwd"]; ok {
		t.Error("a passwd stack without /etc/pam.d/passwd")
	}
	cp := p.Stacks["common-password"]
	unix := find(cp, "password", "pam_unix")
	if unix == nil || unix.Control != "[success=1 default=ignore]" || !cmp.Equal(unix.Args, []string{"obscure", "yescrypt"}) || unix.File != "/etc/pam.d/common-password" {
		t.Errorf("pam_unix = %+v", unix)
	}
	if find(cp, "password", "pam_pwquality") != nil {
		t.Error("pwquality active in the default common-password")
	}
	// login: @include expanded in place with the included file's positions.
	login := p.Stacks["login"]
	first := login[0]
	if first.Module != "pam_faildelay.so" || first.File != "/etc/pam.d/login" {
		t.Errorf("login[0] = %+v", first)
	}
	a := find(login, "auth", "pam_unix")
	if a == nil || a.File != "/etc/pam.d/common-auth" || !cmp.Equal(a.Args, []string{"nullok"}) {
		t.Errorf("login pam_unix auth = %+v", a)
	}
	// pam_group follows the common-auth lines: order is kept.
	var iUnix, iGroup int
	for i, e := range login {
		switch auth.ModuleName(e) {
		case "pam_group":
			iGroup = i
		case "pam_unix":
			if e.Type == "auth" {
				iUnix = i
			}
		}
	}
	if !(iUnix < iGroup) {
		t.Errorf("include not expanded in place: pam_unix at %d, pam_group at %d", iUnix, iGroup)
	}
	// sshd: "# [1]" trailing comments are dropped from the arguments.
	mail := find(p.Stacks["sshd"], "session", "pam_mail")
	if mail == nil || !cmp.Equal(mail.Args, []string{"standard", "noenv"}) {
		t.Errorf("sshd pam_mail = %+v", mail)
	}
	sel := find(p.Stacks["sshd"], "session", "pam_selinux")
	if sel == nil || sel.Control != "[success=ok ignore=ignore module_unknown=ignore default=bad]" {
		t.Errorf("sshd pam_selinux = %+v", sel)
	}
	// su: the pam_wheel line is commented out.
	if find(p.Stacks["su"], "auth", "pam_wheel") != nil {
		t.Error("commented pam_wheel line collected")
	}
	if p.PWQuality != nil || p.Faillock != nil {
		t.Errorf("all-commented files gave settings: %v %v", p.PWQuality, p.Faillock)
	}

	pol := auth.EffectivePasswordPolicy(p, auth.Versions{})
	if pol.Service != "common-password" || pol.Quality != "" || pol.QualityEnforced {
		t.Errorf("policy = %+v", pol)
	}
	if pol.MinLen != (auth.Value{Value: "8", Source: "default (libpwquality)"}) || pol.MinClass.Value != "0" || pol.DCredit.Value != "0" {
		t.Errorf("minlen %v minclass %v dcredit %v", pol.MinLen, pol.MinClass, pol.DCredit)
	}
	if pol.Remember.Value != "0" || pol.History != "" {
		t.Errorf("remember = %v (%s)", pol.Remember, pol.History)
	}
}

func TestDebian12PWQuality(t *testing.T) {
	root := debianRoot(t)
	copyTree(t, testfixture.Shared(t, "fixtures", "config", "debian12-variants", "pwquality"), root)
	inv, run := collectRoot(t, root)
	if run.Status != host.StatusOK {
		t.Fatalf("run = %+v", run)
	}
	pol := auth.EffectivePasswordPolicy(inv.Config.PAM, auth.Versions{})
	q := pol.QualityEntry
	if pol.Quality != "pam_pwquality" || q == nil || q.Control != "requisite" || !cmp.Equal(q.Args, []string{"retry=3"}) || !pol.QualityEnforced {
		t.Fatalf("policy = %+v", pol)
	}
	if pol.MinLen != (auth.Value{Value: "8", Source: "default (libpwquality)"}) {
		t.Errorf("minlen = %v", pol.MinLen)
	}
	if r := pol.Settings["retry"]; r.Value != "3" || !strings.Contains(r.Source, "/etc/pam.d/common-password:") {
		t.Errorf("retry = %v", r)
	}
	// The policy of passwd-less Debian is common-password's; the stacks
	// including it see the same line.
	if find(inv.Config.PAM.Stacks["login"], "password", "pam_pwquality") == nil {
		t.Error("login does not include pam_pwquality")
	}
}

func TestDebian12Hardened(t *testing.T) {
	root := debianRoot(t)
	hard := testfixture.Shared(t, "fixtures", "config", "synthetic", "debian12-hardened")
	copyTree(t, hard, root)
	// "apply on top of debian12/etc/login.defs": appended lines win, as
	// getdef keeps the last definition.
	defs, _ := os.ReadFile(filepath.Join(root, "etc/login.defs"))
	changed, _ := os.ReadFile(filepath.Join(hard, "etc/login.defs.changed-keys"))
	mustWrite(t, root, "etc/login.defs", string(defs)+string(changed))
	nDefs := strings.Count(string(defs), "\n")

	inv, run := collectRoot(t, root)
	if run.Status != host.StatusOK {
		t.Fatalf("run = %+v", run)
	}
	for k, want := range map[string]string{"PASS_MAX_DAYS": "365", "PASS_MIN_DAYS": "1", "PASS_WARN_AGE": "7", "ENCRYPT_METHOD": "YESCRYPT", "UMASK": "027"} {
		got := inv.Config.Login.Settings[k]
		if got.Value != want || got.Line <= nDefs {
			t.Errorf("%s = %+v, want %q from an appended line", k, got, want)
		}
	}
	p := inv.Config.PAM
	if got := p.PWQuality["enforce_for_root"]; got.Value != "true" {
		t.Errorf("enforce_for_root = %+v", got)
	}
	if got := p.Faillock["deny"]; got.Value != "5" || got.File != "/etc/security/faillock.conf" {
		t.Errorf("faillock deny = %+v", got)
	}
	if got := p.Faillock["unlock_time"].Value; got != "900" {
		t.Errorf("faillock unlock_time = %q", got)
	}
	ca := p.Stacks["common-auth"]
	if e := find(ca, "auth", "pam_unix"); e == nil || cmp.Equal(e.Args, []string{"nullok"}) {
		t.Errorf("hardened common-auth pam_unix = %+v", e)
	}
	if e := find(ca, "auth", "pam_faillock"); e == nil || e.Args[0] != "preauth" {
		t.Errorf("faillock preauth = %+v", e)
	}

	pol := auth.EffectivePasswordPolicy(p, auth.Versions{})
	conf := "/etc/security/pwquality.conf.d/50-cis.conf"
	if pol.Quality != "pam_pwquality" || !pol.QualityEnforced {
		t.Errorf("quality %q enforced %v", pol.Quality, pol.QualityEnforced)
	}
	if pol.MinLen != (auth.Value{Value: "14", Source: conf + ":2"}) {
		t.Errorf("minlen = %v", pol.MinLen)
	}
	if pol.MinClass != (auth.Value{Value: "4", Source: conf + ":3"}) {
		t.Errorf("minclass = %v", pol.MinClass)
	}
	for k, want := range map[string]string{"difok": "2", "maxrepeat": "3", "maxsequence": "3", "dictcheck": "1", "enforcing": "1", "enforce_for_root": "true"} {
		if got := pol.Settings[k]; got.Value != want || !strings.HasPrefix(got.Source, conf+":") {
			t.Errorf("%s = %v, want %s from %s", k, got, want, conf)
		}
	}
	if pol.History != "pam_pwhistory" || pol.Remember.Value != "24" || !strings.HasPrefix(pol.Remember.Source, "/etc/pam.d/common-password:") {
		t.Errorf("history %s remember %v", pol.History, pol.Remember)
	}
	if n, _ := pol.Remember.Int(); n < 24 {
		t.Errorf("remember %d < 24 (CIS)", n)
	}
}

func TestRHELAuthselect(t *testing.T) {
	for _, variant := range []string{"rendered-default", "rendered-with-faillock"} {
		t.Run(variant, func(t *testing.T) {
			src := testfixture.Shared(t, "fixtures", "config", "rhel-family", "authselect-1.2.6", "sssd", variant)
			root := t.TempDir()
			for _, f := range []string{"system-auth", "password-auth"} {
				b, err := os.ReadFile(filepath.Join(src, f))
				if err != nil {
					t.Fatal(err)
				}
				mustWrite(t, root, "etc/pam.d/"+f, string(b))
			}
			inv, run := collectRoot(t, root)
			if run.Status != host.StatusOK {
				t.Fatalf("run = %+v", run)
			}
			if inv.Config.Login != nil {
				t.Error("login.defs from nowhere")
			}
			p := inv.Config.PAM
			for _, svc := range []string{"system-auth", "password-auth"} {
				st := p.Stacks[svc]
				if len(st) == 0 {
					t.Fatalf("%s empty", svc)
				}
				sd := find(st, "session", "pam_systemd")
				if sd == nil || !auth.Silent(*sd) || auth.Control(*sd) != "optional" {
					t.Errorf("%s -session pam_systemd = %+v", svc, sd)
				}
				fl := find(st, "auth", "pam_faillock")
				if (variant == "rendered-with-faillock") != (fl != nil) {
					t.Errorf("%s faillock = %+v", svc, fl)
				}
				if fl != nil && !cmp.Equal(fl.Args, []string{"preauth", "silent"}) {
					t.Errorf("%s faillock preauth = %+v", svc, fl)
				}
			}
			pol := auth.EffectivePasswordPolicy(p, auth.Versions{})
			if pol.Service != "system-auth" || pol.Quality != "pam_pwquality" || !pol.QualityEnforced {
				t.Fatalf("policy = %+v", pol)
			}
			if got := pol.Settings["local_users_only"]; got.Value != "true" || !strings.Contains(got.Source, "argument of pam_pwquality") {
				t.Errorf("local_users_only = %v", got)
			}
			if pol.MinLen.Value != "8" || pol.Remember.Value != "0" {
				t.Errorf("minlen %v remember %v", pol.MinLen, pol.Remember)
			}
		})
	}
}

func TestNotApplicable(t *testing.T) {
	root := t.TempDir()
	mustWrite(t, root, "etc/hostname", "x\n")
	_, run := collectRoot(t, root)
	if run.Status != host.StatusSkipped {
		t.Fatalf("run = %+v", run)
	}
}

func TestIncludesAndPrecedence(t *testing.T) {
	root := t.TempDir()
	mustWrite(t, root, "etc/login.defs", "PASS_MAX_DAYS 90\n# PASS_MAX_DAYS 1\n  PASS_MAX_DAYS\t\"60\"  \npass_min_days 5\nLONELY\n")
	mustWrite(t, root, "etc/pam.d/passwd", "#%PAM-1.0\n"+
		"password   substack   system-auth\n"+
		"-password  optional   pam_gnome_keyring.so use_authtok\n"+
		"auth include system-auth\n")
	mustWrite(t, root, "etc/pam.d/system-auth", "auth required pam_env.so\n"+
		"password requisite /usr/lib64/security/pam_pwquality.so \\\n"+
		"# a comment inside the continuation\n"+
		"     minlen=4 [badwords=foo bar\\]] # trailing\n"+
		"password sufficient pam_unix.so sha512 remember=5\n"+
		"password required pam_pwhistory.so\n")
	mustWrite(t, root, "etc/security/pwquality.conf.d/10-a.conf", "minlen = 10\nminclass=2\n")
	mustWrite(t, root, "etc/security/pwquality.conf.d/20-b.conf", "MINLEN 12\n")
	mustWrite(t, root, "etc/security/pwquality.conf.d/README", "garbage\n")
	mustWrite(t, root, "etc/security/pwquality.conf.d/x.conf.bak", "garbage\n")
	mustWrite(t, root, "etc/security/pwquality.conf", "minclass = 3\nucredit=-1\n")
	mustWrite(t, root, "etc/security/faillock.conf", "deny=4\neven_deny_root\nunlock_time = never\n")
	inv, run := collectRoot(t, root)
	if run.Status != host.StatusOK {
		t.Fatalf("run = %+v", run)
	}
	ld := inv.Config.Login.Settings
	if ld["PASS_MAX_DAYS"] != (host.Setting{Value: "60", File: "/etc/login.defs", Line: 3}) {
		t.Errorf("PASS_MAX_DAYS = %+v", ld["PASS_MAX_DAYS"])
	}
	if _, ok := ld["LONELY"]; ok {
		t.Error("a name without value was kept")
	}
	if ld["pass_min_days"].Value != "5" {
		t.Error("lower-case key not kept as written")
	}
	p := inv.Config.PAM
	want := []host.PAMEntry{
		{Type: "password", Control: "requisite", Module: "/usr/lib64/security/pam_pwquality.so", Args: []string{"minlen=4", "badwords=foo bar]"}, File: "/etc/pam.d/system-auth", Line: 2},
		{Type: "password", Control: "sufficient", Module: "pam_unix.so", Args: []string{"sha512", "remember=5"}, File: "/etc/pam.d/system-auth", Line: 5},
		{Type: "password", Control: "required", Module: "pam_pwhistory.so", File: "/etc/pam.d/system-auth", Line: 6},
		{Type: "password", Control: "-optional", Module: "pam_gnome_keyring.so", Args: []string{"use_authtok"}, File: "/etc/pam.d/passwd", Line: 3},
		{Type: "auth", Control: "required", Module: "pam_env.so", File: "/etc/pam.d/system-auth", Line: 1},
	}
	if d := cmp.Diff(want, p.Stacks["passwd"]); d != "" {
		t.Errorf("passwd stack (-want +got):\n%s", d)
	}
	if d := cmp.Diff(map[string]host.Setting{
		"minlen":   {Value: "12", File: "/etc/security/pwquality.conf.d/20-b.conf", Line: 1},
		"minclass": {Value: "3", File: "/etc/security/pwquality.conf", Line: 1},
		"ucredit":  {Value: "-1", File: "/etc/security/pwquality.conf", Line: 2},
	}, p.PWQuality); d != "" {
		t.Errorf("pwquality (-want +got):\n%s", d)
	}
	if p.Faillock["even_deny_root"].Value != "true" || p.Faillock["unlock_time"].Value != "never" || p.Faillock["deny"].Line != 1 {
		t.Errorf("faillock = %+v", p.Faillock)
	}
	pol := auth.EffectivePasswordPolicy(p, auth.Versions{})
	if pol.Service != "passwd" || pol.Quality != "pam_pwquality" {
		t.Fatalf("policy = %+v", pol)
	}
	// The argument minlen=4 wins and libpwquality raises it to 6.
	if pol.MinLen.Value != "6" || !strings.Contains(pol.MinLen.Source, "/etc/pam.d/system-auth:2 (argument of pam_pwquality) (4, raised to the minimum 6)") {
		t.Errorf("minlen = %v", pol.MinLen)
	}
	if pol.MinClass != (auth.Value{Value: "3", Source: "/etc/security/pwquality.conf:1"}) || pol.UCredit.Value != "-1" || pol.LCredit.Source != "default (libpwquality)" {
		t.Errorf("minclass %v ucredit %v lcredit %v", pol.MinClass, pol.UCredit, pol.LCredit)
	}
	if pol.Settings["badwords"].Value != "foo bar]" {
		t.Errorf("badwords = %v", pol.Settings["badwords"])
	}
	// pam_pwhistory without remember= (10) beats pam_unix remember=5.
	if pol.History != "pam_pwhistory" || pol.Remember != (auth.Value{Value: "10", Source: "default (pam_pwhistory)"}) {
		t.Errorf("history %s %v", pol.History, pol.Remember)
	}
}

func TestPWQualityStops(t *testing.T) {
	root := t.TempDir()
	mustWrite(t, root, "etc/pam.d/other", "auth required pam_deny.so\n")
	mustWrite(t, root, "etc/security/pwquality.conf.d/10-a.conf", "minlen = 10\nminlenn = 11\nminclass = 2\n")
	mustWrite(t, root, "etc/security/pwquality.conf", "minlen = 20\n")
	inv, run := collectRoot(t, root)
	if run.Status != host.StatusPartial || !strings.Contains(strings.Join(run.Errors, "\n"), "stops reading") {
		t.Fatalf("run = %+v", run)
	}
	if d := cmp.Diff(map[string]host.Setting{"minlen": {Value: "10", File: "/etc/security/pwquality.conf.d/10-a.conf", Line: 1}}, inv.Config.PAM.PWQuality); d != "" {
		t.Errorf("pwquality (-want +got):\n%s", d)
	}
}

func TestHostileRoot(t *testing.T) {
	root := t.TempDir()
	outside := t.TempDir()
	mustWrite(t, outside, "secret", "password required pam_SECRET.so\n")
	mustWrite(t, root, "etc/login.defs", strings.Repeat("X", 2<<20))
	// An include loop, a self-include and a fan-out that multiplies.
	mustWrite(t, root, "etc/pam.d/login", "@include common-auth\nauth required pam_a.so\n")
	mustWrite(t, root, "etc/pam.d/common-auth", "@include login\n")
	mustWrite(t, root, "etc/pam.d/other", "auth include other\n")
	for i := range 3 {
		mustWrite(t, root, fmt.Sprintf("etc/pam.d/fan%d", i), strings.Repeat(fmt.Sprintf("@include fan%d\n", i+1), 50))
	}
	mustWrite(t, root, "etc/pam.d/fan3", "auth required pam_x.so\n")
	mustWrite(t, root, "etc/pam.d/sudo", "@include fan0\n")
	// Links out of the root resolve inside it.
	if err := os.Symlink(filepath.Join(outside, "secret"), filepath.Join(root, "etc/pam.d/passwd")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../../../../../../../.."+outside+"/secret", filepath.Join(root, "etc/pam.d/su")); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, root, "etc/pam.d/sshd", "@include /../../../../.."+outside+"/secret\nauth include ../../../../../.."+outside+"/secret\n")
	// A huge file, a FIFO, garbage.
	mustWrite(t, root, "etc/pam.d/common-session", strings.Repeat("session required pam_x.so\n", 100000))
	if err := syscall.Mkfifo(filepath.Join(root, "etc/pam.d/common-password"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(root, "etc/security/faillock.conf"), 0o644); err != nil {
		os.MkdirAll(filepath.Join(root, "etc/security"), 0o755)
		if err := syscall.Mkfifo(filepath.Join(root, "etc/security/faillock.conf"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.MkdirAll(filepath.Join(root, "etc/security/pwquality.conf.d"), 0o755)
	if err := syscall.Mkfifo(filepath.Join(root, "etc/security/pwquality.conf.d/00.conf"), 0o644); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, root, "etc/pam.d/common-account", "\x00\xff[[[ \\\n\\\n#\n-\n[x] y z\naccount\n")

	inv, run := collectRoot(t, root)
	if run.Status != host.StatusPartial {
		t.Fatalf("run = %+v", run)
	}
	errs := strings.Join(run.Errors, "\n")
	for _, want := range []string{"include loop", "exceeds the read limit", "not a regular file", "reached 4096 entries"} {
		if !strings.Contains(errs, want) {
			t.Errorf("no %q among the errors:\n%s", want, errs)
		}
	}
	b, _ := os.ReadFile(filepath.Join(outside, "secret"))
	if strings.Contains(errs, "SECRET") || strings.Contains(errs, string(b)) {
		t.Error("a file outside the root was read")
	}
	p := inv.Config.PAM
	for svc, st := range p.Stacks {
		for _, e := range st {
			if strings.Contains(e.Module, "SECRET") {
				t.Errorf("%s: entry from outside the root: %+v", svc, e)
			}
		}
		if len(st) > 4096 {
			t.Errorf("%s: %d entries", svc, len(st))
		}
	}
	if got := p.Stacks["login"]; len(got) != 1 || got[0].Module != "pam_a.so" {
		t.Errorf("login = %+v", got)
	}
	if inv.Config.Login != nil {
		t.Error("an oversized login.defs was parsed")
	}
}
