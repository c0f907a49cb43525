package domain

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// AccountStatus is the connection state of a Telegram account.
type AccountStatus string

const (
	StatusRegistered AccountStatus = "registered" // added, never connected
	StatusConnecting AccountStatus = "connecting" // a client is logging in or reconnecting
	StatusActive     AccountStatus = "active"     // connected
	StatusOffline    AccountStatus = "offline"    // disconnected, will reconnect
	StatusFloodWait  AccountStatus = "flood-wait" // Telegram said FLOOD_WAIT until FloodUntil
	StatusRestricted AccountStatus = "restricted" // PEER_FLOOD: may not start conversations
	StatusLost       AccountStatus = "lost"       // session revoked or account banned
	StatusRemoved    AccountStatus = "removed"
)

// Limits bound what one account does. Zero values mean "no limit" except
// where Validate says otherwise.
type Limits struct {
	DailyNewDialogs   int           `json:"daily_new_dialogs"`   // cap on new dialogs per local day
	MessagesPerMinute int           `json:"messages_per_minute"` // cap on outbound messages per minute
	MinDelay          time.Duration `json:"min_delay"`           // between two outbound messages
	// Ramp caps new dialogs on the first days after registration (day 1,
	// day 2, ...), so a new account grows its volume gradually; after the
	// ramp, DailyNewDialogs applies.
	Ramp []int `json:"ramp,omitempty"`
	// Working hours in the account's time zone: [StartMinute, EndMinute)
	// minutes after local midnight, on Days (empty = every day).
	TimeZone    string         `json:"time_zone"`
	StartMinute int            `json:"start_minute"`
	EndMinute   int            `json:"end_minute"`
	Days        []time.Weekday `json:"days,omitempty"`
}

// DefaultLimits are conservative limits for a new account.
func DefaultLimits() Limits {
	return Limits{
		DailyNewDialogs: 20, MessagesPerMinute: 6, MinDelay: 20 * time.Second,
		Ramp:     []int{3, 5, 8, 12, 16},
		TimeZone: "UTC", StartMinute: 9 * 60, EndMinute: 19 * 60,
		Days: []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday},
	}
}

// Validate reports the first unusable limit.
func (l Limits) Validate() error {
	switch {
	case l.DailyNewDialogs < 0 || l.MessagesPerMinute < 0 || l.MinDelay < 0:
		return errorf(EINVALID, "limits must not be negative")
	case l.StartMinute < 0 || l.EndMinute > 24*60 || l.StartMinute >= l.EndMinute:
		return errorf(EINVALID, "working hours %s–%s are not a range within a day", hm(l.StartMinute), hm(l.EndMinute))
	case strings.TrimSpace(l.TimeZone) == "":
		return errorf(EINVALID, "a time zone is required (for example Europe/Moscow or UTC)")
	}
	if _, err := time.LoadLocation(l.TimeZone); err != nil {
		return errorf(EINVALID, "unknown time zone %q (for example Europe/Moscow or UTC)", l.TimeZone)
	}
	for _, d := range l.Days {
		if d < time.Sunday || d > time.Saturday {
			return errorf(EINVALID, "working day %d is not a weekday (0 = Sunday … 6 = Saturday)", d)
		}
	}
	for i, r := range l.Ramp {
		if r < 0 {
			return errorf(EINVALID, "ramp day %d is negative", i+1)
		}
	}
	return nil
}

// LimitsText is an account's limits as a person types them (the CLI's
// flags, a form): the time zone, working hours and days, and the ramp as
// text; the caps and the delay as numbers.
type LimitsText struct {
	TimeZone          string        // e.g. Europe/Berlin
	Hours             string        // working hours, HH:MM-HH:MM (ParseHours)
	Days              string        // working days, as ParseWeekdays reads them
	Ramp              string        // daily caps of the first days, "3,5,8"; "" = none
	DailyNewDialogs   int           // 0 = no cap
	MessagesPerMinute int           // 0 = no cap
	MinDelay          time.Duration // between two outbound messages
}

