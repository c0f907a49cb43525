package campaigns

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/adapters/eventlog"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/eventstore"
	"github.com/salesbot/salesbot/projections"
)

// CreateRequest is a campaign to create: the command (checked with
// domain.NewCreateCampaign; a zero CampaignID gets a random one, so the
// first 8 characters tell campaigns apart) and the accounts that may
// write for it, by id or label (none: every account).
type CreateRequest struct {
	domain.CreateCampaign
	Accounts []string
}

// Created is the campaign Create created.
type Created struct {
	domain.CreateCampaign          // as recorded: variants resolved, accounts by id
	Labels                []string // the accounts' labels, as the request named them
	Audience              Audience // whom its segment selects now
}

// Create creates a campaign, for the CLI, the admin bot and the API: the
// domain's rules (domain.NewCreateCampaign), a name no other campaign
// has (case-insensitively), accounts that exist (not removed), each once,
// and a label naming one account only. It counts the contacts the
// segment selects now (CountSegment). Rule violations are *domain.Error
// with code EINVALID and the Field at fault ("accounts" for the accounts;
// the rest as NewCreateCampaign). sink must be up to date with the log.
func Create(ctx context.Context, h domain.Handlers, store eventstore.Store, sink projections.Sink, req CreateRequest) (Created, error) {
	cmd, err := domain.NewCreateCampaign(req.CreateCampaign)
	if err != nil {
		return Created{}, err
	}
	existing, err := sink.Campaigns(ctx)
	if err != nil {
		return Created{}, fmt.Errorf("list campaigns: %w", err)
	}
	for _, c := range existing {
		if strings.EqualFold(c.Name, cmd.Name) {
			return Created{}, &domain.Error{Code: domain.EINVALID, Field: "name",
				Message: fmt.Sprintf("campaign %s is called %q already; choose another name", projections.ShortID(c.ID), c.Name)}
		}
	}
	out := Created{}
	if cmd.Accounts, out.Labels, err = resolveAccounts(ctx, sink, req.Accounts); err != nil {
		return Created{}, err
	}
	if out.Audience, err = CountSegment(ctx, store, eventlog.New(store).Decode, cmd.Segment); err != nil {
		return Created{}, err
	}
	if cmd.CampaignID == uuid.Nil {
		cmd.CampaignID = uuid.New()
	}
	if _, err := h.Campaign(ctx, cmd.CampaignID, cmd); err != nil {
		if domain.ErrorCode(err) == domain.EINVALID {
			return Created{}, err
		}
		return Created{}, fmt.Errorf("create campaign %s: %w", cmd.CampaignID, err)
	}
	out.CreateCampaign = cmd
	return out, nil
}

// resolveAccounts turns account references (ids or labels) into ids.
func resolveAccounts(ctx context.Context, sink projections.Sink, refs []string) ([]uuid.UUID, []string, error) {
	if len(refs) == 0 {
		return nil, nil, nil
	}
	accs, err := sink.Accounts(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("list accounts: %w", err)
	}
	invalid := func(format string, args ...any) error {
		return &domain.Error{Code: domain.EINVALID, Field: "accounts", Message: fmt.Sprintf(format, args...)}
	}
	var ids []uuid.UUID
	var labels []string
	for _, ref := range refs {
		id, idErr := uuid.Parse(ref)
		var found []projections.Account
		for _, a := range accs {
			if a.Status != string(domain.StatusRemoved) && ((idErr == nil && a.ID == id) || strings.EqualFold(a.Label, ref)) {
				found = append(found, a)
			}
		}
		switch {
		case len(found) == 0:
			return nil, nil, invalid("no account %q (see 'salesbot accounts list')", ref)
		case len(found) > 1:
			return nil, nil, invalid("%d accounts are labelled %q; give the id", len(found), ref)
		case slices.Contains(ids, found[0].ID):
			return nil, nil, invalid("%s is given twice", ref)
		}
		ids, labels = append(ids, found[0].ID), append(labels, found[0].Label)
	}
	return ids, labels, nil
}

// Find finds the campaign ref names: its id, the first characters of its
// id, or its name. None is an error matching projections.ErrNotFound;
// several, an EINVALID *domain.Error naming them all.
func Find(ctx context.Context, sink projections.Sink, ref string) (projections.Campaign, error) {
	cs, err := sink.Campaigns(ctx)
	if err != nil {
		return projections.Campaign{}, fmt.Errorf("list campaigns: %w", err)
	}
	found := projections.MatchCampaigns(cs, ref)
	switch len(found) {
	case 0:
		return projections.Campaign{}, fmt.Errorf("no campaign %q (see 'salesbot campaigns list'): %w", ref, projections.ErrNotFound)
	case 1:
		return found[0], nil
	}
	var names []string
	for _, c := range found {
		names = append(names, fmt.Sprintf("%s (%s)", c.Name, projections.ShortID(c.ID)))
	}
	return projections.Campaign{}, &domain.Error{Code: domain.EINVALID,
		Message: fmt.Sprintf("%q matches %d campaigns: %s; give more of the id", ref, len(found), strings.Join(names, ", "))}
}

// SetPaused pauses a campaign (pause) or resumes it, by by (domain.PauseCampaign,
// domain.ResumeCampaign), for the CLI and the admin bot. ref names it as
// Find reads it. changed is false when it was so already.
func SetPaused(ctx context.Context, h domain.Handlers, sink projections.Sink, ref string, pause bool, by string) (c projections.Campaign, changed bool, err error) {
	if c, err = Find(ctx, sink, ref); err != nil {
		return c, false, err
	}
	var cmd domain.CampaignCommand = domain.PauseCampaign{By: by}
	verb := "pause"
	if !pause {
		cmd, verb = domain.ResumeCampaign{By: by}, "resume"
	}
	evs, err := h.Campaign(ctx, c.ID, cmd)
	if err != nil {
		return c, false, fmt.Errorf("%s campaign %s: %w", verb, c.ID, err)
	}
	return c, len(evs) > 0, nil
}
