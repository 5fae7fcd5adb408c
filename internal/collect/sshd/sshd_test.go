package sshd_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/netip"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"

	"github.com/goccy/go-yaml"
	"github.com/kensa-dev/kensa/internal/collect"
	"github.com/kensa-dev/kensa/internal/collect/sshd"
	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/hostfs"
	"github.com/kensa-dev/kensa/internal/testfixture"
)

// seed plays the package collectors.
type seed []host.Package

func (seed) Name() string { return "test/seed" }
func (s seed) Collect(_ context.Context, _ *collect.Env, inv *host.Inventory) error {
	inv.Packages = append(inv.Packages, s...)
	return nil
}

var debianPkg = host.Package{Manager: "dpkg", Name: "openssh-server", Version: "1:9.2p1-2+deb12u10"}

// liveFS makes an image look like the running host.
type liveFS struct{ hostfs.FS }

func (liveFS) Live() bool { return true }

func run(t *testing.T, root string, live bool, c *sshd.Collector, pkgs ...host.Package) (*host.SSHD, host.CollectorRun) {
	t.Helper()
	fsys, err := hostfs.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	if live {
		fsys = liveFS{fsys}
	}
	if c == nil {
		c = sshd.NewWithOptions(sshd.Options{Run: func(context.Context, string, ...string) ([]byte, error) {
			t.Error("sshd -T run on an image")
			return nil, errors.New("no")
		}})
	}
	inv := testfixture.CollectEnv(t, &collect.Env{FS: fsys}, seed(pkgs), c)
	if inv.Config == nil || inv.Config.SSHD == nil {
		t.Fatalf("no sshd config; runs %+v", inv.Collectors)
	}
	return inv.Config.SSHD, inv.Collectors[1]
}

