package domain

import (
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// CampaignStream is the stream of a campaign.
func CampaignStream(id uuid.UUID) string { return AggregateCampaign.Stream(id) }

// CampaignTargetStream is the index stream of one contact in one
// campaign: its first event (appended at expected version 0) claims the
// contact for the campaign, so each person gets at most one cold first
// message per campaign, whatever crashes or restarts happen.
func CampaignTargetStream(campaign, contact uuid.UUID) string {
	return "ctarget-" + campaign.String() + "-" + contact.String()
}

// CampaignStatus is where a campaign is.
type CampaignStatus string

const (
	StatusCampaignActive CampaignStatus = "active"
	StatusCampaignPaused CampaignStatus = "paused"
	StatusCampaignEnded  CampaignStatus = "ended"
)

// Segment selects contacts: all of Tags, every field equal, and (if set)
// from one import. An empty segment selects every contact.
type Segment struct {
	Tags   []string       `json:"tags,omitempty"`
	Fields []SegmentField `json:"fields,omitempty"`
	Import string         `json:"import,omitempty"`
}

// SegmentField is one field condition of a segment (the value compared
// case-insensitively).
type SegmentField struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Matches says whether a contact is in the segment (whether it may be
// written to is Contactable's question).
func (s Segment) Matches(c Contact) bool {
	for _, t := range s.Tags {
		if !c.HasTag(t) {
			return false
		}
	}
	for _, f := range s.Fields {
		if v, ok := c.Field(f.Name); !ok || !strings.EqualFold(strings.TrimSpace(v), strings.TrimSpace(f.Value)) {
			return false
		}
	}
	return s.Import == "" || c.Import == s.Import
}

// VariantWeight is a prompt variant of the campaign's scenario with its
// weight.
type VariantWeight struct {
	Name   string `json:"name"`
	Weight int    `json:"weight"`
}

// VariantsText is how people read a campaign's variants: "A 70, B 30".
func VariantsText(vs []VariantWeight) string {
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = v.Name + " " + strconv.Itoa(v.Weight)
	}
	return strings.Join(parts, ", ")
}

// CampaignSchedule is when a campaign opens dialogs: between Start and
// End, on Days (empty = every day), within each account's working hours
// (its Limits), from StartMinute to EndMinute in TimeZone if set (0/0 =
// the accounts' hours only).
type CampaignSchedule struct {
	Start       time.Time      `json:"start"`
	End         time.Time      `json:"end"`
	Days        []time.Weekday `json:"days,omitempty"`
	TimeZone    string         `json:"time_zone,omitempty"`
	StartMinute int            `json:"start_minute,omitempty"`
	EndMinute   int            `json:"end_minute,omitempty"`
}

// CampaignCaps bound a campaign beyond the accounts' own limits (0 = no
// extra bound).
type CampaignCaps struct {
	DailyNewDialogs int `json:"daily_new_dialogs,omitempty"` // the whole campaign, per day
	TotalDialogs    int `json:"total_dialogs,omitempty"`
}

// Campaign is a planned outreach as its events leave it.
type Campaign struct {
	ID       uuid.UUID
	Exists   bool
	Name     string
	Segment  Segment
	Scenario string // the scenario's name and version it was created with
	Version  string
	Variants []VariantWeight
	Accounts []uuid.UUID // allowed accounts; empty = every account
	Schedule CampaignSchedule
	Caps     CampaignCaps
	Status   CampaignStatus
	By       string
	// Optimize is the goal its variants' weights are optimized for
	// (GoalNone: fixed weights). Weights, Posteriors and Paused are the
	// last CampaignWeightsChanged's (nil before any).
	Optimize   Goal
	Weights    []VariantWeight
	Posteriors []Posterior
	Paused     []string
}

// Campaign commands.
type (
	CreateCampaign struct {
		CampaignID uuid.UUID
		Name       string
		Segment    Segment
		Scenario   string
		Version    string
		Variants   []VariantWeight
		Accounts   []uuid.UUID
		Schedule   CampaignSchedule
		Caps       CampaignCaps
		By         string
		Optimize   Goal // GoalNone: fixed weights
		// Offered are the prompt variants of the scenario, with its
		// weights; nil = not checked. When set, every variant must be
		// one of them, and no Variants means all of them with their
		// weights (at least 1 each).
		Offered []VariantWeight
	}
	PauseCampaign  struct{ By string }
	ResumeCampaign struct{ By string }
	EndCampaign    struct{ By, Reason string }
	// ReweightCampaign recomputes a self-optimizing campaign's weights
	// from its variants' outcomes so far (a variant not listed has none):
	// Thompson sampling with the random source seeded by Seed, and the
	// stop rule (see bandit.go). It records CampaignWeightsChanged when
	// a variant is paused or a weight moves by MinWeightChange or more,
	// nothing otherwise. Reason says what prompted it (no personal data).
	ReweightCampaign struct {
		Outcomes []ArmOutcomes
		Seed     uint64
		Reason   string
		At       time.Time
	}
)

// CampaignCommand is a command on a campaign.
type CampaignCommand interface{ campaignCommand() }

func (CreateCampaign) campaignCommand()   {}
func (PauseCampaign) campaignCommand()    {}
func (ResumeCampaign) campaignCommand()   {}
func (EndCampaign) campaignCommand()      {}
func (ReweightCampaign) campaignCommand() {}

// Campaign events.
type (
	CampaignCreated struct {
		CampaignID uuid.UUID        `json:"campaign_id"`
		Name       string           `json:"name"`
		Segment    Segment          `json:"segment"`
		Scenario   string           `json:"scenario"`
		Version    string           `json:"version"`
		Variants   []VariantWeight  `json:"variants"`
		Accounts   []uuid.UUID      `json:"accounts,omitempty"`
		Schedule   CampaignSchedule `json:"schedule"`
		Caps       CampaignCaps     `json:"caps"`
		By         string           `json:"by"`
		// Optimize: the goal (absent in events before it: fixed weights).
		Optimize Goal `json:"optimize,omitempty"`
	}
	// CampaignWeightsChanged is a self-optimizing campaign's new weights
	// (per mille, in the campaign's variant order), the posteriors they
	// were drawn from, and the variants paused by the stop rule (they
	// stay paused). Counts only: no personal data.
	CampaignWeightsChanged struct {
		Weights    []VariantWeight `json:"weights"`
		Posteriors []Posterior     `json:"posteriors"`
		Paused     []string        `json:"paused,omitempty"`
		Reason     string          `json:"reason"`
		At         time.Time       `json:"at"`
	}
	CampaignPaused struct {
		By string `json:"by"`
	}
	CampaignResumed struct {
		By string `json:"by"`
	}
	CampaignEnded struct {
		By     string `json:"by"`
		Reason string `json:"reason,omitempty"`
	}
	// CampaignTargeted claims a contact for a campaign (in its
	// CampaignTargetStream), with the account its dialog goes to and its
	// sticky variant.
	CampaignTargeted struct {
		CampaignID uuid.UUID `json:"campaign_id"`
		ContactID  uuid.UUID `json:"contact_id"`
		AccountID  uuid.UUID `json:"account_id"`
		Variant    string    `json:"variant"`
	}
)

func (CampaignCreated) EventType() string        { return "CampaignCreated" }
func (CampaignPaused) EventType() string         { return "CampaignPaused" }
func (CampaignResumed) EventType() string        { return "CampaignResumed" }
func (CampaignEnded) EventType() string          { return "CampaignEnded" }
func (CampaignTargeted) EventType() string       { return "CampaignTargeted" }
func (CampaignWeightsChanged) EventType() string { return "CampaignWeightsChanged" }

// DecideCampaign decides what a command does to a campaign.
func DecideCampaign(c Campaign, cmd CampaignCommand, now time.Time) ([]Event, error) {
	if _, create := cmd.(CreateCampaign); !create && !c.Exists {
		return nil, errorf(EINVALID, "unknown campaign")
	}
	switch cmd := cmd.(type) {
	case CreateCampaign:
		if c.Exists {
			return nil, errorf(ESTATE, "campaign %s already exists", c.ID)
		}
		if cmd.CampaignID == uuid.Nil {
			return nil, errorf(EINVALID, "a campaign needs an id")
		}
		cmd, err := NewCreateCampaign(cmd)
		if err != nil {
			return nil, err
		}
		return []Event{CampaignCreated{CampaignID: cmd.CampaignID, Name: cmd.Name, Segment: cmd.Segment,
			Scenario: cmd.Scenario, Version: cmd.Version, Variants: cmd.Variants, Accounts: cmd.Accounts,
			Schedule: cmd.Schedule, Caps: cmd.Caps, By: cmd.By, Optimize: cmd.Optimize}}, nil
	case PauseCampaign:
		switch c.Status {
		case StatusCampaignPaused:
			return nil, nil
		case StatusCampaignEnded:
			return nil, errorf(ESTATE, "campaign %s has ended", c.Name)
		}
		return []Event{CampaignPaused{By: cmd.By}}, nil
	case ResumeCampaign:
		switch c.Status {
		case StatusCampaignActive:
			return nil, nil
		case StatusCampaignEnded:
			return nil, errorf(ESTATE, "campaign %s has ended", c.Name)
		}
		return []Event{CampaignResumed{By: cmd.By}}, nil
	case EndCampaign:
		if c.Status == StatusCampaignEnded {
			return nil, nil
		}
		return []Event{CampaignEnded{By: cmd.By, Reason: cmd.Reason}}, nil
	case ReweightCampaign:
		return reweight(c, cmd)
	}
	return nil, errorf(EINVALID, "unknown campaign command %T", cmd)
}

// EvolveCampaign applies one event.
func EvolveCampaign(c Campaign, e Event) Campaign {
	switch e := e.(type) {
	case CampaignCreated:
		c = Campaign{ID: e.CampaignID, Exists: true, Name: e.Name, Segment: e.Segment, Scenario: e.Scenario, Version: e.Version,
			Variants: e.Variants, Accounts: e.Accounts, Schedule: e.Schedule, Caps: e.Caps, Status: StatusCampaignActive, By: e.By, Optimize: e.Optimize}
	case CampaignPaused:
		c.Status = StatusCampaignPaused
	case CampaignResumed:
		c.Status = StatusCampaignActive
	case CampaignEnded:
		c.Status = StatusCampaignEnded
	case CampaignWeightsChanged:
		c.Weights, c.Posteriors, c.Paused = e.Weights, e.Posteriors, e.Paused
	}
	return c
}

// NewDialogCap is how many new dialogs account a may open on the local
// day (in loc, nil = UTC) of t: its ramp on the first days after
// registration, then Limits.DailyNewDialogs; math.MaxInt when neither
// bounds it. A campaign scheduler paces its openings by it;
// ReserveNewDialog is what enforces it.
func NewDialogCap(a Account, t time.Time, loc *time.Location) int {
	return a.capOn(t, orUTC(loc))
}
