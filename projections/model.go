// Package projections folds the event log into read models: the rows the
// admin bot lists and views, and the tables analysts query. A projector is
// a pure function from an event to row changes; a Sink applies the changes
// of a batch together with the checkpoint (the last position applied) in
// one transaction, so a crash never applies an event twice or skips one.
//
// Two sinks: PostgreSQL (production, tables in migrations/) and memory (the
// default, rebuilt from the log at start). Both pass the suite in
// projections/sinktest.
package projections

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/domain"
)

// Errors of sinks.
var (
	// ErrNotFound: no row with that key.
	ErrNotFound = errors.New("projections: not found")
	// ErrCheckpoint: a batch does not follow the checkpoint (another runner
	// applied it, or a rebuild reset the sink meanwhile).
	ErrCheckpoint = errors.New("projections: batch does not follow the checkpoint")
)

// Contact is a contacts row.
type Contact struct {
	ID        uuid.UUID
	Source    string
	Basis     string
	Username  string
	Name      string
	Phone     string
	OptedOut  bool
	Forgotten bool
	CreatedAt time.Time
}

// Dialog is a dialogs row.
type Dialog struct {
	ID            uuid.UUID
	N             int64
	ContactID     uuid.UUID
	AccountID     uuid.UUID
	Variant       string
	Stage         string
	Status        string // active, handoff, closed
	Outcome       string // when closed
	Score         *int
	TakenOver     bool
	Inbound       int
	Outbound      int
	LastMessageAt time.Time // zero: no message yet
	CreatedAt     time.Time
	UpdatedAt     time.Time
	// Funnel facts: zero when it has not happened.
	FirstOutboundAt time.Time
	FirstInboundAt  time.Time
	HandoffAt       time.Time
	HandoffReason   string
	// Campaign is the campaign that opened the dialog (uuid.Nil: none; an
	// inbound or manual dialog).
	Campaign uuid.UUID
	// QualifiedAt is when the lead first counted as qualified: an interest
	// score of QualifiedScore or more (zero: not yet). It stays set if the
	// score drops later or the dialog closes.
	QualifiedAt time.Time
	// OptedOutBy is who opted the lead out when Outcome is opted-out
	// (domain.DialogOptedOut.By): empty or "lead" is the lead's own
	// choice, the only one the funnel counts as an opt-out; "admin:<id>",
	// "cli", "erasure" or "do-not-contact" are not the lead's answer to the
	// dialog.
	OptedOutBy string
	// The deal's outcome as last recorded (domain.OutcomeRecorded): when
	// OutcomeAt is set, Outcome is won or lost, whatever closed the
	// dialog before or after (a stop, an opt-out).
	OutcomeValue  domain.Money // a won deal's value; zero when unknown
	OutcomeReason string       // why the deal was lost (personal: erased with the contact)
	OutcomeAt     time.Time    // when the outcome was recorded; zero: none
	// The LLM's tokens over the dialog's turns, answered (TurnTaken) and
	// failed (TurnFailed: the calls spent before the model gave up), as
	// the provider counted them; 0 for the offline engine.
	PromptTokens     int64
	CompletionTokens int64
	// CachedPromptTokens: of PromptTokens, those the provider served
	// from its prompt cache (billed at their own price).
	CachedPromptTokens int64
}

// LeadOptedOut says whether the lead opted out of the dialog themself.
func (d Dialog) LeadOptedOut() bool {
	return d.Outcome == string(domain.OutcomeOptedOut) && (d.OptedOutBy == "" || d.OptedOutBy == domain.OptOutByLead)
}

// QualifiedScore is the interest score (0..100) from which a lead counts
// as qualified in every funnel: the dialogs' qualified_at, the
// campaign_funnel view, VariantFunnel and the A/B tests. One definition,
// so the bot, the CLI and SQL agree.
const QualifiedScore = 50

