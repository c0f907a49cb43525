package domain

import (
	"reflect"
	"strings"
	"testing"
)

func TestContact(t *testing.T) {
	added := ContactAdded{ContactID: contactID, Source: SourceImport, Basis: BasisConsent, Note: "leads.csv", Username: "anna", Name: "Anna"}
	add := AddContact{ContactID: contactID, Source: SourceImport, Basis: BasisConsent, Note: "leads.csv", Username: " @anna ", Name: " Anna "}
	optedOut := ContactOptedOut{Reason: "stop", By: "lead", At: now}
	imported := ContactAdded{ContactID: contactID, Source: SourceImport, Basis: BasisConsent, Note: "leads.csv", Username: "anna",
		Tags: []string{"fair", "vip"}, Fields: []ContactField{{"company", "Acme"}, {"city", "Berlin"}}, Import: "imp-1"}
	forgotten := ContactForgotten{By: "admin:1", At: now}
	cases := []struct {
		name  string
		given []Event
		when  ContactCommand
		then  []Event
		err   Code
	}{
		{"add", nil, add, []Event{added}, ""},
		{"add twice", []Event{added}, add, nil, ESTATE},
		{"no source", nil, AddContact{ContactID: contactID, Basis: BasisConsent, Username: "x"}, nil, EINVALID},
		{"unknown source", nil, AddContact{ContactID: contactID, Source: "scraped", Basis: BasisConsent, Username: "x"}, nil, EINVALID},
		{"no basis", nil, AddContact{ContactID: contactID, Source: SourceAPI, Username: "x"}, nil, EINVALID},
		{"no identity", nil, AddContact{ContactID: contactID, Source: SourceAPI, Basis: BasisContract, Name: "Anna"}, nil, EINVALID},
		{"no id", nil, AddContact{Source: SourceAPI, Basis: BasisContract, UserID: 5}, nil, EINVALID},
		{"opt out", []Event{added}, OptOutContact{Reason: "stop", By: "lead"}, []Event{optedOut}, ""},
		{"opt out twice records nothing", []Event{added, optedOut}, OptOutContact{Reason: "again", By: "lead"}, nil, ""},
		{"opt out unknown", nil, OptOutContact{By: "admin:1"}, nil, EINVALID},
		{"forget opts out too", []Event{added}, ForgetContact{By: "admin:1"},
			[]Event{ContactOptedOut{Reason: "erased", By: "admin:1", At: now}, ContactForgotten{By: "admin:1", At: now}}, ""},
		{"forget an opted-out contact", []Event{added, optedOut}, ForgetContact{By: "admin:1"}, []Event{ContactForgotten{By: "admin:1", At: now}}, ""},
		{"forget twice", []Event{added, optedOut, ContactForgotten{By: "admin:1", At: now}}, ForgetContact{By: "admin:1"}, nil, ""},
		// Its user id reads 0 once erased: a message from the person must
		// not try to record it again (no personal data is sealed for an
		// erased contact).
		{"an erased contact gets no Telegram user", []Event{added, optedOut, forgotten}, SetTelegramUser{UserID: 501}, nil, ""},

		{"add with tags and fields", nil,
			AddContact{ContactID: contactID, Source: SourceImport, Basis: BasisConsent, Note: "leads.csv", Username: "anna", Import: "imp-1",
				Tags: []string{" VIP", "fair ", "vip", ""}, Fields: []ContactField{{"company", " Acme "}, {"city", "Berlin"}, {"empty", " "}}},
			[]Event{imported}, ""},
		{"a field twice", nil, AddContact{ContactID: contactID, Source: SourceImport, Basis: BasisConsent, Username: "anna",
			Fields: []ContactField{{"city", "A"}, {"city", "B"}}}, nil, EINVALID},
		{"a bad field name", nil, AddContact{ContactID: contactID, Source: SourceImport, Basis: BasisConsent, Username: "anna",
			Fields: []ContactField{{"City", "A"}}}, nil, EINVALID},
		{"a bad import id", nil, AddContact{ContactID: contactID, Source: SourceImport, Basis: BasisConsent, Username: "anna", Import: "imp 1"}, nil, EINVALID},

		{"merge adds new tags and changed fields", []Event{imported},
			MergeContact{Tags: []string{"VIP", "Berlin"}, Fields: []ContactField{{"company", "Acme"}, {"city", "Hamburg"}, {"size", "12"}}, Import: "imp-2"},
			[]Event{ContactMerged{Tags: []string{"berlin"}, Fields: []ContactField{{"city", "Hamburg"}, {"size", "12"}}, Import: "imp-2"}}, ""},
		{"merge with nothing new records nothing", []Event{imported},
			MergeContact{Tags: []string{"fair"}, Fields: []ContactField{{"company", "Acme"}}, Import: "imp-2"}, nil, ""},
		{"merge after a merge", []Event{imported, ContactMerged{Tags: []string{"berlin"}, Fields: []ContactField{{"city", "Hamburg"}}}},
			MergeContact{Tags: []string{"berlin"}, Fields: []ContactField{{"city", "Hamburg"}}}, nil, ""},
		{"merge into an opted-out contact", []Event{imported, optedOut}, MergeContact{Tags: []string{"new"}}, nil, EFORBIDDEN},
		{"merge into a forgotten contact", []Event{imported, optedOut, forgotten}, MergeContact{Tags: []string{"new"}}, nil, EFORBIDDEN},
		{"merge into nobody", nil, MergeContact{Tags: []string{"new"}}, nil, EINVALID},
		{"merge a bad field", []Event{imported}, MergeContact{Fields: []ContactField{{"1st", "x"}}}, nil, EINVALID},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var s Contact
			for _, e := range c.given {
				s = EvolveContact(s, e)
			}
			got, err := DecideContact(s, c.when, now)
			if code := ErrorCode(err); code != c.err {
				t.Fatalf("error %v (code %q), want code %q", err, code, c.err)
			}
			if !reflect.DeepEqual(got, c.then) {
				t.Fatalf("events\n got %#v\nwant %#v", got, c.then)
			}
		})
	}
}

