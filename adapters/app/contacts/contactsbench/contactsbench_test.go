package contactsbench_test

import (
	"testing"

	"github.com/salesbot/salesbot/adapters/app/contacts/contactsbench"
	"github.com/salesbot/salesbot/eventstore"
)

// The generated rows import as the package says: every 20th row is an
// earlier person again, merged, not added.
func TestRun(t *testing.T) {
	s, err := eventstore.NewMemory(eventstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var last int
	r, err := contactsbench.Run(t.Context(), s, 100, 8, func(done, total int) { last = done })
	if err != nil || r.Rows != 100 || r.Accepted != 95 || r.Merged != 5 || r.Events != s.Head() || last != 100 {
		t.Fatalf("%+v %v (progress at %d)", r, err, last)
	}
}

// A result prints on one line, as 'bench import' has always printed it.
func TestResultString(t *testing.T) {
	r := contactsbench.Result{Rows: 100000, Concurrency: 64, ParseSeconds: 0.25, Seconds: 12.5, RowsPerSec: 8000,
		Accepted: 95000, Merged: 5000, Events: 190123}
	want := "import: 100000 rows (c=64) parsed in 0.25s, imported in 12.50s: 8000 rows/s; 95000 new contacts, 5000 merged, 190123 events"
	if got := r.String(); got != want {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
}
