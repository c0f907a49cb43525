package amocrm_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/adapters/amocrm"
	"github.com/salesbot/salesbot/domain"
)

const hookSecret = "hook-0123456789abcdef"

type index map[string]int64 // lead id → dialog number

func (ix index) DialogOfCRMLead(_ context.Context, crm, lead string) (domain.CRMLeadLinked, bool, error) {
	n, ok := ix[lead]
	if crm != "amocrm" || !ok {
		return domain.CRMLeadLinked{}, false, nil
	}
	return domain.CRMLeadLinked{DialogID: uuid.New(), N: n, CRM: crm, CRMLeadID: lead}, true, nil
}

type recorded struct {
	n   int64
	cmd domain.RecordOutcome
}

func newWebhook(t *testing.T, fail error) (*amocrm.Webhook, *[]recorded, *bytes.Buffer) {
	t.Helper()
	var got []recorded
	record := func(_ context.Context, n int64, at uint64, cmd domain.RecordOutcome) (bool, error) {
		if at != 0 {
			t.Errorf("at %d", at)
		}
		if fail != nil {
			return false, fail
		}
		if _, err := cmd.Validate(); err != nil {
			return false, err
		}
		got = append(got, recorded{n, cmd})
		return true, nil
	}
	logs := &bytes.Buffer{}
	h, err := amocrm.NewWebhook(amocrm.Config{WebhookSecret: amocrm.NewSecret(hookSecret), Currency: "RUB"},
		index{"2001": 12, "2002": 13}, record, slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return h, &got, logs
}

func post(h http.Handler, path, body string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func statusForm(entries ...[4]string) string {
	v := url.Values{"account[subdomain]": {"example"}, "account[id]": {"30001"}}
	for i, e := range entries {
		p := "leads[status][" + string(rune('0'+i)) + "]"
		v.Set(p+"[id]", e[0])
		v.Set(p+"[status_id]", e[1])
		v.Set(p+"[pipeline_id]", "7001")
		v.Set(p+"[old_status_id]", "7002")
		if e[2] != "" {
			v.Set(p+"[price]", e[2])
		}
		v.Set(p+"[name]", e[3])
		v.Set(p+"[custom_fields][0][id]", "9001")
		v.Set(p+"[custom_fields][0][values][0][value]", "x")
	}
	return v.Encode()
}

func TestWebhookWonAndLost(t *testing.T) {
	h, got, logs := newWebhook(t, nil)
	body := statusForm([4]string{"2001", "142", "150000", "Анна Петрова"}, [4]string{"2002", "143", "9000", "Олег"}, [4]string{"2001", "7003", "1", "moved"})
	if w := post(h, "/hooks/amocrm/"+hookSecret, body); w.Code != http.StatusOK {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	want := []recorded{
		{12, domain.RecordOutcome{Outcome: domain.OutcomeWon, Amount: "150000", Currency: "RUB", By: "crm:amocrm"}},
		{13, domain.RecordOutcome{Outcome: domain.OutcomeLost, Reason: amocrm.LostReason, By: "crm:amocrm"}},
	}
	if len(*got) != 2 || (*got)[0] != want[0] || (*got)[1] != want[1] {
		t.Fatalf("recorded %+v", *got)
	}
	if strings.Contains(logs.String(), "Анна") {
		t.Fatal("a name was logged")
	}
	// The secret may be given as ?token= too; a won lead without a price is won without an amount.
	*got = nil
	if w := post(h, "/hooks/amocrm?token="+hookSecret, statusForm([4]string{"2001", "142", "0", "a"})); w.Code != 200 || len(*got) != 1 || (*got)[0].cmd.Amount != "" {
		t.Fatalf("status %d, recorded %+v", w.Code, *got)
	}
}

func TestWebhookUnknownLead(t *testing.T) {
	h, got, logs := newWebhook(t, nil)
	if w := post(h, "/hooks/amocrm/"+hookSecret, statusForm([4]string{"777", "142", "100", "Анна"})); w.Code != http.StatusOK || len(*got) != 0 {
		t.Fatalf("status %d, recorded %+v", w.Code, *got)
	}
	if !strings.Contains(logs.String(), "level=INFO") || !strings.Contains(logs.String(), "lead=777") || strings.Contains(logs.String(), "Анна") {
		t.Fatalf("logs %s", logs)
	}
}

func TestWebhookRefusals(t *testing.T) {
	h, got, _ := newWebhook(t, nil)
	good := statusForm([4]string{"2001", "142", "10", "a"})
	for _, c := range []struct {
		name, path, body string
		status           int
	}{
		{"no secret", "/hooks/amocrm/", good, 401},
		{"wrong secret", "/hooks/amocrm/hook-0123456789abcdeX", good, 401},
		{"empty", "/hooks/amocrm/" + hookSecret, "", 400},
		{"not a form", "/hooks/amocrm/" + hookSecret, "%zz=1", 400},
		{"no status id", "/hooks/amocrm/" + hookSecret, "leads[status][0][id]=2001", 400},
		{"bad id", "/hooks/amocrm/" + hookSecret, "leads[status][0][id]=abc&leads[status][0][status_id]=142", 400},
		{"bad index", "/hooks/amocrm/" + hookSecret, "leads[status][x][id]=1&leads[status][x][status_id]=142", 400},
		{"bad price", "/hooks/amocrm/" + hookSecret, "leads[status][0][id]=2001&leads[status][0][status_id]=142&leads[status][0][price]=-5", 400},
	} {
		w := post(h, c.path, c.body)
		if w.Code != c.status {
			t.Errorf("%s: status %d, want %d", c.name, w.Code, c.status)
			continue
		}
		var p map[string]any
		if w.Header().Get("Content-Type") != "application/problem+json" || json.Unmarshal(w.Body.Bytes(), &p) != nil || p["status"] != float64(c.status) {
			t.Errorf("%s: %s %s", c.name, w.Header().Get("Content-Type"), w.Body)
		}
	}
	if len(*got) != 0 {
		t.Fatalf("recorded %+v", *got)
	}
	// Another event (a lead added) is answered 200 and left.
	if w := post(h, "/hooks/amocrm/"+hookSecret, "leads[add][0][id]=5&leads[add][0][status_id]=1"); w.Code != 200 {
		t.Fatalf("leads[add]: %d", w.Code)
	}
	r := httptest.NewRequest(http.MethodGet, "/hooks/amocrm/"+hookSecret, nil)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusMethodNotAllowed {
		t.Fatalf("GET: %d", w.Code)
	}
}

// A failing log is a 500: amoCRM sends the webhook again.
func TestWebhookLogFailure(t *testing.T) {
	h, _, _ := newWebhook(t, errors.New("disk full"))
	if w := post(h, "/hooks/amocrm/"+hookSecret, statusForm([4]string{"2001", "143", "", "a"})); w.Code != http.StatusInternalServerError {
		t.Fatalf("status %d", w.Code)
	}
}

func FuzzParseStatusChanges(f *testing.F) {
	f.Add(statusForm([4]string{"2001", "142", "150000", "a"}))
	f.Add("leads[status][0][id]=1&leads[status][0][status_id]=143&leads[status][0][price]=1.5")
	f.Fuzz(func(t *testing.T, body string) {
		changes, err := amocrm.ParseStatusChanges(body)
		if err == nil {
			for _, c := range changes {
				if c.LeadID <= 0 || c.StatusID <= 0 {
					t.Fatalf("%+v", c)
				}
			}
		}
	})
}
