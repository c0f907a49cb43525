package hubspot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
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
const Name = "hubspot"

// HubSpot's default association types (HUBSPOT_DEFINED) used here.
const (
	AssocDealToContact = 3   // deal → contact
	AssocNoteToDeal    = 214 // note → deal
)

// MaxNote is the longest note part the connector writes, in characters
// of the transcript; a longer transcript is split at line ends into
// several notes. A note's body (hs_note_body) is HTML of at most 65,536
// characters: 12,000 characters escaped stay under it.
const MaxNote = 12000

// Errors. A failed request is a *StatusError (the operation, the HTTP
// status and HubSpot's error body) that matches ErrUnauthorized for 401,
// ErrRateLimited for a 429 that outlasted the retries (or a daily
// limit) and ErrNotFound for 404.
var (
	ErrUnauthorized = errors.New("hubspot: unauthorized: check the private app's token")
	ErrRateLimited  = errors.New("hubspot: rate limited")
	ErrNotFound     = errors.New("hubspot: not found")
)

// StatusError is HubSpot's answer to a failed request: the operation
// ("create deal", "add note", "find lead", ...), the HTTP status and
// HubSpot's error body ({"status": "error", "message", "correlationId",
// "category"}; a 429's "policyName").
type StatusError struct {
	Op            string
	Status        int
	Message       string
	Category      string // VALIDATION_ERROR, INVALID_AUTHENTICATION, MISSING_SCOPES, OBJECT_NOT_FOUND, RATE_LIMITS, ...
	CorrelationID string // for HubSpot's support
	Policy        string // a 429's policyName: TEN_SECONDLY_ROLLING, SECONDLY, DAILY
}

func (e *StatusError) Error() string {
	msg := fmt.Sprintf("hubspot: %s: HTTP %d", e.Op, e.Status)
	if e.Category != "" {
		msg += " " + e.Category
	}
	if e.Policy != "" {
		msg += " " + e.Policy
	}
	if e.Message != "" {
		msg += ": " + e.Message
	}
	if e.CorrelationID != "" {
		msg += " (correlation id " + e.CorrelationID + ")"
	}
	return msg
}

// Is matches ErrUnauthorized for 401, ErrRateLimited for 429 and
// ErrNotFound for 404.
func (e *StatusError) Is(target error) bool {
	return (target == ErrUnauthorized && e.Status == http.StatusUnauthorized) ||
		(target == ErrRateLimited && e.Status == http.StatusTooManyRequests) ||
		(target == ErrNotFound && e.Status == http.StatusNotFound)
}

// Clock is the time the client backs off by and stamps notes with.
type Clock = crm.Clock

// Options are the client's parts; the zero value is production's.
type Options struct {
	HTTP   *http.Client // default: a client with a 30 s timeout
	Clock  Clock        // default: the real clock
	Logger *slog.Logger // default: discard
	// Retries is how many times a 429 (any request but a daily limit's)
	// or a 5xx (a read or a search) is retried (default 4), waiting
	// Retry-After, else the rate limit's interval, else 1, 2, 4, 8 s.
	Retries int
}

// Client talks to one HubSpot account. It is safe for concurrent use.
type Client struct {
	cfg     Config
	http    *http.Client
	clock   Clock
	log     *slog.Logger
	retries int
}

