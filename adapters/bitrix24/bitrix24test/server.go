// Package bitrix24test is an in-process Bitrix24 portal for tests: the
// REST methods salesbot calls through an inbound webhook
// (POST /rest/USER_ID/CODE/METHOD.json with a JSON body), in the shapes
// Bitrix24 documents, checked strictly (an unknown key or field, a
// missing required one, a bad multi-field, an unknown contact is a 400
// with Bitrix24's {"error", "error_description"}), every request
// recorded, and faults on demand: QUERY_LIMIT_EXCEEDED (503), 5xx, and a
// "lost answer" (the call is carried out, then the connection is closed
// without an answer).
//
//	crm.lead.add, crm.contact.add, crm.deal.add   {"fields": {...}, "params": {...}}
//	crm.lead.list, crm.deal.list                  {"filter", "select", "order", "start"}
//	crm.deal.get                                  {"id"}
//	crm.timeline.comment.add                      {"fields": {"ENTITY_ID", "ENTITY_TYPE", "COMMENT"}}
package bitrix24test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/salesbot/salesbot/adapters/crm/crmtest"
)

// Request is one request the server received.
type Request struct {
	Method string // the REST method, "crm.lead.add"
	Path   string // the HTTP path (it holds the webhook's code)
	Body   []byte
	Status int // the status answered (0: the answer was dropped)
}

// Item is a lead, a contact or a deal as the server keeps it: its fields
// as sent (IDs as numbers), plus ID.
type Item struct {
	ID     int64
	Fields map[string]any
}

// Str is a field's value as text ("" when absent).
func (it Item) Str(key string) string {
	switch v := it.Fields[key].(type) {
	case nil:
		return ""
	case string:
		return v
	case json.Number:
		return v.String()
	default:
		b, _ := json.Marshal(v)
		return string(b)
	}
}

// Comment is a timeline comment.
type Comment struct {
	ID         int64
	EntityType string
	EntityID   int64
	Text       string
}

// Server is the fake portal. Its URL is the portal's address;
// WebhookURL is the inbound webhook's.
type Server struct {
	*httptest.Server
	userID int64
	code   string

	mu       sync.Mutex
	nextID   int64
	leads    []Item
	contacts []Item
	deals    []Item
	comments []Comment
	requests []Request
	faults   crmtest.Faults[fault]
	known    map[string]bool // user fields that exist; nil: any UF_CRM_*
}

type fault struct {
	method string // "" = any
	status int    // 0 = drop the answer after doing the work
	code   string // the error code answered
}

// New starts a portal whose inbound webhook is user userID's with code.
func New(userID int64, code string) *Server {
	s := &Server{userID: userID, code: code, nextID: 100}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// WebhookURL is the inbound webhook's URL, URL/rest/USER_ID/CODE/.
func (s *Server) WebhookURL() string {
	return s.URL + "/rest/" + strconv.FormatInt(s.userID, 10) + "/" + s.code + "/"
}

// Host is the portal's host (auth[domain] of its events).
func (s *Server) Host() string {
	u, _ := url.Parse(s.URL)
	return u.Host
}

// KnownFields declares the portal's user fields (UF_CRM_...); others are
// refused.
func (s *Server) KnownFields(names ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.known = map[string]bool{}
	for _, n := range names {
		s.known[n] = true
	}
}

// RateLimit answers the next call of method ("" = any) with 503
// QUERY_LIMIT_EXCEEDED, without doing it. Faults queue up and are used
// in order.
func (s *Server) RateLimit(method string) {
	s.Fail(method, http.StatusServiceUnavailable, "QUERY_LIMIT_EXCEEDED")
}

// Fail answers the next call of method ("" = any) with status and the
// error code, without doing it.
func (s *Server) Fail(method string, status int, code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.Add(fault{method: method, status: status, code: code})
}

// Drop carries out the next call of method ("" = any), then closes the
// connection without an answer.
func (s *Server) Drop(method string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.Add(fault{method: method})
}

// Requests are the requests received so far, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Calls counts the requests of method.
func (s *Server) Calls(method string) int {
	n := 0
	for _, r := range s.Requests() {
		if r.Method == method {
			n++
		}
	}
	return n
}

// Leads, Contacts, Deals and Comments are what was created so far.
func (s *Server) Leads() []Item    { return s.items(&s.leads) }
func (s *Server) Contacts() []Item { return s.items(&s.contacts) }
func (s *Server) Deals() []Item    { return s.items(&s.deals) }
func (s *Server) Comments() []Comment {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.comments)
}

