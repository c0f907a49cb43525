package engine_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/salesbot/salesbot/adapters/app/engine"
	"github.com/salesbot/salesbot/adapters/eventlog"
	"github.com/salesbot/salesbot/adapters/offline"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/domain/scenario"
	"github.com/salesbot/salesbot/eventstore"
)

// BenchmarkReplyTurn is one lead message answered end to end on the
// Pebble log with the offline engine: the message recorded, the history
// loaded, the model, the guards, the turn appended (synced) and the reply
// marked sent. Dialogs are 20 exchanges long, then a new one starts.
func BenchmarkReplyTurn(b *testing.B) {
	sc, err := scenario.Default()
	if err != nil {
		b.Fatal(err)
	}
	store, err := eventstore.Open(b.TempDir(), eventstore.Options{MasterKey: bytes.Repeat([]byte{7}, eventstore.MasterKeySize)})
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	h := domain.Handlers{Log: eventlog.New(store), Index: domain.NewIndexKey(store.IndexKey()), Now: time.Now, Cache: domain.NewStateCache(0)}
	core := &engine.Core{H: h, Model: offline.New(), Scenario: sc}
	ctx := context.Background()
	msgs := []string{"We build pipeline reports by hand", "How much does it cost?", "Our budget is $2,000 a month",
		"Are you a bot?", "We want to start in March", "What integrations do you have?"}
	var conv *engine.Conversation
	n := 0
	for b.Loop() {
		if conv == nil || n%20 == 0 {
			if conv, _, err = engine.StartConversation(ctx, core, engine.ConversationOptions{Opening: true}); err != nil {
				b.Fatal(err)
			}
		}
		t, err := conv.Say(ctx, fmt.Sprintf("%s (%d)", msgs[n%len(msgs)], n))
		if err != nil {
			b.Fatal(err)
		}
		if t.Taken == nil && t.Dialog.Stage != domain.StageHandoff && t.Dialog.Stage != domain.StageClosed {
			b.Fatalf("no turn in stage %s", t.Dialog.Stage)
		}
		if t.Dialog.Stage == domain.StageHandoff || t.Dialog.Stage == domain.StageClosed {
			conv = nil
		}
		n++
	}
}
