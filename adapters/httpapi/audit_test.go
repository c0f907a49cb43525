package httpapi_test

import (
	"encoding/hex"
	"net/http"
	"slices"
	"strconv"
	"testing"

	"github.com/salesbot/salesbot/adapters/app/tokens"
	"github.com/salesbot/salesbot/adapters/httpapi"
)

// The log is verified while it is open; the report gives the head to
// write down, and a head written down earlier is checked.
func TestVerify(t *testing.T) {
	w := newWorld(t, tokens.DefaultRate())
	verify := func(body string, checkRequest bool) answer {
		t.Helper()
		return w.call(t, http.MethodPost, "/api/v1/audit/verify", w.read, body, nil, checkRequest)
	}
	var rep httpapi.VerifyReport
	verify("", true).json(t, &rep)
	hash, err := w.store.HashAt(t.Context(), w.store.Head())
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK || rep.Head == nil || rep.Head.Position != w.store.Head() || rep.Head.Hash != hex.EncodeToString(hash[:]) ||
		rep.Events != w.store.Head() || rep.Streams == 0 || rep.Subjects != 3 || rep.LogID != w.store.LogID().String() || len(rep.Problems) != 0 {
		t.Fatalf("report: %+v", rep)
	}
	head := strconv.FormatUint(rep.Head.Position, 10) + ":" + rep.Head.Hash
	w.inbound(t, 2, 10, "hello") // the log goes on
	var again httpapi.VerifyReport
	verify(`{"expect_head":"`+head+`"}`, true).json(t, &again)
	if !again.OK || again.Events != rep.Events+1 {
		t.Fatalf("with the head written down: %+v", again)
	}
	other := strconv.FormatUint(rep.Head.Position-1, 10) + ":" + rep.Head.Hash
	var bad httpapi.VerifyReport
	verify(`{"expect_head":"`+other+`"}`, true).json(t, &bad)
	if bad.OK || len(bad.Problems) != 1 || bad.Problems[0].Position == nil || *bad.Problems[0].Position != rep.Head.Position-1 || bad.Head == nil {
		t.Fatalf("another head: %+v", bad)
	}
	for _, body := range []string{`{"expect_head":"12"}`, `{"expect_head":7}`, `{"head":"1:00"}`} {
		p := verify(body, false).problem(t, http.StatusBadRequest)
		if len(p.Errors) != 1 || (p.Errors[0].Field != "expect_head" && p.Errors[0].Field != "head") {
			t.Errorf("%s: %+v", body, p)
		}
	}
	w.call(t, http.MethodPost, "/api/v1/audit/verify", "", "", nil, true).problem(t, http.StatusUnauthorized)
}

// A dialog's replay is its every event from the log; a read token gets
// it without the personal fields.
func TestReplay(t *testing.T) {
	w := newWorld(t, tokens.DefaultRate())
	var read, manage struct{ Items []httpapi.LogEvent }
	w.get(t, "/api/v1/dialogs/1/replay", w.read).json(t, &read)
	w.get(t, "/api/v1/dialogs/1/replay", w.manage).json(t, &manage)
	var types []string
	for i, e := range manage.Items {
		types = append(types, e.Type)
		if e.Version != uint64(i+1) || e.Stream != read.Items[i].Stream || e.Position != read.Items[i].Position || e.At != t0 {
			t.Fatalf("event %d: %+v / %+v", i, e, read.Items[i])
		}
	}
	if !slices.Equal(types, []string{"DialogStarted", "InboundReceived", "QualificationUpdated"}) {
		t.Fatalf("types %v", types)
	}
	if s := dataOf(t, manage.Items[1])["text"]; s != "we have 5000 EUR" {
		t.Fatalf("manage: %s", manage.Items[1].Data)
	}
	if s := dataOf(t, read.Items[1])["text"]; s != "" || !slices.Equal(read.Items[1].Withheld, []string{"text"}) {
		t.Fatalf("read: %s %v", read.Items[1].Data, read.Items[1].Withheld)
	}
	if w := read.Items[2].Withheld; !slices.Equal(w, []string{"qualification.budget.amount", "qualification.budget.quote", "qualification.budget.value"}) {
		t.Fatalf("read, qualification: withheld %v", w)
	}
	w.get(t, "/api/v1/dialogs/99/replay", w.read).problem(t, http.StatusNotFound)
	w.call(t, http.MethodGet, "/api/v1/dialogs/x/replay", w.read, "", nil, false).problem(t, http.StatusBadRequest)
}
