package crmsync_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/salesbot/salesbot/adapters/app/crmsync"
	"github.com/salesbot/salesbot/adapters/app/dialogs"
	"github.com/salesbot/salesbot/adapters/bitrix24"
	"github.com/salesbot/salesbot/adapters/bitrix24/bitrix24test"
	"github.com/salesbot/salesbot/domain"
)

var _ crmsync.CRM = (*bitrix24.Client)(nil)

const b24code = "b24hookCODE0123456789"

// newBitrix24 is a portal and a client of it in mode.
func newBitrix24(t *testing.T, w world, mode bitrix24.Mode) (*bitrix24test.Server, *bitrix24.Client, bitrix24.Config) {
	t.Helper()
	srv := bitrix24test.New(1, b24code)
	t.Cleanup(srv.Close)
	srv.KnownFields("UF_CRM_NEED", "UF_CRM_BUDGET", "UF_CRM_TEAM")
	cfg, err := bitrix24.Parse([]byte(fmt.Sprintf(`{"webhook_url": %q, "mode": %q, "source_id": "WEB",
		"fields": {"need": "UF_CRM_NEED", "budget": "UF_CRM_BUDGET", "team_size": "UF_CRM_TEAM"},
		"application_token": "51856fefc120afa4b628cc82d3935cce"}`, srv.WebhookURL(), mode)))
	if err != nil {
		t.Fatal(err)
	}
	client, err := bitrix24.New(cfg, bitrix24.Options{Clock: bitrix24test.NewClock(now), Logger: w.svc.Log})
	if err != nil {
		t.Fatal(err)
	}
	return srv, client, cfg
}

func TestBitrix24SyncOnce(t *testing.T) {
	for _, mode := range []bitrix24.Mode{bitrix24.ModeLead, bitrix24.ModeDeal} {
		t.Run(string(mode), func(t *testing.T) {
			w := newWorld(t, true)
			srv, client, _ := newBitrix24(t, w, mode)
			ctx := t.Context()
			res, err := w.svc.Sync(ctx, client, 12)
			if err != nil {
				t.Fatal(err)
			}
			if !res.Created || !res.Noted || res.Link.CRM != "bitrix24" {
				t.Fatalf("result %+v", res)
			}
			again, err := w.svc.Sync(ctx, client, 12)
			if err != nil || again.Created || again.Noted || again.Link.CRMLeadID != res.Link.CRMLeadID {
				t.Fatalf("again: %+v, %v", again, err)
			}
			items := srv.Leads()
			if mode == bitrix24.ModeDeal {
				items = srv.Deals()
				if len(srv.Contacts()) != 1 || fmt.Sprint(srv.Contacts()[0].ID) != res.Link.CRMContactID {
					t.Fatalf("contacts %+v, link %+v", srv.Contacts(), res.Link)
				}
			}
			if len(items) != 1 || fmt.Sprint(items[0].ID) != res.Link.CRMLeadID || len(srv.Comments()) != 1 {
				t.Fatalf("%d items, %d comments", len(items), len(srv.Comments()))
			}
			it := items[0]
			if it.Str("TITLE") != "Анна Петрова · salesbot dialog 12" || it.Str("OPPORTUNITY") != "150000.00" || it.Str("CURRENCY_ID") != "RUB" ||
				it.Str("UF_CRM_NEED") != "CRM for 20 reps" || it.Str("UF_CRM_TEAM") != "20" || it.Str("UF_CRM_BUDGET") != "150000 RUB" {
				t.Fatalf("item %+v", it.Fields)
			}
			c := srv.Comments()[0]
			if c.EntityType != string(mode) || fmt.Sprint(c.EntityID) != res.Link.CRMLeadID ||
				!strings.Contains(c.Text, "Lead: Нужна CRM на 20 человек") || strings.Contains(c.Text, "never sent") {
				t.Fatalf("comment %+v", c)
			}
			if strings.Contains(w.logs.String(), b24code) {
				t.Fatal("the code in the logs")
			}
		})
	}
}

// The answer to the create is lost: Sync fails, the next one finds the
// deal by its marker and creates none.
func TestBitrix24SyncLostAnswer(t *testing.T) {
	w := newWorld(t, true)
	srv, client, _ := newBitrix24(t, w, bitrix24.ModeDeal)
	ctx := t.Context()
	srv.Drop("crm.deal.add")
	if _, err := w.svc.Sync(ctx, client, 12); err == nil || strings.Contains(err.Error(), b24code) {
		t.Fatalf("first: %v", err)
	}
	res, err := w.svc.Sync(ctx, client, 12)
	if err != nil || !res.Found || res.Created || !res.Noted {
		t.Fatalf("second: %+v, %v", res, err)
	}
	if len(srv.Deals()) != 1 || srv.Calls("crm.deal.add") != 1 || len(srv.Comments()) != 1 || fmt.Sprint(srv.Deals()[0].ID) != res.Link.CRMLeadID {
		t.Fatalf("%d deals, %d creates, %d comments", len(srv.Deals()), srv.Calls("crm.deal.add"), len(srv.Comments()))
	}
	if res.Link.CRMContactID != fmt.Sprint(srv.Contacts()[0].ID) {
		t.Fatalf("link %+v", res.Link)
	}
}

// The loop closed: the dialog pushed as a deal, then ONCRMDEALUPDATE
// records its outcome through dialogs.Service.
func TestBitrix24EventRecordsTheOutcome(t *testing.T) {
	w := newWorld(t, true)
	srv, client, cfg := newBitrix24(t, w, bitrix24.ModeDeal)
	ctx := t.Context()
	res, err := w.svc.Sync(ctx, client, 12)
	if err != nil {
		t.Fatal(err)
	}
	hook, err := bitrix24.NewEvents(cfg, client, w.h, dialogs.Service{H: w.h}.RecordOutcomeAt, nil)
	if err != nil {
		t.Fatal(err)
	}
	var deal int64
	fmt.Sscan(res.Link.CRMLeadID, &deal)
	send := func() int {
		r := httptest.NewRequestWithContext(ctx, http.MethodPost, "/hooks/bitrix24", strings.NewReader(srv.DealUpdateForm(deal, cfg.ApplicationToken.Reveal())))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		hook.ServeHTTP(rec, r)
		return rec.Code
	}
	srv.SetDeal(deal, "WON", "S", "175000.00", "RUB")
	if s := send(); s != 200 {
		t.Fatalf("won: %d", s)
	}
	d, err := w.h.LoadDialog(ctx, w.dialog)
	if err != nil || d.Deal != (domain.Deal{Outcome: domain.OutcomeWon, Value: domain.Money{Minor: 17500000, Currency: "RUB"}}) {
		t.Fatalf("deal %+v, %v", d.Deal, err)
	}
	srv.SetDeal(deal, "LOSE", "F", "0.00", "RUB")
	if s := send(); s != 200 {
		t.Fatalf("lost: %d", s)
	}
	if d, err = w.h.LoadDialog(ctx, w.dialog); err != nil || d.Deal.Outcome != domain.OutcomeLost || d.Deal.Reason != bitrix24.LostReason {
		t.Fatalf("deal %+v, %v", d.Deal, err)
	}
}
