// Package eventstore is salesbot's append-only event log: the only source of
// truth. Events live in streams (one per aggregate, such as "dialog-<uuid>"),
// each event has a version inside its stream and a global position that
// orders the whole log. Every event carries the SHA-256 hash of the one
// before it, so Verify can prove the log was not altered.
//
// Three implementations satisfy Store: PebbleStore (durable, embedded, the
// default), JetStreamStore (the log on NATS JetStream, shared by several
// nodes: each message holds the appends a node had waiting, published on
// the last sequence the node applied, so the append itself seals the hash
// chain; see its doc and
// docs/scale-out.md) and MemoryStore (tests). All pass the contract suite
// in eventstore/storetest.
package eventstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// Errors returned by stores. Match them with errors.Is.
var (
	// ErrVersionConflict: the stream is not at the expected version. The
	// returned error is a *VersionConflictError with the actual version.
	ErrVersionConflict = errors.New("eventstore: version conflict")
	// ErrInvalidEvent: an event or stream name cannot be appended as given.
	ErrInvalidEvent = errors.New("eventstore: invalid event")
	// ErrCorrupt: stored bytes do not decode as an envelope.
	ErrCorrupt = errors.New("eventstore: corrupt event")
	// ErrForgotten: the subject's key was deleted (crypto-shredding).
	ErrForgotten = errors.New("eventstore: subject forgotten")
	// ErrNotFound: no secret with that name.
	ErrNotFound = errors.New("eventstore: not found")
	// ErrClosed: the store was closed, or failed and stopped accepting writes.
	ErrClosed = errors.New("eventstore: closed")
	// ErrNoLog: Open with MustExist found no log in the directory.
	ErrNoLog = errors.New("eventstore: no event log here")
	// ErrLocked: Open found the log in use: another process (or another
	// store in this one) holds its lock. The error wraps Pebble's.
	ErrLocked = errors.New("eventstore: the log is in use")
	// ErrTampered: Verify found the log or its index altered.
	ErrTampered = errors.New("eventstore: log altered")
	// ErrAnchor: the log is behind its anchor or diverges from it (an
	// older copy restored, or events removed). The returned error is an
	// *AnchorError, which also matches ErrTampered.
	ErrAnchor = errors.New("eventstore: log does not match its anchor")
	// ErrDiskFull: the disk holding the log is (nearly) full; the returned
	// error is a *DiskFullError naming the directory and the free space.
	ErrDiskFull = errors.New("eventstore: disk full")
	// ErrNoMasterKey: the store was opened with a public key alone, which
	// verifies but decrypts nothing.
	ErrNoMasterKey = errors.New("eventstore: opened without the master key")
	// ErrReadOnly: the store was opened read-only (Options.ReadOnly) and
	// cannot write.
	ErrReadOnly = errors.New("eventstore: opened read-only")
)

// ForgottenMarker replaces every personal field of an event whose subject
// was forgotten.
const ForgottenMarker = "[forgotten]"

// MetaErases is the metadata key of an erasure: an event whose
// Metadata[MetaErases] names a subject records that subject's erasure. The
// store deletes the subject's key in the same atomic write as the event
// (crypto-shredding) and leaves a tombstone signed with the log's key and
// bound to the event's position, so that Verify tells an erasure from a
// deleted or blanked key. Events after the erasure in the same append may
// carry no personal field of the subject (those before it are shredded
// with it).
const MetaErases = "erases"

// ExpectedVersion is the optimistic-concurrency condition of an Append: an
// exact stream version (the number of events already in the stream), NoStream
// or Any.
type ExpectedVersion int64

const (
	// Any appends whatever the stream's version is.
	Any ExpectedVersion = -1
	// NoStream requires that the stream has no events yet.
	NoStream ExpectedVersion = 0
)

// Exact requires the stream to be at version v (v events so far).
func Exact(v uint64) ExpectedVersion { return ExpectedVersion(v) }

func (e ExpectedVersion) String() string {
	switch {
	case e == Any:
		return "any"
	case e == NoStream:
		return "no stream"
	case e > 0:
		return fmt.Sprintf("version %d", int64(e))
	default:
		return fmt.Sprintf("invalid(%d)", int64(e))
	}
}

// VersionConflictError says which stream was not where the caller expected.
type VersionConflictError struct {
	Stream   string
	Expected ExpectedVersion
	Actual   uint64 // the stream's current version
}

func (e *VersionConflictError) Error() string {
	return fmt.Sprintf("eventstore: version conflict on stream %q: expected %s, stream is at version %d",
		e.Stream, e.Expected, e.Actual)
}

// Is makes errors.Is(err, ErrVersionConflict) true.
func (e *VersionConflictError) Is(target error) bool { return target == ErrVersionConflict }

