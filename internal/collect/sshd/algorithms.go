package sshd

import (
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/kensa-dev/kensa/internal/host"
)

// AlgorithmKeywords are the keywords whose value is a list of algorithms
// that may be written relative to the compiled-in default list: "+a,b"
// appends, "-a*,b" removes (wildcards allowed), "^a,b" puts in front.
var AlgorithmKeywords = []string{"ciphers", "macs", "kexalgorithms"}

// Default algorithm lists of upstream OpenSSH (myproposal.h), by the
// versions that ship them. Outside the ranges below the defaults are not
// known here, and a relative list cannot be resolved.
const (
	ciphers80 = "chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr,aes128-gcm@openssh.com,aes256-gcm@openssh.com"
	macs80    = "umac-64-etm@openssh.com,umac-128-etm@openssh.com,hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,hmac-sha1-etm@openssh.com,umac-64@openssh.com,umac-128@openssh.com,hmac-sha2-256,hmac-sha2-512,hmac-sha1"
	kex80     = "curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,ecdh-sha2-nistp384,ecdh-sha2-nistp521,diffie-hellman-group-exchange-sha256,diffie-hellman-group16-sha512,diffie-hellman-group18-sha512,diffie-hellman-group14-sha256"
	// OpenSSH 8.2 removed diffie-hellman-group14-sha1 from the server's
	// default, which 8.0 and 8.1 still offer last.
	kex80sha1 = kex80 + ",diffie-hellman-group14-sha1"
	// OpenSSH 8.5 put the post-quantum hybrid first.
	kex85 = "sntrup761x25519-sha512@openssh.com," + kex80

	// OpenSSH 7.4p1's, from the upstream source of that version
	// (openssh-7.4p1, myproposal.h): KEX_SERVER_KEX, KEX_SERVER_ENCRYPT
	// and KEX_SERVER_MAC as a build with OpenSSL (ECC, NIST P-521, SHA-256
	// and AES-GCM available) expands them. They are 8.0's lists: the
	// server's ciphers have had no CBC mode since 6.7, and 7.4 added
	// curve25519-sha256 beside its @libssh.org name and still offers
	// diffie-hellman-group14-sha1 last.
	ciphers74 = ciphers80
	macs74    = macs80
	kex74     = kex80sha1
)

// DefaultAlgorithms returns the compiled-in default list of an algorithm
// keyword for OpenSSH version v, and false when it is not known here.
// Distributions may patch these lists (Debian 12's 9.2p1 also offers the
// name sntrup761x25519-sha512); on a live host `sshd -T` has the truth.
//
// The Red Hat Enterprise Linux 7 family's 7.4p1 (Amazon Linux 2's too) is
// such a build, and its lists are not known here: the CIS benchmarks
// document other defaults for it than upstream's (CBC ciphers among the
// server's ciphers for RHEL 7; a key exchange list with
// diffie-hellman-group1-sha1 and without the group16 and group18 methods
// for Amazon Linux 2), which could not be checked against the binary.
// Taking upstream's lists there could pass a server that offers CBC
// ciphers, so an unset keyword stays unknown (the rules say so, an error)
// rather than judged on a guess.
func DefaultAlgorithms(v Version, keyword string) (string, bool) {
	if v.Known && v.Major == 7 && v.Minor == 4 && !v.RedHat7Build {
		switch keyword {
		case "ciphers":
			return ciphers74, true
		case "macs":
			return macs74, true
		case "kexalgorithms":
			return kex74, true
		}
		return "", false
	}
	if !v.Known || !v.AtLeast(8, 0) || v.AtLeast(9, 9) {
		return "", false
	}
	switch keyword {
	case "ciphers":
		return ciphers80, true
	case "macs":
		return macs80, true
	case "kexalgorithms":
		switch {
		case v.AtLeast(8, 5) && v.SntrupAlias:
			return "sntrup761x25519-sha512," + kex85, true
		case v.AtLeast(8, 5):
			return kex85, true
		case v.AtLeast(8, 2):
			return kex80, true
		}
		return kex80sha1, true
	}
	return "", false
}

