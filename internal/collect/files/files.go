// Package files collects the lines of configuration files the CIS rules
// read with the file_line check kind (config/files). The list of files is
// fixed here, not taken from the rules: a rule can only look at what this
// collector documents, and nothing else is ever read.
//
// # What is read
//
//   - banner: /etc/motd, /etc/issue, /etc/issue.net (every non-blank line;
//     "#" is text in a banner, not a comment).
//   - sudoers: /etc/sudoers with its @include/#include and
//     @includedir/#includedir directives followed in place, as sudo does
//     (see sudoers.go).
//   - journald, timesyncd: /etc/systemd/<name>.conf, then the "*.conf"
//     drop-ins of <name>.conf.d under /etc/systemd, /run/systemd,
//     /usr/local/lib/systemd, /usr/lib/systemd and /lib/systemd in
//     systemd's order (collect.DropIns: a name in an earlier directory
//     masks the same name later; the rest in lexical order; a link to
//     /dev/null masks). Later lines win.
//   - rsyslog: /etc/rsyslog.conf with $IncludeConfig and one-line
//     include(file="...") statements followed in place.
//   - profile: /etc/profile, /etc/profile.d/*.sh, /etc/bash.bashrc.
//   - root-shell: /root/.bash_profile, /root/.bashrc, /root/.profile.
//   - grub: /boot/grub/grub.cfg, /boot/grub2/grub.cfg, reduced to the
//     lines the rules need (see grub.go); default-grub: /etc/default/grub
//     and /etc/default/grub.d/*.cfg.
//   - chrony: /etc/chrony/chrony.conf (or /etc/chrony.conf) with include,
//     confdir and sourcedir followed.
//   - dconf: the keyfiles under /etc/dconf/db/*.d/ and their locks/;
//     gdm: /etc/gdm3/custom.conf, /etc/gdm3/daemon.conf,
//     /etc/gdm3/greeter.dconf-defaults, /etc/gdm/custom.conf.
//   - The Red Hat family's: /boot/grub2/user.cfg, the BLS entries,
//     /etc/selinux/config, /etc/crypto-policies/config, dnf.conf, yum.conf
//     and the repository files, /etc/sysconfig/sshd (sshd-sysconfig), and AIDE's
//     /etc/aide.conf with its @@include files followed in place, its
//     selection lines written with their groups expanded (aide: see
//     aide.go).
//
// # What is kept
//
// Lines are trimmed; blank lines and comments (per the file's syntax) are
// dropped; a line ending in a backslash is joined with the next (not in
// banners). INI-style files (systemd, dconf, gdm) keep each line's
// [section] beside it. Each line keeps its number and its place in the
// read order of its set (Seq).
//
// # Hostile input and secrets
//
// Every read goes through hostfs (links resolved inside the root, only
// regular files opened) and is capped: FileLimit per file, MaxDirFiles per
// directory, MaxFiles and MaxTotalBytes in all, MaxIncludeDepth levels of
// includes, an include of a file already in the chain is a loop and is
// refused. A directory cut at MaxDirFiles is recorded in its set as a
// ConfigFile with an Error (the files left out are the last read, whose
// settings win), so a rule on that set cannot pass on what was read. A file with a NUL byte is binary and refused. Files that hold
// secrets are never read, whatever link or include leads to them (shadow
// files, SSH and TLS private keys, chrony.keys, opasswd), and a file with
// a PEM private key block is refused. From grub.cfg only the superusers,
// password and kernel lines are kept, and a password hash is replaced by a
// note that one is there.
package files

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/kensa-dev/kensa/internal/collect"
	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/hostfs"
)

const (
	// FileLimit caps one file (a generated grub.cfg is tens of KiB).
	FileLimit = 1 << 20
	// MaxDirFiles caps the files taken from one directory or glob.
	MaxDirFiles = 256
	// MaxFiles caps the files read in all.
	MaxFiles = 1024
	// MaxTotalBytes caps the bytes read in all.
	MaxTotalBytes = 32 << 20
	// MaxIncludeDepth caps nested includes (sudoers, rsyslog, chrony).
	MaxIncludeDepth = 8
)