// Event is what a caller appends.
type Event struct {
	// ID is the event id; zero means the store assigns a UUID v7.
	ID uuid.UUID
	// Type names the event, such as "DialogStarted". Required.
	Type string
	// SchemaVersion of Payload; zero means 1. Older versions are upcast on
	// read by the store's Upcasters.
	SchemaVersion uint32
	// CausationID is the event or command that caused this one, if any.
	CausationID uuid.UUID
	// CorrelationID groups the events of one conversation or workflow.
	CorrelationID uuid.UUID
	// Metadata holds small string pairs (actor, source, ...). Stored in clear.
	Metadata map[string]string
	// Payload is the event body (JSON by convention). Stored in clear.
	Payload []byte
	// Subject owns the personal data in Personal (a contact id). Required when
	// Personal is not empty.
	Subject string
	// Personal holds personal fields (names, phones, message texts). Their
	// values are encrypted with AES-256-GCM under the subject's key; field
	// names stay in clear. After Forget(Subject) each value reads back as
	// ForgottenMarker.
	Personal map[string]string
}

// RecordedEvent is an event as the log holds it.
type RecordedEvent struct {
	Event
	Stream     string
	Version    uint64 // 1-based position inside Stream
	Position   uint64 // 1-based global position
	RecordedAt time.Time
	// PrevHash is the SHA-256 of the previous event's stored envelope (zero for
	// position 1).
	PrevHash [32]byte
	// Forgotten is true when Personal could not be decrypted because the
	// subject was forgotten.
	Forgotten bool
}

// AppendResult tells where appended events landed.
type AppendResult struct {
	FirstPosition uint64
	LastPosition  uint64
	// Version is the stream's version after the append: pass Exact(Version)
	// to append again.
	Version uint64
}

// Store is the event log port.
type Store interface {
	// Append adds events to stream atomically (all or none) if the stream is
	// at expected; it returns when the events are durable. It returns a
	// *VersionConflictError (ErrVersionConflict) on a stale expected version,
	// ErrInvalidEvent for bad input, ErrForgotten when an event carries
	// personal data of a forgotten subject, ErrClosed after Close.
	Append(ctx context.Context, stream string, expected ExpectedVersion, events ...Event) (AppendResult, error)
	// ReadStream returns the stream's events with version >= fromVersion, in
	// order. A stream that does not exist has no events (nil, nil slice).
	ReadStream(ctx context.Context, stream string, fromVersion uint64) ([]RecordedEvent, error)
	// StreamVersion is the stream's durable version (0 if it has no
	// events), without reading its events.
	StreamVersion(ctx context.Context, stream string) (uint64, error)
	// ReadAll returns up to limit durable events with position >=
	// fromPosition, in order.
	ReadAll(ctx context.Context, fromPosition uint64, limit int) ([]RecordedEvent, error)
	// Scan calls fn for each of up to limit durable events with position >=
	// fromPosition, in order, and stops at fn's first error, which it
	// returns. It allocates nothing per event: the event's strings and byte
	// slices are valid only until fn returns (copy what you keep). For
	// folding the whole log (rebuilds, audits, benchmarks).
	Scan(ctx context.Context, fromPosition uint64, limit int, fn func(*RecordedEvent) error) error
	// Head is the durable head: the position of the last durable event.
	Head() uint64
	// WaitHead blocks until the durable head is greater than after, and
	// returns it; it returns ctx.Err() or ErrClosed if that comes first.
	WaitHead(ctx context.Context, after uint64) (uint64, error)
	// Forget deletes the subject's key: its personal fields become
	// unreadable forever, the log stays verifiable.
	Forget(ctx context.Context, subject string) error
	// Verify re-walks the log; see VerifyReport. A broken log returns an
	// error matching ErrTampered that names the first bad position.
	Verify(ctx context.Context, progress func(done, total uint64)) (VerifyReport, error)
	// LogID identifies the log: a random id chosen when the log was
	// created. Read models and anchors record it, so that they are never
	// mixed with another log's.
	LogID() uuid.UUID
	// HashAt returns the chain hash of the durable event at pos (the hash
	// the next event records as its previous hash). It returns ErrNotFound
	// when pos is 0 or past the durable head.
	HashAt(ctx context.Context, pos uint64) ([32]byte, error)
	// IndexKey is a 32-byte key derived from the master key for blind
	// indexes: keyed hashes of identifiers (phone numbers, usernames,
	// Telegram user ids) that whoever holds the log but not the master key
	// cannot test a guess against.
	IndexKey() []byte
	// Close stops the store; pending appends fail with ErrClosed.
	Close() error
}

// VerifyReport summarises a successful Verify.
type VerifyReport struct {
	Events  uint64
	Streams uint64
	// HeadHash is the hash of the last event: record it outside the system to
	// anchor the log (a later Verify that prints another hash for the same
	// position proves a rewrite).
	HeadHash [32]byte
	// LogID is the log's id.
	LogID uuid.UUID
	// Subjects is how many subjects' personal data the events seal; each
	// has a signed key record or a signed erasure tombstone.
	Subjects uint64
	// Erased is how many subjects are erased; Unbound of them were erased
	// without an event that records it (Forget called directly, or an
	// erasure from before erasures were bound to their event).
	Erased, Unbound uint64
	// UnsignedKeys counts key records of a log made before they were
	// signed and not yet opened for writing since (they are signed then).
	UnsignedKeys uint64
	// SignedHead is the latest head signed with the log's key that the log
	// holds, checked against the chain; nil if the log has none yet.
	SignedHead *SignedHead
	// Unsigned is how many events follow the signed head: a verify with
	// the public key alone cannot vouch for them (with the master key
	// their MACs and the chain tip do).
	Unsigned uint64
	// Anchor is the anchor the log was checked against, nil without one.
	Anchor *SignedHead
	// PublicKeyOnly: verified with the public key alone, without the
	// master key (event MACs and the chain tip were not checked).
	PublicKeyOnly bool
}

