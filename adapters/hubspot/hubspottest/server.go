// Package hubspottest is an in-process HubSpot (CRM API v3) for tests:
// the requests salesbot makes, in the shapes HubSpot documents, checked
// strictly (an unknown field, an unknown property, a missing required
// property, a bad association is a 400 with HubSpot's error body), every
// request recorded, and faults on demand: 429 with HubSpot's rate-limit
// body and headers, 5xx, and a "lost answer" (the request is carried
// out, then the connection is closed without an answer).
//
//	POST /crm/v3/objects/{contacts,deals,notes}          create, with associations
//	POST /crm/v3/objects/{contacts,deals}/search         filterGroups: EQ, NEQ, CONTAINS_TOKEN, HAS_PROPERTY
//	GET  /crm/v3/objects/{contacts,deals,notes}/{id}     ?properties=a,b&associations=contacts
package hubspottest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

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

// Association is an association from an object to another.
type Association struct {
	Category string // HUBSPOT_DEFINED
	TypeID   int
	ToType   string // contacts, deals, notes
	ToID     string
}

// Object is a contact, deal or note as the server keeps it.
type Object struct {
	Type         string // contacts, deals, notes
	ID           string
	Properties   map[string]string
	Associations []Association
}

// The association types the fake knows (HubSpot's HUBSPOT_DEFINED ids):
// type id → from, to.
var assocTypes = map[int][2]string{
	3:   {"deals", "contacts"},
	4:   {"contacts", "deals"},
	202: {"notes", "contacts"},
	214: {"notes", "deals"},
}

var assocNames = map[int]string{3: "deal_to_contact", 4: "contact_to_deal", 202: "note_to_contact", 214: "note_to_deal"}

// Server is the fake HubSpot. Its URL is the API's base URL.
type Server struct {
	*httptest.Server
	token string

	mu        sync.Mutex
	nextID    int64
	objects   []*Object
	requests  []Request
	faults    crmtest.Faults[fault]
	props     map[string]map[string]bool // object type → known property names
	stages    map[string][]string        // pipeline → stages
	hidden    bool                       // new objects are not searchable until Index
	unindexed map[string]bool
	corr      int
}

type fault struct {
	status     int    // 429, 5xx; 0 = drop the answer after doing the work
	policy     string // a 429's policyName
	retryAfter string
	path       string // the path the fault applies to: "" any, "/x/" any under /x/, else exactly
}

// New starts a server that accepts the private app token token. It has
// HubSpot's default properties and the default pipeline ("default":
// appointmentscheduled … closedwon, closedlost).
func New(token string) *Server {
	s := &Server{token: token, nextID: 5000, unindexed: map[string]bool{},
		props: map[string]map[string]bool{
			"contacts": set("firstname", "lastname", "email", "phone", "company", "hubspot_owner_id", "hs_object_id", "createdate", "lastmodifieddate"),
			"deals":    set("dealname", "pipeline", "dealstage", "amount", "deal_currency_code", "closedate", "description", "hubspot_owner_id", "hs_object_id", "createdate", "hs_lastmodifieddate"),
			"notes":    set("hs_note_body", "hs_timestamp", "hubspot_owner_id", "hs_attachment_ids", "hs_object_id", "hs_createdate", "hs_lastmodifieddate"),
		},
		stages: map[string][]string{"default": {"appointmentscheduled", "qualifiedtobuy", "presentationscheduled", "decisionmakerboughtin", "contractsent", "closedwon", "closedlost"}},
	}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

func set(names ...string) map[string]bool {
	m := map[string]bool{}
	for _, n := range names {
		m[n] = true
	}
	return m
}

// DefineProperty declares custom properties of an object type
// ("contacts", "deals"); any other is refused, as in HubSpot.
func (s *Server) DefineProperty(objectType string, names ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, n := range names {
		s.props[objectType][n] = true
	}
}

// Pipeline declares a deal pipeline and its stage ids.
func (s *Server) Pipeline(id string, stages ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stages[id] = stages
}

// SearchLag makes new objects invisible to search until Index (HubSpot's
// search is eventually consistent); off by default.
func (s *Server) SearchLag(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hidden = on
}

// Index makes every object searchable.
func (s *Server) Index() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.unindexed = map[string]bool{}
}

