package eventlog_test

import (
	"bytes"
	"encoding/json"
	"slices"
	"testing"

	"github.com/salesbot/salesbot/adapters/eventlog"
	"github.com/salesbot/salesbot/domain"
)

// Public leaves out every personal field of every event type, names the
// ones it left out, and keeps the rest.
func TestPublicWithholdsPersonalFields(t *testing.T) {
	log := eventlog.New(nil)
	for _, e := range samples() {
		stored, err := log.Encode(e, contact.String())
		if err != nil {
			t.Fatal(err)
		}
		payload, withheld, err := eventlog.Public(e)
		if err != nil {
			t.Fatalf("%s: %v", e.EventType(), err)
		}
		var keys []string
		for k, v := range stored.Personal {
			keys = append(keys, k)
			if bytes.Contains(payload, []byte(v)) && len(v) > 2 {
				t.Errorf("%s: %s (%q) in %s", e.EventType(), k, v, payload)
			}
		}
		slices.Sort(keys)
		if !slices.Equal(withheld, keys) {
			t.Errorf("%s: withheld %v, personal fields %v", e.EventType(), withheld, keys)
		}
	}
	payload, withheld, err := eventlog.Public(domain.ContactAdded{ContactID: contact, Source: domain.SourceImport, Username: "anna", Name: "Анна", Note: "met at the fair",
		Fields: []domain.ContactField{{Name: "company", Value: "Acme GmbH"}}})
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(payload, &got); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(withheld, []string{"fields.0.value", "name", "note", "username"}) || got["contact_id"] != contact.String() ||
		got["username"] != nil || got["name"] != nil || got["note"] != nil || bytes.Contains(payload, []byte("Acme")) || !bytes.Contains(payload, []byte(`"company"`)) {
		t.Fatalf("withheld %v: %s", withheld, payload)
	}
}
