package system

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/adapters/app/accounts"
	"github.com/salesbot/salesbot/adapters/app/tokens"
	"github.com/salesbot/salesbot/adapters/eventlog"
	"github.com/salesbot/salesbot/adapters/httpapi"
	"github.com/salesbot/salesbot/adapters/telegram"
	"github.com/salesbot/salesbot/adapters/telegram/telegramtest"
	"github.com/salesbot/salesbot/domain"
)

// TestAPIOpensAndRepliesThroughTelegram: the API's dialog actions on the
// running system, its accounts on a sandbox Telegram. POST /dialogs
// opens a dialog as /start does, and answers each of the use case's
// refusals with its own problem; a manager's reply goes out through the
// outbox; the export holds it.
func TestAPIOpensAndRepliesThroughTelegram(t *testing.T) {
	ctx := t.Context()
	sb, err := telegramtest.New(ctx, telegramtest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sb.Close() })
	cfg := testConfig(t)
	st := cfg.Store
	cfg.Telegram = &telegram.Dialer{AppID: 1, AppHash: "test", Options: sb.ClientOptions(), Secrets: st, IndexKey: st.IndexKey()}
	cfg.Typing = func(string) time.Duration { return 0 }
	addr := freeAddr(t)
	cfg.HTTP = &HTTP{Listen: addr, Rate: tokens.Rate{PerSecond: 1000, Burst: 1000}}

	// An account signed in to the sandbox, and people to write to.
	h := domain.Handlers{Log: eventlog.New(st), Index: domain.NewIndexKey(st.IndexKey()), Now: time.Now}
	const phone = "+15550000001"
	accUser, err := sb.AddUser(telegramtest.UserSpec{Phone: phone, FirstName: "Sales"})
	if err != nil {
		t.Fatal(err)
	}
	added, err := accounts.Add(ctx, st, h, accounts.AddRequest{Label: "sales-1",
		Limits: domain.Limits{DailyNewDialogs: 100, TimeZone: "UTC", StartMinute: 0, EndMinute: 24 * 60},
		SignIn: func(ctx context.Context, id uuid.UUID) (telegram.Peer, error) {
			return cfg.Telegram.LoginPhone(ctx, id, telegram.PhoneLogin{Phone: phone, Code: func(context.Context) (string, error) { return sb.LoginCode(phone), nil }})
		}})
	if err != nil {
		t.Fatal(err)
	}
	dora, err := sb.AddUser(telegramtest.UserSpec{Username: "lead_dora", FirstName: "Dora"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sb.AddUser(telegramtest.UserSpec{Username: "lead_erik", FirstName: "Erik"}); err != nil {
		t.Fatal(err)
	}
	if _, err := sb.AddUser(telegramtest.UserSpec{Username: "lead_fred", FirstName: "Fred"}); err != nil {
		t.Fatal(err)
	}
	crm := newToken(t, st, domain.ScopeManage)

	s := startSystem(t, cfg)
	eventually := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting until %s", what)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	eventually("the account is connected", func() bool {
		as := s.Accounts().Accounts()
		return len(as) == 1 && as[0].Connected
	})
	type answer struct {
		status int
		header http.Header
		body   []byte
	}
	do := func(method, path, body string) answer {
		t.Helper()
		req, err := http.NewRequestWithContext(ctx, method, "http://"+addr+"/api/v1"+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+crm)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		return answer{res.StatusCode, res.Header, b}
	}
	problem := func(a answer, status int, typ string) httpapi.Problem {
		t.Helper()
		var p httpapi.Problem
		if err := json.Unmarshal(a.body, &p); err != nil || a.status != status || p.Type != typ {
			t.Fatalf("want %d %s, got %d %s", status, typ, a.status, a.body)
		}
		return p
	}

	// Opened as /start opens it: the card, on the account.
	a := do(http.MethodPost, "/dialogs", `{"username":"@lead_dora","account":"sales-1","note":"met at the fair"}`)
	var card httpapi.Card
	if err := json.Unmarshal(a.body, &card); err != nil || a.status != http.StatusCreated || card.N != 1 || card.Account != added.ID ||
		a.header.Get("Location") != "/api/v1/dialogs/1" || a.header.Get("ETag") == "" {
		t.Fatalf("open: %d %v %s", a.status, a.header, a.body)
	}
	// The contact came from the API, with the note.
	d, err := s.cfg.ReadModels.DialogByN(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.cfg.ReadModels.ContactByID(ctx, d.ContactID)
	if err != nil || c.Source != string(domain.SourceAPI) || c.Basis != string(domain.BasisLegitimateInterest) {
		t.Fatalf("contact: %+v %v", c, err)
	}
	// Refusals.
	if p := problem(do(http.MethodPost, "/dialogs", `{"username":"lead_dora"}`), http.StatusConflict, httpapi.TypeInDialog); !strings.Contains(p.Detail, "dialog 1") {
		t.Fatalf("again: %+v", p)
	}
	problem(do(http.MethodPost, "/dialogs", `{"username":"nobody_here"}`), http.StatusNotFound, httpapi.TypeUnknownUsername)
	if _, err := s.Accounts().OptOut(ctx, "lead_erik", "cli", "asked by phone"); err != nil {
		t.Fatal(err)
	}
	if p := problem(do(http.MethodPost, "/dialogs", `{"username":"lead_erik"}`), http.StatusConflict, httpapi.TypeRefused); !strings.Contains(p.Detail, "do-not-contact") {
		t.Fatalf("opted out: %+v", p)
	}
	if _, err := s.h.Account(ctx, added.ID, domain.PauseAccount{By: "cli"}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if p := problem(do(http.MethodPost, "/dialogs", `{"username":"lead_fred"}`), http.StatusServiceUnavailable, httpapi.TypeNoAccount); !strings.Contains(p.Detail, "paused") {
		t.Fatalf("paused: %+v", p)
	}
	if time.Since(start) > 5*time.Second {
		t.Fatalf("the API waited %v for an account", time.Since(start))
	}
	if _, err := s.h.Account(ctx, added.ID, domain.ResumeAccount{By: "cli"}); err != nil {
		t.Fatal(err)
	}

	// A manager's reply goes out through the outbox, after the opening
	// message; the AI is silent from then on.
	eventually("the opening message is sent", func() bool { return len(sb.Messages(dora.ID, accUser.ID)) >= 1 })
	a = do(http.MethodPost, "/dialogs/1/reply", `{"text":"Hello Dora, Max from sales here."}`)
	if err := json.Unmarshal(a.body, &card); err != nil || a.status != http.StatusOK || !card.TakenOver {
		t.Fatalf("reply: %d %s", a.status, a.body)
	}
	eventually("the reply reaches Dora", func() bool {
		ms := sb.Messages(dora.ID, accUser.ID)
		return len(ms) > 0 && ms[len(ms)-1].Text == "Hello Dora, Max from sales here."
	})
	eventually("the export shows it sent", func() bool {
		a := do(http.MethodGet, "/dialogs/1/export", "")
		return a.status == http.StatusOK && strings.Contains(string(a.body), "manager: Hello Dora, Max from sales here.\n")
	})
	a = do(http.MethodPost, "/dialogs/1/release", `{}`)
	if err := json.Unmarshal(a.body, &card); err != nil || a.status != http.StatusOK || card.TakenOver {
		t.Fatalf("release: %d %s", a.status, a.body)
	}
	a = do(http.MethodPost, "/dialogs/1/stop", "")
	if err := json.Unmarshal(a.body, &card); err != nil || a.status != http.StatusOK || card.Status != "closed" {
		t.Fatalf("stop: %d %s", a.status, a.body)
	}
}

// TestAPIOpenWithoutAccounts: with no account that could ever write,
// opening a dialog is 503 no-account at once, not a conflict.
func TestAPIOpenWithoutAccounts(t *testing.T) {
	s := newTestSystem(t)
	_, err := apiOpener{s.svc}.Open(t.Context(), httpapi.OpenRequest{Username: "lead_dora", Basis: domain.BasisConsent, By: "token:sb_x"})
	var de *domain.Error
	if !errors.Is(err, domain.ErrNoAccount) || !errors.As(err, &de) || de.Code != domain.ESTATE || !de.RetryAt.IsZero() {
		t.Fatalf("open: %v", err)
	}
}