// Fail answers the next request to path ("" = any; one ending in "/":
// any under it; else exactly that path) with status (a 429 is RateLimit's TEN_SECONDLY_ROLLING). Faults queue
// up and are used in order.
func (s *Server) Fail(path string, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := fault{status: status, path: path}
	if status == http.StatusTooManyRequests {
		f.policy = "TEN_SECONDLY_ROLLING"
	}
	s.faults.Add(f)
}

// RateLimit answers the next request to path (as Fail's) with
// HubSpot's 429 of policy ("TEN_SECONDLY_ROLLING", "SECONDLY", "DAILY"),
// with Retry-After retryAfter when it is not "".
func (s *Server) RateLimit(path, policy, retryAfter string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.Add(fault{status: http.StatusTooManyRequests, policy: policy, retryAfter: retryAfter, path: path})
}

// Drop carries out the next request to path (as Fail's), then
// closes the connection without an answer.
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

// Objects are the objects of a type ("contacts", "deals", "notes")
// created so far, copies.
func (s *Server) Objects(objectType string) []Object {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Object
	for _, o := range s.objects {
		if o.Type == objectType {
			c := *o
			c.Properties = map[string]string{}
			for k, v := range o.Properties {
				c.Properties[k] = v
			}
			c.Associations = slices.Clone(o.Associations)
			out = append(out, c)
		}
	}
	return out
}

// SetProperty sets a property of an object, as a manager may (a deal's
// dealstage, amount, dealname).
func (s *Server) SetProperty(id, name, value string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if o := s.find("", id); o != nil {
		o.Properties[name] = value
	}
}

// Delete removes an object.
func (s *Server) Delete(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.objects = slices.DeleteFunc(s.objects, func(o *Object) bool { return o.ID == id })
}

func (s *Server) find(objectType, id string) *Object {
	for _, o := range s.objects {
		if o.ID == id && (objectType == "" || o.Type == objectType) {
			return o
		}
	}
	return nil
}

func (s *Server) correlation() string {
	s.corr++
	return fmt.Sprintf("c0a1b2c3-0000-4000-8000-%012d", s.corr)
}

// errorBody is HubSpot's error answer.
func (s *Server) errorBody(message, category string, extra map[string]any) map[string]any {
	b := map[string]any{"status": "error", "message": message, "correlationId": s.correlation(), "category": category}
	for k, v := range extra {
		b[k] = v
	}
	return b
}

func (s *Server) invalid(message, code string, ctx map[string]any) (int, any) {
	e := map[string]any{"message": message, "code": code}
	if ctx != nil {
		e["context"] = ctx
	}
	return http.StatusBadRequest, s.errorBody(message, "VALIDATION_ERROR", map[string]any{"errors": []any{e}})
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	rec := Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Auth: r.Header.Get("Authorization"), Body: body}
	s.mu.Lock()
	defer s.mu.Unlock()
	answer := func(status int, v any) {
		rec.Status = status
		s.requests = append(s.requests, rec)
		w.Header().Set("Content-Type", "application/json;charset=utf-8")
		w.WriteHeader(status)
		if v != nil {
			json.NewEncoder(w).Encode(v)
		}
	}
	f, faulted := s.faults.Take(func(f fault) bool {
		return f.path == "" || r.URL.Path == f.path || (strings.HasSuffix(f.path, "/") && strings.HasPrefix(r.URL.Path, f.path))
	})
	drop := faulted && f.status == 0
	if faulted && !drop {
		if f.status == http.StatusTooManyRequests {
			if f.retryAfter != "" {
				w.Header().Set("Retry-After", f.retryAfter)
			}
			w.Header().Set("X-HubSpot-RateLimit-Interval-Milliseconds", "10000")
			w.Header().Set("X-HubSpot-RateLimit-Max", "100")
			w.Header().Set("X-HubSpot-RateLimit-Remaining", "0")
			answer(f.status, map[string]any{"status": "error", "message": "You have reached your " + strings.ToLower(f.policy) + " limit.",
				"errorType": "RATE_LIMIT", "correlationId": s.correlation(), "policyName": f.policy, "groupName": "api-calls"})
			return
		}
		answer(f.status, s.errorBody("internal error", "INTERNAL_ERROR", nil))
		return
	}
	if rec.Auth != "Bearer "+s.token || s.token == "" {
		answer(http.StatusUnauthorized, s.errorBody("Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview", "INVALID_AUTHENTICATION", nil))
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
	rest, ok := strings.CutPrefix(r.URL.Path, "/crm/v3/objects/")
	if !ok {
		return http.StatusNotFound, s.errorBody("Not Found", "OBJECT_NOT_FOUND", nil)
	}
	parts := strings.Split(rest, "/")
	typ := parts[0]
	if s.props[typ] == nil {
		return http.StatusNotFound, s.errorBody("Unable to infer object type from: "+typ, "OBJECT_NOT_FOUND", nil)
	}
	switch {
	case len(parts) == 1 && r.Method == http.MethodPost:
		return s.create(r, typ, body)
	case len(parts) == 2 && parts[1] == "search" && r.Method == http.MethodPost:
		return s.search(r, typ, body)
	case len(parts) == 2 && r.Method == http.MethodGet:
		return s.get(r, typ, parts[1])
	}
	return http.StatusMethodNotAllowed, s.errorBody("Method Not Allowed", "VALIDATION_ERROR", nil)
}

