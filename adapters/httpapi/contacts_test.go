package httpapi_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/adapters/app/tokens"
	"github.com/salesbot/salesbot/adapters/httpapi"
	"github.com/salesbot/salesbot/projections"
)

// fieldsOf are the fields a problem names.
func fieldsOf(p httpapi.Problem) []string {
	var out []string
	for _, e := range p.Errors {
		out = append(out, e.Field)
	}
	return out
}

// contactOf is the contact of dialog n in the world (the world's
// contacts are recorded without their usernames' links, as a log made
// before the index was).
func (w *world) contactOf(t *testing.T, n int64) uuid.UUID {
	t.Helper()
	d, err := w.sink.DialogByN(t.Context(), n)
	if err != nil {
		t.Fatalf("dialog %d: %v", n, err)
	}
	return d.ContactID
}

func TestUpsertContact(t *testing.T) {
	w := newWorld(t, tokens.DefaultRate())
	post := func(body string, header map[string]string, checkRequest bool) answer {
		t.Helper()
		return w.call(t, http.MethodPost, "/api/v1/contacts", w.manage, body, header, checkRequest)
	}
	dora := `{"username":"@Dora_K","name":" Dora  K ","phone":"+49 151 1234-5678","tags":["VIP","berlin"],"fields":{"company":"Acme","city":""},"source":"CRM, Berlin fair","basis":"consent"}`
	var c httpapi.Contact
	post(dora, nil, true).json(t, &c)
	if c.Source != "api" || c.Basis != "consent" || *c.Username != "Dora_K" || *c.Name != "Dora K" || *c.Phone != "+4915112345678" ||
		!slices.Equal(c.Tags, []string{"berlin", "vip"}) || len(c.Fields) != 1 || c.Fields["company"] != "Acme" || c.OptedOut || c.UserID != nil {
		t.Fatalf("dora: %+v", c)
	}
	// Again: the same contact, nothing new (an upsert is idempotent).
	var again httpapi.Contact
	post(dora, nil, true).json(t, &again)
	if again.ID != c.ID || !slices.Equal(again.Tags, c.Tags) {
		t.Fatalf("again: %+v, want %+v", again, c)
	}
	// Found by phone with a user id and a new tag: merged into hers.
	var merged httpapi.Contact
	post(`{"phone":"+4915112345678","tags":["q1"],"fields":{"company":"Acme GmbH"},"source":"CRM","basis":"contract"}`, nil, true).json(t, &merged)
	if merged.ID != c.ID || !slices.Equal(merged.Tags, []string{"berlin", "q1", "vip"}) || merged.Fields["company"] != "Acme GmbH" || merged.Basis != "consent" {
		t.Fatalf("merged: %+v", merged)
	}
	// With an Idempotency-Key the repeat is the first answer, replayed.
	key := map[string]string{"Idempotency-Key": "erik-1"}
	first := post(`{"user_id":777001,"source":"CRM","basis":"legitimate-interest"}`, key, true)
	repeat := post(`{"user_id":777001,"source":"CRM","basis":"legitimate-interest"}`, key, true)
	if first.status != http.StatusOK || repeat.header.Get("Idempotency-Replayed") != "true" || string(repeat.body) != string(first.body) {
		t.Fatalf("repeat: %d %s / %d %s", first.status, first.body, repeat.status, repeat.body)
	}

	// Read back by id and by @username, with a read token.
	for _, ref := range []string{c.ID.String(), "@dora_k"} {
		var got httpapi.Contact
		w.get(t, "/api/v1/contacts/"+ref, w.read).json(t, &got)
		if got.ID != c.ID || *got.Username != "Dora_K" || !slices.Equal(got.Tags, merged.Tags) {
			t.Fatalf("GET %s: %+v", ref, got)
		}
	}
	w.get(t, "/api/v1/contacts/"+uuid.NewString(), w.read).problem(t, http.StatusNotFound)
	w.get(t, "/api/v1/contacts/@nobody_here", w.read).problem(t, http.StatusNotFound)
	for _, ref := range []string{"nope", "@ab"} {
		if p := w.call(t, http.MethodGet, "/api/v1/contacts/"+ref, w.read, "", nil, false).problem(t, http.StatusBadRequest); !slices.Equal(fieldsOf(p), []string{"id"}) {
			t.Errorf("GET %s: %+v", ref, p)
		}
	}

	// Bad input: 400 naming the fields.
	for _, c := range []struct{ body, fields string }{
		{`{"username":"fine_name"}`, "source basis"},
		{`{"username":"fine_name","source":" ","basis":"maybe"}`, "source basis"},
		{`{"username":"ab","source":"CRM","basis":"consent"}`, "username"},
		{`{"phone":"123","source":"CRM","basis":"consent"}`, "phone"},
		{`{"user_id":-5,"source":"CRM","basis":"consent"}`, "user_id"},
		{`{"user_id":"12","source":"CRM","basis":"consent"}`, "user_id"},
		{`{"username":"fine_name","name":"` + strings.Repeat("я", 129) + `","source":"CRM","basis":"consent"}`, "name"},
		{`{"username":"fine_name","tags":"vip","source":"CRM","basis":"consent"}`, "tags"},
		{`{"username":"fine_name","tags":["` + strings.Repeat("t", 65) + `"],"source":"CRM","basis":"consent"}`, "tags"},
		{`{"username":"fine_name","fields":{"Company":"x"},"source":"CRM","basis":"consent"}`, "fields"},
		{`{"username":"fine_name","email":"a@b.c","source":"CRM","basis":"consent"}`, "email"},
		{`{"name":"Nobody","source":"CRM","basis":"consent"}`, ""}, // no username, user id or phone: about no one field
	} {
		p := post(c.body, nil, false).problem(t, http.StatusBadRequest)
		if got := strings.Join(fieldsOf(p), " "); got != c.fields {
			t.Errorf("%s: fields %q, want %q (%+v)", c.body, got, c.fields, p)
		}
	}
	w.call(t, http.MethodPost, "/api/v1/contacts", w.manage, "", map[string]string{"Content-Type": "text/plain"}, false).problem(t, http.StatusUnsupportedMediaType)

	// Tokens: none, and a read token, may not.
	w.call(t, http.MethodPost, "/api/v1/contacts", "", dora, nil, true).problem(t, http.StatusUnauthorized)
	w.call(t, http.MethodPost, "/api/v1/contacts", w.read, dora, nil, true).problem(t, http.StatusForbidden)
	w.call(t, http.MethodGet, "/api/v1/contacts/"+c.ID.String(), "", "", nil, true).problem(t, http.StatusUnauthorized)

	// A person on the do-not-contact list never enters again: 409.
	w.call(t, http.MethodPost, "/api/v1/contacts/"+c.ID.String()+"/opt-out", w.manage, "", nil, true)
	p := post(`{"username":"dora_k","tags":["again"],"source":"CRM","basis":"consent"}`, nil, true).problem(t, http.StatusConflict)
	if p.Type != httpapi.TypeRefused || !strings.Contains(p.Detail, "do-not-contact") {
		t.Fatalf("opted out: %+v", p)
	}
	w.get(t, "/api/v1/contacts/@dora_k", w.read).json(t, &c)
	if !c.OptedOut || slices.Contains(c.Tags, "again") {
		t.Fatalf("after the refusal: %+v", c)
	}
}

