package logmigrate_test

import (
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/adapters/app/logmigrate"
	"github.com/salesbot/salesbot/eventstore"
	"github.com/salesbot/salesbot/eventstore/jetstreamtest"
)

func key() []byte {
	k := make([]byte, eventstore.MasterKeySize)
	for i := range k {
		k[i] = byte(3 * i)
	}
	return k
}

// clock is a settable Options.Now.
type clock struct{ t atomic.Pointer[time.Time] }

func (c *clock) now() time.Time  { return *c.t.Load() }
func (c *clock) set(t time.Time) { c.t.Store(&t) }

// source writes a small Pebble log: dialogs with personal data, a contact
// erased by an event, one forgotten directly, appends of several events,
// secrets; each append at its own time.
func source(t *testing.T) *eventstore.PebbleStore {
	var c clock
	c.set(time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC))
	s, err := eventstore.Open(t.TempDir(), eventstore.Options{MasterKey: key(), Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	ctx := t.Context()
	for i := range 30 {
		c.set(c.now().Add(time.Duration(i%3) * time.Second)) // some appends share a time
		contact := fmt.Sprintf("contact-%d", i%4)
		evs := []eventstore.Event{{Type: "MessageReceived", Payload: fmt.Appendf(nil, `{"i":%d}`, i), Subject: contact,
			Personal: map[string]string{"text": fmt.Sprintf("привет %d", i)}, Metadata: map[string]string{"source": "test"}}}
		if i%5 == 0 {
			evs = append(evs, eventstore.Event{Type: "Qualified", Payload: []byte(`{}`)})
		}
		if _, err := s.Append(ctx, fmt.Sprintf("dialog-%d", i%4), eventstore.Any, evs...); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Append(ctx, "contact-2", eventstore.Any, eventstore.Event{Type: "ContactErased", Metadata: map[string]string{eventstore.MetaErases: "contact-2"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Forget(ctx, "contact-3"); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"tg/session/1", "cursor"} {
		if err := s.PutSecret(ctx, name, []byte("value of "+name)); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func check(t *testing.T, from *eventstore.PebbleStore, to logmigrate.Log, c *clock) {
	t.Helper()
	ctx := t.Context()
	var last uint64
	rep, err := logmigrate.Copy(ctx, from, to, c.set, func(done, _ uint64) { last = done })
	if err != nil {
		t.Fatal(err)
	}
	if rep.Events != from.Head() || last != from.Head() || rep.Secrets != 2 || rep.Forgotten != 2 || rep.Target.Events != rep.Source.Events || rep.Target.Erased != 2 {
		t.Fatalf("report %+v, progress %d; the source has %d events", rep, last, from.Head())
	}
	evs, err := to.ReadStream(ctx, "dialog-1", 1)
	if err != nil || len(evs) == 0 || evs[0].Personal["text"] != "привет 1" {
		t.Fatalf("the copy's personal data: %+v %v", evs, err)
	}
	if v, err := to.Secret(ctx, "tg/session/1"); err != nil || string(v) != "value of tg/session/1" {
		t.Fatalf("copied secret %q %v", v, err)
	}
	if _, err := to.Append(ctx, "dialog-3", eventstore.Any, eventstore.Event{Type: "E", Subject: "contact-3", Personal: map[string]string{"x": "y"}}); !errors.Is(err, eventstore.ErrForgotten) {
		t.Fatalf("a contact forgotten in the source takes personal data in the copy: %v", err)
	}
	if _, err := logmigrate.Copy(ctx, from, to, c.set, nil); !errors.Is(err, logmigrate.ErrTargetNotEmpty) {
		t.Fatalf("a second copy into the same log: %v", err)
	}
	if err := logmigrate.Compare(ctx, from, to); err != nil {
		t.Fatalf("compare right after the copy: %v", err)
	}
	if _, err := to.Append(ctx, "dialog-0", eventstore.Any, eventstore.Event{Type: "E"}); err != nil {
		t.Fatal(err)
	}
	if err := logmigrate.Compare(ctx, from, to); !errors.Is(err, logmigrate.ErrMismatch) {
		t.Fatalf("compare after the copy moved on: %v", err)
	}
}

func TestCopyIntoMemory(t *testing.T) {
	from := source(t)
	var c clock
	c.set(time.Now())
	to, err := eventstore.NewMemory(eventstore.Options{MasterKey: key(), Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	check(t, from, to, &c)
}

// The copy a user makes: a Pebble data dir into a log on the machine's
// NATS server.
func TestCopyIntoJetStream(t *testing.T) {
	name := jetstreamtest.NewLog(t, jetstreamtest.URL())
	from := source(t)
	var c clock
	c.set(time.Now())
	to, err := eventstore.OpenJetStream(t.Context(), jetstreamtest.URL()+"/"+name, eventstore.Options{MasterKey: key(), Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	defer to.Close()
	check(t, from, to, &c)
}

// Compare names the first position where two logs of the same length
// differ.
func TestCompareNamesTheFirstDifference(t *testing.T) {
	var logs [2]*eventstore.MemoryStore
	for i := range logs {
		at := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
		s, err := eventstore.NewMemory(eventstore.Options{MasterKey: key(), Now: func() time.Time { return at }})
		if err != nil {
			t.Fatal(err)
		}
		logs[i] = s
		for n, p := range []string{"a", "b" + fmt.Sprint(i), "c"} {
			if _, err := s.Append(t.Context(), "s", eventstore.Exact(uint64(n)), eventstore.Event{ID: uuid.NewSHA1(uuid.Nil, []byte(p[:1])), Type: "E", Payload: []byte(p)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	err := logmigrate.Compare(t.Context(), logs[0], logs[1])
	if !errors.Is(err, logmigrate.ErrMismatch) || !strings.Contains(err.Error(), "position 2: type, schema version or payload differ") {
		t.Fatalf("compare: %v", err)
	}
}
