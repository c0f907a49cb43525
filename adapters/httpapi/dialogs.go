package httpapi

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/projections"
)

// Dialogs per page of GET /api/v1/dialogs.
const (
	DefaultLimit = 50
	MaxLimit     = 200
)

// Dialog is a dialog as lists show it.
type Dialog struct {
	N             int64      `json:"n"`
	ID            uuid.UUID  `json:"id"`
	Status        string     `json:"status"`
	Stage         string     `json:"stage"`
	ClosedAs      *string    `json:"closed_as"`
	Account       uuid.UUID  `json:"account"`
	Campaign      *uuid.UUID `json:"campaign"`
	Variant       string     `json:"variant"`
	Score         *int       `json:"score"`
	TakenOver     bool       `json:"taken_over"`
	MessagesIn    int        `json:"messages_in"`
	MessagesOut   int        `json:"messages_out"`
	LastMessageAt *time.Time `json:"last_message_at"`
	QualifiedAt   *time.Time `json:"qualified_at"`
	HandoffAt     *time.Time `json:"handoff_at"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
	Outcome       *Outcome   `json:"outcome"`
}

// Outcome is a deal's outcome as last recorded.
type Outcome struct {
	Outcome  string    `json:"outcome"`
	Amount   *string   `json:"amount"`
	Currency *string   `json:"currency"`
	Reason   *string   `json:"reason"`
	At       time.Time `json:"at"`
}

// Card is the lead card: the dialog with its qualification and its
// meeting (nil: none was ever proposed).
type Card struct {
	Dialog
	Meeting       *Meeting        `json:"meeting"`
	Insight       *Insight        `json:"insight"` // nil: the dialog has none (yet)
	Qualification []Qualification `json:"qualification"`
}

// Meeting is a dialog's meeting: proposed (Slots or a Link on offer) or
// booked (Start to End on Manager's calendar). Times are UTC; the lead's
// time zone is personal data and not shown.
type Meeting struct {
	Status     string     `json:"status"` // proposed, booked
	Proposals  int        `json:"proposals"`
	ProposedAt time.Time  `json:"proposed_at"`
	Slots      []Slot     `json:"slots"`
	Link       *string    `json:"link"`
	Start      *time.Time `json:"start"`
	End        *time.Time `json:"end"`
	Manager    *string    `json:"manager"`
	UID        *string    `json:"calendar_uid"`
	BookedAt   *time.Time `json:"booked_at"`
}

// Slot is a meeting's time on offer.
type Slot struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// meetingOf is the API's form of a meetings row.
func meetingOf(m projections.Meeting) *Meeting {
	out := &Meeting{Status: m.Status, Proposals: m.Proposals, ProposedAt: m.ProposedAt.UTC(), Slots: make([]Slot, 0, len(m.Slots)),
		Link: stringOrNil(m.Link), Start: TimeOrNil(m.Start), End: TimeOrNil(m.End), Manager: stringOrNil(m.Manager),
		UID: stringOrNil(m.UID), BookedAt: TimeOrNil(m.BookedAt)}
	for _, s := range m.Slots {
		out.Slots = append(out.Slots, Slot{Start: s.Start.UTC(), End: s.End.UTC()})
	}
	return out
}

// Qualification is one qualification field as last stated.
type Qualification struct {
	Field      string    `json:"field"`
	Value      string    `json:"value"`
	Quote      string    `json:"quote"`
	Confidence float64   `json:"confidence"`
	Money      *Money    `json:"money"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// Message is one message of a dialog.
type Message struct {
	Position  uint64    `json:"position"`
	Direction string    `json:"direction"`
	Author    string    `json:"author"`
	Text      string    `json:"text"`
	At        time.Time `json:"at"`
	Status    string    `json:"status"`
	File      *string   `json:"file"` // the name of a file sent with it
}

// page is a page of a list.
type page[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

// list is a whole list.
type list[T any] struct {
	Items []T `json:"items"`
}

func dialogOf(d projections.Dialog) Dialog {
	out := Dialog{N: d.N, ID: d.ID, Status: d.Status, Stage: d.Stage, Account: d.AccountID, Variant: d.Variant, Score: d.Score,
		TakenOver: d.TakenOver, MessagesIn: d.Inbound, MessagesOut: d.Outbound, LastMessageAt: TimeOrNil(d.LastMessageAt),
		QualifiedAt: TimeOrNil(d.QualifiedAt), HandoffAt: TimeOrNil(d.HandoffAt), CreatedAt: d.CreatedAt.UTC(), UpdatedAt: d.UpdatedAt.UTC()}
	if d.Outcome != "" {
		out.ClosedAs = &d.Outcome
	}
	if d.Campaign != uuid.Nil {
		out.Campaign = &d.Campaign
	}
	if !d.OutcomeAt.IsZero() {
		o := &Outcome{Outcome: d.Outcome, At: d.OutcomeAt.UTC(), Reason: stringOrNil(d.OutcomeReason)}
		if !d.OutcomeValue.IsZero() {
			o.Amount, o.Currency = stringOrNil(d.OutcomeValue.Decimal()), stringOrNil(d.OutcomeValue.Currency)
		}
		out.Outcome = o
	}
	return out
}

// TimeOrNil is t in UTC, nil (JSON null) when it is zero.
func TimeOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

func stringOrNil(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// cursor is a page's position: the list goes on below dialog N. It is
// opaque to clients (base64 of "d<N>") so that it may change.
func encodeCursor(n int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte("d" + strconv.FormatInt(n, 10)))
}

func decodeCursor(c string) (int64, bool) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(b) < 2 || b[0] != 'd' {
		return 0, false
	}
	n, err := strconv.ParseInt(string(b[1:]), 10, 64)
	return n, err == nil && n > 0
}

// listDialogs: GET /api/v1/dialogs.
func (a *API) listDialogs(r *http.Request, _ domain.Principal) (any, error) {
	q := r.URL.Query()
	var bad []FieldError
	f := projections.DialogFilter{Status: q.Get("status"), Stage: q.Get("stage"), Limit: DefaultLimit}
	switch f.Status {
	case "", projections.StatusActive, projections.StatusHandoff, projections.StatusClosed:
	default:
		bad = append(bad, FieldError{"status", "one of active, handoff, closed"})
	}
	if len(f.Stage) > 64 {
		bad = append(bad, FieldError{"stage", "at most 64 characters"})
	}
	for _, id := range []struct {
		name string
		dst  *uuid.UUID
	}{{"account", &f.Account}, {"campaign", &f.Campaign}} {
		if v := q.Get(id.name); v != "" {
			u, err := uuid.Parse(v)
			if err != nil {
				bad = append(bad, FieldError{id.name, "not a UUID"})
			}
			*id.dst = u
		}
	}
	if v := q.Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			bad = append(bad, FieldError{"since", "a time as RFC 3339: 2026-12-01T00:00:00Z"})
		}
		f.Since = t
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxLimit {
			bad = append(bad, FieldError{"limit", fmt.Sprintf("a number from 1 to %d", MaxLimit)})
		}
		f.Limit = n
	}
	if v := q.Get("cursor"); v != "" {
		n, ok := decodeCursor(v)
		if !ok {
			bad = append(bad, FieldError{"cursor", "not a cursor this API gave"})
		}
		f.Before = n
	}
	if len(bad) > 0 {
		return nil, problemError{invalid("bad query parameters", bad...)}
	}
	limit := f.Limit
	f.Limit++ // one more says whether there is a next page
	ds, err := a.cfg.ReadModels.ListDialogs(r.Context(), f)
	if err != nil {
		return nil, err
	}
	out := page[Dialog]{Items: make([]Dialog, 0, min(len(ds), limit))}
	for i, d := range ds {
		if i == limit {
			c := encodeCursor(ds[i-1].N)
			out.NextCursor = &c
			break
		}
		out.Items = append(out.Items, dialogOf(d))
	}
	return out, nil
}

