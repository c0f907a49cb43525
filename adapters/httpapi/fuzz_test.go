package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/salesbot/salesbot/adapters/app/tokens"
)

// FuzzOutcomeBody: no body makes POST .../outcome fail with a 500 or
// panic; every answer is the card or a 4xx problem.
func FuzzOutcomeBody(f *testing.F) {
	for _, s := range []string{
		`{"outcome":"won","amount":"1200.50","currency":"EUR"}`, `{"outcome":"lost","reason":"too dear"}`,
		`{"outcome":"won","amount":"-1","currency":"eur"}`, `{"outcome":"won","amount":"1e400","currency":"EUR"}`,
		`{"outcome":null}`, `{"outcome":"won","amount":"99999999999999999999999","currency":"JPY"}`,
		`{"outcome":"lost","reason":"` + strings.Repeat("ж", 600) + `"}`, `{"outcome":"won","amount":{}}`, `null`, `"x"`, `{`, ``,
	} {
		f.Add(s)
	}
	w := newWorld(f, tokens.Rate{})
	f.Fuzz(func(t *testing.T, body string) {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, w.serverURL+"/api/v1/dialogs/1/outcome", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+w.manage)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		switch {
		case res.StatusCode == http.StatusOK:
		case res.StatusCode >= 400 && res.StatusCode < 500 && res.Header.Get("Content-Type") == "application/problem+json":
		default:
			t.Fatalf("%q: %d %s", body, res.StatusCode, res.Header.Get("Content-Type"))
		}
	})
}
