package projections

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/domain"
)

// Forgotten replaces personal data of an erased contact in read models.
const Forgotten = "[forgotten]"

// Memory is the embedded in-memory sink.
type Memory struct {
	mu         sync.RWMutex
	checkpoint Checkpoint
	contacts   map[uuid.UUID]Contact
	dialogs    map[uuid.UUID]*Dialog
	byN        map[int64]uuid.UUID
	messages   map[uuid.UUID][]Message
	qual       map[uuid.UUID]map[string]Qualification
	turns      map[uuid.UUID][]Turn
	accounts   map[uuid.UUID]*Account
	campaigns  map[uuid.UUID]*Campaign
	meetings   map[uuid.UUID]*Meeting // by dialog
	insights   map[uuid.UUID]*Insight // by dialog
}

var _ Sink = (*Memory)(nil)

// NewMemory returns an empty sink.
func NewMemory() *Memory {
	m := &Memory{}
	m.reset()
	return m
}

func (m *Memory) reset() {
	m.checkpoint = Checkpoint{}
	m.contacts = map[uuid.UUID]Contact{}
	m.dialogs = map[uuid.UUID]*Dialog{}
	m.byN = map[int64]uuid.UUID{}
	m.messages = map[uuid.UUID][]Message{}
	m.qual = map[uuid.UUID]map[string]Qualification{}
	m.turns = map[uuid.UUID][]Turn{}
	m.accounts = map[uuid.UUID]*Account{}
	m.campaigns = map[uuid.UUID]*Campaign{}
	m.meetings = map[uuid.UUID]*Meeting{}
	m.insights = map[uuid.UUID]*Insight{}
}

// Apply implements Sink. Changes are checked against a copy first, so a
// failing batch leaves nothing applied.
func (m *Memory) Apply(_ context.Context, changes []Change, from uint64, to Checkpoint) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if from != m.checkpoint.Position+1 || to.Position < from {
		return fmt.Errorf("%w: batch %d..%d does not follow checkpoint %d", ErrCheckpoint, from, to.Position, m.checkpoint.Position)
	}
	if err := follows(m.checkpoint, to.LogID); err != nil {
		return err
	}
	numbers := map[int64]uuid.UUID{}
	for _, c := range changes {
		if c, ok := c.(PutDialog); ok {
			id, dup := m.byN[c.Dialog.N]
			if !dup {
				id, dup = numbers[c.Dialog.N]
			}
			if dup && id != c.Dialog.ID {
				return fmt.Errorf("projections: dialog number %d already belongs to dialog %s", c.Dialog.N, id)
			}
			numbers[c.Dialog.N] = c.Dialog.ID
		}
	}
	for _, c := range changes {
		m.apply(c)
	}
	m.checkpoint = to
	return nil
}

