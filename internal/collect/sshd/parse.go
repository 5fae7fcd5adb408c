package sshd

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/kensa-dev/kensa/internal/collect"
	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/hostfs"
)

// MainConfig is the file sshd reads; relative Include paths are relative
// to its directory.
const (
	MainConfig = "/etc/ssh/sshd_config"
	sshDir     = "/etc/ssh"
)

const (
	// MaxDepth is OpenSSH's SERVCONF_MAX_DEPTH: deeper includes make sshd
	// refuse to start.
	MaxDepth = 16
	// FileLimit caps one configuration file. Real ones are a few KiB.
	FileLimit = 1 << 20
	// maxFiles and maxBytes bound the work of one evaluation, whatever the
	// include graph of a hostile image looks like.
	maxFiles = 256
	maxBytes = 16 << 20
	// maxGlob caps the names one Include pattern expands to.
	maxGlob = 1024
)

// multiValue are the keywords whose values accumulate in OpenSSH's
// servconf.c instead of the first one winning: each line adds its
// arguments to a list. Their Setting joins the arguments of every line in
// order with one space (File and Line are those of the first line), except
// Subsystem, whose entries ("name command args") are joined with "\n".
// Every other keyword, including the list-valued ones whose first line
// wins as a whole (AuthorizedKeysFile, AuthenticationMethods, PermitOpen,
// PermitListen, SetEnv, ChannelTimeout, LogVerbose, IPQoS), keeps its first
// value.
var multiValue = map[string]bool{
	"port":            true,
	"listenaddress":   true,
	"hostkey":         true,
	"hostcertificate": true,
	"acceptenv":       true,
	"subsystem":       true,
	"allowusers":      true,
	"denyusers":       true,
	"allowgroups":     true,
	"denygroups":      true,
}

// globalOnly are the keywords sshd refuses inside a Match block (checked
// against OpenSSH 9.2p1): a "Match all" block does not override them.
var globalOnly = map[string]bool{
	"addressfamily": true, "ciphers": true, "compression": true, "fingerprinthash": true,
	"gssapicleanupcredentials": true, "gssapistrictacceptorcheck": true, "gssapikeyexchange": true,
	"gssapistorecredentialsonrekey": true, "hostkey": true, "hostcertificate": true,
	"hostkeyagent": true, "hostkeyalgorithms": true, "ignoreuserknownhosts": true,
	"kerberosorlocalpasswd": true, "kerberosticketcleanup": true, "kerberosgetafstoken": true,
	"kexalgorithms": true, "listenaddress": true, "logingracetime": true, "macs": true,
	"maxstartups": true, "modulifile": true, "persourcemaxstartups": true,
	"persourcenetblocksize": true, "permituserenvironment": true, "pidfile": true, "port": true,
	"printlastlog": true, "printmotd": true, "protocol": true, "securitykeyprovider": true,
	"strictmodes": true, "subsystem": true, "syslogfacility": true, "tcpkeepalive": true,
	"usedns": true, "usepam": true, "versionaddendum": true, "xauthlocation": true,
}

// aliases maps the other names OpenSSH accepts for a keyword to the name
// `sshd -T` prints. ChallengeResponseAuthentication has been an alias of
// KbdInteractiveAuthentication since 8.7; for older versions they are
// treated as one keyword too (the first of either wins).
var aliases = map[string]string{
	"challengeresponseauthentication": "kbdinteractiveauthentication",
	"skeyauthentication":              "kbdinteractiveauthentication",
	"pubkeyacceptedkeytypes":          "pubkeyacceptedalgorithms",
	"hostbasedacceptedkeytypes":       "hostbasedacceptedalgorithms",
	"dsaauthentication":               "pubkeyauthentication",
	"hostdsakey":                      "hostkey",
}

// caseSensitive keywords take names (users, groups, environment variables,
// commands) whose case matters; their values are never lower-cased.
var caseSensitive = map[string]bool{
	"allowusers": true, "denyusers": true, "allowgroups": true, "denygroups": true,
	"acceptenv": true, "setenv": true, "subsystem": true, "forcecommand": true,
	"chrootdirectory": true, "authorizedkeyscommanduser": true,
	"authorizedprincipalscommanduser": true,
}