// NewLimits reads limits as typed and checks them (Validate). Errors are
// *Error with code EINVALID; one about a text that cannot be read has the
// Field at fault ("time_zone", "hours", "days", "ramp"), one from
// Validate none.
func NewLimits(in LimitsText) (Limits, error) {
	out := Limits{TimeZone: in.TimeZone, DailyNewDialogs: in.DailyNewDialogs, MessagesPerMinute: in.MessagesPerMinute, MinDelay: in.MinDelay}
	if _, err := time.LoadLocation(in.TimeZone); err != nil {
		return out, fieldErrorf(EINVALID, "time_zone", "unknown time zone %q", in.TimeZone)
	}
	var err error
	if out.StartMinute, out.EndMinute, err = ParseHours(in.Hours); err != nil {
		return out, fieldErrorf(EINVALID, "hours", "%v", err)
	}
	if out.Days, err = ParseWeekdays(in.Days); err != nil {
		return out, fieldErrorf(EINVALID, "days", "%v", err)
	}
	if strings.TrimSpace(in.Ramp) != "" {
		for _, f := range strings.Split(in.Ramp, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < 0 {
				return out, fieldErrorf(EINVALID, "ramp", "want numbers like 3,5,8, got %q", in.Ramp)
			}
			out.Ramp = append(out.Ramp, n)
		}
	}
	return out, out.Validate()
}

func hm(m int) string { return fmt.Sprintf("%02d:%02d", m/60, m%60) }

// Account is a company Telegram account as its events leave it.
type Account struct {
	ID           uuid.UUID
	Exists       bool
	Label        string
	Status       AccountStatus
	Paused       bool
	Restricted   bool // PEER_FLOOD: until a manager resumes the account
	Lost         bool // session revoked or banned: for good
	FloodUntil   time.Time
	Reason       string // why restricted or lost
	Limits       Limits
	RegisteredAt time.Time

	DialogDay    string      // local date of DialogsToday, 2006-01-02
	DialogsToday int         // new dialogs opened on DialogDay
	Recent       []time.Time // outbound message times within the last minute, oldest first
	LastMessage  time.Time
}

// Account commands. Loc is the account's time zone, resolved from
// Limits.TimeZone by the handler (nil = UTC).
type (
	RegisterAccount struct {
		AccountID uuid.UUID
		Label     string
		Phone     string
		Limits    Limits
	}
	SetLimits        struct{ Limits Limits }
	MarkConnecting   struct{}
	MarkConnected    struct{}
	MarkDisconnected struct{ Reason string }
	MarkFloodWait    struct{ Until time.Time }
	MarkRestricted   struct{ Reason string }
	MarkLost         struct{ Reason string }
	PauseAccount     struct{ By string }
	ResumeAccount    struct{ By string }
	RemoveAccount    struct{ By string }
	// ReserveNewDialog takes one of today's new-dialog slots.
	ReserveNewDialog struct {
		DialogID uuid.UUID
		Loc      *time.Location
	}
	// ReserveMessage takes an outbound message slot (pacing). Opening
	// marks the first message of a dialog we started: new outreach, which
	// a restricted account may not send.
	ReserveMessage struct {
		DialogID uuid.UUID
		RandomID int64
		Loc      *time.Location
		Opening  bool
	}
)

// AccountCommand is a command on an account.
type AccountCommand interface{ accountCommand() }

func (RegisterAccount) accountCommand()  {}
func (SetLimits) accountCommand()        {}
func (MarkConnecting) accountCommand()   {}
func (MarkConnected) accountCommand()    {}
func (MarkDisconnected) accountCommand() {}
func (MarkFloodWait) accountCommand()    {}
func (MarkRestricted) accountCommand()   {}
func (MarkLost) accountCommand()         {}
func (PauseAccount) accountCommand()     {}
func (ResumeAccount) accountCommand()    {}
func (RemoveAccount) accountCommand()    {}
func (ReserveNewDialog) accountCommand() {}
func (ReserveMessage) accountCommand()   {}

