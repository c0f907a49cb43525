package domain

import (
	"reflect"
	"slices"
	"testing"
)

// notPersonal lists every plain string field of an event that is not
// tagged personal, and why it holds nothing of a lead: codes, ids of
// managers and the company's own names. A new string field must be
// tagged `personal:"..."` or listed here with its reason.
var notPersonal = map[string]string{
	"LeaseGranted.Key":                             "an account id or \"leader\": the lease a node took",
	"LeaseGranted.Holder":                          "a node id (a UUID) or the name an operator gave it",
	"ContactAdded.Import":                          "an import's id, imp-<uuid>",
	"ContactAdded.Tags[]":                          "labels for segments; by design readable after erasure (docs/contacts.md)",
	"ContactAdded.Fields[].Name":                   "a custom field's name from the import's header",
	"ContactMerged.Tags[]":                         "as ContactAdded.Tags",
	"ContactMerged.Fields[].Name":                  "as ContactAdded.Fields.Name",
	"ContactMerged.Import":                         "an import's id",
	"ContactOptedOut.By":                           "who: lead, ai, cli, admin:<id>",
	"ContactForgotten.By":                          "who: cli, admin:<id>",
	"ContactUnreachable.Reason":                    "Telegram's error code (USER_PRIVACY_RESTRICTED, ...)",
	"DialogStarted.Variant":                        "a prompt variant's name",
	"DialogStarted.By":                             "who: ai, inbound, sandbox, admin:<id>",
	"OutboundPlanned.Person":                       "the manager who wrote: admin:<id>",
	"OutboundPlanned.File.Name":                    "a file name the code gives (meeting.ics)",
	"OutboundPlanned.File.MIME":                    "a media type",
	"InsightsRecorded.Objections[]":                "ids of the scenario's objections list",
	"InsightsRecorded.By":                          "a code: llm, rules",
	"InsightsRecorded.Model":                       "the model's name from the configuration",
	"InboundReceived.Media.MIME":                   "a media type Telegram gives",
	"InboundReceived.TranscriptError":              "a fixed reason or Telegram's error code (adapters/app/accounts/media.go)",
	"MeetingProposed.Link":                         "the company's booking link from the configuration",
	"MeetingProposed.Reason":                       "a code: taken, zone",
	"MeetingBooked.UID":                            "the calendar event's UID, a hash of the calendar and the slot",
	"MeetingBooked.Href":                           "the calendar event's URL on the company's calendar, named by the UID",
	"MeetingBooked.Manager":                        "the manager whose calendar it is, from the configuration",
	"OutboundFailed.Reason":                        "Telegram's error code or a network error",
	"QualificationUpdated.Qual.Custom[].Name":      "a scenario field's name",
	"DialogTakenOver.By":                           "a manager: admin:<id>, or telegram-app",
	"DialogReleased.By":                            "a manager: admin:<id>",
	"DialogStopped.By":                             "who: admin:<id>, engine",
	"DialogOptedOut.By":                            "who: lead, admin:<id>, cli, erasure, do-not-contact",
	"DialogClosed.By":                              "who: ai, telegram, admin:<id>",
	"DialogClosed.Reason":                          "fixed texts and Telegram's error codes only (CloseDialog takes no reason)",
	"OutcomeRecorded.Amount":                       "the deal's value: the company's revenue, kept after an erasure",
	"OutcomeRecorded.Currency":                     "an ISO 4217 code",
	"OutcomeRecorded.By":                           "who: admin:<id>, api:<token>, cli",
	"QualificationUpdated.Qual.Need.Currency":      "an ISO 4217 code (only budgets have one)",
	"QualificationUpdated.Qual.Budget.Currency":    "an ISO 4217 code; the amount is personal",
	"QualificationUpdated.Qual.Timeline.Currency":  "an ISO 4217 code (only budgets have one)",
	"QualificationUpdated.Qual.Authority.Currency": "an ISO 4217 code (only budgets have one)",
	"AccountRegistered.Label":                      "the company account's label",
	"AccountRegistered.Limits.TimeZone":            "the account's time zone",
	"AccountLimitsChanged.Limits.TimeZone":         "the account's time zone",
	"AccountDisconnected.Reason":                   "a connection error",
	"AccountRestricted.Reason":                     "Telegram's error code",
	"AccountLost.Reason":                           "Telegram's error code",
	"AccountPaused.By":                             "a manager: admin:<id>",
	"AccountResumed.By":                            "a manager: admin:<id>",
	"AccountRemoved.By":                            "a manager: admin:<id>",
	"NewDialogReserved.Day":                        "a local date",
	"TurnTaken.Engine":                             "offline or llm",
	"TurnTaken.Model":                              "the model's name",
	"TurnTaken.Scenario":                           "the scenario's name",
	"TurnTaken.ScenarioVersion":                    "a version",
	"TurnTaken.Variant":                            "a prompt variant's name",
	"TurnTaken.VariantVersion":                     "a version",
	"TurnTaken.Language":                           "en or ru",
	"TurnTaken.Flags[]":                            "flag names: opt-out, asks-if-bot, ...",
	"TurnTaken.Guards[]":                           "what a guard changed, in the engine's own words (field names, amounts the AI wrote)",
	"TurnFailed.Engine":                            "offline or llm",
	"TurnFailed.Model":                             "the model's name",
	"TurnFailed.Reason":                            "why the model could not be reached (an HTTP or network error)",
	"CampaignCreated.Name":                         "the campaign's name",
	"CampaignCreated.Segment.Tags[]":               "segment criteria, not a person",
	"CampaignCreated.Segment.Fields[].Name":        "segment criteria",
	"CampaignCreated.Segment.Fields[].Value":       "segment criteria (a city, a company size), not a person",
	"CampaignCreated.Segment.Import":               "an import's id",
	"CampaignCreated.Scenario":                     "the scenario's name",
	"CampaignCreated.Version":                      "a version",
	"CampaignCreated.Variants[].Name":              "a prompt variant's name",
	"CampaignCreated.Schedule.TimeZone":            "the campaign's time zone",
	"CampaignCreated.By":                           "a manager: admin:<id>, cli",
	"CampaignPaused.By":                            "a manager",
	"CampaignResumed.By":                           "a manager",
	"CampaignEnded.By":                             "a manager or the scheduler",
	"CampaignEnded.Reason":                         "why the campaign ended, about the campaign",
	"CampaignTargeted.Variant":                     "a prompt variant's name",
	"CampaignWeightsChanged.Weights[].Name":        "a prompt variant's name",
	"CampaignWeightsChanged.Posteriors[].Variant":  "a prompt variant's name",
	"CampaignWeightsChanged.Paused[]":              "prompt variants' names",
	"CampaignWeightsChanged.Reason":                "counts and rates of variants (domain.ReweightCampaign), never a person",
	"TokenCreated.Name":                            "an API token's name, chosen by an admin for a program (crm, reports)",
	"TokenCreated.Prefix":                          "an API token's public id (sb_...)",
	"TokenCreated.By":                              "who: cli, admin:<id>, token:<prefix>",
	"TokenRevoked.By":                              "who: cli, admin:<id>, token:<prefix>",
	"TokenRevoked.Reason":                          "why an admin revoked a token, about the token",
	"WebLinkIssued.By":                             "who asked for a sign-in link: cli, admin:<id>, token:<prefix>, web:<session>",
	"WebSessionEnded.By":                           "who ended a web session: web:<session>, admin:<id>, cli, token:<prefix>",
	"WebSessionEnded.Reason":                       "fixed texts: signed out, ended by admin",
	"WebhookSubscribed.URL":                        "a receiver's URL (a program's, not a lead's); logged as scheme and host only",
	"WebhookSubscribed.By":                         "who subscribed: cli, admin:<id>, token:<prefix>, web:<session>",
	"WebhookRemoved.By":                            "who removed a webhook: cli, admin:<id>, token:<prefix>, web:<session>",
	"WebhookDisabled.Reason":                       "the delivery service's text: a status code or a transport error, no URL",
	"WebhookReplayRequested.By":                    "who asked for a replay: cli, admin:<id>, token:<prefix>, web:<session>",
	"CRMLeadLinked.CRM":                            "a CRM's name: amocrm, bitrix24, hubspot",
	"CRMLeadLinked.CRMContactID":                   "the CRM's id of the contact, a number: no name",
	"CRMLeadLinked.CRMLeadID":                      "the CRM's id of the lead, a number",
	"CRMNoteAdded.CRM":                             "a CRM's name",
	"CRMNoteAdded.CRMLeadID":                       "the CRM's id of the lead",
}