type assocIn struct {
	To *struct {
		ID *string `json:"id"`
	} `json:"to"`
	Types []struct {
		AssociationCategory string `json:"associationCategory"`
		AssociationTypeID   int    `json:"associationTypeId"`
	} `json:"types"`
}

func (s *Server) create(r *http.Request, typ string, body []byte) (int, any) {
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		return http.StatusUnsupportedMediaType, s.errorBody("Unsupported Media Type", "VALIDATION_ERROR", nil)
	}
	var in struct {
		Properties   map[string]string `json:"properties"`
		Associations []assocIn         `json:"associations"`
	}
	if err := crmtest.Strict(body, &in); err != nil {
		return s.invalid("Invalid input JSON on line 1: "+err.Error(), "INVALID_JSON", nil)
	}
	if in.Properties == nil {
		return s.invalid("properties is required", "REQUIRED_FIELD", nil)
	}
	var unknown []string
	for k := range in.Properties {
		if !s.props[typ][k] {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return s.invalid(fmt.Sprintf("Property values were not valid: Property %q does not exist", unknown[0]), "PROPERTY_DOESNT_EXIST",
			map[string]any{"propertyName": unknown})
	}
	p := in.Properties
	switch typ {
	case "deals":
		for _, k := range []string{"dealname", "pipeline", "dealstage"} {
			if strings.TrimSpace(p[k]) == "" {
				return s.invalid(fmt.Sprintf("Property values were not valid: %s is required", k), "REQUIRED_FIELD", map[string]any{"propertyName": []string{k}})
			}
		}
		stages, ok := s.stages[p["pipeline"]]
		if !ok {
			return s.invalid("Property values were not valid: "+p["pipeline"]+" is not a valid pipeline", "INVALID_OPTION", map[string]any{"propertyName": []string{"pipeline"}})
		}
		if !slices.Contains(stages, p["dealstage"]) {
			return s.invalid("Property values were not valid: "+p["dealstage"]+" is not a valid dealstage of the pipeline", "INVALID_OPTION", map[string]any{"propertyName": []string{"dealstage"}})
		}
		if a, ok := p["amount"]; ok {
			if f, err := strconv.ParseFloat(a, 64); err != nil || f < 0 {
				return s.invalid("Property values were not valid: "+a+" is not a number", "INVALID_DECIMAL", map[string]any{"propertyName": []string{"amount"}})
			}
		}
	case "notes":
		ts := p["hs_timestamp"]
		if ts == "" {
			return s.invalid("Property values were not valid: hs_timestamp is required", "REQUIRED_FIELD", map[string]any{"propertyName": []string{"hs_timestamp"}})
		}
		if _, err := time.Parse(time.RFC3339, ts); err != nil {
			if _, err := strconv.ParseInt(ts, 10, 64); err != nil {
				return s.invalid("Property values were not valid: hs_timestamp is not a date", "INVALID_DATE", map[string]any{"propertyName": []string{"hs_timestamp"}})
			}
		}
		if len(p["hs_note_body"]) > 65536 {
			return s.invalid("Property values were not valid: hs_note_body is longer than 65536 characters", "INVALID_STRING", nil)
		}
	case "contacts":
		if p["email"] != "" {
			for _, o := range s.objects {
				if o.Type == "contacts" && strings.EqualFold(o.Properties["email"], p["email"]) {
					return http.StatusConflict, s.errorBody("Contact already exists. Existing ID: "+o.ID, "CONFLICT", nil)
				}
			}
		}
	}
	var assocs []Association
	for i, a := range in.Associations {
		if a.To == nil || a.To.ID == nil || len(a.Types) == 0 {
			return s.invalid(fmt.Sprintf("associations[%d]: to.id and types are required", i), "REQUIRED_FIELD", nil)
		}
		for _, t := range a.Types {
			ft, ok := assocTypes[t.AssociationTypeID]
			if t.AssociationCategory != "HUBSPOT_DEFINED" || !ok || ft[0] != typ {
				return s.invalid(fmt.Sprintf("%s is not a valid association type from %s (category %s)", strconv.Itoa(t.AssociationTypeID), typ, t.AssociationCategory), "INVALID_ASSOCIATION_TYPE", nil)
			}
			if s.find(ft[1], *a.To.ID) == nil {
				return s.invalid(fmt.Sprintf("One or more associations are invalid: %s %s does not exist", ft[1], *a.To.ID), "INVALID_OBJECT_IDS", nil)
			}
			assocs = append(assocs, Association{Category: t.AssociationCategory, TypeID: t.AssociationTypeID, ToType: ft[1], ToID: *a.To.ID})
		}
	}
	s.nextID++
	o := &Object{Type: typ, ID: strconv.FormatInt(s.nextID, 10), Properties: map[string]string{}, Associations: assocs}
	for k, v := range p {
		o.Properties[k] = v
	}
	o.Properties["hs_object_id"] = o.ID
	s.objects = append(s.objects, o)
	if s.hidden {
		s.unindexed[o.ID] = true
	}
	return http.StatusCreated, s.render(o, nil, nil)
}