// dialogN is the path's dialog number.
func dialogN(r *http.Request) (int64, error) {
	n, err := strconv.ParseInt(r.PathValue("n"), 10, 64)
	if err != nil || n < 1 {
		return 0, problemError{badField("n", "a dialog's number: 1, 2, ...")}
	}
	return n, nil
}

// getDialog: GET /api/v1/dialogs/{n}.
func (a *API) getDialog(r *http.Request, p domain.Principal) (any, error) {
	n, err := dialogN(r)
	if err != nil {
		return nil, err
	}
	res, err := a.taggedCard(r.Context(), n, http.StatusOK) // with its ETag
	if err == nil && !mayReadPersonal(p) {
		res.value = withholdPersonal(res.value.(Card))
	}
	return res, err
}

func (a *API) card(ctx context.Context, n int64) (Card, error) {
	d, err := a.cfg.ReadModels.DialogByN(ctx, n)
	if err != nil {
		return Card{}, notFoundDialog(err)
	}
	qs, err := a.cfg.ReadModels.Qualification(ctx, d.ID)
	if err != nil {
		return Card{}, err
	}
	c := Card{Dialog: dialogOf(d), Qualification: make([]Qualification, 0, len(qs))}
	switch m, err := a.cfg.ReadModels.Meeting(ctx, d.ID); {
	case err == nil:
		c.Meeting = meetingOf(m)
	case !errors.Is(err, projections.ErrNotFound):
		return Card{}, err
	}
	switch in, err := a.cfg.ReadModels.Insight(ctx, d.ID); {
	case err == nil:
		c.Insight = insightOf(in)
	case !errors.Is(err, projections.ErrNotFound):
		return Card{}, err
	}
	for _, q := range qs {
		out := Qualification{Field: q.Field, Value: q.Value, Quote: q.Quote, Confidence: q.Confidence, UpdatedAt: q.UpdatedAt.UTC()}
		if !q.Money.IsZero() {
			out.Money = &Money{Amount: q.Money.Decimal(), Currency: q.Money.Currency}
		}
		c.Qualification = append(c.Qualification, out)
	}
	return c, nil
}

