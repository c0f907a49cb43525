// Package projectionsbench generates realistic logs and measures how fast
// the read models are rebuilt from them ('salesbot bench rebuild'); tests
// use its generator for logs with dialogs in them.
package projectionsbench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/adapters/eventlog"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/eventstore"
	"github.com/salesbot/salesbot/eventstore/storebench"
	"github.com/salesbot/salesbot/projections"
)

// EventsPerDialog is about how many events GenerateDialogs writes per
// dialog (its contact and index entries included).
const EventsPerDialog = 14

// Fill writes about events events to s as generated dialogs
// (GenerateDialogs, seed 1, numbered from 1), in whole dialogs and at
// least one, with concurrency writers; it returns how many dialogs.
func Fill(ctx context.Context, s eventstore.Store, events, concurrency int) (int, error) {
	dialogs := max(1, events/EventsPerDialog)
	if err := GenerateDialogs(ctx, s, 1, dialogs, concurrency, 1); err != nil {
		return 0, fmt.Errorf("generate: %w", err)
	}
	return dialogs, nil
}

// Measure drops the read models in sink, rebuilds them from the whole log
// in transactions of batch events (Rebuild) and, unless keep, drops them
// again. The result is named store; its latencies are the batches'.
func Measure(ctx context.Context, s eventstore.Store, sink projections.Sink, store string, batch int, keep bool) (storebench.Result, error) {
	if err := sink.Reset(ctx); err != nil {
		return storebench.Result{}, err
	}
	n, took, lat, err := Rebuild(ctx, s, sink, batch)
	if err != nil {
		return storebench.Result{}, err
	}
	if !keep {
		if err := sink.Reset(ctx); err != nil {
			return storebench.Result{}, err
		}
	}
	return storebench.Params{Concurrency: 1, Batch: batch}.Result(store, int(n), took, lat), nil
}

// Rebuild projects the whole log into sink (which the caller has reset)
// in transactions of batch events, and returns how many events it applied,
// how long it took and the time of each batch.
func Rebuild(ctx context.Context, s eventstore.Store, sink projections.Sink, batch int) (uint64, time.Duration, []time.Duration, error) {
	var lat []time.Duration
	last := time.Now()
	r := projections.Runner{Store: s, Decode: eventlog.New(s).Decode, Sink: sink, Batch: batch,
		Progress: func(done, head uint64) {
			lat = append(lat, time.Since(last))
			last = time.Now()
		}}
	start := time.Now()
	n, err := r.CatchUp(ctx)
	return n, time.Since(start), lat, err
}

// GenerateDialogs writes n realistic dialogs (numbered from first) through
// the domain command handlers, with concurrency writers: a contact, the
// opening, replies, qualification, stage changes and an ending. The same
// seed writes the same conversations.
func GenerateDialogs(ctx context.Context, s eventstore.Store, first int64, n, concurrency int, seed uint64) error {
	h := domain.Handlers{Log: eventlog.New(s), Index: domain.NewIndexKey(s.IndexKey()), Now: time.Now, Retries: 5}
	account := uuid.NewSHA1(uuid.NameSpaceOID, fmt.Appendf(nil, "account-%d", seed))
	errs := make([]error, concurrency)
	var wg sync.WaitGroup
	for w := range concurrency {
		wg.Go(func() {
			for i := w; i < n && errs[w] == nil; i += concurrency {
				errs[w] = generateDialog(ctx, h, first+int64(i), account, rand.New(rand.NewPCG(seed, uint64(i))))
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func generateDialog(ctx context.Context, h domain.Handlers, n int64, account uuid.UUID, r *rand.Rand) error {
	contact, dialog := uuid.New(), uuid.New()
	if _, err := h.Contact(ctx, contact, domain.AddContact{ContactID: contact, Source: domain.SourceImport, Basis: domain.BasisConsent,
		Note: "generated", Username: fmt.Sprintf("lead%d", n), Name: fmt.Sprintf("Lead %d", n)}); err != nil {
		return err
	}
	c, err := h.LoadContact(ctx, contact)
	if err != nil {
		return err
	}
	do := func(cmd domain.DialogCommand) error {
		_, err := h.Dialog(ctx, dialog, contact, cmd)
		return err
	}
	variant := []string{"A", "B"}[r.IntN(2)]
	if err := do(domain.StartDialog{DialogID: dialog, N: n, Contact: c, AccountID: account, Variant: variant, By: "ai"}); err != nil {
		return err
	}
	rid := int64(n) << 16
	say := func(text string) error {
		rid++
		if err := do(domain.PlanOutbound{RandomID: rid, Text: text, By: domain.ActorAI, Contact: c}); err != nil {
			return err
		}
		return do(domain.MarkSent{RandomID: rid, TelegramMessageID: rid})
	}
	hear := func(text string) error {
		return do(domain.RecordInbound{TelegramMessageID: rid + 1000, Text: text, At: time.Now()})
	}
	steps := []func() error{
		func() error { return say("Hello! I am the AI assistant of Acme. May I ask what you are looking for?") },
		func() error { return hear("We need a CRM for our sales team") },
		func() error { return do(domain.ChangeStage{To: domain.StageDiscovery}) },
		func() error {
			sc := 20 + r.IntN(80)
			return do(domain.UpdateQualification{Qual: domain.Qualification{Need: &domain.Field{Value: "CRM", Quote: "We need a CRM", Confidence: 0.9}, Score: &sc}})
		},
		func() error { return say("How many people would use it, and when do you want to start?") },
		func() error { return hear("About 20, next month") },
		func() error { return do(domain.ChangeStage{To: domain.StageOffer}) },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	switch r.IntN(4) {
	case 0:
		return do(domain.RequestHandoff{Reason: "hot lead"})
	case 1:
		return do(domain.OptOutDialog{Reason: "not interested, stop"})
	case 2:
		return do(domain.CloseDialog{Outcome: domain.OutcomeLost, By: "ai"})
	}
	return nil // still talking
}