// importReport is ImportReport with its rejections readable.
type importReport = httpapi.ImportReport

func TestImportContacts(t *testing.T) {
	w := newWorld(t, tokens.DefaultRate())
	imp := func(query, ctype, body string, checkRequest bool) answer {
		t.Helper()
		return w.call(t, http.MethodPost, "/api/v1/contacts/import?"+query, w.manage, body, map[string]string{"Content-Type": ctype}, checkRequest)
	}
	const q = "source=Berlin+fair+2026&basis=consent"
	file := "username,name,phone,tags\nerik_k,Erik,+4915112345678,vip\nab,Bad,,\n\"frida_k\",\"Frida\nF\",123,\nerik_k,Erik K,,b2b\n"

	// A dry run checks and records nothing.
	var rep importReport
	imp(q+"&dry_run=true", "text/csv", file, true).json(t, &rep)
	if !rep.DryRun || rep.Applied || rep.Import != nil || rep.Rows != 4 || rep.Valid != 2 || rep.Accepted != 0 || len(rep.Rejected) != 2 {
		t.Fatalf("dry run: %+v", rep)
	}
	want := []struct {
		row, line int
		field     string
	}{{2, 3, "username"}, {3, 4, "phone"}}
	for i, rj := range rep.Rejected {
		if rj.Row != want[i].row || rj.Line == nil || *rj.Line != want[i].line || rj.Field == nil || *rj.Field != want[i].field || rj.Reason == "" {
			t.Errorf("rejected %d: %+v", i, rj)
		}
	}
	w.get(t, "/api/v1/contacts/@erik_k", w.read).problem(t, http.StatusNotFound)

	// The import: valid rows recorded, bad ones reported; erik's second
	// row merged into his first.
	imp(q, "text/csv", file, true).json(t, &rep)
	if rep.DryRun || !rep.Applied || rep.Import == nil || !strings.HasPrefix(*rep.Import, "imp-") || rep.Accepted != 1 || rep.Merged != 1 ||
		rep.InFile != 1 || len(rep.Rejected) != 2 {
		t.Fatalf("import: %+v", rep)
	}
	var erik httpapi.Contact
	w.get(t, "/api/v1/contacts/@erik_k", w.read).json(t, &erik)
	if erik.Source != "import" || erik.Basis != "consent" || *erik.Import != *rep.Import || !slices.Equal(erik.Tags, []string{"b2b", "vip"}) {
		t.Fatalf("erik: %+v", erik)
	}
	// Again: nothing new.
	imp(q, "text/csv", file, true).json(t, &rep)
	if rep.Accepted != 0 || rep.Merged != 2 || rep.Changed != 0 {
		t.Fatalf("again: %+v", rep)
	}

	// JSON: an array, each bad contact reported by its position and
	// field, the rest recorded; a person on the do-not-contact list
	// skipped.
	w.call(t, http.MethodPost, "/api/v1/contacts/@erik_k/opt-out", w.manage, "", nil, true)
	list := `[{"username":"gus_k1","tags":["b2b"],"fields":{"team_size":"12"}},{"username":"x"},{"user_id":"12"},{"phone":"+4915100000001","email":"a"},5,{"username":"Erik_K"}]`
	imp(q, "application/json", list, false).json(t, &rep)
	if rep.Rows != 6 || rep.Valid != 2 || rep.Accepted != 1 || rep.OptedOut != 1 || len(rep.Rejected) != 4 {
		t.Fatalf("json: %+v", rep)
	}
	for i, want := range []struct {
		row   int
		field string
	}{{2, "username"}, {3, "user_id"}, {4, "email"}, {5, ""}} {
		rj := rep.Rejected[i]
		if rj.Row != want.row || rj.Line != nil || (want.field == "") != (rj.Field == nil) || (rj.Field != nil && *rj.Field != want.field) {
			t.Errorf("json rejected %d: %+v", i, rj)
		}
	}
	// The object form.
	imp(q, "application/json", `{"contacts":[{"username":"hanna_k"}]}`, true).json(t, &rep)
	if rep.Accepted != 1 || len(rep.Rejected) != 0 {
		t.Fatalf("object: %+v", rep)
	}

	// A body that is no usable file is refused whole.
	for _, c := range []struct{ ctype, body string }{
		{"text/csv", "name,city\nAnna,Berlin\n"}, // no username, user_id or phone column
		{"text/csv", "username\n\"erik_k\n"},     // an unclosed quote
		{"text/csv", "username\n"},               // only a header
		{"text/csv", "username\n\xff\xfe\n"},     // not UTF-8
		{"application/json", `[]`},
	} {
		p := imp(q, c.ctype, c.body, false).problem(t, http.StatusBadRequest)
		if !slices.Equal(fieldsOf(p), []string{"body"}) {
			t.Errorf("%q: %+v", c.body, p)
		}
	}
	for _, c := range []struct{ query, ctype, body, fields string }{
		{"", "text/csv", file, "source basis"},
		{"source=x&basis=maybe&dry_run=perhaps", "text/csv", file, "basis dry_run"},
		{q, "application/json", `{"contacts":[],"source":"x"}`, "source"},
		{q, "application/json", `{"list":[]}`, "list"},
		{q, "application/json", `{}`, "contacts"},
		{q, "application/json", `"x"`, "contacts"},
	} {
		p := imp(c.query, c.ctype, c.body, false).problem(t, http.StatusBadRequest)
		if got := strings.Join(fieldsOf(p), " "); got != c.fields {
			t.Errorf("%s %s: fields %q, want %q", c.query, c.body, got, c.fields)
		}
	}
	imp(q, "application/json", `[{"username":"ok_name"}] []`, false).problem(t, http.StatusBadRequest)
	imp(q, "text/plain", file, false).problem(t, http.StatusUnsupportedMediaType)
	w.call(t, http.MethodPost, "/api/v1/contacts/import?"+q, w.read, file, map[string]string{"Content-Type": "text/csv"}, true).problem(t, http.StatusForbidden)
	w.call(t, http.MethodPost, "/api/v1/contacts/import?"+q, "", file, map[string]string{"Content-Type": "text/csv"}, true).problem(t, http.StatusUnauthorized)
}

