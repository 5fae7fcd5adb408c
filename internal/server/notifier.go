package server

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/kensa-dev/kensa/internal/buildinfo"
	"github.com/kensa-dev/kensa/internal/store"
)

// Webhook headers.
const (
	// HeaderSignature is "sha256=" and the hex HMAC-SHA256 of the body,
	// keyed by the server's webhook key.
	HeaderSignature = "X-Kensa-Signature"
	HeaderEvent     = "X-Kensa-Event"
	HeaderDelivery  = "X-Kensa-Delivery"
)

// Webhook sending limits.
const (
	// WebhookTimeout bounds one attempt, from connecting to the end of
	// the answer's headers.
	WebhookTimeout = 10 * time.Second
	// webhookAnswerBytes is what is read of an answer's body (for the
	// error recorded when it is not 2xx); the rest is never read.
	webhookAnswerBytes = 4 << 10
	// GiveUpAfter is how long a delivery is retried after its event.
	GiveUpAfter = 24 * time.Hour
)

// NotifierConfig is what a Notifier needs.
type NotifierConfig struct {
	Store store.Store
	// Key signs every body (LoadOrCreateWebhookKey).
	Key []byte
	Now func() time.Time
	Log *slog.Logger
	// Client sends the webhooks; nil is WebhookClient().
	Client *http.Client
	// Backoff is the wait after a delivery's attempts-th failed attempt
	// before the next; nil is DefaultBackoff.
	Backoff func(attempts int) time.Duration
	// GiveUpAfter is how long after its event a delivery is retried;
	// 0 is 24 h.
	GiveUpAfter time.Duration
	// Lease is how long a delivery being sent is this notifier's alone
	// (another notifier on the same database sends it after, if this one
	// died); 0 is a minute, well over WebhookTimeout.
	Lease time.Duration
	// Workers bounds the deliveries sent at once; 0 is 8.
	Workers int
}

// Notifier sends the webhook deliveries the engine records: each POSTed
// with its signature, in its run's order to each URL, retried with a
// capped backoff on network errors, 5xx, 408 and 429 for up to 24 h, given
// up on any other answer; every attempt is recorded. Several servers on
// one database share the work: a delivery is claimed before it is sent.
// Delivery is at least once: a server that dies after sending and before
// recording sends again, with the same X-Kensa-Delivery.
type Notifier struct {
	cfg  NotifierConfig
	poke chan struct{}
	sem  chan struct{}
	wg   sync.WaitGroup
}

// NewNotifier makes a notifier.
func NewNotifier(cfg NotifierConfig) *Notifier {
	if cfg.Client == nil {
		cfg.Client = WebhookClient()
	}
	if cfg.Backoff == nil {
		cfg.Backoff = DefaultBackoff
	}
	if cfg.GiveUpAfter <= 0 {
		cfg.GiveUpAfter = GiveUpAfter
	}
	if cfg.Lease <= 0 {
		cfg.Lease = time.Minute
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 8
	}
	return &Notifier{cfg: cfg, poke: make(chan struct{}, 1), sem: make(chan struct{}, cfg.Workers)}
}

