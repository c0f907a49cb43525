package domain

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

var (
	hookA, hookB = uuid.MustParse("0193a0c0-0000-7000-8000-0000000000a1"), uuid.MustParse("0193a0c0-0000-7000-8000-0000000000a2")
	subscribedA  = WebhookSubscribed{WebhookID: hookA, URL: "https://crm.example.com/hook?token=x", Events: []WebhookEvent{WebhookDialogHandoff}, By: "cli", At: now.Add(-time.Hour)}
	removedA     = WebhookRemoved{WebhookID: hookA, By: "cli", At: now.Add(-time.Minute)}
	disabledA    = WebhookDisabled{WebhookID: hookA, Reason: "HTTP 503", Position: 42, Since: now.Add(-25 * time.Hour), At: now.Add(-time.Minute)}
	subscribeA   = SubscribeWebhook{WebhookID: hookA, URL: "https://crm.example.com/hook?token=x", Events: []WebhookEvent{WebhookDialogHandoff, WebhookMessageReceived, WebhookDialogHandoff}, Personal: true, By: "token:sb_x"}
)

type webhookCase struct {
	name  string
	given []Event
	when  WebhookCommand
	then  []Event
	err   Code
	field string
	is    error
}

func TestWebhooks(t *testing.T) {
	for _, c := range []webhookCase{
		// Subscribing.
		{name: "subscribe: duplicates count once", when: subscribeA,
			then: []Event{WebhookSubscribed{WebhookID: hookA, URL: subscribeA.URL, Events: []WebhookEvent{WebhookDialogHandoff, WebhookMessageReceived}, Personal: true, By: "token:sb_x", At: now}}},
		{name: "subscribe over http", when: SubscribeWebhook{WebhookID: hookA, URL: "http://10.0.0.1:8080", Events: []WebhookEvent{WebhookAccountStatus}, By: "cli"},
			then: []Event{WebhookSubscribed{WebhookID: hookA, URL: "http://10.0.0.1:8080", Events: []WebhookEvent{WebhookAccountStatus}, By: "cli", At: now}}},
		{name: "an unknown event", when: SubscribeWebhook{WebhookID: hookA, URL: "https://x.example", Events: []WebhookEvent{"dialog.handed_off"}}, err: EINVALID, field: "events", is: ErrUnknownWebhookEvent},
		{name: "no events", when: SubscribeWebhook{WebhookID: hookA, URL: "https://x.example"}, err: EINVALID, field: "events"},
		{name: "a relative URL", when: SubscribeWebhook{WebhookID: hookA, URL: "/hook", Events: []WebhookEvent{WebhookDialogHandoff}}, err: EINVALID, field: "url", is: ErrWebhookURL},
		{name: "an ftp URL", when: SubscribeWebhook{WebhookID: hookA, URL: "ftp://x.example/", Events: []WebhookEvent{WebhookDialogHandoff}}, err: EINVALID, field: "url", is: ErrWebhookURL},
		{name: "no host", when: SubscribeWebhook{WebhookID: hookA, URL: "https:///hook", Events: []WebhookEvent{WebhookDialogHandoff}}, err: EINVALID, field: "url", is: ErrWebhookURL},
		{name: "no id", when: SubscribeWebhook{URL: "https://x.example", Events: []WebhookEvent{WebhookDialogHandoff}}, err: EINVALID},
		{name: "an id twice", given: []Event{subscribedA}, when: subscribeA, err: ESTATE},

		// Removing.
		{name: "remove", given: []Event{subscribedA}, when: RemoveWebhook{WebhookID: hookA, By: "admin:7"}, then: []Event{WebhookRemoved{WebhookID: hookA, By: "admin:7", At: now}}},
		{name: "remove twice", given: []Event{subscribedA, removedA}, when: RemoveWebhook{WebhookID: hookA, By: "cli"}},
		{name: "remove a disabled one", given: []Event{subscribedA, disabledA}, when: RemoveWebhook{WebhookID: hookA, By: "cli"}, then: []Event{WebhookRemoved{WebhookID: hookA, By: "cli", At: now}}},
		{name: "remove an unknown one", given: []Event{subscribedA}, when: RemoveWebhook{WebhookID: hookB}, err: EINVALID, field: "webhook", is: ErrUnknownWebhook},

		// Disabling.
		{name: "disable", given: []Event{subscribedA}, when: DisableWebhook{WebhookID: hookA, Reason: " HTTP 503 ", Position: 42, Since: disabledA.Since},
			then: []Event{WebhookDisabled{WebhookID: hookA, Reason: "HTTP 503", Position: 42, Since: disabledA.Since, At: now}}},
		{name: "disable twice", given: []Event{subscribedA, disabledA}, when: DisableWebhook{WebhookID: hookA, Reason: "again"}},
		{name: "disable a removed one", given: []Event{subscribedA, removedA}, when: DisableWebhook{WebhookID: hookA, Reason: "late"}},
		{name: "disable an unknown one", when: DisableWebhook{WebhookID: hookB}, err: EINVALID, field: "webhook", is: ErrUnknownWebhook},

		// Replaying.
		{name: "replay", given: []Event{subscribedA}, when: ReplayWebhook{WebhookID: hookA, From: 7, By: "cli"}, then: []Event{WebhookReplayRequested{WebhookID: hookA, From: 7, By: "cli", At: now}}},
		{name: "replay a disabled one", given: []Event{subscribedA, disabledA}, when: ReplayWebhook{WebhookID: hookA, From: 42, By: "cli"}, then: []Event{WebhookReplayRequested{WebhookID: hookA, From: 42, By: "cli", At: now}}},
		{name: "replay from 0", given: []Event{subscribedA}, when: ReplayWebhook{WebhookID: hookA}, err: EINVALID, field: "from"},
		{name: "replay a removed one", given: []Event{subscribedA, removedA}, when: ReplayWebhook{WebhookID: hookA, From: 1}, err: ESTATE},
		{name: "replay an unknown one", when: ReplayWebhook{WebhookID: hookB, From: 1}, err: EINVALID, field: "webhook", is: ErrUnknownWebhook},
	} {
		t.Run(c.name, func(t *testing.T) {
			var s Webhooks
			for _, e := range c.given {
				s = EvolveWebhooks(s, e)
			}
			got, err := DecideWebhooks(s, c.when, now)
			if code := ErrorCode(err); code != c.err || ErrorField(err) != c.field {
				t.Fatalf("error %v (code %q, field %q), want code %q, field %q", err, code, ErrorField(err), c.err, c.field)
			}
			if c.is != nil && !errors.Is(err, c.is) {
				t.Fatalf("error %v does not match %v", err, c.is)
			}
			if !reflect.DeepEqual(got, c.then) {
				t.Fatalf("events\n got %#v\nwant %#v", got, c.then)
			}
		})
	}
}

