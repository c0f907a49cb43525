package amocrmtest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/salesbot/salesbot/adapters/amocrm/amocrmtest"
)

// The fake refuses what amoCRM documents as refused, in amoCRM's shapes.
func TestStrict(t *testing.T) {
	s := amocrmtest.New("tok")
	defer s.Close()
	s.KnownFields(1)
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
		b, _ := io.ReadAll(resp.Body)
		var v map[string]any
		json.Unmarshal(b, &v)
		return resp.StatusCode, v
	}
	lead := `{"name":"x","pipeline_id":1,"status_id":2,"_embedded":{"contacts":[{"first_name":"A"}]}%s}`
	for _, c := range []struct {
		name, body, path string
	}{
		{"unknown field", strings.Replace(lead, "%s", `,"colour":"red"`, 1), ""},
		{"no name", `[{"pipeline_id":1,"status_id":2,"_embedded":{"contacts":[{"name":"A"}]}}]`, "name"},
		{"no contact", `[{"name":"x","pipeline_id":1,"status_id":2,"_embedded":{}}]`, "_embedded.contacts"},
		{"unknown custom field", `[{"name":"x","pipeline_id":1,"status_id":2,"custom_fields_values":[{"field_id":5,"values":[{"value":"v"}]}],"_embedded":{"contacts":[{"name":"A"}]}}]`, "custom_fields_values.0.field_id"},
		{"empty values", `[{"name":"x","pipeline_id":1,"status_id":2,"custom_fields_values":[{"field_id":1,"values":[]}],"_embedded":{"contacts":[{"name":"A"}]}}]`, "custom_fields_values.0.values"},
	} {
		body := c.body
		if !strings.HasPrefix(body, "[") {
			body = "[" + body + "]"
		}
		status, v := do("POST", "/api/v4/leads/complex", "Bearer tok", body)
		if status != 400 || v["status"] != float64(400) || v["title"] != "Bad Request" {
			t.Errorf("%s: %d %v", c.name, status, v)
			continue
		}
		if c.path != "" {
			ve, _ := v["validation-errors"].([]any)
			if len(ve) != 1 || !strings.Contains(mustJSON(ve), `"path":"`+c.path+`"`) {
				t.Errorf("%s: %v", c.name, v)
			}
		}
	}
	if status, v := do("POST", "/api/v4/leads/complex", "Bearer nope", "[]"); status != 401 || v["status"] != float64(401) {
		t.Errorf("unauthorized: %d %v", status, v)
	}
	if status, _ := do("GET", "/api/v4/leads?query=none", "Bearer tok", ""); status != 204 {
		t.Errorf("empty search: %d", status)
	}
	if status, _ := do("POST", "/api/v4/leads/5/notes", "Bearer tok", `[{"note_type":"common","params":{"text":"x"}}]`); status != 404 {
		t.Errorf("note on no lead: %d", status)
	}
	if len(s.Leads()) != 0 || len(s.Requests()) != 8 {
		t.Errorf("%d leads, %d requests", len(s.Leads()), len(s.Requests()))
	}
	// A good lead, then a note of the wrong type.
	status, _ := do("POST", "/api/v4/leads/complex", "Bearer tok", "["+strings.Replace(lead, "%s", "", 1)+"]")
	if status != 200 || len(s.Leads()) != 1 {
		t.Fatalf("good lead: %d", status)
	}
	id := s.Leads()[0].ID
	if status, _ := do("POST", "/api/v4/leads/"+itoa(id)+"/notes", "Bearer tok", `[{"note_type":"call_in","params":{"text":"x"}}]`); status != 400 {
		t.Errorf("call_in note: %d", status)
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func itoa(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}