func (s *Server) items(p *[]Item) []Item {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(*p)
}

// SetDeal moves deal id to stage (with its semantic: "P", "S", "F") and
// sets its amount, as a manager does.
func (s *Server) SetDeal(id int64, stage, semantic, opportunity, currency string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.deals {
		if s.deals[i].ID == id {
			s.deals[i].Fields["STAGE_ID"] = stage
			s.deals[i].Fields["STAGE_SEMANTIC_ID"] = semantic
			s.deals[i].Fields["OPPORTUNITY"] = json.Number(opportunity)
			s.deals[i].Fields["CURRENCY_ID"] = currency
		}
	}
}

// Rename retitles a lead or deal, as a manager may.
func (s *Server) Rename(id int64, title string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, list := range [][]Item{s.leads, s.deals} {
		for i := range list {
			if list[i].ID == id {
				list[i].Fields["TITLE"] = title
			}
		}
	}
}

// DealUpdateForm is the body of Bitrix24's ONCRMDEALUPDATE event for
// deal id, signed with the application token.
func (s *Server) DealUpdateForm(id int64, token string) string {
	return url.Values{"event": {"ONCRMDEALUPDATE"}, "event_handler_id": {"201"}, "data[FIELDS][ID]": {strconv.FormatInt(id, 10)},
		"ts": {"1736405807"}, "auth[domain]": {s.Host()}, "auth[client_endpoint]": {s.URL + "/rest/"},
		"auth[member_id]": {"a223c6b3710f85df22e9377d6c4f7553"}, "auth[application_token]": {token}}.Encode()
}

var pathRe = regexp.MustCompile(`^/rest/([^/]+)/([^/]+)/([a-z0-9_.]+)\.json$`)

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	rec := Request{Path: r.URL.Path, Body: body}
	m := pathRe.FindStringSubmatch(r.URL.Path)
	if m != nil {
		rec.Method = m[3]
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	answer := func(status int, v any) {
		rec.Status = status
		s.requests = append(s.requests, rec)
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(v)
	}
	f, faulted := s.faults.Take(func(f fault) bool { return f.method == "" || f.method == rec.Method })
	drop := faulted && f.status == 0
	if faulted && !drop {
		answer(f.status, fail(f.code, http.StatusText(f.status)))
		return
	}
	if m == nil || m[1] != strconv.FormatInt(s.userID, 10) || m[2] != s.code {
		answer(http.StatusUnauthorized, fail("INVALID_CREDENTIALS", "Invalid request credentials"))
		return
	}
	if r.Method != http.MethodPost || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		answer(http.StatusBadRequest, fail("INVALID_REQUEST", "salesbot's calls are POST application/json"))
		return
	}
	status, v := s.route(rec.Method, body)
	if drop && status < 300 {
		rec.Status = 0
		s.requests = append(s.requests, rec)
		crmtest.DropConnection(w)
		return
	}
	answer(status, v)
}

func fail(code, desc string) map[string]any {
	return map[string]any{"error": code, "error_description": desc}
}

func result(v any) map[string]any {
	return map[string]any{"result": v, "time": map[string]any{"start": 1736405807.1, "finish": 1736405807.2, "duration": 0.1,
		"processing": 0.05, "date_start": "2026-12-02T10:00:00+03:00", "date_finish": "2026-12-02T10:00:00+03:00", "operating": 0}}
}

func invalid(desc string) (int, any) { return http.StatusBadRequest, fail("", desc) }

func (s *Server) route(method string, body []byte) (int, any) {
	switch method {
	case "crm.lead.add":
		return s.add(body, "lead")
	case "crm.contact.add":
		return s.add(body, "contact")
	case "crm.deal.add":
		return s.add(body, "deal")
	case "crm.lead.list":
		return s.list(body, s.leads)
	case "crm.deal.list":
		return s.list(body, s.deals)
	case "crm.deal.get":
		return s.dealGet(body)
	case "crm.timeline.comment.add":
		return s.comment(body)
	}
	return http.StatusNotFound, fail("ERROR_METHOD_NOT_FOUND", "Method not found!")
}

