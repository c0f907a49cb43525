package bitrix24

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/salesbot/salesbot/adapters/crm"
	"github.com/salesbot/salesbot/adapters/redact"
	"github.com/salesbot/salesbot/domain"
)

// Name is the CRM's name in the log's links (domain.CRMLeadLinked.CRM).
// A link's lead id is the lead's id in mode "lead", the deal's in mode
// "deal": a portal keeps its mode.
const Name = "bitrix24"

// MaxComment is the longest timeline comment the connector writes, in
// characters; a longer transcript is split at line ends into several
// comments, one request each.
const MaxComment = 4000

// Errors. A failed request is a *StatusError (the method, the HTTP
// status, Bitrix24's error code) that matches ErrUnauthorized (401,
// expired_token, INVALID_CREDENTIALS, NO_AUTH_FOUND), ErrRateLimited
// (QUERY_LIMIT_EXCEEDED that outlasted the retries) and ErrNotFound
// (crm.deal.get of a deal that is not there).
var (
	ErrUnauthorized = errors.New("bitrix24: unauthorized: check the inbound webhook's URL and its permissions (crm)")
	ErrRateLimited  = errors.New("bitrix24: rate limited (QUERY_LIMIT_EXCEEDED)")
	ErrNotFound     = errors.New("bitrix24: not found")
)

// StatusError is Bitrix24's answer to a failed call: the method
// ("crm.lead.add"), the portal's host, the HTTP status, Bitrix24's error
// code and description.
type StatusError struct {
	Method      string
	Host        string
	Status      int
	Code        string
	Description string
}

func (e *StatusError) Error() string {
	msg := fmt.Sprintf("bitrix24: %s on %s: HTTP %d", e.Method, e.Host, e.Status)
	if e.Code != "" {
		msg += ": " + e.Code
	}
	if e.Description != "" {
		msg += ": " + e.Description
	}
	return msg
}

// Is matches ErrUnauthorized, ErrRateLimited and ErrNotFound (see the
// var block).
func (e *StatusError) Is(target error) bool {
	switch target {
	case ErrUnauthorized:
		return e.Status == http.StatusUnauthorized || e.Code == "expired_token" || e.Code == "invalid_token" ||
			e.Code == "INVALID_CREDENTIALS" || e.Code == "NO_AUTH_FOUND"
	case ErrRateLimited:
		return e.Code == "QUERY_LIMIT_EXCEEDED"
	case ErrNotFound:
		return e.Code == "NOT_FOUND" || strings.EqualFold(strings.TrimSpace(e.Description), "Not found")
	}
	return false
}

// Clock is the time the client paces and backs off by.
type Clock = crm.Clock

// Options are the client's parts; the zero value is production's.
type Options struct {
	HTTP   *http.Client // default: a client with a 30 s timeout
	Clock  Clock        // default: the real clock
	Logger *slog.Logger // default: discard
	// Rate and Burst are the leaky bucket's (default 2 a second, 10).
	Rate  float64
	Burst int
	// Retries is how many times QUERY_LIMIT_EXCEEDED (any call) or a 5xx
	// or a lost answer (a read: *.list, *.get) is retried (default 4),
	// waiting 1, 2, 4, 8 s.
	Retries int
}

// Client talks to one Bitrix24 portal through an inbound webhook. It is
// safe for concurrent use.
type Client struct {
	cfg     Config
	host    string
	http    *http.Client
	clock   Clock
	log     *slog.Logger
	limit   *Limiter
	retries int
}

// New returns a client for cfg (as Load returns it; Mode "" is lead).
// Errors match ErrConfig.
func New(cfg Config, opt Options) (*Client, error) {
	if cfg.Mode == "" {
		cfg.Mode = ModeLead
	}
	cfg.Portal = strings.TrimRight(cfg.Portal, "/")
	if err := cfg.check(); err != nil {
		return nil, err
	}
	u, _ := url.Parse(cfg.Portal)
	p := crm.Parts{HTTP: opt.HTTP, Clock: opt.Clock, Logger: opt.Logger, Retries: opt.Retries}.WithDefaults()
	c := &Client{cfg: cfg, host: u.Host, http: p.HTTP, clock: p.Clock, log: p.Logger, retries: p.Retries}
	burst := opt.Burst
	if burst <= 0 {
		burst = 10
	}
	c.limit = NewLimiter(opt.Rate, burst, c.clock)
	return c, nil
}

