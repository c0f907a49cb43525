// Package amocrmtest is an in-process amoCRM (API v4) for tests: the
// requests salesbot makes, in the shapes amoCRM documents, checked
// strictly (an unknown or missing field is a 400 with amoCRM's
// validation-errors body), every request recorded, and faults on demand:
// 429 and 5xx answers, and a "lost answer" (the request is carried out,
// then the connection is closed without an answer).
//
//	POST /api/v4/leads/complex      a lead with one embedded contact and tags
//	GET  /api/v4/leads?query=...    full-text search over leads' names and fields
//	POST /api/v4/leads/{id}/notes   common notes
package amocrmtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"

	"github.com/salesbot/salesbot/adapters/crm/crmtest"
)

// Request is one request the server received.
type Request struct {
	Method string
	Path   string
	Query  string
	Auth   string // the Authorization header
	Body   []byte
	Status int // the status answered (0: the answer was dropped)
}

// CustomFieldValue is a custom field's values as sent.
type CustomFieldValue struct {
	FieldID   int64   `json:"field_id,omitempty"`
	FieldCode string  `json:"field_code,omitempty"`
	Values    []Value `json:"values"`
}

// Value is one value of a custom field.
type Value struct {
	Value    any    `json:"value"`
	EnumID   int64  `json:"enum_id,omitempty"`
	EnumCode string `json:"enum_code,omitempty"`
}

// Lead is a lead as the server keeps it.
type Lead struct {
	ID                int64
	Name              string
	Price             int64
	PipelineID        int64
	StatusID          int64
	ResponsibleUserID int64
	ContactID         int64
	Tags              []string
	Fields            []CustomFieldValue
}

// Contact is a contact as the server keeps it.
type Contact struct {
	ID     int64
	Name   string
	Fields []CustomFieldValue
}

// Note is a note on a lead.
type Note struct {
	ID     int64
	LeadID int64
	Type   string
	Text   string
}

// Server is the fake amoCRM. Its URL is the account's base URL.
type Server struct {
	*httptest.Server
	token string

	mu       sync.Mutex
	nextID   int64
	leads    []Lead
	contacts []Contact
	notes    []Note
	requests []Request
	faults   crmtest.Faults[fault]
	// KnownFields, if set, are the custom field ids that exist: any
	// other is a validation error, as in amoCRM.
	known map[int64]bool
}

type fault struct {
	status     int    // 429, 5xx; 0 = drop the answer after doing the work
	retryAfter string // for 429
	path       string // a path prefix the fault applies to ("" = any)
}

// New starts a server that accepts the long-lived token token.
func New(token string) *Server {
	s := &Server{token: token, nextID: 1000}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// KnownFields declares the custom field ids of the account; others are
// refused with a validation error.
func (s *Server) KnownFields(ids ...int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.known = map[int64]bool{}
	for _, id := range ids {
		s.known[id] = true
	}
}

// Fail answers the next request whose path starts with path ("" = any)
// with status (429 with Retry-After retryAfter when it is not ""). Faults
// queue up and are used in order.
func (s *Server) Fail(path string, status int, retryAfter string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.Add(fault{status: status, retryAfter: retryAfter, path: path})
}

// Drop carries out the next request whose path starts with path, then
// closes the connection without an answer: the client cannot know the
// request succeeded.
func (s *Server) Drop(path string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.Add(fault{path: path})
}

// Requests are the requests received so far, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Leads are the leads created so far.
func (s *Server) Leads() []Lead {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Lead(nil), s.leads...)
}

// Contacts are the contacts created so far.
func (s *Server) Contacts() []Contact {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Contact(nil), s.contacts...)
}

// Notes are the notes added so far.
func (s *Server) Notes() []Note {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Note(nil), s.notes...)
}

