package web

import (
	"cmp"
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/projections"
)

// The inbox, GET /web/: the dialogs that need a person first (handoffs
// waiting, the longest waiting first, marked once past the SLA), then
// the active ones; filters and a search by @username or name.

// MaxRows bounds each group of the inbox (a page stays small); a search
// looks through up to MaxScan dialogs of a group for its matches.
const (
	MaxRows = 100
	MaxScan = 2000
)

// inboxData is the inbox page's content.
type inboxData struct {
	Status, Stage, Account, Campaign, Q string
	Stages, Accounts, Campaigns         []option
	Groups                              []group
	// Meetings are the booked meetings still to come, the soonest
	// first (at most MaxMeetings), on the unfiltered inbox only.
	Meetings []upcoming
}

// upcoming is a booked meeting on the inbox.
type upcoming struct {
	N                    int64
	Name, Username, When string
	Manager              string
}

// MaxMeetings is how many upcoming meetings the inbox shows.
const MaxMeetings = 10

// option is one choice of a filter.
type option struct {
	Value, Label string
}

// group is a list of dialogs under a title.
type group struct {
	Title string
	Class string
	Rows  []row
	More  string // there were more than MaxRows
}

// row is one dialog of the inbox.
type row struct {
	N           int64
	ID          string
	Name        string
	Username    string
	Stage       string
	Status      string
	Account     string
	Score       string
	Last        string
	Waiting     string // handoff waiting: for how long
	Late        bool   // past the SLA
	WithManager bool
}

// stages are the dialog stages in order.
var stages = []string{
	string(domain.StageOpening), string(domain.StageDiscovery), string(domain.StageQualification),
	string(domain.StageOffer), string(domain.StageObjections), string(domain.StageHandoff), string(domain.StageClosed),
}

func (w *Web) inbox(r *http.Request, v *view) error {
	ctx := r.Context()
	q := r.URL.Query()
	d := inboxData{Q: strings.TrimSpace(q.Get("q"))}
	for _, s := range stages {
		d.Stages = append(d.Stages, option{s, stageLabel(v.L, s)})
	}
	f := projections.DialogFilter{}
	switch s := q.Get("status"); s {
	case projections.StatusHandoff, projections.StatusActive, projections.StatusClosed:
		d.Status = s
	}
	if s := q.Get("stage"); slices.Contains(stages, s) {
		d.Stage, f.Stage = s, s
	}
	if id, err := uuid.Parse(q.Get("account")); err == nil {
		d.Account, f.Account = id.String(), id
	}
	if id, err := uuid.Parse(q.Get("campaign")); err == nil {
		d.Campaign, f.Campaign = id.String(), id
	}
	accs, err := w.cfg.ReadModels.Accounts(ctx)
	if err != nil {
		return err
	}
	labels := map[uuid.UUID]string{}
	for _, a := range accs {
		labels[a.ID] = a.Label
		d.Accounts = append(d.Accounts, option{a.ID.String(), a.Label})
	}
	cs, err := w.cfg.ReadModels.Campaigns(ctx)
	if err != nil {
		return err
	}
	for _, c := range cs {
		d.Campaigns = append(d.Campaigns, option{c.ID.String(), c.Name})
	}
	L, now := v.L, w.now()
	lists := []struct{ status, title, class string }{
		{projections.StatusHandoff, L["NeedsPerson"], "handoff"},
		{projections.StatusActive, L["Active"], "active"},
	}
	if d.Status != "" {
		lists = []struct{ status, title, class string }{{d.Status, L["Results"], d.Status}}
	}
	for _, l := range lists {
		g, err := w.group(ctx, f, l.status, d.Q, labels, L, now)
		if err != nil {
			return err
		}
		g.Title, g.Class = l.title, l.class
		d.Groups = append(d.Groups, g)
	}
	if d.Status == "" && d.Stage == "" && d.Account == "" && d.Campaign == "" && d.Q == "" {
		if d.Meetings, err = w.upcoming(ctx, L, now); err != nil {
			return err
		}
	}
	v.Title, v.Nav, v.Data = L["InboxTitle"], "inbox", d
	return nil
}

// upcoming are the booked meetings that have not ended by now, with
// their leads' names (two queries for all of them).
func (w *Web) upcoming(ctx context.Context, L catalog, now time.Time) ([]upcoming, error) {
	rm := w.cfg.ReadModels
	ms, err := rm.UpcomingMeetings(ctx, now, MaxMeetings)
	if err != nil || len(ms) == 0 {
		return nil, err
	}
	ns := make([]int64, len(ms))
	for i, m := range ms {
		ns[i] = m.DialogN
	}
	ds, err := rm.ListDialogs(ctx, projections.DialogFilter{Numbers: ns, Limit: len(ns)})
	if err != nil {
		return nil, err
	}
	ids, contactOf := make([]uuid.UUID, 0, len(ds)), map[int64]uuid.UUID{}
	for _, d := range ds {
		ids, contactOf[d.N] = append(ids, d.ContactID), d.ContactID
	}
	contacts, err := rm.ContactsByID(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]upcoming, 0, len(ms))
	for _, m := range ms {
		c := contacts[contactOf[m.DialogN]]
		u := upcoming{N: m.DialogN, Name: strings.TrimSpace(c.Name), Username: c.Username, When: span(m.Start, m.End, L)}
		if m.Manager != "" {
			u.Manager = L.T("MeetingManager", m.Manager)
		}
		out = append(out, u)
	}
	return out, nil
}