// enumWords are the keyword values OpenSSH compares case-insensitively;
// they are stored lower-case, as `sshd -T` prints them.
var enumWords = map[string]bool{
	"yes": true, "no": true, "prohibit-password": true, "without-password": true,
	"forced-commands-only": true, "all": true, "local": true, "remote": true,
	"none": true, "any": true, "delayed": true, "clientspecified": true,
	"point-to-point": true, "ethernet": true, "inet": true, "inet6": true,
}

// timeKeywords take an OpenSSH time ("2m", "1h30m"); they are stored in
// seconds, as `sshd -T` prints them.
var timeKeywords = map[string]bool{"logingracetime": true, "clientaliveinterval": true}

// Version is an OpenSSH version reduced to what the defaults depend on.
type Version struct {
	Major, Minor int
	// Known is false when the version could not be read; the defaults
	// of current versions are then used.
	Known bool
	// SntrupAlias is true for builds that also offer the key exchange
	// sntrup761x25519-sha512 without its @openssh.com suffix (upstream
	// 9.9; Debian 12 backported it in 1:9.2p1-2+deb12u4).
	SntrupAlias bool
	// RedHat7Build is true for the Red Hat Enterprise Linux 7 family's
	// builds of OpenSSH 7.x, Amazon Linux 2's included (an rpm release
	// ".el7..." or ".amzn2..."), whose compiled-in algorithm lists are
	// patched away from upstream's (see DefaultAlgorithms).
	RedHat7Build bool
}

// ParseVersion reads "9.2p1", "8.7p1", "9.7_p1" or "7.4".
func ParseVersion(s string) Version {
	s = strings.TrimSpace(s)
	i := strings.IndexByte(s, '.')
	if i <= 0 {
		return Version{}
	}
	maj, err := strconv.Atoi(s[:i])
	if err != nil {
		return Version{}
	}
	rest := s[i+1:]
	j := 0
	for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
		j++
	}
	min, err := strconv.Atoi(rest[:j])
	if err != nil {
		return Version{}
	}
	return Version{Major: maj, Minor: min, Known: true}
}

// AtLeast reports whether v is maj.min or later; an unknown version is.
func (v Version) AtLeast(maj, min int) bool {
	if !v.Known {
		return true
	}
	return v.Major > maj || v.Major == maj && v.Minor >= min
}

// Defaults returns the compiled-in defaults, as `sshd -T` prints them
// (permitrootlogin normalised to prohibit-password), of the keywords the
// rules read, for OpenSSH version v.
func Defaults(v Version) map[string]string {
	d := map[string]string{
		"permitrootlogin":              "prohibit-password",
		"passwordauthentication":       "yes",
		"kbdinteractiveauthentication": "yes",
		"usepam":                       "no",
		"protocol":                     "2",
		"maxauthtries":                 "6",
		"logingracetime":               "120",
		"permitemptypasswords":         "no",
		"x11forwarding":                "no",
		"maxstartups":                  "10:30:100",
		"clientaliveinterval":          "0",
		"clientalivecountmax":          "3",
		"loglevel":                     "INFO",
		"ignorerhosts":                 "yes",
		"hostbasedauthentication":      "no",
		"permituserenvironment":        "no",
		"banner":                       "none",
		"maxsessions":                  "10",
		"allowtcpforwarding":           "yes",
		"allowagentforwarding":         "yes",
		"gssapiauthentication":         "no",
		"disableforwarding":            "no",
		"pubkeyauthentication":         "yes",
		"strictmodes":                  "yes",
		"ignoreuserknownhosts":         "no",
		"permittunnel":                 "no",
		"gatewayports":                 "no",
		"syslogfacility":               "AUTH",
		"usedns":                       "no",
	}
	if !v.AtLeast(7, 0) {
		d["permitrootlogin"] = "yes"
	}
	if !v.AtLeast(7, 4) {
		delete(d, "disableforwarding") // added in 7.4
	}
	if !v.AtLeast(6, 8) {
		d["usedns"] = "yes"
	}
	return d
}