// ResolveAlgorithms turns a configured algorithm list into the list sshd
// uses, as OpenSSH's kex_assemble_names does: an absolute list is itself;
// "+list" appends to the defaults what they lack, "-patterns" removes the
// defaults matching any pattern, "^list" puts the list first and removes
// it from the rest. It reports false when value is relative and the
// defaults are unknown (defaults empty).
func ResolveAlgorithms(value, defaults string) (string, bool) {
	value = strings.TrimSpace(value)
	if value == "" {
		return "", false
	}
	op := value[0]
	if op != '+' && op != '-' && op != '^' {
		return value, true
	}
	if defaults == "" {
		return "", false
	}
	def := splitList(defaults)
	arg := splitList(value[1:])
	var out []string
	switch op {
	case '+':
		out = slices.Clone(def)
		for _, a := range arg {
			if !slices.Contains(out, a) {
				out = append(out, a)
			}
		}
	case '-':
		for _, d := range def {
			if !slices.ContainsFunc(arg, func(p string) bool { return matchPattern(p, d) }) {
				out = append(out, d)
			}
		}
	case '^':
		out = slices.Clone(arg)
		for _, d := range def {
			if !slices.Contains(out, d) {
				out = append(out, d)
			}
		}
	}
	return strings.Join(out, ","), true
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, strings.ToLower(p))
		}
	}
	return out
}

// matchPattern matches an OpenSSH wildcard pattern (* and ?) against a
// name; path.Match has the same meaning for names without slashes.
func matchPattern(pattern, name string) bool {
	ok, err := path.Match(pattern, name)
	return err == nil && ok
}

// resolveAlgorithms rewrites the algorithm keywords of settings to the
// lists sshd uses, filling unset ones with the defaults of version v. A
// relative list whose defaults are unknown is left as written and
// reported, so the rules can say the effective list is unknown rather than
// judge the relative text.
func resolveAlgorithms(settings map[string]host.Setting, v Version, global bool) []error {
	var errs []error
	for _, kw := range AlgorithmKeywords {
		def, known := DefaultAlgorithms(v, kw)
		s, ok := settings[kw]
		if !ok {
			if global && known {
				settings[kw] = host.Setting{Value: def}
			}
			continue
		}
		r, resolved := ResolveAlgorithms(s.Value, def)
		if !resolved {
			errs = append(errs, fmt.Errorf("%s: %s %q is relative to the compiled-in defaults, which are not known for OpenSSH %s", where(s), kw, s.Value, v))
			continue
		}
		s.Value = r
		settings[kw] = s
	}
	return errs
}

func where(s host.Setting) string {
	if s.Line > 0 {
		return fmt.Sprintf("%s:%d", s.File, s.Line)
	}
	return s.File
}

// IsRelativeList reports whether an algorithm list was left relative
// (its defaults were not known).
func IsRelativeList(value string) bool {
	v := strings.TrimSpace(value)
	return v != "" && strings.ContainsRune("+-^", rune(v[0]))
}

// String spells the version ("9.2", or "of unknown version").
func (v Version) String() string {
	if !v.Known {
		return "of unknown version"
	}
	return fmt.Sprintf("%d.%d", v.Major, v.Minor)
}

// redHat7Build reports whether an rpm package version is a build of the
// Red Hat Enterprise Linux 7 family: its release has an ".el7" or ".amzn2"
// tag ("7.4p1-22.amzn2.0.9", "7.4p1-21.el7"; not ".amzn2023" or ".el8").
func redHat7Build(pkg *host.Package) bool {
	if pkg == nil || pkg.Manager != "rpm" {
		return false
	}
	_, rel, ok := strings.Cut(pkg.Version, "-")
	if !ok {
		return false
	}
	for _, tag := range []string{".el7", ".amzn2"} {
		i := strings.Index("."+rel, tag)
		if i < 0 {
			continue
		}
		rest := ("." + rel)[i+len(tag):]
		if rest == "" || rest[0] < '0' || rest[0] > '9' {
			return true
		}
	}
	return false
}

// debianSntrupAlias reports whether a Debian 12 openssh-server package
// version is 1:9.2p1-2+deb12u4 or later, the first to offer the
// sntrup761x25519-sha512 name (its changelog, closes #1088873).
func debianSntrupAlias(pkgVersion string) bool {
	_, rev, ok := strings.Cut(pkgVersion, "+deb12u")
	if !ok || !strings.HasPrefix(pkgVersion, "1:9.2p1-") {
		return false
	}
	n, err := strconv.Atoi(strings.SplitN(rev, "+", 2)[0])
	return err == nil && n >= 4
}
