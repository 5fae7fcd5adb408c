package behavior

import (
	"fmt"
	"strings"

	"github.com/kensa-dev/kensa/internal/observe"
)

// service is the well-known port of a protocol that carries credentials or
// data in cleartext. Observations carry addresses, not payloads, so the
// protocol is recognised by the port alone: a service moved elsewhere is
// not seen, and one that upgrades to TLS in the same connection looks the
// same as one that does not (Upgrade says when that is possible).
type service struct {
	Name  string
	Proto observe.Proto
	Port  uint16
	// Upgrade names the command that switches the connection to TLS
	// (STARTTLS, STLS, AUTH TLS), when the protocol has one: whether it
	// was used cannot be seen from connection metadata.
	Upgrade string
}

// loginServices are the remote-login and file-transfer protocols whose
// client sends the user's password in cleartext. TCP only: UDP 512-514
// are other services (biff, who, syslog).
var loginServices = []service{
	{Name: "ftp", Proto: observe.TCP, Port: 21, Upgrade: "AUTH TLS"},
	{Name: "telnet", Proto: observe.TCP, Port: 23},
	{Name: "rexec", Proto: observe.TCP, Port: 512},
	{Name: "rlogin", Proto: observe.TCP, Port: 513},
	{Name: "rsh", Proto: observe.TCP, Port: 514},
}

// generalClientServices are the other cleartext client protocols judged
// by insecure-client-general. The list is deliberately short: only ports
// whose protocol is cleartext on that port by its standard. Left out:
// submission (587), where servers require STARTTLS before AUTH; database
// and cache protocols (3306, 5432, 6379), which negotiate TLS in-band and
// are mostly local; and every UDP protocol (SNMP, TFTP), because no
// observer method sees UDP traffic.
var generalClientServices = []service{
	{Name: "smtp", Proto: observe.TCP, Port: 25, Upgrade: "STARTTLS"},
	{Name: "http", Proto: observe.TCP, Port: 80},
	{Name: "pop3", Proto: observe.TCP, Port: 110, Upgrade: "STLS"},
	{Name: "nntp", Proto: observe.TCP, Port: 119, Upgrade: "STARTTLS"},
	{Name: "imap", Proto: observe.TCP, Port: 143, Upgrade: "STARTTLS"},
	{Name: "ldap", Proto: observe.TCP, Port: 389, Upgrade: "StartTLS"},
	{Name: "http", Proto: observe.TCP, Port: 8080},
}

// udpClientsNotAssessed is said in every result of insecure-client-general.
const udpClientsNotAssessed = "SNMP v1/v2c, TFTP and other UDP clients were not assessed: no observer method sees UDP traffic"

// serverServices are the listeners insecure-server-protocol reports: the
// login and general client tables seen from the server side, plus the UDP
// services a listening socket does reveal (a bound UDP socket is seen even
// though its datagrams are not).
var serverServices = concat(loginServices, generalClientServices, []service{
	{Name: "tftp", Proto: observe.UDP, Port: 69},
	{Name: "snmp", Proto: observe.UDP, Port: 161},
	{Name: "snmp-trap", Proto: observe.UDP, Port: 162},
})

func concat(lists ...[]service) []service {
	var out []service
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

// lookup returns the service of table on proto/port.
func lookup(table []service, proto observe.Proto, port uint16) (service, bool) {
	for _, s := range table {
		if s.Proto == proto && s.Port == port {
			return s, true
		}
	}
	return service{}, false
}

// serviceList names a table for prose: "ftp 21, telnet 23, ...", with the
// transport when a table mixes TCP and UDP.
func serviceList(table []service) string {
	mixed := false
	for _, s := range table {
		mixed = mixed || s.Proto != table[0].Proto
	}
	parts := make([]string, len(table))
	for i, s := range table {
		parts[i] = fmt.Sprintf("%s %d", s.Name, s.Port)
		if mixed {
			parts[i] += "/" + string(s.Proto)
		}
	}
	return strings.Join(parts, ", ")
}
