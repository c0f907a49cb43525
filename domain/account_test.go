package domain

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

// Wednesday 2026-11-25, 10:00 UTC; working hours 09:00–19:00 Mon–Fri UTC.
var (
	limits = Limits{
		DailyNewDialogs: 3, MessagesPerMinute: 2, MinDelay: 10 * time.Second,
		TimeZone: "UTC", StartMinute: 9 * 60, EndMinute: 19 * 60,
		Days: []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday},
	}
	registered = AccountRegistered{AccountID: accountID, Label: "sales-1", Limits: limits, At: now.AddDate(0, 0, -30)}
	otherD     = uuid.MustParse("0193a0c0-0000-7000-8000-0000000000aa")
)

type accountCase struct {
	name    string
	given   []Event
	when    AccountCommand
	at      time.Time // zero: now
	then    []Event
	err     Code
	retryAt time.Time
}

func runAccountCases(t *testing.T, cases []accountCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var a Account
			for _, e := range c.given {
				a = EvolveAccount(a, e)
			}
			when := c.at
			if when.IsZero() {
				when = now
			}
			got, err := DecideAccount(a, c.when, when)
			if code := ErrorCode(err); code != c.err {
				t.Fatalf("error %v (code %q), want code %q", err, code, c.err)
			}
			if err != nil {
				if e := err.(*Error); !e.RetryAt.Equal(c.retryAt) {
					t.Fatalf("retry at %v, want %v (%v)", e.RetryAt, c.retryAt, err)
				}
				return
			}
			if !reflect.DeepEqual(got, c.then) {
				t.Fatalf("events\n got %#v\nwant %#v", got, c.then)
			}
		})
	}
}

func reserved(n int, day string, at time.Time) []Event {
	var evs []Event
	for range n {
		evs = append(evs, NewDialogReserved{DialogID: otherD, Day: day, At: at})
	}
	return evs
}

