package domain

import (
	"reflect"
	"testing"
)

func TestContact(t *testing.T) {
	added := ContactAdded{ContactID: contactID, Source: SourceImport, Basis: BasisConsent, Note: "leads.csv", Username: "anna", Name: "Anna"}
	add := AddContact{ContactID: contactID, Source: SourceImport, Basis: BasisConsent, Note: "leads.csv", Username: " @anna ", Name: " Anna "}
	optedOut := ContactOptedOut{Reason: "stop", By: "lead", At: now}
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