// Name is "bitrix24".
func (c *Client) Name() string { return Name }

// Mode is the client's mode.
func (c *Client) Mode() Mode { return c.cfg.Mode }

// entityType is the timeline's ENTITY_TYPE of the client's items.
func (c *Client) entityType() string {
	if c.cfg.Mode == ModeDeal {
		return "deal"
	}
	return "lead"
}

// Title is the title of the lead or deal of in: who, then the marker
// ("Anna · salesbot dialog 12").
func Title(in domain.CRMLead) string {
	who := strings.TrimSpace(in.Name)
	if who == "" && in.Username != "" {
		who = "@" + strings.TrimPrefix(in.Username, "@")
	}
	if who == "" {
		return in.Marker
	}
	return who + " · " + in.Marker
}

type multiField struct {
	Value     string `json:"VALUE"`
	ValueType string `json:"VALUE_TYPE"`
}

// addBody is the body of crm.lead.add, crm.contact.add, crm.deal.add.
type addBody struct {
	Fields map[string]any    `json:"fields"`
	Params map[string]string `json:"params"`
}

func newAdd(fields map[string]any) addBody {
	return addBody{Fields: fields, Params: map[string]string{"REGISTER_SONET_EVENT": "Y"}}
}

// contactFields are a person's fields (a lead's or a contact's).
func (c *Client) contactFields(in domain.CRMLead, f map[string]any) {
	f["NAME"] = contactName(in)
	if in.Phone != "" {
		f["PHONE"] = []multiField{{Value: in.Phone, ValueType: "MOBILE"}}
	}
	if in.Username != "" {
		f["IM"] = []multiField{{Value: "@" + strings.TrimPrefix(in.Username, "@"), ValueType: "TELEGRAM"}}
	}
}

// itemFields are the fields a lead and a deal share: the title, the
// amount, the source, the manager, the mapped qualification fields and
// the marker field.
func (c *Client) itemFields(in domain.CRMLead) map[string]any {
	f := map[string]any{"TITLE": Title(in)}
	if in.HasPrice && in.Budget.Minor > 0 {
		f["OPPORTUNITY"] = json.Number(in.Budget.Decimal())
		f["CURRENCY_ID"] = in.Budget.Currency
	}
	if c.cfg.SourceID != "" {
		f["SOURCE_ID"] = c.cfg.SourceID
	}
	if c.cfg.AssignedByID > 0 {
		f["ASSIGNED_BY_ID"] = c.cfg.AssignedByID
	}
	names := make([]string, 0, len(c.cfg.Fields))
	for name := range c.cfg.Fields {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if v := strings.TrimSpace(in.Fields[name]); v != "" {
			f[c.cfg.Fields[name]] = crm.Truncate(v, 255)
		}
	}
	if c.cfg.MarkerField != "" && in.Marker != "" {
		f[c.cfg.MarkerField] = in.Marker
	}
	return f
}

// LeadBody is the body of crm.lead.add for in (mode "lead").
func (c *Client) LeadBody(in domain.CRMLead) any {
	f := c.itemFields(in)
	c.contactFields(in, f)
	if c.cfg.StatusID != "" {
		f["STATUS_ID"] = c.cfg.StatusID
	}
	if id, ok := positive(in.CRMContactID); ok {
		f["CONTACT_ID"] = id
	}
	return newAdd(f)
}

// ContactBody is the body of crm.contact.add for in (mode "deal").
func (c *Client) ContactBody(in domain.CRMLead) any {
	f := map[string]any{}
	c.contactFields(in, f)
	if c.cfg.SourceID != "" {
		f["SOURCE_ID"] = c.cfg.SourceID
	}
	if c.cfg.AssignedByID > 0 {
		f["ASSIGNED_BY_ID"] = c.cfg.AssignedByID
	}
	return newAdd(f)
}

