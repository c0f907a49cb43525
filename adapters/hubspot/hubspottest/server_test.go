package hubspottest_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/salesbot/salesbot/adapters/hubspot/hubspottest"
)

// The fake refuses what HubSpot documents as refused, in HubSpot's shapes.
func TestStrict(t *testing.T) {
	s := hubspottest.New("tok")
	defer s.Close()
	do := func(method, path, auth, body string) (int, map[string]any) {
		t.Helper()
		req, err := http.NewRequest(method, s.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", auth)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, m
	}
	st, m := do("POST", "/crm/v3/objects/contacts", "Bearer nope", `{"properties": {}}`)
	if st != 401 || m["category"] != "INVALID_AUTHENTICATION" || m["status"] != "error" || m["correlationId"] == "" {
		t.Fatalf("%d %v", st, m)
	}
	st, m = do("POST", "/crm/v3/objects/contacts", "Bearer tok", `{"properties": {"firstname": "A"}, "extra": 1}`)
	if st != 400 || m["category"] != "VALIDATION_ERROR" {
		t.Fatalf("unknown field: %d %v", st, m)
	}
	st, m = do("POST", "/crm/v3/objects/contacts", "Bearer tok", `{"properties": {"firstname": "A", "nope": "x"}}`)
	if st != 400 || !strings.Contains(m["message"].(string), `"nope" does not exist`) {
		t.Fatalf("unknown property: %d %v", st, m)
	}
	st, m = do("POST", "/crm/v3/objects/contacts", "Bearer tok", `{"properties": {"firstname": "A"}}`)
	if st != 201 || m["id"] == "" {
		t.Fatalf("contact: %d %v", st, m)
	}
	cid := m["id"].(string)
	for _, c := range []struct{ name, body, want string }{
		{"no stage", `{"properties": {"dealname": "d", "pipeline": "default"}}`, "dealstage is required"},
		{"bad stage", `{"properties": {"dealname": "d", "pipeline": "default", "dealstage": "x"}}`, "not a valid dealstage"},
		{"bad amount", `{"properties": {"dealname": "d", "pipeline": "default", "dealstage": "closedwon", "amount": "1,5"}}`, "not a number"},
		{"wrong type", `{"properties": {"dealname": "d", "pipeline": "default", "dealstage": "closedwon"}, "associations": [{"to": {"id": "` + cid + `"}, "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 214}]}]}`, "not a valid association type"},
		{"no such contact", `{"properties": {"dealname": "d", "pipeline": "default", "dealstage": "closedwon"}, "associations": [{"to": {"id": "1"}, "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 3}]}]}`, "does not exist"},
	} {
		st, m := do("POST", "/crm/v3/objects/deals", "Bearer tok", c.body)
		if st != 400 || !strings.Contains(m["message"].(string), c.want) {
			t.Errorf("%s: %d %v", c.name, st, m)
		}
	}
	st, m = do("POST", "/crm/v3/objects/notes", "Bearer tok", `{"properties": {"hs_note_body": "x"}}`)
	if st != 400 || !strings.Contains(m["message"].(string), "hs_timestamp is required") {
		t.Fatalf("note: %d %v", st, m)
	}
	st, m = do("POST", "/crm/v3/objects/deals/search", "Bearer tok", `{"filterGroups": [{"filters": [{"propertyName": "dealname", "operator": "LIKE", "value": "x"}]}]}`)
	if st != 400 {
		t.Fatalf("search operator: %d %v", st, m)
	}
	s.RateLimit("", "TEN_SECONDLY_ROLLING", "")
	st, m = do("GET", "/crm/v3/objects/contacts/"+cid, "Bearer tok", "")
	if st != 429 || m["policyName"] != "TEN_SECONDLY_ROLLING" || m["errorType"] != "RATE_LIMIT" {
		t.Fatalf("429: %d %v", st, m)
	}
	st, m = do("GET", "/crm/v3/objects/contacts/"+cid, "Bearer tok", "")
	if st != 200 || m["properties"].(map[string]any)["firstname"] != "A" {
		t.Fatalf("get: %d %v", st, m)
	}
	if n := len(s.Requests()); n != 13 {
		t.Fatalf("%d requests recorded", n)
	}
}