func write(t *testing.T, root, name, content string) {
	t.Helper()
	p := filepath.Join(root, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// norm is how `sshd -T` values are compared.
func norm(v string) string {
	v = strings.ToLower(strings.Join(strings.Fields(v), " "))
	if v == "without-password" {
		return "prohibit-password"
	}
	return v
}

// conn is a connection spec of expected.yaml ("user=alice,host=h,addr=10.1.2.3").
type conn map[string]string

// matches evaluates Match criteria for the attributes the fixtures use.
func (c conn) matches(t *testing.T, criteria string) bool {
	f := strings.Fields(criteria)
	for i := 0; i < len(f); i++ {
		attr := strings.ToLower(f[i])
		if attr == "all" {
			continue
		}
		i++
		if i >= len(f) {
			t.Fatalf("criteria %q", criteria)
		}
		var v string
		switch attr {
		case "user":
			v = c["user"]
		case "host":
			v = c["host"]
		case "address":
			v = c["addr"]
		case "group":
			return false // no test connection is in a group
		default:
			t.Fatalf("criteria %q: %s not supported by the test", criteria, attr)
		}
		if !patternList(f[i], v, attr == "address") {
			return false
		}
	}
	return true
}

func patternList(list, v string, addr bool) bool {
	ok := false
	for _, p := range strings.Split(list, ",") {
		neg := strings.HasPrefix(p, "!")
		p = strings.TrimPrefix(p, "!")
		m, _ := path.Match(p, v)
		if addr && strings.Contains(p, "/") {
			pfx, err1 := netip.ParsePrefix(p)
			a, err2 := netip.ParseAddr(v)
			m = err1 == nil && err2 == nil && pfx.Contains(a)
		}
		if m && neg {
			return false
		}
		ok = ok || m
	}
	return ok
}

// effective is the value sshd applies to a connection: the first value of
// the Match blocks that match it, else the global one.
func effective(t *testing.T, cfg *host.SSHD, c conn, kw string) (host.Setting, bool) {
	for _, m := range cfg.Matches {
		if c.matches(t, m.Criteria) {
			if s, ok := m.Settings[kw]; ok {
				return s, true
			}
		}
	}
	s, ok := cfg.Global[kw]
	return s, ok
}

func TestSyntheticCases(t *testing.T) {
	dir := testfixture.Shared(t, "fixtures", "config", "synthetic", "sshd")
	b, err := os.ReadFile(filepath.Join(dir, "expected.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var cases map[string]map[string]any
	if err := yaml.Unmarshal(b, &cases); err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(dir)
	nCases, checked := 0, 0
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		want, ok := cases[e.Name()]
		if !ok {
			t.Errorf("%s has no expectations", e.Name())
			continue
		}
		nCases++
		t.Run(e.Name(), func(t *testing.T) {
			cfg, runrec := run(t, filepath.Join(dir, e.Name()), false, nil, debianPkg)
			if runrec.Status != host.StatusOK {
				t.Errorf("run = %+v", runrec)
			}
			if !cfg.Installed || cfg.Version != "9.2p1" {
				t.Errorf("installed %v version %q", cfg.Installed, cfg.Version)
			}
			for key, v := range want {
				if key == "why" {
					continue
				}
				exp, ok := v.(map[string]any)
				if !ok {
					t.Fatalf("%s: %T", key, v)
				}
				c := conn{}
				switch {
				case key == "global":
					c = nil
				case strings.HasPrefix(key, "conn_"):
					for _, kv := range strings.Split(strings.TrimPrefix(key, "conn_"), ",") {
						k, val, _ := strings.Cut(kv, "=")
						c[k] = val
					}
				default:
					t.Fatalf("unknown expectation %s", key)
				}
				for kw, wv := range exp {
					var got host.Setting
					var ok bool
					if c == nil {
						got, ok = cfg.Global[kw]
					} else {
						got, ok = effective(t, cfg, c, kw)
					}
					checked++
					if !ok || norm(got.Value) != norm(wv.(string)) {
						t.Errorf("%s %s = %+v (set %v), want %q", key, kw, got, ok, wv)
					}
				}
			}
		})
	}
	if nCases < 7 {
		t.Errorf("only %d cases", nCases)
	}
	t.Logf("%d cases, %d expected values checked", nCases, checked)
}

func TestCase04MatchScopedToFile(t *testing.T) {
	dir := testfixture.Shared(t, "fixtures", "config", "synthetic", "sshd", "case04-match-scoped-to-file")
	cfg, _ := run(t, dir, false, nil, debianPkg)
	if len(cfg.Matches) != 1 {
		t.Fatalf("matches = %+v", cfg.Matches)
	}
	m := cfg.Matches[0]
	if m.Criteria != "User deploy" || m.File != "/etc/ssh/sshd_config.d/40-deploy.conf" || m.Line != 1 || len(m.Settings) != 1 || m.Settings["passwordauthentication"].Value != "no" {
		t.Errorf("match = %+v", m)
	}
	if s := cfg.Global["permitrootlogin"]; s.Value != "no" || s.File != "/etc/ssh/sshd_config" || s.Line != 3 {
		t.Errorf("permitrootlogin = %+v (the main file's line after the Include is global)", s)
	}
	want := []string{"/etc/ssh/sshd_config", "/etc/ssh/sshd_config.d/40-deploy.conf"}
	if strings.Join(cfg.Files, " ") != strings.Join(want, " ") {
		t.Errorf("files = %v", cfg.Files)
	}
}

// TestDebian12 compares the computed configuration of Debian 12's shipped
// sshd_config with that package's own `sshd -T`.
func TestDebian12(t *testing.T) {
	dir := testfixture.Shared(t, "fixtures", "config", "debian12")
	dump, err := os.ReadFile(filepath.Join(dir, "generated", "sshd-T-default.txt"))
	if err != nil {
		t.Fatal(err)
	}
	live := sshd.ParseDump(dump)
	cfg, runrec := run(t, dir, false, nil, debianPkg)
	if runrec.Status != host.StatusOK {
		t.Errorf("run = %+v", runrec)
	}
	checked := 0
	for kw, s := range cfg.Global {
		lv, ok := live[kw]
		if !ok {
			if kw != "protocol" {
				t.Errorf("%s computed (%q) but not printed by sshd -T", kw, s.Value)
			}
			continue
		}
		checked++
		if norm(s.Value) != norm(lv) {
			t.Errorf("%s = %q, sshd -T %q", kw, s.Value, lv)
		}
	}
	for kw := range sshd.Defaults(sshd.ParseVersion("9.2p1")) {
		if _, ok := live[kw]; !ok && kw != "protocol" {
			t.Errorf("default %s not in sshd -T", kw)
		}
	}
	if d := sshd.Disagreements(cfg.Global, live); d != nil {
		t.Errorf("disagreements: %v", d)
	}
	for kw, want := range map[string]host.Setting{
		"usepam":          {Value: "yes", File: "/etc/ssh/sshd_config", Line: 85},
		"x11forwarding":   {Value: "yes", File: "/etc/ssh/sshd_config", Line: 90},
		"permitrootlogin": {Value: "prohibit-password"},
		"acceptenv":       {Value: "LANG LC_*", File: "/etc/ssh/sshd_config", Line: 112},
	} {
		if got := cfg.Global[kw]; got != want {
			t.Errorf("%s = %+v, want %+v", kw, got, want)
		}
	}
	t.Logf("%d keywords compared with sshd -T", checked)
}

func TestLive(t *testing.T) {
	dir := testfixture.Shared(t, "fixtures", "config", "debian12")
	dump, err := os.ReadFile(filepath.Join(dir, "generated", "sshd-T-default.txt"))
	if err != nil {
		t.Fatal(err)
	}
	conf, err := os.ReadFile(filepath.Join(dir, "etc", "ssh", "sshd_config"))
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	write(t, root, "etc/ssh/sshd_config", string(conf))
	write(t, root, "usr/sbin/sshd", "ELF")
	var calls []string
	runner := func(out []byte, err error) sshd.Runner {
		return func(ctx context.Context, name string, args ...string) ([]byte, error) {
			if _, ok := ctx.Deadline(); !ok {
				t.Error("no timeout")
			}
			calls = append(calls, name+" "+strings.Join(args, " "))
			return out, err
		}
	}
	cfg, _ := run(t, root, true, sshd.NewWithOptions(sshd.Options{Run: runner(dump, nil)}), debianPkg)
	if len(calls) != 1 || calls[0] != "/usr/sbin/sshd -T" {
		t.Fatalf("calls = %v", calls)
	}
	if cfg.Live["permitrootlogin"] != "without-password" || cfg.Live["acceptenv"] != "LANG LC_*" || cfg.LiveError != "" || cfg.Disagreements != nil {
		t.Errorf("live = %v, error %q, disagreements %v", cfg.Live, cfg.LiveError, cfg.Disagreements)
	}

	changed := strings.Replace(string(dump), "permitrootlogin without-password", "permitrootlogin yes", 1)
	changed = strings.Replace(changed, "maxauthtries 6", "MaxAuthTries 6", 1)
	cfg, _ = run(t, root, true, sshd.NewWithOptions(sshd.Options{Run: runner([]byte(changed), nil)}), debianPkg)
	if want := []string{"permitrootlogin: computed prohibit-password, sshd -T yes"}; strings.Join(cfg.Disagreements, "|") != want[0] {
		t.Errorf("disagreements = %q, want %q", cfg.Disagreements, want)
	}

	cfg, runrec := run(t, root, true, sshd.NewWithOptions(sshd.Options{Run: runner(nil, errors.New("exit status 255: no hostkeys available"))}), debianPkg)
	if cfg.Live != nil || !strings.Contains(cfg.LiveError, "no hostkeys") || runrec.Status != host.StatusOK {
		t.Errorf("live %v, error %q, run %+v", cfg.Live, cfg.LiveError, runrec)
	}
	// The real runner on a command that does not exist.
	if _, err := sshd.ExecRunner(context.Background(), filepath.Join(root, "nonexistent")); err == nil {
		t.Error("ExecRunner ran a missing command")
	}
	// An image never runs sshd -T (run's default runner fails the test).
	cfg, _ = run(t, root, false, nil, debianPkg)
	if cfg.Live != nil || cfg.LiveError != "" {
		t.Errorf("image: live %v %q", cfg.Live, cfg.LiveError)
	}
}

func TestUpstream87(t *testing.T) {
	conf, err := os.ReadFile(filepath.Join(testfixture.Shared(t, "fixtures", "config", "upstream-openssh", "8.7p1"), "sshd_config"))
	if err != nil {
		t.Fatal(err)
	}
	rhel := host.Package{Manager: "rpm", Name: "openssh-server", Version: "8.7p1-38.el9"}
	root := t.TempDir()
	write(t, root, "etc/ssh/sshd_config", string(conf))
	cfg, _ := run(t, root, false, nil, rhel)
	if cfg.Version != "8.7p1" {
		t.Errorf("version %q", cfg.Version)
	}
	for kw, want := range map[string]host.Setting{
		"authorizedkeysfile":           {Value: ".ssh/authorized_keys", File: "/etc/ssh/sshd_config", Line: 41},
		"subsystem":                    {Value: "sftp /usr/libexec/sftp-server", File: "/etc/ssh/sshd_config", Line: 109},
		"permitrootlogin":              {Value: "prohibit-password"},
		"kbdinteractiveauthentication": {Value: "yes"},
		"usepam":                       {Value: "no"},
		"x11forwarding":                {Value: "no"},
		"passwordauthentication":       {Value: "yes"},
	} {
		if got := cfg.Global[kw]; got != want {
			t.Errorf("%s = %+v, want %+v", kw, got, want)
		}
	}
	// The compiled-in defaults, the two keywords the file sets, and the
	// three algorithm lists, known for 8.7.
	if len(cfg.Global) != len(sshd.Defaults(sshd.ParseVersion("8.7p1")))+2+len(sshd.AlgorithmKeywords) {
		t.Errorf("global has %d keywords: %v", len(cfg.Global), cfg.Global)
	}

	// As RHEL 9 ships it: an Include first and its 50-redhat.conf, which
	// still says ChallengeResponseAuthentication.
	write(t, root, "etc/ssh/sshd_config", "Include /etc/ssh/sshd_config.d/*.conf\n"+string(conf))
	write(t, root, "etc/ssh/sshd_config.d/50-redhat.conf", "Include /etc/crypto-policies/back-ends/opensshserver.config\nSyslogFacility AUTHPRIV\nChallengeResponseAuthentication no\nGSSAPIAuthentication yes\nGSSAPICleanupCredentials no\nUsePAM yes\nX11Forwarding yes\nPrintMotd no\n")
	write(t, root, "etc/crypto-policies/back-ends/opensshserver.config", "Ciphers aes256-gcm@openssh.com,chacha20-poly1305@openssh.com\n")
	cfg, runrec := run(t, root, false, nil, rhel)
	if runrec.Status != host.StatusOK {
		t.Errorf("run %+v", runrec)
	}
	for kw, want := range map[string]string{
		"kbdinteractiveauthentication": "no", "usepam": "yes", "x11forwarding": "yes", "syslogfacility": "AUTHPRIV",
		"gssapiauthentication": "yes", "ciphers": "aes256-gcm@openssh.com,chacha20-poly1305@openssh.com",
	} {
		if got := cfg.Global[kw].Value; got != want {
			t.Errorf("%s = %q, want %q", kw, got, want)
		}
	}
	if s := cfg.Global["kbdinteractiveauthentication"]; s.File != "/etc/ssh/sshd_config.d/50-redhat.conf" || s.Line != 3 {
		t.Errorf("kbdinteractiveauthentication = %+v", s)
	}
	if len(cfg.Files) != 3 || cfg.Files[2] != "/etc/crypto-policies/back-ends/opensshserver.config" {
		t.Errorf("files = %v", cfg.Files)
	}
}

func TestNotInstalled(t *testing.T) {
	root := t.TempDir()
	write(t, root, "etc/ssh/ssh_config", "Host *\n")
	cfg, runrec := run(t, root, false, nil, host.Package{Manager: "dpkg", Name: "openssh-client", Version: "1:9.2p1-2"})
	if cfg.Installed || runrec.Status != host.StatusSkipped || runrec.Reason != "no OpenSSH server installed" {
		t.Errorf("cfg %+v run %+v", cfg, runrec)
	}
	// The binary alone is enough; the version is then unknown and the
	// missing configuration is reported.
	write(t, root, "usr/sbin/sshd", "ELF")
	cfg, runrec = run(t, root, false, nil)
	if !cfg.Installed || cfg.Version != "" || runrec.Status != host.StatusPartial || !strings.Contains(runrec.Errors[0], "/etc/ssh/sshd_config") {
		t.Errorf("cfg %+v run %+v", cfg, runrec)
	}
	if cfg.Global["permitrootlogin"].Value != "prohibit-password" {
		t.Errorf("defaults: %v", cfg.Global)
	}
}

func TestPackages(t *testing.T) {
	for _, c := range []struct {
		pkg  host.Package
		want string
	}{
		{debianPkg, "9.2p1"},
		{host.Package{Manager: "dpkg", Name: "openssh-server", Version: "1:8.9p1-3ubuntu0.10"}, "8.9p1"},
		{host.Package{Manager: "rpm", Name: "openssh-server", Version: "8.7p1-38.el9"}, "8.7p1"},
		{host.Package{Manager: "apk", Name: "openssh-server-pam", Version: "9.7_p1-r4"}, "9.7p1"},
		{host.Package{Manager: "apk", Name: "openssh", Version: "9.9_p2-r0"}, "9.9p2"},
		{host.Package{Manager: "apk", Name: "openssh-server", Version: "9.9_p2-r0"}, "9.9p2"},
	} {
		p := sshd.ServerPackage([]host.Package{{Manager: "dpkg", Name: "openssh-client"}, c.pkg})
		if p == nil || sshd.UpstreamVersion(p.Version) != c.want {
			t.Errorf("%+v: %+v", c.pkg, p)
		}
	}
	if p := sshd.ServerPackage([]host.Package{{Manager: "dpkg", Name: "openssh"}, {Manager: "rpm", Name: "openssh"}}); p != nil {
		t.Errorf("openssh (client) on dpkg/rpm taken for the server: %+v", p)
	}
	old := sshd.Defaults(sshd.ParseVersion("6.6p1"))
	if old["permitrootlogin"] != "yes" || old["disableforwarding"] != "" {
		t.Errorf("6.6 defaults: %v", old)
	}
}

// TestParse covers the parser on written configurations.
func TestParse(t *testing.T) {
	root := t.TempDir()
	write(t, root, "etc/ssh/sshd_config", `# comment
  PermitRootLogin = Without-Password # trailing comment
Banner "/etc/issue #x"
LoginGraceTime 1m30s
ClientAliveInterval 5M
MaxStartups 20
LogLevel verbose
AllowUsers alice bob
AllowUsers carol
AuthorizedKeysFile a b
AuthorizedKeysFile c
Protocol 1
PasswordAuthentication
PermitEmptyPasswords "no
UsePAM no
Match all
AllowUsers dave
PasswordAuthentication no
UsePAM yes
Match User x
Include inc/*.conf
X11Forwarding yes
Port 2222
`)
	write(t, root, "etc/ssh/inc/a.conf", "MaxAuthTries 3\nMatch Address 10.0.0.0/8\nMaxSessions 2\n")
	write(t, root, "etc/ssh/inc/.hidden.conf", "MaxAuthTries 1\n")
	cfg, runrec := run(t, root, false, nil, debianPkg)
	g := cfg.Global
	for kw, want := range map[string]string{
		"permitrootlogin": "prohibit-password", "banner": "/etc/issue #x", "logingracetime": "90",
		"clientaliveinterval": "300", "maxstartups": "20:30:20", "loglevel": "VERBOSE",
		"allowusers": "dave", "authorizedkeysfile": "a b", "protocol": "2",
		"passwordauthentication": "no", "permitemptypasswords": "no", "usepam": "no",
		"x11forwarding": "no", "maxauthtries": "6", "maxsessions": "10",
	} {
		if g[kw].Value != want {
			t.Errorf("%s = %+v, want %q", kw, g[kw], want)
		}
	}
	if g["protocol"].File != "" || g["allowusers"].Line != 17 || g["usepam"].Line != 15 {
		t.Errorf("protocol %+v allowusers %+v usepam %+v", g["protocol"], g["allowusers"], g["usepam"])
	}
	var got []string
	for _, m := range cfg.Matches {
		keys := make([]string, 0, len(m.Settings))
		for k, s := range m.Settings {
			keys = append(keys, k+"="+s.Value)
		}
		sort.Strings(keys)
		got = append(got, m.Criteria+"@"+path.Base(m.File)+":"+itoa(m.Line)+" "+strings.Join(keys, ","))
	}
	want := []string{
		"all@sshd_config:16 allowusers=dave,passwordauthentication=no",
		"User x@sshd_config:20 maxauthtries=3",
		"User x Address 10.0.0.0/8@a.conf:2 maxsessions=2",
		"User x@sshd_config:20 x11forwarding=yes",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("matches:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// Port is refused in a Match block; the line without a value and
	// the unmatched quote are reported.
	errs := strings.Join(runrec.Errors, "\n")
	for _, w := range []string{"line 13: no argument", "line 14: invalid quotes", "line 23: port is not allowed within a Match block"} {
		if !strings.Contains(errs, w) {
			t.Errorf("errors %q lack %q", errs, w)
		}
	}
	if runrec.ErrorCount != 3 {
		t.Errorf("errors: %q", runrec.Errors)
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// TestHostileRoot: include loops, links out of the root, a huge file and
// a FIFO are reported; the rest is read and nothing outside leaks in.
func TestHostileRoot(t *testing.T) {
	outside := t.TempDir()
	write(t, outside, "secret.conf", "Banner SECRET\nPermitRootLogin yes\nPasswordAuthentication yes\n")
	root := t.TempDir()
	write(t, root, "etc/ssh/sshd_config", "Include loop.conf\nInclude /etc/../../../etc/shadow\nInclude sshd_config.d/*.conf\nInclude /etc/ssh/sshd_config\nPermitRootLogin no\n")
	write(t, root, "etc/ssh/loop.conf", "Include /etc/ssh/loop.conf\nMaxAuthTries 3\n")
	d := filepath.Join(root, "etc/ssh/sshd_config.d")
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(outside, "secret.conf"), filepath.Join(root, "etc/shadow")); err != nil {
		t.Fatal(err)
	}
	os.Symlink(filepath.Join(outside, "secret.conf"), filepath.Join(d, "10-abs.conf"))
	os.Symlink(strings.Repeat("../", 20)+outside[1:]+"/secret.conf", filepath.Join(d, "11-rel.conf"))
	os.Symlink("13-b.conf", filepath.Join(d, "12-a.conf"))
	os.Symlink("12-a.conf", filepath.Join(d, "13-b.conf"))
	write(t, root, "etc/ssh/sshd_config.d/20-huge.conf", "PasswordAuthentication no\n"+strings.Repeat("#", 2<<20))
	if err := syscall.Mkfifo(filepath.Join(d, "30-fifo.conf"), 0o644); err != nil {
		t.Fatal(err)
	}
	write(t, root, "etc/ssh/sshd_config.d/40-ok.conf", "ClientAliveInterval 60\n")
	cfg, runrec := run(t, root, false, nil, debianPkg)
	b, _ := json.Marshal(cfg)
	if strings.Contains(string(b), "SECRET") || strings.Contains(string(b), outside) {
		t.Fatalf("a file outside the root was read: %s", b)
	}
	g := cfg.Global
	if g["permitrootlogin"].Value != "no" || g["maxauthtries"].Value != "3" || g["clientaliveinterval"].Value != "60" || g["passwordauthentication"].Value != "yes" || g["passwordauthentication"].File != "" {
		t.Errorf("global = %v", g)
	}
	errs := strings.Join(runrec.Errors, "\n")
	for _, w := range []string{
		"/etc/ssh/loop.conf: include loop",
		"/etc/ssh/sshd_config: include loop",
		"/etc/ssh/sshd_config.d/10-abs.conf: file does not exist",
		"/etc/ssh/sshd_config.d/11-rel.conf: file does not exist",
		"/etc/ssh/sshd_config.d/12-a.conf: too many levels of symbolic links",
		"/etc/ssh/sshd_config.d/20-huge.conf: larger than 1048576 bytes, not read",
		"/etc/ssh/sshd_config.d/30-fifo.conf: not a regular file",
	} {
		if !strings.Contains(errs, w) {
			t.Errorf("errors lack %q:\n%s", w, errs)
		}
	}
	if runrec.Status != host.StatusPartial {
		t.Errorf("run %+v", runrec)
	}
}

// TestDepthAndWidth: a chain deeper than OpenSSH's 16 levels is cut and
// reported, and a directory of files including each other ends quickly.
func TestDepthAndWidth(t *testing.T) {
	root := t.TempDir()
	write(t, root, "etc/ssh/sshd_config", "Include d0\n")
	for i := 0; i < 20; i++ {
		write(t, root, "etc/ssh/d"+itoa(i), "Include d"+itoa(i+1)+"\nMaxSessions "+itoa(i+1)+"\n")
	}
	cfg, runrec := run(t, root, false, nil, debianPkg)
	if cfg.Global["maxsessions"].Value != "16" || !strings.Contains(strings.Join(runrec.Errors, "\n"), "more than 16 levels") {
		t.Errorf("maxsessions %+v errors %q", cfg.Global["maxsessions"], runrec.Errors)
	}
	root = t.TempDir()
	write(t, root, "etc/ssh/sshd_config", "Include w/*\n")
	for i := 0; i < 30; i++ {
		write(t, root, "etc/ssh/w/"+itoa(i), "Include w/*\n")
	}
	_, runrec = run(t, root, false, nil, debianPkg)
	if !strings.Contains(strings.Join(runrec.Errors, "\n"), "include graph too large") {
		t.Errorf("errors %q", runrec.Errors)
	}
}

func TestSplitLine(t *testing.T) {
	for in, want := range map[string]string{
		"":                                   "",
		"   ":                                "",
		"# x":                                "",
		"  #x y":                             "",
		"Key=Value":                          "key|Value",
		"Key = 'a b' c\\ d":                  "key|a b|c d",
		"\tKEY\t\"x\"\t":                     "key|x",
		"ChallengeResponseAuthentication no": "kbdinteractiveauthentication|no",
		"Key a#b #c":                         "key|a#b",
		"ForceCommand  echo \"x\"  # y":      "forcecommand|echo|x",
	} {
		kw, args, _, err := sshd.SplitLine(in)
		got := strings.Join(append([]string{kw}, args...), "|")
		if err != nil || got != want {
			t.Errorf("SplitLine(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, _, raw, _ := sshd.SplitLine("ForceCommand  echo \"x\"  # y"); raw != "echo \"x\"  # y" {
		t.Errorf("raw = %q", raw)
	}
}

func TestMissingConfigDir(t *testing.T) {
	// A hostfs error on the main file is reported with the host path.
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "etc/ssh/sshd_config"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, runrec := run(t, root, false, nil, debianPkg)
	if runrec.ErrorCount != 1 || !strings.HasPrefix(runrec.Errors[0], "/etc/ssh/sshd_config:") {
		t.Errorf("run %+v", runrec)
	}
}

// TestAgainstSSHD92 compares the computed configuration, global and per
// connection, with what OpenSSH 9.2p1's sshd -T printed for the same
// files (testdata/sshd-T-9.2p1/README.md).
func TestAgainstSSHD92(t *testing.T) {
	dirs, err := filepath.Glob("testdata/sshd-T-9.2p1/*/etc")
	if err != nil || len(dirs) == 0 {
		t.Fatal("no cases", err)
	}
	checked := 0
	for _, d := range dirs {
		root := filepath.Dir(d)
		cfg, runrec := run(t, root, false, nil, debianPkg)
		if runrec.Status != host.StatusOK {
			t.Errorf("%s: %+v", root, runrec)
		}
		keys := map[string]bool{}
		for kw := range cfg.Global {
			keys[kw] = true
		}
		for _, m := range cfg.Matches {
			for kw := range m.Settings {
				keys[kw] = true
			}
		}
		outs, _ := filepath.Glob(filepath.Join(root, "sshd-T*.txt"))
		for _, o := range outs {
			b, err := os.ReadFile(o)
			if err != nil {
				t.Fatal(err)
			}
			live := sshd.ParseDump(b)
			var c conn
			if spec, ok := strings.CutPrefix(strings.TrimSuffix(filepath.Base(o), ".txt"), "sshd-T-C-"); ok {
				c = conn{}
				for _, kv := range strings.Split(spec, ",") {
					k, v, _ := strings.Cut(kv, "=")
					c[k] = v
				}
			}
			for kw := range keys {
				lv, ok := live[kw]
				if !ok {
					continue
				}
				var s host.Setting
				if c == nil {
					s = cfg.Global[kw]
				} else {
					s, _ = effective(t, cfg, c, kw)
				}
				checked++
				if norm(s.Value) != norm(lv) {
					t.Errorf("%s %s: computed %q, sshd -T %q", o, kw, s.Value, lv)
				}
			}
		}
	}
	t.Logf("%d values compared with sshd -T", checked)
}

// Amazon Linux 2's and RHEL 7's OpenSSH 7.4p1 builds: the algorithm lists
// they compile in are not known (patched away from upstream's), so unset
// keywords get no value; an upstream 7.4p1 (or another distribution's)
// gets upstream's lists.
func TestRedHat7Build(t *testing.T) {
	root := t.TempDir()
	write(t, root, "etc/ssh/sshd_config", "PermitRootLogin no\nMACs hmac-sha2-512,hmac-sha2-256\n")
	for _, tc := range []struct {
		pkg   host.Package
		known bool
	}{
		{host.Package{Manager: "rpm", Name: "openssh-server", Version: "7.4p1-22.amzn2.0.9"}, false},
		{host.Package{Manager: "rpm", Name: "openssh-server", Version: "7.4p1-21.el7"}, false},
		{host.Package{Manager: "rpm", Name: "openssh-server", Version: "7.4p1-22.el7_9"}, false},
		{host.Package{Manager: "dpkg", Name: "openssh-server", Version: "1:7.4p1-10+deb9u7"}, true},
		{host.Package{Manager: "rpm", Name: "openssh-server", Version: "7.4p1-1.amzn2023"}, true},
	} {
		cfg, _ := run(t, root, false, nil, tc.pkg)
		_, ciphers := cfg.Global["ciphers"]
		_, kex := cfg.Global["kexalgorithms"]
		if ciphers != tc.known || kex != tc.known {
			t.Errorf("%s: ciphers %v, kexalgorithms %v; want known %v", tc.pkg.Version, ciphers, kex, tc.known)
		}
		if got := cfg.Global["macs"]; got.Value != "hmac-sha2-512,hmac-sha2-256" || got.Line != 2 {
			t.Errorf("%s: macs %+v", tc.pkg.Version, got)
		}
	}
}
