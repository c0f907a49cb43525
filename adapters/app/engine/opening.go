package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/domain/scenario"
)

// Why the model's opening is missing, as the turn records it (never the
// provider's words, which may quote the lead's data).
const (
	openingInvalid     = "model output invalid"
	openingRefused     = "the provider refused the request"
	openingUnavailable = "model unavailable"
)

// writeOpening fills cmd, the opening turn of dialog d, with an opening
// the model writes for the lead (domain.Lead of contact, in the variant's
// brief) and the scenario's opening merged for the lead as its fallback
// (domain.TakeTurn.Fallback; with the merge fields' fallbacks alone when
// the lead's values fail a guard): the guards send the model's only if it
// passes them all. A model that fails — its output invalid, the provider
// refusing, unreachable — leaves the fallback, and the turn says why; an
// opening never waits for a model. The offline engine writes the merged
// opening itself. Only a done ctx is an error.
func (c *Core) writeOpening(ctx context.Context, cmd *domain.TakeTurn, d domain.Dialog, contact domain.Contact, variant scenario.Variant, lang string) error {
	lead := domain.LeadOf(contact)
	opening := c.Scenario.Opening(variant, lang)
	cmd.Fallback = scenario.Merge(opening, lead.MergeFields())
	if _, why := domain.OpeningWithheld(cmd.Fallback, cmd.Rules); why != "" && strings.TrimSpace(opening) != "" {
		// The lead's own fields hold what the guards withhold (a figure,
		// a link): the opening with its fallbacks alone, checked at load.
		c.logger().Warn("engine: the lead's fields fail the guards in the scenario's opening; its fallbacks are used", "dialog", d.N, "why", why)
		cmd.Fallback = scenario.Merge(opening, nil)
	}
	if strings.TrimSpace(cmd.Fallback) == "" {
		cmd.Usage = domain.Usage{Engine: "scenario"} // no opening: the turn is refused as before
		return nil
	}
	in := domain.TurnInput{Kind: domain.TurnOpening, Scenario: c.Scenario, Variant: variant, Language: lang, Stage: d.Stage, Qual: d.Qual, Lead: lead}
	tctx, cancel := context.WithTimeout(ctx, c.turnTimeout())
	out, usage, err := c.Model.Turn(tctx, in)
	cancel()
	cmd.Usage = usage
	if cmd.Usage.Engine == "" {
		cmd.Usage.Engine = "model"
	}
	switch {
	case err == nil:
		cmd.Output = domain.TurnOutput{Reply: out.Reply} // an opening moves no stage and learns nothing
	case ctx.Err() != nil:
		return ctx.Err()
	case errors.Is(err, domain.ErrModelRefused):
		cmd.Invalid, cmd.Refused = openingRefused, true
	case errors.Is(err, domain.ErrModelOutputInvalid):
		cmd.Invalid = openingInvalid
	default:
		cmd.Invalid = openingUnavailable
		c.logger().Warn("engine: the model could not write an opening; the scenario's is sent", "dialog", d.N, "engine", usage.Engine)
	}
	return nil
}

func (c *Core) logger() *slog.Logger {
	if c.Log != nil {
		return c.Log
	}
	return slog.New(slog.DiscardHandler)
}

// Opening is an opening written for a contact without sending it: what a
// campaign's dialog with them would start with.
type Opening struct {
	Variant string
	Text    string   // as it would be sent, the disclosure line included
	Engine  string   // who wrote it: "llm", "offline", ...
	Model   bool     // the model's own text (else the scenario's opening, merged, as the guards fell back to it)
	Guards  []string // what the guards did, as the turn would record it
}

// previewAccount is the account a preview's dialog is started on (none
// sends anything).
var previewAccount = uuid.MustParse("00000000-0000-7000-8000-0000007e1e55")

// PreviewOpening writes the opening of a dialog with contact in variant
// (a scenario variant's name; "" or one the scenario does not have =
// picked by weight, as the engine does) as the engine would,
// through the same model and guards (domain.DecideDialog on a dialog that
// exists only here), and records nothing: no dialog, no turn, no message.
// The contact must be one an account may write to
// (domain.Contact.Contactable).
func (c *Core) PreviewOpening(ctx context.Context, contact domain.Contact, variant string) (Opening, error) {
	now := c.now()
	d := domain.Dialog{}
	id := uuid.NewSHA1(previewAccount, contact.ID[:])
	evs, err := domain.DecideDialog(d, domain.StartDialog{DialogID: id, N: 1, Contact: contact, AccountID: previewAccount, Variant: variant, By: "preview"}, now)
	if err != nil {
		return Opening{}, fmt.Errorf("engine: preview an opening for contact %s: %w", contact.ID, err)
	}
	for _, e := range evs {
		d = domain.EvolveDialog(d, e)
	}
	v := c.variant(d) // an unknown one (of another scenario) is picked by weight, as the engine does
	lang := c.Scenario.Language
	cmd := domain.TakeTurn{Kind: domain.TurnOpening, Rules: c.rules(lang), RandomIDs: []int64{1, 2},
		Meta: domain.TurnMeta{Scenario: c.Scenario.Name, ScenarioVersion: c.Scenario.Version, Variant: v.Name, VariantVersion: v.Version, Language: lang}}
	if err := c.writeOpening(ctx, &cmd, d, contact, v, lang); err != nil {
		return Opening{}, err
	}
	evs, err = domain.DecideDialog(d, cmd, now)
	if err != nil {
		return Opening{}, fmt.Errorf("engine: preview an opening for contact %s: %w", contact.ID, err)
	}
	o := Opening{Variant: v.Name, Engine: cmd.Usage.Engine}
	for _, e := range evs {
		switch e := e.(type) {
		case domain.TurnTaken:
			o.Guards = e.Guards
		case domain.OutboundPlanned:
			o.Text = e.Text
		}
	}
	o.Model = !hasKind(o.Guards, domain.GuardOpeningFallback)
	return o, nil
}

func hasKind(guards []string, k domain.GuardKind) bool {
	for _, g := range guards {
		if domain.GuardKindOf(g) == k {
			return true
		}
	}
	return false
}

func (c *Core) now() (t time.Time) {
	if c.H.Now != nil {
		return c.H.Now()
	}
	return time.Now()
}

// Core is the engine's turn-taker (its model and scenario): a campaign's
// preview writes openings with it.
func (e *Engine) Core() *Core { return e.cfg.Core }