// Sets of files, as named in host.ConfigFile.Set.
const (
	SetBanner      = "banner"
	SetSudoers     = "sudoers"
	SetJournald    = "journald"
	SetTimesyncd   = "timesyncd"
	SetRsyslog     = "rsyslog"
	SetProfile     = "profile"
	SetRootShell   = "root-shell"
	SetGrub        = "grub"
	SetDefaultGrub = "default-grub"
	SetChrony      = "chrony"
	SetDconf       = "dconf"
	SetGDM         = "gdm"
	// SetLimits is pam_limits' limits.conf then limits.d/*.conf;
	// SetCoredump systemd-coredump's coredump.conf and drop-ins;
	// SetDefaultChrony the chronyd options of /etc/default/chrony.
	SetLimits        = "limits"
	SetCoredump      = "coredump"
	SetDefaultChrony = "default-chrony"
	// The Red Hat family's: SetGrubUser is /boot/grub2/user.cfg (the
	// GRUB2_PASSWORD grub.cfg sources, its hash never kept); SetBLS the
	// Boot Loader Specification entries (/boot/loader/entries/*.conf,
	// whose "options" lines are the kernel command lines) and
	// /boot/grub2/grubenv, whose kernelopts variable RHEL 8's entries
	// expand (`options $kernelopts $tuned_params`); SetSELinux
	// /etc/selinux/config; SetCryptoPolicy /etc/crypto-policies/config;
	// SetDNF the package manager's main file, /etc/dnf/dnf.conf (dnf) and
	// /etc/yum.conf (yum 3, which Amazon Linux 2 and the RHEL 7 family
	// use; dnf's yum is a link to dnf.conf), and the repository files.
	SetGrubUser     = "grub-user"
	SetBLS          = "bls"
	SetSELinux      = "selinux"
	SetCryptoPolicy = "crypto-policy"
	SetDNF          = "dnf"
	// SetSSHDSysconfig is /etc/sysconfig/sshd, the environment file of
	// the Red Hat family's sshd.service (CRYPTO_POLICY, OPTIONS); SetAIDE
	// AIDE's configuration, /etc/aide.conf and its @@include files (see
	// aide.go).
	SetSSHDSysconfig = "sshd-sysconfig"
	SetAIDE          = "aide"
)

// systemdConfDirs are the directories systemd reads "<name>.conf.d" drop-ins
// from, in order of precedence.
var systemdConfDirs = []string{"/etc/systemd", "/run/systemd", "/usr/local/lib/systemd", "/usr/lib/systemd", "/lib/systemd"}

// secretPaths are never read, whatever leads to them.
var secretPaths = []string{
	"/etc/shadow", "/etc/shadow-", "/etc/gshadow", "/etc/gshadow-",
	"/etc/security/opasswd", "/etc/security/opasswd.old",
	"/etc/chrony/chrony.keys", "/etc/chrony.keys",
	"/etc/sudo_logsrvd.conf",
}

// secretDirs hold only secrets (private keys).
var secretDirs = []string{"/etc/ssl/private", "/root/.ssh", "/root/.gnupg", "/etc/ssh"}

// isSecret reports whether p (clean, absolute) must not be read. Under
// /etc/ssh only the private host keys are refused here; sshd_config is not
// one of this collector's files anyway.
func isSecret(p string) bool {
	for _, s := range secretPaths {
		if p == s {
			return true
		}
	}
	for _, d := range secretDirs {
		if strings.HasPrefix(p, d+"/") {
			if d == "/etc/ssh" {
				base := path.Base(p)
				return strings.HasSuffix(base, "_key") || strings.Contains(base, "_key.")
			}
			return true
		}
	}
	return false
}

// Collector fills inv.Config.Files.
type Collector struct{}

// New returns the collector.
func New() *Collector { return &Collector{} }

// Name implements collect.Collector.
func (*Collector) Name() string { return "config/files" }

// Collect implements collect.Collector.
func (*Collector) Collect(ctx context.Context, env *collect.Env, inv *host.Inventory) error {
	r := &reader{ctx: ctx, fsys: env.FS, errorf: env.Errorf}
	r.collectAll()
	if err := ctx.Err(); err != nil {
		return err
	}
	cf := &host.ConfigFiles{Files: r.out}
	if cf.Files == nil {
		cf.Files = []host.ConfigFile{}
	}
	var sets []string
	existing := 0
	for _, f := range r.out {
		if f.Exists {
			existing++
			if len(sets) == 0 || sets[len(sets)-1] != f.Set {
				sets = append(sets, f.Set)
			}
		}
	}
	cf.Source = fmt.Sprintf("%d files read (%s); grub.cfg password hashes and secret files are never kept", existing, strings.Join(sets, ", "))
	if inv.Config == nil {
		inv.Config = &host.Config{}
	}
	inv.Config.Files = cf
	env.Count(existing)
	if existing == 0 {
		return collect.NotApplicable("none of the configuration files the rules read exists")
	}
	return nil
}