// Account events.
type (
	AccountRegistered struct {
		AccountID uuid.UUID `json:"account_id"`
		Label     string    `json:"label"`
		Phone     string    `json:"phone,omitempty" personal:"phone"`
		Limits    Limits    `json:"limits"`
		At        time.Time `json:"at"`
	}
	AccountLimitsChanged struct {
		Limits Limits `json:"limits"`
	}
	AccountConnecting   struct{}
	AccountConnected    struct{}
	AccountDisconnected struct {
		Reason string `json:"reason,omitempty"`
	}
	AccountFloodWaited struct {
		Until time.Time `json:"until"`
	}
	AccountRestricted struct {
		Reason string `json:"reason"`
	}
	AccountLost struct {
		Reason string `json:"reason"`
	}
	AccountPaused struct {
		By string `json:"by"`
	}
	AccountResumed struct {
		By string `json:"by"`
	}
	AccountRemoved struct {
		By string `json:"by"`
	}
	NewDialogReserved struct {
		AccountID uuid.UUID `json:"account_id"`
		DialogID  uuid.UUID `json:"dialog_id"`
		Day       string    `json:"day"` // local date
		At        time.Time `json:"at"`
	}
	MessageReserved struct {
		AccountID uuid.UUID `json:"account_id"`
		DialogID  uuid.UUID `json:"dialog_id"`
		RandomID  int64     `json:"random_id"`
		At        time.Time `json:"at"`
	}
)

func (AccountRegistered) EventType() string    { return "AccountRegistered" }
func (AccountLimitsChanged) EventType() string { return "AccountLimitsChanged" }
func (AccountConnecting) EventType() string    { return "AccountConnecting" }
func (AccountConnected) EventType() string     { return "AccountConnected" }
func (AccountDisconnected) EventType() string  { return "AccountDisconnected" }
func (AccountFloodWaited) EventType() string   { return "AccountFloodWaited" }
func (AccountRestricted) EventType() string    { return "AccountRestricted" }
func (AccountLost) EventType() string          { return "AccountLost" }
func (AccountPaused) EventType() string        { return "AccountPaused" }
func (AccountResumed) EventType() string       { return "AccountResumed" }
func (AccountRemoved) EventType() string       { return "AccountRemoved" }
func (NewDialogReserved) EventType() string    { return "NewDialogReserved" }
func (MessageReserved) EventType() string      { return "MessageReserved" }

