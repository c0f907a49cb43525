package domain

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Candidate is an account that might take a new dialog.
type Candidate struct {
	Account Account        // with today's usage folded in (Handlers.AccountNow)
	Loc     *time.Location // the account's time zone
	Open    int            // dialogs open on the account now
}

// PickAccount gives a new dialog to the least-loaded healthy account that
// is connected, inside its caps and in its working hours (ties: fewer new
// dialogs today, then the id). It never looks past a restriction: an
// account that may not write is skipped, and its share is not handed to
// the others beyond what their own caps allow. With no account available
// the error (ELIMIT, or ESTATE when none could ever take it) matches
// ErrNoAccount and says why for each account and when the earliest one
// opens again (RetryAt); with no candidates at all it is ESTATE alone.
func PickAccount(cands []Candidate, now time.Time) (uuid.UUID, error) {
	if len(cands) == 0 {
		return uuid.Nil, errorf(ESTATE, "no Telegram account is connected")
	}
	type option struct {
		c     Candidate
		today int
	}
	var (
		ok      []option
		reasons []string
		retry   time.Time
	)
	for _, c := range cands {
		a := c.Account
		if a.Status != StatusActive && !a.Restricted {
			reasons = append(reasons, fmt.Sprintf("%s is %s", a.Label, a.Status))
			continue
		}
		_, err := DecideAccount(a, ReserveNewDialog{DialogID: uuid.New(), Loc: c.Loc}, now)
		if err != nil {
			reasons = append(reasons, err.Error())
			var e *Error
			if errors.As(err, &e) && !e.RetryAt.IsZero() && (retry.IsZero() || e.RetryAt.Before(retry)) {
				retry = e.RetryAt
			}
			continue
		}
		today := 0
		if a.DialogDay == now.In(orUTC(c.Loc)).Format(time.DateOnly) {
			today = a.DialogsToday
		}
		ok = append(ok, option{c, today})
	}
	if len(ok) == 0 {
		code := ESTATE
		if !retry.IsZero() {
			code = ELIMIT
		}
		return uuid.Nil, &Error{Code: code, RetryAt: retry, Message: "no account can open a dialog now: " + strings.Join(reasons, "; "), Err: ErrNoAccount}
	}
	sort.Slice(ok, func(i, j int) bool {
		a, b := ok[i], ok[j]
		if a.c.Open != b.c.Open {
			return a.c.Open < b.c.Open
		}
		if a.today != b.today {
			return a.today < b.today
		}
		return a.c.Account.ID.String() < b.c.Account.ID.String()
	})
	return ok[0].c.Account.ID, nil
}

// AccountNow is an account's state with its usage of yesterday and today
// (local days in loc) folded in: what ReserveNewDialog decides on.
func (h Handlers) AccountNow(ctx context.Context, id uuid.UUID, loc *time.Location) (Account, error) {
	a, _, err := h.accountWithUsage(ctx, id, loc, h.Now())
	return a, err
}

// accountWithUsage loads the account and folds in its usage streams; it
// returns today's usage stream and its version for appending.
func (h Handlers) accountWithUsage(ctx context.Context, id uuid.UUID, loc *time.Location, now time.Time) (Account, struct {
	stream  string
	version uint64
}, error) {
	var today struct {
		stream  string
		version uint64
	}
	a, _, err := load(ctx, h.Log, AccountStream(id), EvolveAccount)
	if err != nil {
		return a, today, err
	}
	local := now.In(orUTC(loc))
	today.stream = UsageStream(id, local.Format(time.DateOnly))
	yesterday := UsageStream(id, local.AddDate(0, 0, -1).Format(time.DateOnly))
	for _, stream := range []string{yesterday, today.stream} {
		evs, v, err := h.Log.Load(ctx, stream)
		if err != nil {
			return a, today, fmt.Errorf("load %s: %w", stream, err)
		}
		for _, e := range evs {
			a = EvolveAccount(a, e)
		}
		today.version = v // today's, after the loop
	}
	return a, today, nil
}