// stringFields lists the paths of the plain string fields in t (closed
// enums, which are named string types, are codes and left out), with
// whether each is tagged personal.
func stringFields(t reflect.Type, path string, out map[string]bool) {
	switch t.Kind() {
	case reflect.Pointer:
		stringFields(t.Elem(), path, out)
	case reflect.Slice:
		if t.Elem().Kind() == reflect.String && t.Elem().Name() == "string" {
			out[path+"[]"] = false // a list of strings cannot be tagged
			return
		}
		stringFields(t.Elem(), path+"[]", out)
	case reflect.Struct:
		if t.PkgPath() != reflect.TypeOf(Contact{}).PkgPath() {
			return // time.Time, uuid.UUID
		}
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			p := path + "." + f.Name
			if f.Type.Kind() == reflect.String && f.Type.Name() == "string" {
				out[p] = f.Tag.Get("personal") != ""
				continue
			}
			stringFields(f.Type, p, out)
		}
	}
}

// Every text an event carries is either sealed as personal data (and so
// erased with the contact) or known to hold nothing of a lead.
func TestPersonalTextIsTagged(t *testing.T) {
	seen := map[string]bool{}
	for _, e := range EventTypes() {
		fields := map[string]bool{}
		stringFields(reflect.TypeOf(e), e.EventType(), fields)
		var paths []string
		for p := range fields {
			paths = append(paths, p)
		}
		slices.Sort(paths)
		for _, p := range paths {
			seen[p] = true
			_, listed := notPersonal[p]
			switch {
			case fields[p] && listed:
				t.Errorf("%s is tagged personal and listed as not personal", p)
			case !fields[p] && !listed:
				t.Errorf("%s is text that is neither tagged personal nor listed in notPersonal", p)
			}
		}
	}
	for p := range notPersonal {
		if !seen[p] {
			t.Errorf("notPersonal lists %s, which no event has", p)
		}
	}
}

