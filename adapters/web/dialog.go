package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/projections"
)

// A dialog, GET /web/dialogs/{n}: the transcript, the qualification
// card, the stages, and a manager's actions, each a form that carries
// the dialog's version the page showed (the API's If-Match): a dialog
// that moved on since is refused and shown anew.

// A dialog's page shows its latest messages, at most MaxMessages of
// them whose texts, escaped, take at most MaxTranscript bytes (the
// export has them all), so a page stays under 150 KB.
const (
	MaxTranscript = 80 << 10
	MaxMessages   = 300
)

// dialogData is the dialog page's content.
type dialogData struct {
	N             int64
	ID            string
	Version       uint64
	Name          string
	Username      string
	Status        string
	Stage         string
	Account       string
	Campaign      string
	Variant       string
	Score         string
	TakenOver     bool
	Closed        bool
	HandoffReason string
	Outcome       string
	Meeting       *meetingView // nil: none was proposed
	Insight       *insightView // nil: none yet
	Messages      []message
	Earlier       bool
	Qualification []qualification
	Timeline      []event
	Stages        []stageStep
	// The forms' values when an action was refused.
	Draft                                         string
	OutcomeWon                                    bool
	OutcomeAmount, OutcomeCurrency, OutcomeReason string
}

type message struct {
	Class, Author, Text, At, State string
	File                           string // the name of a file sent with it
}

// meetingView is a dialog's meeting: Class is its status (proposed,
// booked); Text says what was offered or booked, Detail the slots on
// offer or whose calendar it is on.
type meetingView struct {
	Class, Text, Detail string
}

type qualification struct {
	Field, Value, Quote, Confidence string
}

type event struct {
	Label, At, Note string
}

type stageStep struct {
	Name, State string // done, current, todo
}

// dialogN is the path's dialog number; a bad one is an unknown dialog.
func dialogN(r *http.Request) (int64, error) {
	n, err := strconv.ParseInt(r.PathValue("n"), 10, 64)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("%w: %q", domain.ErrUnknownDialog, r.PathValue("n"))
	}
	return n, nil
}

// notices are the results an action's redirect names (?m=), by key.
var notices = map[string]string{
	"taken": "DoneTaken", "released": "DoneReleased", "sent": "DoneSent",
	"stopped": "DoneStopped", "outcome": "DoneOutcome", "nothing": "DoneNothing",
}

func (w *Web) dialog(r *http.Request, v *view) error {
	n, err := dialogN(r)
	if err != nil {
		return err
	}
	if key, ok := notices[r.URL.Query().Get("m")]; ok {
		v.Notice = v.L[key]
	}
	d, err := w.dialogData(r.Context(), n, v.L)
	if err != nil {
		return err
	}
	v.Title, v.Nav, v.Dialog, v.Data = v.L.T("DialogTitle", n), "inbox", d.ID, d
	return nil
}

// dialogData reads dialog n: its version first, then (the read models
// fresh) the rest, so the page shows at least that version and a form's
// version never lets through a change the page did not show.
func (w *Web) dialogData(ctx context.Context, n int64, L catalog) (dialogData, error) {
	version, err := w.cfg.Dialogs.Version(ctx, n)
	if err != nil {
		return dialogData{}, err
	}
	if w.cfg.Fresh != nil {
		if err := w.cfg.Fresh(ctx); err != nil {
			return dialogData{}, err
		}
	}
	rm := w.cfg.ReadModels
	d, err := rm.DialogByN(ctx, n)
	if err != nil {
		return dialogData{}, fmt.Errorf("dialog %d: %w", n, err)
	}
	c, err := rm.ContactByID(ctx, d.ContactID)
	if err != nil && !errors.Is(err, projections.ErrNotFound) {
		return dialogData{}, err
	}
	out := dialogData{N: n, ID: d.ID.String(), Version: version, Name: strings.TrimSpace(c.Name), Username: c.Username,
		Status: statusLabel(L, d.Status), Stage: stageLabel(L, d.Stage), Variant: d.Variant, Score: "–", TakenOver: d.TakenOver,
		Closed: d.Status == projections.StatusClosed, HandoffReason: d.HandoffReason, OutcomeWon: true}
	if out.Name == "" && out.Username == "" {
		out.Name = L["NoName"]
	}
	if d.Score != nil {
		out.Score = strconv.Itoa(*d.Score)
	}
	if d.Outcome != "" {
		out.Outcome = d.Outcome
		if !d.OutcomeValue.IsZero() {
			out.Outcome += " " + d.OutcomeValue.String()
		}
		if d.OutcomeReason != "" {
			out.Outcome += ": " + d.OutcomeReason
		}
	}
	accs, err := rm.Accounts(ctx)
	if err != nil {
		return dialogData{}, err
	}
	for _, a := range accs {
		if a.ID == d.AccountID {
			out.Account = a.Label
		}
	}
	if d.Campaign != [16]byte{} {
		cs, err := rm.Campaigns(ctx)
		if err != nil {
			return dialogData{}, err
		}
		for _, cp := range cs {
			if cp.ID == d.Campaign {
				out.Campaign = cp.Name
			}
		}
	}
	ms, err := rm.Messages(ctx, d.ID)
	if err != nil {
		return dialogData{}, err
	}
	out.Messages, out.Earlier = messages(ms, L)
	qs, err := rm.Qualification(ctx, d.ID)
	if err != nil {
		return dialogData{}, err
	}
	for _, q := range qs {
		out.Qualification = append(out.Qualification, qualification{Field: fieldLabel(L, q.Field), Value: q.Value, Quote: q.Quote,
			Confidence: strconv.Itoa(int(q.Confidence*100+0.5)) + "%"})
	}
	var meeting *projections.Meeting
	switch m, err := rm.Meeting(ctx, d.ID); {
	case err == nil:
		meeting, out.Meeting = &m, meetingOf(m, L)
	case !errors.Is(err, projections.ErrNotFound):
		return dialogData{}, err
	}
	if out.Insight, err = insightOf(ctx, rm, d.ID, L); err != nil {
		return dialogData{}, err
	}
	out.Timeline = timeline(d, meeting, L)
	out.Stages = stageSteps(d.Stage, L)
	return out, nil
}

