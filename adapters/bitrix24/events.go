package bitrix24

import (
	"context"
	"crypto/subtle"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/salesbot/salesbot/adapters/crm"
	"github.com/salesbot/salesbot/domain"
)

// EventDealUpdate is the outbound event Events handles.
const EventDealUpdate = "ONCRMDEALUPDATE"

// LostReason is the reason recorded for a deal Bitrix24 reports lost.
const LostReason = "closed as lost in Bitrix24"

// By is who records an outcome that Bitrix24's event brings.
const By = "crm:bitrix24"

// MaxEventBody bounds an event's body.
const MaxEventBody = 1 << 20

// LeadIndex finds the dialog a CRM's lead is linked to (crm.LeadIndex).
type LeadIndex = crm.LeadIndex

// RecordOutcome records how the deal of a dialog ended (crm.RecordOutcome;
// the wiring passes dialogs.Service.RecordOutcomeAt).
type RecordOutcome = crm.RecordOutcome

// DealReader reads a deal (Client.GetDeal); errors matching ErrNotFound
// say the deal is gone.
type DealReader interface {
	GetDeal(ctx context.Context, id int64) (Deal, error)
}

// Events is the handler of Bitrix24's outbound event ONCRMDEALUPDATE
// (Bitrix24: Developer resources → Other → Outbound webhook, event "Deal
// updated"), mounted at a URL of ours such as
//
//	POST https://salesbot.example.com/hooks/bitrix24
//
// The body is application/x-www-form-urlencoded, PHP-style:
//
//	event=ONCRMDEALUPDATE&data[FIELDS][ID]=123&ts=1736405807&auth[domain]=example.bitrix24.ru&auth[application_token]=...
//
// auth[application_token] must be the token Bitrix24 showed for the
// outbound webhook (Config.ApplicationToken, compared in constant time;
// else 401), and auth[domain], when given, the portal's host. The event
// carries only the deal's id: a deal linked to a dialog is read with
// crm.deal.get, and its STAGE_SEMANTIC_ID "S" records the dialog's deal
// as won with OPPORTUNITY in CURRENCY_ID, "F" as lost (LostReason); a
// deal in progress, other events and deals no dialog is linked to are
// answered 200 and left. A malformed body is 400 and a bad token 401,
// as application/problem+json; a failure to read the deal or of the log
// is 500.
type Events struct {
	token  Secret
	host   string
	deals  DealReader
	links  LeadIndex
	record RecordOutcome
	log    *slog.Logger
}

