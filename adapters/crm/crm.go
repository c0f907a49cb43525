// Package crm is what the CRM connectors (adapters/amocrm,
// adapters/bitrix24, adapters/hubspot) share: Secret, the reading of
// their JSON configuration files (ReadConfig, Load), the Clock they pace
// and back off by (with a client's other Parts), the ports their
// webhooks record outcomes through (LeadIndex, RecordOutcome), one call
// of a JSON API with a bearer token (Send), the waits before a retry
// (RetryAfter, Backoff) and the cutting of text to a CRM's limits
// (SplitText, Truncate). Each connector names these in its own package
// (amocrm.Secret is crm.Secret) and keeps its own errors.
//
// crmtest holds the fake Clock and the fakes' fault queue for tests.
package crm

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/salesbot/salesbot/adapters/clock"
	"github.com/salesbot/salesbot/domain"
)

// Secret is a secret text (a token, a webhook's secret or code): it
// prints as "[secret]" in every format and is never marshalled.
type Secret struct{ v string }

// NewSecret wraps s.
func NewSecret(s string) Secret { return Secret{v: s} }

// Reveal is the secret itself, for the one place that uses it.
func (s Secret) Reveal() string { return s.v }

// Empty says whether no secret is set.
func (s Secret) Empty() bool { return s.v == "" }

func (s Secret) String() string   { return "[secret]" }
func (s Secret) GoString() string { return "[secret]" }

// MarshalJSON writes "[secret]", never the secret.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"[secret]"`), nil }

// Clock is the time a client paces and backs off by.
type Clock interface {
	Now() time.Time
	// Sleep waits d or until ctx ends (then it returns ctx's error).
	Sleep(ctx context.Context, d time.Duration) error
}

// RealClock is the clock on the wall: a client's default.
type RealClock struct{}

// Now is time.Now.
func (RealClock) Now() time.Time { return time.Now() }

// Sleep waits d or until ctx ends (clock.Sleep).
func (RealClock) Sleep(ctx context.Context, d time.Duration) error { return clock.Sleep(ctx, d) }

// LeadIndex finds the dialog a CRM's lead is linked to
// (domain.Handlers.DialogOfCRMLead is one): found is false for a lead no
// dialog is linked to.
type LeadIndex interface {
	DialogOfCRMLead(ctx context.Context, crm, lead string) (domain.CRMLeadLinked, bool, error)
}

// RecordOutcome records how the deal of dialog n ended, at the dialog's
// version at (0: any); its signature is dialogs.Service.RecordOutcomeAt's,
// so the wiring passes that method. changed is false when the dialog had
// that outcome already.
type RecordOutcome func(ctx context.Context, n int64, at uint64, cmd domain.RecordOutcome) (changed bool, err error)

// RetryAfter reads an answer's Retry-After header given in seconds: the
// wait (at most a minute) and true, or false when v is not a number of
// seconds.
func RetryAfter(v string) (time.Duration, bool) {
	s, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || s < 0 {
		return 0, false
	}
	return min(time.Duration(s)*time.Second, time.Minute), true
}

// Backoff is the wait before retry attempt+1 when the answer says none:
// 1, 2, 4, 8 s ... at most 32 s.
func Backoff(attempt int) time.Duration { return time.Second << min(attempt, 5) }

// Parts are a client's HTTP client, clock, logger and retries, as its
// Options give them.
type Parts struct {
	HTTP    *http.Client
	Clock   Clock
	Logger  *slog.Logger
	Retries int
}

// WithDefaults fills the parts left zero: an HTTP client with a 30 s
// timeout, the real clock, a logger that discards, 4 retries.
func (p Parts) WithDefaults() Parts {
	if p.HTTP == nil {
		p.HTTP = &http.Client{Timeout: 30 * time.Second}
	}
	if p.Clock == nil {
		p.Clock = RealClock{}
	}
	if p.Logger == nil {
		p.Logger = slog.New(slog.DiscardHandler)
	}
	if p.Retries <= 0 {
		p.Retries = 4
	}
	return p
}
