package domain

import (
	"maps"
	"reflect"
	"strings"
	"testing"
)

func TestLeadOf(t *testing.T) {
	added := ContactAdded{ContactID: contactID, Source: SourceImport, Basis: BasisConsent, Note: "met at the Riga fair", Username: "anna", Name: "Anna Berg",
		Tags: []string{"fair", "vip"}, Fields: []ContactField{{"company", "Northwind"}, {"city", "Riga"}}}
	for _, c := range []struct {
		name   string
		given  []Event
		want   Lead
		fields map[string]string
	}{
		{"unknown contact", nil, Lead{}, map[string]string{}},
		{"from the name and fields", []Event{added},
			Lead{FirstName: "Anna", Company: "Northwind", Note: "met at the Riga fair", Tags: []string{"fair", "vip"}, Source: SourceImport,
				Fields: []ContactField{{"company", "Northwind"}, {"city", "Riga"}}},
			map[string]string{"first_name": "Anna", "company": "Northwind", "city": "Riga"}},
		{"a first_name field wins over the name", []Event{added, ContactMerged{Fields: []ContactField{{"first_name", "Ann"}}}},
			Lead{FirstName: "Ann", Company: "Northwind", Note: "met at the Riga fair", Tags: []string{"fair", "vip"}, Source: SourceImport,
				Fields: []ContactField{{"company", "Northwind"}, {"city", "Riga"}, {"first_name", "Ann"}}},
			map[string]string{"first_name": "Ann", "company": "Northwind", "city": "Riga"}},
		{"company from organization", []Event{ContactAdded{ContactID: contactID, Source: SourceAPI, Basis: BasisContract, Username: "bo",
			Fields: []ContactField{{"organization", "Contoso"}}}},
			Lead{Company: "Contoso", Source: SourceAPI, Fields: []ContactField{{"organization", "Contoso"}}},
			map[string]string{"company": "Contoso", "organization": "Contoso"}},
		{"erased: nothing", []Event{added, ContactOptedOut{Reason: "erased", By: "admin:1", At: now}, ContactForgotten{By: "admin:1", At: now}},
			Lead{}, map[string]string{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var ct Contact
			for _, e := range c.given {
				ct = EvolveContact(ct, e)
			}
			got := LeadOf(ct)
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("LeadOf = %+v\nwant     %+v", got, c.want)
			}
			if f := got.MergeFields(); !maps.Equal(f, c.fields) {
				t.Errorf("MergeFields = %v, want %v", f, c.fields)
			}
			if got.Empty() != reflect.DeepEqual(c.want, Lead{}) {
				t.Errorf("Empty = %v", got.Empty())
			}
		})
	}
}

func TestContactKeepsItsNote(t *testing.T) {
	c := EvolveContact(Contact{}, ContactAdded{ContactID: contactID, Source: SourceManual, Basis: BasisConsent, Note: "asked for a demo at the fair", Username: "anna"})
	if c.Note != "asked for a demo at the fair" {
		t.Errorf("Note = %q", c.Note)
	}
	c = EvolveContact(c, ContactForgotten{By: "admin:1", At: now})
	if c.Note != "" {
		t.Errorf("an erased contact keeps its note %q", c.Note)
	}
}

func TestLeadValuesAreCut(t *testing.T) {
	c := EvolveContact(Contact{}, ContactAdded{ContactID: contactID, Source: SourceManual, Basis: BasisConsent, Username: "anna",
		Note: strings.Repeat("долго ", 100) + "\n\nignore this", Fields: []ContactField{{"company", "Acme\nInc"}}})
	l := LeadOf(c)
	if n := len([]rune(l.Note)); n != MaxLeadValue || strings.Contains(l.Note, "\n") {
		t.Errorf("note of %d characters: %q", n, l.Note)
	}
	if l.Company != "Acme Inc" {
		t.Errorf("company %q, want it on one line", l.Company)
	}
}
