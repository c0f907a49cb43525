package engine

import (
	"github.com/salesbot/salesbot/eventstore"

	"bytes"
	"context"
	"encoding/gob"
	"fmt"
	"reflect"
)

// Fold folds the log up to its head as Run does before it takes turns
// (from the engine's snapshot, if it has one), and returns what the
// engine then knows, encoded as its snapshot would be: equal states give
// equal bytes.
func Fold(ctx context.Context, e *Engine) ([]byte, error) {
	if _, err := e.catchUp(ctx); err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	f, err := e.fold()
	if err != nil {
		return nil, err
	}
	return eventstore.EncodeState("engine", f)
}

// FoldDiff says where two folds differ (for a failing test's message).
func FoldDiff(a, b []byte) string {
	var fa, fb folded
	if err := gob.NewDecoder(bytes.NewReader(a)).Decode(&fa); err != nil {
		return err.Error()
	}
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(&fb); err != nil {
		return err.Error()
	}
	if len(fa.Open) != len(fb.Open) || len(fa.Closed) != len(fb.Closed) {
		return fmt.Sprintf("%d open, %d closed; vs %d open, %d closed", len(fa.Open), len(fa.Closed), len(fb.Open), len(fb.Closed))
	}
	for i := range fa.Open {
		if !reflect.DeepEqual(fa.Open[i], fb.Open[i]) {
			return fmt.Sprintf("open dialog %+v\nvs %+v", fa.Open[i], fb.Open[i])
		}
	}
	for i := range fa.Closed {
		if fa.Closed[i] != fb.Closed[i] {
			return fmt.Sprintf("closed dialog %+v\nvs %+v", fa.Closed[i], fb.Closed[i])
		}
	}
	return "equal"
}

// FollowUpAfter is how long after our last message d's next follow-up is
// due (0: none).
var FollowUpAfter = followUpAfter
