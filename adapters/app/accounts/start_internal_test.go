package accounts

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/salesbot/salesbot/domain"
)

// A failure that is not a rule error (a storage error, a future
// PickAccount error) has no retry time; it must not be read off a nil
// *domain.Error.
func TestRetryAt(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name string
		err  error
		want time.Time
	}{
		{"plain error", errors.New("pebble: disk full"), time.Time{}},
		{"no error", nil, time.Time{}},
		{"rule error", &domain.Error{Code: domain.ELIMIT, Message: "at its cap", RetryAt: at}, at},
		{"wrapped rule error", fmt.Errorf("reserve: %w", &domain.Error{Code: domain.ELIMIT, Message: "at its cap", RetryAt: at}), at},
	} {
		if got := retryAt(c.err); !got.Equal(c.want) {
			t.Errorf("%s: retryAt = %v, want %v", c.name, got, c.want)
		}
	}
}
