package amocrm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/salesbot/salesbot/adapters/crm"
	"github.com/salesbot/salesbot/adapters/redact"
	"github.com/salesbot/salesbot/domain"
)

// Name is the CRM's name in the log's links (domain.CRMLeadLinked.CRM).
const Name = "amocrm"

// Tag is the tag every lead the connector creates gets.
const Tag = "salesbot"

// MaxNote is the longest note the connector writes, in characters; a
// longer transcript is split at line ends into several notes, sent in one
// request.
const MaxNote = 4000

// Errors. A failed request is a *StatusError (the operation and the HTTP
// status) that matches ErrUnauthorized for 401 and ErrRateLimited for a
// 429 that outlasted the retries.
var (
	ErrUnauthorized = errors.New("amocrm: unauthorized: check the long-lived token")
	ErrRateLimited  = errors.New("amocrm: rate limited")
)

// StatusError is amoCRM's answer to a failed request: the operation
// ("create lead", "add note", "find lead"), the HTTP status, amoCRM's
// detail and its validation errors (path: detail).
type StatusError struct {
	Op         string
	Status     int
	Detail     string
	Validation []string
}

func (e *StatusError) Error() string {
	msg := fmt.Sprintf("amocrm: %s: HTTP %d", e.Op, e.Status)
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	if len(e.Validation) > 0 {
		msg += " (" + strings.Join(e.Validation, "; ") + ")"
	}
	return msg
}

// Is matches ErrUnauthorized for 401 and ErrRateLimited for 429.
func (e *StatusError) Is(target error) bool {
	return (target == ErrUnauthorized && e.Status == http.StatusUnauthorized) ||
		(target == ErrRateLimited && e.Status == http.StatusTooManyRequests)
}

// Clock is the time the client paces and backs off by.
type Clock = crm.Clock

// Options are the client's parts; the zero value is production's.
type Options struct {
	HTTP   *http.Client // default: a client with a 30 s timeout
	Clock  Clock        // default: the real clock
	Logger *slog.Logger // default: discard
	// Rate is the most requests a second (default 7, amoCRM's limit).
	Rate int
	// Retries is how many times a 429 (any request) or a 5xx (a search)
	// is retried (default 4), waiting Retry-After or 1, 2, 4, 8 s.
	Retries int
}

// Client talks to one amoCRM account. It is safe for concurrent use.
type Client struct {
	cfg     Config
	http    *http.Client
	clock   Clock
	log     *slog.Logger
	limit   *Limiter
	retries int
}