func (m *Memory) apply(c Change) {
	switch c := c.(type) {
	case PutContact:
		m.contacts[c.Contact.ID] = c.Contact
	case OptOutContact:
		if ct, ok := m.contacts[c.ID]; ok {
			ct.OptedOut = true
			m.contacts[c.ID] = ct
		}
	case ForgetContact:
		if ct, ok := m.contacts[c.ID]; ok {
			ct.Forgotten, ct.OptedOut = true, true
			ct.Username, ct.Name, ct.Phone = Forgotten, Forgotten, Forgotten
			m.contacts[c.ID] = ct
		}
		for id, d := range m.dialogs {
			if d.ContactID == c.ID {
				d.HandoffReason = forgottenText(d.HandoffReason)
				d.OutcomeReason = forgottenText(d.OutcomeReason)
				msgs := m.messages[id]
				for i := range msgs {
					msgs[i].Text = Forgotten
				}
				for f, q := range m.qual[id] {
					q.Value, q.Quote, q.Money = Forgotten, Forgotten, domain.Money{}
					m.qual[id][f] = q
				}
			}
		}
		m.forgetInsights(c.ID)
	case PutDialog:
		d := c.Dialog
		m.dialogs[d.ID] = &d
		m.byN[d.N] = d.ID
	case PutMessage:
		msg := c.Message
		if m.forgottenDialog(msg.DialogID) {
			msg.Text = Forgotten
		}
		m.messages[msg.DialogID] = append(m.messages[msg.DialogID], msg)
	case SetMessageSent:
		msgs := m.messages[c.DialogID]
		for i := range msgs {
			if msgs[i].RandomID == c.RandomID && msgs[i].Direction == "out" {
				msgs[i].Status = c.Status
				if c.TelegramID != 0 {
					msgs[i].TelegramID = c.TelegramID
				}
			}
		}
	case UpdateDialog:
		d, ok := m.dialogs[c.ID]
		if !ok {
			return
		}
		if c.Stage != nil {
			d.Stage = *c.Stage
		}
		if c.Status != nil {
			d.Status = *c.Status
		}
		if c.Outcome != nil && d.OutcomeAt.IsZero() {
			d.Outcome = *c.Outcome
		}
		if c.Deal != nil {
			d.Outcome, d.OutcomeValue, d.OutcomeAt = c.Deal.Outcome, c.Deal.Value, c.Deal.At
			d.OutcomeReason = c.Deal.Reason
			if m.forgottenDialog(d.ID) {
				d.OutcomeReason = forgottenText(d.OutcomeReason)
			}
		}
		if c.Score != nil {
			s := *c.Score
			d.Score = &s
		}
		if c.TakenOver != nil {
			d.TakenOver = *c.TakenOver
		}
		if c.OptedOutBy != nil {
			d.OptedOutBy = *c.OptedOutBy
		}
		d.Inbound += c.AddInbound
		d.Outbound += c.AddOutbound
		d.PromptTokens += c.AddPromptTokens
		d.CompletionTokens += c.AddCompletionTokens
		d.CachedPromptTokens += c.AddCachedPromptTokens
		if !c.LastMessageAt.IsZero() {
			d.LastMessageAt = c.LastMessageAt
		}
		if !c.At.IsZero() {
			d.UpdatedAt = c.At
		}
		setOnce(&d.FirstOutboundAt, c.FirstOutboundAt)
		setOnce(&d.FirstInboundAt, c.FirstInboundAt)
		if d.HandoffAt.IsZero() && !c.HandoffAt.IsZero() {
			d.HandoffAt, d.HandoffReason = c.HandoffAt, c.HandoffReason
			if m.forgottenDialog(d.ID) {
				d.HandoffReason = forgottenText(d.HandoffReason)
			}
		}
		setOnce(&d.QualifiedAt, c.QualifiedAt)
	case PutQualification:
		q := c.Q
		if m.forgottenDialog(q.DialogID) {
			q.Value, q.Quote, q.Money = Forgotten, Forgotten, domain.Money{}
		}
		if m.qual[q.DialogID] == nil {
			m.qual[q.DialogID] = map[string]Qualification{}
		}
		m.qual[q.DialogID][q.Field] = q
	case PutTurn:
		// In log order, so by position.
		m.turns[c.Turn.DialogID] = append(m.turns[c.Turn.DialogID], copyTurn(c.Turn))
	case PutAccount:
		a := c.Account
		m.accounts[a.ID] = &a
	case UpdateAccount:
		a, ok := m.accounts[c.ID]
		if !ok {
			return
		}
		if c.Status != nil {
			a.Status = *c.Status
		}
		if c.Paused != nil {
			a.Paused = *c.Paused
		}
		if c.Reason != nil {
			a.Reason = *c.Reason
		}
		if !c.FloodUntil.IsZero() {
			a.FloodUntil = c.FloodUntil
		}
		if c.DialogDay != "" {
			if a.Day != c.DialogDay {
				a.Day, a.DialogsToday = c.DialogDay, 0
			}
			a.DialogsToday++
		}
		a.MessagesTotal += c.AddMessage
		if c.Limits != nil {
			a.DailyCap, a.MessagesPerMinute = c.Limits.DailyNewDialogs, c.Limits.MessagesPerMinute
		}
		if !c.At.IsZero() {
			a.UpdatedAt = c.At
		}
	case PutCampaign:
		cp := copyCampaign(c.Campaign)
		m.campaigns[cp.ID] = &cp
	case UpdateCampaign:
		cp, ok := m.campaigns[c.ID]
		if !ok {
			return
		}
		if c.Status != nil {
			cp.Status = *c.Status
		}
		if c.EndReason != nil {
			cp.EndReason = *c.EndReason
		}
		cp.Targeted += c.AddTargeted
		if c.Bandit != nil {
			cp.Bandit = copyCampaign(Campaign{Bandit: c.Bandit}).Bandit
		}
		if !c.At.IsZero() {
			cp.UpdatedAt = c.At
		}
	case liftRestriction:
		if a, ok := m.accounts[c.ID]; ok && a.Status == string(domain.StatusRestricted) {
			a.Status, a.Reason = string(domain.StatusOffline), ""
		}
	case ProposeMeeting, BookMeeting:
		m.applyMeeting(c)
	case PutInsight:
		m.applyInsight(c)
	}
}

