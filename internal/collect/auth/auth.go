// Package auth reads the local authentication configuration: login.defs,
// the PAM stacks of the services the rules look at (includes expanded),
// libpwquality's pwquality.conf and pam_faillock's faillock.conf. Each is
// read the way the program that uses it reads it; where this package
// knowingly differs, the function comments say so.
//
// EffectivePasswordPolicy, a pure function of the collected host.PAM,
// tells the rules which password quality and history checks a password
// change goes through, each value with where it came from.
package auth

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/kensa-dev/kensa/internal/collect"
	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/hostfs"
)

// fileLimit caps each file read. The largest of these files in the wild
// are a few KiB.
const fileLimit = 1 << 20

// MaxIncludeDepth bounds nested includes (include, substack, @include).
const MaxIncludeDepth = 8

// maxEntries bounds one expanded stack: includes of includes can
// multiply a few lines into very many.
const maxEntries = 4096

// Services are the PAM services collected, whichever exist: the ones the
// rules name plus the shared stacks of Debian (common-*), the Red Hat
// family (system-auth, password-auth, ...), Arch (system-*) and Alpine
// (base-*).
var Services = []string{
	"passwd", "chpasswd", "newusers", "login", "remote", "sshd", "su", "su-l",
	"sudo", "sudo-i", "runuser", "runuser-l", "other",
	"common-auth", "common-account", "common-password", "common-session", "common-session-noninteractive",
	"system-auth", "password-auth", "postlogin", "fingerprint-auth", "smartcard-auth",
	"system-login", "system-local-login", "system-remote-login", "system-services",
	"base-auth", "base-account", "base-password", "base-session",
}

// PAM configuration directories: libpam reads /etc/pam.d/<name> and, when
// built with a vendor directory (openSUSE), falls back to
// /usr/lib/pam.d/<name>. /etc/pam.conf, read only when /etc/pam.d does not
// exist, is not read.
const (
	pamDir       = "/etc/pam.d"
	pamVendorDir = "/usr/lib/pam.d"
)

// Configuration files.
const (
	LoginDefsFile = "/etc/login.defs"
	PWQualityFile = "/etc/security/pwquality.conf"
	PWQualityDir  = "/etc/security/pwquality.conf.d"
	FaillockFile  = "/etc/security/faillock.conf"
	PWHistoryFile = "/etc/security/pwhistory.conf"
	UserAddFile   = "/etc/default/useradd"
)

// Collector fills inv.Config.Login, inv.Config.PAM and
// inv.Config.UserAdd.
type Collector struct{}

// New returns the authentication configuration collector.
func New() *Collector { return &Collector{} }

// Name implements collect.Collector.
func (*Collector) Name() string { return "config/auth" }

