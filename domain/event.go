package domain

// Event is a fact recorded in the log. Its type name is stable: it is
// stored with the event and read back by every projection.
//
// Fields tagged `personal:"name"` (strings and integers) hold personal
// data; the application stores them encrypted under the contact's key (see
// eventstore), so they can be erased without touching the log. After
// erasure strings read "[forgotten]" and integers 0.
type Event interface {
	EventType() string
}

// EventTypes lists a zero value of every event type, for codecs that turn
// stored events back into Go values.
func EventTypes() []Event {
	return []Event{
		ContactAdded{}, ContactMerged{}, ContactOptedOut{}, ContactForgotten{}, ContactUnreachable{}, ContactTelegramUserSet{}, PeerLinked{}, UserLinked{}, UsernameLinked{}, PhoneLinked{},
		DialogStarted{}, InboundReceived{}, OutboundPlanned{}, OutboundSent{}, OutboundFailed{}, OutboundObserved{},
		QualificationUpdated{}, StageChanged{}, HandoffRequested{}, DialogTakenOver{}, DialogReleased{},
		DialogStopped{}, DialogOptedOut{}, DialogClosed{}, OutcomeRecorded{},
		AccountRegistered{}, AccountLimitsChanged{}, AccountConnecting{}, AccountConnected{}, AccountDisconnected{},
		AccountFloodWaited{}, AccountRestricted{}, AccountLost{}, AccountPaused{}, AccountResumed{},
		AccountRemoved{}, NewDialogReserved{}, MessageReserved{}, DialogNumbered{}, DialogIndexed{},
		TurnTaken{}, TurnFailed{},
		CampaignCreated{}, CampaignPaused{}, CampaignResumed{}, CampaignEnded{}, CampaignTargeted{}, CampaignWeightsChanged{},
		TokenCreated{}, TokenRevoked{}, TokenRefused{},
		WebLinkIssued{}, WebSignedIn{}, WebSessionEnded{},
		WebhookSubscribed{}, WebhookRemoved{}, WebhookDisabled{}, WebhookReplayRequested{},
		CRMLeadLinked{}, CRMNoteAdded{},
		MeetingProposed{}, MeetingBooked{},
		InsightsRecorded{},
		LeaseGranted{},
	}
}
