// Package campaigns runs the campaign scheduler: it opens the dialogs of
// every active campaign, spread evenly over the campaign's schedule,
// within the accounts' limits, from the accounts the campaign may use.
//
// Everything it knows comes from the event log, which it reads from the
// beginning and then follows (each Step first reads what was appended
// since the last): campaigns, contacts (only what segments need: tags,
// custom fields, import, and whether they may be written to), which
// contacts each campaign has claimed (CampaignTargeted) and opened
// (DialogStarted with the campaign), and the accounts (registered,
// removed, paused, restricted, lost, limits, new dialogs per local day).
// Nothing is kept elsewhere: a restart rebuilds the same plan.
//
// # The rules
//
// Targets. A campaign's targets are the contacts in its segment that may
// be written to (domain.Contact.Contactable: not opted out, not erased,
// not unreachable) and that the campaign has not opened a dialog with.
// A contact enters the log only with a source and a lawful basis (the
// domain refuses one without), so every target has both.
//
// Sticky account. Each contact belongs to one account of the campaign:
// of the campaign's accounts (its list, or every account; an account
// removed while healthy drops out, one removed while restricted or lost
// stays), the one with the highest hash of (campaign, contact, account)
// — rendezvous hashing (AssignAccount). Not "least loaded": a contact
// that belonged to an account when it was restricted, paused or lost
// (over the accounts as they were then) stays with it and waits, whatever
// accounts come or go (Owners). Every other contact goes by the hash over
// the healthy accounts only: adding an account takes an even slice of
// every healthy account's unclaimed contacts, never of one in particular
// and nothing of an unhealthy one's; an account removed while healthy
// gives its contacts to healthy ones. Once the account is resumed its
// contacts are spread as everyone's again. The claim records the
// account; from then on it is fixed, unless that account is removed
// while healthy: then its claimed contacts that have no dialog yet move
// with its others (the claim's variant stays).
//
// Sticky variant. The prompt variant is drawn by weight with a hash of
// (campaign, contact) (AssignVariant), recorded in the claim and passed
// to the dialog, so a contact gets the same variant on every run and the
// split follows the weights: the campaign's current ones
// (domain.Campaign.CurrentWeights), which a self-optimizing campaign
// changes as outcomes come in (bandit.go); a claimed contact keeps its
// variant.
//
// Claim, then open. Just before its opening a target is claimed by
// appending CampaignTargeted to domain.CampaignTargetStream(campaign,
// contact) at expected version 0; a conflict means someone else claimed
// it, and it is skipped. Then the contact is loaded again and, only if it
// may be written to at that moment, the Opener opens the dialog from the
// claimed account (never another: Opener.Open pins it). Within a lane the
// contact that entered the log first goes first.
//
// The crash window. If the process dies after a claim and before the
// dialog is started, the claim is the intent: on the next start a claimed
// contact without a dialog of the campaign goes first in its account's
// line and is opened (still only if it may be written to; accounts.Start
// also refuses a contact who has an open dialog). So the contact gets at
// most one cold message per campaign (the claim stream takes one claim),
// and is not lost silently. The scheduler assumes it is the only one
// running on the log, which `salesbot run` guarantees (it holds the log).
//
// Spreading. Each account's openings in a campaign (its lane) are spread
// evenly over the time the window is open — the campaign's Start..End,
// its Days and hours (in its time zone if it has one, else in the
// account's), and the account's working hours (NextDue):
//   - with fewer contacts left than the caps allow in the rest of the
//     window, the next opening is due after the open time left ÷
//     (contacts left + 1), but never sooner than today's open time left ÷
//     (today's allowance + 1), so a day's cap is spread over the whole
//     working day rather than spent in its first hours;
//   - with more contacts than the caps allow (the usual case), after
//     today's open time left ÷ (today's allowance + 1): every day's
//     allowance is used, spread over that day.
//
// Gaps are counted in open time (one that crosses the evening ends the
// next morning) from when the last opening was due, so the rhythm holds
// however coarse the steps; a lane held up for longer than a gap starts
// afresh from now and never bursts to catch up.
//
// Caps. An account's cap and ramp (domain.NewDialogCap) less what it
// opened today bound its lane; campaigns sharing an account split what is
// left evenly. The domain enforces them: ReserveNewDialog rejects an
// opening past them with ELIMIT and a RetryAt, and the lane waits until
// then. A campaign's DailyNewDialogs (per day in its time zone, or UTC) is
// split between its lanes by what each could open that day, its
// TotalDialogs by their contacts left (Shares): a lane never takes
// another's share, and the campaign never passes either cap.
//
// Restrictions. A restricted (PEER_FLOOD), paused, lost or removed account
// opens nothing; its contacts and its shares of the campaign's caps stay
// with it and wait — they are never moved to other accounts — and admins
// hear of it once (Notify "campaign-account-paused") until the account
// is usable again. A flood wait only delays the lane; an Opener failure
// that gives no retry time (an account still connecting, a store error)
// makes the lane wait 5 s, doubling to 5 min while it goes on; the
// contact it failed for waits on its own (1 min, doubling to 1 h) and
// another one goes next, so one contact that keeps failing never holds up
// its lane. When that next one opens, the failure was the contact's; after
// 5 of those the contact is given up (a warning, Notify
// "campaign-contact-failed"). An account failing for everyone gives up on
// nobody. A contact the Opener refuses (ErrContact) or gives up on is not
// tried again by this process.
//
// The campaign. A paused or ended campaign opens nothing; one whose End
// has passed is ended (EndCampaign{By: "scheduler", Reason: "schedule
// over"}, Notify "campaign-ended"). Opt-outs after a claim are caught
// twice: the scheduler never calls Open for a contact that may not be
// written to at that moment, and the outbox checks again before sending.
//
// Step is one look at every campaign: Run calls it every Tick, and tests
// drive it on a fake clock.
package campaigns
