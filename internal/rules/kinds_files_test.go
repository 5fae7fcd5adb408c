package rules_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"

	"github.com/kensa-dev/kensa/internal/collect/files"
	"github.com/kensa-dev/kensa/internal/finding"
	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/rules"
)

// fileLine parses a file_line check from YAML, as a rule would write it.
func fileLine(t *testing.T, src string) *rules.Check {
	t.Helper()
	var c rules.Check
	if err := yaml.UnmarshalWithOptions([]byte("file_line:\n"+src), &c, yaml.DisallowUnknownField(), yaml.Strict()); err != nil {
		t.Fatal(err)
	}
	return &c
}

func lines(path, set string, ls ...string) host.ConfigFile {
	f := host.ConfigFile{Path: path, Set: set, Exists: true}
	for i, l := range ls {
		sec, text, ok := strings.Cut(l, "|")
		if !ok {
			sec, text = "", l
		}
		f.Lines = append(f.Lines, host.ConfigLine{N: i + 1, Text: text, Section: sec})
	}
	return f
}

// seq numbers the lines of files in the order given.
func seq(files ...host.ConfigFile) []host.ConfigFile {
	n := 0
	for i := range files {
		for j := range files[i].Lines {
			n++
			files[i].Lines[j].Seq = n
		}
	}
	return files
}

