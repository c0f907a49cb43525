package domain

import (
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
)

func TestInboundAndOutgoingFromTelegram(t *testing.T) {
	in := func(id int64) InboundReceived { return InboundReceived{TelegramMessageID: id, Text: "hi", At: now} }
	planned := OutboundPlanned{RandomID: 9, Text: "Hello from Acme", By: ActorAI}
	runDialogCases(t, []dialogCase{
		{name: "a new inbound message is recorded", given: []Event{started, in(3)},
			when: RecordInbound{TelegramMessageID: 4, Text: "more", At: now},
			then: []Event{InboundReceived{TelegramMessageID: 4, Text: "more", At: now}}},
		{name: "a message delivered again after a reconnect is recorded once", given: []Event{started, in(3), in(4)},
			when: RecordInbound{TelegramMessageID: 3, Text: "hi", At: now}},
		{name: "an outgoing message salesbot sent is not news", given: []Event{started, planned, OutboundSent{RandomID: 9, TelegramMessageID: 5}},
			when: RecordOutgoing{TelegramMessageID: 5, Text: "Hello from Acme", At: now}},
		{name: "an outgoing message in flight (sent, not yet recorded) is ours", given: []Event{started, planned},
			when: RecordOutgoing{TelegramMessageID: 5, Text: "Hello from Acme", At: now}},
		{name: "a message typed in the app takes the dialog over", given: []Event{started, planned},
			when: RecordOutgoing{TelegramMessageID: 6, Text: "Hi, Maria from Acme here", At: now},
			then: []Event{OutboundObserved{TelegramMessageID: 6, Text: "Hi, Maria from Acme here", At: now}, DialogTakenOver{By: "telegram-app"}}},
		{name: "in a taken-over dialog the manager's messages are recorded", given: []Event{started, DialogTakenOver{By: "admin:1"}},
			when: RecordOutgoing{TelegramMessageID: 6, Text: "ok", At: now},
			then: []Event{OutboundObserved{TelegramMessageID: 6, Text: "ok", At: now}}},
		{name: "a closed dialog records the manager's message without a takeover", given: at(StageClosed),
			when: RecordOutgoing{TelegramMessageID: 6, Text: "ok", At: now},
			then: []Event{OutboundObserved{TelegramMessageID: 6, Text: "ok", At: now}}},
		{name: "a manager's message delivered again is recorded once", given: []Event{started, OutboundObserved{TelegramMessageID: 6, Text: "ok", At: now}, DialogTakenOver{By: "telegram-app"}, DialogReleased{By: "admin:1", To: StageQualification}},
			when: RecordOutgoing{TelegramMessageID: 6, Text: "ok", At: now}},
		{name: "unreachable closes the dialog with the reason", given: []Event{started},
			when: MarkUnreachable{Reason: "USER_IS_BLOCKED"},
			then: []Event{DialogClosed{Outcome: OutcomeUnreachable, By: "telegram", Reason: "USER_IS_BLOCKED"}}},
		{name: "unreachable on a closed dialog changes nothing", given: at(StageClosed),
			when: MarkUnreachable{Reason: "USER_IS_BLOCKED"}},
		{name: "the AI may not plan in a taken-over dialog", given: []Event{started, OutboundObserved{TelegramMessageID: 6, Text: "x", At: now}, DialogTakenOver{By: "telegram-app"}},
			when: PlanOutbound{RandomID: 1, Text: "x", By: ActorAI, Contact: okContact}, err: EFORBIDDEN},
	})
}

func TestContactUnreachable(t *testing.T) {
	added := ContactAdded{ContactID: contactID, Source: SourceImport, Basis: BasisConsent, Username: "lead"}
	for _, c := range []struct {
		name  string
		given []Event
		when  ContactCommand
		then  []Event
		err   Code
	}{
		{"records the reason", []Event{added}, MarkContactUnreachable{Reason: "USER_PRIVACY_RESTRICTED"}, []Event{ContactUnreachable{Reason: "USER_PRIVACY_RESTRICTED", At: now}}, ""},
		{"once", []Event{added, ContactUnreachable{Reason: "USER_IS_BLOCKED", At: now}}, MarkContactUnreachable{Reason: "USER_PRIVACY_RESTRICTED"}, nil, ""},
		{"needs a reason", []Event{added}, MarkContactUnreachable{}, nil, EINVALID},
		{"needs a contact", nil, MarkContactUnreachable{Reason: "x"}, nil, EINVALID},
		{"a username resolves to a user", []Event{added}, SetTelegramUser{UserID: 42}, []Event{ContactTelegramUserSet{UserID: 42}}, ""},
		{"the same user again changes nothing", []Event{added, ContactTelegramUserSet{UserID: 42}}, SetTelegramUser{UserID: 42}, nil, ""},
		{"a contact is one person", []Event{added, ContactTelegramUserSet{UserID: 42}}, SetTelegramUser{UserID: 43}, nil, ESTATE},
		{"a user id is positive", []Event{added}, SetTelegramUser{UserID: 0}, nil, EINVALID},
	} {
		t.Run(c.name, func(t *testing.T) {
			var s Contact
			for _, e := range c.given {
				s = EvolveContact(s, e)
			}
			got, err := DecideContact(s, c.when, now)
			if ErrorCode(err) != c.err || len(got) != len(c.then) || (len(got) == 1 && got[0] != c.then[0]) {
				t.Fatalf("got %v %v, want %v %q", got, err, c.then, c.err)
			}
		})
	}
	var s Contact
	for _, e := range []Event{added, ContactUnreachable{Reason: "USER_IS_BLOCKED", At: now}} {
		s = EvolveContact(s, e)
	}
	if ErrorCode(s.Contactable()) != EFORBIDDEN {
		t.Fatalf("an unreachable contact is contactable: %v", s.Contactable())
	}
}