// Collect implements collect.Collector. It is not applicable when the root
// has neither /etc/login.defs nor /etc/pam.d.
func (*Collector) Collect(ctx context.Context, env *collect.Env, inv *host.Inventory) error {
	_, errDefs := env.FS.Stat(LoginDefsFile)
	fi, errPAM := env.FS.Stat(pamDir)
	pamOK := errPAM == nil && fi.IsDir()
	if errors.Is(errDefs, fs.ErrNotExist) && !pamOK {
		return collect.NotApplicable("no %s and no %s", LoginDefsFile, pamDir)
	}
	if inv.Config == nil {
		inv.Config = &host.Config{}
	}
	if errDefs == nil || !errors.Is(errDefs, fs.ErrNotExist) {
		if b, err := hostfs.ReadFileLimit(env.FS, LoginDefsFile, fileLimit); err != nil {
			env.Errorf("read %s: %v", LoginDefsFile, err)
		} else {
			settings, errs := ParseLoginDefs(b, LoginDefsFile)
			for _, e := range errs {
				env.Errorf("%s: %v", LoginDefsFile, e)
			}
			inv.Config.Login = &host.LoginDefs{File: LoginDefsFile, Settings: settings}
			env.Count(len(settings))
		}
	}
	readUserAdd(env, inv.Config)
	if errPAM != nil && !errors.Is(errPAM, fs.ErrNotExist) {
		env.Errorf("stat %s: %v", pamDir, errPAM)
	}
	if !pamOK {
		return ctx.Err()
	}
	p := &host.PAM{Stacks: map[string][]host.PAMEntry{}, ConfErrors: map[string]string{}}
	r := &pamReader{env: env, files: map[string]*pamFile{}, reported: map[string]bool{}}
	for _, svc := range Services {
		if err := ctx.Err(); err != nil {
			return err
		}
		file := r.resolve(svc)
		if file == "" {
			continue
		}
		entries := []host.PAMEntry{}
		r.unread = nil
		r.expand(svc, file, "", 0, nil, &entries)
		p.Stacks[svc] = entries
		if len(r.unread) > 0 {
			if p.Unread == nil {
				p.Unread = map[string][]string{}
			}
			p.Unread[svc] = r.unread
		}
		env.Count(len(entries))
	}
	p.PWQuality = readPWQuality(env, p.ConfErrors)
	p.Faillock = readFaillock(env, p.ConfErrors)
	p.PWHistory = readPWHistory(env, p.ConfErrors)
	if len(p.ConfErrors) == 0 {
		p.ConfErrors = nil
	}
	inv.Config.PAM = p
	return nil
}

// pamFile is a parsed PAM file; each is read once per scan.
type pamFile struct {
	lines []PAMLine
	ok    bool
	err   string // why it could not be read, when !ok
}

type pamReader struct {
	env      *collect.Env
	files    map[string]*pamFile
	reported map[string]bool // include loops and full stacks already reported
	// unread is what the stack being expanded misses (host.PAM.Unread):
	// libpam would not run a stack whose files it cannot read, and a rule
	// must not take a line absent from an incomplete stack as absent.
	unread []string
}

// missed records that the stack being expanded misses something.
func (r *pamReader) missed(s string) {
	if !slices.Contains(r.unread, s) {
		r.unread = append(r.unread, s)
	}
}

// resolve returns the file libpam reads for an include name or service:
// an absolute name as it is, anything else in /etc/pam.d, then in the
// vendor directory. It returns "" when there is no such file.
func (r *pamReader) resolve(name string) string {
	if strings.HasPrefix(name, "/") {
		return path.Clean(name)
	}
	for _, dir := range []string{pamDir, pamVendorDir} {
		p := path.Clean(dir + "/" + name)
		if _, err := r.env.FS.Lstat(p); err == nil {
			return p
		}
	}
	return ""
}

func (r *pamReader) load(file string) *pamFile {
	if f, ok := r.files[file]; ok {
		return f
	}
	f := &pamFile{}
	r.files[file] = f
	b, err := hostfs.ReadFileLimit(r.env.FS, file, fileLimit)
	if err != nil {
		r.env.Errorf("pam: read %s: %v", file, err)
		f.err = readErr(err)
		return f
	}
	var errs []error
	f.lines, errs = ParsePAM(b)
	for _, e := range errs {
		r.env.Errorf("pam: %s: %v", file, e)
	}
	f.ok = true
	return f
}