// The fields that hold a lead's words or identity are sealed.
func TestLeadTextIsPersonal(t *testing.T) {
	for _, p := range []string{
		"ContactAdded.Note", "ContactAdded.Username", "ContactAdded.Phone", "ContactAdded.Name", "ContactAdded.Fields[].Value",
		"ContactMerged.Fields[].Value", "ContactOptedOut.Reason", "InboundReceived.Text", "OutboundPlanned.Text", "OutboundObserved.Text",
		"QualificationUpdated.Qual.Need.Value", "QualificationUpdated.Qual.Need.Quote", "QualificationUpdated.Qual.Custom[].Value",
		"QualificationUpdated.Qual.Custom[].Quote", "HandoffRequested.Reason", "DialogOptedOut.Reason", "OutcomeRecorded.Reason", "QualificationUpdated.Qual.Budget.Amount", "AccountRegistered.Phone",
	} {
		found := false
		for _, e := range EventTypes() {
			fields := map[string]bool{}
			stringFields(reflect.TypeOf(e), e.EventType(), fields)
			if tagged, ok := fields[p]; ok {
				found = true
				if !tagged {
					t.Errorf("%s is not tagged personal", p)
				}
			}
		}
		if !found {
			t.Errorf("no event has %s", p)
		}
	}
}