// The subscriptions as their events leave them: removed and disabled
// ones are not active; a replay counts and enables a disabled one again.
func TestEvolveWebhooks(t *testing.T) {
	var s Webhooks
	s = EvolveWebhooks(s, subscribedA)
	s = EvolveWebhooks(s, WebhookSubscribed{WebhookID: hookB, URL: "https://b.example", Events: []WebhookEvent{WebhookAccountStatus}, At: now})
	a, ok := s.Get(hookA)
	if !ok || !a.Active() || !a.Wants(WebhookDialogHandoff) || a.Wants(WebhookAccountStatus) || a.Replays != 0 {
		t.Fatalf("a: %+v %v", a, ok)
	}
	s = EvolveWebhooks(s, disabledA)
	if a, _ := s.Get(hookA); a.Active() || !a.Disabled || a.DisableReason != "HTTP 503" || a.StuckAt != 42 {
		t.Fatalf("disabled: %+v", a)
	}
	s = EvolveWebhooks(s, WebhookReplayRequested{WebhookID: hookA, From: 40, At: now})
	if a, _ := s.Get(hookA); !a.Active() || a.Replays != 1 || a.ReplayFrom != 40 || a.StuckAt != 0 {
		t.Fatalf("replayed: %+v", a)
	}
	s = EvolveWebhooks(s, removedA)
	if a, _ := s.Get(hookA); a.Active() || !a.Removed {
		t.Fatalf("removed: %+v", a)
	}
	if all := s.All(); len(all) != 2 || all[0].ID != hookA || all[1].ID != hookB {
		t.Fatalf("all: %+v", all)
	}
	s = EvolveWebhooks(s, WebhookSubscribed{WebhookID: hookA, URL: "https://other.example", Events: []WebhookEvent{WebhookAccountStatus}})
	if a, _ := s.Get(hookA); a.URL != subscribedA.URL || len(s.All()) != 2 {
		t.Fatalf("a second subscription of an id: %+v", a)
	}
}

func TestParseWebhookEvents(t *testing.T) {
	got, err := ParseWebhookEvents([]string{" Dialog.Handoff", "message.received", "", "dialog.handoff"})
	if err != nil || !reflect.DeepEqual(got, []WebhookEvent{WebhookDialogHandoff, WebhookMessageReceived}) {
		t.Fatalf("got %v, %v", got, err)
	}
	_, err = ParseWebhookEvents([]string{"dialog.handoff", "lead.hot"})
	if !errors.Is(err, ErrUnknownWebhookEvent) || ErrorField(err) != "events" {
		t.Fatalf("unknown: %v", err)
	}
	for _, e := range WebhookEvents() { // the message lists every valid name
		if !strings.Contains(err.Error(), string(e)) || !e.Valid() {
			t.Errorf("%s is not listed in %q", e, err)
		}
	}
	if _, err := ParseWebhookEvents([]string{" ", ""}); ErrorCode(err) != EINVALID || ErrorField(err) != "events" {
		t.Fatalf("none: %v", err)
	}
	if len(WebhookEvents()) != 12 {
		t.Fatalf("%d events", len(WebhookEvents()))
	}
}

func TestCheckWebhookURL(t *testing.T) {
	for _, ok := range []string{"https://crm.example.com/hook?token=abc", "http://127.0.0.1:9000", "https://[::1]:443/x", "HTTPS://X.example", "https://user:pw@x.example/"} {
		if err := CheckWebhookURL(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "x.example", "//x.example", "mailto:a@b", "https://", "https://:80/", "https://x.example/#frag", "https://x.example/a b", "https://[]/", "javascript:alert(1)", "https://" + strings.Repeat("a", MaxWebhookURL)} {
		err := CheckWebhookURL(bad)
		if !errors.Is(err, ErrWebhookURL) || ErrorField(err) != "url" {
			t.Errorf("%q: %v", bad, err)
		}
		if bad != "" && strings.Contains(err.Error(), bad) {
			t.Errorf("the error repeats the URL: %v", err)
		}
	}
	for in, want := range map[string]string{
		"https://crm.example.com:8443/hook?token=abc": "https://crm.example.com:8443",
		"HTTP://user:secret@x.example?k=v":            "http://x.example",
		"not a url":                                   "[webhook url]",
	} {
		if got := WebhookTarget(in); got != want {
			t.Errorf("WebhookTarget(%q) = %q, want %q", in, got, want)
		}
	}
}
