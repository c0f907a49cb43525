package amocrm

import (
	"context"
	"crypto/subtle"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/salesbot/salesbot/adapters/crm"
	"github.com/salesbot/salesbot/domain"
)

// amoCRM's fixed statuses of every pipeline.
const (
	StatusWon  = 142 // "Successfully realized" (Успешно реализовано)
	StatusLost = 143 // "Closed and not realized" (Закрыто и не реализовано)
)

// LostReason is the reason recorded for a lead amoCRM reports lost.
const LostReason = "closed as lost in amoCRM"

// By is who records an outcome that amoCRM's webhook brings.
const By = "crm:amocrm"

// MaxWebhookBody bounds a webhook's body.
const MaxWebhookBody = 1 << 20

// LeadIndex finds the dialog a CRM's lead is linked to (crm.LeadIndex).
type LeadIndex = crm.LeadIndex

// RecordOutcome records how the deal of a dialog ended (crm.RecordOutcome;
// the wiring passes dialogs.Service.RecordOutcomeAt).
type RecordOutcome = crm.RecordOutcome

// Webhook is amoCRM's webhook on a lead's status change (amoCRM:
// Settings → Integrations → Web hooks, event "Lead status changed"),
// mounted under a path that ends with the secret:
//
//	POST https://salesbot.example.com/hooks/amocrm/<webhook_secret>
//
// (or with ?token=<webhook_secret>). amoCRM does not sign its webhooks:
// the secret in the URL is what authenticates them. The body is
// application/x-www-form-urlencoded, PHP-style:
//
//	leads[status][0][id]=2001&leads[status][0][status_id]=142&leads[status][0][pipeline_id]=7001&leads[status][0][price]=1500&account[subdomain]=example
//
// A lead moved to 142 records the dialog's deal as won with the lead's
// price (in Config.Currency; none when 0), to 143 as lost (LostReason);
// other statuses, other events and leads no dialog is linked to are
// answered 200 and left (amoCRM retries anything else). A malformed body
// is 400 and a wrong secret 401, as application/problem+json; a failure
// of the log is 500, so amoCRM sends it again.
type Webhook struct {
	secret   Secret
	currency string
	links    LeadIndex
	record   RecordOutcome
	log      *slog.Logger
}