// New returns a client for cfg (as Load returns it).
func New(cfg Config, opt Options) (*Client, error) {
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	if err := checkBaseURL(cfg.BaseURL); err != nil {
		return nil, fmt.Errorf("%w: base_url %s", ErrConfig, err.Error())
	}
	if cfg.Token.Empty() {
		return nil, fmt.Errorf("%w: no token", ErrConfig)
	}
	if cfg.Pipeline == "" || cfg.DealStage == "" {
		return nil, fmt.Errorf("%w: no pipeline or dealstage", ErrConfig)
	}
	if cfg.Currency == "" {
		cfg.Currency = "USD"
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	p := crm.Parts{HTTP: opt.HTTP, Clock: opt.Clock, Logger: opt.Logger, Retries: opt.Retries}.WithDefaults()
	c := &Client{cfg: cfg, http: p.HTTP, clock: p.Clock, log: p.Logger, retries: p.Retries}
	return c, nil
}

// Name is "hubspot".
func (c *Client) Name() string { return Name }

// The shapes of CRM v3 (only the fields we send and read).
type (
	assocType struct {
		Category string `json:"associationCategory"`
		TypeID   int    `json:"associationTypeId"`
	}
	association struct {
		To struct {
			ID string `json:"id"`
		} `json:"to"`
		Types []assocType `json:"types"`
	}
	createInput struct {
		Properties   map[string]string `json:"properties"`
		Associations []association     `json:"associations,omitempty"`
	}
	object struct {
		ID           string             `json:"id"`
		Properties   map[string]*string `json:"properties"`
		Archived     bool               `json:"archived"`
		Associations map[string]struct {
			Results []struct {
				ID   string `json:"id"`
				Type string `json:"type"`
			} `json:"results"`
		} `json:"associations"`
	}
	filter struct {
		PropertyName string `json:"propertyName"`
		Operator     string `json:"operator"`
		Value        string `json:"value"`
	}
	filterGroup struct {
		Filters []filter `json:"filters"`
	}
	searchInput struct {
		FilterGroups []filterGroup `json:"filterGroups"`
		Properties   []string      `json:"properties"`
		Limit        int           `json:"limit"`
	}
	searchResult struct {
		Total   int      `json:"total"`
		Results []object `json:"results"`
	}
)

func assoc(id string, typeID int) association {
	var a association
	a.To.ID = id
	a.Types = []assocType{{Category: "HUBSPOT_DEFINED", TypeID: typeID}}
	return a
}

// DealName is the name of the deal of in: who, then the marker
// ("Anna · salesbot dialog 12").
func DealName(in domain.CRMLead) string {
	who := strings.TrimSpace(in.Name)
	if who == "" && in.Username != "" {
		who = "@" + strings.TrimPrefix(in.Username, "@")
	}
	if who == "" {
		return in.Marker
	}
	return who + " · " + in.Marker
}

// mapped adds in's qualification fields mapped by m to props.
func mapped(props map[string]string, m map[string]string, fields map[string]string) {
	names := make([]string, 0, len(m))
	for name := range m {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if v := strings.TrimSpace(fields[name]); v != "" {
			props[m[name]] = crm.Truncate(v, 1000)
		}
	}
}

// dealProperties are the properties of the deal of in.
func (c *Client) dealProperties(in domain.CRMLead) map[string]string {
	p := map[string]string{}
	mapped(p, c.cfg.DealProperties, in.Fields)
	p["dealname"] = DealName(in)
	p["pipeline"] = c.cfg.Pipeline
	p["dealstage"] = c.cfg.DealStage
	if in.HasPrice && in.Budget.Currency == c.cfg.Currency && in.Budget.Minor > 0 {
		p["amount"] = in.Budget.Decimal()
	}
	if c.cfg.OwnerID != "" {
		p["hubspot_owner_id"] = c.cfg.OwnerID
	}
	if c.cfg.MarkerProperty != "" && in.Marker != "" {
		p[c.cfg.MarkerProperty] = in.Marker
	}
	return p
}

// contactProperties are the properties of the contact of in.
func (c *Client) contactProperties(in domain.CRMLead) map[string]string {
	p := map[string]string{}
	mapped(p, c.cfg.ContactProperties, in.Fields)
	first, last, _ := strings.Cut(strings.TrimSpace(in.Name), " ")
	switch {
	case first != "":
		p["firstname"] = first
		if last = strings.TrimSpace(last); last != "" {
			p["lastname"] = last
		}
	case in.Username != "":
		p["firstname"] = "@" + strings.TrimPrefix(in.Username, "@")
	default:
		p["firstname"] = in.Marker
	}
	if in.Phone != "" {
		p["phone"] = in.Phone
	}
	if c.cfg.TelegramProperty != "" && in.Username != "" {
		p[c.cfg.TelegramProperty] = "@" + strings.TrimPrefix(in.Username, "@")
	}
	if c.cfg.OwnerID != "" {
		p["hubspot_owner_id"] = c.cfg.OwnerID
	}
	return p
}

// CreateLead creates the contact of in (POST /crm/v3/objects/contacts),
// then its deal associated with it (POST /crm/v3/objects/deals, deal →
// contact type AssocDealToContact): the deal named by DealName in the
// configured pipeline and stage, its amount from the budget when it is
// in the account's currency, the mapped qualification properties; the
// contact with the name (firstname, lastname), the phone, the mapped
// properties and the Telegram username (Config.TelegramProperty).
// When in.CRMContactID is set the deal is associated with that contact
// and none is created; when Config.TelegramProperty is set a contact
// with the same username is searched for first and reused (so a retry
// after a lost answer creates no second contact; HubSpot's search may
// lag a new contact by seconds). Errors: *StatusError (matching
// ErrUnauthorized, ErrRateLimited); the transport's. An error after the
// deal's request was sent leaves it unknown whether the deal exists:
// FindLead tells.
func (c *Client) CreateLead(ctx context.Context, in domain.CRMLead) (domain.CRMIDs, error) {
	contactID := in.CRMContactID
	if contactID == "" && c.cfg.TelegramProperty != "" && in.Username != "" {
		id, found, err := c.findOne(ctx, "find contact", "contacts", c.cfg.TelegramProperty, "@"+strings.TrimPrefix(in.Username, "@"))
		if err != nil {
			return domain.CRMIDs{}, err
		}
		if found {
			contactID = id
		}
	}
	if contactID == "" {
		var ct object
		if err := c.do(ctx, "create contact", http.MethodPost, "/crm/v3/objects/contacts", false, createInput{Properties: c.contactProperties(in)}, &ct); err != nil {
			return domain.CRMIDs{}, err
		}
		if ct.ID == "" {
			return domain.CRMIDs{}, errors.New("hubspot: create contact: no id in the answer")
		}
		contactID = ct.ID
	}
	var deal object
	body := createInput{Properties: c.dealProperties(in), Associations: []association{assoc(contactID, AssocDealToContact)}}
	if err := c.do(ctx, "create deal", http.MethodPost, "/crm/v3/objects/deals", false, body, &deal); err != nil {
		return domain.CRMIDs{ContactID: contactID}, err
	}
	if deal.ID == "" {
		return domain.CRMIDs{ContactID: contactID}, errors.New("hubspot: create deal: no id in the answer")
	}
	c.log.Info("hubspot: deal created", "dialog", in.DialogN, "deal", deal.ID, "contact", contactID)
	return domain.CRMIDs{ContactID: contactID, LeadID: deal.ID}, nil
}

// findOne searches objects ("contacts", "deals") for one whose property
// equals value exactly.
func (c *Client) findOne(ctx context.Context, op, objects, property, value string) (string, bool, error) {
	in := searchInput{FilterGroups: []filterGroup{{Filters: []filter{{PropertyName: property, Operator: "EQ", Value: value}}}},
		Properties: []string{property}, Limit: 10}
	var out searchResult
	if err := c.do(ctx, op, http.MethodPost, "/crm/v3/objects/"+objects+"/search", true, in, &out); err != nil {
		return "", false, err
	}
	for _, o := range out.Results {
		if v := o.Properties[property]; v != nil && *v == value && o.ID != "" {
			return o.ID, true, nil
		}
	}
	return "", false, nil
}

// FindLead finds the deal that carries marker: its name ends with it
// (DealName) or its marker property (Config.MarkerProperty) holds it,
// by HubSpot's search (POST /crm/v3/objects/deals/search: EQ on the
// marker property, else CONTAINS_TOKEN on dealname, each answer checked
// exactly); then its contact (GET /crm/v3/objects/deals/{id}
// ?associations=contacts). found is false when no deal carries it.
// HubSpot's search is eventually consistent: a deal created a few
// seconds ago may not be found yet.
func (c *Client) FindLead(ctx context.Context, marker string) (domain.CRMIDs, bool, error) {
	if strings.TrimSpace(marker) == "" {
		return domain.CRMIDs{}, false, errors.New("hubspot: find lead: no marker")
	}
	f := filter{PropertyName: "dealname", Operator: "CONTAINS_TOKEN", Value: marker}
	props := []string{"dealname"}
	if c.cfg.MarkerProperty != "" {
		f = filter{PropertyName: c.cfg.MarkerProperty, Operator: "EQ", Value: marker}
		props = append(props, c.cfg.MarkerProperty)
	}
	var out searchResult
	in := searchInput{FilterGroups: []filterGroup{{Filters: []filter{f}}}, Properties: props, Limit: 50}
	if err := c.do(ctx, "find lead", http.MethodPost, "/crm/v3/objects/deals/search", true, in, &out); err != nil {
		return domain.CRMIDs{}, false, err
	}
	for _, o := range out.Results {
		match := false
		if v := o.Properties["dealname"]; v != nil {
			match = *v == marker || strings.HasSuffix(*v, " "+marker)
		}
		if c.cfg.MarkerProperty != "" {
			if v := o.Properties[c.cfg.MarkerProperty]; v != nil && *v == marker {
				match = true
			}
		}
		if !match || o.ID == "" {
			continue
		}
		ids := domain.CRMIDs{LeadID: o.ID}
		var deal object
		if err := c.do(ctx, "find lead", http.MethodGet, "/crm/v3/objects/deals/"+url.PathEscape(o.ID)+"?associations=contacts", true, nil, &deal); err != nil {
			return domain.CRMIDs{}, false, err
		}
		if cs, ok := deal.Associations["contacts"]; ok && len(cs.Results) > 0 {
			ids.ContactID = cs.Results[0].ID
		}
		return ids, true, nil
	}
	return domain.CRMIDs{}, false, nil
}

// AddNote adds text to deal dealID as notes (POST /crm/v3/objects/notes,
// hs_note_body as HTML, hs_timestamp now, note → deal type
// AssocNoteToDeal), split at line ends into parts of at most MaxNote
// characters, one request each. parts is how many notes were added.
// Errors as CreateLead's; after an error, the parts before it exist.
func (c *Client) AddNote(ctx context.Context, dealID, text string) (parts int, err error) {
	if !internalID.MatchString(dealID) {
		return 0, fmt.Errorf("hubspot: add note: deal id %q is not an id", dealID)
	}
	for i, ch := range SplitNote(text, MaxNote) {
		body := createInput{
			Properties:   map[string]string{"hs_note_body": NoteHTML(ch), "hs_timestamp": c.clock.Now().UTC().Format("2006-01-02T15:04:05.000Z")},
			Associations: []association{assoc(dealID, AssocNoteToDeal)},
		}
		var out object
		if err := c.do(ctx, "add note", http.MethodPost, "/crm/v3/objects/notes", false, body, &out); err != nil {
			return i, err
		}
		if out.ID == "" {
			return i, errors.New("hubspot: add note: no id in the answer")
		}
		parts++
	}
	return parts, nil
}

// Deal is what the webhook reads of a deal.
type Deal struct {
	ID       string
	Stage    string // dealstage
	Amount   string // a decimal, "" when none
	Currency string // deal_currency_code, "" when none
}

// Deal reads deal id (GET /crm/v3/objects/deals/{id}?properties=
// dealstage,amount,deal_currency_code). Errors: ErrNotFound (a *StatusError)
// for a deal that does not exist (or was deleted); as CreateLead's.
func (c *Client) Deal(ctx context.Context, id string) (Deal, error) {
	if !internalID.MatchString(id) {
		return Deal{}, fmt.Errorf("hubspot: read deal: id %q is not an id", id)
	}
	var out object
	q := url.Values{"properties": {"dealstage,amount,deal_currency_code"}}
	if err := c.do(ctx, "read deal", http.MethodGet, "/crm/v3/objects/deals/"+id+"?"+q.Encode(), true, nil, &out); err != nil {
		return Deal{}, err
	}
	d := Deal{ID: out.ID}
	get := func(k string) string {
		if v := out.Properties[k]; v != nil {
			return strings.TrimSpace(*v)
		}
		return ""
	}
	d.Stage, d.Amount, d.Currency = get("dealstage"), get("amount"), get("deal_currency_code")
	return d, nil
}

// NoteHTML is text as a note's HTML body: escaped, lines joined by <br>.
func NoteHTML(text string) string {
	return strings.ReplaceAll(html.EscapeString(text), "\n", "<br>")
}

// SplitNote splits text into parts of at most max characters, at line
// ends where it can, else anywhere (never inside a UTF-8 character).
func SplitNote(text string, max int) []string { return crm.SplitText(text, max) }

// errorBody is HubSpot's error answer.
type errorBody struct {
	Status        string `json:"status"`
	Message       string `json:"message"`
	CorrelationID string `json:"correlationId"`
	Category      string `json:"category"`
	ErrorType     string `json:"errorType"`
	PolicyName    string `json:"policyName"`
}

// do sends one request, retrying a 429 (not a daily limit's) and, when
// safe is set (a read or a search), a 5xx, and decodes a 2xx answer's
// JSON into out. A create is not safe: a 5xx or a lost answer may hide
// a success, which FindLead finds.
func (c *Client) do(ctx context.Context, op, method, path string, safe bool, in, out any) error {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return fmt.Errorf("hubspot: %s: %w", op, err)
		}
	}
	for attempt := 0; ; attempt++ {
		resp, data, err := crm.Send(ctx, c.http, crm.Request{Method: method, URL: c.cfg.BaseURL + path, Body: body,
			Token: c.cfg.Token, UserAgent: "salesbot-hubspot/1", Prefix: "hubspot: " + op})
		if err != nil {
			return err
		}
		if resp.StatusCode >= 200 && resp.StatusCode < 300 {
			if out != nil && len(data) > 0 && resp.StatusCode != http.StatusNoContent {
				if err := json.Unmarshal(data, out); err != nil {
					return fmt.Errorf("hubspot: %s: HTTP %d: the answer does not read: %w", op, resp.StatusCode, err)
				}
			}
			return nil
		}
		serr := c.statusError(op, resp.StatusCode, data)
		retry := (resp.StatusCode == http.StatusTooManyRequests && serr.Policy != "DAILY") || (resp.StatusCode >= 500 && safe)
		if retry && attempt < c.retries {
			wait := backoff(resp.Header, attempt)
			c.log.Warn("hubspot: retrying", "op", op, "status", resp.StatusCode, "policy", serr.Policy, "wait", wait, "attempt", attempt+1)
			if err := c.clock.Sleep(ctx, wait); err != nil {
				return fmt.Errorf("hubspot: %s: %w", op, err)
			}
			continue
		}
		return serr
	}
}

