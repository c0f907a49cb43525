package hubspot

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/salesbot/salesbot/adapters/crm"
	"github.com/salesbot/salesbot/domain"
)

// LostReason is the reason recorded for a deal HubSpot reports lost.
const LostReason = "closed as lost in HubSpot"

// By is who records an outcome that HubSpot's webhook brings.
const By = "crm:hubspot"

// MaxWebhookBody bounds a webhook's body.
const MaxWebhookBody = 1 << 20

// MaxSignatureAge is how old a webhook's X-HubSpot-Request-Timestamp may
// be (HubSpot: reject a request older than 5 minutes); one as far in the
// future is refused too.
const MaxSignatureAge = 5 * time.Minute

// LeadIndex finds the dialog a CRM's lead is linked to (crm.LeadIndex).
type LeadIndex = crm.LeadIndex

// RecordOutcome records how the deal of a dialog ended (crm.RecordOutcome;
// the wiring passes dialogs.Service.RecordOutcomeAt).
type RecordOutcome = crm.RecordOutcome

// DealReader reads a deal's stage and amount (*Client is one). Errors:
// ErrNotFound for a deal that does not exist.
type DealReader interface {
	Deal(ctx context.Context, id string) (Deal, error)
}

var _ DealReader = (*Client)(nil)

// WebhookDeps are what the webhook works with.
type WebhookDeps struct {
	Links  LeadIndex     // required
	Deals  DealReader    // required: the deal's amount and current stage
	Record RecordOutcome // required
	Log    *slog.Logger  // nil: discard
	Now    func() time.Time
}

// Webhook is HubSpot's webhook (an app's webhook subscription to
// deal.propertyChange on dealstage), at the target URL set in HubSpot
// (Config.WebhookURL):
//
//	POST https://salesbot.example.com/hooks/hubspot
//
// Every request is authenticated by HubSpot's signature v3
// (ValidSignature); one that is missing, wrong or older than
// MaxSignatureAge is 401. The body is a JSON array of events:
//
//	[{"eventId": 1, "subscriptionType": "deal.propertyChange", "portalId": 62515, "occurredAt": 1764669600000,
//	  "objectId": 2001, "propertyName": "dealstage", "propertyValue": "closedwon", ...}]
//
// A deal moved to Config.WonStage records the dialog's deal as won with
// the deal's amount (read back: GET /crm/v3/objects/deals/{id}; in its
// deal_currency_code, else Config.Currency), to Config.LostStage as lost
// (LostReason). The deal is read first and an event whose stage is no
// longer the deal's is left (HubSpot does not deliver events in order;
// the later one counts). Other events, other stages, deals no dialog is
// linked to and deleted deals are answered 200 and left. A malformed
// body is 400 (application/problem+json); a failure of HubSpot's API or
// of the log is 500, so HubSpot sends the events again.
type Webhook struct {
	secret   Secret
	url      string
	won      string
	lost     string
	currency string
	deps     WebhookDeps
}

