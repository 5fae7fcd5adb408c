// Package sshd computes the effective OpenSSH server configuration of a
// host (the "config/sshd" collector) the way sshd itself does:
//
//   - /etc/ssh/sshd_config is read line by line; keywords are
//     case-insensitive ("keyword value" or "keyword=value"), values may be
//     quoted, a word starting with '#' ends the line;
//   - the first value obtained for a keyword wins, except for the
//     keywords whose values accumulate in OpenSSH (Port, ListenAddress,
//     HostKey, HostCertificate, AcceptEnv, Subsystem, AllowUsers,
//     DenyUsers, AllowGroups, DenyGroups; see multiValue);
//   - Include expands its globs in lexical order where it stands (relative
//     names are relative to /etc/ssh), at most MaxDepth levels deep; links
//     are resolved inside the scanned root;
//   - a Match block lasts until the next Match or the end of the file it
//     is in: a Match opened in an included file ends with that file, and
//     the lines of a file included inside a Match block belong to it. A
//     Match inside a file included from a Match block is kept with both
//     criteria ("User a Address b": both must match). A "Match all" block
//     applies to every connection and overrides the global values (as
//     sshd -T shows): its settings are kept as a block with criteria "all"
//     and also override Global, except for the keywords a Match block may
//     not set (UsePAM, Port, MaxStartups...: globalOnly), which under
//     "Match all" only count, first value winning, when sshd starts and
//     are never kept in a block;
//   - unset keywords take the installed version's compiled-in defaults
//     (Defaults), with an empty File.
//
// On a live host the collector also runs `sshd -T` and records where it
// disagrees with the computed values.
package sshd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/kensa-dev/kensa/internal/collect"
	"github.com/kensa-dev/kensa/internal/host"
)

// Binary is where every distribution installs sshd.
const Binary = "/usr/sbin/sshd"

// DefaultTimeout bounds `sshd -T`.
const DefaultTimeout = 5 * time.Second

// maxOutput caps what is kept of `sshd -T`'s output (a few KiB).
const maxOutput = 1 << 20

// Runner runs a command and returns its standard output. The error, when
// the command fails, should say why (its standard error).
type Runner func(ctx context.Context, name string, args ...string) ([]byte, error)

// Options configures the collector.
type Options struct {
	// Run runs `sshd -T` on a live host; nil means ExecRunner.
	Run Runner
	// Timeout bounds it; zero means DefaultTimeout.
	Timeout time.Duration
}

// Collector fills inv.Config.SSHD.
type Collector struct{ opts Options }

// New returns the sshd collector. It reads inv.Packages, so it must run
// after the package collectors.
func New() *Collector { return NewWithOptions(Options{}) }

