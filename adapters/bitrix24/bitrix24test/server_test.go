package bitrix24test_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/salesbot/salesbot/adapters/bitrix24/bitrix24test"
)

// The fake refuses what Bitrix24 refuses, in Bitrix24's shapes.
func TestStrict(t *testing.T) {
	s := bitrix24test.New(1, "c0de0c0de0c0de")
	defer s.Close()
	s.KnownFields("UF_CRM_NEED")
	call := func(method, body string) (int, map[string]any) {
		t.Helper()
		resp, err := http.Post(s.WebhookURL()+method+".json", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var v map[string]any
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatalf("%s: %s", method, b)
		}
		return resp.StatusCode, v
	}
	for _, c := range []struct{ method, body string }{
		{"crm.lead.add", `{"fields":{"TITLE":"x"},"colour":1}`},
		{"crm.lead.add", `{"fields":{}}`},
		{"crm.lead.add", `{"fields":{"NAME":"A"}}`},
		{"crm.lead.add", `{"fields":{"TITLE":"x","STAGE_ID":"NEW"}}`},
		{"crm.lead.add", `{"fields":{"TITLE":"x","UF_CRM_OTHER":"v"}}`},
		{"crm.lead.add", `{"fields":{"TITLE":"x","PHONE":"+7916"}}`},
		{"crm.lead.add", `{"fields":{"TITLE":"x","IM":[{"VALUE":"@a","VALUE_TYPE":"TG"}]}}`},
		{"crm.lead.add", `{"fields":{"TITLE":"x","OPPORTUNITY":100}}`},
		{"crm.lead.add", `{"fields":{"TITLE":"x","OPPORTUNITY":"100","CURRENCY_ID":"RUB"}}`},
		{"crm.lead.add", `{"fields":{"TITLE":"x"},"params":{"REGISTER_SONET_EVENT":"yes"}}`},
		{"crm.deal.add", `{"fields":{"TITLE":"x","CONTACT_ID":5}}`},
		{"crm.deal.add", `{"fields":{"TITLE":"x","STATUS_ID":"NEW"}}`},
		{"crm.contact.add", `{"fields":{"TITLE":"x"}}`},
		{"crm.timeline.comment.add", `{"fields":{"ENTITY_ID":1,"ENTITY_TYPE":"lead","COMMENT":"c"}}`},
		{"crm.deal.get", `{"id":1}`},
		{"crm.lead.list", `{"filter":{">ID":1}}`},
	} {
		status, v := call(c.method, c.body)
		if status != http.StatusBadRequest || v["error_description"] == nil {
			t.Errorf("%s %s: %d %v", c.method, c.body, status, v)
		}
	}
	if n := len(s.Leads()) + len(s.Deals()) + len(s.Contacts()) + len(s.Comments()); n != 0 {
		t.Fatalf("%d created", n)
	}
	status, v := call("crm.lead.add", `{"fields":{"TITLE":"Anna · salesbot dialog 12","UF_CRM_NEED":"CRM","OPPORTUNITY":150000,"CURRENCY_ID":"RUB",
		"IM":[{"VALUE":"@anna","VALUE_TYPE":"TELEGRAM"}]},"params":{"REGISTER_SONET_EVENT":"Y"}}`)
	if status != 200 || v["result"] == nil || v["time"] == nil {
		t.Fatalf("add: %d %v", status, v)
	}
	_, v = call("crm.lead.list", `{"filter":{"%TITLE":"SALESBOT dialog 1"},"select":["ID","TITLE"]}`)
	list, _ := v["result"].([]any)
	if len(list) != 1 || list[0].(map[string]any)["TITLE"] != "Anna · salesbot dialog 12" || list[0].(map[string]any)["UF_CRM_NEED"] != nil {
		t.Fatalf("list: %v", v)
	}
	_, v = call("crm.lead.list", `{"filter":{"=UF_CRM_NEED":"CRM"}}`)
	if list, _ := v["result"].([]any); len(list) != 1 {
		t.Fatalf("list by field: %v", v)
	}
	if status, v := call("crm.deal.get", `{"id":`+"999"+`}`); status != 400 || v["error_description"] != "Not found" {
		t.Fatalf("deal.get: %d %v", status, v)
	}
	if status, v := call("crm.lead.delete", `{"id":1}`); status != 404 || v["error"] != "ERROR_METHOD_NOT_FOUND" {
		t.Fatalf("unknown method: %d %v", status, v)
	}
	resp, err := http.Post(s.URL+"/rest/1/wrong0code0/crm.lead.list.json", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("wrong code: %d", resp.StatusCode)
	}
	s.RateLimit("")
	if status, v := call("crm.lead.list", `{}`); status != 503 || v["error"] != "QUERY_LIMIT_EXCEEDED" {
		t.Fatalf("limit: %d %v", status, v)
	}
	s.Drop("crm.lead.add")
	if _, err := http.Post(s.WebhookURL()+"crm.lead.add.json", "application/json", strings.NewReader(`{"fields":{"TITLE":"y"}}`)); err == nil {
		t.Fatal("an answer after a drop")
	}
	reqs := s.Requests()
	if len(s.Leads()) != 2 || reqs[len(reqs)-1].Status != 0 || reqs[len(reqs)-1].Method != "crm.lead.add" {
		t.Fatalf("drop: %d leads, %+v", len(s.Leads()), reqs[len(reqs)-1])
	}
}