func TestAccountLifecycle(t *testing.T) {
	active := []Event{registered, AccountConnected{}}
	runAccountCases(t, []accountCase{
		{name: "register", when: RegisterAccount{AccountID: accountID, Label: " sales-1 ", Limits: limits}, at: now.AddDate(0, 0, -30), then: []Event{registered}},
		{name: "register twice", given: []Event{registered}, when: RegisterAccount{AccountID: accountID, Label: "x", Limits: limits}, err: ESTATE},
		{name: "register without label", when: RegisterAccount{AccountID: accountID, Limits: limits}, err: EINVALID},
		{name: "register with bad hours", when: RegisterAccount{AccountID: accountID, Label: "x", Limits: Limits{TimeZone: "UTC", StartMinute: 600, EndMinute: 500}}, err: EINVALID},
		{name: "register in an unknown time zone", when: RegisterAccount{AccountID: accountID, Label: "x", Limits: Limits{TimeZone: "Mars/Olympus", EndMinute: 60}}, err: EINVALID},
		{name: "register with a bad weekday", when: RegisterAccount{AccountID: accountID, Label: "x", Limits: Limits{TimeZone: "UTC", EndMinute: 60, Days: []time.Weekday{9}}}, err: EINVALID},
		{name: "command on unknown account", when: PauseAccount{By: "admin:1"}, err: EINVALID},
		{name: "connecting", given: []Event{registered}, when: MarkConnecting{}, then: []Event{AccountConnecting{}}},
		{name: "connecting twice", given: []Event{registered, AccountConnecting{}}, when: MarkConnecting{}},
		{name: "connecting does not hide a restriction", given: append(active, AccountRestricted{Reason: "PEER_FLOOD"}, AccountDisconnected{}, AccountConnecting{}), when: ReserveNewDialog{DialogID: dialogID}, err: ESTATE},
		{name: "a failed login disconnects", given: []Event{registered, AccountConnecting{}}, when: MarkDisconnected{Reason: "timeout"}, then: []Event{AccountDisconnected{Reason: "timeout"}}},
		{name: "connect", given: []Event{registered}, when: MarkConnected{}, then: []Event{AccountConnected{}}},
		{name: "connect twice", given: active, when: MarkConnected{}},
		{name: "disconnect", given: active, when: MarkDisconnected{Reason: "EOF"}, then: []Event{AccountDisconnected{Reason: "EOF"}}},
		{name: "flood wait", given: active, when: MarkFloodWait{Until: now.Add(time.Minute)}, then: []Event{AccountFloodWaited{Until: now.Add(time.Minute)}}},
		{name: "flood wait in the past", given: active, when: MarkFloodWait{Until: now.Add(-time.Minute)}},
		{name: "restricted", given: active, when: MarkRestricted{Reason: "PEER_FLOOD"}, then: []Event{AccountRestricted{Reason: "PEER_FLOOD"}}},
		{name: "reconnecting does not lift a restriction", given: append(active, AccountRestricted{Reason: "PEER_FLOOD"}, AccountDisconnected{}, AccountConnected{}), when: ReserveNewDialog{DialogID: dialogID}, err: ESTATE},
		{name: "resume lifts a restriction", given: append(active, AccountRestricted{Reason: "PEER_FLOOD"}), when: ResumeAccount{By: "admin:1"}, then: []Event{AccountResumed{By: "admin:1"}}},
		{name: "lost", given: active, when: MarkLost{Reason: "SESSION_REVOKED"}, then: []Event{AccountLost{Reason: "SESSION_REVOKED"}}},
		{name: "a flood wait does not lift a restriction", given: append(active, AccountRestricted{Reason: "PEER_FLOOD"}, AccountFloodWaited{Until: now.Add(-time.Second)}), when: ReserveNewDialog{DialogID: dialogID}, err: ESTATE},
		{name: "reconnecting does not end a flood wait", given: append(active, AccountFloodWaited{Until: now.Add(time.Minute)}, AccountConnecting{}, AccountConnected{}), when: ReserveMessage{DialogID: dialogID, RandomID: 1}, err: ELIMIT, retryAt: now.Add(time.Minute)},
		{name: "restricting a lost account records nothing", given: append(active, AccountLost{Reason: "USER_DEACTIVATED_BAN"}), when: MarkRestricted{Reason: "PEER_FLOOD"}},
		{name: "a lost account stays lost after connect", given: append(active, AccountLost{Reason: "SESSION_REVOKED"}), when: MarkConnected{}},
		{name: "a lost account cannot be resumed", given: append(active, AccountLost{Reason: "USER_DEACTIVATED_BAN"}), when: ResumeAccount{By: "admin:1"}, err: ESTATE},
		{name: "pause", given: active, when: PauseAccount{By: "admin:1"}, then: []Event{AccountPaused{By: "admin:1"}}},
		{name: "pause twice", given: append(active, AccountPaused{By: "admin:1"}), when: PauseAccount{By: "admin:2"}},
		{name: "resume", given: append(active, AccountPaused{By: "admin:1"}), when: ResumeAccount{By: "admin:1"}, then: []Event{AccountResumed{By: "admin:1"}}},
		{name: "resume a running account", given: active, when: ResumeAccount{By: "admin:1"}},
		{name: "remove", given: active, when: RemoveAccount{By: "admin:1"}, then: []Event{AccountRemoved{By: "admin:1"}}},
		{name: "nothing after remove", given: append(active, AccountRemoved{By: "admin:1"}), when: ResumeAccount{By: "admin:1"}, err: ESTATE},
		{name: "limits", given: active, when: SetLimits{Limits: DefaultLimits()}, then: []Event{AccountLimitsChanged{Limits: DefaultLimits()}}},
		{name: "bad limits", given: active, when: SetLimits{Limits: Limits{DailyNewDialogs: -1, TimeZone: "UTC", EndMinute: 60}}, err: EINVALID},
	})
}