func TestFileLine(t *testing.T) {
	debian := &host.OSRelease{ID: "debian", Name: "Debian GNU/Linux", Family: "debian"}
	inv := func(pkgs []string, files ...host.ConfigFile) *host.Inventory {
		i := &host.Inventory{OS: debian, Config: &host.Config{Files: &host.ConfigFiles{Files: seq(files...)}}}
		for _, p := range pkgs {
			i.Packages = append(i.Packages, host.Package{Name: p, Version: "1"})
		}
		i.Collectors = []host.CollectorRun{{Name: "pkg/dpkg", Status: host.StatusOK}}
		return i
	}
	banner := `
    files: [/etc/issue.net]
    pattern: '\\[mrsv]|(?i:$OS_ID|$OS_NAME)'
    want: absent
    missing: pass`
	usePty := `
    set: sudoers
    select: '^Defaults !?use_pty$'
    pattern: '^Defaults use_pty$'
    want: last
    missing: fail
    requires_package: [sudo]`
	timeout := `
    set: sudoers
    select: '^Defaults\S* timestamp_timeout='
    pattern: '^Defaults\S* timestamp_timeout=(\S+)$'
    want: all_match
    min: 0
    max: 15
    default: "15"
    missing: pass`
	storage := `
    set: journald
    section: Journal
    select: '^Storage='
    pattern: '^Storage=(.*)$'
    want: last
    equals: [persistent]
    default: auto
    missing: fail`
	umask := `
    set: root-shell
    select: '\bumask\b'
    pattern: '^umask\s+([0-7]{3,4})$'
    want: all_match
    min_umask: "027"
    missing: pass`
	mode := `
    set: rsyslog
    select: '^\$FileCreateMode'
    pattern: '^\$FileCreateMode\s+(\S+)$'
    want: last
    max_mode: "0640"
    default: "0644"
    missing: fail`
	aide := `
    set: aide
    select: '^[=!]?(/usr)?/sbin/auditctl\$?(\s|$)'
    pattern: '^=?(?:/usr)?/sbin/auditctl\$?\s+(\S+)'
    want: all_match
    has_all: [p, i, b, sha512]
    missing: fail
    no_lines: fail`
	sudoers := func(ls ...string) host.ConfigFile { return lines("/etc/sudoers", "sudoers", ls...) }
	for _, tc := range []struct {
		name   string
		check  string
		inv    *host.Inventory
		status string
		ev     string
	}{
		{"not collected", banner, &host.Inventory{}, finding.StatusError, "not collected"},
		{"banner missing passes", banner, inv(nil, host.ConfigFile{Path: "/etc/issue.net", Set: "banner"}), finding.StatusPass, "no /etc/issue.net"},
		{"banner site text", banner, inv(nil, lines("/etc/issue.net", "banner", "Authorised use only. Debianists welcome.")), finding.StatusPass, ""},
		{"banner OS name", banner, inv(nil, lines("/etc/issue.net", "banner", "Welcome", "DEBIAN gnu/linux 12")), finding.StatusFail, "/etc/issue.net:2: DEBIAN gnu/linux 12"},
		{"banner escape", banner, inv(nil, lines("/etc/issue.net", "banner", `kernel \r`)), finding.StatusFail, `/etc/issue.net:1: kernel \r`},
		{"banner other escapes", banner, inv(nil, lines("/etc/issue.net", "banner", `\n \l \d`)), finding.StatusPass, ""},
		{"banner OS unknown", banner, &host.Inventory{Config: &host.Config{Files: &host.ConfigFiles{Files: []host.ConfigFile{lines("/etc/issue.net", "banner", "x")}}}}, finding.StatusError, "name is not known"},
		{"unreadable file", banner, inv(nil, host.ConfigFile{Path: "/etc/issue.net", Set: "banner", Exists: true, Error: "binary content"}), finding.StatusError, "binary content"},
		{"no package db", usePty, &host.Inventory{Config: &host.Config{Files: &host.ConfigFiles{}}}, finding.StatusError, "no package database"},
		{"sudo absent", usePty, inv([]string{"bash"}, sudoers("Defaults use_pty")), finding.StatusNotApplicable, "sudo is not installed"},
		{"use_pty set", usePty, inv([]string{"sudo"}, sudoers("Defaults env_reset", "Defaults use_pty")), finding.StatusPass, "/etc/sudoers:2: Defaults use_pty"},
		{"use_pty turned off later", usePty, inv([]string{"sudo"}, sudoers("Defaults use_pty"), lines("/etc/sudoers.d/x", "sudoers", "Defaults !use_pty")), finding.StatusFail, "/etc/sudoers.d/x:1: Defaults !use_pty (the last of 2 lines; it wins)"},
		{"use_pty for one user only", usePty, inv([]string{"sudo"}, sudoers("Defaults:bob use_pty")), finding.StatusFail, "no line matches"},
		{"sudoers missing", usePty, inv([]string{"sudo"}, host.ConfigFile{Path: "/etc/sudoers", Set: "sudoers"}), finding.StatusFail, "no /etc/sudoers"},
		{"timeout default", timeout, inv(nil, sudoers("Defaults env_reset")), finding.StatusPass, "the default 15 applies"},
		{"timeout never", timeout, inv(nil, sudoers("Defaults timestamp_timeout=5", "Defaults:ops timestamp_timeout=-1")), finding.StatusFail, "value -1 is below 0"},
		{"timeout large", timeout, inv(nil, sudoers("Defaults timestamp_timeout=30")), finding.StatusFail, "value 30 is above 15"},
		{"timeout fraction", timeout, inv(nil, sudoers("Defaults timestamp_timeout=2.5")), finding.StatusPass, ""},
		{"timeout not a number", timeout, inv(nil, sudoers("Defaults timestamp_timeout=abc")), finding.StatusFail, "not a number"},
		{"storage default auto", storage, inv(nil, lines("/etc/systemd/journald.conf", "journald", "Journal|Compress=yes")), finding.StatusFail, "the default auto applies"},
		{"storage drop-in wins", storage, inv(nil, lines("/etc/systemd/journald.conf", "journald", "Journal|Storage=volatile"), lines("/etc/systemd/journald.conf.d/60.conf", "journald", "Journal|Storage=persistent")), finding.StatusPass, "60.conf:1: Storage=persistent (the last of 2 lines; it wins)"},
		{"storage other section", storage, inv(nil, lines("/etc/systemd/journald.conf", "journald", "Other|Storage=persistent")), finding.StatusFail, "default auto"},
		{"storage missing", storage, inv(nil), finding.StatusFail, "no journald files"},
		{"umask none", umask, inv(nil, lines("/root/.bashrc", "root-shell", "PS1=x")), finding.StatusPass, "no line"},
		{"umask strict", umask, inv(nil, lines("/root/.bashrc", "root-shell", "umask 077"), lines("/root/.profile", "root-shell", "umask 0027")), finding.StatusPass, "/root/.profile:1: umask 0027"},
		{"umask weak", umask, inv(nil, lines("/root/.bashrc", "root-shell", "umask 027"), lines("/root/.profile", "root-shell", "umask 026")), finding.StatusFail, "umask 026 is less strict than 027 (bits 0001 not masked)"},
		{"umask symbolic", umask, inv(nil, lines("/root/.bashrc", "root-shell", "umask u=rwx,g=rx,o=")), finding.StatusFail, "does not match"},
		{"mode default", mode, inv(nil, lines("/etc/rsyslog.conf", "rsyslog", "*.* /var/log/syslog")), finding.StatusFail, "mode 0644 allows more than 0640 (bits 0004)"},
		{"mode strict", mode, inv(nil, lines("/etc/rsyslog.conf", "rsyslog", "$FileCreateMode 0600")), finding.StatusPass, ""},
		{"mode group write", mode, inv(nil, lines("/etc/rsyslog.conf", "rsyslog", "$FileCreateMode 0660")), finding.StatusFail, "bits 0020"},
		{"aide attributes", aide, inv(nil, lines("/etc/aide.conf", "aide", "/usr/sbin/auditctl p+i+n+b+sha512")), finding.StatusPass, "/etc/aide.conf:1: /usr/sbin/auditctl p+i+n+b+sha512"},
		{"aide attributes missing", aide, inv(nil, lines("/etc/aide.conf", "aide", "/sbin/auditctl p+i+S+sha256 # written: X")), finding.StatusFail, `value "p+i+S+sha256" lacks b, sha512`},
		{"aide excluded", aide, inv(nil, lines("/etc/aide.conf", "aide", "/usr/sbin/auditctl p+i+b+sha512", "!/usr/sbin/auditctl")), finding.StatusFail, "!/usr/sbin/auditctl"},
		{"aide other tool", aide, inv(nil, lines("/etc/aide.conf", "aide", "/usr/sbin/auditctlx p+i+b+sha512")), finding.StatusFail, "no line"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := fileLine(t, tc.check)
			o := c.Evaluate(tc.inv)
			all := strings.Join(append(o.Evidence, o.Reason), "; ")
			if o.Status != tc.status || !strings.Contains(all, tc.ev) {
				t.Errorf("%s (%s), want %s with %q", o.Status, all, tc.status, tc.ev)
			}
		})
	}
}