// scope is where a line's settings go: the global configuration (active
// when sshd starts, outside any Match block or under "Match all") and/or a
// Match block.
type scope struct {
	global bool
	// criteria is empty outside a Match block.
	criteria  string
	matchFile string
	matchLine int
	// block is the index in Matches of the block being filled, -1 for none.
	block int
}

type evaluator struct {
	fsys    fs.FS
	version Version
	out     *host.SSHD
	probs   collect.Problems
	seen    map[string]bool
	stack   []string
	files   int
	bytes   int64
	stopped bool
	stop    error
	// loops are the files already reported as including themselves.
	loops map[string]bool
}

// Evaluate computes the effective sshd configuration of the root fsys as
// OpenSSH version v would (see the package documentation), starting from
// MainConfig. Problems (unreadable or oversized files, include loops, lines
// sshd would reject) are returned, bounded; they never stop the rest of the
// configuration from being read. Installed, Version, Live and
// Disagreements are left for the caller.
func Evaluate(fsys fs.FS, v Version) (*host.SSHD, []error) {
	e := &evaluator{
		fsys:    fsys,
		version: v,
		out:     &host.SSHD{Global: map[string]host.Setting{}},
		seen:    map[string]bool{},
		loops:   map[string]bool{},
	}
	if _, err := fs.Stat(fsys, rel(MainConfig)); err != nil {
		e.problem(fmt.Errorf("%s: %w (sshd refuses to start without it)", MainConfig, unwrapPath(err)))
	} else {
		e.file(MainConfig, scope{global: true, block: -1}, 0)
	}
	// Blocks matching every connection override the global values of the
	// keywords a Match block may set (sshd -T applies them too).
	over := map[string]host.Setting{}
	for _, m := range e.out.Matches {
		if m.Criteria != "all" {
			continue
		}
		for _, kw := range sortedKeys(m.Settings) {
			if !globalOnly[kw] {
				set(over, kw, m.Settings[kw])
			}
		}
	}
	for kw, s := range over {
		e.out.Global[kw] = s
	}
	for k, val := range Defaults(v) {
		if _, ok := e.out.Global[k]; !ok {
			e.out.Global[k] = host.Setting{Value: val}
		}
	}
	for _, err := range resolveAlgorithms(e.out.Global, v, true) {
		e.problem(err)
	}
	for i := range e.out.Matches {
		for _, err := range resolveAlgorithms(e.out.Matches[i].Settings, v, false) {
			e.problem(err)
		}
	}
	return e.out, e.probs.List(e.stop)
}

func (e *evaluator) problem(err error) {
	e.probs.Add(err)
}

// rel turns an absolute host path into an fs.FS name.
func rel(p string) string {
	p = path.Clean("/" + p)
	if p == "/" {
		return "."
	}
	return p[1:]
}

// unwrapPath drops the *fs.PathError wrapper, whose path is the fs.FS
// name without its leading slash, so messages name the host path once.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// identity is what include loops are detected on: the path with links
// resolved when the FS can say.
func (e *evaluator) identity(name string) string {
	if r, ok := e.fsys.(interface{ Resolve(string) (string, error) }); ok {
		if p, err := r.Resolve(name); err == nil {
			return p
		}
	}
	return name
}

// file reads and applies one configuration file in scope outer.
func (e *evaluator) file(name string, outer scope, depth int) {
	if e.stopped {
		return
	}
	if e.files >= maxFiles || e.bytes >= maxBytes {
		e.stopped = true
		e.stop = fmt.Errorf("%s: not read, nor anything after it: more than %d files or %d bytes of configuration (include graph too large)", name, maxFiles, maxBytes)
		return
	}
	id := e.identity(name)
	for _, s := range e.stack {
		if s == id {
			if !e.loops[name] {
				e.loops[name] = true
				e.problem(fmt.Errorf("%s: include loop (sshd refuses to start: too many recursive configuration includes)", name))
			}
			return
		}
	}
	e.files++
	b, err := hostfs.ReadFileLimit(e.fsys, rel(name), FileLimit)
	if err != nil {
		if errors.Is(err, hostfs.ErrTooLarge) {
			e.problem(fmt.Errorf("%s: larger than %d bytes, not read (%w)", name, FileLimit, unwrapPath(err)))
		} else {
			e.problem(fmt.Errorf("%s: %w", name, unwrapPath(err)))
		}
		return
	}
	e.bytes += int64(len(b))
	if !e.seen[name] {
		e.seen[name] = true
		e.out.Files = append(e.out.Files, name)
	}
	e.stack = append(e.stack, id)
	defer func() { e.stack = e.stack[:len(e.stack)-1] }()

	cur := outer
	for n, line := range strings.Split(string(b), "\n") {
		if e.stopped {
			return
		}
		e.line(name, n+1, line, outer, &cur, depth)
	}
}

