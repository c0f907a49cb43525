package domain

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
)

func TestCRMLinks(t *testing.T) {
	ctx := context.Background()
	log := &memLog{}
	h := Handlers{Log: log, Now: func() time.Time { return now }, Index: testKey}
	d, c := uuid.MustParse("0193a0c0-0000-7000-8000-0000000000d1"), uuid.MustParse("0193a0c0-0000-7000-8000-0000000000c1")
	link := CRMLeadLinked{DialogID: d, N: 7, ContactID: c, CRM: "amocrm", CRMContactID: "301", CRMLeadID: "201"}

	if _, found, err := h.DialogOfCRMLead(ctx, "amocrm", "201"); err != nil || found {
		t.Fatalf("before: %v, %v", found, err)
	}
	if _, err := h.NoteCRMLead(ctx, d, "amocrm", 1); ErrorCode(err) != ESTATE {
		t.Fatalf("note before a link: %v", err)
	}
	got, linked, err := h.LinkCRMLead(ctx, link)
	if err != nil || !linked || got.CRMLeadID != "201" || !got.At.Equal(now) {
		t.Fatalf("link: %+v, %v, %v", got, linked, err)
	}
	// A second link to the same CRM keeps the first.
	other := link
	other.CRMLeadID = "999"
	if got, linked, err := h.LinkCRMLead(ctx, other); err != nil || linked || got.CRMLeadID != "201" {
		t.Fatalf("again: %+v, %v, %v", got, linked, err)
	}
	if _, found, err := h.DialogOfCRMLead(ctx, "amocrm", "999"); err != nil || found {
		t.Fatalf("the refused link is indexed: %v, %v", found, err)
	}
	// Another CRM links on its own.
	hub := link
	hub.CRM, hub.CRMLeadID = "hubspot", "201"
	if _, linked, err := h.LinkCRMLead(ctx, hub); err != nil || !linked {
		t.Fatalf("hubspot: %v, %v", linked, err)
	}
	l, found, err := h.DialogOfCRMLead(ctx, "amocrm", "201")
	if err != nil || !found || l.DialogID != d || l.N != 7 {
		t.Fatalf("by lead: %+v, %v, %v", l, found, err)
	}
	if id, found, err := h.CRMContactOf(ctx, "amocrm", c); err != nil || !found || id != "301" {
		t.Fatalf("contact: %q, %v, %v", id, found, err)
	}
	// The contact's next dialog keeps the first CRM contact.
	next := CRMLeadLinked{DialogID: uuid.New(), N: 8, ContactID: c, CRM: "amocrm", CRMContactID: "302", CRMLeadID: "202"}
	if _, linked, err := h.LinkCRMLead(ctx, next); err != nil || !linked {
		t.Fatalf("next: %v, %v", linked, err)
	}
	if id, _, _ := h.CRMContactOf(ctx, "amocrm", c); id != "301" {
		t.Fatalf("contact after the next dialog: %q", id)
	}
	if _, found, _ := h.CRMContactOf(ctx, "amocrm", d); found {
		t.Fatal("a contact found for a dialog id")
	}
	s, err := h.CRMLinkOf(ctx, d, "amocrm")
	if err != nil || !s.Linked || s.Noted || s.Link.CRMContactID != "301" {
		t.Fatalf("state: %+v, %v", s, err)
	}
	for i, want := range []bool{true, false} {
		if added, err := h.NoteCRMLead(ctx, d, "amocrm", 2); err != nil || added != want {
			t.Fatalf("note %d: %v, %v", i, added, err)
		}
	}
	if s, _ := h.CRMLinkOf(ctx, d, "hubspot"); s.Noted {
		t.Fatal("the amoCRM note counts for hubspot")
	}
	if n := len(log.streams[CRMLinksStream(d)]); n != 3 {
		t.Fatalf("%d events in the links stream, want 3 (two links, one note)", n)
	}
}

// A crash between the link and its index is mended by the next link.
func TestCRMLinkMendsIndex(t *testing.T) {
	ctx := context.Background()
	log := &memLog{}
	h := Handlers{Log: log, Now: func() time.Time { return now }}
	d, c := uuid.New(), uuid.New()
	link := CRMLeadLinked{DialogID: d, N: 3, ContactID: c, CRM: "amocrm", CRMLeadID: "55", At: now}
	if err := log.Append(ctx, CRMLinksStream(d), 0, "", []Event{link}); err != nil {
		t.Fatal(err)
	}
	if _, found, _ := h.DialogOfCRMLead(ctx, "amocrm", "55"); found {
		t.Fatal("indexed before")
	}
	if _, linked, err := h.LinkCRMLead(ctx, link); err != nil || linked {
		t.Fatalf("relink: %v, %v", linked, err)
	}
	if _, found, err := h.DialogOfCRMLead(ctx, "amocrm", "55"); err != nil || !found {
		t.Fatalf("not mended: %v, %v", found, err)
	}
}

func TestCRMLinkInvalid(t *testing.T) {
	h := Handlers{Log: &memLog{}, Now: func() time.Time { return now }}
	good := CRMLeadLinked{DialogID: uuid.New(), N: 3, ContactID: uuid.New(), CRM: "amocrm", CRMLeadID: "55"}
	for name, mut := range map[string]func(*CRMLeadLinked){
		"crm upper":   func(l *CRMLeadLinked) { l.CRM = "AmoCRM" },
		"crm dash":    func(l *CRMLeadLinked) { l.CRM = "amo-crm" },
		"lead empty":  func(l *CRMLeadLinked) { l.CRMLeadID = "" },
		"lead dash":   func(l *CRMLeadLinked) { l.CRMLeadID = "5-5" },
		"contact bad": func(l *CRMLeadLinked) { l.CRMContactID = "a/b" },
		"no number":   func(l *CRMLeadLinked) { l.N = 0 },
		"no dialog":   func(l *CRMLeadLinked) { l.DialogID = uuid.Nil },
	} {
		l := good
		mut(&l)
		if _, _, err := h.LinkCRMLead(context.Background(), l); !errors.Is(err, ErrCRMLink) || ErrorCode(err) != EINVALID {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, found, err := h.DialogOfCRMLead(context.Background(), "amocrm", "a-b"); err != nil || found {
		t.Fatalf("malformed lookup: %v, %v", found, err)
	}
}

func TestCRMMarker(t *testing.T) {
	if got := CRMMarker(12); got != "salesbot dialog 12" {
		t.Fatal(got)
	}
}
