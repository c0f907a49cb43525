// Package storetest is the contract suite of eventstore.Store. Every
// implementation runs it:
//
//	func TestContract(t *testing.T) { storetest.Run(t, newStore) }
package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/eventstore"
)

// Factory opens a new, empty store with opts. The suite closes it; the
// factory registers any other clean-up with t.Cleanup.
type Factory func(t *testing.T, opts eventstore.Options) eventstore.Store

// Run runs every contract test against stores made by newStore.
func Run(t *testing.T, newStore Factory) {
	tests := []struct {
		name string
		fn   func(*testing.T, Factory)
	}{
		{"RoundTrip", testRoundTrip},
		{"ExpectedVersion", testExpectedVersion},
		{"InvalidInput", testInvalidInput},
		{"ReadAllPaging", testReadAllPaging},
		{"ReadStreamFromVersion", testReadStreamFromVersion},
		{"Scan", testScan},
		{"Subscribe", testSubscribe},
		{"ConcurrentAppends", testConcurrentAppends},
		{"PersonalDataAndForget", testPersonalDataAndForget},
		{"Upcasters", testUpcasters},
		{"Verify", testVerify},
		{"Secrets", testSecrets},
		{"Close", testClose},
		{"WaitHeadContext", testWaitHeadContext},
		{"IdentityAndHashes", testIdentityAndHashes},
		{"Erasure", testErasure},
		{"ErasureConcurrent", testErasureConcurrent},
		{"Fencing", testFencing},
		{"FencingConcurrent", testFencingConcurrent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newStore)
		})
	}
}

func open(t *testing.T, f Factory, opts eventstore.Options) eventstore.Store {
	t.Helper()
	s := f(t, opts)
	t.Cleanup(func() { s.Close() })
	return s
}

func ev(typ string, payload string) eventstore.Event {
	return eventstore.Event{Type: typ, Payload: []byte(payload)}
}

func mustAppend(t *testing.T, s eventstore.Store, stream string, exp eventstore.ExpectedVersion, evs ...eventstore.Event) eventstore.AppendResult {
	t.Helper()
	r, err := s.Append(t.Context(), stream, exp, evs...)
	if err != nil {
		t.Fatalf("append to %s: %v", stream, err)
	}
	return r
}

func testRoundTrip(t *testing.T, f Factory) {
	at := time.Date(2026, 11, 25, 10, 0, 0, 123456789, time.UTC)
	s := open(t, f, eventstore.Options{Now: func() time.Time { return at }})
	id, cause, corr := uuid.New(), uuid.New(), uuid.New()
	in := eventstore.Event{
		ID: id, Type: "DialogStarted", SchemaVersion: 3, CausationID: cause, CorrelationID: corr,
		Metadata: map[string]string{"actor": "admin:42", "source": "manual"},
		Payload:  []byte(`{"n":7}`),
		Subject:  "contact-1",
		Personal: map[string]string{"name": "Анна", "phone": "+100"},
	}
	r := mustAppend(t, s, "dialog-a", eventstore.NoStream, in, ev("MessageReceived", `{}`))
	if r.FirstPosition != 1 || r.LastPosition != 2 || r.Version != 2 {
		t.Fatalf("append result = %+v, want positions 1..2, version 2", r)
	}
	if h := s.Head(); h != 2 {
		t.Fatalf("head = %d, want 2", h)
	}
	got, err := s.ReadStream(t.Context(), "dialog-a", 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("read %d events, want 2", len(got))
	}
	e := got[0]
	if e.ID != id || e.Type != "DialogStarted" || e.SchemaVersion != 3 || e.CausationID != cause || e.CorrelationID != corr {
		t.Errorf("identity fields differ: %+v", e.Event)
	}
	if !maps.Equal(e.Metadata, in.Metadata) || !bytes.Equal(e.Payload, in.Payload) {
		t.Errorf("metadata/payload = %v %q", e.Metadata, e.Payload)
	}
	if e.Subject != "contact-1" || !maps.Equal(e.Personal, in.Personal) || e.Forgotten {
		t.Errorf("personal = %q %v forgotten=%v", e.Subject, e.Personal, e.Forgotten)
	}
	if e.Stream != "dialog-a" || e.Version != 1 || e.Position != 1 || !e.RecordedAt.Equal(at) {
		t.Errorf("placement = %s v%d p%d at %v", e.Stream, e.Version, e.Position, e.RecordedAt)
	}
	if e.PrevHash != [32]byte{} {
		t.Errorf("first event has previous hash %x", e.PrevHash)
	}
	second := got[1]
	if second.ID == uuid.Nil || second.ID.Version() != 7 {
		t.Errorf("assigned id %s is not a UUID v7", second.ID)
	}
	if second.SchemaVersion != 1 || second.PrevHash == [32]byte{} || second.Version != 2 {
		t.Errorf("second event: schema %d version %d prev %x", second.SchemaVersion, second.Version, second.PrevHash)
	}
	all, err := s.ReadAll(t.Context(), 1, 10)
	if err != nil || len(all) != 2 || all[1].ID != second.ID {
		t.Fatalf("ReadAll = %d events, %v", len(all), err)
	}
	if none, err := s.ReadStream(t.Context(), "dialog-missing", 1); err != nil || len(none) != 0 {
		t.Fatalf("missing stream: %d events, %v", len(none), err)
	}
	if v, err := s.StreamVersion(t.Context(), "dialog-a"); err != nil || v != 2 {
		t.Fatalf("StreamVersion = %d, %v; want 2", v, err)
	}
	if v, err := s.StreamVersion(t.Context(), "dialog-missing"); err != nil || v != 0 {
		t.Fatalf("StreamVersion of a missing stream = %d, %v", v, err)
	}
}

