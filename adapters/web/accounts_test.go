package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/adapters/web"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/projections"
)

// accountsWorld is a world with three more accounts: one in a flood
// wait, one restricted and paused, one lost.
func accountsWorld(t *testing.T, mod func(*web.Config)) (*world, map[string]uuid.UUID) {
	t.Helper()
	w := newWorld(t, mod)
	ids := map[string]uuid.UUID{"flood": uuid.New(), "restricted": uuid.New(), "lost": uuid.New()}
	w.apply(t,
		projections.PutAccount{Account: projections.Account{ID: ids["flood"], Label: "sales-2", Status: "flood-wait", FloodUntil: now.Add(90 * time.Minute),
			Day: "2026-12-02", DialogsToday: 18, DailyCap: 20, MessagesPerMinute: 3, MessagesTotal: 412, UpdatedAt: now}},
		projections.PutAccount{Account: projections.Account{ID: ids["restricted"], Label: "sales-3", Status: "restricted", Paused: true,
			Reason: "PEER_FLOOD <b>spam</b>", DailyCap: 10, UpdatedAt: now}},
		projections.PutAccount{Account: projections.Account{ID: ids["lost"], Label: "sales-4", Status: "lost", UpdatedAt: now}},
	)
	return w, ids
}

func TestAccountsShowUsageFloodWaitsAndRestrictions(t *testing.T) {
	w, ids := accountsWorld(t, nil)
	cookie, _ := w.sessions.session(t, domain.ScopeRead)
	res := w.get(t, "/web/accounts", cookie)
	body := res.Body.String()
	if res.Code != http.StatusOK {
		t.Fatalf("accounts: %d", res.Code)
	}
	for _, want := range []string{"sales-1", "sales-2", "18 of 20", `<meter min="0" max="20" value="18"`,
		"flood wait until 02 Dec 13:30 UTC (1 h 30 min left)", "PEER_FLOOD &lt;b&gt;spam&lt;/b&gt;", ">paused<", ">lost<", "412",
		`href="/web/?account=` + ids["flood"].String() + `"`} {
		if !strings.Contains(body, want) {
			t.Errorf("the accounts page lacks %q", want)
		}
	}
	if m := inlineCode.FindString(body); m != "" {
		t.Errorf("inline code %q", m)
	}
	if strings.Contains(body, "/pause") {
		t.Errorf("an analyst is shown pause buttons")
	}
	ru := w.get(t, "/web/accounts?lang=ru", cookie).Body.String()
	if !strings.Contains(ru, "флуд-ожидание до 02.12 13:30 UTC (осталось 1 ч 30 мин)") || !strings.Contains(ru, "18 из 20") {
		t.Errorf("the Russian accounts page lacks its flood wait or usage")
	}
}

func TestOnlyOwnersPauseAndResumeAccounts(t *testing.T) {
	w, ids := accountsWorld(t, nil)
	manager, _ := w.sessions.session(t, domain.ScopeManage)
	if body := w.get(t, "/web/accounts", manager).Body.String(); strings.Contains(body, "/pause") {
		t.Errorf("a manager is shown pause buttons")
	}
	flood := "/web/accounts/" + ids["flood"].String()
	if res := w.post(t, flood+"/pause", manager, w.pageForm(t, manager, "/web/accounts")); res.Code != http.StatusForbidden {
		t.Errorf("a manager's pause: %d, want 403", res.Code)
	}
	owner, p := w.sessions.session(t, domain.ScopeAdmin)
	body := w.get(t, "/web/accounts", owner).Body.String()
	if !strings.Contains(body, flood+"/pause") || !strings.Contains(body, "/web/accounts/"+ids["restricted"].String()+"/resume") {
		t.Fatalf("an owner is not shown pause for the running account and resume for the paused one")
	}
	if res := w.post(t, flood+"/pause", owner, url.Values{"csrf": {"forged"}}); res.Code != http.StatusForbidden {
		t.Errorf("a forged pause: %d", res.Code)
	}
	res := w.post(t, flood+"/pause", owner, w.pageForm(t, owner, "/web/accounts"))
	if res.Code != http.StatusSeeOther || res.Header().Get("Location") != "/web/accounts?m=paused" {
		t.Fatalf("pause: %d to %q", res.Code, res.Header().Get("Location"))
	}
	if body := w.get(t, "/web/accounts?m=paused", owner).Body.String(); !strings.Contains(body, "The account is paused") {
		t.Errorf("no notice after the pause")
	}
	res = w.post(t, "/web/accounts/"+ids["lost"].String()+"/resume", owner, w.pageForm(t, owner, "/web/accounts"))
	if res.Code != http.StatusConflict || !strings.Contains(res.Body.String(), "a lost account is not resumed") {
		t.Errorf("resuming a lost account: %d", res.Code)
	}
	if res := w.post(t, "/web/accounts/"+uuid.NewString()+"/resume", owner, w.pageForm(t, owner, "/web/accounts")); res.Code != http.StatusNotFound {
		t.Errorf("an unknown account: %d", res.Code)
	}
	if want := []string{"pause " + ids["flood"].String() + " " + p.Actor()}; !slices.Equal(w.accounts.done, want) {
		t.Errorf("the port did %v, want %v", w.accounts.done, want)
	}
}

func TestAccountsWithoutThePortShowNoButtons(t *testing.T) {
	w, ids := accountsWorld(t, func(c *web.Config) { c.Accounts = nil })
	owner, _ := w.sessions.session(t, domain.ScopeAdmin)
	body := w.get(t, "/web/accounts", owner).Body.String()
	if !strings.Contains(body, "sales-2") || strings.Contains(body, "/pause") {
		t.Errorf("without the port: the accounts, without buttons")
	}
	if res := w.post(t, "/web/accounts/"+ids["flood"].String()+"/pause", owner, w.pageForm(t, owner, "/web/accounts")); res.Code != http.StatusNotFound {
		t.Errorf("a pause without the port: %d", res.Code)
	}
}

func TestLongListsStayUnder150KB(t *testing.T) {
	w := newWorld(t, nil)
	var changes []projections.Change
	for i := range 150 {
		changes = append(changes,
			projections.PutAccount{Account: projections.Account{ID: uuid.New(), Label: fmt.Sprintf("account-%03d-%s", i, strings.Repeat("x", 40)),
				Status: "flood-wait", FloodUntil: now.Add(time.Hour), Reason: strings.Repeat("ж", 60), Day: "2026-12-02", DialogsToday: 5, DailyCap: 20,
				MessagesPerMinute: 3, MessagesTotal: 1000, UpdatedAt: now}})
	}
	for i := range 250 {
		changes = append(changes, projections.PutCampaign{Campaign: projections.Campaign{ID: uuid.New(),
			Name: fmt.Sprintf("campaign %03d %s", i, strings.Repeat("ж", 40)), Status: projections.CampaignPaused, CreatedAt: now, UpdatedAt: now}})
	}
	w.apply(t, changes...)
	owner, _ := w.sessions.session(t, domain.ScopeAdmin)
	for path, more := range map[string]string{"/web/accounts": "Only the first 100 accounts", "/web/campaigns": "Only the newest 200 campaigns"} {
		body := w.get(t, path, owner).Body.String()
		if len(body) > 150<<10 || !strings.Contains(body, more) {
			t.Errorf("%s weighs %d bytes, or does not say it shows only some", path, len(body))
		} else {
			t.Logf("%s weighs %d bytes", path, len(body))
		}
	}
}
