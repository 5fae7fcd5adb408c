// Package apiclient is a typed client of the Kensa server's API
// (/api/v1): what the command line's client commands (kensa target,
// template, run, findings, report get) are built on, and what a Go
// program may use to drive a server.
//
// It speaks HTTPS only: a token sent over plain HTTP is a token given
// away. A server's RFC 9457 problem document becomes an *APIError, whose
// message is the server's own explanation ("HTTP 403: this operation
// needs the operator role; the token has viewer"). Every call takes a
// context and stops when it ends.
package apiclient

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/kensa-dev/kensa/internal/buildinfo"
	"github.com/kensa-dev/kensa/internal/pki"
)

// Size bounds of what the client reads: a server (or whatever answers in
// its place) is not trusted to send a small answer.
const (
	// maxDocumentBytes bounds a JSON answer: a page of 1,000 findings is
	// a few megabytes.
	maxDocumentBytes = 256 << 20
	// MaxReportBytes bounds a report: the server keeps documents of up
	// to 512 MiB uncompressed.
	MaxReportBytes = 512 << 20
	// maxProblemBytes bounds an error answer.
	maxProblemBytes = 64 << 10
)

// apiPrefix is where the API lives on the server.
const apiPrefix = "/api/v1"

// Client calls one server's API with one token. It is safe for
// concurrent use.
type Client struct {
	base  *url.URL
	token string
	http  *http.Client
}

// New returns a client of the server at baseURL ("https://kensa:8443"; a
// trailing /api/v1 is accepted) that authenticates with token.
// tlsConfig says how to verify the server (pki.ClientTLSConfig with the
// server's CA); nil verifies it against the system's roots.
func New(baseURL, token string, tlsConfig *tls.Config) (*Client, error) {
	u, err := url.Parse(strings.TrimSpace(baseURL))
	if err != nil {
		return nil, fmt.Errorf("server URL %q: %w", baseURL, err)
	}
	switch {
	case u.Scheme == "http":
		return nil, fmt.Errorf("server URL %q: the server speaks HTTPS only (a token sent over HTTP is a token given away): use https://", baseURL)
	case u.Scheme != "https" || u.Host == "":
		return nil, fmt.Errorf("server URL %q: want https://HOST[:PORT]", baseURL)
	case u.User != nil || u.RawQuery != "" || u.Fragment != "":
		return nil, fmt.Errorf("server URL %q: want https://HOST[:PORT], without credentials, query or fragment", baseURL)
	}
	u.Path = strings.TrimSuffix(strings.TrimSuffix(u.Path, "/"), apiPrefix)
	u.RawPath = ""
	if token == "" {
		return nil, errors.New("no API token")
	}
	if strings.ContainsAny(token, " \t\r\n") {
		return nil, errors.New("the API token holds white space")
	}
	if tlsConfig == nil {
		tlsConfig = pki.ClientTLSConfig(nil)
	} else {
		tlsConfig = tlsConfig.Clone()
	}
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:       tlsConfig,
		TLSHandshakeTimeout:   30 * time.Second,
		ResponseHeaderTimeout: 5 * time.Minute,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConnsPerHost:   4,
		ForceAttemptHTTP2:     true,
	}
	return &Client{base: u, token: token, http: &http.Client{
		Transport: tr,
		// A redirect could take the token to another host: refuse it.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}, nil
}

// Close releases the client's idle connections.
func (c *Client) Close() { c.http.CloseIdleConnections() }

// APIError is an answer of the server other than success: its status
// and its problem document (RFC 9457).
type APIError struct {
	Status int
	Title  string
	Detail string
	// Errors are the details of a validation failure: where, and what.
	Errors []ErrorDetail
}

// ErrorDetail is one detail of a problem: what is wrong, and where
// ("body.name").
type ErrorDetail struct {
	Message  string `json:"message,omitempty"`
	Location string `json:"location,omitempty"`
}

func (e *APIError) Error() string {
	msg := e.Detail
	if msg == "" {
		msg = e.Title
	}
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	var details []string
	for _, d := range e.Errors {
		switch {
		case d.Location != "" && d.Message != "":
			details = append(details, d.Location+": "+d.Message)
		case d.Message != "":
			details = append(details, d.Message)
		}
	}
	if len(details) > 0 {
		msg += " (" + strings.Join(details, "; ") + ")"
	}
	return fmt.Sprintf("HTTP %d: %s", e.Status, msg)
}

// StatusOf returns the HTTP status of an *APIError in err's chain, or 0.
func StatusOf(err error) int {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Status
	}
	return 0
}

// do sends a request to path (under /api/v1, its ids escaped with id)
// with query q and a JSON body (nil for none), and returns the answer
// when it is a success. The caller closes its body.
func (c *Client) do(ctx context.Context, method, path string, q url.Values, body any) (*http.Response, error) {
	u := *c.base
	u.RawPath = c.base.EscapedPath() + apiPrefix + path
	p, err := url.PathUnescape(u.RawPath)
	if err != nil {
		return nil, err
	}
	u.Path = p
	if len(q) > 0 {
		u.RawQuery = q.Encode()
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json, application/problem+json")
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("User-Agent", "kensa/"+buildinfo.Get().Version)
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, apiPrefix+path, unwrapURL(err))
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp, nil
	}
	defer resp.Body.Close()
	return nil, problem(resp)
}

// unwrapURL drops the *url.Error wrapper, whose message repeats the URL
// (and, with it, nothing the caller does not know).
func unwrapURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// problem reads an error answer: a problem document, or whatever else
// answered (a proxy's page), cut short.
func problem(resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxProblemBytes))
	e := &APIError{Status: resp.StatusCode}
	var doc struct {
		Title  string         `json:"title"`
		Detail string         `json:"detail"`
		Errors []*ErrorDetail `json:"errors"`
	}
	if json.Unmarshal(b, &doc) == nil && (doc.Title != "" || doc.Detail != "") {
		e.Title, e.Detail = doc.Title, doc.Detail
		for _, d := range doc.Errors {
			if d != nil {
				e.Errors = append(e.Errors, *d)
			}
		}
		return e
	}
	e.Title = http.StatusText(resp.StatusCode)
	if text := strings.TrimSpace(string(b)); text != "" {
		e.Detail = "not a problem document: " + clip(text, 200)
	}
	return e
}

// clip shortens s to n bytes at most, on a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }

// call sends a request and decodes the JSON answer into out (nil to
// discard it).
func (c *Client) call(ctx context.Context, method, path string, q url.Values, body, out any) error {
	resp, err := c.do(ctx, method, path, q, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := readLimited(resp.Body, maxDocumentBytes)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, apiPrefix+path, err)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("%s %s: the answer is not the JSON expected: %w", method, apiPrefix+path, err)
	}
	return nil
}

// readLimited reads at most limit bytes, and fails beyond.
func readLimited(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("answer larger than %d bytes", limit)
	}
	return b, nil
}

// id escapes an object id for a path.
func id(s string) string { return url.PathEscape(s) }

// Health asks the server whether it is up (it needs no token) and
// returns its version.
func (c *Client) Health(ctx context.Context) (string, error) {
	var out struct {
		Status  string `json:"status"`
		Version string `json:"version"`
	}
	if err := c.call(ctx, http.MethodGet, "/health", nil, nil, &out); err != nil {
		return "", err
	}
	return out.Version, nil
}
