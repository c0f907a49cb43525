package contacts

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"golang.org/x/sync/errgroup"

	"github.com/salesbot/salesbot/domain"
)

// ErrTooManyErrors: more rows were rejected than Options.MaxErrors
// allows, so nothing was imported (domain.ErrTooManyErrors, which the
// admin bot matches; Apply's *FileError says how many).
var ErrTooManyErrors = domain.ErrTooManyErrors

// DefaultMaxErrors is the fraction of rejected rows an import allows by
// default.
const DefaultMaxErrors = 0.05

// Options configure Apply.
type Options struct {
	Source domain.Source // default domain.SourceImport
	Basis  domain.Basis  // the lawful basis of every contact; required
	Note   string        // where the list came from, recorded on each new contact
	// MaxErrors is the largest fraction of rejected rows (0..1) that
	// still imports the valid ones; zero means DefaultMaxErrors and a
	// negative value allows none.
	MaxErrors float64
	// Partial imports the valid rows however many were rejected.
	Partial bool
	// Concurrency is how many rows are recorded at once (default 64): the
	// store syncs concurrent appends together.
	Concurrency int
	// Progress, if set, is called as rows are done (never two calls at
	// once), and once at the end with done == total.
	Progress func(done, total int)
	// Import is the import's id (default "imp-" and a new UUID v7).
	Import string
}

// Report is what an import did.
type Report struct {
	Import string // the import's id
	Rows   int    // data rows in the file
	// Applied is false when nothing was imported (too many rejected rows).
	Applied bool
	// Accepted rows became new contacts.
	Accepted int
	// Merged rows were duplicates of a contact recorded before or of an
	// earlier row (InFile of them): new tags and fields were added to it
	// (Changed of them had any).
	Merged, InFile, Changed int
	// OptedOut rows were skipped because the person is on the
	// do-not-contact list; Erased because the person was erased.
	OptedOut, Erased int
	Rejected         []Rejection // in line order
	Elapsed          time.Duration
}

// Rejection is a row that was not imported, and why.
type Rejection struct {
	Line int `json:"line"`
	// Field is the row's field at fault, when one is (the *domain.Error's
	// Field: "username", "user_id", "phone", "name", "tags", "fields").
	Field  string `json:"field,omitempty"`
	Reason string `json:"reason"`
}

// rejection is row line rejected for err.
func rejection(line int, err error) Rejection {
	return Rejection{Line: line, Field: domain.ErrorField(err), Reason: reason(err)}
}

// Skipped is how many rows were skipped for the do-not-contact list.
func (r Report) Skipped() int { return r.OptedOut + r.Erased }

// Apply records the valid rows of f through h, unless more rows were
// rejected than opts.MaxErrors allows and opts.Partial is false: then it
// records nothing and returns the report with an error matching
// ErrTooManyErrors.
//
// A row of a person who is a contact already (found by user id, username
// or phone) is merged into that contact (domain.MergeContact), and so is
// a row of the same person as an earlier row; a person on the
// do-not-contact list or erased is skipped, never recorded again. Other
// rows become new contacts with opts' source, basis and note and the
// import's id. So applying a file twice adds nothing the second time: all
// its rows are duplicates.
//
// Rows of different people are recorded concurrently. If the store fails
// Apply stops and returns the report so far with the error; what was
// recorded stays, and applying the file again completes it.
func Apply(ctx context.Context, h domain.Handlers, f *File, opts Options) (Report, error) {
	start := time.Now()
	if opts.Source == "" {
		opts.Source = domain.SourceImport
	}
	if opts.Basis == "" {
		return Report{}, &domain.Error{Code: domain.EINVALID, Message: "say the lawful basis of the import: consent, contract or legitimate-interest"}
	}
	if opts.MaxErrors == 0 {
		opts.MaxErrors = DefaultMaxErrors
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 64
	}
	if opts.Import == "" {
		opts.Import = "imp-" + newID().String()
	}
	// Check the command once, before any row: a bad basis or source
	// rejects the import, not every row.
	probe := domain.AddContact{ContactID: probeID, Source: opts.Source, Basis: opts.Basis, Note: opts.Note, Import: opts.Import, Username: "probe"}
	if _, err := domain.DecideContact(domain.Contact{}, probe, time.Time{}); err != nil {
		return Report{}, err
	}
	// A bulk import would flush the service's state cache for nothing.
	h.Cache = nil

	rep := Report{Import: opts.Import, Rows: len(f.Rows)}
	for _, r := range f.Rows {
		if r.Err != nil {
			rep.Rejected = append(rep.Rejected, rejection(r.Line, r.Err))
		}
	}
	allowed := opts.MaxErrors
	if allowed < 0 {
		allowed = 0
	}
	if !opts.Partial && len(rep.Rejected) > 0 && float64(len(rep.Rejected)) > allowed*float64(len(f.Rows)) {
		rep.Elapsed = time.Since(start)
		return rep, refuse(ErrTooManyErrors, "%d of %d (%s), more than the %s allowed",
			len(rep.Rejected), len(f.Rows), percent(float64(len(rep.Rejected))/float64(len(f.Rows))), percent(allowed))
	}
	rep.Applied = true

	groups := groupRows(f)
	total := f.Valid()
	a := &applier{h: h, opts: opts, rep: &rep, total: total}
	// Groups are recorded Concurrency at a time; the first failure stops
	// the rest.
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(opts.Concurrency)
	for _, rows := range groups {
		if gctx.Err() != nil {
			break
		}
		g.Go(func() error { return a.group(gctx, f, rows) })
	}
	err := g.Wait()
	sortRejected(rep.Rejected)
	rep.Elapsed = time.Since(start)
	if err == nil {
		err = ctx.Err()
	}
	if err != nil {
		return rep, fmt.Errorf("contacts: import stopped after %d of %d rows (applying the file again completes it): %w", a.done, total, err)
	}
	if opts.Progress != nil && total == 0 {
		opts.Progress(0, 0)
	}
	return rep, nil
}