// forgottenDialog: the dialog's contact was erased. Personal data that
// arrives after the erasure event (before the store dropped the key) is
// blanked too, as a rebuild would show it.
func (m *Memory) forgottenDialog(id uuid.UUID) bool {
	d, ok := m.dialogs[id]
	return ok && m.contacts[d.ContactID].Forgotten
}

// forgottenText is what a personal text of an erased contact reads in the
// read models: Forgotten, or empty if there was none (as a rebuild from
// the log shows it: an empty personal field is not sealed).
func forgottenText(s string) string {
	if s == "" {
		return ""
	}
	return Forgotten
}

func setOnce(t *time.Time, v time.Time) {
	if t.IsZero() && !v.IsZero() {
		*t = v
	}
}

// Qualification implements Sink.
func (m *Memory) Qualification(_ context.Context, dialog uuid.UUID) ([]Qualification, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var out []Qualification
	for _, q := range m.qual[dialog] {
		out = append(out, q)
	}
	slices.SortFunc(out, func(a, b Qualification) int { return cmp.Compare(a.Field, b.Field) })
	return out, nil
}

// Turns implements Sink.
func (m *Memory) Turns(_ context.Context, dialog uuid.UUID) ([]Turn, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var out []Turn
	for _, t := range m.turns[dialog] {
		out = append(out, copyTurn(t))
	}
	return out, nil
}

// copyTurn shares no pointer or slice with t.
func copyTurn(t Turn) Turn {
	if t.Score != nil {
		s := *t.Score
		t.Score = &s
	}
	t.Flags, t.Guards = texts(t.Flags), texts(t.Guards)
	return t
}

// Accounts implements Sink.
func (m *Memory) Accounts(context.Context) ([]Account, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var out []Account
	for _, a := range m.accounts {
		out = append(out, *a)
	}
	slices.SortFunc(out, func(a, b Account) int { return cmp.Compare(a.Label, b.Label) })
	return out, nil
}

// Funnel implements Sink.
func (m *Memory) Funnel(_ context.Context, by string) ([]FunnelRow, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	rows := map[string]*FunnelRow{}
	for _, d := range m.dialogs {
		var key string
		switch by {
		case ByStage:
			key = d.Stage
		case ByVariant:
			key = d.Variant
		case ByAccount:
			key = d.AccountID.String()
		case ByDay:
			key = d.CreatedAt.UTC().Format(time.DateOnly)
		case ByStatus:
			key = d.Status
		default:
			return nil, fmt.Errorf("projections: funnel by %q: want stage, variant, account, day or status", by)
		}
		r := rows[key]
		if r == nil {
			r = &FunnelRow{Key: key}
			rows[key] = r
		}
		r.Dialogs++
		if d.Inbound > 0 {
			r.Replied++
		}
		if !d.HandoffAt.IsZero() {
			r.Handoffs++
		}
		if d.LeadOptedOut() {
			r.OptedOut++
		}
		if d.Outcome == string(domain.OutcomeWon) {
			r.Won++
		}
	}
	var out []FunnelRow
	for _, r := range rows {
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b FunnelRow) int { return cmp.Compare(a.Key, b.Key) })
	return out, nil
}

// Checkpoint implements Sink.
func (m *Memory) Checkpoint(context.Context) (Checkpoint, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.checkpoint, nil
}

// Bind implements Sink.
func (m *Memory) Bind(_ context.Context, cp Checkpoint) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	next, err := bind(m.checkpoint, cp)
	if err != nil {
		return err
	}
	m.checkpoint = next
	return nil
}

