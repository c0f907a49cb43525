package system

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/salesbot/salesbot/adapters/app/tokens"
	"github.com/salesbot/salesbot/adapters/httpapi"
	"github.com/salesbot/salesbot/domain"
)

// TestSystemServesContactsAndCampaigns: the running system serves the
// contacts' and the campaigns' endpoints on its log (a Pebble store) and
// its scenario: a contact recorded and imported, a campaign created on
// their tag and paused, the contact erased (its key deleted, its read
// model row blanked before the answer).
func TestSystemServesContactsAndCampaigns(t *testing.T) {
	cfg := testConfig(t)
	addr := freeAddr(t)
	cfg.HTTP = &HTTP{Listen: addr, Rate: tokens.Rate{PerSecond: 1000, Burst: 1000}}
	ctx := t.Context()
	root := newToken(t, cfg.Store, domain.ScopeAdmin)
	startSystem(t, cfg)
	do := func(method, path, ctype, body string, out any) int {
		t.Helper()
		req, err := http.NewRequestWithContext(ctx, method, "http://"+addr+"/api/v1"+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+root)
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		if out != nil && res.StatusCode == http.StatusOK {
			if err := json.Unmarshal(b, out); err != nil {
				t.Fatalf("%s %s: %v: %s", method, path, err, b)
			}
		}
		return res.StatusCode
	}
	deadline := time.Now().Add(10 * time.Second)
	for do(http.MethodGet, "/campaigns", "", "", nil) != http.StatusOK {
		if time.Now().After(deadline) {
			t.Fatal("the API did not come up")
		}
		time.Sleep(20 * time.Millisecond)
	}

	var anna httpapi.Contact
	if code := do(http.MethodPost, "/contacts", "application/json", `{"username":"anna_k","name":"Anna","tags":["berlin"],"source":"CRM","basis":"consent"}`, &anna); code != http.StatusOK ||
		anna.Source != "api" || *anna.Name != "Anna" {
		t.Fatalf("upsert: %d %+v", code, anna)
	}
	var rep httpapi.ImportReport
	if code := do(http.MethodPost, "/contacts/import?source=fair&basis=consent", "text/csv", "username,tags\nboris_k,berlin\nanna_k,vip\nab,\n", &rep); code != http.StatusOK ||
		rep.Accepted != 1 || rep.Merged != 1 || len(rep.Rejected) != 1 {
		t.Fatalf("import: %d %+v", code, rep)
	}
	var c httpapi.CampaignDetail
	if code := do(http.MethodPost, "/campaigns", "application/json", `{"name":"Berlin","segment":{"tags":["berlin"]},"schedule":{"start":"2030-01-06T09:00","length":3}}`, &c); code != http.StatusOK ||
		c.Status != "active" || c.Scenario != cfg.Engine.Scenario.Name || len(c.Variants) != len(cfg.Engine.Scenario.Variants) {
		t.Fatalf("create: %d %+v", code, c)
	}
	if code := do(http.MethodPost, "/campaigns/"+c.Short+"/pause", "", "", &c); code != http.StatusOK || c.Status != "paused" {
		t.Fatalf("pause: %d %+v", code, c)
	}
	var st httpapi.CampaignStats
	if code := do(http.MethodGet, "/campaigns/"+c.ID+"/stats?metric=won", "", "", &st); code != http.StatusOK || st.Campaign.ID != c.ID || len(st.Variants) != 2 || len(st.Tests) != 1 || st.Tests[0].Metric != "won" {
		t.Fatalf("stats: %d %+v", code, st)
	}
	// optimize: the campaign's variants optimize themselves (stats say
	// for what); a goal that is none is refused naming the field.
	var tuned httpapi.CampaignDetail
	if code := do(http.MethodPost, "/campaigns", "application/json", `{"name":"Tuned","schedule":{"start":"2030-01-06T09:00"},"optimize":"won"}`, &tuned); code != http.StatusOK {
		t.Fatalf("create optimized: %d", code)
	}
	st = httpapi.CampaignStats{}
	if code := do(http.MethodGet, "/campaigns/"+tuned.ID+"/stats", "", "", &st); code != http.StatusOK || st.Optimizer == nil || st.Optimizer.Goal != "won" || len(st.Optimizer.Variants) != 2 {
		t.Fatalf("an optimized campaign's stats: %d %+v", code, st.Optimizer)
	}
	if code := do(http.MethodPost, "/campaigns", "application/json", `{"name":"Clicks","schedule":{"start":"2030-01-06T09:00"},"optimize":"clicks"}`, nil); code != http.StatusUnprocessableEntity && code != http.StatusBadRequest {
		t.Errorf("optimize clicks: %d, want a refusal", code)
	}

	var gone httpapi.Forgotten
	if code := do(http.MethodPost, "/contacts/@anna_k/forget", "", "", &gone); code != http.StatusOK || len(gone.Erased) != 1 || gone.Erased[0] != anna.ID {
		t.Fatalf("forget: %d %+v", code, gone)
	}
	row, err := cfg.ReadModels.ContactByID(ctx, anna.ID)
	if err != nil || !row.Forgotten || strings.Contains(row.Name, "Anna") {
		t.Fatalf("the read model after the erasure: %+v, %v", row, err)
	}
	if code := do(http.MethodGet, "/contacts/"+anna.ID.String(), "", "", &anna); code != http.StatusOK || !anna.Forgotten || anna.Name != nil {
		t.Fatalf("after the erasure: %d %+v", code, anna)
	}
}