// DealBody is the body of crm.deal.add for in with the contact
// contactID (mode "deal").
func (c *Client) DealBody(in domain.CRMLead, contactID int64) any {
	f := c.itemFields(in)
	f["CONTACT_ID"] = contactID
	f["CATEGORY_ID"] = c.cfg.CategoryID
	if c.cfg.StageID != "" {
		f["STAGE_ID"] = c.cfg.StageID
	}
	return newAdd(f)
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

func positive(s string) (int64, bool) {
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil && n > 0
}

// CreateLead creates in's lead (mode "lead": crm.lead.add, with the
// contact's name, phone and Telegram in it, and CONTACT_ID when
// in.CRMContactID names an earlier dialog's contact) or in's contact and
// deal (mode "deal": crm.contact.add unless in.CRMContactID is set, then
// crm.deal.add with CONTACT_ID, CATEGORY_ID and STAGE_ID). Titles are
// Title(in); OPPORTUNITY and CURRENCY_ID come from the budget when it
// reads as money. Errors: *StatusError (matching ErrUnauthorized,
// ErrRateLimited); the transport's. A lost answer leaves it unknown
// whether the item exists: FindLead tells (the create is not retried).
// In mode "deal", a deal that fails after its contact was created leaves
// that contact behind; the next attempt creates another.
func (c *Client) CreateLead(ctx context.Context, in domain.CRMLead) (domain.CRMIDs, error) {
	if c.cfg.Mode == ModeLead {
		id, err := c.add(ctx, "crm.lead.add", c.LeadBody(in))
		if err != nil {
			return domain.CRMIDs{}, err
		}
		ids := domain.CRMIDs{LeadID: strconv.FormatInt(id, 10)}
		if cid, ok := positive(in.CRMContactID); ok {
			ids.ContactID = strconv.FormatInt(cid, 10)
		}
		c.log.Info("bitrix24: lead created", "portal", c.host, "dialog", in.DialogN, "lead", ids.LeadID)
		return ids, nil
	}
	contactID, ok := positive(in.CRMContactID)
	if !ok {
		var err error
		if contactID, err = c.add(ctx, "crm.contact.add", c.ContactBody(in)); err != nil {
			return domain.CRMIDs{}, err
		}
		c.log.Info("bitrix24: contact created", "portal", c.host, "dialog", in.DialogN, "contact", contactID)
	}
	deal, err := c.add(ctx, "crm.deal.add", c.DealBody(in, contactID))
	if err != nil {
		return domain.CRMIDs{}, err
	}
	ids := domain.CRMIDs{LeadID: strconv.FormatInt(deal, 10), ContactID: strconv.FormatInt(contactID, 10)}
	c.log.Info("bitrix24: deal created", "portal", c.host, "dialog", in.DialogN, "deal", ids.LeadID, "contact", ids.ContactID)
	return ids, nil
}

// add calls an *.add method and reads the new id.
func (c *Client) add(ctx context.Context, method string, body any) (int64, error) {
	var id flexInt
	if err := c.call(ctx, method, false, body, &id); err != nil {
		return 0, err
	}
	if id <= 0 {
		return 0, fmt.Errorf("bitrix24: %s on %s: no id in the answer", method, c.host)
	}
	return int64(id), nil
}

// flexInt reads an id Bitrix24 gives as a number or a numeric string.
type flexInt int64

func (n *flexInt) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if s == "" || s == "null" {
		*n = 0
		return nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("not an id: %.20q", s)
	}
	*n = flexInt(v)
	return nil
}

