// Package behavior is the runtime rules package: it judges what an
// observation window recorded on a live host (internal/observe), never the
// host itself, so a report can be re-judged from the Observations it
// carries.
//
// Seven rules, after Amazon Inspector Classic's Runtime Behavior Analysis:
// cleartext clients (login and general), listening ports that received no
// connection, servers of cleartext protocols, running code without NX or
// stack cookies, and root processes whose code a non-root user can
// replace. Every rule returns exactly one Result stating what was examined,
// and what the window could not see is stated in the coverage, so an empty
// list of findings is never read as more than it is. docs/runtime-rules.md
// documents the rules and the port tables.
package behavior

import "github.com/kensa-dev/kensa/internal/finding"

// Rule ids. They are part of the report format (suppressions and finding
// fingerprints use them): never rename one.
const (
	RuleInsecureClientLogin   = "insecure-client-login"
	RuleInsecureClientGeneral = "insecure-client-general"
	RuleUnusedListeningPort   = "unused-listening-port"
	RuleInsecureServer        = "insecure-server-protocol"
	RuleWithoutDEP            = "software-without-dep"
	RuleWithoutStackCookies   = "software-without-stack-cookies"
	RuleRootInsecurePerms     = "root-process-insecure-permissions"
)

// Rule is one rule's metadata (kensa rules list, coverage).
type Rule struct {
	ID, Title      string
	Severity       finding.Severity
	Description    string
	Recommendation string
}

// Rules returns the seven rules, in the order their results are reported.
// It builds a new slice on each call: callers may keep or change it.
func Rules() []Rule {
	return []Rule{
		{
			ID:       RuleInsecureClientLogin,
			Title:    "A program logged in to a host over a cleartext login protocol",
			Severity: finding.Medium,
			Description: "A process on this host opened a TCP connection to the port of a login protocol that carries the user name, " +
				"the password and the whole session unencrypted (" + serviceList(loginServices) + "). Anyone on the path can read " +
				"the credentials and take over the session. Only established connections count; the protocol is recognised by the " +
				"remote port, so a service moved to another port is not seen, and FTP's in-band switch to TLS (AUTH TLS) cannot be " +
				"told apart from connection metadata.",
			Recommendation: "Use SSH (ssh, scp, sftp) instead, with keys; remove the telnet, rsh, rlogin, rexec and plain ftp clients " +
				"from hosts that do not need them, and find out which user or job ran the program.",
		},
		{
			ID:       RuleInsecureClientGeneral,
			Title:    "A program used a cleartext client protocol",
			Severity: finding.Low,
			Description: "A process on this host opened a TCP connection to the port of a protocol that is cleartext unless upgraded (" +
				serviceList(generalClientServices) + "). What it sent, which can include passwords, cookies and mail, can be read and " +
				"changed on the path. SMTP, POP3, IMAP, NNTP and LDAP can switch to TLS inside the same connection (STARTTLS); " +
				"connection metadata cannot show whether they did, so such a finding says the program used the cleartext port, not " +
				"that its data went unencrypted. SNMP v1/v2c and other UDP clients are not assessed: no observer method sees UDP " +
				"traffic.",
			Recommendation: "Configure the program to use the protocol's TLS form (https, imaps 993, pop3s 995, submissions 465, " +
				"ldaps 636) or to require STARTTLS; where cleartext is accepted by design (a package manager that verifies signatures " +
				"over http), suppress the finding with that reason.",
		},
		{
			ID:       RuleUnusedListeningPort,
			Title:    "A TCP port listened for the whole window and received no connection",
			Severity: finding.Informational,
			Description: "A TCP socket was listening from the start of the observation window to its end and no connection to it " +
				"was seen, neither a new one nor one established at any listing of the sockets (a connection pool opened before the " +
				"window counts as use). A service nobody uses is attack surface with no benefit. The judgement is only as long as " +
				"the window: a weekly job's port looks unused in an hour, and the polling method misses connections shorter than " +
				"one poll; a window shorter than 10 seconds is not judged at all. Listeners present for only part of the window " +
				"are not judged, nor are UDP sockets (their traffic is not observed).",
			Recommendation: "Stop and disable the service if nothing needs it, or bind it to the loopback address or a firewall zone " +
				"that only its clients reach; observe a longer window before removing a port you are unsure of.",
		},
		{
			ID:       RuleInsecureServer,
			Title:    "A server of a cleartext protocol is listening",
			Severity: finding.Informational,
			Description: "A socket is listening on the well-known port of a protocol that carries credentials or data unencrypted (" +
				serviceList(serverServices) + "). Clients that use it expose what they send to anyone on the path. The protocol is " +
				"recognised by the port number only: a server there may offer STARTTLS, or an SNMP agent may accept only v3, which " +
				"a listening socket does not show.",
			Recommendation: "Replace the service by its encrypted form (SSH for telnet, rsh, rlogin and rexec; SFTP or FTPS for FTP; " +
				"HTTPS; IMAPS, POP3S; SNMPv3 with authPriv), or require TLS before authentication; disable it if nothing needs it.",
		},
		{
			ID:       RuleWithoutDEP,
			Title:    "Running software is built without DEP (NX)",
			Severity: finding.Medium,
			Description: "An executable or shared object used by a running process asks for an executable stack (its PT_GNU_STACK " +
				"header is missing or has the execute flag). The loader then makes the stack of the whole process executable, so " +
				"a stack buffer overflow in any of its code can run injected instructions directly. Files for which the question " +
				"does not apply, or whose headers could not be read, are not findings; they are counted in the rule's result.",
			Recommendation: "Rebuild the software without -z execstack (and find the object file that asked for it, often hand-written " +
				"assembly without a .note.GNU-stack section), or update it; a distro package built this way is a packaging bug to " +
				"report to the distribution.",
		},
		{
			ID:       RuleWithoutStackCookies,
			Title:    "Running software is built without stack cookies",
			Severity: finding.Medium,
			Description: "An executable or shared object used by a running process was compiled without the stack protector: no " +
				"function checks a canary before returning, so a stack buffer overflow overwrites the return address undetected. " +
				"Go and Rust programs and static binaries are not judged (Go has no canaries by design and its runtime checks " +
				"bounds; see docs/elfsec.md); they are counted in the rule's result.",
			Recommendation: "Rebuild the software with -fstack-protector-strong (the default of current distribution compilers), " +
				"or update it to a build that has it.",
		},
		{
			ID:       RuleRootInsecurePerms,
			Title:    "A root process runs code a non-root user can replace",
			Severity: finding.High,
			Description: "A process running as root executes or maps a file that a non-root user can change: the file, or a " +
				"directory on its path, is owned by another user, writable by every user, or writable by a group other than root. " +
				"That user can replace the code and run their own as root at the next start or load. A sticky directory (such as " +
				"/tmp) is not a weakness by itself: the sticky bit stops others from renaming or deleting an entry they do not own, " +
				"so what matters is who owns the entry below it. Access control lists are not read.",
			Recommendation: "Make the file and every directory on its path owned by root and writable by root only (chown root:root, " +
				"chmod go-w), or move the software to a root-owned location; then find out how the permissions were changed.",
		},
	}
}

// rule returns the metadata of id.
func rule(id string) Rule {
	for _, r := range Rules() {
		if r.ID == id {
			return r
		}
	}
	panic("behavior: unknown rule " + id)
}