// DecideAccount decides what a command does to an account.
func DecideAccount(a Account, cmd AccountCommand, now time.Time) ([]Event, error) {
	if _, reg := cmd.(RegisterAccount); !reg {
		if !a.Exists {
			return nil, errorf(EINVALID, "unknown account")
		}
		if a.Status == StatusRemoved {
			return nil, errorf(ESTATE, "account %s was removed", a.Label)
		}
	}
	switch cmd := cmd.(type) {
	case RegisterAccount:
		if a.Exists {
			return nil, errorf(ESTATE, "account %s already exists", a.Label)
		}
		if cmd.AccountID == uuid.Nil || strings.TrimSpace(cmd.Label) == "" {
			return nil, errorf(EINVALID, "an account needs an id and a label")
		}
		if err := cmd.Limits.Validate(); err != nil {
			return nil, err
		}
		return []Event{AccountRegistered{AccountID: cmd.AccountID, Label: strings.TrimSpace(cmd.Label), Phone: cmd.Phone, Limits: cmd.Limits, At: now}}, nil
	case SetLimits:
		if err := cmd.Limits.Validate(); err != nil {
			return nil, err
		}
		return []Event{AccountLimitsChanged{Limits: cmd.Limits}}, nil
	case MarkConnecting:
		// Connection facts change only the connection state: a flood wait,
		// a restriction or a loss stays as it is.
		if a.Lost || a.Status == StatusConnecting || a.Status == StatusActive {
			return nil, nil
		}
		return []Event{AccountConnecting{}}, nil
	case MarkConnected:
		if a.Lost || a.Status == StatusActive {
			return nil, nil
		}
		return []Event{AccountConnected{}}, nil
	case MarkDisconnected:
		if a.Status != StatusActive && a.Status != StatusConnecting {
			return nil, nil
		}
		return []Event{AccountDisconnected{Reason: cmd.Reason}}, nil
	case MarkFloodWait:
		if !cmd.Until.After(now) || a.Lost || !cmd.Until.After(a.FloodUntil) {
			return nil, nil
		}
		return []Event{AccountFloodWaited{Until: cmd.Until}}, nil
	case MarkRestricted:
		if a.Restricted || a.Lost {
			return nil, nil
		}
		return []Event{AccountRestricted{Reason: cmd.Reason}}, nil
	case MarkLost:
		if a.Lost {
			return nil, nil
		}
		return []Event{AccountLost{Reason: cmd.Reason}}, nil
	case PauseAccount:
		if a.Paused {
			return nil, nil
		}
		return []Event{AccountPaused{By: cmd.By}}, nil
	case ResumeAccount:
		// Resuming is how a person lifts a pause or a restriction after
		// checking the account; a lost account needs a new session instead.
		if a.Lost {
			return nil, errorf(ESTATE, "account %s is lost (%s): add it again with a new session", a.Label, a.Reason)
		}
		if !a.Paused && !a.Restricted {
			return nil, nil
		}
		return []Event{AccountResumed{By: cmd.By}}, nil
	case RemoveAccount:
		return []Event{AccountRemoved{By: cmd.By}}, nil
	case ReserveNewDialog:
		loc := orUTC(cmd.Loc)
		if err := a.usable(now, true); err != nil {
			return nil, err
		}
		if err := a.Limits.inHours(now, loc); err != nil {
			return nil, err
		}
		day := now.In(loc).Format(time.DateOnly)
		used := 0
		if a.DialogDay == day {
			used = a.DialogsToday
		}
		if dayCap := a.capOn(now, loc); used >= dayCap {
			next := a.Limits.nextOpening(startOfNextDay(now, loc), loc)
			return nil, &Error{Code: ELIMIT, RetryAt: next, Message: fmt.Sprintf("account %s opened %d of %d new dialogs today", a.Label, used, dayCap)}
		}
		return []Event{NewDialogReserved{AccountID: a.ID, DialogID: cmd.DialogID, Day: day, At: now}}, nil
	case ReserveMessage:
		loc := orUTC(cmd.Loc)
		if err := a.usable(now, cmd.Opening); err != nil {
			return nil, err
		}
		if err := a.Limits.inHours(now, loc); err != nil {
			return nil, err
		}
		if d := a.Limits.MinDelay; d > 0 && !a.LastMessage.IsZero() && now.Sub(a.LastMessage) < d {
			return nil, &Error{Code: ELIMIT, RetryAt: a.LastMessage.Add(d), Message: fmt.Sprintf("account %s keeps %s between messages", a.Label, d)}
		}
		if n := a.Limits.MessagesPerMinute; n > 0 {
			recent := within(a.Recent, now.Add(-time.Minute))
			if len(recent) >= n {
				return nil, &Error{Code: ELIMIT, RetryAt: recent[len(recent)-n].Add(time.Minute), Message: fmt.Sprintf("account %s sent %d messages in the last minute", a.Label, len(recent))}
			}
		}
		return []Event{MessageReserved{AccountID: a.ID, DialogID: cmd.DialogID, RandomID: cmd.RandomID, At: now}}, nil
	}
	return nil, errorf(EINVALID, "unknown account command %T", cmd)
}

// usable says whether the account may write now. A restriction stops only
// new conversations (PEER_FLOOD); replies in open dialogs go on.
func (a Account) usable(now time.Time, newDialog bool) error {
	switch {
	case a.Lost:
		return errorf(ESTATE, "account %s is lost (%s)", a.Label, a.Reason)
	case a.Paused:
		return errorf(ESTATE, "account %s is paused", a.Label)
	case a.Restricted && newDialog:
		return errorf(ESTATE, "account %s is restricted (%s): no new dialogs until a manager resumes it", a.Label, a.Reason)
	case now.Before(a.FloodUntil):
		return &Error{Code: ELIMIT, RetryAt: a.FloodUntil, Message: fmt.Sprintf("account %s is in a Telegram flood wait", a.Label)}
	}
	return nil
}

// capOn is the new-dialog cap of the local day of now: the ramp for the
// first days after registration, then DailyNewDialogs (0: no cap).
func (a Account) capOn(now time.Time, loc *time.Location) int {
	dayCap := a.Limits.DailyNewDialogs
	if dayCap == 0 {
		dayCap = math.MaxInt
	}
	if len(a.Limits.Ramp) > 0 {
		k := max(0, daysBetween(a.RegisteredAt.In(loc), now.In(loc))) // a clock a little behind: day 1
		if k < len(a.Limits.Ramp) {
			dayCap = min(dayCap, a.Limits.Ramp[k])
		}
	}
	return dayCap
}