// expand appends the entries of file to out, includes expanded in place.
// only, when not empty, keeps the lines of that type (an include or
// substack brings in the lines of its own type; Debian's @include brings
// in every line, or those of the type being included when it is itself
// inside an include). chain is the files being expanded, to name loops.
func (r *pamReader) expand(svc, file, only string, depth int, chain []string, out *[]host.PAMEntry) {
	if depth > MaxIncludeDepth {
		r.env.Errorf("pam: %s: includes nested deeper than %d at %s, not expanded", svc, MaxIncludeDepth, file)
		r.missed(fmt.Sprintf("%s: includes nested deeper than %d, not expanded", file, MaxIncludeDepth))
		return
	}
	if slices.Contains(chain, file) {
		r.missed(fmt.Sprintf("%s: include loop", file))
		if r.reported[svc+"\x00"+file] {
			return
		}
		r.reported[svc+"\x00"+file] = true
		r.env.Errorf("pam: %s: include loop: %s includes itself through %s", svc, file, strings.Join(chain, " -> "))
		return
	}
	f := r.load(file)
	if !f.ok {
		r.missed(fmt.Sprintf("%s: %s", file, f.err))
		return
	}
	chain = append(chain, file)
	for _, l := range f.lines {
		if r.full(svc, out) {
			return
		}
		var target, filter string
		switch {
		case l.Type == "@include":
			target, filter = l.Module, only
		case only != "" && l.Type != only:
			continue
		case l.Control == "include" || l.Control == "substack":
			target, filter = l.Module, l.Type
		default:
			e := host.PAMEntry{Type: l.Type, Control: l.Control, Module: l.Module, Args: l.Args, File: file, Line: l.Line}
			if l.Silent {
				e.Control = SilentPrefix + e.Control
			}
			*out = append(*out, e)
			continue
		}
		inc := r.resolve(target)
		if inc == "" {
			r.env.Errorf("pam: %s:%d: included file %s not found", file, l.Line, truncate(target, 100))
			r.missed(fmt.Sprintf("%s (included at %s:%d): not found", truncate(target, 100), file, l.Line))
			continue
		}
		r.expand(svc, inc, filter, depth+1, chain, out)
		if r.full(svc, out) {
			return
		}
	}
}

// full reports whether the stack has its maximum of entries, recording
// the first time it does.
func (r *pamReader) full(svc string, out *[]host.PAMEntry) bool {
	if len(*out) < maxEntries {
		return false
	}
	r.missed(fmt.Sprintf("entries past the first %d left out", maxEntries))
	if !r.reported[svc] {
		r.reported[svc] = true
		r.env.Errorf("pam: %s: reached %d entries after includes; any more are left out", svc, maxEntries)
	}
	return true
}

// SilentPrefix marks, at the start of host.PAMEntry.Control, a line whose
// type was written with a leading "-" ("-session optional
// pam_systemd.so"): libpam skips it silently when the module is not
// installed. Control and Silent take it apart.
const SilentPrefix = "-"

// Silent reports whether the entry's type was written with a leading "-".
func Silent(e host.PAMEntry) bool { return strings.HasPrefix(e.Control, SilentPrefix) }

// Control returns the entry's control without the silent mark.
func Control(e host.PAMEntry) string { return strings.TrimPrefix(e.Control, SilentPrefix) }

// ModuleName returns the module's name without directory and ".so":
// "pam_unix" for "pam_unix.so" and "/lib/security/$ISA/pam_unix.so".
func ModuleName(e host.PAMEntry) string {
	return strings.TrimSuffix(path.Base(e.Module), ".so")
}