// The standard fields each entity takes (those salesbot may send).
var standard = map[string][]string{
	"lead":    {"TITLE", "NAME", "LAST_NAME", "STATUS_ID", "SOURCE_ID", "ASSIGNED_BY_ID", "OPPORTUNITY", "CURRENCY_ID", "PHONE", "EMAIL", "IM", "CONTACT_ID", "COMMENTS"},
	"contact": {"NAME", "LAST_NAME", "SOURCE_ID", "ASSIGNED_BY_ID", "PHONE", "EMAIL", "IM", "COMMENTS"},
	"deal":    {"TITLE", "CONTACT_ID", "CATEGORY_ID", "STAGE_ID", "SOURCE_ID", "ASSIGNED_BY_ID", "OPPORTUNITY", "CURRENCY_ID", "COMMENTS"},
}

var valueTypes = map[string][]string{
	"PHONE": {"WORK", "MOBILE", "FAX", "HOME", "PAGER", "MAILING", "OTHER"},
	"EMAIL": {"WORK", "HOME", "MAILING", "OTHER"},
	"IM":    {"FACEBOOK", "TELEGRAM", "VK", "SKYPE", "VIBER", "INSTAGRAM", "BITRIX24", "OPENLINE", "IMOL", "ICQ", "MSN", "JABBER", "OTHER"},
}

var currencyRe = regexp.MustCompile(`^[A-Z]{3}$`)

func (s *Server) add(body []byte, entity string) (int, any) {
	var in struct {
		Fields map[string]any    `json:"fields"`
		Params map[string]string `json:"params"`
	}
	if err := crmtest.StrictNumbers(body, &in); err != nil {
		return invalid("Invalid request body: " + err.Error())
	}
	if len(in.Fields) == 0 {
		return invalid("Parameter 'fields' must be array.")
	}
	for k, v := range in.Params {
		if k != "REGISTER_SONET_EVENT" || (v != "Y" && v != "N") {
			return invalid("Unknown parameter " + k)
		}
	}
	for k, v := range in.Fields {
		switch {
		case strings.HasPrefix(k, "UF_CRM_"):
			if s.known != nil && !s.known[k] {
				return invalid("Unknown user field " + k)
			}
			if _, ok := v.(string); !ok {
				return invalid("User field " + k + " is a string")
			}
		case !slices.Contains(standard[entity], k):
			return invalid("Unknown field " + k)
		}
		switch k {
		case "TITLE", "NAME", "STATUS_ID", "SOURCE_ID", "STAGE_ID", "COMMENTS":
			if str, ok := v.(string); !ok || strings.TrimSpace(str) == "" {
				return invalid(k + " is a non-empty string")
			}
		case "CURRENCY_ID":
			if str, ok := v.(string); !ok || !currencyRe.MatchString(str) {
				return invalid("CURRENCY_ID is a currency's code")
			}
		case "OPPORTUNITY":
			if n, ok := v.(json.Number); !ok {
				return invalid("OPPORTUNITY is a number")
			} else if f, err := n.Float64(); err != nil || f < 0 {
				return invalid("OPPORTUNITY is a number")
			}
		case "ASSIGNED_BY_ID", "CATEGORY_ID":
			if n, ok := v.(json.Number); !ok {
				return invalid(k + " is a number")
			} else if i, err := n.Int64(); err != nil || i < 0 {
				return invalid(k + " is a number")
			}
		case "CONTACT_ID":
			n, ok := v.(json.Number)
			id, err := n.Int64()
			if !ok || err != nil || !slices.ContainsFunc(s.contacts, func(c Item) bool { return c.ID == id }) {
				return invalid("Contact is not found")
			}
		case "PHONE", "EMAIL", "IM":
			list, ok := v.([]any)
			if !ok || len(list) == 0 {
				return invalid(k + " is a list of {VALUE, VALUE_TYPE}")
			}
			for _, e := range list {
				m, ok := e.(map[string]any)
				val, _ := m["VALUE"].(string)
				typ, _ := m["VALUE_TYPE"].(string)
				if !ok || len(m) != 2 || strings.TrimSpace(val) == "" || !slices.Contains(valueTypes[k], typ) {
					return invalid(k + " is a list of {VALUE, VALUE_TYPE}")
				}
			}
		}
	}
	if _, ok := in.Fields["OPPORTUNITY"]; ok {
		if _, ok := in.Fields["CURRENCY_ID"]; !ok {
			return invalid("OPPORTUNITY without CURRENCY_ID")
		}
	}
	switch entity {
	case "lead", "deal":
		if _, ok := in.Fields["TITLE"]; !ok {
			return invalid("TITLE is required")
		}
	case "contact":
		if _, ok := in.Fields["NAME"]; !ok {
			return invalid("NAME is required")
		}
	}
	s.nextID++
	it := Item{ID: s.nextID, Fields: in.Fields}
	switch entity {
	case "lead":
		s.leads = append(s.leads, it)
	case "contact":
		s.contacts = append(s.contacts, it)
	case "deal":
		if _, ok := it.Fields["STAGE_ID"]; !ok {
			it.Fields["STAGE_ID"] = "NEW"
		}
		it.Fields["STAGE_SEMANTIC_ID"] = "P"
		s.deals = append(s.deals, it)
	}
	return http.StatusOK, result(it.ID)
}