// NewWebhook returns the webhook of cfg (its ClientSecret, WebhookURL,
// WonStage, LostStage and Currency).
func NewWebhook(cfg Config, deps WebhookDeps) (*Webhook, error) {
	if cfg.ClientSecret.Empty() {
		return nil, errors.New("hubspot: the webhook needs the app's client_secret")
	}
	if err := checkWebhookURL(cfg.WebhookURL); err != nil {
		return nil, errors.New("hubspot: the webhook needs its webhook_url, as set in HubSpot")
	}
	if cfg.WonStage == "" || cfg.LostStage == "" || cfg.WonStage == cfg.LostStage {
		return nil, errors.New("hubspot: the webhook needs won_stage and lost_stage")
	}
	if deps.Links == nil || deps.Deals == nil || deps.Record == nil {
		return nil, errors.New("hubspot: the webhook needs its lead index, deal reader and outcome recorder")
	}
	if deps.Log == nil {
		deps.Log = slog.New(slog.DiscardHandler)
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	cur := cfg.Currency
	if cur == "" {
		cur = "USD"
	}
	return &Webhook{secret: cfg.ClientSecret, url: cfg.WebhookURL, won: cfg.WonStage, lost: cfg.LostStage, currency: cur, deps: deps}, nil
}

// uriDecoder undoes the percent-encoding of the characters HubSpot's
// signature v3 takes decoded in the request's URI.
var uriDecoder = strings.NewReplacer(
	"%3A", ":", "%2F", "/", "%3F", "?", "%40", "@", "%21", "!", "%24", "$", "%27", "'",
	"%28", "(", "%29", ")", "%2A", "*", "%2C", ",", "%3B", ";",
	"%3a", ":", "%2f", "/", "%3f", "?", "%2a", "*", "%2c", ",", "%3b", ";")

// Signature is HubSpot's signature v3 of a request:
// base64(HMAC-SHA256(clientSecret, method + uri + body + timestamp)),
// uri the full URL (scheme, host, path, query) with the characters
// : / ? @ ! $ ' ( ) * , ; percent-decoded, timestamp the
// X-HubSpot-Request-Timestamp header (milliseconds since the epoch) as
// sent.
func Signature(clientSecret, method, uri string, body []byte, timestamp string) string {
	m := hmac.New(sha256.New, []byte(clientSecret))
	m.Write([]byte(method))
	m.Write([]byte(uriDecoder.Replace(uri)))
	m.Write(body)
	m.Write([]byte(timestamp))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// ValidSignature says whether signature is HubSpot's v3 signature of the
// request (Signature) and timestamp is within MaxSignatureAge of now.
func ValidSignature(clientSecret, method, uri string, body []byte, timestamp, signature string, now time.Time) bool {
	ms, err := strconv.ParseInt(strings.TrimSpace(timestamp), 10, 64)
	if err != nil || signature == "" || clientSecret == "" {
		return false
	}
	age := now.Sub(time.UnixMilli(ms))
	if age > MaxSignatureAge || age < -MaxSignatureAge {
		return false
	}
	want := Signature(clientSecret, method, uri, body, timestamp)
	return hmac.Equal([]byte(want), []byte(strings.TrimSpace(signature)))
}

// Event is one event of HubSpot's webhook (the fields used here).
type Event struct {
	EventID          int64  `json:"eventId"`
	SubscriptionType string `json:"subscriptionType"`
	ObjectTypeID     string `json:"objectTypeId"` // "0-3" for deals, in object.* subscriptions
	ObjectID         int64  `json:"objectId"`
	PropertyName     string `json:"propertyName"`
	PropertyValue    string `json:"propertyValue"`
	OccurredAt       int64  `json:"occurredAt"`
}

// ErrWebhookBody: the webhook's body is not HubSpot's array of events.
var ErrWebhookBody = errors.New("hubspot: malformed webhook body")

// ParseEvents reads a webhook's body. Errors match ErrWebhookBody: not a
// JSON array of objects, or more than 1,000 events.
func ParseEvents(body []byte) ([]Event, error) {
	var evs []Event
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&evs); err != nil || evs == nil || dec.More() || len(evs) > 1000 {
		return nil, ErrWebhookBody
	}
	return evs, nil
}

// dealStage says whether e is a deal's move to another stage.
func (e Event) dealStage() bool {
	return e.PropertyName == "dealstage" && e.ObjectID > 0 &&
		(e.SubscriptionType == "deal.propertyChange" || (e.SubscriptionType == "object.propertyChange" && e.ObjectTypeID == "0-3"))
}

func (h *Webhook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		crm.WriteProblem(w, http.StatusMethodNotAllowed, "method not allowed", "HubSpot's webhook is a POST")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxWebhookBody+1))
	if err != nil {
		crm.WriteProblem(w, http.StatusBadRequest, "bad request", "the body could not be read")
		return
	}
	if len(body) > MaxWebhookBody {
		crm.WriteProblem(w, http.StatusRequestEntityTooLarge, "body too large", "a webhook's body is at most 1 MiB")
		return
	}
	uri := h.url
	if r.URL.RawQuery != "" {
		uri += "?" + r.URL.RawQuery
	}
	if !ValidSignature(h.secret.Reveal(), r.Method, uri, body, r.Header.Get("X-HubSpot-Request-Timestamp"), r.Header.Get("X-HubSpot-Signature-v3"), h.deps.Now()) {
		crm.WriteProblem(w, http.StatusUnauthorized, "unauthorized", "no valid X-HubSpot-Signature-v3 of the last 5 minutes")
		return
	}
	evs, err := ParseEvents(body)
	if err != nil {
		crm.WriteProblem(w, http.StatusBadRequest, "bad request", "the body is not HubSpot's JSON array of events")
		return
	}
	for _, e := range evs {
		if err := h.apply(r.Context(), e); err != nil {
			h.deps.Log.Error("hubspot webhook: recording the outcome failed", "deal", e.ObjectID, "event", e.EventID, "err", err)
			crm.WriteProblem(w, http.StatusInternalServerError, "internal error", "the outcome could not be recorded; HubSpot will send it again")
			return
		}
	}
	w.WriteHeader(http.StatusOK)
}

func (h *Webhook) apply(ctx context.Context, e Event) error {
	if !e.dealStage() || (e.PropertyValue != h.won && e.PropertyValue != h.lost) {
		return nil // another event, or a move within the pipeline
	}
	id := strconv.FormatInt(e.ObjectID, 10)
	log := h.deps.Log
	link, found, err := h.deps.Links.DialogOfCRMLead(ctx, Name, id)
	if err != nil {
		return err
	}
	if !found {
		log.Info("hubspot webhook: the deal is not linked to a dialog", "deal", id, "stage", e.PropertyValue)
		return nil
	}
	deal, err := h.deps.Deals.Deal(ctx, id)
	if errors.Is(err, ErrNotFound) {
		log.Info("hubspot webhook: the deal is gone", "deal", id, "dialog", link.N)
		return nil
	}
	if err != nil {
		return err
	}
	if deal.Stage != e.PropertyValue {
		log.Info("hubspot webhook: the deal has moved on; the event is left", "deal", id, "dialog", link.N, "event_stage", e.PropertyValue, "stage", deal.Stage)
		return nil
	}
	cmd := domain.RecordOutcome{Outcome: domain.OutcomeLost, Reason: LostReason, By: By}
	if e.PropertyValue == h.won {
		cmd = domain.RecordOutcome{Outcome: domain.OutcomeWon, By: By}
		cur := deal.Currency
		if cur == "" {
			cur = h.currency
		}
		if m, err := domain.ParseMoney(deal.Amount, cur); err == nil && m.Minor > 0 {
			cmd.Amount, cmd.Currency = m.Decimal(), m.Currency
		} else if deal.Amount != "" {
			log.Warn("hubspot webhook: the deal's amount does not read as money; won recorded without it", "deal", id, "dialog", link.N)
		}
	}
	return crm.Record(ctx, h.deps.Record, log, "hubspot webhook", id, link.N, cmd)
}
