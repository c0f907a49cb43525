package contacts_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/adapters/app/contacts"
	"github.com/salesbot/salesbot/domain"
)

// FuzzParse: Parse never panics, and what it accepts is a usable file:
// rows in line order, each either rejected with a reason or a contact the
// domain accepts.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"\xef\xbb\xbfusername;phone;name;tags;company\r\n@anna_k;+49 151 1234-5678;Anna;vip,fair;Acme\r\n",
		"name,user_id,notes\n\"Karenina, Anna\",777000,\"said \"\"hi\"\"\nin May\"\n",
		"@anna_k\tAnna\n+4915112345678\tBoris\n777000\n",
		"username,name\nanna_k,\"Anna\nboris_b,Boris\n",
		"username,name\nboris_b,Bo\"ris\n",
		"id,phone\n\n1,\n,,\n",
		"company,city\nacme,berlin\n",
		"username,\xc1\xee\n",
	} {
		f.Add([]byte(s))
	}
	id := uuid.MustParse("0193a0c0-0000-7000-8000-0000000000c1")
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := contacts.Parse(bytes.NewReader(data))
		if err != nil {
			if file != nil {
				t.Fatalf("a file and an error: %v", err)
			}
			return
		}
		if len(file.Rows) == 0 {
			t.Fatal("a file without rows was accepted")
		}
		last := 0
		for _, r := range file.Rows {
			if r.Line <= last {
				t.Fatalf("row lines out of order: %d after %d", r.Line, last)
			}
			last = r.Line
			if r.Err != nil {
				if r.Err.Error() == "" {
					t.Fatal("a rejected row without a reason")
				}
				continue
			}
			add := r.Contact
			add.ContactID, add.Source, add.Basis = id, domain.SourceImport, domain.BasisConsent
			if _, err := domain.DecideContact(domain.Contact{}, add, time.Time{}); err != nil {
				t.Fatalf("line %d: a valid row the domain refuses: %v (%+v)", r.Line, err, r.Contact)
			}
		}
	})
}
