package agent

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// maxAnswer bounds what is read of a JSON answer or an error document:
// the agent endpoints answer a few hundred bytes.
const maxAnswer = 1 << 20

// client talks to the server: one http.Client over one transport, so
// connections (and TLS sessions) are reused between heartbeats and
// uploads.
type client struct {
	base *url.URL
	http *http.Client
}

// newClient builds a client of the server at base with tlsCfg. proxy
// picks the proxy of each request (http.ProxyFromEnvironment: the
// HTTPS_PROXY and NO_PROXY variables).
func newClient(base *url.URL, tlsCfg *tls.Config, proxy func(*http.Request) (*url.URL, error)) *client {
	tr := &http.Transport{
		Proxy:                 proxy,
		DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:       tlsCfg,
		TLSHandshakeTimeout:   15 * time.Second,
		ResponseHeaderTimeout: 2 * time.Minute,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConnsPerHost:   2,
		ForceAttemptHTTP2:     true,
	}
	return &client{base: base, http: &http.Client{Transport: tr}}
}

func (c *client) close() { c.http.CloseIdleConnections() }

// url is the server's URL for an API path ("/api/v1/..."), under the
// path of the base URL if it has one (a server behind a reverse proxy).
func (c *client) url(path string) string {
	u := *c.base
	u.Path = strings.TrimRight(u.Path, "/") + path
	u.RawPath = ""
	return u.String()
}

// request is one call to the server.
type request struct {
	method, path string
	header       map[string]string
	// body, when set, is opened for each attempt of the transport
	// (which may replay a request on a fresh connection).
	body   func() (io.ReadCloser, error)
	length int64
	// out, when set, receives the JSON answer.
	out any
}

// do sends r; an answer other than 2xx is a *statusError.
func (c *client) do(ctx context.Context, r request) error {
	var body io.Reader
	if r.body != nil {
		b, err := r.body()
		if err != nil {
			return err
		}
		body = b
	}
	req, err := http.NewRequestWithContext(ctx, r.method, c.url(r.path), body)
	if err != nil {
		if rc, ok := body.(io.Closer); ok {
			rc.Close()
		}
		return err
	}
	if r.body != nil {
		req.GetBody = r.body
		req.ContentLength = r.length
	}
	for k, v := range r.header {
		req.Header.Set(k, v)
	}
	if r.out != nil {
		req.Header.Set("Accept", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return newStatusError(r.method, r.path, resp)
	}
	if r.out == nil || r.method == http.MethodHead {
		io.Copy(io.Discard, io.LimitReader(resp.Body, maxAnswer))
		return nil
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err != nil {
		return fmt.Errorf("%s %s: reading the answer: %w", r.method, r.path, err)
	}
	if len(b) > maxAnswer {
		return fmt.Errorf("%s %s: the answer is larger than %d bytes", r.method, r.path, maxAnswer)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil // 204, or an empty 200: nothing to read
	}
	if err := json.Unmarshal(b, r.out); err != nil {
		return fmt.Errorf("%s %s: the answer is not the JSON expected: %w", r.method, r.path, err)
	}
	return nil
}

// postJSON posts in as JSON and reads the answer into out (when not nil).
func (c *client) postJSON(ctx context.Context, path string, header map[string]string, in, out any) error {
	b, err := json.Marshal(in)
	if err != nil {
		return err
	}
	h := map[string]string{"Content-Type": "application/json"}
	for k, v := range header {
		h[k] = v
	}
	return c.do(ctx, request{
		method: http.MethodPost, path: path, header: h, out: out, length: int64(len(b)),
		body: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil },
	})
}

// statusError is an answer other than 2xx.
type statusError struct {
	method, path string
	status       int
	detail       string
}

func newStatusError(method, path string, resp *http.Response) *statusError {
	e := &statusError{method: method, path: path, status: resp.StatusCode}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	var problem struct {
		Title  string `json:"title"`
		Detail string `json:"detail"`
	}
	if json.Unmarshal(b, &problem) == nil && (problem.Detail != "" || problem.Title != "") {
		e.detail = problem.Detail
		if e.detail == "" {
			e.detail = problem.Title
		}
	} else {
		e.detail = strings.TrimSpace(string(b))
	}
	e.detail = sanitize(e.detail, 300)
	return e
}

func (e *statusError) Error() string {
	msg := fmt.Sprintf("%s %s: %d %s", e.method, e.path, e.status, http.StatusText(e.status))
	if e.detail != "" {
		msg += ": " + e.detail
	}
	return msg
}

// sanitize keeps what a server said printable and short before it goes
// into a log line: the server is trusted, but a proxy in the way is not.
func sanitize(s string, max int) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if len(s) > max {
		s = s[:max] + "..."
	}
	return s
}

// statusOf is the HTTP status of err, or 0 when the server did not
// answer.
func statusOf(err error) int {
	var se *statusError
	if errors.As(err, &se) {
		return se.status
	}
	return 0
}

// permanent reports whether the server refused a request for good: a
// 4xx answer that a retry would get again (not 401 or 403, which a
// revoked-then-restored agent or a proxy may answer for a while; not
// 408 or 429, which ask for a retry). Everything else (no connection,
// a reset, a 5xx) is worth retrying.
func permanent(err error) bool {
	s := statusOf(err)
	return s >= 400 && s <= 499 && s != http.StatusUnauthorized && s != http.StatusForbidden &&
		s != http.StatusRequestTimeout && s != http.StatusTooManyRequests
}

// trustError is the server failing the agent's verification: another CA
// than the one given or pinned, another name. Retrying cannot help.
type trustError struct{ err error }

func (e *trustError) Error() string { return e.err.Error() }
func (e *trustError) Unwrap() error { return e.err }

// untrusted reports whether err is the server's certificate failing
// verification.
func untrusted(err error) bool {
	var (
		te  *trustError
		cve *tls.CertificateVerificationError
		uae x509.UnknownAuthorityError
		he  x509.HostnameError
		cie x509.CertificateInvalidError
		ae  tls.AlertError
	)
	return errors.As(err, &te) || errors.As(err, &cve) || errors.As(err, &uae) ||
		errors.As(err, &he) || errors.As(err, &cie) || errors.As(err, &ae)
}
