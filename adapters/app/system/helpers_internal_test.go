package system

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/salesbot/salesbot/adapters/app/tokens"
	"github.com/salesbot/salesbot/adapters/eventlog"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/eventstore"
)

// freeAddr is host:port of a loopback port nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// newToken records an API token of scope on st (before New reads them)
// and returns it.
func newToken(t *testing.T, st eventstore.Store, scope domain.Scope) string {
	t.Helper()
	tk, err := tokens.New(t.Context(), tokens.Config{Log: eventlog.New(st), Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	c, err := tk.Create(t.Context(), "test-"+string(scope), scope, "cli")
	if err != nil {
		t.Fatal(err)
	}
	return c.Token.Reveal()
}

// startSystem builds the System of cfg and runs it until the test ends
// (then it must stop cleanly).
func startSystem(t *testing.T, cfg Config) *System {
	t.Helper()
	s, err := New(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	})
	return s
}
