package system

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/adapters/eventlog"
	"github.com/salesbot/salesbot/adapters/httpapi"
	"github.com/salesbot/salesbot/domain"
)

// TestSystemServesAPI: the running system serves the API on the log's
// tokens; an outcome posted shows in the card it answers, and in the
// campaigns' funnel.
func TestSystemServesAPI(t *testing.T) {
	cfg := testConfig(t)
	addr := freeAddr(t)
	cfg.HTTP = &HTTP{Listen: addr}
	ctx := t.Context()
	st := cfg.Store
	h := domain.Handlers{Log: eventlog.New(st), Index: domain.NewIndexKey(st.IndexKey()), Now: time.Now}
	camp, cid, did := uuid.New(), uuid.New(), uuid.New()
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(h.Campaign(ctx, camp, domain.CreateCampaign{CampaignID: camp, Name: "Q1", Scenario: "acme", Version: "1",
		Variants: []domain.VariantWeight{{Name: "A", Weight: 1}}, Schedule: domain.CampaignSchedule{Start: time.Now(), End: time.Now().Add(time.Hour)}, By: "cli"}))
	must(h.Contact(ctx, cid, domain.AddContact{ContactID: cid, Source: domain.SourceImport, Basis: domain.BasisConsent, Username: "anna"}))
	c, err := h.LoadContact(ctx, cid)
	must(nil, err)
	must(h.Dialog(ctx, did, cid, domain.StartDialog{DialogID: did, N: 1, Contact: c, AccountID: uuid.New(), Variant: "A", By: "campaign", Campaign: camp}))
	crm := newToken(t, st, domain.ScopeManage)

	startSystem(t, cfg)
	do := func(method, path, body string) (int, []byte) {
		t.Helper()
		req, err := http.NewRequestWithContext(ctx, method, "http://"+addr+"/api/v1"+path, strings.NewReader(body))
		must(nil, err)
		req.Header.Set("Authorization", "Bearer "+crm)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, nil
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, b
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, b := do(http.MethodGet, "/dialogs/1", "")
		if code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("dialog 1: %d %s", code, b)
		}
		time.Sleep(20 * time.Millisecond)
	}
	code, b := do(http.MethodPost, "/dialogs/1/outcome", `{"outcome":"won","amount":"300","currency":"EUR"}`)
	var card httpapi.Card
	if err := json.Unmarshal(b, &card); code != http.StatusOK || err != nil || card.Outcome == nil || *card.Outcome.Amount != "300.00" {
		t.Fatalf("outcome: %d %s", code, b)
	}
	code, b = do(http.MethodGet, "/campaigns", "")
	var cs struct{ Items []httpapi.Campaign }
	if err := json.Unmarshal(b, &cs); code != http.StatusOK || err != nil || len(cs.Items) != 1 || cs.Items[0].Totals.Won != 1 ||
		len(cs.Items[0].Totals.Revenue) != 1 || cs.Items[0].Totals.Revenue[0] != (httpapi.Money{Amount: "300.00", Currency: "EUR"}) {
		t.Fatalf("campaigns: %d %s", code, b)
	}
}
