package domain

import (
	"strings"

	"github.com/google/uuid"
)

// Aggregate is a kind of aggregate; its streams are named
// "<aggregate>-<uuid>" (Stream).
type Aggregate string

const (
	AggregateContact  Aggregate = "contact"
	AggregateDialog   Aggregate = "dialog"
	AggregateAccount  Aggregate = "account"
	AggregateCampaign Aggregate = "campaign"
)

// Stream is the stream of the aggregate with id: "dialog-<uuid>".
func (a Aggregate) Stream(id uuid.UUID) string { return string(a) + "-" + id.String() }

// ID is the id in stream when stream is one of a's, exactly as Stream
// names it; ok is false for any other name.
func (a Aggregate) ID(stream string) (id uuid.UUID, ok bool) {
	rest, ok := strings.CutPrefix(stream, string(a)+"-")
	if !ok || len(rest) != 36 {
		return uuid.Nil, false
	}
	id, err := uuid.Parse(rest)
	if err != nil || id.String() != rest { // lower-case hex only, as Stream writes it
		return uuid.Nil, false
	}
	return id, true
}

// ParseStream is the aggregate and id of an aggregate's stream
// ("dialog-<uuid>", as ContactStream, DialogStream, AccountStream and
// CampaignStream name them); ok is false for every other name: index and
// usage streams, and anything malformed.
func ParseStream(stream string) (a Aggregate, id uuid.UUID, ok bool) {
	name, _, _ := strings.Cut(stream, "-")
	switch a := Aggregate(name); a {
	case AggregateContact, AggregateDialog, AggregateAccount, AggregateCampaign:
		if id, ok := a.ID(stream); ok {
			return a, id, true
		}
	}
	return "", uuid.Nil, false
}