func testExpectedVersion(t *testing.T, f Factory) {
	s := open(t, f, eventstore.Options{})
	mustAppend(t, s, "account-1", eventstore.NoStream, ev("A", "1"), ev("A", "2"))

	cases := []struct {
		name   string
		exp    eventstore.ExpectedVersion
		wantOK bool
	}{
		{"no stream on existing", eventstore.NoStream, false},
		{"stale exact", eventstore.Exact(1), false},
		{"future exact", eventstore.Exact(5), false},
		{"exact", eventstore.Exact(2), true},
		{"any", eventstore.Any, true},
	}
	version := uint64(2)
	for _, c := range cases {
		r, err := s.Append(t.Context(), "account-1", c.exp, ev("B", c.name), ev("B", c.name))
		if c.wantOK {
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			version += 2
			if r.Version != version {
				t.Fatalf("%s: version %d, want %d", c.name, r.Version, version)
			}
			continue
		}
		var vc *eventstore.VersionConflictError
		if !errors.Is(err, eventstore.ErrVersionConflict) || !errors.As(err, &vc) {
			t.Fatalf("%s: err = %v, want a version conflict", c.name, err)
		}
		if vc.Actual != version || vc.Stream != "account-1" || vc.Expected != c.exp {
			t.Fatalf("%s: conflict = %+v, want actual %d", c.name, vc, version)
		}
	}
	got, err := s.ReadStream(t.Context(), "account-1", 1)
	if err != nil {
		t.Fatal(err)
	}
	if uint64(len(got)) != version || s.Head() != version {
		t.Fatalf("stream has %d events, head %d, want %d: a rejected batch was partly written", len(got), s.Head(), version)
	}
	for i, e := range got {
		if e.Version != uint64(i+1) {
			t.Fatalf("event %d has version %d", i, e.Version)
		}
	}
}

func testInvalidInput(t *testing.T, f Factory) {
	s := open(t, f, eventstore.Options{})
	cases := []struct {
		name   string
		stream string
		exp    eventstore.ExpectedVersion
		evs    []eventstore.Event
	}{
		{"empty stream", "", eventstore.Any, []eventstore.Event{ev("A", "")}},
		{"nul in stream", "a\x00b", eventstore.Any, []eventstore.Event{ev("A", "")}},
		{"no events", "s", eventstore.Any, nil},
		{"empty type", "s", eventstore.Any, []eventstore.Event{ev("A", ""), ev("", "")}},
		{"personal without subject", "s", eventstore.Any, []eventstore.Event{{Type: "A", Personal: map[string]string{"name": "x"}}}},
		{"event too large", "s", eventstore.Any, []eventstore.Event{{Type: "A", Payload: make([]byte, eventstore.MaxEventSize+1)}}},
		{"too many events", "s", eventstore.Any, manyEvents(eventstore.MaxAppendEvents + 1)},
		{"negative expected", "s", eventstore.ExpectedVersion(-7), []eventstore.Event{ev("A", "")}},
	}
	for _, c := range cases {
		_, err := s.Append(t.Context(), c.stream, c.exp, c.evs...)
		if !errors.Is(err, eventstore.ErrInvalidEvent) {
			t.Errorf("%s: err = %v, want ErrInvalidEvent", c.name, err)
		}
	}
	if h := s.Head(); h != 0 {
		t.Fatalf("head = %d after only invalid appends", h)
	}
}

func manyEvents(n int) []eventstore.Event {
	evs := make([]eventstore.Event, n)
	for i := range evs {
		evs[i] = ev("A", "")
	}
	return evs
}

func testReadAllPaging(t *testing.T, f Factory) {
	s := open(t, f, eventstore.Options{})
	for i := range 25 {
		mustAppend(t, s, fmt.Sprintf("s-%d", i%4), eventstore.Any, ev("E", fmt.Sprint(i)))
	}
	var seen []string
	for from := uint64(1); ; {
		page, err := s.ReadAll(t.Context(), from, 7)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		if len(page) > 7 {
			t.Fatalf("page of %d events, limit 7", len(page))
		}
		for _, e := range page {
			if e.Position != from {
				t.Fatalf("position %d, want %d", e.Position, from)
			}
			from++
			seen = append(seen, string(e.Payload))
		}
	}
	if len(seen) != 25 || seen[0] != "0" || seen[24] != "24" {
		t.Fatalf("paged through %d events: %v", len(seen), seen)
	}
	if page, err := s.ReadAll(t.Context(), 0, 3); err != nil || len(page) != 3 || page[0].Position != 1 {
		t.Fatalf("from 0 means from the start: %d events, %v", len(page), err)
	}
	if page, err := s.ReadAll(t.Context(), 26, 3); err != nil || len(page) != 0 {
		t.Fatalf("past the head: %d events, %v", len(page), err)
	}
}

