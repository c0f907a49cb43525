package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"

	"github.com/salesbot/salesbot/adapters/httpapi"
	"github.com/salesbot/salesbot/domain"
)

// The audit, GET /web/audit: the last verification of the log run
// through the server, the API's or the console's (an owner runs one on
// demand: POST /web/audit/verify, httpapi.Audit.Verify; the port keeps
// it across restarts: httpapi.Audit.LastVerified), and any dialog's whole history replayed from
// the log by its number (?n=), with its personal fields only for
// managers and owners (httpapi.Audit.Replay).

// A replay shows at most MaxReplay events whose data, escaped and in
// their markup, take at most MaxReplayBytes, so the page stays under 150 KB.
const (
	MaxReplay      = 500
	MaxReplayBytes = 110 << 10
	replayMarkup   = 200 // about what an event's markup adds to its data
)

// auditData is the audit page's content.
type auditData struct {
	Available bool
	CanVerify bool // an owner
	Verified  *verifyView
	Expect    string
	N         string
	Replayed  bool // a dialog was asked for
	Personal  bool
	Events    []replayEvent
	More      string
}

type verifyView struct {
	OK                                bool
	At, By, LogID, Head, Seconds      string
	Events, Streams, Subjects, Erased uint64
	SignedHead, Anchor                string
	Unsigned                          uint64
	Problems                          []string
}

type replayEvent struct {
	Position, Version uint64
	Type, At          string
	Forgotten         bool
	Withheld          string
	Data              string
}

func (w *Web) audit(r *http.Request, v *view) error {
	L := v.L
	v.Title, v.Nav = L["AuditTitle"], "audit"
	d := auditData{Available: w.cfg.Audit != nil, CanVerify: w.cfg.Audit != nil && v.User != nil && v.User.Owner,
		Personal: v.User != nil && v.User.CanAct}
	if r.URL.Query().Get("m") == "verified" {
		v.Notice = L["DoneVerified"]
	}
	if d.Available {
		last, ok, err := w.cfg.Audit.LastVerified(r.Context())
		if err != nil {
			return err
		}
		if ok {
			d.Verified = lastVerified(last, L)
		}
	}
	if !d.Available {
		v.Data = d
		return nil
	}
	if q := strings.TrimSpace(r.URL.Query().Get("n")); q != "" {
		d.N, d.Replayed = q, true
		n, err := strconv.ParseInt(strings.TrimPrefix(q, "#"), 10, 64)
		if err != nil || n < 1 {
			v.Alert = L["NoSuchDialog"]
			v.Data = d
			return nil
		}
		evs, err := w.cfg.Audit.Replay(r.Context(), n, d.Personal)
		switch {
		case errors.Is(err, domain.ErrUnknownDialog):
			v.Alert = L["NoSuchDialog"]
		case err != nil:
			return err
		}
		d.Events, d.More = replayed(evs, L)
	}
	v.Data = d
	return nil
}

// replayed are a replay's first events that fit MaxReplay and
// MaxReplayBytes, with a note when some were left out.
func replayed(evs []httpapi.LogEvent, L catalog) (out []replayEvent, more string) {
	size := 0
	for i, e := range evs {
		var buf bytes.Buffer
		if err := json.Indent(&buf, e.Data, "", "  "); err != nil {
			buf.Reset()
			buf.Write(e.Data)
		}
		size += len(template.HTMLEscapeString(buf.String())) + replayMarkup
		if i == MaxReplay || size > MaxReplayBytes {
			return out, L.T("ReplayMore", i, len(evs))
		}
		out = append(out, replayEvent{Position: e.Position, Version: e.Version, Type: e.Type, At: e.At.UTC().Format(L["TimeFormat"]),
			Forgotten: e.Forgotten, Withheld: strings.Join(e.Withheld, ", "), Data: buf.String()})
	}
	return out, ""
}

// lastVerified is the last verification as the page shows it.
func lastVerified(last httpapi.Verification, L catalog) *verifyView {
	rep := &last.Report
	out := &verifyView{OK: rep.OK, At: last.At.UTC().Format(L["TimeFormat"]), By: last.By, LogID: rep.LogID, Head: "–",
		Seconds: strconv.FormatFloat(rep.Seconds, 'f', 2, 64), Events: rep.Events, Streams: rep.Streams, Subjects: rep.Subjects,
		Erased: rep.Erased, SignedHead: "–", Anchor: "–", Unsigned: rep.UnsignedEvents}
	if rep.Head != nil {
		out.Head = fmt.Sprintf("%d:%s", rep.Head.Position, rep.Head.Hash)
	}
	if rep.SignedHead != nil {
		out.SignedHead = fmt.Sprintf("%d:%s (%s)", rep.SignedHead.Position, rep.SignedHead.Hash, rep.SignedHead.SignedAt.UTC().Format(L["TimeFormat"]))
	}
	if rep.Anchor != nil {
		out.Anchor = fmt.Sprintf("%d:%s", rep.Anchor.Position, rep.Anchor.Hash)
	}
	for _, p := range rep.Problems {
		s := p.Problem
		if p.Position != nil {
			s = L.T("AtPosition", *p.Position) + ": " + s
		}
		out.Problems = append(out.Problems, s)
	}
	return out
}

// verify serves POST /web/audit/verify (owners): it verifies the whole
// log, against a head written down earlier if the form gives one, and
// keeps the report for the audit page.
func (w *Web) verify(rw http.ResponseWriter, r *http.Request) {
	p, cookie, ok := w.admitPost(rw, r, domain.ScopeAdmin)
	if !ok {
		return
	}
	if w.cfg.Audit == nil {
		w.problem(rw, r, http.StatusNotFound, "NotFoundTitle", "NotAvailable")
		return
	}
	expect := strings.TrimSpace(r.PostForm.Get("expect"))
	rep, err := w.cfg.Audit.Verify(r.Context(), expect, p.Name)
	var de *domain.Error
	switch {
	case err == nil:
		w.log.Info("web: the log was verified", "ok", rep.OK, "events", rep.Events, "by", p.Actor())
		http.Redirect(rw, r, "/web/audit?m=verified", http.StatusSeeOther)
	case errors.As(err, &de) && de.Code == domain.EINVALID:
		v := w.viewOf(r, &p, cookie)
		v.LangURL = "/web/audit?lang=" + v.L["OtherLang"]
		r.URL.RawQuery = ""
		if err := w.audit(r, v); err != nil {
			w.fail(rw, r, err)
			return
		}
		d := v.Data.(auditData)
		d.Expect = expect
		v.Data = d
		v.Alert, v.Status = v.L.T("ErrInvalid", de.Message), http.StatusUnprocessableEntity
		w.render(rw, r, v)
	default:
		w.fail(rw, r, err)
	}
}