// syntax is how a file's lines are read.
type syntax int

const (
	synText     syntax = iota // banner: every non-blank line is text
	synShell                  // "#" comments, backslash continuation
	synINI                    // "#" and ";" comments, [sections], continuation
	synRsyslog                // "#" comments, includes
	synChrony                 // "#", "!", ";", "%" comments, includes
	synSudoers                // sudoers(5)
	synGrub                   // grub.cfg: extract
	synGrubUser               // grub2 user.cfg: extract
)

type reader struct {
	ctx    context.Context
	fsys   hostfs.FS
	errorf func(string, ...any)
	out    []host.ConfigFile
	files  int
	bytes  int64
	seq    int
}

func (r *reader) collectAll() {
	for _, p := range []string{"/etc/motd", "/etc/issue", "/etc/issue.net"} {
		r.file(p, SetBanner, synText, "")
	}
	r.sudoers("/etc/sudoers", "", nil)
	r.systemd("journald", SetJournald)
	r.systemd("timesyncd", SetTimesyncd)
	r.includer("/etc/rsyslog.conf", SetRsyslog, synRsyslog, "", nil)
	r.file("/etc/profile", SetProfile, synShell, "")
	r.dir("/etc/profile.d", "*.sh", SetProfile, synShell)
	r.file("/etc/bash.bashrc", SetProfile, synShell, "")
	r.file("/etc/bashrc", SetProfile, synShell, "") // the Red Hat family's
	for _, p := range []string{"/root/.bash_profile", "/root/.bashrc", "/root/.profile"} {
		r.file(p, SetRootShell, synShell, "")
	}
	r.file("/boot/grub/grub.cfg", SetGrub, synGrub, "")
	r.file("/boot/grub2/grub.cfg", SetGrub, synGrub, "")
	r.file("/boot/grub2/user.cfg", SetGrubUser, synGrubUser, "")
	r.dir("/boot/loader/entries", "*.conf", SetBLS, synShell)
	r.file("/boot/grub2/grubenv", SetBLS, synShell, "") // kernelopts= (RHEL 8)
	r.file("/etc/default/grub", SetDefaultGrub, synShell, "")
	r.dir("/etc/default/grub.d", "*.cfg", SetDefaultGrub, synShell)
	if r.exists("/etc/chrony/chrony.conf") || !r.exists("/etc/chrony.conf") {
		r.includer("/etc/chrony/chrony.conf", SetChrony, synChrony, "", nil)
	} else {
		r.includer("/etc/chrony.conf", SetChrony, synChrony, "", nil)
	}
	r.file("/etc/default/chrony", SetDefaultChrony, synShell, "")
	r.file("/etc/sysconfig/chronyd", SetDefaultChrony, synShell, "") // the Red Hat family's
	r.file("/etc/selinux/config", SetSELinux, synShell, "")
	r.file("/etc/crypto-policies/config", SetCryptoPolicy, synShell, "")
	r.file("/etc/dnf/dnf.conf", SetDNF, synINI, "")
	r.file("/etc/yum.conf", SetDNF, synINI, "") // yum 3's (Amazon Linux 2)
	r.dir("/etc/yum.repos.d", "*.repo", SetDNF, synINI)
	r.file("/etc/sysconfig/sshd", SetSSHDSysconfig, synShell, "")
	r.aide()
	r.file("/etc/security/limits.conf", SetLimits, synShell, "")
	r.dir("/etc/security/limits.d", "*.conf", SetLimits, synShell)
	r.systemd("coredump", SetCoredump)
	r.dconf()
	for _, p := range []string{"/etc/gdm3/custom.conf", "/etc/gdm3/daemon.conf", "/etc/gdm3/greeter.dconf-defaults", "/etc/gdm/custom.conf"} {
		r.file(p, SetGDM, synINI, "")
	}
}

func (r *reader) exists(p string) bool {
	_, err := r.fsys.Stat(p)
	return err == nil
}