func testScan(t *testing.T, f Factory) {
	s := open(t, f, eventstore.Options{})
	for i := range 12 {
		mustAppend(t, s, fmt.Sprintf("s-%d", i%2), eventstore.Any, eventstore.Event{
			Type: "E", Payload: []byte(fmt.Sprint(i)), Subject: "c", Personal: map[string]string{"text": fmt.Sprint("t", i)},
		})
	}
	want, err := s.ReadAll(t.Context(), 3, 6)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	err = s.Scan(t.Context(), 3, 6, func(e *eventstore.RecordedEvent) error {
		got = append(got, fmt.Sprintf("%d %s %s %s", e.Position, e.Stream, e.Payload, e.Personal["text"]))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) || len(got) != 6 {
		t.Fatalf("scan visited %d events, ReadAll returned %d, want 6", len(got), len(want))
	}
	for i, e := range want {
		if w := fmt.Sprintf("%d %s %s %s", e.Position, e.Stream, e.Payload, e.Personal["text"]); got[i] != w {
			t.Fatalf("scan event %d = %q, ReadAll %q", i, got[i], w)
		}
	}
	stop := errors.New("stop")
	n := 0
	err = s.Scan(t.Context(), 1, 100, func(*eventstore.RecordedEvent) error {
		n++
		if n == 4 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 4 {
		t.Fatalf("scan after fn's error: %v after %d events", err, n)
	}
	if err := s.Scan(t.Context(), 13, 10, func(*eventstore.RecordedEvent) error { return stop }); err != nil {
		t.Fatalf("scan past the head: %v", err)
	}
}

func testReadStreamFromVersion(t *testing.T, f Factory) {
	s := open(t, f, eventstore.Options{})
	for i := range 6 {
		mustAppend(t, s, "dialog-x", eventstore.Exact(uint64(i)), ev("E", fmt.Sprint(i+1)))
		mustAppend(t, s, "dialog-y", eventstore.Any, ev("E", "noise"))
	}
	got, err := s.ReadStream(t.Context(), "dialog-x", 4)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].Version != 4 || string(got[0].Payload) != "4" || got[2].Version != 6 {
		t.Fatalf("from version 4: %d events, first %+v", len(got), got)
	}
	// A stream name that is a prefix of another must not see its events.
	mustAppend(t, s, "dialog-x1", eventstore.NoStream, ev("E", "other"))
	got, err = s.ReadStream(t.Context(), "dialog-x", 7)
	if err != nil || len(got) != 0 {
		t.Fatalf("past the end: %d events, %v", len(got), err)
	}
}

func testSubscribe(t *testing.T, f Factory) {
	s := open(t, f, eventstore.Options{})
	for i := range 10 {
		mustAppend(t, s, "s", eventstore.Any, ev("E", fmt.Sprint(i)))
	}
	const total = 200
	errc := make(chan error, 1)
	go func() {
		for i := 10; i < total; i++ {
			if _, err := s.Append(context.Background(), fmt.Sprintf("w-%d", i%3), eventstore.Any, ev("E", fmt.Sprint(i))); err != nil {
				errc <- err
				return
			}
		}
		errc <- nil
	}()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	sub := eventstore.Subscribe(s, 1, 16)
	want := uint64(1)
	for want <= total {
		evs, err := sub.Next(ctx)
		if err != nil {
			t.Fatalf("next at %d: %v", want, err)
		}
		if len(evs) == 0 || len(evs) > 16 {
			t.Fatalf("batch of %d events", len(evs))
		}
		for _, e := range evs {
			if e.Position != want || string(e.Payload) != fmt.Sprint(want-1) {
				t.Fatalf("got position %d payload %q, want position %d: skipped or repeated", e.Position, e.Payload, want)
			}
			want++
		}
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	// Starting in the middle delivers from there.
	mid := eventstore.Subscribe(s, 150, 0)
	evs, err := mid.Next(ctx)
	if err != nil || evs[0].Position != 150 {
		t.Fatalf("subscription from 150 starts at %v (%v)", evs, err)
	}
	short, cancelShort := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancelShort()
	if _, err := sub.Next(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("next with nothing new: %v, want deadline exceeded", err)
	}
}

// testConcurrentAppends has writers on their own streams and on shared
// streams (retrying on conflicts); every acknowledged event must be read
// back exactly once, in order, with no version gaps.
func testConcurrentAppends(t *testing.T, f Factory) {
	s := open(t, f, eventstore.Options{})
	const writers, perWriter = 16, 40
	type ack struct {
		stream string
		res    eventstore.AppendResult
		n      int
	}
	acks := make(chan ack, writers*perWriter)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			own := fmt.Sprintf("own-%d", w)
			var ownVersion uint64
			for i := range perWriter {
				if i%2 == 0 {
					r, err := s.Append(context.Background(), own, eventstore.Exact(ownVersion),
						ev("E", fmt.Sprintf("%s/%d/a", own, i)), ev("E", fmt.Sprintf("%s/%d/b", own, i)))
					if err != nil {
						t.Errorf("own append: %v", err)
						return
					}
					ownVersion = r.Version
					acks <- ack{own, r, 2}
					continue
				}
				shared := fmt.Sprintf("shared-%d", i%3)
				for attempt := 0; ; attempt++ {
					cur, err := s.ReadStream(context.Background(), shared, 1)
					if err != nil {
						t.Errorf("read shared: %v", err)
						return
					}
					r, err := s.Append(context.Background(), shared, eventstore.Exact(uint64(len(cur))), ev("E", fmt.Sprintf("%s/%d", own, i)))
					if errors.Is(err, eventstore.ErrVersionConflict) && attempt < 1000 {
						continue
					}
					if err != nil {
						t.Errorf("shared append: %v", err)
						return
					}
					acks <- ack{shared, r, 1}
					break
				}
			}
		})
	}
	wg.Wait()
	close(acks)
	if t.Failed() {
		return
	}
	acked := map[uint64]string{}
	var total int
	for a := range acks {
		if a.res.LastPosition-a.res.FirstPosition+1 != uint64(a.n) {
			t.Fatalf("append of %d events got positions %d..%d", a.n, a.res.FirstPosition, a.res.LastPosition)
		}
		for p := a.res.FirstPosition; p <= a.res.LastPosition; p++ {
			if prev, dup := acked[p]; dup {
				t.Fatalf("position %d acknowledged twice (%s and %s)", p, prev, a.stream)
			}
			acked[p] = a.stream
		}
		total += a.n
	}
	all, err := s.ReadAll(t.Context(), 1, total+10)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != total {
		t.Fatalf("log has %d events, %d acknowledged", len(all), total)
	}
	versions := map[string]uint64{}
	payloads := map[string]bool{}
	for i, e := range all {
		if e.Position != uint64(i+1) {
			t.Fatalf("event %d has position %d", i, e.Position)
		}
		if acked[e.Position] != e.Stream {
			t.Fatalf("position %d is in stream %s, acknowledged for %s", e.Position, e.Stream, acked[e.Position])
		}
		if e.Version != versions[e.Stream]+1 {
			t.Fatalf("stream %s jumps from version %d to %d", e.Stream, versions[e.Stream], e.Version)
		}
		versions[e.Stream] = e.Version
		if payloads[string(e.Payload)] {
			t.Fatalf("payload %q stored twice", e.Payload)
		}
		payloads[string(e.Payload)] = true
	}
	if _, err := s.Verify(t.Context(), nil); err != nil {
		t.Fatalf("verify after concurrent appends: %v", err)
	}
}

