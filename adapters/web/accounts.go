package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/projections"
)

// The accounts, GET /web/accounts: each Telegram account's status, its
// new dialogs today against its daily cap, a flood wait's end, a
// restriction or a pause and why; for owners, pause and resume
// (Config.Accounts).

// MaxAccounts bounds the accounts page.
const MaxAccounts = 100

// accountsData is the accounts page's content.
type accountsData struct {
	Rows   []accountRow
	CanAct bool // an owner, and the console has the accounts' port
	More   string
}

type accountRow struct {
	ID, Label, Status, Class string
	Paused, Removed          bool
	Reason                   string
	Today                    string // "3 / 20 new dialogs"
	Used, Cap                int    // for the meter; Cap 0: none
	Day                      string
	PerMinute                string
	Messages                 int
	Flood                    string // a flood wait still running: until when
	Updated                  string
}

// accountNotices are the results an account action's redirect names.
var accountNotices = map[string]string{"paused": "DoneAccountPaused", "resumed": "DoneAccountResumed"}

func (w *Web) accounts(r *http.Request, v *view) error {
	if key, ok := accountNotices[r.URL.Query().Get("m")]; ok {
		v.Notice = v.L[key]
	}
	accs, err := w.cfg.ReadModels.Accounts(r.Context())
	if err != nil {
		return err
	}
	L, now := v.L, w.now()
	d := accountsData{CanAct: w.cfg.Accounts != nil && v.User != nil && v.User.Owner}
	if len(accs) > MaxAccounts {
		accs, d.More = accs[:MaxAccounts], L.T("MoreAccounts", MaxAccounts)
	}
	for _, a := range accs {
		row := accountRow{ID: a.ID.String(), Label: a.Label, Status: L.label("Account", a.Status), Class: a.Status, Paused: a.Paused,
			Removed: a.Status == string(domain.StatusRemoved), Reason: a.Reason, Used: a.DialogsToday, Cap: a.DailyCap, Day: a.Day,
			Messages: a.MessagesTotal, PerMinute: "–"}
		if a.Paused {
			row.Class = "paused"
		}
		switch {
		case a.DailyCap > 0:
			row.Today = L.T("TodayOfCap", a.DialogsToday, a.DailyCap)
		default:
			row.Today = L.T("TodayNoCap", a.DialogsToday)
		}
		if a.MessagesPerMinute > 0 {
			row.PerMinute = strconv.Itoa(a.MessagesPerMinute)
		}
		if a.FloodUntil.After(now) {
			row.Flood = L.T("FloodUntil", a.FloodUntil.UTC().Format(L["TimeFormat"]), L.since(a.FloodUntil.Sub(now)))
		}
		if !a.UpdatedAt.IsZero() {
			row.Updated = a.UpdatedAt.UTC().Format(L["TimeFormat"])
		}
		d.Rows = append(d.Rows, row)
	}
	v.Title, v.Nav, v.Data = L["AccountsTitle"], "accounts", d
	return nil
}

// pauseAccount serves POST /web/accounts/{id}/pause and /resume
// (owners only).
func (w *Web) pauseAccount(pause bool) http.HandlerFunc {
	return func(rw http.ResponseWriter, r *http.Request) {
		p, cookie, ok := w.admitPost(rw, r, domain.ScopeAdmin)
		if !ok {
			return
		}
		if w.cfg.Accounts == nil {
			w.problem(rw, r, http.StatusNotFound, "NotFoundTitle", "NotAvailable")
			return
		}
		ref := r.PathValue("id")
		if len(ref) > 256 {
			w.fail(rw, r, fmt.Errorf("account: %w", projections.ErrNotFound))
			return
		}
		_, err := w.cfg.Accounts.SetPaused(r.Context(), ref, pause, p.Actor())
		var de *domain.Error
		switch {
		case err == nil:
			notice := "resumed"
			if pause {
				notice = "paused"
			}
			if w.cfg.Fresh != nil {
				_ = w.cfg.Fresh(r.Context()) // the page shows the change if it can; it says it was done anyway
			}
			http.Redirect(rw, r, "/web/accounts?m="+notice, http.StatusSeeOther)
		case errors.As(err, &de) && (de.Code == domain.ESTATE || de.Code == domain.EINVALID):
			v := w.viewOf(r, &p, cookie)
			v.LangURL = "/web/accounts?lang=" + v.L["OtherLang"]
			if err := w.accounts(r, v); err != nil {
				w.fail(rw, r, err)
				return
			}
			v.Alert, v.Status = v.L.T("ErrAccount", de.Message), http.StatusConflict
			w.render(rw, r, v)
		default:
			w.fail(rw, r, err)
		}
	}
}