// group lists the dialogs of status that f and the search q select, in
// the inbox's order.
func (w *Web) group(ctx context.Context, f projections.DialogFilter, status, q string, labels map[uuid.UUID]string, L catalog, now time.Time) (group, error) {
	f.Status, f.Limit = status, MaxRows+1
	var contacts map[uuid.UUID]projections.Contact
	if q != "" {
		// The search reads the MaxScan newest dialogs' numbers and names
		// only, then the rows of those it finds: reading 2000 whole rows
		// to show a few took most of a search's time. Sorting the found
		// ones gives the order sorting all then keeping them would.
		f.Limit = MaxScan
		leads, err := w.cfg.ReadModels.DialogLeads(ctx, f)
		if err != nil {
			return group{}, err
		}
		contacts = map[uuid.UUID]projections.Contact{}
		f.Numbers = []int64{}
		for _, l := range leads {
			c := projections.Contact{ID: l.ContactID, Name: l.Name, Username: l.Username}
			if matches(q, l.N, c) {
				f.Numbers = append(f.Numbers, l.N)
				contacts[l.ContactID] = c
			}
		}
		if len(f.Numbers) == 0 {
			return group{}, nil
		}
		f.Limit = len(f.Numbers)
	}
	ds, err := w.cfg.ReadModels.ListDialogs(ctx, f)
	if err != nil {
		return group{}, err
	}
	sortInbox(ds)
	if q == "" {
		// The leads' names, in one query: one per row made the inbox's
		// 200 rows 200 round trips.
		ids := make([]uuid.UUID, len(ds))
		for i, d := range ds {
			ids[i] = d.ContactID
		}
		if contacts, err = w.cfg.ReadModels.ContactsByID(ctx, ids); err != nil {
			return group{}, err
		}
	}
	var g group
	for _, d := range ds {
		c := contacts[d.ContactID] // none: a row without a name
		if len(g.Rows) == MaxRows {
			g.More = L.T("More", MaxRows)
			break
		}
		g.Rows = append(g.Rows, w.rowOf(d, c, labels, L, now))
	}
	return g, nil
}

// sortInbox orders dialogs as the inbox shows them: handoffs waiting
// for a person, the longest waiting first; then handoffs a manager has;
// then the rest, the latest message first.
func sortInbox(ds []projections.Dialog) {
	// The keys are sorted, not the dialogs: moving a search's 2000 large
	// rows about in a stable sort took milliseconds.
	type key struct {
		rank int
		at   time.Time // rank 0: the handoff, ascending; else the latest message, descending
		i    int       // the list's order among equals (a stable sort)
	}
	keys := make([]key, len(ds))
	for i, d := range ds {
		k := key{rank: 2, at: d.LastMessageAt, i: i}
		switch {
		case d.Status == projections.StatusHandoff && !d.TakenOver:
			k.rank, k.at = 0, handoffAt(d)
		case d.Status == projections.StatusHandoff:
			k.rank = 1
		}
		if k.rank > 0 && k.at.IsZero() {
			k.at = d.CreatedAt
		}
		keys[i] = k
	}
	slices.SortFunc(keys, func(a, b key) int {
		if c := cmp.Compare(a.rank, b.rank); c != 0 {
			return c
		}
		c := b.at.Compare(a.at)
		if a.rank == 0 {
			c = -c
		}
		if c != 0 {
			return c
		}
		return cmp.Compare(a.i, b.i)
	})
	sorted := make([]projections.Dialog, len(ds))
	for j, k := range keys {
		sorted[j] = ds[k.i]
	}
	copy(ds, sorted)
}

// handoffAt is when a dialog was handed to a person (its last change if
// the read model does not know).
func handoffAt(d projections.Dialog) time.Time {
	if d.HandoffAt.IsZero() {
		return d.UpdatedAt
	}
	return d.HandoffAt
}

// matches says whether a search finds a dialog: "@name" searches
// usernames, digits the dialog's number, anything else names and
// usernames, all without case.
func matches(q string, n int64, c projections.Contact) bool {
	q = strings.ToLower(q)
	if u, ok := strings.CutPrefix(q, "@"); ok {
		return u != "" && strings.Contains(strings.ToLower(c.Username), u)
	}
	if strconv.FormatInt(n, 10) == q {
		return true
	}
	return strings.Contains(strings.ToLower(c.Name), q) || strings.Contains(strings.ToLower(c.Username), q)
}

func (w *Web) rowOf(d projections.Dialog, c projections.Contact, labels map[uuid.UUID]string, L catalog, now time.Time) row {
	out := row{N: d.N, ID: d.ID.String(), Name: strings.TrimSpace(c.Name), Username: c.Username, Stage: stageLabel(L, d.Stage),
		Status: statusLabel(L, d.Status), Account: labels[d.AccountID], Score: "–", WithManager: d.TakenOver}
	if out.Name == "" && out.Username == "" {
		out.Name = L["NoName"]
	}
	if d.Score != nil {
		out.Score = strconv.Itoa(*d.Score)
	}
	if !d.LastMessageAt.IsZero() {
		out.Last = L.T("Ago", L.since(now.Sub(d.LastMessageAt)))
	}
	if d.Stage == d.Status { // handoff, closed: the stage says it
		out.Status = ""
	}
	if d.Status == projections.StatusHandoff && !d.TakenOver {
		waited := now.Sub(handoffAt(d))
		out.Waiting = L.T("Waiting", L.since(waited))
		out.Late = waited >= w.cfg.SLA
	}
	return out
}

// statusLabel is a dialog status in the page's language.
func statusLabel(L catalog, s string) string {
	switch s {
	case projections.StatusHandoff:
		return L["StatusHandoff"]
	case projections.StatusActive:
		return L["StatusActive"]
	case projections.StatusClosed:
		return L["StatusClosed"]
	}
	return s
}