// wire is an item as Bitrix24 answers it: every value a string (IDs
// too), multi-fields left out of lists.
func wire(it Item, sel []string) map[string]any {
	out := map[string]any{"ID": strconv.FormatInt(it.ID, 10)}
	for k, v := range it.Fields {
		if len(sel) > 0 && !slices.Contains(sel, k) && !slices.Contains(sel, "*") {
			continue
		}
		switch v := v.(type) {
		case json.Number:
			out[k] = v.String()
		case string:
			out[k] = v
		}
	}
	return out
}

func (s *Server) list(body []byte, items []Item) (int, any) {
	var in struct {
		Filter map[string]any    `json:"filter"`
		Select []string          `json:"select"`
		Order  map[string]string `json:"order"`
		Start  *json.Number      `json:"start"`
	}
	if err := crmtest.StrictNumbers(body, &in); err != nil {
		return invalid("Invalid request body: " + err.Error())
	}
	for k := range in.Filter {
		if f := strings.TrimLeft(k, "%="); f == "" || strings.ContainsAny(f[:1], "<>!@") {
			return invalid("Unsupported filter " + k) // salesbot uses equality and "contains" only
		}
	}
	var out []any
	for _, it := range items {
		match := true
		for k, want := range in.Filter {
			w := fmt.Sprint(want)
			field := strings.TrimLeft(k, "%=")
			have := Item.Str(it, field)
			if field == "ID" {
				have = strconv.FormatInt(it.ID, 10)
			}
			switch {
			case strings.HasPrefix(k, "%"):
				match = match && strings.Contains(strings.ToLower(have), strings.ToLower(w))
			default:
				match = match && have == w
			}
		}
		if match {
			out = append(out, wire(it, in.Select))
		}
		if len(out) == 50 {
			break
		}
	}
	res := result(out)
	if out == nil {
		res["result"] = []any{}
	}
	res["total"] = len(out)
	return http.StatusOK, res
}

func (s *Server) dealGet(body []byte) (int, any) {
	var in struct {
		ID json.Number `json:"id"`
	}
	if err := crmtest.StrictNumbers(body, &in); err != nil {
		return invalid("Invalid request body: " + err.Error())
	}
	id, err := in.ID.Int64()
	if err != nil || id <= 0 {
		return invalid("ID is not defined or invalid.")
	}
	for _, d := range s.deals {
		if d.ID == id {
			out := wire(d, nil)
			if _, ok := out["OPPORTUNITY"]; !ok {
				out["OPPORTUNITY"] = "0.00"
			}
			return http.StatusOK, result(out)
		}
	}
	return invalid("Not found")
}

func (s *Server) comment(body []byte) (int, any) {
	var in struct {
		Fields *struct {
			EntityID   json.Number `json:"ENTITY_ID"`
			EntityType string      `json:"ENTITY_TYPE"`
			Comment    string      `json:"COMMENT"`
		} `json:"fields"`
	}
	if err := crmtest.StrictNumbers(body, &in); err != nil {
		return invalid("Invalid request body: " + err.Error())
	}
	if in.Fields == nil || strings.TrimSpace(in.Fields.Comment) == "" {
		return invalid("COMMENT is empty")
	}
	id, err := in.Fields.EntityID.Int64()
	var list []Item
	switch in.Fields.EntityType {
	case "lead":
		list = s.leads
	case "deal":
		list = s.deals
	case "contact":
		list = s.contacts
	default:
		return invalid("ENTITY_TYPE is not supported")
	}
	if err != nil || !slices.ContainsFunc(list, func(it Item) bool { return it.ID == id }) {
		return invalid("Entity not found")
	}
	s.nextID++
	s.comments = append(s.comments, Comment{ID: s.nextID, EntityType: in.Fields.EntityType, EntityID: id, Text: in.Fields.Comment})
	return http.StatusOK, result(s.nextID)
}