// line applies one line of file name. outer is the scope the file was
// included in, cur the scope of this file so far.
func (e *evaluator) line(name string, n int, line string, outer scope, cur *scope, depth int) {
	kw, args, raw, err := SplitLine(line)
	if err != nil {
		e.problem(fmt.Errorf("%s line %d: %w", name, n, err))
		return
	}
	if kw == "" {
		return
	}
	switch kw {
	case "match":
		if len(args) == 0 {
			e.problem(fmt.Errorf("%s line %d: Match without criteria", name, n))
			return
		}
		crit := strings.Join(args, " ")
		next := scope{matchFile: name, matchLine: n}
		all := len(args) == 1 && strings.EqualFold(args[0], "all")
		switch {
		case all:
			// "Match all" is active when sshd starts where the file
			// was included (its lines count as global then, the first
			// value winning), and it applies again to every
			// connection, where it overrides the global values.
			next.global, next.criteria = outer.global, outer.criteria
			if next.criteria == "" {
				next.criteria = "all"
			}
		case outer.criteria == "" || outer.criteria == "all":
			next.criteria = crit
		default:
			// A Match inside a file included from a Match block applies
			// when both match.
			next.criteria = outer.criteria + " " + crit
		}
		e.out.Matches = append(e.out.Matches, host.SSHDMatch{
			Criteria: next.criteria, File: name, Line: n, Settings: map[string]host.Setting{},
		})
		next.block = len(e.out.Matches) - 1
		*cur = next
	case "include":
		if len(args) == 0 {
			e.problem(fmt.Errorf("%s line %d: Include without a file name", name, n))
			return
		}
		for _, a := range args {
			p := a
			if !strings.HasPrefix(a, "/") && !strings.HasPrefix(a, "~") {
				p = sshDir + "/" + a
			}
			matches, err := e.glob(p)
			if err != nil {
				e.problem(fmt.Errorf("%s line %d: Include %s: %w", name, n, a, err))
			}
			for _, m := range matches {
				if depth+1 > MaxDepth {
					e.problem(fmt.Errorf("%s line %d: Include %s: more than %d levels of includes (sshd refuses to start)", name, n, m, MaxDepth))
					break
				}
				e.file(m, *cur, depth+1)
			}
		}
	default:
		if kw == "protocol" && e.version.AtLeast(7, 4) {
			return // accepted and ignored: only protocol 2 exists
		}
		val := strings.Join(args, " ")
		if kw == "forcecommand" {
			val = raw
		}
		if val == "" {
			e.problem(fmt.Errorf("%s line %d: %s without a value", name, n, kw))
			return
		}
		val, err := Normalize(kw, val)
		if err != nil {
			e.problem(fmt.Errorf("%s line %d: %w", name, n, err))
		}
		if cur.criteria != "" && !cur.global && globalOnly[kw] && kw != "subsystem" {
			e.problem(fmt.Errorf("%s line %d: %s is not allowed within a Match block (sshd refuses to start)", name, n, kw))
			return
		}
		s := host.Setting{Value: val, File: name, Line: n}
		if cur.global {
			set(e.out.Global, kw, s)
		}
		// A keyword Match blocks may not set is not kept in one: under
		// "Match all" it counts when sshd starts (above), never per
		// connection.
		if cur.criteria != "" && !globalOnly[kw] {
			if cur.block != len(e.out.Matches)-1 {
				// Lines after an Include whose file opened Match
				// blocks of its own: a new block with the same
				// criteria keeps the blocks in the order sshd applies
				// them.
				e.out.Matches = append(e.out.Matches, host.SSHDMatch{
					Criteria: cur.criteria, File: cur.matchFile, Line: cur.matchLine, Settings: map[string]host.Setting{},
				})
				cur.block = len(e.out.Matches) - 1
			}
			set(e.out.Matches[cur.block].Settings, kw, s)
		}
	}
}