// Campaign is a campaigns row.
type Campaign struct {
	ID       uuid.UUID
	Name     string
	Status   string // active, paused, ended
	Scenario string // the scenario's name and version it was created with
	Version  string
	Variants []domain.VariantWeight // in the campaign's order: the first is the control of its A/B tests
	Segment  domain.Segment
	Accounts []uuid.UUID // allowed accounts; nil = every account
	// Schedule: Start and End in UTC; days, time zone and hours as created.
	Schedule domain.CampaignSchedule
	Caps     domain.CampaignCaps
	// Targeted counts the contacts the scheduler claimed for the campaign
	// (CampaignTargeted): each gets one cold first message at most.
	Targeted  int
	CreatedBy string
	EndReason string
	CreatedAt time.Time
	UpdatedAt time.Time
	// Optimize is the goal its variants' weights are optimized for
	// (domain.Goal as text; empty: fixed weights), and Bandit the last
	// weights the optimizer set (nil: none yet; Variants' weights hold).
	Optimize string
	Bandit   *Bandit
}

// Bandit is a self-optimizing campaign's last domain.CampaignWeightsChanged:
// the weights new dialogs are drawn by (per mille), each variant's
// posterior, the variants the stop rule paused, and why.
type Bandit struct {
	Weights    []domain.VariantWeight `json:"weights"`
	Posteriors []domain.Posterior     `json:"posteriors"`
	Paused     []string               `json:"paused,omitempty"`
	Reason     string                 `json:"reason"`
	At         time.Time              `json:"at"`
}

// Campaign statuses (domain.CampaignStatus as text).
const (
	CampaignActive = string(domain.StatusCampaignActive)
	CampaignPaused = string(domain.StatusCampaignPaused)
	CampaignEnded  = string(domain.StatusCampaignEnded)
)

// VariantCounts counts the dialogs of one prompt variant through the
// funnel. Replied: the lead wrote at least once. Qualified: the interest
// score reached QualifiedScore. Handoffs: handed to a manager. OptedOut,
// Lost, Won: closed so (or recorded so: domain.RecordOutcome). Revenue:
// the values of the won deals, summed by currency.
type VariantCounts struct {
	Variant   string
	Dialogs   int
	Replied   int
	Qualified int
	Handoffs  int
	OptedOut  int
	Lost      int
	Won       int
	Revenue   []domain.Money // by currency (byte order); nil when no won deal has a value
}

// Qualification is one qualification field of a dialog as last stated.
type Qualification struct {
	DialogID   uuid.UUID
	Field      string // need, budget, timeline, authority, or a scenario's custom field
	Value      string
	Quote      string
	Confidence float64
	UpdatedAt  time.Time
	// Money is the budget as a number and a currency (domain.Field.Money),
	// zero for other fields, a budget that does not read as money, and
	// an erased contact's.
	Money domain.Money
}

// Account is an accounts row.
type Account struct {
	ID            uuid.UUID
	Label         string
	Status        string
	Paused        bool
	Reason        string
	FloodUntil    time.Time
	Day           string // local date of DialogsToday
	DialogsToday  int
	MessagesTotal int
	UpdatedAt     time.Time
	// Configured limits (the ramp of a new account may cap lower).
	DailyCap          int
	MessagesPerMinute int
}

// FunnelRow counts dialogs of one group (a stage, a variant, an account,
// a day or a status) through the funnel.
type FunnelRow struct {
	Key      string
	Dialogs  int
	Replied  int // the lead wrote at least once
	Handoffs int
	OptedOut int
	Won      int
}

// Totals are figures over every dialog: the analytics page's tokens per
// qualified lead and times to the first reply.
type Totals struct {
	// The LLM's tokens over every dialog (Dialog.PromptTokens,
	// Dialog.CompletionTokens, Dialog.CachedPromptTokens).
	PromptTokens       int64
	CompletionTokens   int64
	CachedPromptTokens int64
	// LeadReply is how long leads took to answer our first message, over
	// the dialogs we wrote in first (FirstOutboundAt before
	// FirstInboundAt): FirstInboundAt-FirstOutboundAt.
	LeadReply Delays
	// OurReply is how long we took to send our first message, over the
	// dialogs the lead wrote in first (FirstInboundAt at or before
	// FirstOutboundAt): FirstOutboundAt-FirstInboundAt.
	OurReply Delays
}

// Delays are the delays of Count dialogs: their Median, interpolated
// between the two middle ones when Count is even (PostgreSQL's
// percentile_cont(0.5)), to the microsecond; zero when Count is 0.
type Delays struct {
	Count  int
	Median time.Duration
}