// Rename renames a lead, as a manager may.
func (s *Server) Rename(id int64, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.leads {
		if s.leads[i].ID == id {
			s.leads[i].Name = name
		}
	}
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	rec := Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Auth: r.Header.Get("Authorization"), Body: body}
	s.mu.Lock()
	defer s.mu.Unlock()
	answer := func(status int, v any) {
		rec.Status = status
		s.requests = append(s.requests, rec)
		if status >= 400 {
			w.Header().Set("Content-Type", "application/problem+json")
		} else {
			w.Header().Set("Content-Type", "application/hal+json")
		}
		w.WriteHeader(status)
		if v != nil {
			json.NewEncoder(w).Encode(v)
		}
	}
	// A fault that applies takes the request.
	f, faulted := s.faults.Take(func(f fault) bool { return strings.HasPrefix(r.URL.Path, f.path) })
	drop := faulted && f.status == 0
	if faulted && !drop {
		if f.retryAfter != "" {
			w.Header().Set("Retry-After", f.retryAfter)
		}
		answer(f.status, problem(f.status, http.StatusText(f.status)))
		return
	}
	if rec.Auth != "Bearer "+s.token || s.token == "" {
		answer(http.StatusUnauthorized, problem(http.StatusUnauthorized, "Authorization required"))
		return
	}
	status, v := s.route(r, body)
	if drop && status < 300 {
		rec.Status = 0
		s.requests = append(s.requests, rec)
		crmtest.DropConnection(w)
		return
	}
	answer(status, v)
}

func (s *Server) route(r *http.Request, body []byte) (int, any) {
	p := r.URL.Path
	switch {
	case p == "/api/v4/leads/complex" && r.Method == http.MethodPost:
		return s.complex(r, body)
	case p == "/api/v4/leads" && r.Method == http.MethodGet:
		return s.search(r)
	case strings.HasPrefix(p, "/api/v4/leads/") && strings.HasSuffix(p, "/notes") && r.Method == http.MethodPost:
		id, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(p, "/api/v4/leads/"), "/notes"), 10, 64)
		if err != nil {
			return http.StatusNotFound, problem(http.StatusNotFound, "Not Found")
		}
		return s.addNotes(r, id, body)
	}
	return http.StatusNotFound, problem(http.StatusNotFound, "Not Found")
}

// problem is amoCRM's error body.
func problem(status int, detail string) map[string]any {
	return map[string]any{"title": http.StatusText(status), "type": "https://httpstatus.es/" + strconv.Itoa(status), "status": status, "detail": detail}
}

// validation is amoCRM's 400 with validation errors.
func validation(requestID, path, code, detail string) (int, any) {
	b := problem(http.StatusBadRequest, "Request validation failed")
	b["validation-errors"] = []any{map[string]any{"request_id": requestID, "errors": []any{map[string]any{"code": code, "path": path, "detail": detail}}}}
	return http.StatusBadRequest, b
}

type complexIn struct {
	Name               *string            `json:"name"`
	Price              *int64             `json:"price"`
	PipelineID         *int64             `json:"pipeline_id"`
	StatusID           *int64             `json:"status_id"`
	ResponsibleUserID  int64              `json:"responsible_user_id"`
	CustomFieldsValues []CustomFieldValue `json:"custom_fields_values"`
	RequestID          string             `json:"request_id"`
	Embedded           *struct {
		Contacts []struct {
			ID                 int64              `json:"id"`
			Name               string             `json:"name"`
			FirstName          string             `json:"first_name"`
			LastName           string             `json:"last_name"`
			ResponsibleUserID  int64              `json:"responsible_user_id"`
			CustomFieldsValues []CustomFieldValue `json:"custom_fields_values"`
		} `json:"contacts"`
		Tags []struct {
			ID   int64  `json:"id"`
			Name string `json:"name"`
		} `json:"tags"`
	} `json:"_embedded"`
}