// Reset implements Sink.
func (m *Memory) Reset(context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.reset()
	return nil
}

// ListDialogs implements Sink.
func (m *Memory) ListDialogs(_ context.Context, f DialogFilter) ([]Dialog, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var out []Dialog
	for _, d := range m.list(f) {
		out = append(out, copyDialog(*d))
	}
	return out, nil
}

// DialogLeads implements Sink.
func (m *Memory) DialogLeads(_ context.Context, f DialogFilter) ([]DialogLead, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var out []DialogLead
	for _, d := range m.list(f) {
		c := m.contacts[d.ContactID]
		out = append(out, DialogLead{N: d.N, ContactID: d.ContactID, Name: c.Name, Username: c.Username})
	}
	return out, nil
}

// list is the page of dialogs f selects, newest first. Sorted and paged
// as pointers: the caller copies only the page (a list of the newest
// 100 of 10 000 dialogs copied all of them). The caller holds m.mu.
func (m *Memory) list(f DialogFilter) []*Dialog {
	var numbers map[int64]bool
	if f.Numbers != nil {
		numbers = make(map[int64]bool, len(f.Numbers))
		for _, n := range f.Numbers {
			numbers[n] = true
		}
	}
	var match []*Dialog
	for _, d := range m.dialogs {
		if (f.Status == "" || d.Status == f.Status) && (f.Stage == "" || d.Stage == f.Stage) && (f.Account == uuid.Nil || d.AccountID == f.Account) &&
			(f.Campaign == uuid.Nil || d.Campaign == f.Campaign) && !d.CreatedAt.Before(f.Since) && (f.Before <= 0 || d.N < f.Before) &&
			(numbers == nil || numbers[d.N]) {
			match = append(match, d)
		}
	}
	slices.SortFunc(match, func(a, b *Dialog) int { return cmp.Compare(b.N, a.N) })
	return page(match, f)
}

func page[T any](ds []T, f DialogFilter) []T {
	limit := f.Limit
	if limit <= 0 {
		limit = 20
	}
	offset := max(f.Offset, 0)
	if offset >= len(ds) {
		return nil
	}
	return ds[offset:min(len(ds), offset+limit)]
}

func copyDialog(d Dialog) Dialog {
	if d.Score != nil {
		s := *d.Score
		d.Score = &s
	}
	return d
}

// DialogByN implements Sink.
func (m *Memory) DialogByN(_ context.Context, n int64) (Dialog, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	id, ok := m.byN[n]
	if !ok {
		return Dialog{}, fmt.Errorf("dialog %d: %w", n, ErrNotFound)
	}
	return copyDialog(*m.dialogs[id]), nil
}

// Messages implements Sink.
func (m *Memory) Messages(_ context.Context, dialog uuid.UUID) ([]Message, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return slices.Clone(m.messages[dialog]), nil
}

// ContactByID implements Sink.
func (m *Memory) ContactByID(_ context.Context, id uuid.UUID) (Contact, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	c, ok := m.contacts[id]
	if !ok {
		return Contact{}, fmt.Errorf("contact %s: %w", id, ErrNotFound)
	}
	return c, nil
}

// ContactsByID implements Sink.
func (m *Memory) ContactsByID(_ context.Context, ids []uuid.UUID) (map[uuid.UUID]Contact, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make(map[uuid.UUID]Contact, len(ids))
	for _, id := range ids {
		if c, ok := m.contacts[id]; ok {
			out[id] = c
		}
	}
	return out, nil
}

// Campaigns implements Sink.
func (m *Memory) Campaigns(context.Context) ([]Campaign, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var out []Campaign
	for _, c := range m.campaigns {
		out = append(out, copyCampaign(*c))
	}
	slices.SortFunc(out, func(a, b Campaign) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.ID.String(), b.ID.String())
	})
	return out, nil
}

// Campaign implements Sink.
func (m *Memory) Campaign(_ context.Context, id uuid.UUID) (Campaign, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	c, ok := m.campaigns[id]
	if !ok {
		return Campaign{}, fmt.Errorf("campaign %s: %w", id, ErrNotFound)
	}
	return copyCampaign(*c), nil
}

