package fleet

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
)

// Event is what a template's subscriber is told about a run, as
// Inspector Classic published its runs' events to SNS topics.
type Event string

// The events of a run.
const (
	// EventRunStarted: data collection was asked of the agents (the run
	// became START_DATA_COLLECTION_PENDING).
	EventRunStarted Event = "RUN_STARTED"
	// EventRunCompleted: the run ended COMPLETED or COMPLETED_WITH_ERRORS.
	EventRunCompleted Event = "RUN_COMPLETED"
	// EventRunFailed: the run ended FAILED or CANCELED.
	EventRunFailed Event = "RUN_FAILED"
	// EventRunStateChanged: any transition of the run.
	EventRunStateChanged Event = "RUN_STATE_CHANGED"
	// EventFindingReported: the run's findings were evaluated; sent once
	// per run, with counts by severity, not once per finding.
	EventFindingReported Event = "FINDING_REPORTED"
)

// Events lists every event.
func Events() []Event {
	return []Event{EventRunStarted, EventRunCompleted, EventRunFailed, EventRunStateChanged, EventFindingReported}
}

// Valid reports whether e is a known event.
func (e Event) Valid() bool { return slices.Contains(Events(), e) }

// TransitionEvents lists the events a transition raises, in the order
// they are delivered: RUN_STATE_CHANGED first, then what the new state
// means (FINDING_REPORTED before RUN_COMPLETED).
func TransitionEvents(tr Transition) []Event {
	out := []Event{EventRunStateChanged}
	switch tr.To {
	case RunStartDataCollectionPending:
		out = append(out, EventRunStarted)
	case RunCompleted, RunCompletedWithErrors:
		out = append(out, EventFindingReported, EventRunCompleted)
	case RunFailed, RunCanceled:
		out = append(out, EventRunFailed)
	}
	return out
}

// Subscription asks for a webhook: an HTTPS POST to URL of each event
// of the template's runs.
type Subscription struct {
	Event Event  `json:"event" enum:"RUN_STARTED,RUN_COMPLETED,RUN_FAILED,RUN_STATE_CHANGED,FINDING_REPORTED"`
	URL   string `json:"url" maxLength:"2048" doc:"https://, or http:// to a loopback address; no credentials"`
}

// MaxSubscriptions bounds a template's subscriptions.
const MaxSubscriptions = 16

// maxWebhookURL bounds a webhook URL, in bytes.
const maxWebhookURL = 2048

// ParseSubscription reads "EVENT=URL" (the event's case does not
// matter) and checks it.
func ParseSubscription(s string) (Subscription, error) {
	ev, u, ok := strings.Cut(s, "=")
	if !ok {
		return Subscription{}, fmt.Errorf("subscription %q: want EVENT=URL", s)
	}
	sub := Subscription{Event: Event(strings.ToUpper(strings.TrimSpace(ev))), URL: u}
	return sub, sub.Check()
}

// Check validates a subscription: a known event and a webhook URL
// (CheckWebhookURL).
func (s Subscription) Check() error {
	if !s.Event.Valid() {
		names := make([]string, 0, len(Events()))
		for _, e := range Events() {
			names = append(names, string(e))
		}
		return fmt.Errorf("subscription: unknown event %q (want %s)", s.Event, strings.Join(names, ", "))
	}
	if err := CheckWebhookURL(s.URL); err != nil {
		return fmt.Errorf("subscription %s: %w", s.Event, err)
	}
	return nil
}

// CheckWebhookURL accepts an absolute https:// URL with a host, and no
// user name or password in it (a receiver authenticates Kensa by the
// signature). http:// is accepted only to a loopback address
// (localhost, 127.0.0.0/8, ::1): a local relay, or a test; anything
// else would carry run events in clear.
func CheckWebhookURL(raw string) error {
	switch {
	case raw == "":
		return errors.New("no URL")
	case len(raw) > maxWebhookURL:
		return fmt.Errorf("URL longer than %d bytes", maxWebhookURL)
	case strings.ContainsFunc(raw, func(r rune) bool { return r <= 0x20 || r == 0x7f }):
		return errors.New("URL holds a space or a control character")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("URL: %v", err)
	}
	if u.User != nil {
		return errors.New("URL holds credentials (user:password@): receivers verify the X-Kensa-Signature header instead")
	}
	if u.Opaque != "" || u.Host == "" || u.Hostname() == "" {
		return fmt.Errorf("URL %q: want https://HOST/PATH", redactURL(u))
	}
	if u.Fragment != "" {
		return errors.New("URL has a fragment (#...), which is never sent")
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return nil
	case "http":
		if loopback(u.Hostname()) {
			return nil
		}
		return errors.New("http:// is accepted only to a loopback address (localhost, 127.0.0.1, ::1): use https://")
	}
	return fmt.Errorf("URL scheme %q: want https://", u.Scheme)
}

func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// redactURL is u for a message: scheme, host and path only.
func redactURL(u *url.URL) string {
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
}

// checkSubscriptions validates a template's subscriptions: at most
// MaxSubscriptions, each valid, none twice.
func checkSubscriptions(subs []Subscription) error {
	if len(subs) > MaxSubscriptions {
		return fmt.Errorf("%d subscriptions: at most %d", len(subs), MaxSubscriptions)
	}
	seen := map[Subscription]bool{}
	for _, s := range subs {
		if err := s.Check(); err != nil {
			return err
		}
		if seen[s] {
			return fmt.Errorf("subscription %s to %s given twice", s.Event, s.URL)
		}
		seen[s] = true
	}
	return nil
}