func TestNewDialogLimits(t *testing.T) {
	active := []Event{registered, AccountConnected{}}
	reserve := ReserveNewDialog{DialogID: dialogID}
	tomorrow9 := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	monday9 := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	friday := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	ramped := AccountRegistered{AccountID: accountID, Label: "new", At: now.Add(-time.Hour),
		Limits: Limits{DailyNewDialogs: 10, Ramp: []int{1, 2}, TimeZone: "UTC", StartMinute: 0, EndMinute: 24 * 60}}
	moscow, err := time.LoadLocation("Europe/Moscow")
	if err != nil {
		t.Fatal(err) // the zone database is built in (tzdata.go)
	}
	runAccountCases(t, []accountCase{
		{name: "within the cap", given: append(active, reserved(2, "2026-11-25", now)...), when: reserve, then: []Event{NewDialogReserved{AccountID: accountID, DialogID: dialogID, Day: "2026-11-25", At: now}}},
		{name: "cap reached: next working morning", given: append(active, reserved(3, "2026-11-25", now)...), when: reserve, err: ELIMIT, retryAt: tomorrow9},
		{name: "cap reached on Friday: Monday", given: append(active, reserved(3, "2026-11-27", friday)...), when: reserve, at: friday, err: ELIMIT, retryAt: monday9},
		{name: "yesterday's count does not carry over", given: append(active, reserved(3, "2026-11-24", now.AddDate(0, 0, -1))...), when: reserve, then: []Event{NewDialogReserved{AccountID: accountID, DialogID: dialogID, Day: "2026-11-25", At: now}}},
		{name: "before hours", given: active, when: reserve, at: now.Add(-3 * time.Hour), err: ELIMIT, retryAt: time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)},
		{name: "after hours", given: active, when: reserve, at: now.Add(10 * time.Hour), err: ELIMIT, retryAt: tomorrow9},
		{name: "weekend", given: active, when: reserve, at: time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC), err: ELIMIT, retryAt: monday9},
		{name: "hours in the account's time zone", given: active, when: ReserveNewDialog{DialogID: dialogID, Loc: moscow}, at: time.Date(2026, 11, 25, 17, 0, 0, 0, time.UTC),
			err: ELIMIT, retryAt: time.Date(2026, 11, 26, 9, 0, 0, 0, moscow)},
		{name: "ramp day 1", given: []Event{ramped, AccountConnected{}, NewDialogReserved{DialogID: otherD, Day: "2026-11-25", At: now}}, when: reserve, err: ELIMIT, retryAt: time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)},
		{name: "ramp day 2", given: []Event{ramped, AccountConnected{}, NewDialogReserved{DialogID: otherD, Day: "2026-11-26", At: now.AddDate(0, 0, 1)}}, when: reserve, at: now.AddDate(0, 0, 1),
			then: []Event{NewDialogReserved{AccountID: accountID, DialogID: dialogID, Day: "2026-11-26", At: now.AddDate(0, 0, 1)}}},
		{name: "after the ramp the daily cap", given: append([]Event{ramped, AccountConnected{}}, reserved(9, "2026-11-28", now.AddDate(0, 0, 3))...), when: reserve, at: now.AddDate(0, 0, 3),
			then: []Event{NewDialogReserved{AccountID: accountID, DialogID: dialogID, Day: "2026-11-28", At: now.AddDate(0, 0, 3)}}},
		{name: "no daily cap", given: append([]Event{AccountRegistered{AccountID: accountID, Label: "x", At: now.AddDate(0, 0, -30),
			Limits: Limits{TimeZone: "UTC", StartMinute: 0, EndMinute: 24 * 60}}, AccountConnected{}}, reserved(500, "2026-11-25", now)...), when: reserve,
			then: []Event{NewDialogReserved{AccountID: accountID, DialogID: dialogID, Day: "2026-11-25", At: now}}},
		{name: "clock behind registration counts as day 1", given: []Event{AccountRegistered{AccountID: accountID, Label: "x", At: now.Add(time.Minute),
			Limits: Limits{DailyNewDialogs: 9, Ramp: []int{1}, TimeZone: "UTC", StartMinute: 0, EndMinute: 24 * 60}}, AccountConnected{}}, when: reserve,
			then: []Event{NewDialogReserved{AccountID: accountID, DialogID: dialogID, Day: "2026-11-25", At: now}}},
		{name: "restricted: no new dialogs", given: append(active, AccountRestricted{Reason: "PEER_FLOOD"}), when: reserve, err: ESTATE},
		{name: "paused", given: append(active, AccountPaused{By: "admin:1"}), when: reserve, err: ESTATE},
		{name: "lost", given: append(active, AccountLost{Reason: "AUTH_KEY_UNREGISTERED"}), when: reserve, err: ESTATE},
		{name: "flood wait", given: append(active, AccountFloodWaited{Until: now.Add(30 * time.Second)}), when: reserve, err: ELIMIT, retryAt: now.Add(30 * time.Second)},
		{name: "flood wait over", given: append(active, AccountFloodWaited{Until: now.Add(-time.Second)}), when: reserve, then: []Event{NewDialogReserved{AccountID: accountID, DialogID: dialogID, Day: "2026-11-25", At: now}}},
	})
}