var probeID = uuid.MustParse("00000000-0000-7000-8000-000000000001")

// applier records rows; its counters are guarded by mu.
type applier struct {
	h     domain.Handlers
	opts  Options
	mu    sync.Mutex
	rep   *Report
	done  int
	total int
}

// outcome is what happened to one row.
type outcome int

const (
	added outcome = iota
	merged
	changed
	optedOut
	erased
	rejected
)

func (a *applier) count(r Row, o outcome, inFile bool, why error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	switch o {
	case added:
		a.rep.Accepted++
	case merged, changed:
		a.rep.Merged++
		if inFile {
			a.rep.InFile++
		}
		if o == changed {
			a.rep.Changed++
		}
	case optedOut:
		a.rep.OptedOut++
	case erased:
		a.rep.Erased++
	case rejected:
		a.rep.Rejected = append(a.rep.Rejected, rejection(r.Line, why))
	}
	a.done++
	if a.opts.Progress != nil {
		a.opts.Progress(a.done, a.total)
	}
}

// group records the rows of one person: their contact is added or
// merged into once, with the tags and fields of every row (a later row's
// field wins), so applying the file again finds nothing new. Only store
// failures are returned; a row the rules refuse is counted as rejected.
func (a *applier) group(ctx context.Context, f *File, g []int) error {
	c := f.Rows[g[0]].Contact
	people := make([]Person, 0, len(g))
	for i, row := range g {
		r := f.Rows[row].Contact
		people = append(people, Person{UserID: r.UserID, Username: r.Username, Phone: r.Phone, Name: r.Name})
		if i == 0 {
			continue
		}
		c.UserID = cmp.Or(c.UserID, r.UserID)
		c.Username, c.Phone, c.Name = cmp.Or(c.Username, r.Username), cmp.Or(c.Phone, r.Phone), cmp.Or(c.Name, r.Name)
		c.Tags = append(slices.Clip(c.Tags), r.Tags...) // normalised by the domain
		c.Fields = slices.Clone(c.Fields)
		for _, fl := range r.Fields {
			if j := slices.IndexFunc(c.Fields, func(x domain.ContactField) bool { return x.Name == fl.Name }); j >= 0 {
				c.Fields[j] = fl
			} else {
				c.Fields = append(c.Fields, fl)
			}
		}
	}
	o, err := a.record(ctx, c, people)
	if err != nil && domain.ErrorCode(err) == "" {
		return fmt.Errorf("line %d: %w", f.Rows[g[0]].Line, err)
	}
	for i, row := range g {
		switch {
		case i == 0 || o == rejected || o == optedOut || o == erased:
			a.count(f.Rows[row], o, false, err)
		default:
			a.count(f.Rows[row], merged, true, nil)
		}
	}
	return nil
}