func (s *Server) render(o *Object, props []string, assocTo []string) map[string]any {
	ps := map[string]any{}
	if props == nil {
		for k, v := range o.Properties {
			ps[k] = v
		}
	} else {
		ps["hs_object_id"] = o.ID
		for _, k := range props {
			if v, ok := o.Properties[k]; ok {
				ps[k] = v
			} else if s.props[o.Type][k] {
				ps[k] = nil
			}
		}
	}
	out := map[string]any{"id": o.ID, "properties": ps, "createdAt": "2026-12-02T10:00:00.000Z", "updatedAt": "2026-12-02T10:00:00.000Z", "archived": false}
	if len(assocTo) > 0 {
		as := map[string]any{}
		for _, to := range assocTo {
			var res []any
			for _, a := range o.Associations {
				if a.ToType == to {
					res = append(res, map[string]any{"id": a.ToID, "type": assocNames[a.TypeID]})
				}
			}
			if len(res) > 0 {
				as[to] = map[string]any{"results": res}
			}
		}
		if len(as) > 0 {
			out["associations"] = as
		}
	}
	return out
}

func (s *Server) get(r *http.Request, typ, id string) (int, any) {
	o := s.find(typ, id)
	if o == nil {
		return http.StatusNotFound, s.errorBody("Object not found.  objectId are usually numeric.", "OBJECT_NOT_FOUND", map[string]any{"context": map[string]any{"id": []string{id}}})
	}
	q := r.URL.Query()
	var props, assocs []string
	for _, v := range q["properties"] {
		props = append(props, strings.Split(v, ",")...)
	}
	for _, v := range q["associations"] {
		assocs = append(assocs, strings.Split(v, ",")...)
	}
	if props == nil {
		props = []string{}
		switch typ {
		case "deals":
			props = []string{"dealname", "amount", "dealstage", "pipeline", "closedate", "createdate", "hs_lastmodifieddate"}
		case "contacts":
			props = []string{"firstname", "lastname", "email", "createdate", "lastmodifieddate"}
		}
	}
	return http.StatusOK, s.render(o, props, assocs)
}