// load reads one file for a set: the bytes, or a ConfigFile that says why
// there are none (Exists false for a missing file, Error otherwise).
func (r *reader) load(p, set, from string) ([]byte, host.ConfigFile, bool) {
	p = path.Clean("/" + p)
	cf := host.ConfigFile{Path: p, Set: set, IncludedFrom: from}
	if r.ctx.Err() != nil {
		cf.Error = "canceled"
		return nil, cf, false
	}
	if isSecret(p) {
		cf.Error = "a file that holds secrets: not read"
		cf.Exists = true
		return nil, cf, false
	}
	fi, err := r.fsys.Stat(p)
	if err != nil {
		if hostfs.Missing(err) {
			return nil, cf, false
		}
		cf.Exists = true
		cf.Error = err.Error()
		return nil, cf, false
	}
	cf.Exists = true
	if !fi.Mode().IsRegular() {
		cf.Error = "not a regular file (" + collect.TypeName(fi.Mode()) + ")"
		return nil, cf, false
	}
	if res, err := r.fsys.Resolve(p); err == nil && res != p && isSecret(res) {
		cf.Error = "a link to " + res + ", a file that holds secrets: not read"
		return nil, cf, false
	}
	if r.files >= MaxFiles {
		cf.Error = fmt.Sprintf("more than %d files: not read", MaxFiles)
		return nil, cf, false
	}
	if r.bytes+fi.Size() > MaxTotalBytes {
		cf.Error = fmt.Sprintf("more than %d bytes read in all: not read", MaxTotalBytes)
		return nil, cf, false
	}
	b, err := hostfs.ReadFileLimit(r.fsys, p, FileLimit)
	if err != nil {
		cf.Error = err.Error()
		return nil, cf, false
	}
	r.files++
	r.bytes += int64(len(b))
	if bytes.IndexByte(b, 0) >= 0 {
		cf.Error = "binary content (a NUL byte): not read"
		return nil, cf, false
	}
	if bytes.Contains(b, []byte("PRIVATE KEY-----")) {
		cf.Error = "holds a private key: not read"
		return nil, cf, false
	}
	return b, cf, true
}

// add records a file, reporting its error.
func (r *reader) add(cf host.ConfigFile) {
	if cf.Error != "" {
		r.errorf("%s: %s", cf.Path, cf.Error)
	}
	r.out = append(r.out, cf)
}

// file reads one file without includes.
func (r *reader) file(p, set string, syn syntax, from string) {
	b, cf, ok := r.load(p, set, from)
	if ok {
		var lines []host.ConfigLine
		switch syn {
		case synGrub:
			lines = ExtractGrub(b)
		case synGrubUser:
			lines = ExtractGrubUser(b)
		default:
			lines = parseLines(b, syn)
		}
		for i := range lines {
			r.seq++
			lines[i].Seq = r.seq
		}
		cf.Lines = lines
	}
	r.add(cf)
}

// dir reads the regular files of dir whose names match glob, in lexical
// order, at most MaxDirFiles.
func (r *reader) dir(dir, glob, set string, syn syntax) {
	for _, p := range r.list(dir, set, "", func(name string) bool {
		ok, _ := path.Match(glob, name)
		return ok
	}) {
		r.file(p, set, syn, "")
	}
}

// tooMany records, for set, that dir held more files than were read. The
// files left out are the last in the read order, the ones whose settings
// win, so the rules must not judge the set as if it were complete: the
// record's Error makes a file_line check on the set an error (or keeps
// its failure), never a pass.
func (r *reader) tooMany(dir, set, from string) {
	r.add(host.ConfigFile{Path: dir, Set: set, Exists: true, IncludedFrom: from,
		Error: fmt.Sprintf("more than %d files; the rest were not read", MaxDirFiles)})
}

