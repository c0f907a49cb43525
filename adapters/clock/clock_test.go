package clock_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/salesbot/salesbot/adapters/clock"
)

func TestSleepWaits(t *testing.T) {
	began := time.Now()
	if err := clock.Sleep(context.Background(), 20*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(began); took < 20*time.Millisecond {
		t.Fatalf("slept %v, want 20ms", took)
	}
	if err := clock.Sleep(context.Background(), 0); err != nil {
		t.Fatalf("no wait: %v", err)
	}
}

// A context that ends stops the wait with its cause; one that has ended
// stops it at once, whatever d.
func TestSleepEndsWithTheContext(t *testing.T) {
	stopped := errors.New("the service stops")
	ctx, cancel := context.WithCancelCause(context.Background())
	time.AfterFunc(10*time.Millisecond, func() { cancel(stopped) })
	began := time.Now()
	if err := clock.Sleep(ctx, time.Hour); !errors.Is(err, stopped) || time.Since(began) > 10*time.Second {
		t.Fatalf("Sleep = %v after %v, want the cause at once", err, time.Since(began))
	}
	for _, d := range []time.Duration{-time.Second, 0, time.Hour} {
		if err := clock.Sleep(ctx, d); !errors.Is(err, stopped) {
			t.Fatalf("Sleep(ended, %v) = %v, want the cause", d, err)
		}
	}
	plain, cancelPlain := context.WithCancel(context.Background())
	cancelPlain()
	if err := clock.Sleep(plain, time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatalf("Sleep(cancelled) = %v", err)
	}
}
