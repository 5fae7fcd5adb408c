package auth

import (
	"strings"

	"github.com/kensa-dev/kensa/internal/host"
)

// includeOnly reports whether name is a file of shared lines that other
// stacks include (Debian's common-*, the Red Hat family's system-auth,
// ...), not a service an application starts PAM with.
func includeOnly(name string) bool {
	switch name {
	case "system-auth", "password-auth", "postlogin", "fingerprint-auth", "smartcard-auth",
		"system-login", "system-local-login", "system-remote-login", "system-services":
		return true
	}
	return strings.HasPrefix(name, "common-") || strings.HasPrefix(name, "base-")
}

// ServiceStack returns the stack libpam runs for name: its own when it
// was collected; for a service (passwd, su, sshd, ...) without a file of
// its own, the "other" stack, as libpam falls back to it. used is the
// stack returned ("other" for a fallback); ok is false when there is
// none. A file of shared lines (common-password) has no fallback.
func ServiceStack(p *host.PAM, name string) (stack []host.PAMEntry, used string, ok bool) {
	if s, found := p.Stacks[name]; found {
		return s, name, true
	}
	if includeOnly(name) || name == "other" {
		return nil, name, false
	}
	s, found := p.Stacks["other"]
	return s, "other", found
}