// list returns the paths of dir's entries that keep accepts and that are
// regular files or links to them, sorted by name, at most MaxDirFiles.
// Hidden names are skipped. When there are more, the rest are left out
// and the cut is recorded in set (tooMany).
func (r *reader) list(dir, set, from string, keep func(string) bool) []string {
	des, err := r.fsys.ReadDir(dir)
	if err != nil {
		if !hostfs.Missing(err) {
			r.errorf("read %s: %v", dir, err)
		}
		return nil
	}
	var out []string
	for _, de := range des {
		name := de.Name()
		if strings.HasPrefix(name, ".") || !keep(name) {
			continue
		}
		p := path.Join(dir, name)
		t := de.Type()
		if t&fs.ModeSymlink != 0 {
			fi, err := r.fsys.Stat(p)
			if err != nil || !fi.Mode().IsRegular() {
				continue
			}
		} else if !t.IsRegular() {
			continue
		}
		if len(out) >= MaxDirFiles {
			r.tooMany(dir, set, from)
			break
		}
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// systemd reads /etc/systemd/<name>.conf and its drop-ins.
func (r *reader) systemd(name, set string) {
	r.file("/etc/systemd/"+name+".conf", set, synINI, "")
	var dirs []string
	for _, d := range systemdConfDirs {
		dirs = append(dirs, d+"/"+name+".conf.d")
	}
	// One more than the cap: DropIns stops quietly (but for a message) at
	// its max, so a count above MaxDirFiles is how a cut shows here. The
	// files past the cap are not read.
	files, names := collect.DropIns(r.fsys, dirs, MaxDirFiles+1, name+".conf.d", r.errorf)
	if names > MaxDirFiles {
		files = files[:min(len(files), MaxDirFiles)]
	}
	for _, f := range files {
		r.file(f, set, synINI, "")
	}
	if names > MaxDirFiles {
		r.add(host.ConfigFile{Path: "/etc/systemd/" + name + ".conf.d", Set: set, Exists: true,
			Error: fmt.Sprintf("more than %d drop-ins in the %s.conf.d directories; the rest were not read", MaxDirFiles, name)})
	}
}

// dconf reads the keyfiles of every /etc/dconf/db/<db>.d directory and
// the lock files in its locks/ subdirectory.
func (r *reader) dconf() {
	des, err := r.fsys.ReadDir("/etc/dconf/db")
	if err != nil {
		return
	}
	n := 0
	for _, de := range des {
		if !de.IsDir() || !strings.HasSuffix(de.Name(), ".d") || strings.HasPrefix(de.Name(), ".") {
			continue
		}
		if n++; n > MaxDirFiles {
			r.add(host.ConfigFile{Path: "/etc/dconf/db", Set: SetDconf, Exists: true,
				Error: fmt.Sprintf("more than %d databases; the rest were not read", MaxDirFiles)})
			return
		}
		d := path.Join("/etc/dconf/db", de.Name())
		for _, p := range r.list(d, SetDconf, "", func(string) bool { return true }) {
			r.file(p, SetDconf, synINI, "")
		}
		for _, p := range r.list(d+"/locks", SetDconf, "", func(string) bool { return true }) {
			r.file(p, SetDconf, synShell, "")
		}
	}
}

// logical splits b into lines, joining a line that ends in a backslash
// with the next when join is set. It returns each logical line with the
// number of its first physical line.
func logical(b []byte, join bool) []host.ConfigLine {
	s := strings.ReplaceAll(string(b), "\r\n", "\n")
	phys := strings.Split(s, "\n")
	var out []host.ConfigLine
	for i := 0; i < len(phys); i++ {
		start := i + 1
		line := phys[i]
		for join && strings.HasSuffix(line, "\\") && i+1 < len(phys) {
			i++
			line = line[:len(line)-1] + phys[i]
		}
		out = append(out, host.ConfigLine{N: start, Text: line})
	}
	return out
}

// parseLines keeps the non-blank, non-comment lines of a file of the given
// syntax, trimmed, with INI sections.
func parseLines(b []byte, syn syntax) []host.ConfigLine {
	var out []host.ConfigLine
	section := ""
	for _, l := range logical(b, syn != synText) {
		t := strings.TrimSpace(l.Text)
		if t == "" {
			continue
		}
		switch syn {
		case synShell, synRsyslog:
			if t[0] == '#' {
				continue
			}
		case synINI:
			if t[0] == '#' || t[0] == ';' {
				continue
			}
			if t[0] == '[' && strings.HasSuffix(t, "]") {
				section = strings.TrimSpace(t[1 : len(t)-1])
				continue
			}
		case synChrony:
			if strings.ContainsRune("#!;%", rune(t[0])) {
				continue
			}
		}
		out = append(out, host.ConfigLine{N: l.N, Text: t, Section: section})
	}
	return out
}