// notFoundDialog says a read model's not found as an unknown dialog.
func notFoundDialog(err error) error {
	if errors.Is(err, projections.ErrNotFound) {
		return fmt.Errorf("%w: %w", domain.ErrUnknownDialog, err)
	}
	return err
}

// dialogMessages: GET /api/v1/dialogs/{n}/messages.
func (a *API) dialogMessages(r *http.Request, _ domain.Principal) (any, error) {
	n, err := dialogN(r)
	if err != nil {
		return nil, err
	}
	d, err := a.cfg.ReadModels.DialogByN(r.Context(), n)
	if err != nil {
		return nil, notFoundDialog(err)
	}
	ms, err := a.cfg.ReadModels.Messages(r.Context(), d.ID)
	if err != nil {
		return nil, err
	}
	out := list[Message]{Items: make([]Message, 0, len(ms))}
	for _, m := range ms {
		out.Items = append(out.Items, Message{Position: m.Position, Direction: m.Direction, Author: m.Author, Text: m.Shown(), At: m.At.UTC(), Status: m.Status,
			File: stringOrNil(m.File)})
	}
	return out, nil
}

// OutcomeRequest is the body of POST /api/v1/dialogs/{n}/outcome.
type OutcomeRequest struct {
	Outcome  string `json:"outcome"`
	Amount   string `json:"amount"`
	Currency string `json:"currency"`
	Reason   string `json:"reason"`
}

// recordOutcome: POST /api/v1/dialogs/{n}/outcome, with an optional
// If-Match. It answers the card once the read models show the outcome
// (Config.Fresh).
func (a *API) recordOutcome(r *http.Request, p domain.Principal) (any, error) {
	n, at, err := dialogAt(r)
	if err != nil {
		return nil, err
	}
	var req OutcomeRequest
	if err := decode(r, &req, "outcome", "amount", "currency", "reason"); err != nil {
		return nil, err
	}
	if req.Outcome == "" {
		return nil, problemError{badField("outcome", "required: won or lost")}
	}
	cmd := domain.RecordOutcome{Outcome: domain.Outcome(req.Outcome), Amount: req.Amount, Currency: req.Currency, Reason: req.Reason, By: p.Actor()}
	if _, err := a.cfg.Dialogs.RecordOutcomeAt(r.Context(), n, at, cmd); err != nil {
		return nil, err
	}
	return a.taggedCard(r.Context(), n, http.StatusOK)
}

// decode reads a JSON object body into v strictly: application/json,
// one object, only the fields named (v's JSON names). Its errors are
// problems naming the field at fault.
func decode(r *http.Request, v any, fields ...string) error {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return problemError{Problem{Type: TypeMediaType, Title: "Unsupported media type", Status: http.StatusUnsupportedMediaType,
			Detail: "the body must be application/json"}}
	}
	body, err := io.ReadAll(r.Body) // bounded by MaxBody (idempotent)
	if err != nil {
		return problemError{invalid("the body could not be read")}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	var obj map[string]json.RawMessage
	if err := dec.Decode(&obj); err != nil || obj == nil {
		if errors.Is(err, io.EOF) {
			return problemError{invalid("the body is empty: send a JSON object")}
		}
		return problemError{invalid("the body is not a JSON object")}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return problemError{invalid("the body must hold one JSON object and nothing after it")}
	}
	var unknown []FieldError
	for k := range obj {
		if !slices.Contains(fields, k) {
			unknown = append(unknown, FieldError{Field: k, Message: "unknown field"})
		}
	}
	if len(unknown) > 0 {
		slices.SortFunc(unknown, func(a, b FieldError) int { return strings.Compare(a.Field, b.Field) })
		return problemError{invalid("unknown fields; this takes "+strings.Join(fields, ", "), unknown...)}
	}
	var te *json.UnmarshalTypeError
	if err := json.Unmarshal(body, v); errors.As(err, &te) {
		field := te.Field
		if field == "" {
			field = "body"
		}
		return problemError{badField(field, "must be a %s", jsonKind(te.Type.Kind().String()))}
	} else if err != nil {
		return problemError{invalid("the body is not a JSON object")}
	}
	return nil
}

func jsonKind(k string) string {
	switch k {
	case "string":
		return "string"
	case "int", "int64", "float64":
		return "number"
	case "bool":
		return "boolean"
	}
	return "JSON " + k
}