// messages are the latest messages that fit MaxMessages and
// MaxTranscript, in order; earlier: some were left out.
func messages(ms []projections.Message, L catalog) (out []message, earlier bool) {
	size, from := 0, len(ms)
	for from > 0 && len(ms)-from < MaxMessages {
		n := len(template.HTMLEscapeString(ms[from-1].Shown()))
		if size+n > MaxTranscript {
			break
		}
		size += n
		from--
	}
	for _, m := range ms[from:] {
		out = append(out, message{Class: m.Author, Author: authorLabel(L, m.Author), Text: m.Shown(),
			At: m.At.UTC().Format(L["TimeFormat"]), State: messageState(L, m.Status), File: m.File})
	}
	return out, from > 0
}

func authorLabel(L catalog, a string) string {
	switch a {
	case "lead":
		return L["AuthorLead"]
	case "ai":
		return L["AuthorAI"]
	case "manager":
		return L["AuthorManager"]
	}
	return a
}

func messageState(L catalog, s string) string {
	switch s {
	case "planned":
		return L["MsgPlanned"]
	case "failed":
		return L["MsgFailed"]
	}
	return ""
}

// meetingOf shows a meeting in the console's time (UTC, as every time
// of the console).
func meetingOf(m projections.Meeting, L catalog) *meetingView {
	if m.Booked() {
		v := &meetingView{Class: m.Status, Text: L.T("MeetingBooked", span(m.Start, m.End, L))}
		if m.Manager != "" {
			v.Detail = L.T("MeetingManager", m.Manager)
		}
		return v
	}
	if len(m.Slots) == 0 {
		return &meetingView{Class: m.Status, Text: L.T("MeetingLink", m.Link)}
	}
	slots := make([]string, 0, len(m.Slots))
	for _, s := range m.Slots {
		slots = append(slots, span(s.Start, s.End, L))
	}
	return &meetingView{Class: m.Status, Text: L.T("MeetingSlots", len(m.Slots)), Detail: strings.Join(slots, ", ")}
}

// span is start–end in UTC: "03 Dec 14:00–14:30 UTC" within a day.
func span(start, end time.Time, L catalog) string {
	start, end = start.UTC(), end.UTC()
	if start.YearDay() == end.YearDay() && start.Year() == end.Year() {
		return start.Format(L["DayFormat"]+" 15:04") + "–" + end.Format("15:04 MST")
	}
	return start.Format(L["TimeFormat"]) + " – " + end.Format(L["TimeFormat"])
}

// timeline is what happened to a dialog, from its row's funnel facts
// and its meeting (nil: none).
func timeline(d projections.Dialog, m *projections.Meeting, L catalog) []event {
	var out []event
	add := func(key string, t time.Time, note string) {
		if !t.IsZero() {
			out = append(out, event{Label: L[key], At: t.UTC().Format(L["TimeFormat"]), Note: note})
		}
	}
	add("Started", d.CreatedAt, "")
	add("FirstOut", d.FirstOutboundAt, "")
	add("FirstIn", d.FirstInboundAt, "")
	add("Qualified", d.QualifiedAt, "")
	add("HandedOff", d.HandoffAt, d.HandoffReason)
	if m != nil {
		add("MeetingProposedAt", m.ProposedAt, "")
		add("MeetingBookedAt", m.BookedAt, "")
	}
	add("OutcomeAt", d.OutcomeAt, d.Outcome)
	add("Updated", d.UpdatedAt, "")
	return out
}

