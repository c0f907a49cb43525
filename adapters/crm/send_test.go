package crm_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/salesbot/salesbot/adapters/crm"
)

func TestSend(t *testing.T) {
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = append(got, r.Method+" "+r.URL.Path+" "+r.Header.Get("Authorization")+" "+r.Header.Get("Accept")+" "+
			r.Header.Get("Content-Type")+" "+r.Header.Get("User-Agent")+" "+string(b))
		w.Header().Set("Retry-After", "3")
		w.WriteHeader(http.StatusTooManyRequests)
		io.WriteString(w, `{"x":1}`)
	}))
	defer srv.Close()
	tok := crm.NewSecret("tok-1234567890abcdef")
	req := crm.Request{Method: http.MethodPost, URL: srv.URL + "/a", Body: []byte(`{"a":1}`), Token: tok, UserAgent: "ua/1", Prefix: "x: op"}
	resp, data, err := crm.Send(context.Background(), srv.Client(), req)
	if err != nil || resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "3" || string(data) != `{"x":1}` {
		t.Fatalf("Send = %v, %q, %v", resp, data, err)
	}
	req.Method, req.Body = http.MethodGet, nil
	if _, _, err := crm.Send(context.Background(), srv.Client(), req); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"POST /a Bearer tok-1234567890abcdef application/json application/json ua/1 {\"a\":1}",
		"GET /a Bearer tok-1234567890abcdef application/json  ua/1 ",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("requests:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	srv.Close()
	req.URL = srv.URL + "/" + tok.Reveal()
	_, _, err = crm.Send(context.Background(), srv.Client(), req)
	if err == nil || !strings.HasPrefix(err.Error(), "x: op: ") || strings.Contains(err.Error(), tok.Reveal()) {
		t.Errorf("a failed request: %v", err)
	}
}