func TestFileLineValidation(t *testing.T) {
	for _, tc := range []struct{ name, src, err string }{
		{"no files", "    pattern: x\n    want: present\n    missing: fail", "files or set"},
		{"relative file", "    files: [etc/motd]\n    pattern: x\n    want: present\n    missing: fail", "absolute"},
		{"bad pattern", "    files: [/etc/motd]\n    pattern: '('\n    want: present\n    missing: fail", "missing closing"},
		{"bad want", "    files: [/etc/motd]\n    pattern: x\n    want: some\n    missing: fail", "want \"some\""},
		{"missing required", "    files: [/etc/motd]\n    pattern: x\n    want: present", "missing \"\""},
		{"value without group", "    files: [/etc/motd]\n    pattern: x\n    want: present\n    max: 3\n    missing: fail", "capture group"},
		{"absent with value", "    files: [/etc/motd]\n    pattern: (x)\n    want: absent\n    max: 3\n    missing: fail", "no value tests"},
		{"default with present", "    files: [/etc/motd]\n    pattern: (x)\n    want: present\n    max: 3\n    default: '1'\n    missing: fail", "default needs"},
		{"bad mode", "    files: [/etc/motd]\n    pattern: (x)\n    want: last\n    max_mode: '999'\n    missing: fail", "not an octal mode"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := rules.Parse([]byte("id: x\npackage: cis\ntitle: t\ntarget: t\nseverity: low\ndescription: d\nrationale: r\nremediation: r\ncheck:\n  file_line:\n" + tc.src + "\n"))
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("error %v, want %q", err, tc.err)
			}
		})
	}
}

