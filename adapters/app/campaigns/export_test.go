package campaigns

import (
	"github.com/salesbot/salesbot/eventstore"

	"bytes"
	"encoding/gob"
	"fmt"
	"reflect"
)

// Fold is what a scheduler folded from the log, encoded as its snapshot
// would be: equal states give equal bytes.
func Fold(s *Scheduler) ([]byte, error) { return eventstore.EncodeState("campaigns", s.fold()) }

// FoldDiff says where two folds differ (for a failing test's message).
func FoldDiff(a, b []byte) string {
	var fa, fb folded
	if err := gob.NewDecoder(bytes.NewReader(a)).Decode(&fa); err != nil {
		return err.Error()
	}
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(&fb); err != nil {
		return err.Error()
	}
	for i := range max(len(fa.Contacts), len(fb.Contacts)) {
		if i >= len(fa.Contacts) || i >= len(fb.Contacts) {
			return fmt.Sprintf("contacts: %d vs %d", len(fa.Contacts), len(fb.Contacts))
		}
		if !reflect.DeepEqual(fa.Contacts[i], fb.Contacts[i]) {
			return fmt.Sprintf("contact %d: %+v\nvs %+v", i, fa.Contacts[i], fb.Contacts[i])
		}
	}
	for i := range max(len(fa.Accounts), len(fb.Accounts)) {
		if i >= len(fa.Accounts) || i >= len(fb.Accounts) {
			return fmt.Sprintf("accounts: %d vs %d", len(fa.Accounts), len(fb.Accounts))
		}
		if !reflect.DeepEqual(fa.Accounts[i], fb.Accounts[i]) {
			return fmt.Sprintf("account %d: %+v\nvs %+v", i, fa.Accounts[i], fb.Accounts[i])
		}
	}
	for i := range max(len(fa.Campaigns), len(fb.Campaigns)) {
		if i >= len(fa.Campaigns) || i >= len(fb.Campaigns) {
			return fmt.Sprintf("campaigns: %d vs %d", len(fa.Campaigns), len(fb.Campaigns))
		}
		ca, cb := fa.Campaigns[i], fb.Campaigns[i]
		if !reflect.DeepEqual(ca.C, cb.C) {
			return fmt.Sprintf("campaign %d: %+v\nvs %+v", i, ca.C, cb.C)
		}
		if !reflect.DeepEqual(ca.Members, cb.Members) {
			return fmt.Sprintf("campaign %d members: %+v\nvs %+v", i, ca.Members, cb.Members)
		}
		return fmt.Sprintf("campaign %d: %+v %+v %+v\nvs %+v %+v %+v", i, ca.Total, ca.Daily, ca.Lanes, cb.Total, cb.Daily, cb.Lanes)
	}
	return "equal"
}

// SnapshotVersion is the format of the scheduler's snapshots.
const SnapshotVersion = snapshotVersion
