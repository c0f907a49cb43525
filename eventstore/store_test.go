package eventstore_test

import (
	"errors"
	"testing"

	"github.com/salesbot/salesbot/eventstore"
	"github.com/salesbot/salesbot/eventstore/storetest"
)

func testKey() []byte {
	k := make([]byte, eventstore.MasterKeySize)
	for i := range k {
		k[i] = byte(i + 1)
	}
	return k
}

func newPebble(t *testing.T, opts eventstore.Options) eventstore.Store {
	if opts.MasterKey == nil {
		opts.MasterKey = testKey()
	}
	s, err := eventstore.Open(t.TempDir(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newMemory(t *testing.T, opts eventstore.Options) eventstore.Store {
	s, err := eventstore.NewMemory(opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestPebbleContract(t *testing.T) { storetest.Run(t, newPebble) }
func TestMemoryContract(t *testing.T) { storetest.Run(t, newMemory) }

func TestRetainedStoreClosesWithItsLastHolder(t *testing.T) {
	ctx := t.Context()
	s, err := eventstore.Open(t.TempDir(), eventstore.Options{MasterKey: testKey()})
	if err != nil {
		t.Fatal(err)
	}
	borrowed := s.Retain()
	if err := s.Close(); err != nil { // the opener lets go first
		t.Fatal(err)
	}
	if _, err := borrowed.Append(ctx, "s", eventstore.NoStream, eventstore.Event{Type: "T", Payload: []byte(`{}`)}); err != nil {
		t.Fatalf("append by the remaining holder: %v", err)
	}
	if err := borrowed.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(ctx, "s", 1, eventstore.Event{Type: "T", Payload: []byte(`{}`)}); !errors.Is(err, eventstore.ErrClosed) {
		t.Fatalf("append after the last holder closed: %v, want ErrClosed", err)
	}
}