func TestPickAccount(t *testing.T) {
	limits := Limits{DailyNewDialogs: 2, TimeZone: "UTC", StartMinute: 9 * 60, EndMinute: 18 * 60}
	acc := func(n byte, label string, mods ...func(*Account)) Account {
		a := Account{ID: uuid.UUID{15: n}, Exists: true, Label: label, Status: StatusActive, Limits: limits, RegisteredAt: now.AddDate(0, -1, 0)}
		for _, m := range mods {
			m(&a)
		}
		return a
	}
	full := func(a *Account) { a.DialogDay, a.DialogsToday = "2026-11-25", 2 }
	one := func(a *Account) { a.DialogDay, a.DialogsToday = "2026-11-25", 1 }
	for _, c := range []struct {
		name  string
		cands []Candidate
		at    time.Time
		want  byte
		err   Code
		retry time.Time
	}{
		{name: "least loaded wins", cands: []Candidate{{Account: acc(1, "a"), Open: 5}, {Account: acc(2, "b"), Open: 2}, {Account: acc(3, "c"), Open: 3}}, at: now, want: 2},
		{name: "ties go to fewer dialogs today", cands: []Candidate{{Account: acc(1, "a", one), Open: 1}, {Account: acc(2, "b"), Open: 1}}, at: now, want: 2},
		{name: "an account at its cap is skipped", cands: []Candidate{{Account: acc(1, "a", full)}, {Account: acc(2, "b"), Open: 9}}, at: now, want: 2},
		{name: "a restricted account is skipped, its share not moved past caps",
			cands: []Candidate{{Account: acc(1, "a", func(a *Account) { a.Restricted = true })}, {Account: acc(2, "b", full)}}, at: now, err: ELIMIT,
			retry: time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)},
		{name: "offline, paused and lost accounts are skipped",
			cands: []Candidate{{Account: acc(1, "a", func(a *Account) { a.Status = StatusOffline })}, {Account: acc(2, "b", func(a *Account) { a.Paused = true })},
				{Account: acc(3, "c", func(a *Account) { a.Lost = true })}}, at: now, err: ESTATE},
		{name: "outside working hours: wait for the opening", cands: []Candidate{{Account: acc(1, "a")}}, at: now.Add(-3 * time.Hour), err: ELIMIT,
			retry: time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)},
		{name: "a flood wait ends when Telegram said", cands: []Candidate{{Account: acc(1, "a", func(a *Account) { a.FloodUntil = now.Add(time.Minute) })}}, at: now, err: ELIMIT, retry: now.Add(time.Minute)},
		{name: "no accounts", at: now, err: ESTATE},
	} {
		t.Run(c.name, func(t *testing.T) {
			id, err := PickAccount(c.cands, c.at)
			if ErrorCode(err) != c.err {
				t.Fatalf("error %v, want code %q", err, c.err)
			}
			if c.err != "" {
				var e *Error
				if !errors.As(err, &e) || !e.RetryAt.Equal(c.retry) {
					t.Fatalf("retry at %v, want %v", err, c.retry)
				}
				// Accounts that cannot open one now are ErrNoAccount
				// (Start waits for them); no accounts at all are not.
				if noAccounts := len(c.cands) == 0; errors.Is(err, ErrNoAccount) == noAccounts {
					t.Fatalf("errors.Is(%v, ErrNoAccount) = %v with %d candidates", err, !noAccounts, len(c.cands))
				}
				return
			}
			if id != (uuid.UUID{15: c.want}) {
				t.Fatalf("picked %v, want account %d", id, c.want)
			}
		})
	}
}

// A restricted account may answer in open dialogs but may not send the
// opening of a new one.
func TestRestrictedAccountSendsNoOpenings(t *testing.T) {
	a := Account{ID: accountID, Exists: true, Label: "a", Status: StatusActive, Restricted: true, Limits: Limits{TimeZone: "UTC", StartMinute: 0, EndMinute: 24 * 60}}
	if _, err := DecideAccount(a, ReserveMessage{DialogID: dialogID, RandomID: 1}, now); err != nil {
		t.Fatalf("a reply was refused: %v", err)
	}
	if _, err := DecideAccount(a, ReserveMessage{DialogID: dialogID, RandomID: 2, Opening: true}, now); ErrorCode(err) != ESTATE {
		t.Fatalf("an opening on a restricted account: %v", err)
	}
}