func TestEvolveMergedContact(t *testing.T) {
	var c Contact
	c = EvolveContact(c, ContactAdded{ContactID: contactID, Source: SourceImport, Basis: BasisConsent, Username: "anna",
		Tags: []string{"fair", "vip"}, Fields: []ContactField{{"company", "Acme"}, {"city", "Berlin"}}, Import: "imp-1"})
	before := c
	c = EvolveContact(c, ContactMerged{Tags: []string{"berlin", "zoo"}, Fields: []ContactField{{"city", "Hamburg"}, {"size", "12"}}, Import: "imp-2"})
	if want := []string{"berlin", "fair", "vip", "zoo"}; !reflect.DeepEqual(c.Tags, want) {
		t.Fatalf("tags %q, want %q", c.Tags, want)
	}
	if want := []ContactField{{"company", "Acme"}, {"city", "Hamburg"}, {"size", "12"}}; !reflect.DeepEqual(c.Fields, want) {
		t.Fatalf("fields %v, want %v", c.Fields, want)
	}
	if c.Import != "imp-1" || !c.HasTag(" ZOO ") || c.HasTag("nope") {
		t.Fatalf("import %q, tags %q", c.Import, c.Tags)
	}
	if v, ok := c.Field("city"); !ok || v != "Hamburg" {
		t.Fatalf("city %q %v", v, ok)
	}
	// The state before is untouched: states are shared through the cache.
	if !reflect.DeepEqual(before.Tags, []string{"fair", "vip"}) || before.Fields[1].Value != "Berlin" {
		t.Fatalf("evolve changed the earlier state: %+v", before)
	}
	c = EvolveContact(c, ContactForgotten{By: "admin:1", At: now})
	if c.Fields != nil || len(c.Tags) != 4 {
		t.Fatalf("forgotten: fields %v (personal, gone), tags %q (not personal, kept)", c.Fields, c.Tags)
	}
}

func TestContactable(t *testing.T) {
	var c Contact
	if ErrorCode(c.Contactable()) != EINVALID {
		t.Fatal("an unknown contact is contactable")
	}
	c = EvolveContact(c, ContactAdded{ContactID: contactID, Source: SourceInbound, Basis: BasisLegitimateInterest, UserID: 9, Name: "Bob"})
	if err := c.Contactable(); err != nil {
		t.Fatalf("new contact: %v", err)
	}
	c = EvolveContact(c, ContactOptedOut{By: "lead", At: now})
	if ErrorCode(c.Contactable()) != EFORBIDDEN {
		t.Fatal("an opted-out contact is contactable")
	}
	c = EvolveContact(c, ContactForgotten{By: "admin:1", At: now})
	if c.Name != "" || c.Username != "" || c.Phone != "" || ErrorCode(c.Contactable()) != EFORBIDDEN {
		t.Fatalf("forgotten contact keeps data or is contactable: %+v", c)
	}
}

// ParseBasis reads the three lawful bases as typed and refuses the rest.
func TestParseBasis(t *testing.T) {
	for in, want := range map[string]Basis{"consent": BasisConsent, " Contract ": BasisContract, "LEGITIMATE-INTEREST": BasisLegitimateInterest} {
		if b, err := ParseBasis(in); err != nil || b != want {
			t.Errorf("ParseBasis(%q) = %q, %v; want %q", in, b, err, want)
		}
	}
	for in, msg := range map[string]string{"": "a lawful basis is required", "  ": "a lawful basis is required",
		"because": `"because" is not consent, contract or legitimate-interest`, "legitimate interest": "is not consent"} {
		b, err := ParseBasis(in)
		if b != "" || ErrorCode(err) != EINVALID || ErrorField(err) != "basis" || !strings.Contains(err.Error(), msg) {
			t.Errorf("ParseBasis(%q) = %q, %v; want EINVALID on basis with %q", in, b, err, msg)
		}
	}
}
