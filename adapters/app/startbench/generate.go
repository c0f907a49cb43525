package startbench

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/adapters/eventlog"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/eventstore"
	"github.com/salesbot/salesbot/projections"
	"github.com/salesbot/salesbot/projections/projectionsbench"
)

// rebuildBatch is how many events one read-model transaction of the
// rebuild applies ('salesbot bench rebuild's default).
const rebuildBatch = 5000

// generate writes the log of a run into s: cfg.Accounts accounts, then
// about cfg.Events events of dialogs spread evenly over them (whole
// dialogs, at least one). It returns how many dialogs.
//
// projectionsbench.GenerateDialogs gives the dialogs of one call the
// account of its seed, so each account is one call with its own seed and
// its own range of dialog numbers; the account registered is that one.
func generate(ctx context.Context, s eventstore.Store, cfg Config) (int, error) {
	h := domain.Handlers{Log: eventlog.New(s), Index: domain.NewIndexKey(s.IndexKey()), Now: time.Now, Retries: 5}
	for a := range cfg.Accounts {
		id := accountOf(a)
		reg := domain.RegisterAccount{AccountID: id, Label: fmt.Sprintf("bench-%03d", a+1), Limits: domain.DefaultLimits()}
		if _, err := h.Account(ctx, id, reg); err != nil {
			return 0, fmt.Errorf("register account %d: %w", a+1, err)
		}
	}
	dialogs := max(1, (cfg.Events-cfg.Accounts)/projectionsbench.EventsPerDialog)
	cfg.progress("generate", 0, dialogs)
	first := int64(1)
	for a := range cfg.Accounts {
		n := dialogs / cfg.Accounts
		if a < dialogs%cfg.Accounts {
			n++
		}
		if n == 0 {
			continue
		}
		if err := projectionsbench.GenerateDialogs(ctx, s, first, n, min(cfg.Concurrency, n), seedOf(a)); err != nil {
			return 0, fmt.Errorf("generate the dialogs of account %d: %w", a+1, err)
		}
		first += int64(n)
		cfg.progress("generate", int(first-1), dialogs)
	}
	return dialogs, nil
}

// seedOf is the generator's seed of the a-th account (from 0), and
// accountOf its id: the one GenerateDialogs derives from the seed.
func seedOf(a int) uint64 { return uint64(a) + 1 }

func accountOf(a int) uuid.UUID {
	return uuid.NewSHA1(uuid.NameSpaceOID, fmt.Appendf(nil, "account-%d", seedOf(a)))
}

// rebuild projects the whole log of s into the read models at dsn (a
// schema of the run's, empty): what 'salesbot rebuild' would have left
// there before the first start.
func rebuild(ctx context.Context, s eventstore.Store, dsn string, cfg Config) error {
	sink, err := projections.OpenPostgres(ctx, dsn)
	if err != nil {
		return err
	}
	defer sink.Close()
	head := s.Head()
	r := projections.Runner{Store: s, Decode: eventlog.New(s).Decode, Sink: sink, Batch: rebuildBatch,
		Progress: func(done, _ uint64) { cfg.progress("rebuild", int(done), int(head)) }}
	if _, err := r.CatchUp(ctx); err != nil {
		return fmt.Errorf("rebuild the read models: %w", err)
	}
	return nil
}