func sortedKeys(m map[string]host.Setting) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// set applies one setting: the first value wins, except for the keywords
// whose values accumulate.
func set(m map[string]host.Setting, kw string, s host.Setting) {
	old, ok := m[kw]
	switch {
	case !ok:
		m[kw] = s
	case multiValue[kw]:
		sep := " "
		if kw == "subsystem" {
			sep = "\n"
		}
		old.Value += sep + s.Value
		m[kw] = old
	}
}

// Normalize returns a value as `sshd -T` prints it for the things the
// rules compare: enumerated words lower-case (without-password becomes
// prohibit-password), log levels and facilities upper-case, times in
// seconds, MaxStartups as begin:rate:full. A value it cannot read is
// returned as it is, with an error.
func Normalize(kw, val string) (string, error) {
	switch {
	case kw == "loglevel" || kw == "syslogfacility":
		val = strings.ToUpper(val)
		if val == "DEBUG" {
			val = "DEBUG1"
		}
		return val, nil
	case timeKeywords[kw]:
		secs, ok := convTime(val)
		if !ok {
			return val, fmt.Errorf("%s: bad time value %q", kw, val)
		}
		return strconv.FormatInt(secs, 10), nil
	case kw == "maxstartups":
		if _, err := strconv.Atoi(val); err == nil {
			return val + ":30:" + val, nil
		}
		return val, nil
	case caseSensitive[kw]:
		return val, nil
	}
	if l := strings.ToLower(val); enumWords[l] {
		if l == "without-password" {
			l = "prohibit-password"
		}
		return l, nil
	}
	return val, nil
}

// convTime reads an OpenSSH time: a sequence of numbers each with an
// optional unit (s, m, h, d, w; none means seconds).
func convTime(s string) (int64, bool) {
	if s == "" {
		return 0, false
	}
	var total int64
	for s != "" {
		i := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == 0 || i > 12 {
			return 0, false
		}
		n, _ := strconv.ParseInt(s[:i], 10, 64)
		s = s[i:]
		mult := int64(1)
		if s != "" {
			switch s[0] {
			case 's', 'S':
			case 'm', 'M':
				mult = 60
			case 'h', 'H':
				mult = 3600
			case 'd', 'D':
				mult = 86400
			case 'w', 'W':
				mult = 604800
			default:
				return 0, false
			}
			s = s[1:]
		}
		total += n * mult
		if total > 1<<31-1 {
			return 0, false
		}
	}
	return total, true
}

// SplitLine splits one configuration line as sshd does: the keyword (up
// to whitespace or one '=', lower-cased, aliases resolved), then the
// arguments, split on spaces and tabs, with double and single quotes and
// backslash escapes, up to a '#' that starts a word. raw is the text after
// the keyword (for ForceCommand, which takes it as it is). A blank or
// comment line gives an empty keyword.
func SplitLine(line string) (kw string, args []string, raw string, err error) {
	if i := strings.IndexByte(line, 0); i >= 0 {
		line = line[:i] // sshd reads the line as a C string
	}
	line = strings.TrimRight(line, " \t\r\n\f")
	tok, rest, ok, more := strdelim(line)
	if ok && tok == "" && more {
		tok, rest, ok, more = strdelim(rest)
	}
	if !ok || tok == "" || tok[0] == '#' {
		return "", nil, "", nil
	}
	if strings.ContainsAny(tok, whitespace+"\f\"=") {
		return "", nil, "", fmt.Errorf("bad configuration option %q", tok)
	}
	kw = strings.ToLower(tok)
	if a, ok := aliases[kw]; ok {
		kw = a
	}
	if !more || rest == "" {
		return "", nil, "", fmt.Errorf("no argument after keyword %q", tok)
	}
	args, err = argvSplit(rest)
	if err != nil {
		return "", nil, "", err
	}
	return kw, args, strings.TrimLeft(rest, " \t\r\n"), nil
}

const whitespace = " \t\r\n"