// Funnel groupings.
const (
	ByStage   = "stage"
	ByVariant = "variant"
	ByAccount = "account"
	ByDay     = "day"    // the dialog's start date, UTC
	ByStatus  = "status" // active, handoff, closed
)

// Message is a messages row.
type Message struct {
	DialogID   uuid.UUID
	Position   uint64 // of the event that recorded it
	Direction  string // in, out
	Author     string // lead, ai, manager
	Text       string
	At         time.Time
	TelegramID int64
	RandomID   int64
	Status     string // received, planned, sent, failed
	// File is the name of a file sent with the message (e.g. a booked
	// meeting's meeting.ics); "" when none. Its content stays in the log.
	File string
	// Media is what a lead's message carried besides text (a
	// domain.MediaKind: voice, photo, document, ...); "" for a text.
	// Transcribed: Text holds a voice note's transcript (after any
	// caption).
	Media       string
	Transcribed bool
}

// Shown is the message as people read it: its media first, in brackets
// ("[photo] caption", "[voice] transcript", "[video note]"), else its
// text.
func (m Message) Shown() string {
	if m.Media == "" {
		return m.Text
	}
	tag := "[" + strings.ReplaceAll(m.Media, "_", " ") + "]"
	if strings.TrimSpace(m.Text) == "" {
		return tag
	}
	return tag + " " + m.Text
}

// Turn is a turns row: one turn of the dialog engine, answered (TurnTaken)
// or failed because the model could not be reached (TurnFailed).
type Turn struct {
	DialogID         uuid.UUID
	Position         uint64 // of the event that recorded it
	At               time.Time
	Status           string // TurnOK or TurnFailed
	Kind             string // opening, reply, follow-up; "" when failed
	Engine           string // offline, llm
	Model            string
	Scenario         string // the scenario, its version, the variant and its version: "" when failed
	ScenarioVersion  string
	Variant          string
	VariantVersion   string
	Language         string
	PromptTokens     int
	CompletionTokens int
	// CachedPromptTokens: of PromptTokens, those the provider served
	// from its prompt cache.
	CachedPromptTokens int
	LatencyMs          int64
	Attempts           int
	Score              *int      // the interest score the turn gave, if any
	Flags              []string  // what the model or a guard noticed; nil if nothing
	Guards             []string  // what the guards changed; nil if nothing
	Reason             string    // failed: why the model could not be reached
	RetryAt            time.Time // failed: when the turn is tried again
}

// Turn statuses.
const (
	TurnOK     = "ok"
	TurnFailed = "failed"
)

// Dialog statuses.
const (
	StatusActive  = "active"
	StatusHandoff = "handoff"
	StatusClosed  = "closed"
)

// DialogFilter selects dialogs for a list; zero fields match all.
type DialogFilter struct {
	Status   string
	Stage    string
	Account  uuid.UUID
	Campaign uuid.UUID // the campaign that opened the dialog
	Since    time.Time // started at or after (CreatedAt)
	// Before keeps the dialogs numbered below it (0: all): the next page
	// of a list by N, newest first, starts below the last N of the
	// previous one (keyset paging: no row is skipped or repeated when new
	// dialogs open meanwhile).
	Before int64
	// Numbers keeps only the dialogs with these numbers (nil: any; empty:
	// none).
	Numbers []int64
	Limit   int // default 20
	Offset  int
}

// DialogLead is a dialog's number with its lead: what a search of a list
// matches on (DialogLeads).
type DialogLead struct {
	N         int64
	ContactID uuid.UUID
	// The contact's name and username; empty when the read models have no
	// contact row for it.
	Name, Username string
}

