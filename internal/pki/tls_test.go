package pki

import (
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// These tests make real TLS 1.3 handshakes over loopback. Both ends run
// on a fixed clock (tls.Config.Time), so certificates issued at t0 are
// current whatever the date.

func clock(now time.Time) func() time.Time { return func() time.Time { return now } }

// startServer serves AgentIdentity of each request's connection as
// "id serial ok".
func startServer(t *testing.T, a *Authority, now time.Time) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, serial, ok := a.AgentIdentity(r.TLS)
		fmt.Fprintf(w, "%s %s %v", id, serial, ok)
	}))
	srv.TLS = a.ServerTLSConfig()
	srv.TLS.Time = clock(now)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are expected
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

// get makes one request with cfg and returns the body, or the error.
func get(t *testing.T, srv *httptest.Server, cfg *tls.Config, now time.Time) (string, *tls.ConnectionState, error) {
	t.Helper()
	cfg.Time = clock(now)
	tr := &http.Transport{TLSClientConfig: cfg}
	defer tr.CloseIdleConnections()
	return getWith(tr, srv)
}

func getWith(tr *http.Transport, srv *httptest.Server) (string, *tls.ConnectionState, error) {
	resp, err := (&http.Client{Transport: tr}).Get(srv.URL)
	if err != nil {
		return "", nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), resp.TLS, err
}

// agentPair is a tls.Certificate for an agent certificate issued at now.
func agentPair(t *testing.T, a *Authority, id string, now time.Time, validity time.Duration) tls.Certificate {
	t.Helper()
	key, err := NewAgentKey()
	if err != nil {
		t.Fatal(err)
	}
	csr, err := NewCSR(key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := a.SignAgent(csr, id, now, validity)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{cert.Raw}, PrivateKey: key, Leaf: cert}
}

// TestAgentAccepted: an agent certificate from SignAgent passes the
// server's handshake and AgentIdentity names the agent, by an agent
// config that also checks the server's name.
func TestAgentAccepted(t *testing.T) {
	a := newAuthority(t)
	srv := startServer(t, a, t0)
	pair := agentPair(t, a, "agent-42", t0, 0)
	for _, name := range []string{"", "localhost"} {
		body, state, err := get(t, srv, AgentTLSConfig(StaticClientCert(pair), a.CAPool(), name), t0)
		if err != nil {
			t.Fatalf("server name %q: %v", name, err)
		}
		if want := "agent-42 " + Serial(pair.Leaf) + " true"; body != want {
			t.Errorf("server name %q: %q, want %q", name, body, want)
		}
		if state.Version != tls.VersionTLS13 {
			t.Errorf("TLS version %x", state.Version)
		}
	}
	// The server's certificate does not name kensa.example.
	if _, _, err := get(t, srv, AgentTLSConfig(StaticClientCert(pair), a.CAPool(), "kensa.example"), t0); err == nil {
		t.Error("the agent accepted a server certificate for another name")
	}
}

// TestNoClientCert: an API user (no certificate) gets through the
// handshake, and is not an agent.
func TestNoClientCert(t *testing.T) {
	a := newAuthority(t)
	srv := startServer(t, a, t0)
	body, _, err := get(t, srv, ClientTLSConfig(a.CAPool()), t0)
	if err != nil {
		t.Fatal(err)
	}
	if body != "  false" {
		t.Errorf("body %q", body)
	}
	if id, _, ok := a.AgentIdentity(nil); ok || id != "" {
		t.Error("nil state is an agent")
	}
	// A client that does not trust the CA refuses the server.
	if _, _, err := get(t, srv, ClientTLSConfig(x509.NewCertPool()), t0); err == nil {
		t.Error("the server was trusted without its CA")
	}
}

// TestClientCertsRefused: certificates the handshake must refuse:
// another CA's agent, an expired or not yet valid agent certificate, and
// the server's own certificate (server-auth usage) used as a client's.
func TestClientCertsRefused(t *testing.T) {
	a := newAuthority(t)
	other := newAuthority(t)
	srv := startServer(t, a, t0)
	certs := map[string]tls.Certificate{
		"another CA":  agentPair(t, other, "agent-1", t0, 0),
		"expired":     agentPair(t, a, "agent-1", t0.Add(-60*day), 30*day),
		"not yet":     agentPair(t, a, "agent-1", t0.Add(day), 0),
		"server cert": a.ServerCertificate(),
	}
	for name, pair := range certs {
		body, _, err := get(t, srv, AgentTLSConfig(StaticClientCert(pair), a.CAPool(), ""), t0)
		if err == nil {
			t.Errorf("%s: accepted, body %q", name, body)
		}
		t.Logf("%s: %v", name, err)
	}
	// The same checks away from a handshake.
	for name, pair := range certs {
		if id, _, ok := a.AgentCertIdentity(pair.Leaf, t0); ok {
			t.Errorf("%s: AgentCertIdentity = %q", name, id)
		}
	}
}