func testPersonalDataAndForget(t *testing.T, f Factory) {
	s := open(t, f, eventstore.Options{})
	pe := func(subject, text string) eventstore.Event {
		return eventstore.Event{Type: "MessageReceived", Subject: subject, Personal: map[string]string{"text": text, "name": "Lead " + subject}}
	}
	mustAppend(t, s, "dialog-1", eventstore.NoStream, pe("c1", "hello"), pe("c2", "bonjour"))
	if err := s.Forget(t.Context(), "c1"); err != nil {
		t.Fatal(err)
	}
	if err := s.Forget(t.Context(), "c1"); err != nil {
		t.Fatalf("forgetting twice: %v", err)
	}
	got, err := s.ReadStream(t.Context(), "dialog-1", 1)
	if err != nil {
		t.Fatal(err)
	}
	if !got[0].Forgotten || got[0].Personal["text"] != eventstore.ForgottenMarker || got[0].Personal["name"] != eventstore.ForgottenMarker {
		t.Fatalf("forgotten subject reads %v (forgotten=%v)", got[0].Personal, got[0].Forgotten)
	}
	if got[1].Forgotten || got[1].Personal["text"] != "bonjour" {
		t.Fatalf("other subject reads %v", got[1].Personal)
	}
	if _, err := s.Append(t.Context(), "dialog-1", eventstore.Any, pe("c1", "again")); !errors.Is(err, eventstore.ErrForgotten) {
		t.Fatalf("append for a forgotten subject: %v, want ErrForgotten", err)
	}
	if _, err := s.Verify(t.Context(), nil); err != nil {
		t.Fatalf("verify after forget: %v", err)
	}
}