// Working hours are wall-clock hours, also on the day clocks change.
func TestWorkingHoursOnDSTDays(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err) // the zone database is built in (tzdata.go)
	}
	l := Limits{TimeZone: "Europe/Berlin", StartMinute: 10 * 60, EndMinute: 18 * 60}
	for _, day := range []int{29, 30} { // 2026-03-29: clocks go forward
		if err := l.inHours(time.Date(2026, 3, day, 10, 30, 0, 0, berlin), berlin); err != nil {
			t.Errorf("10:30 on March %d: %v", day, err)
		}
		if err := l.inHours(time.Date(2026, 3, day, 18, 30, 0, 0, berlin), berlin); err == nil {
			t.Errorf("18:30 on March %d is inside 10:00–18:00", day)
		}
		if err := l.inHours(time.Date(2026, 3, day, 9, 30, 0, 0, berlin), berlin); err == nil || !err.(*Error).RetryAt.Equal(time.Date(2026, 3, day, 10, 0, 0, 0, berlin)) {
			t.Errorf("09:30 on March %d: %v", day, err)
		}
	}
}

func TestMessagePacing(t *testing.T) {
	active := []Event{registered, AccountConnected{}}
	msg := ReserveMessage{DialogID: dialogID, RandomID: 5}
	sent := func(at time.Time) Event { return MessageReserved{DialogID: otherD, RandomID: 1, At: at} }
	runAccountCases(t, []accountCase{
		{name: "first message", given: active, when: msg, then: []Event{MessageReserved{AccountID: accountID, DialogID: dialogID, RandomID: 5, At: now}}},
		{name: "too soon after the last", given: append(active, sent(now.Add(-4*time.Second))), when: msg, err: ELIMIT, retryAt: now.Add(6 * time.Second)},
		{name: "per-minute cap", given: append(active, sent(now.Add(-50*time.Second)), sent(now.Add(-20*time.Second))), when: msg, err: ELIMIT, retryAt: now.Add(10 * time.Second)},
		{name: "older messages leave the window", given: append(active, sent(now.Add(-70*time.Second)), sent(now.Add(-20*time.Second))), when: msg,
			then: []Event{MessageReserved{AccountID: accountID, DialogID: dialogID, RandomID: 5, At: now}}},
		{name: "restricted accounts still reply", given: append(active, AccountRestricted{Reason: "PEER_FLOOD"}), when: msg,
			then: []Event{MessageReserved{AccountID: accountID, DialogID: dialogID, RandomID: 5, At: now}}},
		{name: "paused accounts do not", given: append(active, AccountPaused{By: "admin:1"}), when: msg, err: ESTATE},
		{name: "outside hours", given: active, when: msg, at: now.Add(-2 * time.Hour), err: ELIMIT, retryAt: time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)},
	})
}

