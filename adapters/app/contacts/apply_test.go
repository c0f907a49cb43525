package contacts_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/adapters/app/contacts"
	"github.com/salesbot/salesbot/adapters/eventlog"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/eventstore"
)

var t0 = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

type world struct {
	t     *testing.T
	store eventstore.Store
	h     domain.Handlers
}

func newWorld(t *testing.T) *world {
	store, err := eventstore.NewMemory(eventstore.Options{Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	return &world{t: t, store: store, h: domain.Handlers{Log: eventlog.New(store), Index: domain.NewIndexKey(store.IndexKey()), Now: func() time.Time { return t0 }}}
}

func (w *world) apply(csv string, opts contacts.Options) (contacts.Report, error) {
	w.t.Helper()
	if opts.Basis == "" {
		opts.Basis = domain.BasisConsent
	}
	return contacts.Apply(context.Background(), w.h, parse(w.t, csv), opts)
}

// contact finds the contact of a username.
func (w *world) contact(username string) domain.Contact {
	w.t.Helper()
	id, found, err := w.h.ContactOfUsername(context.Background(), username)
	if err != nil || !found {
		w.t.Fatalf("no contact @%s: %v", username, err)
	}
	c, err := w.h.LoadContact(context.Background(), id)
	if err != nil {
		w.t.Fatal(err)
	}
	return c
}

type counts struct{ accepted, merged, inFile, changed, optedOut, erased, rejected int }

func countsOf(r contacts.Report) counts {
	return counts{r.Accepted, r.Merged, r.InFile, r.Changed, r.OptedOut, r.Erased, len(r.Rejected)}
}

func TestApply(t *testing.T) {
	w := newWorld(t)
	file := "username,phone,name,tags,company\n" +
		"anna_k,+4915112345678,Anna,vip,Acme\n" +
		"boris_b,,Boris,,\n" +
		"ANNA_K,,,fair,Acme Corp\n" + // the same person as line 2
		",+49 151 1234 5678,,berlin,\n" // and again, by phone
	rep, err := w.apply(file, contacts.Options{Note: "leads.csv"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := countsOf(rep), (counts{accepted: 2, merged: 2, inFile: 2}); got != want || !rep.Applied || rep.Rows != 4 {
		t.Fatalf("counts %+v, want %+v (%+v)", got, want, rep)
	}
	anna := w.contact("anna_k")
	if anna.Source != domain.SourceImport || anna.Basis != domain.BasisConsent || anna.Import != rep.Import || anna.Phone != "+4915112345678" ||
		!reflect.DeepEqual(anna.Tags, []string{"berlin", "fair", "vip"}) ||
		!reflect.DeepEqual(anna.Fields, []domain.ContactField{{Name: "company", Value: "Acme Corp"}}) {
		t.Fatalf("anna: %+v", anna)
	}
	if !strings.HasPrefix(rep.Import, "imp-") {
		t.Fatalf("import id %q", rep.Import)
	}

	// Again: nothing new, every row a duplicate.
	again, err := w.apply(file, contacts.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := countsOf(again), (counts{merged: 4, inFile: 2}); got != want {
		t.Fatalf("second run: %+v, want %+v", got, want)
	}
	if head := w.store.Head(); head == 0 {
		t.Fatal("empty log")
	}
	before := w.store.Head()
	if _, err := w.apply(file, contacts.Options{}); err != nil || w.store.Head() != before {
		t.Fatalf("a third run appended %d events (%v)", w.store.Head()-before, err)
	}
}

func TestApplyNeverResurrects(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	if _, err := w.apply("username,phone\nanna_k,\nboris_b,+4915112345678\neve_eve,\n", contacts.Options{}); err != nil {
		t.Fatal(err)
	}
	anna, boris := w.contact("anna_k"), w.contact("boris_b")
	if _, err := w.h.Contact(ctx, anna.ID, domain.OptOutContact{Reason: "stop", By: "lead"}); err != nil {
		t.Fatal(err)
	}
	if err := contacts.Forget(ctx, w.h, w.store, boris.ID, "admin:1", nil); err != nil {
		t.Fatal(err)
	}
	// Found by username, by phone only, and a new identity next to an
	// opted-out one: all skipped.
	rep, err := w.apply("username,phone,tags\nAnna_K,,new\n,+49 151 12345678,new\nfresh_one,+4915112345678,\neve_eve,,new\n", contacts.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := countsOf(rep), (counts{optedOut: 1, erased: 2, merged: 1, changed: 1}); got != want {
		t.Fatalf("counts %+v, want %+v", got, want)
	}
	if c, _ := w.h.LoadContact(ctx, anna.ID); c.HasTag("new") {
		t.Fatal("an opted-out contact was merged into")
	}
	if _, found, _ := w.h.ContactOfUsername(ctx, "fresh_one"); found {
		t.Fatal("a row with an erased person's phone was recorded")
	}
}

func TestApplyThreshold(t *testing.T) {
	// 20 rows; bad ones at the end.
	file := func(bad int) string {
		var b strings.Builder
		b.WriteString("username,name\n")
		for i := range 20 - bad {
			fmt.Fprintf(&b, "user_%03d,Person %d\n", i, i)
		}
		for range bad {
			b.WriteString("x,Bad\n")
		}
		return b.String()
	}
	cases := []struct {
		name      string
		bad       int
		opts      contacts.Options
		applied   bool
		accepted  int
		refusedIs bool
	}{
		{"no errors", 0, contacts.Options{}, true, 20, false},
		{"one bad row is 5%: allowed", 1, contacts.Options{}, true, 19, false},
		{"two bad rows are 10%: refused", 2, contacts.Options{}, false, 0, true},
		{"refused unless partial", 2, contacts.Options{Partial: true}, true, 18, false},
		{"a higher threshold", 2, contacts.Options{MaxErrors: 0.1}, true, 18, false},
		{"none allowed", 1, contacts.Options{MaxErrors: -1}, false, 0, true},
		{"all bad and partial", 20, contacts.Options{Partial: true}, true, 0, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(t)
			rep, err := w.apply(file(c.bad), c.opts)
			if errors.Is(err, contacts.ErrTooManyErrors) != c.refusedIs || (err != nil && !c.refusedIs) {
				t.Fatalf("error %v", err)
			}
			if rep.Applied != c.applied || rep.Accepted != c.accepted || len(rep.Rejected) != c.bad {
				t.Fatalf("report %+v", rep)
			}
			if !c.applied && w.store.Head() != 0 {
				t.Fatalf("a refused import appended %d events", w.store.Head())
			}
			if c.bad > 0 && (rep.Rejected[0].Line != 22-c.bad || !strings.Contains(rep.Rejected[0].Reason, `username "x"`)) {
				t.Fatalf("first rejection %+v", rep.Rejected[0])
			}
		})
	}
}

func TestApplyChecksTheOptions(t *testing.T) {
	w := newWorld(t)
	f := parse(t, "username\nanna_k\n")
	for _, opts := range []contacts.Options{{}, {Basis: "because"}, {Basis: domain.BasisConsent, Source: "scraped"}, {Basis: domain.BasisConsent, Import: "a b"}} {
		if _, err := contacts.Apply(context.Background(), w.h, f, opts); domain.ErrorCode(err) != domain.EINVALID {
			t.Errorf("%+v: %v", opts, err)
		}
	}
	if w.store.Head() != 0 {
		t.Fatal("bad options appended events")
	}
}

// A crash between a link and its contact is completed by the next run.
func TestApplyCompletesAHalfRecordedRow(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	id := uuid.MustParse("0193a0c0-0000-7000-8000-0000000000c9")
	if _, err := w.h.LinkUsername(ctx, "anna_k", id); err != nil {
		t.Fatal(err)
	}
	rep, err := w.apply("username\nanna_k\n", contacts.Options{})
	if err != nil || rep.Accepted != 1 {
		t.Fatalf("%+v %v", rep, err)
	}
	if c := w.contact("anna_k"); c.ID != id || !c.Exists {
		t.Fatalf("contact %+v, want %s", c, id)
	}
}

// Live traffic while importing: an inbound person recorded at the same
// time as the import's row of them ends up as one contact.
func TestApplyRacesWithRecord(t *testing.T) {
	for range 20 {
		w := newWorld(t)
		ctx := context.Background()
		var wg sync.WaitGroup
		wg.Add(1)
		var live domain.Contact
		go func() {
			defer wg.Done()
			var err error
			live, err = contacts.Record(ctx, w.h, contacts.Person{Username: "anna_k"}, domain.AddContact{Source: domain.SourceInbound, Basis: domain.BasisLegitimateInterest})
			if err != nil {
				t.Error(err)
			}
		}()
		rep, err := w.apply("username\nanna_k\n", contacts.Options{})
		wg.Wait()
		if err != nil || rep.Accepted+rep.Merged != 1 {
			t.Fatalf("%+v %v", rep, err)
		}
		if c := w.contact("anna_k"); c.ID != live.ID {
			t.Fatalf("two contacts: %s and %s", c.ID, live.ID)
		}
	}
}

func TestApplyProgress(t *testing.T) {
	w := newWorld(t)
	var b strings.Builder
	b.WriteString("user_id\n")
	for i := range 500 {
		fmt.Fprintf(&b, "%d\n", i+1)
	}
	var mu sync.Mutex
	calls, last, at := 0, 0, 0
	rep, err := w.apply(b.String(), contacts.Options{Concurrency: 8, Progress: func(done, total int) {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if done < last || total != 500 {
			t.Errorf("progress %d/%d after %d", done, total, last)
		}
		last, at = done, total
	}})
	if err != nil || rep.Accepted != 500 || calls != 500 || last != at {
		t.Fatalf("%d calls, last %d/%d: %+v %v", calls, last, at, rep, err)
	}
}

// 10 000 rows on the Pebble log: the counts (the time is for the benchmark).
func TestApplyTenThousandRows(t *testing.T) {
	store, err := eventstore.Open(t.TempDir(), eventstore.Options{MasterKey: bytes.Repeat([]byte{7}, eventstore.MasterKeySize)})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	h := domain.Handlers{Log: eventlog.New(store), Index: domain.NewIndexKey(store.IndexKey()), Now: time.Now}
	f := parse(t, generate(10_000, 50))
	rep, err := contacts.Apply(context.Background(), h, f, contacts.Options{Basis: domain.BasisContract, Note: "big.csv"})
	if err != nil {
		t.Fatal(err)
	}
	// Every 50th row repeats an earlier person, every 100th is bad.
	if got, want := countsOf(rep), (counts{accepted: 9800, merged: 100, inFile: 100, rejected: 100}); got != want {
		t.Fatalf("counts %+v, want %+v", got, want)
	}
	t.Logf("%d rows in %v (%.0f rows/s)", rep.Rows, rep.Elapsed, float64(rep.Rows)/rep.Elapsed.Seconds())
	again, err := contacts.Apply(context.Background(), h, f, contacts.Options{Basis: domain.BasisContract})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := countsOf(again), (counts{merged: 9900, inFile: 100, rejected: 100}); got != want {
		t.Fatalf("second run %+v, want %+v", got, want)
	}
	if _, err := store.Verify(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
}

// generate writes a file of n rows: usernames, phones, names, tags and a
// custom field. With every > 0, rows i%every == every-1 repeat an earlier
// person (by phone, with a new tag) and rows i%100 == 99 are bad.
func generate(n, every int) string {
	var b strings.Builder
	b.WriteString("username,phone,name,tags,company\n")
	for i := range n {
		switch {
		case every > 0 && i%100 == 99:
			fmt.Fprintf(&b, "bad.name,,Row %d,,\n", i)
		case every > 0 && i%every == every-1:
			j := i - every/2
			fmt.Fprintf(&b, ",+49151%08d,,again,\n", j)
		default:
			fmt.Fprintf(&b, "user_%07d,+49151%08d,Person %d,lead,Company %d\n", i, i, i, i%97)
		}
	}
	return b.String()
}

// BenchmarkApply records 100 000 new contacts (username, phone, name,
// tag, field) on a Pebble log; rows/s is the import rate.
func BenchmarkApply(b *testing.B) {
	f, err := contacts.Parse(strings.NewReader(generate(100_000, 0)))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		b.StopTimer()
		store, err := eventstore.Open(b.TempDir(), eventstore.Options{MasterKey: bytes.Repeat([]byte{7}, eventstore.MasterKeySize)})
		if err != nil {
			b.Fatal(err)
		}
		h := domain.Handlers{Log: eventlog.New(store), Index: domain.NewIndexKey(store.IndexKey()), Now: time.Now}
		b.StartTimer()
		rep, err := contacts.Apply(context.Background(), h, f, contacts.Options{Basis: domain.BasisConsent})
		b.StopTimer()
		if err != nil || rep.Accepted != 100_000 {
			b.Fatalf("%+v %v", rep.Accepted, err)
		}
		b.ReportMetric(float64(rep.Rows)/rep.Elapsed.Seconds(), "rows/s")
		store.Close()
		b.StartTimer()
	}
}
