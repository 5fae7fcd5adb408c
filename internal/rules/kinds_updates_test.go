package rules_test

import (
	"strings"
	"testing"

	"github.com/kensa-dev/kensa/internal/collect/aptchangelog"
	"github.com/kensa-dev/kensa/internal/finding"
	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/rules"
)

// Ubuntu's release, -updates and -security archives all name the
// release's codename ("jammy") in their Release files, and a candidate is
// named by its archive's codename. When only the security lists were read
// a "jammy" candidate is a security update; when every list was read it
// may or may not be, and the rule says it cannot tell rather than pass.
// Debian's security archive names itself ("bookworm-security").
func TestPendingUpdatesUbuntuCodename(t *testing.T) {
	const secList = "/var/lib/apt/lists/security.ubuntu.com_ubuntu_dists_jammy-security_main_binary-amd64_Packages"
	const updList = "/var/lib/apt/lists/archive.ubuntu.com_ubuntu_dists_jammy-updates_main_binary-amd64_Packages"
	openssl := host.PendingUpdate{Name: "openssl", Installed: "3.0.2-0ubuntu1.18", Candidate: "3.0.2-0ubuntu1.19", Suite: "jammy"}
	for name, c := range map[string]struct {
		method  string
		lists   []string
		pending []host.PendingUpdate
		want    string
		says    string
	}{
		"security lists only, pending": {aptchangelog.MethodSecurityLists, []string{secList}, []host.PendingUpdate{openssl}, finding.StatusFail, "from a security list"},
		"security lists only, current": {aptchangelog.MethodSecurityLists, []string{secList}, nil, finding.StatusPass, "no update"},
		"every list, codename only":    {aptchangelog.Method, []string{secList, updList}, []host.PendingUpdate{openssl}, finding.StatusError, "cannot be told"},
		"every list, current":          {aptchangelog.Method, []string{secList, updList}, nil, finding.StatusPass, "no update"},
		"debian names its archive": {aptchangelog.Method, []string{"/var/lib/apt/lists/deb.debian.org_debian-security_dists_bookworm-security_main_binary-amd64_Packages"},
			[]host.PendingUpdate{{Name: "openssl", Installed: "1", Candidate: "2", Suite: "bookworm-security"}}, finding.StatusFail, "bookworm-security"},
		"other archive of another codename": {aptchangelog.Method, []string{secList},
			[]host.PendingUpdate{{Name: "x", Installed: "1", Candidate: "2", Suite: "noble"}}, finding.StatusPass, "no update"},
	} {
		inv := &host.Inventory{Updates: &host.Updates{Method: c.method, Lists: c.lists, Pending: c.pending}}
		got := (&rules.Check{PendingUpdates: &rules.PendingUpdates{Suites: []string{"*-security"}}}).Evaluate(inv)
		text := got.Reason + strings.Join(got.Evidence, "; ")
		if got.Status != c.want || !strings.Contains(text, c.says) {
			t.Errorf("%s: %s %q, want %s saying %q", name, got.Status, text, c.want, c.says)
		}
	}
}