// New returns a client for cfg (as Load returns it).
func New(cfg Config, opt Options) (*Client, error) {
	if err := checkBaseURL(cfg.BaseURL); err != nil {
		return nil, fmt.Errorf("%w: base_url %s", ErrConfig, err.Error())
	}
	if cfg.Token.Empty() {
		return nil, fmt.Errorf("%w: no token", ErrConfig)
	}
	if cfg.Currency == "" {
		cfg.Currency = "RUB"
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	p := crm.Parts{HTTP: opt.HTTP, Clock: opt.Clock, Logger: opt.Logger, Retries: opt.Retries}.WithDefaults()
	c := &Client{cfg: cfg, http: p.HTTP, clock: p.Clock, log: p.Logger, retries: p.Retries}
	rate := opt.Rate
	if rate <= 0 {
		rate = 7
	}
	c.limit = NewLimiter(rate, c.clock)
	return c, nil
}

// Name is "amocrm".
func (c *Client) Name() string { return Name }

// The request shapes of API v4 (only the fields we send).
type (
	customValue struct {
		Value    string `json:"value"`
		EnumCode string `json:"enum_code,omitempty"`
	}
	customField struct {
		FieldID   int64         `json:"field_id,omitempty"`
		FieldCode string        `json:"field_code,omitempty"`
		Values    []customValue `json:"values"`
	}
	tag struct {
		Name string `json:"name"`
	}
	complexContact struct {
		ID                 int64         `json:"id,omitempty"`
		Name               string        `json:"name,omitempty"`
		FirstName          string        `json:"first_name,omitempty"`
		ResponsibleUserID  int64         `json:"responsible_user_id,omitempty"`
		CustomFieldsValues []customField `json:"custom_fields_values,omitempty"`
	}
	complexEmbedded struct {
		Contacts []complexContact `json:"contacts,omitempty"`
		Tags     []tag            `json:"tags,omitempty"`
	}
	complexLead struct {
		Name               string          `json:"name"`
		Price              *int64          `json:"price,omitempty"`
		PipelineID         int64           `json:"pipeline_id"`
		StatusID           int64           `json:"status_id"`
		ResponsibleUserID  int64           `json:"responsible_user_id,omitempty"`
		CustomFieldsValues []customField   `json:"custom_fields_values,omitempty"`
		Embedded           complexEmbedded `json:"_embedded"`
	}
	complexResult struct {
		ID        int64    `json:"id"`
		ContactID *int64   `json:"contact_id"`
		CompanyID *int64   `json:"company_id"`
		RequestID []string `json:"request_id"`
		Merged    bool     `json:"merged"`
	}
	note struct {
		NoteType string `json:"note_type"`
		Params   struct {
			Text string `json:"text"`
		} `json:"params"`
	}
	leadList struct {
		Embedded struct {
			Leads []struct {
				ID                 int64  `json:"id"`
				Name               string `json:"name"`
				CustomFieldsValues []struct {
					FieldID int64 `json:"field_id"`
					Values  []struct {
						Value any `json:"value"`
					} `json:"values"`
				} `json:"custom_fields_values"`
				Embedded struct {
					Contacts []struct {
						ID     int64 `json:"id"`
						IsMain bool  `json:"is_main"`
					} `json:"contacts"`
				} `json:"_embedded"`
			} `json:"leads"`
		} `json:"_embedded"`
	}
)

// LeadName is the name of the lead of in: who, then the marker
// ("Anna · salesbot dialog 12").
func LeadName(in domain.CRMLead) string {
	who := strings.TrimSpace(in.Name)
	if who == "" && in.Username != "" {
		who = "@" + strings.TrimPrefix(in.Username, "@")
	}
	if who == "" {
		return in.Marker
	}
	return who + " · " + in.Marker
}

// leadBody is the request body of CreateLead.
func (c *Client) leadBody(in domain.CRMLead) []complexLead {
	lead := complexLead{Name: LeadName(in), PipelineID: c.cfg.PipelineID, StatusID: c.cfg.StatusID, ResponsibleUserID: c.cfg.ResponsibleUserID}
	if in.HasPrice && in.Budget.Currency == c.cfg.Currency && in.Budget.Minor > 0 {
		// amoCRM's price is a whole amount in the account's currency.
		p := wholeAmount(in.Budget)
		lead.Price = &p
	}
	names := make([]string, 0, len(c.cfg.Fields))
	for name := range c.cfg.Fields {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if v := strings.TrimSpace(in.Fields[name]); v != "" {
			lead.CustomFieldsValues = append(lead.CustomFieldsValues, customField{FieldID: c.cfg.Fields[name], Values: []customValue{{Value: crm.Truncate(v, 256)}}})
		}
	}
	if c.cfg.MarkerFieldID > 0 && in.Marker != "" {
		lead.CustomFieldsValues = append(lead.CustomFieldsValues, customField{FieldID: c.cfg.MarkerFieldID, Values: []customValue{{Value: in.Marker}}})
	}
	if id, err := strconv.ParseInt(in.CRMContactID, 10, 64); err == nil && id > 0 {
		// The contact exists (an earlier dialog's): the lead is attached to it.
		lead.Embedded = complexEmbedded{Contacts: []complexContact{{ID: id}}, Tags: []tag{{Name: Tag}}}
		return []complexLead{lead}
	}
	contact := complexContact{Name: contactName(in), ResponsibleUserID: c.cfg.ResponsibleUserID}
	if in.Phone != "" {
		contact.CustomFieldsValues = append(contact.CustomFieldsValues, customField{FieldCode: "PHONE", Values: []customValue{{Value: in.Phone, EnumCode: "MOB"}}})
	}
	if c.cfg.TelegramFieldID > 0 && in.Username != "" {
		contact.CustomFieldsValues = append(contact.CustomFieldsValues, customField{FieldID: c.cfg.TelegramFieldID, Values: []customValue{{Value: "@" + strings.TrimPrefix(in.Username, "@")}}})
	}
	lead.Embedded = complexEmbedded{Contacts: []complexContact{contact}, Tags: []tag{{Name: Tag}}}
	return []complexLead{lead}
}

func contactName(in domain.CRMLead) string {
	if n := strings.TrimSpace(in.Name); n != "" {
		return n
	}
	if in.Username != "" {
		return "@" + strings.TrimPrefix(in.Username, "@")
	}
	return in.Marker
}

// wholeAmount is m rounded to a whole amount (half up).
func wholeAmount(m domain.Money) int64 {
	d := m.Decimal()
	whole, frac, _ := strings.Cut(d, ".")
	n, _ := strconv.ParseInt(whole, 10, 64)
	if frac != "" && frac[0] >= '5' {
		n++
	}
	return n
}

// CreateLead creates the contact and the lead of in together (POST
// /api/v4/leads/complex): the lead named by LeadName in the configured
// pipeline and status, its price from the budget when it is in the
// account's currency, the mapped qualification fields, the tag
// "salesbot"; the contact with the name, the phone and the Telegram
// username (Config.TelegramFieldID), or, when in.CRMContactID is set,
// the existing contact of that id. Errors: *StatusError (matching
// ErrUnauthorized, ErrRateLimited); the transport's. A transport error
// after the request was sent leaves it unknown whether the lead exists:
// FindLead tells.
func (c *Client) CreateLead(ctx context.Context, in domain.CRMLead) (domain.CRMIDs, error) {
	var out []complexResult
	if err := c.do(ctx, "create lead", http.MethodPost, "/api/v4/leads/complex", c.leadBody(in), &out); err != nil {
		return domain.CRMIDs{}, err
	}
	if len(out) != 1 || out[0].ID <= 0 {
		return domain.CRMIDs{}, fmt.Errorf("amocrm: create lead: %d leads in the answer, want 1", len(out))
	}
	ids := domain.CRMIDs{LeadID: strconv.FormatInt(out[0].ID, 10)}
	if out[0].ContactID != nil {
		ids.ContactID = strconv.FormatInt(*out[0].ContactID, 10)
	}
	c.log.Info("amocrm: lead created", "dialog", in.DialogN, "lead", ids.LeadID, "contact", ids.ContactID)
	return ids, nil
}

// FindLead finds the lead whose name ends with marker (LeadName) or whose
// marker field (Config.MarkerFieldID) holds it, by amoCRM's search (GET
// /api/v4/leads?query=marker&with=contacts); found is false when none
// does. amoCRM's search is full-text, so "salesbot dialog 1" also finds
// dialog 12's lead: each answer is checked exactly. The search index
// may lag a new lead by a few seconds.
func (c *Client) FindLead(ctx context.Context, marker string) (domain.CRMIDs, bool, error) {
	if strings.TrimSpace(marker) == "" {
		return domain.CRMIDs{}, false, errors.New("amocrm: find lead: no marker")
	}
	q := url.Values{"query": {marker}, "with": {"contacts"}, "limit": {"50"}}
	var out leadList
	if err := c.do(ctx, "find lead", http.MethodGet, "/api/v4/leads?"+q.Encode(), nil, &out); err != nil {
		return domain.CRMIDs{}, false, err
	}
	for _, l := range out.Embedded.Leads {
		match := l.Name == marker || strings.HasSuffix(l.Name, " "+marker)
		for _, f := range l.CustomFieldsValues {
			if c.cfg.MarkerFieldID > 0 && f.FieldID == c.cfg.MarkerFieldID {
				for _, v := range f.Values {
					if s, ok := v.Value.(string); ok && s == marker {
						match = true
					}
				}
			}
		}
		if !match {
			continue
		}
		ids := domain.CRMIDs{LeadID: strconv.FormatInt(l.ID, 10)}
		for i, ct := range l.Embedded.Contacts {
			if ct.IsMain || i == 0 {
				ids.ContactID = strconv.FormatInt(ct.ID, 10)
			}
		}
		return ids, true, nil
	}
	return domain.CRMIDs{}, false, nil
}

// AddNote adds text to lead leadID as common notes (POST
// /api/v4/leads/{id}/notes, note_type "common"), split at line ends into
// parts of at most MaxNote characters, all in one request. parts is how
// many notes were added. Errors as CreateLead's.
func (c *Client) AddNote(ctx context.Context, leadID, text string) (parts int, err error) {
	id, err := strconv.ParseInt(leadID, 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("amocrm: add note: lead id %q is not a number", leadID)
	}
	chunks := SplitNote(text, MaxNote)
	if len(chunks) == 0 {
		return 0, nil
	}
	body := make([]note, len(chunks))
	for i, ch := range chunks {
		body[i].NoteType = "common"
		body[i].Params.Text = ch
	}
	var out struct {
		Embedded struct {
			Notes []struct {
				ID int64 `json:"id"`
			} `json:"notes"`
		} `json:"_embedded"`
	}
	if err := c.do(ctx, "add note", http.MethodPost, "/api/v4/leads/"+strconv.FormatInt(id, 10)+"/notes", body, &out); err != nil {
		return 0, err
	}
	if len(out.Embedded.Notes) != len(chunks) {
		return 0, fmt.Errorf("amocrm: add note: %d notes in the answer, want %d", len(out.Embedded.Notes), len(chunks))
	}
	return len(chunks), nil
}

// SplitNote splits text into parts of at most max characters, at line
// ends where it can, else anywhere (never inside a UTF-8 character).
func SplitNote(text string, max int) []string { return crm.SplitText(text, max) }

// errorBody is amoCRM's error answer (application/problem+json).
type errorBody struct {
	Title            string `json:"title"`
	Detail           string `json:"detail"`
	Status           int    `json:"status"`
	ValidationErrors []struct {
		RequestID string `json:"request_id"`
		Errors    []struct {
			Code   string `json:"code"`
			Path   string `json:"path"`
			Detail string `json:"detail"`
		} `json:"errors"`
	} `json:"validation-errors"`
}

// do sends one request, paced by the limiter, retrying a 429 (and a 5xx
// of a GET), and decodes a 2xx answer's JSON into out (a 204 leaves it
// as it is).
func (c *Client) do(ctx context.Context, op, method, path string, in, out any) error {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return fmt.Errorf("amocrm: %s: %w", op, err)
		}
	}
	for attempt := 0; ; attempt++ {
		if err := c.limit.Wait(ctx); err != nil {
			return fmt.Errorf("amocrm: %s: %w", op, err)
		}
		resp, data, err := crm.Send(ctx, c.http, crm.Request{Method: method, URL: c.cfg.BaseURL + path, Body: body,
			Token: c.cfg.Token, UserAgent: "salesbot-amocrm/1", Prefix: "amocrm: " + op})
		if err != nil {
			return err
		}
		switch {
		case resp.StatusCode == http.StatusNoContent:
			return nil
		case resp.StatusCode >= 200 && resp.StatusCode < 300:
			if out != nil && len(data) > 0 {
				if err := json.Unmarshal(data, out); err != nil {
					return fmt.Errorf("amocrm: %s: HTTP %d: the answer does not read: %w", op, resp.StatusCode, err)
				}
			}
			return nil
		}
		retry := resp.StatusCode == http.StatusTooManyRequests || (resp.StatusCode >= 500 && method == http.MethodGet)
		if retry && attempt < c.retries {
			wait := retryAfter(resp.Header.Get("Retry-After"), attempt)
			c.log.Warn("amocrm: retrying", "op", op, "status", resp.StatusCode, "wait", wait, "attempt", attempt+1)
			if err := c.clock.Sleep(ctx, wait); err != nil {
				return fmt.Errorf("amocrm: %s: %w", op, err)
			}
			continue
		}
		return c.statusError(op, resp.StatusCode, data)
	}
}

func (c *Client) statusError(op string, status int, data []byte) error {
	e := &StatusError{Op: op, Status: status}
	var b errorBody
	if json.Unmarshal(data, &b) == nil {
		e.Detail = redact.String(crm.Truncate(b.Detail, 300), c.cfg.Token.Reveal())
		for _, v := range b.ValidationErrors {
			for _, ve := range v.Errors {
				e.Validation = append(e.Validation, redact.String(crm.Truncate(ve.Path+": "+ve.Detail, 300), c.cfg.Token.Reveal()))
			}
		}
	}
	return e
}

// retryAfter is how long to wait before retry attempt+1: the answer's
// Retry-After seconds (at most a minute), else 1, 2, 4, 8 s.
func retryAfter(v string, attempt int) time.Duration {
	if d, ok := crm.RetryAfter(v); ok {
		return d
	}
	return crm.Backoff(attempt)
}