// FindLead finds the lead (mode "lead") or deal (mode "deal") whose
// title ends with marker (Title) or whose marker field
// (Config.MarkerField) holds it: crm.lead.list / crm.deal.list filtered
// by the marker field when one is configured, then by the title
// containing the marker ("%TITLE"). "salesbot dialog 1" is contained in
// dialog 12's title too: each answer is checked exactly. found is false
// when none matches.
func (c *Client) FindLead(ctx context.Context, marker string) (domain.CRMIDs, bool, error) {
	if strings.TrimSpace(marker) == "" {
		return domain.CRMIDs{}, false, errors.New("bitrix24: find lead: no marker")
	}
	method := "crm." + c.entityType() + ".list"
	selectFields := []string{"ID", "TITLE", "CONTACT_ID"}
	if c.cfg.MarkerField != "" {
		selectFields = append(selectFields, c.cfg.MarkerField)
	}
	filters := []map[string]string{{"%TITLE": marker}}
	if c.cfg.MarkerField != "" {
		filters = append([]map[string]string{{"=" + c.cfg.MarkerField: marker}}, filters...)
	}
	for _, filter := range filters {
		var items []map[string]json.RawMessage
		body := map[string]any{"filter": filter, "select": selectFields, "order": map[string]string{"ID": "ASC"}}
		if err := c.call(ctx, method, true, body, &items); err != nil {
			return domain.CRMIDs{}, false, err
		}
		for _, it := range items {
			var id, contact flexInt
			var title, field string
			_ = json.Unmarshal(it["ID"], &id)
			_ = json.Unmarshal(it["CONTACT_ID"], &contact)
			_ = json.Unmarshal(it["TITLE"], &title)
			if c.cfg.MarkerField != "" {
				_ = json.Unmarshal(it[c.cfg.MarkerField], &field)
			}
			if id <= 0 || (title != marker && !strings.HasSuffix(title, " "+marker) && field != marker) {
				continue
			}
			ids := domain.CRMIDs{LeadID: strconv.FormatInt(int64(id), 10)}
			if contact > 0 {
				ids.ContactID = strconv.FormatInt(int64(contact), 10)
			}
			return ids, true, nil
		}
	}
	return domain.CRMIDs{}, false, nil
}

// AddNote adds text to the lead or deal leadID as timeline comments
// (crm.timeline.comment.add, ENTITY_TYPE "lead" or "deal"), split at
// line ends into parts of at most MaxComment characters, one request
// each. parts is how many were added. A failure after some parts leaves
// them there (the next attempt adds them all again). Errors as
// CreateLead's.
func (c *Client) AddNote(ctx context.Context, leadID, text string) (parts int, err error) {
	id, ok := positive(leadID)
	if !ok {
		return 0, fmt.Errorf("bitrix24: add comment: %s id %q is not a number", c.entityType(), leadID)
	}
	chunks := SplitComment(text, MaxComment)
	for _, ch := range chunks {
		body := map[string]any{"fields": map[string]any{"ENTITY_ID": id, "ENTITY_TYPE": c.entityType(), "COMMENT": ch}}
		if _, err := c.add(ctx, "crm.timeline.comment.add", body); err != nil {
			return 0, err
		}
	}
	return len(chunks), nil
}

// Deal is what crm.deal.get tells of a deal.
type Deal struct {
	ID       int64
	StageID  string // "WON", "C3:LOSE", ...
	Semantic string // STAGE_SEMANTIC_ID: "P" in progress, "S" success (won), "F" failure (lost)
	Amount   string // OPPORTUNITY, a decimal ("175000.00"; "" or "0.00" when none)
	Currency string // CURRENCY_ID
}

// GetDeal reads deal id (crm.deal.get). Errors: *StatusError (matching
// ErrNotFound for a deal that is not there, ErrUnauthorized, ...); the
// transport's.
func (c *Client) GetDeal(ctx context.Context, id int64) (Deal, error) {
	var out struct {
		ID          flexInt `json:"ID"`
		StageID     string  `json:"STAGE_ID"`
		Semantic    string  `json:"STAGE_SEMANTIC_ID"`
		Opportunity any     `json:"OPPORTUNITY"`
		CurrencyID  string  `json:"CURRENCY_ID"`
	}
	if err := c.call(ctx, "crm.deal.get", true, map[string]any{"id": id}, &out); err != nil {
		return Deal{}, err
	}
	if int64(out.ID) != id {
		return Deal{}, fmt.Errorf("bitrix24: crm.deal.get on %s: deal %d: the answer is another deal's", c.host, id)
	}
	d := Deal{ID: id, StageID: out.StageID, Semantic: out.Semantic, Currency: out.CurrencyID}
	switch v := out.Opportunity.(type) {
	case string:
		d.Amount = v
	case float64:
		d.Amount = strconv.FormatFloat(v, 'f', -1, 64)
	}
	return d, nil
}