// record adds or merges contact c of people (the identities of each row;
// the first person's identities first). Any identity on the
// do-not-contact list or erased keeps them out.
func (a *applier) record(ctx context.Context, c domain.AddContact, people []Person) (outcome, error) {
	h := a.h
	primary := Person{UserID: c.UserID, Username: c.Username, Phone: c.Phone}
	all := []Person{primary}
	for _, p := range people {
		if p.Name = ""; !slices.Contains(all, p) {
			all = append(all, p)
		}
	}
	people = all
	for attempt := 0; ; attempt++ {
		var ids []uuid.UUID
		for _, p := range people {
			linked, err := Linked(ctx, h, p)
			if err != nil {
				return rejected, err
			}
			for _, id := range linked {
				if !slices.Contains(ids, id) {
					ids = append(ids, id)
				}
			}
		}
		var into domain.Contact
		id := uuid.Nil
		for _, cand := range ids {
			st, err := h.LoadContact(ctx, cand)
			if err != nil {
				return rejected, err
			}
			switch {
			case st.Forgotten:
				return erased, nil
			case st.OptedOut:
				return optedOut, nil
			case id == uuid.Nil:
				into, id = st, cand
			}
		}
		if into.Exists {
			evs, err := h.Contact(ctx, id, domain.MergeContact{Tags: c.Tags, Fields: c.Fields, Import: a.opts.Import})
			if domain.ErrorCode(err) == domain.EFORBIDDEN { // opted out or erased meanwhile
				return optedOut, nil
			}
			if err != nil {
				return rejected, err
			}
			if err := linkAll(ctx, h, people, id); err != nil { // identities the contact was not known by yet
				return rejected, err
			}
			if len(evs) > 0 {
				return changed, nil
			}
			return merged, nil
		}
		if id == uuid.Nil { // else: a link without its contact (a crash); complete it
			id = newID()
		}
		won, err := link(ctx, h, primary, id)
		if err != nil {
			return rejected, err
		}
		if won != id && attempt < 3 {
			continue // someone recorded the person meanwhile: merge into theirs
		}
		if err := linkAll(ctx, h, people[1:], id); err != nil {
			return rejected, err
		}
		add := c
		add.ContactID, add.Source, add.Basis, add.Note, add.Import = id, a.opts.Source, a.opts.Basis, a.opts.Note, a.opts.Import
		if _, err := h.Contact(ctx, id, add); err != nil {
			if domain.ErrorCode(err) == domain.ESTATE && attempt < 3 {
				continue // added meanwhile
			}
			return rejected, err
		}
		return added, nil
	}
}

// linkAll links the identities of people to contact, where they are not
// linked yet.
func linkAll(ctx context.Context, h domain.Handlers, people []Person, contact uuid.UUID) error {
	for _, p := range people {
		if _, err := link(ctx, h, p, contact); err != nil {
			return err
		}
	}
	return nil
}

// groupRows puts the valid rows of one person (sharing a user id, a
// username or a phone) into one group, in line order; groups are in the
// order of their first rows.
func groupRows(f *File) [][]int {
	parent := make([]int, len(f.Rows))
	for i := range parent {
		parent[i] = i
	}
	var root func(int) int
	root = func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	owner := map[string]int{}
	for i, r := range f.Rows {
		if r.Err != nil {
			continue
		}
		for _, k := range keys(r.Contact) {
			if j, ok := owner[k]; ok {
				ri, rj := root(i), root(j)
				if ri != rj { // the earlier row's group absorbs the later
					if ri < rj {
						parent[rj] = ri
					} else {
						parent[ri] = rj
					}
				}
			} else {
				owner[k] = i
			}
		}
	}
	index := map[int]int{}
	var groups [][]int
	for i, r := range f.Rows {
		if r.Err != nil {
			continue
		}
		g, ok := index[root(i)]
		if !ok {
			g = len(groups)
			index[root(i)] = g
			groups = append(groups, nil)
		}
		groups[g] = append(groups[g], i)
	}
	return groups
}

func keys(c domain.AddContact) []string {
	var k []string
	if c.UserID != 0 {
		k = append(k, "i:"+strconv.FormatInt(c.UserID, 10))
	}
	if c.Username != "" {
		k = append(k, "u:"+strings.ToLower(c.Username))
	}
	if c.Phone != "" {
		k = append(k, "p:"+c.Phone)
	}
	return k
}

// reason is an error as a reader of the report reads it.
func reason(err error) string {
	var de *domain.Error
	if errors.As(err, &de) {
		return de.Message
	}
	return err.Error()
}

func sortRejected(r []Rejection) {
	slices.SortStableFunc(r, func(a, b Rejection) int { return cmp.Compare(a.Line, b.Line) })
}

func percent(f float64) string {
	s := strconv.FormatFloat(f*100, 'f', 1, 64)
	return strings.TrimSuffix(s, ".0") + "%"
}
