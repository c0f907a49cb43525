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
