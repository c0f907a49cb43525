package contacts_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/salesbot/salesbot/adapters/app/contacts"
	"github.com/salesbot/salesbot/eventstore"
	"github.com/salesbot/salesbot/projections"
)

// Erase erases the person, then brings the read models it is given up to
// the log's head: the person's row reads forgotten there at once. Read
// models that cannot be opened leave the erasure recorded and say so.
func TestErase(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	_, byName := w.twins()
	store := w.store.(*eventstore.MemoryStore)
	sink := projections.NewMemory()
	closed := false
	res, err := contacts.Erase(ctx, store, w.h, contacts.EraseRequest{Person: contacts.Person{Username: "anna_k"}, By: "cli",
		ReadModels: func(context.Context) (projections.Sink, func(), error) { return sink, func() { closed = true }, nil }})
	if err != nil || len(res.Contacts) != 1 || res.Contacts[0] != byName.ID || !res.ReadModels || !closed {
		t.Fatalf("Erase = %+v, %v (read models closed %v); want contact %s erased and the read models updated and closed", res, err, closed, byName.ID)
	}
	if row, err := sink.ContactByID(ctx, byName.ID); err != nil || !row.Forgotten {
		t.Fatalf("the read model's row: %+v, %v; want it forgotten", row, err)
	}
	down := errors.New("connection refused")
	res, err = contacts.Erase(ctx, store, w.h, contacts.EraseRequest{Person: contacts.Person{UserID: 501}, By: "cli",
		ReadModels: func(context.Context) (projections.Sink, func(), error) { return nil, nil, down }})
	var rm *contacts.ReadModelsError
	if !errors.As(err, &rm) || !errors.Is(err, down) || len(res.Contacts) == 0 || res.ReadModels {
		t.Fatalf("Erase with the read models down = %+v, %v; want the contact erased and a ReadModelsError", res, err)
	}
	if _, err := contacts.Erase(ctx, store, w.h, contacts.EraseRequest{Person: contacts.Person{Username: "nobody_here"}}); !errors.Is(err, contacts.ErrNotFound) {
		t.Fatalf("Erase of someone unknown: %v; want ErrNotFound", err)
	}
}

// The report as the CLI prints it: the file's base name and the text, or
// one line of JSON; nothing for a report of no rows.
func TestReportWriters(t *testing.T) {
	w := newWorld(t)
	rep, err := w.apply("username\nanna_k\nboris_b\n", contacts.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := rep.WriteText(&b, "/tmp/in/leads.csv", 20); err != nil || !strings.HasPrefix(b.String(), "leads.csv: 2 rows\n") || !strings.Contains(b.String(), "accepted  2 new contacts") {
		t.Fatalf("WriteText: %q, %v", b.String(), err)
	}
	b.Reset()
	if err := rep.WriteJSON(&b, "leads.csv"); err != nil || strings.Count(b.String(), "\n") != 1 {
		t.Fatalf("WriteJSON: %q, %v", b.String(), err)
	}
	var got contacts.ReportJSON
	if err := json.Unmarshal(b.Bytes(), &got); err != nil || got.File != "leads.csv" || got.Accepted != 2 || got.Rejected == nil {
		t.Fatalf("WriteJSON wrote %+v, %v", got, err)
	}
	b.Reset()
	if err := (contacts.Report{}).WriteText(&b, "x.csv", 20); err != nil || b.Len() != 0 {
		t.Fatalf("WriteText of no rows: %q, %v", b.String(), err)
	}
}

// Off a terminal the progress is a line every 10%; on one, a line
// redrawn, ended by Finish. A nil Progress draws nothing.
func TestProgress(t *testing.T) {
	var b bytes.Buffer
	p := contacts.NewProgress(&b, "import", false)
	for done := 1; done <= 1000; done++ {
		p.Update(done, 1000)
	}
	p.Finish()
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != 10 || !strings.HasPrefix(lines[0], "import: 100/1000 rows (10%)") || !strings.HasPrefix(lines[9], "import: 1000/1000 rows (100%)") {
		t.Fatalf("progress off a terminal:\n%s", b.String())
	}
	b.Reset()
	p = contacts.NewProgress(&b, "import", true)
	p.Update(1, 2)
	p.Update(2, 2)
	p.Finish()
	if out := b.String(); !strings.HasPrefix(out, "\rimport: 1/2 rows") || !strings.Contains(out, "\rimport: 2/2 rows (100%)") || !strings.HasSuffix(out, "\033[K\n") {
		t.Fatalf("progress on a terminal: %q", out)
	}
	var none *contacts.Progress
	none.Update(1, 2)
	none.Finish()
}