func tokens(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '_' })
}

func (s *Server) search(r *http.Request, typ string, body []byte) (int, any) {
	if typ == "notes" {
		return http.StatusMethodNotAllowed, s.errorBody("Method Not Allowed", "VALIDATION_ERROR", nil)
	}
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		return http.StatusUnsupportedMediaType, s.errorBody("Unsupported Media Type", "VALIDATION_ERROR", nil)
	}
	var in struct {
		FilterGroups []struct {
			Filters []struct {
				PropertyName *string `json:"propertyName"`
				Operator     *string `json:"operator"`
				Value        *string `json:"value"`
			} `json:"filters"`
		} `json:"filterGroups"`
		Properties []string `json:"properties"`
		Limit      *int     `json:"limit"`
		After      string   `json:"after"`
		Sorts      []any    `json:"sorts"`
		Query      string   `json:"query"`
	}
	if err := crmtest.Strict(body, &in); err != nil {
		return s.invalid("Invalid input JSON on line 1: "+err.Error(), "INVALID_JSON", nil)
	}
	if in.Limit != nil && (*in.Limit < 0 || *in.Limit > 200) {
		return s.invalid("limit must be at most 200", "INVALID_LIMIT", nil)
	}
	if len(in.FilterGroups) > 5 {
		return s.invalid("at most 5 filterGroups", "TOO_MANY_FILTER_GROUPS", nil)
	}
	total := 0
	for _, g := range in.FilterGroups {
		total += len(g.Filters)
		for _, f := range g.Filters {
			if f.PropertyName == nil || f.Operator == nil {
				return s.invalid("a filter needs propertyName and operator", "REQUIRED_FIELD", nil)
			}
			if !s.props[typ][*f.PropertyName] {
				return s.invalid(fmt.Sprintf("There was a problem with the request: property %q does not exist", *f.PropertyName), "PROPERTY_DOESNT_EXIST", nil)
			}
			if !slices.Contains([]string{"EQ", "NEQ", "CONTAINS_TOKEN", "HAS_PROPERTY"}, *f.Operator) {
				return s.invalid("operator "+*f.Operator+" is not supported by the fake", "INVALID_OPERATOR", nil)
			}
			if *f.Operator != "HAS_PROPERTY" && f.Value == nil {
				return s.invalid("a filter with "+*f.Operator+" needs a value", "REQUIRED_FIELD", nil)
			}
		}
	}
	if total > 18 {
		return s.invalid("at most 18 filters", "TOO_MANY_FILTERS", nil)
	}
	match := func(o *Object) bool {
		if len(in.FilterGroups) == 0 {
			return true
		}
		for _, g := range in.FilterGroups { // groups are ORed, filters ANDed
			ok := true
			for _, f := range g.Filters {
				v, has := o.Properties[*f.PropertyName]
				switch *f.Operator {
				case "EQ":
					ok = ok && has && strings.EqualFold(v, *f.Value)
				case "NEQ":
					ok = ok && !strings.EqualFold(v, *f.Value)
				case "HAS_PROPERTY":
					ok = ok && has && v != ""
				case "CONTAINS_TOKEN":
					have := tokens(v)
					for _, t := range tokens(*f.Value) {
						ok = ok && slices.Contains(have, t)
					}
				}
			}
			if ok {
				return true
			}
		}
		return false
	}
	props := in.Properties
	if props == nil {
		props = []string{}
	}
	var results []any
	for _, o := range s.objects {
		if o.Type != typ || s.unindexed[o.ID] || !match(o) {
			continue
		}
		results = append(results, s.render(o, append([]string{"createdate"}, props...), nil))
	}
	limit := 10
	if in.Limit != nil {
		limit = *in.Limit
	}
	n := len(results)
	if len(results) > limit {
		results = results[:limit]
	}
	if results == nil {
		results = []any{}
	}
	return http.StatusOK, map[string]any{"total": n, "results": results}
}
