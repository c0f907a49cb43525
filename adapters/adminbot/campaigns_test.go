package adminbot_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/adapters/eventlog"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/projections"
)

// testClock is a clock the test moves.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

var (
	q1     = uuid.MustParse("3f2a9c1e-0000-4000-8000-0000000000c1") // Q1 Berlin: A 40 dialogs, B 40, today
	winter = uuid.MustParse("77aa01bc-0000-4000-8000-0000000000c2") // Winter promo: paused, no dialogs
	autumn = uuid.MustParse("3f2a0000-0000-4000-8000-0000000000c3") // Autumn: ended, 5 dialogs ten days ago
)

// campaignWorld is the usual world (three dialogs of variant A without a
// campaign) plus three campaigns and their dialogs.
func campaignWorld(t *testing.T) *world {
	clk := &testClock{t: t0}
	w := newWorldClock(t, clk.now)
	ctx := context.Background()
	create := func(id uuid.UUID, name string, variants ...domain.VariantWeight) {
		w.must(w.h.Campaign(ctx, id, domain.CreateCampaign{CampaignID: id, Name: name, Scenario: "acme-analytics", Version: "1.0", Variants: variants,
			Schedule: domain.CampaignSchedule{Start: clk.now(), End: clk.now().AddDate(0, 0, 14)}, By: "cli"}))
	}
	n := int64(3)
	dialogs := func(campaign uuid.UUID, variant string, total, replied, qualified, handoffs, optedOut int) {
		for i := range total {
			n++
			cid, did := uuid.New(), uuid.New()
			w.must(w.h.Contact(ctx, cid, domain.AddContact{ContactID: cid, Source: domain.SourceImport, Basis: domain.BasisConsent, Username: fmt.Sprintf("lead_%d", n)}))
			c, _ := w.h.LoadContact(ctx, cid)
			w.must(w.h.Dialog(ctx, did, cid, domain.StartDialog{DialogID: did, N: n, Contact: c, AccountID: w.acc, Variant: variant, By: "campaign", Campaign: campaign}))
			if i < replied {
				w.must(w.h.Dialog(ctx, did, cid, domain.RecordInbound{TelegramMessageID: 1, Text: "hi", At: clk.now()}))
			}
			if i < qualified {
				score := 60
				w.must(w.h.Dialog(ctx, did, cid, domain.UpdateQualification{Qual: domain.Qualification{Score: &score}}))
			}
			if i < handoffs {
				w.must(w.h.Dialog(ctx, did, cid, domain.RequestHandoff{Reason: "score 60"}))
			}
			if i >= replied-optedOut && i < replied {
				w.must(w.h.Dialog(ctx, did, cid, domain.OptOutDialog{Reason: "stop"}))
			}
			if err := w.h.Log.Append(ctx, domain.CampaignTargetStream(campaign, cid), 0, "", []domain.Event{domain.CampaignTargeted{CampaignID: campaign, ContactID: cid, AccountID: w.acc, Variant: variant}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	clk.set(t0.AddDate(0, 0, -10))
	create(autumn, "Autumn", domain.VariantWeight{Name: "A", Weight: 1})
	dialogs(autumn, "A", 5, 2, 0, 0, 0)
	w.must(w.h.Campaign(ctx, autumn, domain.EndCampaign{By: "cli", Reason: "over"}))
	clk.set(t0)
	create(q1, "Q1 Berlin", domain.VariantWeight{Name: "A", Weight: 50}, domain.VariantWeight{Name: "B", Weight: 50})
	dialogs(q1, "A", 40, 10, 4, 2, 1)
	dialogs(q1, "B", 40, 22, 9, 5, 0)
	create(winter, "Winter <promo>", domain.VariantWeight{Name: "B", Weight: 1})
	w.must(w.h.Campaign(ctx, winter, domain.PauseCampaign{By: "admin:1"}))
	w.catchUp()
	return w
}

func TestCampaignsList(t *testing.T) {
	w := campaignWorld(t)
	calls := w.say(managerID, "/campaigns")
	golden(t, "campaigns", text(t, calls))
	kb, _ := json.Marshal(calls[0].Params["reply_markup"])
	for _, want := range []string{`"callback_data":"campaign_pause ` + q1.String() + `","text":"Pause Q1 Berlin"`,
		`"callback_data":"campaign_resume ` + winter.String() + `","text":"Resume Winter \u003cpromo\u003e"`} {
		if !strings.Contains(string(kb), want) {
			t.Errorf("/campaigns lacks the button %s: %s", want, kb)
		}
	}
	if strings.Contains(string(kb), autumn.String()) {
		t.Fatalf("an ended campaign has a button: %s", kb)
	}
}

func TestCampaignPauseResume(t *testing.T) {
	w := campaignWorld(t)
	ctx := context.Background()
	// The button runs the command, through the log.
	if got := text(t, w.press(managerID, "campaign_pause "+q1.String())); got != "Campaign Q1 Berlin paused: it opens no new dialogs until /campaign_resume; dialogs already open go on." {
		t.Fatalf("pause button: %s", got)
	}
	if c, _ := w.sink.Campaign(ctx, q1); c.Status != projections.CampaignPaused {
		t.Fatalf("the pause did not reach the read model: %+v", c)
	}
	evs, _, _ := eventlog.New(w.store).Load(ctx, domain.CampaignStream(q1))
	if p, ok := evs[len(evs)-1].(domain.CampaignPaused); !ok || p.By != fmt.Sprintf("admin:%d", managerID) {
		t.Fatalf("the log does not say who paused: %#v", evs[len(evs)-1])
	}
	for _, step := range []struct{ in, want string }{
		{"/campaign_pause q1 BERLIN", "Campaign Q1 Berlin is paused already."},
		{"/campaign_resume 3f2a9c1e", "Campaign Q1 Berlin resumed: it opens dialogs again within its schedule and caps."},
		{"/campaign_resume 3F2A9C", "Campaign Q1 Berlin is active already."},
		{"/campaign_resume Autumn", "Campaign Autumn has ended."},
		{"/campaign_resume 3f2a", "&#34;3f2a&#34; matches 2 campaigns: Q1 Berlin (<code>3f2a9c1e</code>), Autumn (<code>3f2a0000</code>). Send more of the id."},
		{"/campaign_pause nothing", "No campaign is called or has an id starting &#34;nothing&#34;; /campaigns lists them."},
		{"/campaign_resume winter <promo>", "Campaign Winter &lt;promo&gt; resumed: it opens dialogs again within its schedule and caps."},
		{"/campaign_pause", "say which campaign (the start of its id, or its name, as /campaigns shows). Usage: /campaign_pause ID"},
	} {
		got := text(t, w.say(managerID, step.in))
		if got != step.want && got != strings.ReplaceAll(step.want, "&#34;", "&quot;") {
			t.Errorf("%q:\n got %q\nwant %q", step.in, got, step.want)
		}
	}
}

func TestStatsByVariantInThePeriod(t *testing.T) {
	w := campaignWorld(t)
	got := text(t, w.say(managerID, "/stats 7d"))
	golden(t, "stats_7d", got)
	// Ten days ago is in 30d only; the seed's three dialogs and Q1's are
	// in both.
	for period, want := range map[string]string{
		"7d":    "A: 43 dialogs · replied 13 (30%)",
		"today": "A: 43 dialogs · replied 13 (30%)",
		"30d":   "A: 48 dialogs · replied 15 (31%)",
	} {
		if got := text(t, w.say(managerID, "/stats "+period)); !strings.Contains(got, want) || !strings.Contains(got, "<i>B against A:</i>\nreply rate +2") {
			t.Errorf("/stats %s lacks %q:\n%s", period, want, got)
		}
	}
}
