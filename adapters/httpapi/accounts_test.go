package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/salesbot/salesbot/adapters/app/tokens"
	"github.com/salesbot/salesbot/adapters/httpapi"
	"github.com/salesbot/salesbot/domain"
)

// An admin pauses and resumes an account by label or id; the answer is
// the account as the list shows it, and the log names the token.
func TestPauseResumeAccount(t *testing.T) {
	w := newWorld(t, tokens.DefaultRate())
	post := func(path, token, body string, checkRequest bool) answer {
		t.Helper()
		return w.call(t, http.MethodPost, "/api/v1/accounts/"+path, token, body, nil, checkRequest)
	}
	for _, c := range []struct {
		path   string
		paused bool
	}{{"main/pause", true}, {"MAIN/pause", true}, {w.account.String() + "/resume", false}, {"main/resume", false}, {"main/pause", true}} {
		var a httpapi.Account
		post(c.path, w.admin, "", true).json(t, &a)
		if a.ID != w.account || a.Label != "main" || a.Paused != c.paused {
			t.Fatalf("%s: %+v", c.path, a)
		}
	}
	evs, _, err := w.h.Log.Load(t.Context(), domain.AccountStream(w.account))
	if err != nil {
		t.Fatal(err)
	}
	if p, ok := evs[len(evs)-1].(domain.AccountPaused); !ok || !strings.HasPrefix(p.By, "token:sb_") || len(evs) != 4 {
		t.Fatalf("the log: %d events, last %+v", len(evs), evs[len(evs)-1])
	}

	post("main/pause", w.manage, "", true).problem(t, http.StatusForbidden)
	post("nobody/pause", w.admin, "", true).problem(t, http.StatusNotFound)
	post("main/pause", w.admin, `{"why":"x"}`, false).problem(t, http.StatusBadRequest)
	if _, err := w.h.Account(t.Context(), w.account, domain.MarkLost{Reason: "SESSION_REVOKED"}); err != nil {
		t.Fatal(err)
	}
	if p := post("main/resume", w.admin, "", true).problem(t, http.StatusConflict); p.Type != httpapi.TypeConflict {
		t.Fatalf("resume a lost account: %+v", p)
	}
}
