package campaigns

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/adapters/app/engine"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/eventstore"
	"github.com/salesbot/salesbot/projections"
)

// How many openings a preview shows.
const (
	DefaultPreview = 5
	MaxPreview     = 50
)

// PreviewRequest asks for the openings of a campaign's first N contacts.
type PreviewRequest struct {
	Ref string // the campaign: its id, short id or name (Find)
	N   int    // 1..MaxPreview
}

// Preview is a campaign's openings for some of its contacts, written
// before it writes to them.
type Preview struct {
	Campaign projections.Campaign
	// Scenario and Version are the engine's, which writes the openings;
	// they may differ from those the campaign was created with.
	Scenario, Version string
	Audience          int // the contacts of the segment that may be written to
	Openings          []PreviewOpening
}

// PreviewOpening is one contact's opening.
type PreviewOpening struct {
	Contact  uuid.UUID
	Username string // without @; "" if the contact has none
	engine.Opening
}

// PreviewOpenings writes the openings of the first req.N contacts of a
// campaign's segment that may be written to (in the order they entered
// the log, as the scheduler takes them), each in the variant the campaign
// gives that contact, with core's model, scenario and guards
// (engine.Core.PreviewOpening). Nothing is sent
// and nothing is recorded: no dialog, no turn, no claim on a contact. An N
// out of range is an EINVALID *domain.Error on the field "n"; an unknown
// campaign, as Find says.
func PreviewOpenings(ctx context.Context, h domain.Handlers, store eventstore.Store, decode func(*eventstore.RecordedEvent) (domain.Event, error),
	sink projections.Sink, core *engine.Core, req PreviewRequest) (Preview, error) {
	if req.N < 1 || req.N > MaxPreview {
		return Preview{}, &domain.Error{Code: domain.EINVALID, Field: "n", Message: fmt.Sprintf("preview 1 to %d openings, not %d", MaxPreview, req.N)}
	}
	c, err := Find(ctx, sink, req.Ref)
	if err != nil {
		return Preview{}, err
	}
	camp, err := h.LoadCampaign(ctx, c.ID)
	if err != nil {
		return Preview{}, fmt.Errorf("campaigns: load campaign %s: %w", c.ID, err)
	}
	audience, err := segmentContacts(ctx, store, decode, camp.Segment)
	if err != nil {
		return Preview{}, err
	}
	out := Preview{Campaign: c, Scenario: core.Scenario.Name, Version: core.Scenario.Version, Audience: len(audience)}
	weights := camp.CurrentWeights()
	for _, ct := range audience[:min(req.N, len(audience))] {
		o, err := core.PreviewOpening(ctx, ct, AssignVariant(c.ID, ct.ID, weights))
		if err != nil {
			return Preview{}, fmt.Errorf("campaigns: preview the opening of campaign %s for contact %s: %w", c.ID, ct.ID, err)
		}
		out.Openings = append(out.Openings, PreviewOpening{Contact: ct.ID, Username: ct.Username, Opening: o})
	}
	return out, nil
}

// segmentContacts are the contacts of the log seg selects that may be
// written to now, whole (personal fields too), in the order they entered
// the log.
func segmentContacts(ctx context.Context, store eventstore.Store, decode func(*eventstore.RecordedEvent) (domain.Event, error), seg domain.Segment) ([]domain.Contact, error) {
	relevant := map[string]bool{domain.ContactTelegramUserSet{}.EventType(): true}
	for _, e := range contactEvents {
		relevant[e.EventType()] = true
	}
	states := map[uuid.UUID]*domain.Contact{}
	var order []uuid.UUID
	err := scanContacts(ctx, store, decode, relevant, func(id uuid.UUID, e domain.Event) {
		st := states[id]
		if st == nil {
			st = &domain.Contact{}
			states[id] = st
			order = append(order, id)
		}
		*st = domain.EvolveContact(*st, e)
	})
	if err != nil {
		return nil, err
	}
	var out []domain.Contact
	for _, id := range order {
		if c := *states[id]; c.Exists && seg.Matches(c) && c.Contactable() == nil {
			out = append(out, c)
		}
	}
	return out, nil
}

// WriteText writes the preview as 'campaigns preview' prints it.
func (p Preview) WriteText(w io.Writer) error {
	c := p.Campaign
	fmt.Fprintf(w, "%s (%s) — %s; openings by scenario %s %s", c.Name, projections.ShortID(c.ID), c.Status, p.Scenario, p.Version)
	if p.Scenario != c.Scenario || p.Version != c.Version {
		fmt.Fprintf(w, " (the campaign was created with %s %s)", c.Scenario, c.Version)
	}
	fmt.Fprintf(w, "\n%d of %s that may be written to; nothing is sent or recorded\n", len(p.Openings), plural(p.Audience, "contact"))
	if len(p.Openings) == 0 {
		_, err := fmt.Fprintln(w, "no contact of the segment may be written to: nothing to preview")
		return err
	}
	for i, o := range p.Openings {
		who := "contact " + projections.ShortID(o.Contact)
		if o.Username != "" {
			who += " @" + o.Username
		}
		how := o.Engine
		if !o.Model {
			how += ", the scenario's opening (the model's was not used)"
		}
		fmt.Fprintf(w, "\n%d. %s · variant %s · %s\n", i+1, who, o.Variant, how)
		fmt.Fprintf(w, "   %s\n", strings.Join(strings.Fields(o.Text), " "))
		for _, g := range o.Guards {
			if domain.GuardKindOf(g) != domain.GuardDisclosureAdded {
				fmt.Fprintf(w, "   guard: %s\n", g)
			}
		}
	}
	return nil
}