// NewEvents returns the handler of cfg (its ApplicationToken and
// Portal; its Mode must be deal: a lead's link names a lead, not a
// deal) reading deals with deals (the Client).
func NewEvents(cfg Config, deals DealReader, links LeadIndex, record RecordOutcome, log *slog.Logger) (*Events, error) {
	if len(cfg.ApplicationToken.Reveal()) < 16 {
		return nil, errors.New("bitrix24: the events need an application_token of at least 16 characters")
	}
	if cfg.Mode != ModeDeal {
		return nil, errors.New(`bitrix24: deal events need mode "deal" (in mode "lead" the links name leads)`)
	}
	if deals == nil || links == nil || record == nil {
		return nil, errors.New("bitrix24: the events need the deal reader, the lead index and the outcome recorder")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	host := ""
	if u, err := url.Parse(cfg.Portal); err == nil {
		host = u.Host
	}
	return &Events{token: cfg.ApplicationToken, host: host, deals: deals, links: links, record: record, log: log}, nil
}

// Event is an outbound event's form, as read.
type Event struct {
	Name   string // "ONCRMDEALUPDATE"
	ID     int64  // data[FIELDS][ID]
	Domain string // auth[domain]
	Token  string // auth[application_token]
}

// ErrEventBody: the body is not Bitrix24's event form.
var ErrEventBody = errors.New("bitrix24: malformed event body")

// ParseEvent reads an outbound event's form body. Errors match
// ErrEventBody: a body that is not a form, without an event, or with a
// data[FIELDS][ID] that is not a positive number (an id is required for
// ONCRMDEALUPDATE).
func ParseEvent(body string) (Event, error) {
	form, err := url.ParseQuery(body)
	if err != nil {
		return Event{}, ErrEventBody
	}
	e := Event{Name: strings.ToUpper(strings.TrimSpace(form.Get("event"))), Domain: form.Get("auth[domain]"), Token: form.Get("auth[application_token]")}
	if e.Name == "" {
		return Event{}, ErrEventBody
	}
	if raw, ok := form["data[FIELDS][ID]"]; ok || e.Name == EventDealUpdate {
		if !ok || len(raw) != 1 {
			return Event{}, ErrEventBody
		}
		n, err := strconv.ParseInt(strings.TrimSpace(raw[0]), 10, 64)
		if err != nil || n <= 0 {
			return Event{}, ErrEventBody
		}
		e.ID = n
	}
	return e, nil
}

func (h *Events) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		crm.WriteProblem(w, http.StatusMethodNotAllowed, "method not allowed", "Bitrix24's event is a POST")
		return
	}
	if ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || ct != "application/x-www-form-urlencoded" {
		crm.WriteProblem(w, http.StatusUnsupportedMediaType, "unsupported media type", "Bitrix24's event is application/x-www-form-urlencoded")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxEventBody+1))
	if err != nil {
		crm.WriteProblem(w, http.StatusBadRequest, "bad request", "the body could not be read")
		return
	}
	if len(body) > MaxEventBody {
		crm.WriteProblem(w, http.StatusRequestEntityTooLarge, "body too large", "an event's body is at most 1 MiB")
		return
	}
	ev, err := ParseEvent(string(body))
	if err != nil {
		crm.WriteProblem(w, http.StatusBadRequest, "bad request", "the body is not Bitrix24's event form (event, data[FIELDS][ID], auth[application_token])")
		return
	}
	if subtle.ConstantTimeCompare([]byte(ev.Token), []byte(h.token.Reveal())) != 1 ||
		(ev.Domain != "" && h.host != "" && !strings.EqualFold(ev.Domain, h.host)) {
		crm.WriteProblem(w, http.StatusUnauthorized, "unauthorized", "auth[application_token] is not the configured token, or auth[domain] not the portal")
		return
	}
	if ev.Name != EventDealUpdate {
		w.WriteHeader(http.StatusOK)
		return
	}
	if err := h.apply(r.Context(), ev.ID); err != nil {
		h.log.Error("bitrix24 events: recording the outcome failed", "deal", ev.ID, "err", err)
		crm.WriteProblem(w, http.StatusInternalServerError, "internal error", "the outcome could not be recorded")
		return
	}
	w.WriteHeader(http.StatusOK)
}

func (h *Events) apply(ctx context.Context, id int64) error {
	lead := strconv.FormatInt(id, 10)
	link, found, err := h.links.DialogOfCRMLead(ctx, Name, lead)
	if err != nil {
		return err
	}
	if !found {
		h.log.Debug("bitrix24 events: the deal is not linked to a dialog", "deal", lead)
		return nil
	}
	deal, err := h.deals.GetDeal(ctx, id)
	if errors.Is(err, ErrNotFound) {
		h.log.Info("bitrix24 events: the deal is gone", "deal", lead, "dialog", link.N)
		return nil
	}
	if err != nil {
		return err
	}
	var cmd domain.RecordOutcome
	switch deal.Semantic {
	case "S":
		cmd = domain.RecordOutcome{Outcome: domain.OutcomeWon, By: By}
		if amount := trimZeros(deal.Amount); amount != "" && deal.Currency != "" {
			if m, err := domain.ParseMoney(amount, deal.Currency); err == nil && m.Minor > 0 {
				cmd.Amount, cmd.Currency = m.Decimal(), m.Currency
			}
		}
	case "F":
		cmd = domain.RecordOutcome{Outcome: domain.OutcomeLost, Reason: LostReason, By: By}
	default:
		return nil // in progress: nothing to record
	}
	return crm.Record(ctx, h.record, h.log, "bitrix24 events", lead, link.N, cmd)
}

// trimZeros drops a decimal's trailing fraction zeros ("1000.00" →
// "1000"): Bitrix24 writes two decimals even for currencies with none.
func trimZeros(a string) string {
	a = strings.TrimSpace(a)
	if strings.Contains(a, ".") {
		a = strings.TrimRight(strings.TrimRight(a, "0"), ".")
	}
	return a
}