func (s *Server) fields(requestID, path string, fs []CustomFieldValue) (int, any) {
	for i, f := range fs {
		at := fmt.Sprintf("%s.%d", path, i)
		switch {
		case f.FieldID == 0 && f.FieldCode == "":
			return validation(requestID, at+".field_id", "FieldMissing", "field_id or field_code is required")
		case f.FieldID != 0 && s.known != nil && !s.known[f.FieldID]:
			return validation(requestID, at+".field_id", "NotSupportedChoice", "The value you selected is not a valid choice.")
		case f.FieldCode != "" && f.FieldCode != "PHONE" && f.FieldCode != "EMAIL":
			return validation(requestID, at+".field_code", "NotSupportedChoice", "The value you selected is not a valid choice.")
		case len(f.Values) == 0:
			return validation(requestID, at+".values", "FieldMissing", "This field is missing.")
		}
		for j, v := range f.Values {
			if v.Value == nil || v.Value == "" {
				return validation(requestID, fmt.Sprintf("%s.values.%d.value", at, j), "FieldMissing", "This value should not be blank.")
			}
		}
	}
	return 0, nil
}

func (s *Server) complex(r *http.Request, body []byte) (int, any) {
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		return http.StatusUnsupportedMediaType, problem(http.StatusUnsupportedMediaType, "Unsupported Media Type")
	}
	var in []complexIn
	if err := crmtest.Strict(body, &in); err != nil {
		return http.StatusBadRequest, problem(http.StatusBadRequest, "Request body is not valid: "+err.Error())
	}
	if len(in) == 0 || len(in) > 50 {
		return validation("0", "", "InvalidCount", "from 1 to 50 leads")
	}
	var out []map[string]any
	for i, l := range in {
		rid := l.RequestID
		if rid == "" {
			rid = strconv.Itoa(i)
		}
		switch {
		case l.Name == nil || strings.TrimSpace(*l.Name) == "":
			return validation(rid, "name", "FieldMissing", "This field is missing.")
		case l.PipelineID == nil || *l.PipelineID <= 0:
			return validation(rid, "pipeline_id", "FieldMissing", "This field is missing.")
		case l.StatusID == nil || *l.StatusID <= 0:
			return validation(rid, "status_id", "FieldMissing", "This field is missing.")
		case l.Price != nil && *l.Price < 0:
			return validation(rid, "price", "InvalidType", "This value should be greater than or equal to 0.")
		case l.Embedded == nil || len(l.Embedded.Contacts) != 1:
			return validation(rid, "_embedded.contacts", "InvalidCount", "one contact")
		}
		if st, v := s.fields(rid, "custom_fields_values", l.CustomFieldsValues); st != 0 {
			return st, v
		}
		c := l.Embedded.Contacts[0]
		if c.ID != 0 {
			// An existing contact: the lead is attached to it.
			known := false
			for _, ct := range s.contacts {
				known = known || ct.ID == c.ID
			}
			if !known || c.Name != "" || c.FirstName != "" || len(c.CustomFieldsValues) > 0 {
				return validation(rid, "_embedded.contacts.0.id", "NotFound", "An existing contact is given by its id alone.")
			}
		}
		name := strings.TrimSpace(strings.TrimSpace(c.FirstName + " " + c.LastName))
		if c.Name != "" {
			name = c.Name
		}
		if name == "" && c.ID == 0 {
			return validation(rid, "_embedded.contacts.0.name", "FieldMissing", "This field is missing.")
		}
		if st, v := s.fields(rid, "_embedded.contacts.0.custom_fields_values", c.CustomFieldsValues); st != 0 {
			return st, v
		}
		var tags []string
		for j, t := range l.Embedded.Tags {
			if t.Name == "" && t.ID == 0 {
				return validation(rid, fmt.Sprintf("_embedded.tags.%d.name", j), "FieldMissing", "This field is missing.")
			}
			tags = append(tags, t.Name)
		}
		ct := Contact{ID: c.ID}
		if c.ID == 0 {
			s.nextID++
			ct = Contact{ID: s.nextID, Name: name, Fields: c.CustomFieldsValues}
			s.contacts = append(s.contacts, ct)
		}
		s.nextID++
		lead := Lead{ID: s.nextID, Name: *l.Name, PipelineID: *l.PipelineID, StatusID: *l.StatusID, ResponsibleUserID: l.ResponsibleUserID,
			ContactID: ct.ID, Tags: tags, Fields: l.CustomFieldsValues}
		if l.Price != nil {
			lead.Price = *l.Price
		}
		s.leads = append(s.leads, lead)
		out = append(out, map[string]any{"id": lead.ID, "contact_id": ct.ID, "company_id": nil, "request_id": []string{rid}, "merged": false})
	}
	return http.StatusOK, out
}