// SplitComment splits text into parts of at most max characters, at
// line ends where it can, else anywhere (never inside a UTF-8
// character).
func SplitComment(text string, max int) []string { return crm.SplitText(text, max) }

// envelope is every answer of Bitrix24's REST: the result, or an error.
type envelope struct {
	Result           json.RawMessage `json:"result"`
	Error            string          `json:"error"`
	ErrorDescription string          `json:"error_description"`
}

// call calls method (POST JSON to <portal>/rest/<user>/<code>/<method>.json),
// paced by the limiter, and decodes the answer's result into out. It
// retries QUERY_LIMIT_EXCEEDED for every method: Bitrix24 refuses the
// request before doing it (its bucket is full), so even a create is safe
// to send again. A 5xx or a lost answer is retried only when read is true
// (*.list, *.get): a create may have been done, and sending it again
// could make a second lead — Sync's FindLead mends that case instead.
func (c *Client) call(ctx context.Context, method string, read bool, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("bitrix24: %s: %w", method, err)
	}
	endpoint := c.cfg.Portal + "/rest/" + strconv.FormatInt(c.cfg.UserID, 10) + "/" + c.cfg.Code.Reveal() + "/" + method + ".json"
	code := c.cfg.Code.Reveal()
	for attempt := 0; ; attempt++ {
		if err := c.limit.Wait(ctx); err != nil {
			return fmt.Errorf("bitrix24: %s on %s: %w", method, c.host, err)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
		if err != nil {
			return redact.Error(fmt.Errorf("bitrix24: %s on %s: %w", method, c.host, err), code)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json")
		req.Header.Set("User-Agent", "salesbot-bitrix24/1")
		resp, err := c.http.Do(req)
		var data []byte
		if err == nil {
			data, err = io.ReadAll(io.LimitReader(resp.Body, 8<<20))
			resp.Body.Close()
		}
		if err != nil {
			err = redact.Error(fmt.Errorf("bitrix24: %s on %s: %w", method, c.host, err), code)
			if read && ctx.Err() == nil && attempt < c.retries {
				if werr := c.backoff(ctx, method, 0, attempt); werr != nil {
					return err
				}
				continue
			}
			return err
		}
		var env envelope
		jerr := json.Unmarshal(data, &env)
		if resp.StatusCode >= 200 && resp.StatusCode < 300 && jerr != nil {
			return fmt.Errorf("bitrix24: %s on %s: HTTP %d: the answer does not read: %w", method, c.host, resp.StatusCode, jerr)
		}
		if resp.StatusCode >= 200 && resp.StatusCode < 300 && jerr == nil && env.Error == "" {
			if out != nil {
				if len(env.Result) == 0 {
					return fmt.Errorf("bitrix24: %s on %s: HTTP %d: no result in the answer", method, c.host, resp.StatusCode)
				}
				if err := json.Unmarshal(env.Result, out); err != nil {
					return fmt.Errorf("bitrix24: %s on %s: HTTP %d: the result does not read: %w", method, c.host, resp.StatusCode, err)
				}
			}
			return nil
		}
		se := &StatusError{Method: method, Host: c.host, Status: resp.StatusCode}
		if jerr == nil {
			se.Code = redact.String(crm.Truncate(env.Error, 100), code)
			se.Description = redact.String(crm.Truncate(env.ErrorDescription, 300), code)
		}
		retry := errors.Is(se, ErrRateLimited) || (read && resp.StatusCode >= 500)
		if retry && attempt < c.retries {
			if err := c.backoff(ctx, method, resp.StatusCode, attempt); err != nil {
				return fmt.Errorf("bitrix24: %s on %s: %w", method, c.host, err)
			}
			continue
		}
		return se
	}
}

// backoff waits 1, 2, 4, 8 s (at most 32) before retry attempt+1: the
// portal's bucket drains 2 a second, so a second frees two requests.
func (c *Client) backoff(ctx context.Context, method string, status, attempt int) error {
	wait := crm.Backoff(attempt)
	c.log.Warn("bitrix24: retrying", "portal", c.host, "method", method, "status", status, "wait", wait, "attempt", attempt+1)
	return c.clock.Sleep(ctx, wait)
}