// inHours rejects times outside the working hours with the next opening.
func (l Limits) inHours(now time.Time, loc *time.Location) error {
	if next := l.nextOpening(now, loc); !next.Equal(now) {
		return &Error{Code: ELIMIT, RetryAt: next, Message: fmt.Sprintf("outside working hours (%s–%s %s)", hm(l.StartMinute), hm(l.EndMinute), l.TimeZone)}
	}
	return nil
}

// nextOpening is t if t is within working hours, else the next start of
// working hours.
func (l Limits) nextOpening(t time.Time, loc *time.Location) time.Time {
	local := t.In(loc)
	for i := 0; i < 8; i++ {
		day := time.Date(local.Year(), local.Month(), local.Day()+i, 0, 0, 0, 0, loc)
		if !l.workday(day.Weekday()) {
			continue
		}
		// Wall-clock times, so that a DST day still opens at StartMinute.
		start := time.Date(day.Year(), day.Month(), day.Day(), 0, l.StartMinute, 0, 0, loc)
		end := time.Date(day.Year(), day.Month(), day.Day(), 0, l.EndMinute, 0, 0, loc)
		if i == 0 && !local.Before(start) && local.Before(end) {
			return t
		}
		if local.Before(start) {
			return start
		}
	}
	return t // no working day configured: Validate keeps Days sane, so never reached
}

func (l Limits) workday(d time.Weekday) bool {
	if len(l.Days) == 0 {
		return true
	}
	for _, w := range l.Days {
		if w == d {
			return true
		}
	}
	return false
}

func startOfNextDay(t time.Time, loc *time.Location) time.Time {
	l := t.In(loc)
	return time.Date(l.Year(), l.Month(), l.Day()+1, 0, 0, 0, 0, loc)
}

func daysBetween(from, to time.Time) int {
	a := time.Date(from.Year(), from.Month(), from.Day(), 0, 0, 0, 0, time.UTC)
	b := time.Date(to.Year(), to.Month(), to.Day(), 0, 0, 0, 0, time.UTC)
	return int(b.Sub(a).Hours() / 24)
}

func within(ts []time.Time, since time.Time) []time.Time {
	for i, t := range ts {
		if t.After(since) {
			return ts[i:]
		}
	}
	return nil
}

func orUTC(loc *time.Location) *time.Location {
	if loc == nil {
		return time.UTC
	}
	return loc
}

// EvolveAccount applies one event.
func EvolveAccount(a Account, e Event) Account {
	switch e := e.(type) {
	case AccountRegistered:
		a = Account{ID: e.AccountID, Exists: true, Label: e.Label, Status: StatusRegistered, Limits: e.Limits, RegisteredAt: e.At}
	case AccountLimitsChanged:
		a.Limits = e.Limits
	case AccountConnecting:
		a.Status = StatusConnecting
	case AccountConnected:
		a.Status = StatusActive
	case AccountDisconnected:
		a.Status = StatusOffline
	case AccountFloodWaited:
		a.Status, a.FloodUntil = StatusFloodWait, e.Until
	case AccountRestricted:
		a.Status, a.Reason, a.Restricted = StatusRestricted, e.Reason, true
	case AccountLost:
		a.Status, a.Reason, a.Lost = StatusLost, e.Reason, true
	case AccountPaused:
		a.Paused = true
	case AccountResumed:
		a.Paused = false
		if a.Restricted {
			a.Restricted, a.Reason = false, ""
			if a.Status == StatusRestricted {
				a.Status = StatusOffline
			}
		}
	case AccountRemoved:
		a.Status = StatusRemoved
	case NewDialogReserved:
		if a.DialogDay != e.Day {
			a.DialogDay, a.DialogsToday = e.Day, 0
		}
		a.DialogsToday++
	case MessageReserved:
		recent := within(a.Recent, e.At.Add(-time.Minute))
		a.Recent = append(append(make([]time.Time, 0, len(recent)+1), recent...), e.At)
		a.LastMessage = e.At
	}
	return a
}

// NextOpen is t if t is within the working hours, else when they next
// begin (in the limits' time zone; UTC if it is unknown).
func (l Limits) NextOpen(t time.Time) time.Time {
	loc, err := time.LoadLocation(l.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	return l.nextOpening(t, loc)
}