func (s *Server) search(r *http.Request) (int, any) {
	q := strings.ToLower(strings.TrimSpace(r.URL.Query().Get("query")))
	var found []any
	for _, l := range s.leads {
		hay := strings.ToLower(l.Name)
		for _, f := range l.Fields {
			for _, v := range f.Values {
				hay += " " + strings.ToLower(fmt.Sprint(v.Value))
			}
		}
		if q != "" && !strings.Contains(hay, q) { // amoCRM's search is full-text: "dialog 1" finds "dialog 12"
			continue
		}
		lead := map[string]any{"id": l.ID, "name": l.Name, "price": l.Price, "pipeline_id": l.PipelineID, "status_id": l.StatusID,
			"responsible_user_id": l.ResponsibleUserID, "custom_fields_values": nil,
			"_links": map[string]any{"self": map[string]any{"href": fmt.Sprintf("%s/api/v4/leads/%d", s.URL, l.ID)}}}
		if len(l.Fields) > 0 {
			lead["custom_fields_values"] = l.Fields
		}
		emb := map[string]any{"tags": []any{}}
		if strings.Contains(r.URL.Query().Get("with"), "contacts") {
			emb["contacts"] = []any{map[string]any{"id": l.ContactID, "is_main": true}}
		}
		lead["_embedded"] = emb
		found = append(found, lead)
	}
	if len(found) == 0 {
		return http.StatusNoContent, nil
	}
	return http.StatusOK, map[string]any{"_page": 1, "_links": map[string]any{}, "_embedded": map[string]any{"leads": found}}
}

func (s *Server) addNotes(r *http.Request, lead int64, body []byte) (int, any) {
	exists := false
	for _, l := range s.leads {
		exists = exists || l.ID == lead
	}
	if !exists {
		return http.StatusNotFound, problem(http.StatusNotFound, "Not Found")
	}
	var in []struct {
		NoteType *string `json:"note_type"`
		Params   *struct {
			Text *string `json:"text"`
		} `json:"params"`
		RequestID string `json:"request_id"`
	}
	if err := crmtest.Strict(body, &in); err != nil {
		return http.StatusBadRequest, problem(http.StatusBadRequest, "Request body is not valid: "+err.Error())
	}
	if len(in) == 0 {
		return validation("0", "", "InvalidCount", "at least one note")
	}
	var added []any
	for i, n := range in {
		rid := strconv.Itoa(i)
		switch {
		case n.NoteType == nil:
			return validation(rid, "note_type", "FieldMissing", "This field is missing.")
		case *n.NoteType != "common":
			return validation(rid, "note_type", "NotSupportedChoice", "The value you selected is not a valid choice.")
		case n.Params == nil || n.Params.Text == nil || *n.Params.Text == "":
			return validation(rid, "params.text", "FieldMissing", "This field is missing.")
		}
		s.nextID++
		s.notes = append(s.notes, Note{ID: s.nextID, LeadID: lead, Type: *n.NoteType, Text: *n.Params.Text})
		added = append(added, map[string]any{"id": s.nextID, "entity_id": lead, "request_id": rid,
			"_links": map[string]any{"self": map[string]any{"href": fmt.Sprintf("%s/api/v4/leads/%d/notes/%d", s.URL, lead, s.nextID)}}})
	}
	return http.StatusOK, map[string]any{"_links": map[string]any{}, "_embedded": map[string]any{"notes": added}}
}