// TestImportBodyLimit: an import's body may be larger than MaxBody, up
// to MaxImportBody; other requests stay bounded by MaxBody.
func TestImportBodyLimit(t *testing.T) {
	w := newWorld(t, tokens.DefaultRate())
	var b strings.Builder
	b.WriteString("username,note\n")
	for i := 0; b.Len() <= httpapi.MaxBody+httpapi.MaxBody/2; i++ {
		fmt.Fprintf(&b, "user_%06d,%s\n", i, strings.Repeat("n", 60))
	}
	var rep importReport
	a := w.call(t, http.MethodPost, "/api/v1/contacts/import?source=s&basis=consent&dry_run=true", w.manage, b.String(), map[string]string{"Content-Type": "text/csv"}, true)
	a.json(t, &rep)
	if a.status != http.StatusOK || rep.Rows < 20000 || rep.Valid != rep.Rows {
		t.Fatalf("a 1.5 MiB import: %d %+v", a.status, rep)
	}
	huge := strings.Repeat("username\n", httpapi.MaxImportBody/9+1)
	p := w.call(t, http.MethodPost, "/api/v1/contacts/import?source=s&basis=consent&dry_run=true", w.manage, huge, map[string]string{"Content-Type": "text/csv"}, false).problem(t, http.StatusRequestEntityTooLarge)
	if !strings.Contains(p.Detail, "32 MiB") {
		t.Fatalf("413: %+v", p)
	}
	body := `{"username":"fine_name","name":"` + strings.Repeat("x", httpapi.MaxBody) + `","source":"s","basis":"consent"}`
	w.call(t, http.MethodPost, "/api/v1/contacts", w.manage, body, nil, false).problem(t, http.StatusRequestEntityTooLarge)
}