func testUpcasters(t *testing.T, f Factory) {
	var up eventstore.Upcasters
	up.Register("LeadScored", 1, func(p []byte) ([]byte, error) {
		var v1 struct{ Score int }
		if err := json.Unmarshal(p, &v1); err != nil {
			return nil, err
		}
		return json.Marshal(map[string]any{"score": v1.Score, "scale": 100})
	})
	up.Register("LeadScored", 2, func(p []byte) ([]byte, error) {
		return append(bytes.TrimSuffix(p, []byte("}")), []byte(`,"v3":true}`)...), nil
	})
	s := open(t, f, eventstore.Options{Upcasters: &up})
	mustAppend(t, s, "dialog-u", eventstore.NoStream,
		eventstore.Event{Type: "LeadScored", SchemaVersion: 1, Payload: []byte(`{"Score":80}`)},
		eventstore.Event{Type: "LeadScored", SchemaVersion: 3, Payload: []byte(`{"score":1,"scale":100,"v3":true}`)},
		eventstore.Event{Type: "LeadScored", SchemaVersion: 1, Payload: []byte(`not json`)},
	)
	got, err := s.ReadStream(t.Context(), "dialog-u", 1)
	if err == nil {
		t.Fatalf("an upcaster error must surface, read %d events", len(got))
	}
	ok, err := s.ReadAll(t.Context(), 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	if ok[0].SchemaVersion != 3 || string(ok[0].Payload) != `{"scale":100,"score":80,"v3":true}` {
		t.Fatalf("upcast v1 → v%d %s", ok[0].SchemaVersion, ok[0].Payload)
	}
	if ok[1].SchemaVersion != 3 || string(ok[1].Payload) != `{"score":1,"scale":100,"v3":true}` {
		t.Fatalf("current version changed: v%d %s", ok[1].SchemaVersion, ok[1].Payload)
	}
	if _, err := s.Verify(t.Context(), nil); err != nil {
		t.Fatalf("upcasting must not touch stored bytes: %v", err)
	}
}

func testVerify(t *testing.T, f Factory) {
	s := open(t, f, eventstore.Options{})
	empty, err := s.Verify(t.Context(), nil)
	if err != nil || empty.Events != 0 {
		t.Fatalf("verify of an empty log: %+v %v", empty, err)
	}
	for i := range 30 {
		mustAppend(t, s, fmt.Sprintf("s-%d", i%5), eventstore.Any, ev("E", fmt.Sprint(i)))
	}
	var last uint64
	rep, err := s.Verify(t.Context(), func(done, total uint64) { last = done })
	if err != nil {
		t.Fatal(err)
	}
	if rep.Events != 30 || rep.Streams != 5 || rep.HeadHash == [32]byte{} || last != 30 {
		t.Fatalf("report %+v, last progress %d", rep, last)
	}
	mustAppend(t, s, "s-0", eventstore.Any, ev("E", "more"))
	rep2, err := s.Verify(t.Context(), nil)
	if err != nil || rep2.Events != 31 || rep2.HeadHash == rep.HeadHash {
		t.Fatalf("verify after one more append: %+v %v", rep2, err)
	}
}

func testSecrets(t *testing.T, f Factory) {
	s := open(t, f, eventstore.Options{})
	sec, ok := s.(eventstore.Secrets)
	if !ok {
		t.Skip("store keeps no secrets")
	}
	ctx := t.Context()
	if _, err := sec.Secret(ctx, "session/1"); !errors.Is(err, eventstore.ErrNotFound) {
		t.Fatalf("missing secret: %v", err)
	}
	if err := sec.PutSecret(ctx, "session/1", []byte("auth key")); err != nil {
		t.Fatal(err)
	}
	if err := sec.PutSecret(ctx, "session/2", []byte("other")); err != nil {
		t.Fatal(err)
	}
	if v, err := sec.Secret(ctx, "session/1"); err != nil || string(v) != "auth key" {
		t.Fatalf("secret = %q, %v", v, err)
	}
	if err := sec.PutSecret(ctx, "session/1", []byte("rotated")); err != nil {
		t.Fatal(err)
	}
	if v, err := sec.Secret(ctx, "session/1"); err != nil || string(v) != "rotated" {
		t.Fatalf("overwritten secret = %q, %v", v, err)
	}
	if err := sec.PutSecretNoSync(ctx, "cursor", []byte("pts 7")); err != nil {
		t.Fatal(err)
	}
	if v, err := sec.Secret(ctx, "cursor"); err != nil || string(v) != "pts 7" {
		t.Fatalf("unsynced secret = %q, %v", v, err)
	}
	if err := sec.PutSecretNoSync(ctx, "", []byte("x")); !errors.Is(err, eventstore.ErrInvalidEvent) {
		t.Fatalf("unsynced secret without a name: %v", err)
	}
	if err := sec.DeleteSecret(ctx, "session/1"); err != nil {
		t.Fatal(err)
	}
	if _, err := sec.Secret(ctx, "session/1"); !errors.Is(err, eventstore.ErrNotFound) {
		t.Fatalf("deleted secret: %v", err)
	}
	if v, err := sec.Secret(ctx, "session/2"); err != nil || string(v) != "other" {
		t.Fatalf("untouched secret = %q, %v", v, err)
	}
	if err := sec.PutSecret(ctx, "", []byte("x")); !errors.Is(err, eventstore.ErrInvalidEvent) {
		t.Fatalf("empty name: %v", err)
	}
	if err := sec.PutSecret(ctx, "tg/a/peer/2", []byte("p2")); err != nil {
		t.Fatal(err)
	}
	if err := sec.PutSecret(ctx, "tg/a/peer/1", []byte("p1")); err != nil {
		t.Fatal(err)
	}
	if err := sec.PutSecret(ctx, "tg/b/peer/1", []byte("b1")); err != nil {
		t.Fatal(err)
	}
	names, err := sec.SecretNames(ctx, "tg/a/")
	if err != nil || fmt.Sprint(names) != "[tg/a/peer/1 tg/a/peer/2]" {
		t.Fatalf("SecretNames(tg/a/) = %q, %v", names, err)
	}
	if names, err := sec.SecretNames(ctx, "nothing/"); err != nil || len(names) != 0 {
		t.Fatalf("SecretNames of no secret = %q, %v", names, err)
	}
	if s.Head() != 0 {
		t.Fatal("secrets must not be events")
	}
}

// testIdentityAndHashes: a log has an id of its own, HashAt gives the hash
// each next event records, and the index key is 32 bytes that depend on
// the master key.
func testIdentityAndHashes(t *testing.T, f Factory) {
	key := bytes.Repeat([]byte{7}, eventstore.MasterKeySize)
	s := open(t, f, eventstore.Options{MasterKey: key})
	other := open(t, f, eventstore.Options{MasterKey: bytes.Repeat([]byte{8}, eventstore.MasterKeySize)})
	if s.LogID() == uuid.Nil || s.LogID() == other.LogID() {
		t.Fatalf("log ids %s and %s: want two different non-nil ids", s.LogID(), other.LogID())
	}
	if k := s.IndexKey(); len(k) != 32 || bytes.Equal(k, other.IndexKey()) || bytes.Equal(k, key) {
		t.Fatalf("index key %x: want 32 bytes, not the master key, different under another master key", k)
	}
	if _, err := s.HashAt(t.Context(), 1); !errors.Is(err, eventstore.ErrNotFound) {
		t.Fatalf("HashAt(1) of an empty log: %v", err)
	}
	mustAppend(t, s, "s", eventstore.NoStream, ev("E", "1"), ev("E", "2"))
	h1, err := s.HashAt(t.Context(), 1)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := s.ReadAll(t.Context(), 2, 1)
	if err != nil || len(recs) != 1 {
		t.Fatalf("read position 2: %v", err)
	}
	if recs[0].PrevHash != h1 {
		t.Fatalf("HashAt(1) = %x, position 2 records previous hash %x", h1, recs[0].PrevHash)
	}
	h2, err := s.HashAt(t.Context(), 2)
	if err != nil || h2 == h1 {
		t.Fatalf("HashAt(2) = %x, %v", h2, err)
	}
	if rep, err := s.Verify(t.Context(), nil); err != nil || rep.HeadHash != h2 {
		t.Fatalf("verify head hash %x, HashAt(head) %x, %v", rep.HeadHash, h2, err)
	}
	for _, pos := range []uint64{0, 3} {
		if _, err := s.HashAt(t.Context(), pos); !errors.Is(err, eventstore.ErrNotFound) {
			t.Fatalf("HashAt(%d) of a 2-event log: %v", pos, err)
		}
	}
}

func testClose(t *testing.T, f Factory) {
	s := f(t, eventstore.Options{})
	mustAppend(t, s, "s", eventstore.NoStream, ev("E", ""))
	waited := make(chan error, 1)
	go func() { _, err := s.WaitHead(context.Background(), 5); waited <- err }()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(t.Context(), "s", eventstore.Any, ev("E", "")); !errors.Is(err, eventstore.ErrClosed) {
		t.Fatalf("append after close: %v", err)
	}
	personal := eventstore.Event{Type: "E", Subject: "new", Personal: map[string]string{"x": "y"}}
	if _, err := s.Append(t.Context(), "s", eventstore.Any, personal); !errors.Is(err, eventstore.ErrClosed) {
		t.Fatalf("append with personal data after close: %v", err)
	}
	if _, err := s.ReadAll(t.Context(), 1, 10); !errors.Is(err, eventstore.ErrClosed) {
		t.Fatalf("ReadAll after close: %v", err)
	}
	if _, err := s.ReadStream(t.Context(), "s", 1); !errors.Is(err, eventstore.ErrClosed) {
		t.Fatalf("ReadStream after close: %v", err)
	}
	if _, err := eventstore.Subscribe(s, 1, 0).Next(t.Context()); !errors.Is(err, eventstore.ErrClosed) {
		t.Fatalf("subscription after close: %v", err)
	}
	if _, err := s.Verify(t.Context(), nil); !errors.Is(err, eventstore.ErrClosed) {
		t.Fatalf("Verify after close: %v", err)
	}
	select {
	case err := <-waited:
		if !errors.Is(err, eventstore.ErrClosed) {
			t.Fatalf("WaitHead on close: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("WaitHead still blocked after Close")
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
}

func testWaitHeadContext(t *testing.T, f Factory) {
	s := open(t, f, eventstore.Options{})
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Millisecond)
	defer cancel()
	if _, err := s.WaitHead(ctx, 0); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitHead on an empty log: %v", err)
	}
	mustAppend(t, s, "s", eventstore.NoStream, ev("E", ""))
	if h, err := s.WaitHead(t.Context(), 0); err != nil || h != 1 {
		t.Fatalf("WaitHead = %d, %v", h, err)
	}
}

// testErasure: an event with Metadata[MetaErases] erases its subject in
// the same append; the subject's personal data reads as forgotten at once,
// new personal data of it is refused, and verify counts one erasure bound
// to its event.
func testErasure(t *testing.T, f Factory) {
	s := open(t, f, eventstore.Options{})
	ctx := t.Context()
	personal := eventstore.Event{Type: "MessageReceived", Subject: "c1", Personal: map[string]string{"text": "call me on +491511234"}}
	mustAppend(t, s, "dialog-1", eventstore.NoStream, personal)
	erase := eventstore.Event{Type: "ContactForgotten", Metadata: map[string]string{eventstore.MetaErases: "c1"}}
	if _, err := s.Append(ctx, "contact-c1", eventstore.Any, erase, personal); !errors.Is(err, eventstore.ErrInvalidEvent) {
		t.Fatalf("an append that erases c1, then seals its data: %v, want ErrInvalidEvent", err)
	}
	if _, err := s.Append(ctx, "contact-c1", eventstore.Any, eventstore.Event{Type: "X", Metadata: map[string]string{eventstore.MetaErases: ""}}); !errors.Is(err, eventstore.ErrInvalidEvent) {
		t.Fatalf("an erasure of no subject: %v, want ErrInvalidEvent", err)
	}
	mustAppend(t, s, "contact-c1", eventstore.Any, erase)
	recs, err := s.ReadStream(ctx, "dialog-1", 1)
	if err != nil || !recs[0].Forgotten || recs[0].Personal["text"] != eventstore.ForgottenMarker {
		t.Fatalf("personal data after its erasure: %+v %v", recs, err)
	}
	if _, err := s.Append(ctx, "dialog-1", eventstore.Any, personal); !errors.Is(err, eventstore.ErrForgotten) {
		t.Fatalf("personal data of an erased subject: %v, want ErrForgotten", err)
	}
	rep, err := s.Verify(ctx, nil)
	if err != nil || rep.Erased != 1 || rep.Unbound != 0 || rep.Subjects != 1 {
		t.Fatalf("verify after an erasure: %+v %v", rep, err)
	}
}

// testErasureConcurrent: erasures and new personal data of the same
// subjects race (in one group of appends, on a store that groups them):
// personal data is either refused with ErrForgotten or stored before the
// erasure, never after it.
func testErasureConcurrent(t *testing.T, f Factory) {
	s := open(t, f, eventstore.Options{})
	ctx := t.Context()
	const subjects = 64
	type result struct {
		erased, sealed uint64 // positions; 0: not stored
		err            error
	}
	results := make([]result, subjects)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range subjects {
		subject := fmt.Sprintf("c%d", i)
		wg.Add(2)
		go func() {
			defer wg.Done()
			<-start
			r, err := s.Append(ctx, "contact-"+subject, eventstore.Any, eventstore.Event{Type: "ContactForgotten", Metadata: map[string]string{eventstore.MetaErases: subject}})
			if err != nil {
				t.Errorf("erase %s: %v", subject, err)
			}
			results[i].erased = r.LastPosition
		}()
		go func() {
			defer wg.Done()
			<-start
			r, err := s.Append(ctx, "dialog-"+subject, eventstore.Any, eventstore.Event{Type: "MessageReceived", Subject: subject, Personal: map[string]string{"text": "hi"}})
			if err != nil && !errors.Is(err, eventstore.ErrForgotten) {
				t.Errorf("personal data of %s: %v", subject, err)
			}
			results[i].sealed, results[i].err = r.LastPosition, err
		}()
	}
	close(start)
	wg.Wait()
	refused := 0
	for i, r := range results {
		switch {
		case r.err != nil:
			refused++
		case r.sealed > r.erased:
			t.Errorf("personal data of c%d stored at %d, after its erasure at %d", i, r.sealed, r.erased)
		}
	}
	t.Logf("%d of %d personal appends came after the erasure and were refused", refused, subjects)
}

// testFencing: a fenced append is written only under the latest granted
// epoch of its lease; a grant must be newer than the latest.
func testFencing(t *testing.T, f Factory) {
	s := open(t, f, eventstore.Options{})
	fs, ok := s.(eventstore.Fenced)
	if !ok {
		t.Fatalf("%T does not implement eventstore.Fenced", s)
	}
	ctx := t.Context()
	const key = "account-x"
	grant := func(holder string, epoch uint64) error {
		_, err := s.Append(ctx, eventstore.LeaseStream(key), eventstore.Any,
			eventstore.LeaseGranted{Key: key, Holder: holder, Epoch: epoch}.Event())
		return err
	}
	a := eventstore.Fence{Key: key, Epoch: 1}
	b := eventstore.Fence{Key: key, Epoch: 2}

	// Never granted: nobody gets past the fence.
	_, err := fs.AppendFenced(ctx, "acct", eventstore.Any, a, ev("Sent", `{"n":0}`))
	var fe *eventstore.FencedError
	if !errors.As(err, &fe) || fe.Key != key || fe.Epoch != 1 || fe.Current != 0 {
		t.Fatalf("fenced append before any grant: %v, want a FencedError naming epoch 1 and 0", err)
	}
	if err := grant("node-a", 1); err != nil {
		t.Fatalf("grant epoch 1: %v", err)
	}
	if _, err := fs.AppendFenced(ctx, "acct", eventstore.NoStream, a, ev("Sent", `{"n":1}`)); err != nil {
		t.Fatalf("A's append under epoch 1: %v", err)
	}
	if err := grant("node-b", 2); err != nil {
		t.Fatalf("grant epoch 2: %v", err)
	}
	head := s.Head()
	_, err = fs.AppendFenced(ctx, "acct", eventstore.Any, a, ev("Sent", `{"n":2}`))
	if !errors.Is(err, eventstore.ErrFenced) || !errors.As(err, &fe) || fe.Epoch != 1 || fe.Current != 2 || fe.Grant {
		t.Fatalf("A's append under epoch 1 after epoch 2: %v, want ErrFenced naming epochs 1 and 2", err)
	}
	if s.Head() != head {
		t.Fatalf("a fenced-off append moved the head from %d to %d", head, s.Head())
	}
	// A late grant cannot bring an old epoch back.
	err = grant("node-a", 1)
	if !errors.As(err, &fe) || !fe.Grant || fe.Current != 2 {
		t.Fatalf("grant of epoch 1 after 2: %v, want a FencedError for a grant", err)
	}
	if _, err := fs.AppendFenced(ctx, "acct", eventstore.Exact(1), b, ev("Sent", `{"n":3}`)); err != nil {
		t.Fatalf("B's append under epoch 2: %v", err)
	}
	// The fence is checked with the stream's version, not instead of it.
	if _, err := fs.AppendFenced(ctx, "acct", eventstore.Exact(1), b, ev("Sent", `{"n":4}`)); !errors.Is(err, eventstore.ErrVersionConflict) {
		t.Fatalf("stale version under the right epoch: %v, want ErrVersionConflict", err)
	}
	// Unfenced appends do not look at leases.
	mustAppend(t, s, "acct", eventstore.Exact(2), ev("Note", `{}`))
	// Bad grants and fences are refused as input.
	if _, err := s.Append(ctx, eventstore.LeaseStream(key), eventstore.Any,
		eventstore.LeaseGranted{Key: "other", Holder: "n", Epoch: 9}.Event()); !errors.Is(err, eventstore.ErrInvalidEvent) {
		t.Fatalf("grant of another key in %s: %v, want ErrInvalidEvent", eventstore.LeaseStream(key), err)
	}
	if _, err := fs.AppendFenced(ctx, "acct", eventstore.Any, eventstore.Fence{Key: key}, ev("Sent", `{}`)); !errors.Is(err, eventstore.ErrInvalidEvent) {
		t.Fatalf("fence without an epoch: %v, want ErrInvalidEvent", err)
	}

	evs, err := s.ReadStream(ctx, "acct", 1)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range evs {
		got = append(got, string(e.Payload))
	}
	want := []string{`{"n":1}`, `{"n":3}`, `{}`}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("stream acct holds %v, want %v", got, want)
	}
	grants, err := s.ReadStream(ctx, eventstore.LeaseStream(key), 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(grants) != 2 || grants[0].Type != eventstore.LeaseGrantedType {
		t.Fatalf("lease stream holds %d events, want the 2 grants", len(grants))
	}
	if _, err := s.Verify(ctx, nil); err != nil {
		t.Fatalf("verify: %v", err)
	}
}

// testFencingConcurrent: appends under an epoch racing a new grant are
// either written before the grant or fenced off, never after it.
func testFencingConcurrent(t *testing.T, f Factory) {
	s := open(t, f, eventstore.Options{})
	fs := s.(eventstore.Fenced)
	ctx := t.Context()
	const key = "account-y"
	if _, err := s.Append(ctx, eventstore.LeaseStream(key), eventstore.Any, eventstore.LeaseGranted{Key: key, Holder: "a", Epoch: 1}.Event()); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := fs.AppendFenced(ctx, "acct-y", eventstore.Any, eventstore.Fence{Key: key, Epoch: 1}, ev("Sent", fmt.Sprintf(`{"n":%d}`, i)))
			if err != nil && !errors.Is(err, eventstore.ErrFenced) {
				errs <- err
			}
		}()
		if i == 20 {
			if _, err := s.Append(ctx, eventstore.LeaseStream(key), eventstore.Any, eventstore.LeaseGranted{Key: key, Holder: "b", Epoch: 2}.Event()); err != nil {
				t.Fatal(err)
			}
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("fenced append: %v", err)
	}
	all, err := s.ReadAll(ctx, 1, 1000)
	if err != nil {
		t.Fatal(err)
	}
	granted := false
	for _, e := range all {
		if e.Stream == eventstore.LeaseStream(key) && e.Version == 2 {
			granted = true
		} else if granted && e.Stream == "acct-y" {
			t.Fatalf("append under epoch 1 at position %d, after the grant of epoch 2", e.Position)
		}
	}
	if !granted {
		t.Fatal("the grant of epoch 2 is not in the log")
	}
}