// NewWithOptions returns the sshd collector with opts (a Runner for tests).
func NewWithOptions(opts Options) *Collector {
	if opts.Run == nil {
		opts.Run = ExecRunner
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	return &Collector{opts: opts}
}

// Name implements collect.Collector.
func (*Collector) Name() string { return "config/sshd" }

// Collect implements collect.Collector.
func (c *Collector) Collect(ctx context.Context, env *collect.Env, inv *host.Inventory) error {
	if inv.Config == nil {
		inv.Config = &host.Config{}
	}
	pkg := ServerPackage(inv.Packages)
	_, binErr := env.FS.Stat(Binary)
	if pkg == nil && binErr != nil {
		inv.Config.SSHD = &host.SSHD{Installed: false, Global: map[string]host.Setting{}}
		return collect.NotApplicable("no OpenSSH server installed")
	}
	version := ""
	if pkg != nil {
		version = UpstreamVersion(pkg.Version)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	v := ParseVersion(version)
	if pkg != nil {
		v.SntrupAlias = debianSntrupAlias(pkg.Version)
		v.RedHat7Build = redHat7Build(pkg)
	}
	res, errs := Evaluate(env.FS, v)
	for _, err := range errs {
		env.Errorf("%v", err)
	}
	res.Installed = true
	res.Version = version
	if env.FS.Live() && binErr == nil {
		c.live(ctx, res)
	}
	inv.Config.SSHD = res
	env.Count(len(res.Files))
	return nil
}

// ServerPackage returns the installed OpenSSH server package, or nil.
func ServerPackage(pkgs []host.Package) *host.Package {
	for i, p := range pkgs {
		switch {
		case p.Name == "openssh-server" && (p.Manager == "dpkg" || p.Manager == "rpm" || p.Manager == "apk"),
			p.Manager == "apk" && (p.Name == "openssh-server-pam" || p.Name == "openssh"):
			return &pkgs[i]
		}
	}
	return nil
}

// UpstreamVersion returns the OpenSSH version of a package version: the
// epoch and the distribution's revision or release are dropped, Alpine's
// "_p" becomes "p" ("1:9.2p1-2+deb12u10" and "9.2_p1-r0" give "9.2p1").
func UpstreamVersion(v string) string {
	if i := strings.IndexByte(v, ':'); i >= 0 {
		v = v[i+1:]
	}
	if i := strings.LastIndexByte(v, '-'); i > 0 {
		v = v[:i]
	}
	return strings.Replace(v, "_p", "p", 1)
}

// live runs `sshd -T` and compares it with the computed configuration.
func (c *Collector) live(ctx context.Context, res *host.SSHD) {
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	out, err := c.opts.Run(ctx, Binary, "-T")
	if err == nil && ctx.Err() != nil {
		err = ctx.Err()
	}
	if err != nil {
		res.LiveError = fmt.Sprintf("%s -T: %v", Binary, err)
		return
	}
	res.Live = ParseDump(out)
	if len(res.Live) == 0 {
		res.Live = nil
		res.LiveError = Binary + " -T: no output"
		return
	}
	res.Disagreements = Disagreements(res.Global, res.Live)
}

// ParseDump reads the output of `sshd -T`: one "keyword value" per line.
// A keyword printed on several lines (acceptenv, hostkey, port...) is
// joined as the computed configuration joins it: with spaces, Subsystem
// with "\n".
func ParseDump(b []byte) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		kw, val, _ := strings.Cut(line, " ")
		kw = strings.ToLower(kw)
		val = strings.TrimSpace(val)
		if old, ok := m[kw]; ok {
			sep := " "
			if kw == "subsystem" {
				sep = "\n"
			}
			val = old + sep + val
		}
		m[kw] = val
	}
	return m
}

// Disagreements compares the computed values of the keywords Defaults
// covers with `sshd -T`'s, ignoring case and spacing and reading
// without-password as prohibit-password. Keywords sshd -T does not print
// (protocol, usepam without PAM) are skipped.
func Disagreements(global map[string]host.Setting, live map[string]string) []string {
	var out []string
	for kw := range Defaults(Version{}) {
		s, ok := global[kw]
		lv, lok := live[kw]
		if !ok || !lok {
			continue
		}
		if normCompare(s.Value) != normCompare(lv) {
			out = append(out, fmt.Sprintf("%s: computed %s, sshd -T %s", kw, s.Value, lv))
		}
	}
	sort.Strings(out)
	return out
}

func normCompare(v string) string {
	v = strings.ToLower(strings.Join(strings.Fields(v), " "))
	if v == "without-password" {
		v = "prohibit-password"
	}
	return v
}

// ExecRunner runs a command with an empty environment, keeping at most
// 1 MiB of its output; on failure the error carries the start of its
// standard error. It runs in a process group of its own: a Ctrl-C on the
// terminal, which reaches the whole foreground group, must not kill it
// while that Ctrl-C only ends a runtime window ("stop and evaluate");
// cancellation still kills it, through ctx.
func ExecRunner(ctx context.Context, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C"}
	cmd.WaitDelay = time.Second
	var stdout, stderr capped
	stdout.max, stderr.max = maxOutput, 4096
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			if len(msg) > 300 {
				msg = msg[:300] + "..."
			}
			return nil, fmt.Errorf("%w: %s", err, msg)
		}
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, fmt.Errorf("timed out: %w", err)
		}
		return nil, err
	}
	return stdout.Bytes(), nil
}

// capped is a buffer that drops what is written beyond max.
type capped struct {
	bytes.Buffer
	max int
}

func (c *capped) Write(p []byte) (int, error) {
	if room := c.max - c.Len(); room > 0 {
		if len(p) > room {
			c.Buffer.Write(p[:room])
		} else {
			c.Buffer.Write(p)
		}
	}
	return len(p), nil
}