// TamperError names the first position where Verify found the log altered.
type TamperError struct {
	Position uint64
	Reason   string
}

func (e *TamperError) Error() string {
	return fmt.Sprintf("eventstore: log altered at position %d: %s", e.Position, e.Reason)
}

// Is makes errors.Is(err, ErrTampered) true.
func (e *TamperError) Is(target error) bool { return target == ErrTampered }

// Secrets is encrypted key-value storage outside the event stream (sessions,
// tokens). Values are sealed under the master key.
type Secrets interface {
	// PutSecret stores value under name, durably before it returns.
	PutSecret(ctx context.Context, name string, value []byte) error
	// PutSecretNoSync stores like PutSecret without waiting for the disk:
	// a power loss may lose it. For values that are cheap to lose, such as
	// a cursor whose replay is idempotent.
	PutSecretNoSync(ctx context.Context, name string, value []byte) error
	// Secret returns ErrNotFound when no secret has that name.
	Secret(ctx context.Context, name string) ([]byte, error)
	DeleteSecret(ctx context.Context, name string) error
	// SecretNames returns the names of the secrets that start with prefix,
	// in order.
	SecretNames(ctx context.Context, prefix string) ([]string, error)
}

// validate checks what a caller appends.
func validate(stream string, expected ExpectedVersion, events []Event) error {
	if stream == "" || len(stream) > maxName {
		return fmt.Errorf("%w: stream name must be 1..%d bytes, got %d", ErrInvalidEvent, maxName, len(stream))
	}
	for i := 0; i < len(stream); i++ {
		if stream[i] == 0 {
			return fmt.Errorf("%w: stream name %q contains a NUL byte", ErrInvalidEvent, stream)
		}
	}
	if expected < Any {
		return fmt.Errorf("%w: expected version %d on stream %q", ErrInvalidEvent, int64(expected), stream)
	}
	if len(events) == 0 {
		return fmt.Errorf("%w: no events to append to stream %q", ErrInvalidEvent, stream)
	}
	if len(events) > MaxAppendEvents {
		return fmt.Errorf("%w: %d events in one append to stream %q, at most %d", ErrInvalidEvent, len(events), stream, MaxAppendEvents)
	}
	erased := map[string]bool{} // subjects erased by an earlier event of the append
	total := 0
	for i := range events {
		e := &events[i]
		size := len(e.Payload) + len(e.Subject)
		for k, v := range e.Metadata {
			size += len(k) + len(v)
		}
		for k, v := range e.Personal {
			size += len(k) + len(v)
		}
		if size > MaxEventSize {
			return fmt.Errorf("%w: event %d (%s) for stream %q is %d bytes, at most %d", ErrInvalidEvent, i, e.Type, stream, size, MaxEventSize)
		}
		if total += size; total > MaxAppendSize {
			return fmt.Errorf("%w: append to stream %q is over %d bytes", ErrInvalidEvent, stream, MaxAppendSize)
		}
		if e.Type == "" || len(e.Type) > maxName {
			return fmt.Errorf("%w: event %d for stream %q: type must be 1..%d bytes", ErrInvalidEvent, i, stream, maxName)
		}
		if len(e.Personal) > 0 && e.Subject == "" {
			return fmt.Errorf("%w: event %d (%s) for stream %q has personal fields but no subject", ErrInvalidEvent, i, e.Type, stream)
		}
		if len(e.Subject) > maxName {
			return fmt.Errorf("%w: event %d (%s) for stream %q: subject longer than %d bytes", ErrInvalidEvent, i, e.Type, stream, maxName)
		}
		if erased, ok := e.Metadata[MetaErases]; ok {
			if erased == "" || len(erased) > maxName {
				return fmt.Errorf("%w: event %d (%s) for stream %q: the erased subject must be 1..%d bytes", ErrInvalidEvent, i, e.Type, stream, maxName)
			}
		}
		if len(e.Personal) > 0 && erased[e.Subject] {
			return fmt.Errorf("%w: event %d (%s) for stream %q carries personal fields of subject %q, which an earlier event of the append erases", ErrInvalidEvent, i, e.Type, stream, e.Subject)
		}
		if s, ok := e.Metadata[MetaErases]; ok {
			erased[s] = true
		}
	}
	return nil
}

const maxName = 1024

// Size limits of an append, checked before anything is written.
const (
	MaxEventSize    = 4 << 20  // payload, metadata and personal fields of one event
	MaxAppendSize   = 32 << 20 // all events of one append
	MaxAppendEvents = 10000
)