// VariantFunnel implements Sink.
func (m *Memory) VariantFunnel(_ context.Context, campaign uuid.UUID, since time.Time) ([]VariantCounts, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	rows := map[string]*VariantCounts{}
	for _, d := range m.dialogs {
		if (campaign != uuid.Nil && d.Campaign != campaign) || (!since.IsZero() && d.CreatedAt.Before(since)) {
			continue
		}
		r := rows[d.Variant]
		if r == nil {
			r = &VariantCounts{Variant: d.Variant}
			rows[d.Variant] = r
		}
		r.count(d)
	}
	var out []VariantCounts // none is nil, as from PostgreSQL
	for _, r := range rows {
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b VariantCounts) int { return cmp.Compare(a.Variant, b.Variant) })
	return out, nil
}

// count adds one dialog: the same definitions as the campaign_funnel view.
func (r *VariantCounts) count(d *Dialog) {
	r.Dialogs++
	if d.Inbound > 0 {
		r.Replied++
	}
	if !d.QualifiedAt.IsZero() {
		r.Qualified++
	}
	if !d.HandoffAt.IsZero() {
		r.Handoffs++
	}
	if d.LeadOptedOut() { // a manager's, an erasure's: not the lead's answer
		r.OptedOut++
	}
	switch d.Outcome {
	case string(domain.OutcomeLost):
		r.Lost++
	case string(domain.OutcomeWon):
		r.Won++
		if !d.OutcomeValue.IsZero() {
			r.Revenue = addMoney(r.Revenue, d.OutcomeValue)
		}
	}
}

// addMoney adds m to the sum of its currency in sums (by currency, byte
// order), in a new slice.
func addMoney(sums []domain.Money, m domain.Money) []domain.Money {
	out := slices.Clone(sums)
	i, found := slices.BinarySearchFunc(out, m.Currency, func(s domain.Money, cur string) int { return cmp.Compare(s.Currency, cur) })
	if found {
		out[i].Minor += m.Minor
		return out
	}
	return slices.Insert(out, i, m)
}

// Totals implements Sink, with the definitions of the PostgreSQL sink's
// query.
func (m *Memory) Totals(context.Context) (Totals, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var t Totals
	var lead, ours []float64 // seconds, as PostgreSQL's extract(epoch ...)::float8
	for _, d := range m.dialogs {
		t.PromptTokens += d.PromptTokens
		t.CompletionTokens += d.CompletionTokens
		t.CachedPromptTokens += d.CachedPromptTokens
		switch {
		case d.FirstOutboundAt.IsZero() || d.FirstInboundAt.IsZero():
		case d.FirstOutboundAt.Before(d.FirstInboundAt):
			lead = append(lead, seconds(d.FirstInboundAt.Sub(d.FirstOutboundAt)))
		default:
			ours = append(ours, seconds(d.FirstOutboundAt.Sub(d.FirstInboundAt)))
		}
	}
	t.LeadReply, t.OurReply = Delays{Count: len(lead), Median: median(lead)}, Delays{Count: len(ours), Median: median(ours)}
	return t, nil
}

// seconds is a delay (of row times: whole microseconds) in seconds, the
// float8 PostgreSQL's extract(epoch ...)::float8 gives (both round the
// exact quotient to the nearest float64).
func seconds(d time.Duration) float64 {
	return float64(d.Microseconds()) / 1e6
}

// median is percentile_cont(0.5) of PostgreSQL over xs (seconds), with
// its arithmetic, as a duration (fromSeconds); 0 when xs is empty. It
// sorts xs.
func median(xs []float64) time.Duration {
	if len(xs) == 0 {
		return 0
	}
	slices.Sort(xs)
	pos := 0.5 * float64(len(xs)-1)
	lo := math.Floor(pos)
	v := xs[int(lo)]
	if lo != pos {
		v += (xs[int(lo)+1] - v) * (pos - lo)
	}
	return fromSeconds(v)
}

// fromSeconds is a number of seconds as a duration to the microsecond.
func fromSeconds(s float64) time.Duration {
	return time.Duration(math.Round(s*1e6)) * time.Microsecond
}