// Evolving reservations keeps only the last minute of message times and
// counts dialogs per local day.
func TestAccountEvolveCounters(t *testing.T) {
	a := EvolveAccount(Account{}, registered)
	for i := range 5 {
		a = EvolveAccount(a, MessageReserved{AccountID: accountID, DialogID: dialogID, RandomID: int64(i), At: now.Add(time.Duration(i) * 30 * time.Second)})
	}
	if len(a.Recent) != 2 || !a.LastMessage.Equal(now.Add(2*time.Minute)) {
		t.Fatalf("recent %v last %v", a.Recent, a.LastMessage)
	}
	a = EvolveAccount(a, NewDialogReserved{Day: "2026-11-25"})
	a = EvolveAccount(a, NewDialogReserved{Day: "2026-11-25"})
	a = EvolveAccount(a, NewDialogReserved{Day: "2026-11-26"})
	if a.DialogDay != "2026-11-26" || a.DialogsToday != 1 {
		t.Fatalf("day %s count %d", a.DialogDay, a.DialogsToday)
	}
}

// NewLimits reads limits as typed and names the text at fault.
func TestNewLimits(t *testing.T) {
	typed := LimitsText{TimeZone: "Europe/Berlin", Hours: "09:00-18:00", Days: "mon-fri", Ramp: " 3, 5 ,8",
		DailyNewDialogs: 20, MessagesPerMinute: 6, MinDelay: 20 * time.Second}
	got, err := NewLimits(typed)
	want := Limits{TimeZone: "Europe/Berlin", StartMinute: 9 * 60, EndMinute: 18 * 60, Ramp: []int{3, 5, 8},
		Days:            []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday},
		DailyNewDialogs: 20, MessagesPerMinute: 6, MinDelay: 20 * time.Second}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("NewLimits(%+v) = %+v, %v; want %+v", typed, got, err, want)
	}
	if got, err := NewLimits(LimitsText{TimeZone: "UTC", Hours: "00:00-24:00", Days: "all"}); err != nil || got.Ramp != nil || got.Days != nil {
		t.Fatalf("no ramp, every day: %+v, %v", got, err)
	}
	for _, c := range []struct {
		name  string
		edit  func(*LimitsText)
		field string
		msg   string
	}{
		{"zone", func(l *LimitsText) { l.TimeZone = "Mars/Olympus" }, "time_zone", `unknown time zone "Mars/Olympus"`},
		{"hours", func(l *LimitsText) { l.Hours = "9-5" }, "hours", `want HH:MM-HH:MM, got "9-5"`},
		{"days", func(l *LimitsText) { l.Days = "funday" }, "days", `"funday" is not a day`},
		{"ramp", func(l *LimitsText) { l.Ramp = "3,-1" }, "ramp", `want numbers like 3,5,8, got "3,-1"`},
		{"ramp text", func(l *LimitsText) { l.Ramp = "a lot" }, "ramp", "want numbers"},
		{"hours backwards", func(l *LimitsText) { l.Hours = "18:00-09:00" }, "", "working hours 18:00–09:00 are not a range within a day"},
		{"negative cap", func(l *LimitsText) { l.DailyNewDialogs = -1 }, "", "limits must not be negative"},
	} {
		in := typed
		c.edit(&in)
		_, err := NewLimits(in)
		if ErrorCode(err) != EINVALID || ErrorField(err) != c.field || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: %v (field %q); want EINVALID, field %q, %q", c.name, err, ErrorField(err), c.field, c.msg)
		}
	}
}