// Sink stores read models.
type Sink interface {
	// Apply applies the changes of the events at positions from..to and
	// sets the checkpoint to to (to.Position, its log and its hash),
	// atomically. It fails, applying nothing, with ErrCheckpoint unless the
	// checkpoint's position is from-1 (a batch is never applied twice by
	// two runners on one database, and none is skipped), and with an
	// error matching ErrOtherLog if the checkpoint is bound to a log other
	// than to.LogID.
	Apply(ctx context.Context, changes []Change, from uint64, to Checkpoint) error
	// Checkpoint is where the read model stands: the zero Checkpoint when
	// nothing was applied.
	Checkpoint(ctx context.Context) (Checkpoint, error)
	// Bind records cp's log and hash in a checkpoint that has none (an
	// empty read model, or one made before checkpoints recorded their
	// log), changing no row. It fails with ErrCheckpoint unless the
	// checkpoint's position is cp.Position, with an error matching
	// ErrOtherLog if the checkpoint is bound to another log, and with one
	// matching ErrLogRewritten if it is bound to cp's log with another
	// hash; binding again to the same log and hash is a no-op.
	Bind(ctx context.Context, cp Checkpoint) error
	// Reset drops every row and the checkpoint (its log too), for a
	// rebuild.
	Reset(ctx context.Context) error
	// ListDialogs returns dialogs by N, newest first.
	ListDialogs(ctx context.Context, f DialogFilter) ([]Dialog, error)
	// DialogLeads returns the dialogs ListDialogs would for f as their
	// numbers and leads only, in the same order: a search looks through
	// many dialogs for a name without reading their whole rows.
	DialogLeads(ctx context.Context, f DialogFilter) ([]DialogLead, error)
	// DialogByN returns dialog N, ErrNotFound if there is none.
	DialogByN(ctx context.Context, n int64) (Dialog, error)
	// Messages returns a dialog's messages in order.
	Messages(ctx context.Context, dialog uuid.UUID) ([]Message, error)
	// ContactByID returns a contact, ErrNotFound if there is none.
	ContactByID(ctx context.Context, id uuid.UUID) (Contact, error)
	// ContactsByID returns the contacts of ids (in one query: a list's
	// names), by id; an unknown id is absent from the map, no error.
	ContactsByID(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]Contact, error)
	// Qualification returns a dialog's qualification fields, the standard
	// and the custom ones, by name (byte order).
	Qualification(ctx context.Context, dialog uuid.UUID) ([]Qualification, error)
	// Turns returns a dialog's turns by position; a dialog without turns
	// (or an unknown one) gives none and no error, as Messages does.
	Turns(ctx context.Context, dialog uuid.UUID) ([]Turn, error)
	// Accounts returns every account by label.
	Accounts(ctx context.Context) ([]Account, error)
	// Funnel counts dialogs by ByStage, ByVariant, ByAccount, ByDay or
	// ByStatus, ordered by key.
	Funnel(ctx context.Context, by string) ([]FunnelRow, error)
	// Campaigns returns every campaign, newest first (by creation, then
	// id).
	Campaigns(ctx context.Context) ([]Campaign, error)
	// Campaign returns one campaign, an error matching ErrNotFound if there
	// is none.
	Campaign(ctx context.Context, id uuid.UUID) (Campaign, error)
	// VariantFunnel counts the dialogs of campaign (uuid.Nil: every
	// dialog, with or without a campaign) started at or after since (zero:
	// all time) by variant, ordered by variant (byte order). No dialogs
	// give none and no error.
	VariantFunnel(ctx context.Context, campaign uuid.UUID, since time.Time) ([]VariantCounts, error)
	// Totals sums every dialog's tokens and counts its qualified leads,
	// with the medians of the times to the first reply. No dialogs give
	// zero Totals and no error.
	Totals(ctx context.Context) (Totals, error)
	// Meeting returns the meeting of a dialog, an error matching
	// ErrNotFound if none was ever proposed in it.
	Meeting(ctx context.Context, dialog uuid.UUID) (Meeting, error)
	// UpcomingMeetings returns the booked meetings that end after from,
	// by start (then dialog number), at most limit of them (<= 0:
	// UpcomingLimit). None give none and no error.
	UpcomingMeetings(ctx context.Context, from time.Time, limit int) ([]Meeting, error)
	// Insight returns the latest insight of a dialog, an error matching
	// ErrNotFound if none was recorded.
	Insight(ctx context.Context, dialog uuid.UUID) (Insight, error)
	// TopObjections returns "top objections by variant" of a campaign
	// (uuid.Nil: the dialogs no campaign opened): by variant, the most
	// dialogs first. None give none and no error.
	TopObjections(ctx context.Context, campaign uuid.UUID) ([]ObjectionCount, error)
}