// WebhookClient is the HTTP client webhooks are sent with: 10 s for an
// attempt, redirects not followed (a receiver that moved says so, and
// the delivery fails), proxies from the environment.
func WebhookClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.ResponseHeaderTimeout = WebhookTimeout
	tr.MaxResponseHeaderBytes = 64 << 10
	return &http.Client{
		Transport:     tr,
		Timeout:       WebhookTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// DefaultBackoff waits 10 s after the first failed attempt, doubling up
// to 30 minutes, each wait give or take a fifth.
func DefaultBackoff(attempts int) time.Duration {
	d := 10 * time.Second
	for i := 1; i < attempts && d < 30*time.Minute; i++ {
		d *= 2
	}
	d = min(d, 30*time.Minute)
	return d - d/5 + rand.N(2*d/5+1)
}

// Poke asks the notifier to look for deliveries now.
func (n *Notifier) Poke() {
	select {
	case n.poke <- struct{}{}:
	default:
	}
}

// Run sends deliveries every tick, and when poked, until ctx ends; then
// it waits for the sends in flight (each bounded by WebhookTimeout).
func (n *Notifier) Run(ctx context.Context, tick time.Duration) {
	t := time.NewTicker(tick)
	defer t.Stop()
	defer n.wg.Wait()
	for {
		if _, _, err := n.dispatch(ctx); err != nil && ctx.Err() == nil {
			n.cfg.Log.Error("webhooks", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-n.poke:
		}
	}
}

// SendDue sends the deliveries due now, at most one per run and URL,
// and waits for them; it returns how many it sent. Run does the same
// without waiting.
func (n *Notifier) SendDue(ctx context.Context) (int, error) {
	round, sent, err := n.dispatch(ctx)
	round.Wait()
	return sent, err
}

// dispatch claims the due deliveries it has workers for and starts
// sending them; round ends when they are sent.
func (n *Notifier) dispatch(ctx context.Context) (*sync.WaitGroup, int, error) {
	round := &sync.WaitGroup{}
	due, err := n.cfg.Store.DueDeliveries(ctx, n.cfg.Now(), 100)
	if err != nil {
		return round, 0, err
	}
	sent := 0
	for _, d := range due {
		select {
		case n.sem <- struct{}{}:
		default:
			return round, sent, nil // every worker busy: each pokes when done
		}
		now := n.cfg.Now()
		if err := n.cfg.Store.ClaimDelivery(ctx, d.ID, now, now.Add(n.cfg.Lease)); err != nil {
			<-n.sem
			if errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) {
				continue // another notifier has it
			}
			return round, sent, err
		}
		sent++
		round.Add(1)
		n.wg.Add(1)
		go func() {
			defer n.wg.Done()
			defer round.Done()
			n.send(ctx, d)
			<-n.sem
			n.Poke() // the next of its queue may be due
		}()
	}
	return round, sent, nil
}

// Sign is the X-Kensa-Signature of body under key.
func Sign(key, body []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// send makes one attempt at a claimed delivery and records it.
func (n *Notifier) send(ctx context.Context, d store.Delivery) {
	status, errMsg, retry := n.post(ctx, d)
	if ctx.Err() != nil {
		return // stopping: the claim lapses and the delivery is sent again
	}
	now := n.cfg.Now()
	a := store.DeliveryAttempt{At: now, HTTPStatus: status, Error: errMsg}
	switch {
	case errMsg == "":
		a.Status = store.DeliveryDelivered
	case !retry:
		a.Status = store.DeliveryFailed
	case now.Sub(d.Created) >= n.cfg.GiveUpAfter:
		a.Status = store.DeliveryFailed
		a.Error += fmt.Sprintf("; given up: not delivered within %s of the event", n.cfg.GiveUpAfter)
	default:
		a.Status, a.Next = store.DeliveryPending, now.Add(n.cfg.Backoff(d.Attempts+1))
	}
	if err := n.cfg.Store.RecordAttempt(ctx, d.ID, a); err != nil {
		n.cfg.Log.Error("webhook: recording an attempt", "delivery", d.ID, "err", err)
		return
	}
	log := n.cfg.Log.Info
	if a.Status != store.DeliveryDelivered {
		log = n.cfg.Log.Warn
	}
	log("webhook", "delivery", d.ID, "run", d.RunID, "event", d.Event, "status", a.Status, "http", status, "error", a.Error, "attempt", d.Attempts+1)
}

// post sends a delivery once: the answer's status, and what went wrong
// with whether it is worth trying again (a network error, 5xx, 408, 429)
// or not (any other answer but 2xx).
func (n *Notifier) post(ctx context.Context, d store.Delivery) (status int, errMsg string, retry bool) {
	ctx, cancel := context.WithTimeout(ctx, WebhookTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.URL, bytes.NewReader(d.Body))
	if err != nil {
		return 0, "bad URL: " + err.Error(), false
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "kensa/"+buildinfo.Get().Version)
	req.Header.Set(HeaderSignature, Sign(n.cfg.Key, d.Body))
	req.Header.Set(HeaderEvent, string(d.Event))
	req.Header.Set(HeaderDelivery, d.ID)
	resp, err := n.cfg.Client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is the subscription's, shown already
		}
		return 0, clean(err.Error()), true
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, webhookAnswerBytes))
	code := resp.StatusCode
	msg := "HTTP " + resp.Status
	if s := clean(string(answer)); s != "" {
		msg += ": " + s
	}
	switch {
	case code >= 200 && code < 300:
		return code, "", false
	case code >= 300 && code < 400:
		return code, msg + " (redirects are not followed: subscribe the new URL)", false
	case code >= 500, code == http.StatusRequestTimeout, code == http.StatusTooManyRequests:
		return code, msg, true
	}
	return code, msg + " (refused: not retried)", false
}

// clean makes a receiver's words fit for a record: valid UTF-8 on one
// line without control characters, at most 200 bytes.
func clean(s string) string {
	s = strings.ToValidUTF8(s, "?")
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 200 {
		cut := 200
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}