// NewWebhook returns the webhook of cfg (its WebhookSecret and Currency).
func NewWebhook(cfg Config, links LeadIndex, record RecordOutcome, log *slog.Logger) (*Webhook, error) {
	if len(cfg.WebhookSecret.Reveal()) < 16 {
		return nil, errors.New("amocrm: the webhook needs a webhook_secret of at least 16 characters")
	}
	if links == nil || record == nil {
		return nil, errors.New("amocrm: the webhook needs its lead index and outcome recorder")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cur := cfg.Currency
	if cur == "" {
		cur = "RUB"
	}
	return &Webhook{secret: cfg.WebhookSecret, currency: cur, links: links, record: record, log: log}, nil
}

// StatusChange is one leads[status][i] entry of the webhook.
type StatusChange struct {
	LeadID     int64
	StatusID   int64
	PipelineID int64
	Price      int64
}

// ErrWebhookBody: the webhook's body is not amoCRM's form.
var ErrWebhookBody = errors.New("amocrm: malformed webhook body")

// ParseStatusChanges reads the leads[status][i] entries of a webhook's
// form body (other entries are ignored). Errors match ErrWebhookBody:
// a body that is not a form, an entry without a numeric id or
// status_id, or a bad price.
func ParseStatusChanges(body string) ([]StatusChange, error) {
	form, err := url.ParseQuery(body)
	if err != nil {
		return nil, ErrWebhookBody
	}
	byIndex := map[int]*StatusChange{}
	var order []int
	for key, vals := range form {
		rest, ok := strings.CutPrefix(key, "leads[status][")
		if !ok {
			continue
		}
		idx, field, ok := strings.Cut(rest, "][")
		if !ok || !strings.HasSuffix(field, "]") {
			continue // custom_fields and the like are nested deeper: leads[status][0][custom_fields][0][id]
		}
		field = strings.TrimSuffix(field, "]")
		i, err := strconv.Atoi(idx)
		if err != nil || i < 0 || i > 1000 {
			return nil, ErrWebhookBody
		}
		if byIndex[i] == nil {
			byIndex[i] = &StatusChange{}
			order = append(order, i)
		}
		var dst *int64
		switch field {
		case "id":
			dst = &byIndex[i].LeadID
		case "status_id":
			dst = &byIndex[i].StatusID
		case "pipeline_id":
			dst = &byIndex[i].PipelineID
		case "price":
			dst = &byIndex[i].Price
		default:
			continue
		}
		v := strings.TrimSpace(vals[0])
		if v == "" && field == "price" {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			if f, ferr := strconv.ParseFloat(v, 64); field == "price" && ferr == nil && f >= 0 && f < 1e15 {
				n = int64(f + 0.5)
			} else {
				return nil, ErrWebhookBody
			}
		}
		*dst = n
	}
	slices.Sort(order)
	out := make([]StatusChange, 0, len(order))
	for _, i := range order {
		c := *byIndex[i]
		if c.LeadID <= 0 || c.StatusID <= 0 {
			return nil, ErrWebhookBody
		}
		out = append(out, c)
	}
	return out, nil
}

func (h *Webhook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		crm.WriteProblem(w, http.StatusMethodNotAllowed, "method not allowed", "amoCRM's webhook is a POST")
		return
	}
	if !h.authentic(r) {
		crm.WriteProblem(w, http.StatusUnauthorized, "unauthorized", "the webhook's URL does not end with the configured secret")
		return
	}
	if ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || ct != "application/x-www-form-urlencoded" {
		crm.WriteProblem(w, http.StatusUnsupportedMediaType, "unsupported media type", "amoCRM's webhook is application/x-www-form-urlencoded")
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
	if len(strings.TrimSpace(string(body))) == 0 {
		crm.WriteProblem(w, http.StatusBadRequest, "bad request", "an empty body")
		return
	}
	changes, err := ParseStatusChanges(string(body))
	if err != nil {
		crm.WriteProblem(w, http.StatusBadRequest, "bad request", "the body is not amoCRM's webhook form (leads[status][i][id], [status_id], [price])")
		return
	}
	for _, c := range changes {
		if err := h.apply(r.Context(), c); err != nil {
			h.log.Error("amocrm webhook: recording the outcome failed", "lead", c.LeadID, "status", c.StatusID, "err", err)
			crm.WriteProblem(w, http.StatusInternalServerError, "internal error", "the outcome could not be recorded; amoCRM will send it again")
			return
		}
	}
	w.WriteHeader(http.StatusOK)
}

// authentic says whether the path's last segment or the token query
// parameter is the secret (compared in constant time).
func (h *Webhook) authentic(r *http.Request) bool {
	want := []byte(h.secret.Reveal())
	seg := r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
	ok := subtle.ConstantTimeCompare([]byte(seg), want) == 1
	ok = subtle.ConstantTimeCompare([]byte(r.URL.Query().Get("token")), want) == 1 || ok
	return ok
}

func (h *Webhook) apply(ctx context.Context, c StatusChange) error {
	var cmd domain.RecordOutcome
	switch c.StatusID {
	case StatusWon:
		cmd = domain.RecordOutcome{Outcome: domain.OutcomeWon, By: By}
		if c.Price > 0 {
			cmd.Amount, cmd.Currency = strconv.FormatInt(c.Price, 10), h.currency
		}
	case StatusLost:
		cmd = domain.RecordOutcome{Outcome: domain.OutcomeLost, Reason: LostReason, By: By}
	default:
		return nil // a move within the pipeline: nothing to record
	}
	lead := strconv.FormatInt(c.LeadID, 10)
	link, found, err := h.links.DialogOfCRMLead(ctx, Name, lead)
	if err != nil {
		return err
	}
	if !found {
		h.log.Info("amocrm webhook: the lead is not linked to a dialog", "lead", lead, "status", c.StatusID)
		return nil
	}
	return crm.Record(ctx, h.record, h.log, "amocrm webhook", lead, link.N, cmd)
}