func (c *Client) statusError(op string, status int, data []byte) *StatusError {
	e := &StatusError{Op: op, Status: status}
	var b errorBody
	if json.Unmarshal(data, &b) == nil {
		tok := c.cfg.Token.Reveal()
		e.Message = redact.String(crm.Truncate(b.Message, 300), tok)
		e.Category = redact.String(crm.Truncate(b.Category, 60), tok)
		if e.Category == "" && b.ErrorType != "" {
			e.Category = redact.String(crm.Truncate(b.ErrorType, 60), tok)
		}
		e.CorrelationID = redact.String(crm.Truncate(b.CorrelationID, 60), tok)
		e.Policy = redact.String(crm.Truncate(b.PolicyName, 60), tok)
	}
	return e
}

// backoff is how long to wait before retry attempt+1: Retry-After
// seconds (at most a minute); else, for a rate limit, its interval
// (X-HubSpot-RateLimit-Interval-Milliseconds, at most a minute); else 1,
// 2, 4, 8 s.
func backoff(h http.Header, attempt int) time.Duration {
	if d, ok := crm.RetryAfter(h.Get("Retry-After")); ok {
		return d
	}
	if ms, err := strconv.Atoi(strings.TrimSpace(h.Get("X-HubSpot-RateLimit-Interval-Milliseconds"))); err == nil && ms > 0 &&
		h.Get("X-HubSpot-RateLimit-Remaining") == "0" {
		return min(time.Duration(ms)*time.Millisecond, time.Minute)
	}
	return crm.Backoff(attempt)
}