// strdelim is OpenSSH's strdelim for the keyword: the token up to
// whitespace, '"' or '=' (one '=' with whitespace around it is one
// separator). ok is false for an unmatched quote; more is false when the
// line ended with the token.
func strdelim(s string) (tok, rest string, ok, more bool) {
	i := strings.IndexAny(s, whitespace+"\"=")
	if i < 0 {
		return s, "", true, false
	}
	if s[i] == '"' {
		j := strings.IndexByte(s[i+1:], '"')
		if j < 0 {
			return "", "", false, false
		}
		tok = s[:i] + s[i+1:i+1+j]
		return tok, strings.TrimLeft(s[i+1+j+1:], whitespace), true, true
	}
	eq := s[i] == '='
	tok = s[:i]
	rest = strings.TrimLeft(s[i+1:], whitespace)
	if !eq && strings.HasPrefix(rest, "=") {
		rest = strings.TrimLeft(rest[1:], whitespace)
	}
	return tok, rest, true, true
}

// argvSplit is OpenSSH's argv_split with comments ending the line.
func argvSplit(s string) ([]string, error) {
	var args []string
	for i := 0; i < len(s); i++ {
		if s[i] == ' ' || s[i] == '\t' {
			continue
		}
		if s[i] == '#' {
			break
		}
		var b strings.Builder
		var quote byte
		for ; i < len(s); i++ {
			c := s[i]
			switch {
			case c == '\\' && i+1 < len(s) && (s[i+1] == '\'' || s[i+1] == '"' || s[i+1] == '\\' || quote == 0 && s[i+1] == ' '):
				i++
				b.WriteByte(s[i])
			case quote == 0 && (c == ' ' || c == '\t'):
				goto done
			case quote == 0 && (c == '"' || c == '\''):
				quote = c
			case quote != 0 && c == quote:
				quote = 0
			default:
				b.WriteByte(c)
			}
		}
		if quote != 0 {
			return nil, errors.New("invalid quotes")
		}
	done:
		args = append(args, b.String())
	}
	return args, nil
}

// glob expands an Include pattern inside the root as glob(3) does for
// sshd: '*', '?' and '[...]' per path element, names starting with '.'
// only matched by a pattern starting with '.', results sorted bytewise; a
// pattern without wildcards gives the name when it exists.
func (e *evaluator) glob(pattern string) ([]string, error) {
	pattern = path.Clean("/" + pattern)
	cur := []string{"/"}
	lastMeta := false
	for _, el := range strings.Split(pattern[1:], "/") {
		if el == "" {
			continue
		}
		var next []string
		lastMeta = strings.ContainsAny(el, "*?[\\")
		if !lastMeta {
			for _, c := range cur {
				next = append(next, path.Join(c, el))
			}
			cur = next
			continue
		}
		for _, c := range cur {
			ents, err := fs.ReadDir(e.fsys, rel(c))
			if err != nil {
				continue
			}
			for _, d := range ents {
				nm := d.Name()
				if strings.HasPrefix(nm, ".") && !strings.HasPrefix(el, ".") {
					continue
				}
				ok, err := path.Match(el, nm)
				if err != nil {
					ok = el == nm
				}
				if ok {
					next = append(next, path.Join(c, nm))
					if len(next) > maxGlob {
						return nil, fmt.Errorf("more than %d names match", maxGlob)
					}
				}
			}
		}
		cur = next
		if len(cur) == 0 {
			return nil, nil
		}
	}
	// Names read from a directory are kept even when they do not lead
	// anywhere (a dangling link): sshd would fail to open them, and so
	// will file, saying so. A name without wildcards must exist.
	var out []string
	for _, c := range cur {
		if c == "/" {
			continue
		}
		if lastMeta {
			out = append(out, c)
		} else if _, err := lstat(e.fsys, rel(c)); err == nil || !errors.Is(err, fs.ErrNotExist) {
			out = append(out, c)
		}
	}
	sort.Strings(out)
	return out, nil
}

// lstat describes name without following a final link when the FS can.
func lstat(fsys fs.FS, name string) (fs.FileInfo, error) {
	if l, ok := fsys.(interface {
		Lstat(string) (fs.FileInfo, error)
	}); ok {
		return l.Lstat(name)
	}
	return fs.Stat(fsys, name)
}