// readPWQuality reads libpwquality's configuration as
// pwquality_read_config does: first the files of pwquality.conf.d whose
// name ends in ".conf" (the first ".conf" in the name must be its end),
// in strcmp order, then pwquality.conf; a later value of a setting
// replaces an earlier one, so pwquality.conf wins over the drop-ins.
// Names are case-insensitive and recorded in lower case; the presence
// settings (enforce_for_root, local_users_only) record "true". An unknown
// setting or a bad number stops libpwquality: the rest of that file and
// every file after it are not read, and nor are they here (the collector
// records why).
func readPWQuality(env *collect.Env, unread map[string]string) map[string]host.Setting {
	out := map[string]host.Setting{}
	var files []string
	if ents, err := env.FS.ReadDir(PWQualityDir); err == nil {
		var names []string
		for _, e := range ents {
			n := e.Name()
			if i := strings.Index(n, ".conf"); i < 0 || i+5 != len(n) {
				continue
			}
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			files = append(files, PWQualityDir+"/"+n)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		env.Errorf("pwquality: read %s: %v", PWQualityDir, err)
		unread[PWQualityDir] = readErr(err)
	}
	files = append(files, PWQualityFile)
	for _, file := range files {
		b, err := hostfs.ReadFileLimit(env.FS, file, fileLimit)
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) && !isDir(env, file) {
				env.Errorf("pwquality: read %s: %v", file, err)
				unread[file] = readErr(err)
			}
			continue
		}
		kvs, stop := ParseKeyValues(b)
		stopped := false
		for _, kv := range kvs {
			key, val, err := pwqValue(kv.Key, kv.Value)
			if err != nil {
				env.Errorf("pwquality: %s:%d: %v: libpwquality stops reading its configuration here", file, kv.Line, err)
				stopped = true
				break
			}
			out[key] = host.Setting{Value: val, File: file, Line: kv.Line}
		}
		if stop != nil && !stopped {
			env.Errorf("pwquality: %s: %v", file, stop)
			stopped = true
		}
		if stopped {
			break
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// readErr is why a read failed, without the path the caller names.
func readErr(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return truncate(err.Error(), 200)
}

func isDir(env *collect.Env, file string) bool {
	fi, err := env.FS.Stat(file)
	return err == nil && fi.IsDir()
}

// readFaillock reads faillock.conf as pam_faillock does: key = value, a
// bare option (even_deny_root, audit, silent, ...) recorded as "true", the
// last value of a key wins; keys are kept as written (pam_faillock
// compares them case-sensitively and ignores unknown ones).
func readFaillock(env *collect.Env, unread map[string]string) map[string]host.Setting {
	b, err := hostfs.ReadFileLimit(env.FS, FaillockFile, fileLimit)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			env.Errorf("faillock: read %s: %v", FaillockFile, err)
			unread[FaillockFile] = readErr(err)
		}
		return nil
	}
	kvs, stop := ParseKeyValues(b)
	if stop != nil {
		env.Errorf("faillock: %s: %v", FaillockFile, stop)
	}
	out := map[string]host.Setting{}
	for _, kv := range kvs {
		if kv.Key == "" {
			env.Errorf("faillock: %s:%d: no option name, ignored", FaillockFile, kv.Line)
			continue
		}
		v := kv.Value
		if v == "" {
			v = "true"
		}
		out[kv.Key] = host.Setting{Value: v, File: FaillockFile, Line: kv.Line}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// readPWHistory reads pwhistory.conf as pam_pwhistory looks keys up in it
// (ParseSearchKey). Whether the installed pam_pwhistory reads the file at
// all (Linux-PAM 1.5.3 and later) is for the rules to decide.
func readPWHistory(env *collect.Env, unread map[string]string) map[string]host.Setting {
	b, err := hostfs.ReadFileLimit(env.FS, PWHistoryFile, fileLimit)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			env.Errorf("pwhistory: read %s: %v", PWHistoryFile, err)
			unread[PWHistoryFile] = readErr(err)
		}
		return nil
	}
	out := ParseSearchKey(b, PWHistoryFile)
	if len(out) == 0 {
		return nil
	}
	return out
}

// readUserAdd reads /etc/default/useradd into c.UserAdd. A missing file
// is recorded as an empty set of defaults, which is what useradd then
// uses (its built-in ones); an unreadable one leaves c.UserAdd nil.
func readUserAdd(env *collect.Env, c *host.Config) {
	b, err := hostfs.ReadFileLimit(env.FS, UserAddFile, fileLimit)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		c.UserAdd = &host.UserAddDefaults{File: UserAddFile, Settings: map[string]host.Setting{}}
	case err != nil:
		env.Errorf("useradd: read %s: %v", UserAddFile, err)
	default:
		c.UserAdd = &host.UserAddDefaults{File: UserAddFile, Settings: ParseUserAddDefaults(b, UserAddFile)}
	}
}