// TestFileLineEvidenceCapped: a set of hundreds of files (a drop-in
// directory at its cap) is named by its first files and a count, not
// path by path, whether nothing matched or files were unreadable.
func TestFileLineEvidenceCapped(t *testing.T) {
	var fs, bad []host.ConfigFile
	for i := range 300 {
		fs = append(fs, lines(fmt.Sprintf("/etc/sudoers.d/f%03d", i), "sudoers", "Defaults env_reset"))
		bad = append(bad, host.ConfigFile{Path: fmt.Sprintf("/etc/sudoers.d/b%03d", i), Set: "sudoers", Exists: true, Error: "binary content"})
	}
	inv := &host.Inventory{Config: &host.Config{Files: &host.ConfigFiles{Files: seq(fs...)}}}
	for _, tc := range []struct {
		name, check string
		inv         *host.Inventory
		want        string
	}{
		{"no line", "\n    set: sudoers\n    pattern: '^Defaults use_pty$'\n    want: present\n    missing: fail", inv, "and 290 more: no line matches"},
		{"default", "\n    set: sudoers\n    select: 'timestamp_timeout='\n    pattern: '=(\\S+)$'\n    want: last\n    max: 15\n    default: \"15\"\n    missing: fail", inv, "and 290 more: timestamp_timeout not set, the default 15 applies"},
		{"unreadable", "\n    set: sudoers\n    pattern: '!authenticate'\n    want: absent\n    missing: pass",
			&host.Inventory{Config: &host.Config{Files: &host.ConfigFiles{Files: bad}}}, "binary content and 290 more"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := fileLine(t, tc.check).Evaluate(tc.inv)
			all := strings.Join(append(o.Evidence, o.Reason), "; ")
			if !strings.Contains(all, tc.want) || len(all) > 1000 {
				t.Errorf("%s: %d bytes of evidence (%.300s...), want it capped with %q", o.Status, len(all), all, tc.want)
			}
		})
	}
}

// TestFileLineDirectoryCut: a sudoers.d with more files than the
// collector reads per directory, the last one (whose Defaults win) turning
// authentication off. The rule must not pass on the files that were read:
// the cut makes it an error naming the directory.
func TestFileLineDirectoryCut(t *testing.T) {
	layer := t.TempDir()
	for i := range files.MaxDirFiles + 44 {
		writeLayerFile(t, layer, fmt.Sprintf("etc/sudoers.d/f%03d", i), "Defaults env_reset\n")
	}
	writeLayerFile(t, layer, "etc/sudoers.d/zzz", "Defaults !authenticate\n")
	shared := filepath.Join("testdata", "roots", "_shared")
	inv := collectLayers(t, "cut", []string{filepath.Join(shared, "debian12-default"), filepath.Join(shared, "files-pkgs-sudo"), layer})
	all, err := rules.Load()
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(all, func(r *rules.Rule) bool { return r.ID == "cis-5.2.5" })
	if i < 0 {
		t.Fatal("no cis-5.2.5")
	}
	got := rules.Evaluate(inv, all[i:i+1], []string{"cis"}).Results[0]
	if got.Status != finding.StatusError || !strings.Contains(got.Reason, "/etc/sudoers.d: more than 256 files; the rest were not read") {
		t.Errorf("cis-5.2.5 on a cut sudoers.d: %s (%s), want error naming the cut", got.Status, got.Reason)
	}
}

func writeLayerFile(t *testing.T, root, name, body string) {
	t.Helper()
	p := filepath.Join(root, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}
