package eventstore

import (
	"context"

	"github.com/google/uuid"
)

// Log is an open event log salesbot runs on: a PebbleStore in a data dir
// (the embedded default) or a JetStreamStore shared by several nodes. It
// is the store with everything a running system needs of it: secrets,
// fenced appends, erasure, the chain's hashes, and the log's health.
type Log interface {
	Store
	Secrets
	Fenced
	// LogID names the log (bound read models name it).
	LogID() uuid.UUID
	// IndexKey keys the log's blind indexes.
	IndexKey() []byte
	// Forget erases subject's key: their personal data can no longer be read.
	Forget(ctx context.Context, subject string) error
	// HashAt is the chain's hash at pos.
	HashAt(ctx context.Context, pos uint64) ([32]byte, error)
	// Verify walks the whole log and checks its chain and signatures.
	Verify(ctx context.Context, progress func(done, total uint64)) (VerifyReport, error)
	// ObserveAppends has f told of every append (metrics).
	ObserveAppends(f func(AppendStat))
	// Err is why the log stopped taking appends (a full disk, a failed
	// write), nil while it takes them; Failed closes then. A log on
	// JetStream never stops as a whole.
	Err() error
	Failed() <-chan struct{}
	Close() error
}

var (
	_ Log = (*PebbleStore)(nil)
	_ Log = (*JetStreamStore)(nil)
)

// Retain returns l for one more user, whose Close lets go of it without
// closing it for the others: a PebbleStore's Retain, or l itself with a
// Close that does nothing (a log on JetStream is closed by its opener).
func Retain(l Log) Log {
	if p, ok := l.(*PebbleStore); ok {
		return p.Retain()
	}
	return retained{l}
}

type retained struct{ Log }

func (retained) Close() error { return nil }