// TestNotAnAgent: a client certificate from the CA that lacks the agent
// OU (say, one the user's own CA issued for something else) passes the
// handshake but is not an agent; nor is one with another CN form.
func TestNotAnAgent(t *testing.T) {
	a := newAuthority(t)
	srv := startServer(t, a, t0)
	issue := func(subject pkix.Name) tls.Certificate {
		key, _ := NewAgentKey()
		serial, _ := newSerial()
		tmpl := &x509.Certificate{
			SerialNumber: serial, Subject: subject,
			NotBefore: t0.Add(-time.Hour), NotAfter: t0.Add(day),
			KeyUsage:    x509.KeyUsageDigitalSignature,
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, a.ca, key.Public(), a.caKey)
		if err != nil {
			t.Fatal(err)
		}
		leaf, _ := x509.ParseCertificate(der)
		return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
	}
	for name, subject := range map[string]pkix.Name{
		"no OU":    {CommonName: "agent-1"},
		"other OU": {CommonName: "agent-1", OrganizationalUnit: []string{"ops"}},
		"bad CN":   {CommonName: "agent 1", OrganizationalUnit: []string{AgentOU}},
	} {
		pair := issue(subject)
		body, _, err := get(t, srv, AgentTLSConfig(StaticClientCert(pair), a.CAPool(), ""), t0)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !strings.HasSuffix(body, "false") {
			t.Errorf("%s: %q, want not an agent", name, body)
		}
		if _, _, ok := a.AgentCertIdentity(pair.Leaf, t0); ok {
			t.Errorf("%s: AgentCertIdentity says agent", name)
		}
	}
}

// TestRotationWithoutRestart: the agent's callback is asked at each
// handshake, so a new certificate is used on the next connection by the
// same transport.
func TestRotationWithoutRestart(t *testing.T) {
	a := newAuthority(t)
	srv := startServer(t, a, t0)
	var current atomic.Pointer[tls.Certificate]
	first := agentPair(t, a, "agent-1", t0, 0)
	current.Store(&first)
	cfg := AgentTLSConfig(func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return current.Load(), nil }, a.CAPool(), "")
	cfg.Time = clock(t0)
	tr := &http.Transport{TLSClientConfig: cfg}
	defer tr.CloseIdleConnections()

	body, _, err := getWith(tr, srv)
	if err != nil || body != "agent-1 "+Serial(first.Leaf)+" true" {
		t.Fatalf("first: %q %v", body, err)
	}
	second := agentPair(t, a, "agent-1", t0, 0)
	current.Store(&second)
	tr.CloseIdleConnections()
	body, _, err = getWith(tr, srv)
	if err != nil || body != "agent-1 "+Serial(second.Leaf)+" true" {
		t.Fatalf("after rotation: %q %v", body, err)
	}
}

// TestUserServerCertTLS: with the user's own server certificate, clients
// trust the user's CA, and agents still authenticate with the
// directory's CA.
func TestUserServerCertTLS(t *testing.T) {
	corp, corpDir := writeCorp(t, t0)
	a, _ := mustLoad(t, t.TempDir(), Options{CertFile: corpDir + "/" + ServerCertFile, KeyFile: corpDir + "/" + ServerKeyFile}, t0)
	srv := startServer(t, a, t0)
	pair := agentPair(t, a, "agent-9", t0, 0)
	body, _, err := get(t, srv, AgentTLSConfig(StaticClientCert(pair), corp.CAPool(), "kensa.corp.example"), t0)
	if err != nil || !strings.HasPrefix(body, "agent-9 ") || !strings.HasSuffix(body, " true") {
		t.Fatalf("%q %v", body, err)
	}
}

// TestPinnedFirstContact: an agent that knows only the CA's fingerprint
// connects, and finds the CA to save in the handshake; a wrong pin or a
// wrong name is refused.
func TestPinnedFirstContact(t *testing.T) {
	a := newAuthority(t)
	srv := startServer(t, a, t0)
	pin := Fingerprint(a.CA())
	cfg, err := PinnedTLSConfig(strings.ToUpper(pin), "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	body, state, err := get(t, srv, cfg, t0)
	if err != nil || body != "  false" {
		t.Fatalf("pinned: %q %v", body, err)
	}
	if ca, ok := FindPinned(state.PeerCertificates, pin); !ok || !ca.Equal(a.CA()) {
		t.Error("the CA is not found in the handshake")
	}

	other := newAuthority(t)
	refused := map[string][2]string{
		"other CA's pin":   {Fingerprint(other.CA()), "127.0.0.1"},
		"server leaf's":    {"SHA256:" + Fingerprint(a.ServerCertificate().Leaf)[7:], "127.0.0.1"}, // not a CA
		"name not in cert": {pin, "kensa.example"},
	}
	for name, p := range refused {
		cfg, err := PinnedTLSConfig(p[0], p[1])
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := get(t, srv, cfg, t0); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	// Pinned, the server's certificate is still checked for time.
	if _, _, err := get(t, srv, mustPinned(t, pin, "127.0.0.1"), t0.Add(2*365*day)); err == nil {
		t.Error("an expired server certificate was accepted")
	}
	if _, err := PinnedTLSConfig(pin, ""); err == nil {
		t.Error("no server name accepted")
	}
}

func mustPinned(t *testing.T, pin, name string) *tls.Config {
	t.Helper()
	cfg, err := PinnedTLSConfig(pin, name)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}
