package crmtest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/salesbot/salesbot/adapters/crm/crmtest"
)

func TestFaults(t *testing.T) {
	var q crmtest.Faults[string]
	if _, ok := q.Take(func(string) bool { return true }); ok {
		t.Fatal("Take of an empty queue")
	}
	q.Add("a1")
	q.Add("b1")
	q.Add("a2")
	isB := func(f string) bool { return f[0] == 'b' }
	if f, ok := q.Take(isB); !ok || f != "b1" {
		t.Errorf("Take = %q, %v; want b1", f, ok)
	}
	if _, ok := q.Take(isB); ok {
		t.Error("a fault used twice")
	}
	all := func(string) bool { return true }
	for _, want := range []string{"a1", "a2"} {
		if f, ok := q.Take(all); !ok || f != want {
			t.Errorf("Take = %q, %v; want %s (in order)", f, ok, want)
		}
	}
	if len(q) != 0 {
		t.Errorf("left: %q", q)
	}
}

func TestDropConnection(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { crmtest.DropConnection(w) }))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err == nil {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		t.Fatalf("an answer: %d", resp.StatusCode)
	}
}

func TestStrict(t *testing.T) {
	var v struct{ A any }
	if err := crmtest.Strict([]byte(`{"A": 1}`), &v); err != nil || v.A != float64(1) {
		t.Errorf("Strict: %v, %#v", err, v.A)
	}
	if err := crmtest.StrictNumbers([]byte(`{"A": 1}`), &v); err != nil || v.A != json.Number("1") {
		t.Errorf("StrictNumbers: %v, %#v", err, v.A)
	}
	for _, body := range []string{`{"B": 1}`, `{"A": 1} {}`, `[`} {
		if err := crmtest.Strict([]byte(body), &v); err == nil {
			t.Errorf("Strict(%s) took it", body)
		}
	}
}
