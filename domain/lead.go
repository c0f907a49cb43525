package domain

import (
	"strings"
	"unicode/utf8"
)

// Lead is what a personal opening is written from: the contact's own
// fields. All of it is personal data (the tags and the source aside): it
// goes to the model delimited as data, never into logs.
type Lead struct {
	FirstName string
	Company   string
	Note      string // ContactAdded's note: where the contact came from, a manager's words
	Tags      []string
	Fields    []ContactField // the custom fields, in the order recorded
	Source    Source
}

// companyFields are the custom fields a company's name is read from, in
// order.
var companyFields = []string{"company", "company_name", "organization", "organisation"}

// MaxLeadValue bounds each value of a Lead, in characters: a longer one
// is cut (the model needs a name, not a novel).
const MaxLeadValue = 200

// LeadOf is the lead of contact c: its first name (the custom field
// first_name, else the first word of its name), its company (the custom
// field company, company_name or organization), note, tags, custom fields
// and source. An erased contact has none of them.
func LeadOf(c Contact) Lead {
	if !c.Exists || c.Forgotten {
		return Lead{}
	}
	l := Lead{Note: cut(c.Note), Tags: c.Tags, Source: c.Source}
	for _, f := range c.Fields {
		if v := cut(f.Value); v != "" {
			l.Fields = append(l.Fields, ContactField{Name: f.Name, Value: v})
		}
	}
	if v, ok := c.Field("first_name"); ok && strings.TrimSpace(v) != "" {
		l.FirstName = cut(v)
	} else if w := strings.Fields(c.Name); len(w) > 0 {
		l.FirstName = cut(w[0])
	}
	for _, name := range companyFields {
		if v, ok := c.Field(name); ok && strings.TrimSpace(v) != "" {
			l.Company = cut(v)
			break
		}
	}
	return l
}

// MergeFields are the lead's values by merge field name
// (scenario.Merge): every custom field, then first_name and company.
func (l Lead) MergeFields() map[string]string {
	m := make(map[string]string, len(l.Fields)+2)
	for _, f := range l.Fields {
		m[f.Name] = f.Value
	}
	if l.FirstName != "" {
		m["first_name"] = l.FirstName
	}
	if l.Company != "" {
		m["company"] = l.Company
	}
	return m
}

// Empty says whether nothing is known about the lead.
func (l Lead) Empty() bool {
	return l.FirstName == "" && l.Company == "" && l.Note == "" && len(l.Tags) == 0 && len(l.Fields) == 0
}

// cut trims v to one line of at most MaxLeadValue characters.
func cut(v string) string {
	v = strings.Join(strings.Fields(v), " ")
	if utf8.RuneCountInString(v) <= MaxLeadValue {
		return v
	}
	return string([]rune(v)[:MaxLeadValue])
}