// stageSteps marks the stages before the current one done.
func stageSteps(current string, L catalog) []stageStep {
	at := slices.Index(stages, current)
	out := make([]stageStep, 0, len(stages))
	for i, s := range stages {
		state := "todo"
		switch {
		case i == at:
			state = "current"
		case i < at:
			state = "done"
		}
		out = append(out, stageStep{stageLabel(L, s), state})
	}
	return out
}

// act serves POST /web/dialogs/{n}/{action}: a manager's action at the
// version the form carries. Done, it goes back to the dialog saying so;
// refused, it shows the dialog as it is now with why (409, 422), the
// form's values kept.
func (w *Web) act(action string) http.HandlerFunc {
	return func(rw http.ResponseWriter, r *http.Request) {
		p, cookie, ok := w.admitPost(rw, r, domain.ScopeManage)
		if !ok {
			return
		}
		n, err := dialogN(r)
		if err != nil {
			w.fail(rw, r, err)
			return
		}
		at, err := strconv.ParseUint(r.PostForm.Get("version"), 10, 64)
		if err != nil {
			at = 0 // a form without its version acts on the dialog as it is
		}
		ctx, by, form := r.Context(), p.Actor(), r.PostForm
		var notice string
		switch action {
		case "takeover":
			var changed bool
			changed, err = w.cfg.Dialogs.TakeOver(ctx, n, at, by)
			notice = pick(changed, "taken")
		case "release":
			err = w.cfg.Dialogs.Release(ctx, n, at, by)
			notice = "released"
		case "reply":
			_, err = w.cfg.Dialogs.Reply(ctx, n, at, by, strings.TrimSpace(form.Get("text")))
			notice = "sent"
		case "stop":
			var changed bool
			changed, err = w.cfg.Dialogs.Stop(ctx, n, at, by)
			notice = pick(changed, "stopped")
		case "outcome":
			cmd := domain.RecordOutcome{Outcome: domain.Outcome(form.Get("outcome")), Amount: strings.TrimSpace(form.Get("amount")),
				Currency: strings.ToUpper(strings.TrimSpace(form.Get("currency"))), Reason: strings.TrimSpace(form.Get("reason")), By: by}
			var changed bool
			changed, err = w.cfg.Dialogs.RecordOutcomeAt(ctx, n, at, cmd)
			notice = pick(changed, "outcome")
		}
		if err == nil {
			http.Redirect(rw, r, fmt.Sprintf("/web/dialogs/%d?m=%s", n, notice), http.StatusSeeOther)
			return
		}
		w.refused(rw, r, &p, cookie, n, err)
	}
}

// pick is the notice of an action that changed something, else
// "nothing".
func pick(changed bool, notice string) string {
	if changed {
		return notice
	}
	return "nothing"
}

// refused shows dialog n as it is now, with why the action was refused;
// an error that is no refusal fails the page.
func (w *Web) refused(rw http.ResponseWriter, r *http.Request, p *domain.Principal, cookie string, n int64, err error) {
	v := w.viewOf(r, p, cookie)
	v.LangURL = fmt.Sprintf("/web/dialogs/%d?lang=%s", n, v.L["OtherLang"]) // not the POST's path
	var de *domain.Error
	switch {
	case errors.Is(err, domain.ErrConflict):
		v.Alert, v.Status = v.L["ErrStale"], http.StatusConflict
	case errors.As(err, &de) && de.Code == domain.EINVALID:
		v.Alert, v.Status = v.L.T("ErrInvalid", de.Message), http.StatusUnprocessableEntity
	case errors.As(err, &de) && (de.Code == domain.ESTATE || de.Code == domain.EFORBIDDEN):
		v.Alert, v.Status = v.L.T("ErrState", de.Message), http.StatusConflict
	default:
		w.fail(rw, r, err)
		return
	}
	d, derr := w.dialogData(r.Context(), n, v.L)
	if derr != nil {
		w.fail(rw, r, derr)
		return
	}
	form := r.PostForm
	d.Draft = form.Get("text")
	d.OutcomeWon = form.Get("outcome") != string(domain.OutcomeLost)
	d.OutcomeAmount, d.OutcomeCurrency, d.OutcomeReason = form.Get("amount"), form.Get("currency"), form.Get("reason")
	v.Title, v.Nav, v.Dialog, v.Data = v.L.T("DialogTitle", n), "inbox", d.ID, d
	w.render(rw, r, v)
}

// export: GET /web/dialogs/{n}/export, the transcript as a text file.
func (w *Web) export(rw http.ResponseWriter, r *http.Request) {
	if _, _, ok := w.admit(rw, r, domain.ScopeRead); !ok {
		return
	}
	n, err := dialogN(r)
	if err != nil {
		w.fail(rw, r, err)
		return
	}
	var buf bytes.Buffer
	if err := w.cfg.Transcripts.WriteText(r.Context(), n, &buf); err != nil {
		w.fail(rw, r, err)
		return
	}
	h := rw.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="dialog-%d.txt"`, n))
	h.Set("Cache-Control", "no-store")
	_, _ = rw.Write(buf.Bytes())
}
