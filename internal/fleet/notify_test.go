package fleet

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// Webhook URLs: https anywhere, http to loopback only, never credentials.
func TestCheckWebhookURL(t *testing.T) {
	for _, ok := range []string{
		"https://hooks.example.com/kensa",
		"https://hooks.example.com:8443/kensa?team=sec",
		"HTTPS://hooks.example.com",
		"http://127.0.0.1:9000/hook",
		"http://127.8.9.10/hook",
		"http://localhost:9000/hook",
		"http://[::1]:9000/hook",
	} {
		if err := CheckWebhookURL(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, tt := range []struct{ url, want string }{
		{"", "no URL"},
		{"http://hooks.example.com/kensa", "loopback"},
		{"http://192.0.2.1/kensa", "loopback"},
		{"http://localhost.example.com/", "loopback"},
		{"https://user:secret@hooks.example.com/", "credentials"},
		{"https://token@hooks.example.com/", "credentials"},
		{"ftp://hooks.example.com/", "scheme"},
		{"hooks.example.com/kensa", "want https://"},
		{"https:///kensa", "want https://"},
		{"mailto:sec@example.com", "want https://"},
		{"https://hooks.example.com/a b", "space"},
		{"https://hooks.example.com/\x1b[31m", "control"},
		{"https://hooks.example.com/#frag", "fragment"},
		{"https://hooks.example.com/" + strings.Repeat("a", 2048), "longer"},
	} {
		err := CheckWebhookURL(tt.url)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: %v, want an error about %q", tt.url, err, tt.want)
		}
		if err != nil && strings.Contains(err.Error(), "secret") {
			t.Errorf("%q: the error shows the password: %v", tt.url, err)
		}
	}
}

func TestParseSubscription(t *testing.T) {
	s, err := ParseSubscription("run_completed=https://hooks.example.com/a=b")
	if err != nil || s != (Subscription{Event: EventRunCompleted, URL: "https://hooks.example.com/a=b"}) {
		t.Errorf("parse: %+v %v", s, err)
	}
	for _, bad := range []string{"RUN_COMPLETED", "RUN_DONE=https://hooks.example.com/", "RUN_FAILED=http://hooks.example.com/"} {
		if _, err := ParseSubscription(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// A template's subscriptions are checked with it: at most 16, each
// valid, none twice.
func TestTemplateSubscriptions(t *testing.T) {
	tpl := Template{Name: "nightly", TargetID: "tgt-1", Packages: []string{"cve"}, Duration: 20 * time.Second}
	for _, e := range Events() {
		tpl.Subscriptions = append(tpl.Subscriptions, Subscription{Event: e, URL: "https://hooks.example.com/" + string(e)})
	}
	if err := tpl.Check(); err != nil {
		t.Fatalf("five subscriptions: %v", err)
	}
	dup := tpl
	dup.Subscriptions = append(dup.Subscriptions[:len(dup.Subscriptions):len(dup.Subscriptions)], dup.Subscriptions[0])
	if err := dup.Check(); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Errorf("a subscription twice: %v", err)
	}
	many := tpl
	many.Subscriptions = nil
	for i := range MaxSubscriptions + 1 {
		many.Subscriptions = append(many.Subscriptions, Subscription{Event: EventRunCompleted, URL: fmt.Sprintf("https://hooks.example.com/%d", i)})
	}
	if err := many.Check(); err == nil || !strings.Contains(err.Error(), "at most 16") {
		t.Errorf("17 subscriptions: %v", err)
	}
	many.Subscriptions = many.Subscriptions[:MaxSubscriptions]
	if err := many.Check(); err != nil {
		t.Errorf("16 subscriptions: %v", err)
	}
	bad := tpl
	bad.Subscriptions = []Subscription{{Event: "RUN_DONE", URL: "https://hooks.example.com/"}}
	if err := bad.Check(); err == nil || !strings.Contains(err.Error(), "unknown event") {
		t.Errorf("an unknown event: %v", err)
	}
	bad.Subscriptions = []Subscription{{Event: EventRunFailed, URL: "http://hooks.example.com/"}}
	if err := bad.Check(); err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Errorf("plain http to another host: %v", err)
	}
}

// Every transition raises RUN_STATE_CHANGED, then what it means.
func TestTransitionEvents(t *testing.T) {
	for _, tt := range []struct {
		to   RunState
		want []Event
	}{
		{RunStartDataCollectionPending, []Event{EventRunStateChanged, EventRunStarted}},
		{RunCollectingData, []Event{EventRunStateChanged}},
		{RunEvaluatingRules, []Event{EventRunStateChanged}},
		{RunCompleted, []Event{EventRunStateChanged, EventFindingReported, EventRunCompleted}},
		{RunCompletedWithErrors, []Event{EventRunStateChanged, EventFindingReported, EventRunCompleted}},
		{RunFailed, []Event{EventRunStateChanged, EventRunFailed}},
		{RunCanceled, []Event{EventRunStateChanged, EventRunFailed}},
	} {
		if diff := cmp.Diff(tt.want, TransitionEvents(Transition{To: tt.to})); diff != "" {
			t.Errorf("→ %s (-want +got):\n%s", tt.to, diff)
		}
	}
	for _, e := range Events() {
		if !e.Valid() {
			t.Errorf("%s not valid", e)
		}
	}
}
