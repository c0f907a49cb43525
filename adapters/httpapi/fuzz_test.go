package httpapi_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/salesbot/salesbot/adapters/app/tokens"
	"github.com/salesbot/salesbot/adapters/httpapi"
)

// FuzzPostBodies: no body makes a POST of the API fail with a 500 or
// panic; every answer is a success or a 4xx problem. op picks the
// endpoint among the document's POSTs (but /cli, which upgrades the
// connection).
func FuzzPostBodies(f *testing.F) {
	doc, err := openapi3.NewLoader().LoadFromData(httpapi.OpenAPI)
	if err != nil {
		f.Fatal(err)
	}
	var posts []string
	for path, item := range doc.Paths.Map() {
		if item.Post != nil && path != "/cli" {
			posts = append(posts, path)
		}
	}
	slices.Sort(posts)
	for i, s := range []string{
		`{"outcome":"won","amount":"1200.50","currency":"EUR"}`, `{"outcome":"lost","reason":"too dear"}`,
		`{"outcome":"won","amount":"-1","currency":"eur"}`, `{"outcome":"won","amount":"1e400","currency":"EUR"}`,
		`{"outcome":null}`, `{"outcome":"won","amount":"99999999999999999999999","currency":"JPY"}`,
		`{"outcome":"lost","reason":"` + strings.Repeat("ж", 600) + `"}`, `{"outcome":"won","amount":{}}`, `null`, `"x"`, `{`, ``,
		`{"username":"@anna"}`, `{"username":"@nobody_here","account":"main"}`, `{"text":"hello"}`, `{"text":""}`, `{}`, `[]`,
		`{"username":"x","basis":"consent","source":"fair"}`, `[{"username":"@zed_one"}]`, `{"contacts":[{"username":7}]}`,
		`{"reason":"` + strings.Repeat("x", 700) + `"}`, `{"name":"n","schedule":{"start":"2026-12-01T09:00:00Z","stop":1}}`,
		`{"name":"Q2","variants":"A=0","schedule":{"start":"yesterday"}}`, "\x00\xff", `{"a":` + strings.Repeat("[", 10000),
	} {
		for op := range posts {
			if (i+op)%3 == 0 { // a third of the pairs keeps the corpus small
				f.Add(uint8(op), s)
			}
		}
	}
	w := newWorld(f, tokens.Rate{})
	f.Fuzz(func(t *testing.T, op uint8, body string) {
		path := posts[int(op)%len(posts)]
		path = strings.NewReplacer("{n}", "1", "{id}", w.campaign.String()).Replace(path)
		if strings.HasPrefix(path, "/contacts/") && path != "/contacts/import" {
			path = "/contacts/@anna" + path[strings.LastIndex(path, "/"):]
		}
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, w.serverURL+"/api/v1"+path+"?source=fuzz&basis=consent", strings.NewReader(body))
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
		case res.StatusCode < 300:
		case res.StatusCode >= 400 && res.StatusCode < 500 && res.Header.Get("Content-Type") == "application/problem+json":
		default:
			t.Fatalf("POST %s %q: %d %s", path, body, res.StatusCode, res.Header.Get("Content-Type"))
		}
	})
}