func TestOptOutAndForget(t *testing.T) {
	w := newWorld(t, tokens.DefaultRate())
	anna, boris := w.contactOf(t, 1), w.contactOf(t, 2)
	optOut := func(id, token, body string, checkRequest bool) answer {
		t.Helper()
		return w.call(t, http.MethodPost, "/api/v1/contacts/"+id+"/opt-out", token, body, nil, checkRequest)
	}
	var out httpapi.OptedOut
	optOut(anna.String(), w.manage, `{"reason":"asked us to stop"}`, true).json(t, &out)
	if out.Contact.ID != anna || !out.Contact.OptedOut || out.Contact.OptedOutAt == nil || !slices.Equal(out.Ended, []int64{1}) {
		t.Fatalf("anna: %+v", out)
	}
	var card httpapi.Card
	w.get(t, "/api/v1/dialogs/1", w.read).json(t, &card)
	if card.Status != projections.StatusClosed || card.ClosedAs == nil || *card.ClosedAs != "opted-out" {
		t.Fatalf("dialog 1 after the opt-out: %+v", card)
	}
	// Again: nothing to end.
	optOut(anna.String(), w.manage, `{"reason":"asked us to stop"}`, true).json(t, &out)
	if !out.Contact.OptedOut || len(out.Ended) != 0 {
		t.Fatalf("again: %+v", out)
	}
	// Without a body.
	optOut(boris.String(), w.manage, "", true).json(t, &out)
	if out.Contact.ID != boris || !slices.Equal(out.Ended, []int64{2}) {
		t.Fatalf("boris: %+v", out)
	}
	// By @username: a contact the API recorded (its username linked).
	var ida httpapi.Contact
	w.call(t, http.MethodPost, "/api/v1/contacts", w.manage, `{"username":"ida_k1","source":"CRM","basis":"consent"}`, nil, true).json(t, &ida)
	optOut("@IDA_K1", w.manage, `{}`, true).json(t, &out)
	if out.Contact.ID != ida.ID || !out.Contact.OptedOut || len(out.Ended) != 0 {
		t.Fatalf("ida: %+v", out)
	}
	if p := optOut(anna.String(), w.manage, `{"reason":"`+strings.Repeat("r", 501)+`"}`, false).problem(t, http.StatusBadRequest); !slices.Equal(fieldsOf(p), []string{"reason"}) {
		t.Fatalf("long reason: %+v", p)
	}
	if p := optOut(anna.String(), w.manage, `{"why":"x"}`, false).problem(t, http.StatusBadRequest); !slices.Equal(fieldsOf(p), []string{"why"}) {
		t.Fatalf("unknown field: %+v", p)
	}
	optOut(uuid.NewString(), w.manage, "", true).problem(t, http.StatusNotFound)
	optOut(anna.String(), w.read, "", true).problem(t, http.StatusForbidden)
	optOut(anna.String(), "", "", true).problem(t, http.StatusUnauthorized)

	// Erasure needs an admin token.
	forget := func(id, token string) answer {
		t.Helper()
		return w.call(t, http.MethodPost, "/api/v1/contacts/"+id+"/forget", token, "", nil, true)
	}
	forget(boris.String(), w.manage).problem(t, http.StatusForbidden)
	forget(boris.String(), "").problem(t, http.StatusUnauthorized)
	root := w.admin
	var gone httpapi.Forgotten
	forget(boris.String(), root).json(t, &gone)
	if !slices.Equal(gone.Erased, []uuid.UUID{boris}) {
		t.Fatalf("forget: %+v", gone)
	}
	forget("@ida_k1", root).json(t, &gone)
	if !slices.Equal(gone.Erased, []uuid.UUID{ida.ID}) {
		t.Fatalf("forget by username: %+v", gone)
	}
	var c httpapi.Contact
	w.get(t, "/api/v1/contacts/"+boris.String(), w.read).json(t, &c)
	if !c.Forgotten || !c.OptedOut || c.Username != nil || c.Name != nil || c.UserID != nil || len(c.Fields) != 0 {
		t.Fatalf("after the erasure: %+v", c)
	}
	row, err := w.sink.ContactByID(t.Context(), boris)
	if err != nil || row.Username == "boris" || !row.Forgotten {
		t.Fatalf("the read model after the erasure: %+v, %v", row, err)
	}
	// Again: done again, the same answer.
	forget(boris.String(), root).json(t, &gone)
	if !slices.Equal(gone.Erased, []uuid.UUID{boris}) {
		t.Fatalf("forget again: %+v", gone)
	}
	forget(uuid.NewString(), root).problem(t, http.StatusNotFound)
}
