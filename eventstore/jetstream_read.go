package eventstore

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// ReadAll implements Store, from the node's index.
func (s *JetStreamStore) ReadAll(_ context.Context, from uint64, limit int) ([]RecordedEvent, error) {
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return nil, ErrClosed
	}
	from = max(from, 1)
	if limit <= 0 || from > uint64(len(s.events)) {
		s.mu.RUnlock()
		return nil, nil
	}
	last := min(uint64(len(s.events)), from+uint64(limit)-1)
	recs := s.events[from-1 : last] // records never change: decode outside the lock
	s.mu.RUnlock()
	out := make([]RecordedEvent, 0, len(recs))
	for i, r := range recs {
		e, err := s.dec.decode(r)
		if err != nil {
			return nil, fmt.Errorf("eventstore: decode position %d: %w", from+uint64(i), err)
		}
		out = append(out, e)
	}
	return out, nil
}

// Scan implements Store.
func (s *JetStreamStore) Scan(ctx context.Context, from uint64, limit int, fn func(*RecordedEvent) error) error {
	const page = 4096
	for limit > 0 {
		evs, err := s.ReadAll(ctx, from, min(limit, page))
		if err != nil || len(evs) == 0 {
			return err
		}
		for i := range evs {
			if err := fn(&evs[i]); err != nil {
				return err
			}
		}
		from += uint64(len(evs))
		limit -= len(evs)
	}
	return nil
}

// ReadStream implements Store, from the node's index.
func (s *JetStreamStore) ReadStream(_ context.Context, stream string, fromVersion uint64) ([]RecordedEvent, error) {
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return nil, ErrClosed
	}
	positions := s.streams[stream]
	fromVersion = max(fromVersion, 1)
	if fromVersion > uint64(len(positions)) {
		s.mu.RUnlock()
		return nil, nil
	}
	recs := make([][]byte, 0, uint64(len(positions))-fromVersion+1)
	for _, pos := range positions[fromVersion-1:] {
		recs = append(recs, s.events[pos-1])
	}
	s.mu.RUnlock()
	out := make([]RecordedEvent, 0, len(recs))
	for _, r := range recs {
		e, err := s.dec.decode(r)
		if err != nil {
			return nil, fmt.Errorf("eventstore: stream %q: decode version %d: %w", stream, fromVersion+uint64(len(out)), err)
		}
		out = append(out, e)
	}
	return out, nil
}

// StreamVersion implements Store: the version as applied on this node.
func (s *JetStreamStore) StreamVersion(_ context.Context, stream string) (uint64, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return 0, ErrClosed
	}
	return uint64(len(s.streams[stream])), nil
}

// Head implements Store: the last position applied on this node.
func (s *JetStreamStore) Head() uint64 { return s.head.get() }

// WaitHead implements Store.
func (s *JetStreamStore) WaitHead(ctx context.Context, after uint64) (uint64, error) {
	return s.head.wait(ctx, after)
}

// IndexKey implements Store.
func (s *JetStreamStore) IndexKey() []byte { return bytes.Clone(s.m.indexKey) }

// HashAt implements Store.
func (s *JetStreamStore) HashAt(_ context.Context, pos uint64) ([32]byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return [32]byte{}, ErrClosed
	}
	return s.hashAt(pos)
}

// hashAt is HashAt for a caller holding s.mu (read), closed or not.
func (s *JetStreamStore) hashAt(pos uint64) ([32]byte, error) {
	if pos == 0 || pos > uint64(len(s.events)) {
		return [32]byte{}, fmt.Errorf("eventstore: hash at position %d: %w", pos, ErrNotFound)
	}
	env, _, err := splitRecord(s.events[pos-1])
	if err != nil {
		return [32]byte{}, fmt.Errorf("eventstore: hash at position %d: %w", pos, err)
	}
	return envelopeHash(env), nil
}

// Forget implements Store: the subject's key is replaced by a tombstone in
// the keys bucket, which keeps one revision, so the key's earlier
// revision is removed from the bucket's stream.
func (s *JetStreamStore) Forget(_ context.Context, subject string) error {
	if s.readOnly {
		return ErrReadOnly
	}
	if err := s.keys.forget(subject); err != nil {
		return fmt.Errorf("eventstore: %w", err)
	}
	return nil
}

// Verify implements Store. It re-reads the stream from the server (not
// the node's index), recomputes the chain and checks every record's MAC,
// the genesis signature, that no message is missing, that the stream
// still holds everything this node applied with the same hashes, and the
// subject key records.
func (s *JetStreamStore) Verify(ctx context.Context, progress func(done, total uint64)) (VerifyReport, error) {
	if s.isClosed() {
		return VerifyReport{}, ErrClosed
	}
	s.mu.RLock()
	local := chainTip{pos: s.tip.pos, hash: s.tip.hash}
	s.mu.RUnlock()
	sth, err := s.loadSignedHead(ctx)
	if err != nil {
		return VerifyReport{}, err
	}
	// The server's last sequence after the node's tip and the signed
	// head: never behind them.
	info, err := s.stream.Info(ctx)
	if err != nil {
		return VerifyReport{}, fmt.Errorf("eventstore: verify %s: %w", s.url, err)
	}
	last := info.State.LastSeq
	cv := newChainVerifier(s.m)
	var localHash [32]byte
	if local.pos > 0 {
		cv.hashAt(local.pos, &localHash)
	}
	var sthHash [32]byte
	if sth != nil {
		cv.hashAt(sth.Position, &sthHash)
	}
	var prevSeq uint64
	err = s.walk(ctx, last, func(seq uint64, msg jetstream.Msg) error {
		if seq != prevSeq+1 {
			return &TamperError{Position: cv.tip.pos + 1, Reason: fmt.Sprintf("messages %d..%d of stream %s were removed", prevSeq+1, seq-1, s.names.stream)}
		}
		prevSeq = seq
		if seq == 1 {
			id, err := s.checkGenesis(msg.Headers())
			if err != nil || id != s.id {
				return &TamperError{Position: 0, Reason: fmt.Sprintf("the genesis of stream %s does not hold this log's id %s", s.names.stream, s.id)}
			}
			return nil
		}
		recs, err := splitMessage(msg.Data())
		if err != nil {
			return &TamperError{Position: cv.tip.pos + 1, Reason: fmt.Sprintf("message %d of stream %s is not a batch of events: %v", seq, s.names.stream, err)}
		}
		for _, r := range recs {
			if err := cv.next(cv.tip.pos+1, r); err != nil {
				return err
			}
		}
		if progress != nil && seq%4096 == 0 {
			progress(cv.tip.pos, local.pos)
		}
		return nil
	})
	if err != nil {
		return VerifyReport{}, err
	}
	if local.pos > cv.tip.pos {
		return VerifyReport{}, &TamperError{Position: cv.tip.pos + 1, Reason: fmt.Sprintf(
			"the stream ends at position %d but this node applied up to position %d (events removed)", cv.tip.pos, local.pos)}
	}
	if local.pos > 0 && localHash != local.hash {
		return VerifyReport{}, &TamperError{Position: local.pos, Reason: "the stream's event differs from the one this node applied (rewritten)"}
	}
	kc := newKeyCheck(s.m, s.id, cv, true)
	if err := s.checkKeys(ctx, kc); err != nil {
		return VerifyReport{}, err
	}
	rep := cv.report()
	rep.LogID, rep.PublicKeyOnly = s.id, s.m.publicOnly()
	rep.Erased, rep.Unbound = kc.rep.Erased, kc.rep.Unbound
	if err := signedHead(&rep, s.m, s.id, sth, sthHash, cv.tip.pos, s.url.String()); err != nil {
		return VerifyReport{}, err
	}
	if progress != nil {
		progress(cv.tip.pos, cv.tip.pos)
	}
	return rep, ctx.Err()
}

// walk calls fn for the stream's messages 1..last, in order.
func (s *JetStreamStore) walk(ctx context.Context, last uint64, fn func(seq uint64, msg jetstream.Msg) error) error {
	if last == 0 {
		return nil
	}
	cons, err := s.stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		return fmt.Errorf("eventstore: read %s: %w", s.url, err)
	}
	it, err := cons.Messages()
	if err != nil {
		return fmt.Errorf("eventstore: read %s: %w", s.url, err)
	}
	defer it.Stop()
	for {
		msg, err := it.Next(jetstream.NextContext(ctx))
		if err != nil {
			return fmt.Errorf("eventstore: read %s: %w", s.url, err)
		}
		md, err := msg.Metadata()
		if err != nil {
			return fmt.Errorf("eventstore: read %s: %w", s.url, err)
		}
		if err := fn(md.Sequence.Stream, msg); err != nil {
			return err
		}
		if md.Sequence.Stream >= last {
			return nil
		}
	}
}

// checkKeys runs every key record of the keys bucket through kc.
func (s *JetStreamStore) checkKeys(ctx context.Context, kc *keyCheck) error {
	names, err := kvNames(ctx, s.keysKV)
	if err != nil {
		return fmt.Errorf("eventstore: verify keys: %w", err)
	}
	for _, subject := range names {
		e, err := s.keysKV.Get(ctx, kvKey(subject))
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue // purged meanwhile
		}
		if err != nil {
			return fmt.Errorf("eventstore: verify keys: %w", err)
		}
		if err := kc.record(subject, e.Value()); err != nil {
			return err
		}
	}
	return kc.finish()
}

// kvKey encodes any name as a key-value key (which allow few characters).
func kvKey(name string) string { return base64.RawURLEncoding.EncodeToString([]byte(name)) }

func decodeKVKey(k string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(k)
	return string(b), err
}

// kvNames lists the decoded names of a bucket's keys, sorted.
func kvNames(ctx context.Context, kv jetstream.KeyValue) ([]string, error) {
	l, err := kv.ListKeys(ctx)
	if err != nil {
		return nil, err
	}
	defer l.Stop()
	var out []string
	for k := range l.Keys() {
		name, err := decodeKVKey(k)
		if err != nil {
			return nil, fmt.Errorf("%w: foreign key %q in bucket %s", ErrCorrupt, k, kv.Bucket())
		}
		out = append(out, name)
	}
	sort.Strings(out)
	return out, nil
}

// jsKeys keeps subject keys in the log's keys bucket. A new key is
// created only if the subject has none (two nodes may race to make one);
// a tombstone overwrites, and with one revision kept the key is gone from
// the bucket.
type jsKeys struct{ kv jetstream.KeyValue }

const kvTimeout = 10 * time.Second

func (k *jsKeys) loadKey(subject string) ([]byte, bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), kvTimeout)
	defer cancel()
	e, err := k.kv.Get(ctx, kvKey(subject))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return e.Value(), true, nil
}

func (k *jsKeys) storeKey(subject string, rec []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), kvTimeout)
	defer cancel()
	if len(rec) > 0 && rec[0] == recKey {
		_, err := k.kv.Create(ctx, kvKey(subject), rec)
		if errors.Is(err, jetstream.ErrKeyExists) {
			return errKeyTaken
		}
		return err
	}
	_, err := k.kv.Put(ctx, kvKey(subject), rec)
	return err
}

// PutSecret implements Secrets: the sealed value goes to the secrets
// bucket, stored (on R3, replicated) before it returns.
func (s *JetStreamStore) PutSecret(ctx context.Context, name string, value []byte) error {
	if name == "" {
		return fmt.Errorf("%w: empty secret name", ErrInvalidEvent)
	}
	if s.readOnly {
		return ErrReadOnly
	}
	sealed, err := s.m.sealSecret(name, value)
	if err != nil {
		return fmt.Errorf("eventstore: seal secret %q: %w", name, err)
	}
	// Written whole even if the caller stops meanwhile, as on Pebble: a
	// session stored as its client shuts down must not be lost.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), kvTimeout)
	defer cancel()
	if err := retryUnanswered(ctx, func() error {
		_, err := s.secrets.Put(ctx, kvKey(name), sealed)
		return err
	}); err != nil {
		return fmt.Errorf("eventstore: put secret %q on %s: %w", name, s.url, err)
	}
	return nil
}

// retryUnanswered runs op until it succeeds, fails otherwise than for
// want of an answer, or ctx ends. A bucket's stream just created, or
// whose leader just died, answers nothing until its replicas elect one:
// a session stored at sign-in then would be lost.
func retryUnanswered(ctx context.Context, op func() error) error {
	for {
		err := op()
		var apiErr *jetstream.APIError
		if err == nil || !(errors.Is(err, nats.ErrNoResponders) || errors.Is(err, jetstream.ErrNoStreamResponse) || errors.Is(err, nats.ErrTimeout) ||
			errors.As(err, &apiErr) && apiErr.Code == 503) { // 503: the cluster or the stream has no leader now
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// PutSecretNoSync implements Secrets (the same as PutSecret here).
func (s *JetStreamStore) PutSecretNoSync(ctx context.Context, name string, value []byte) error {
	return s.PutSecret(ctx, name, value)
}

// Secret implements Secrets.
func (s *JetStreamStore) Secret(ctx context.Context, name string) ([]byte, error) {
	if name == "" {
		return nil, fmt.Errorf("eventstore: secret %q: %w", name, ErrNotFound)
	}
	e, err := s.secrets.Get(ctx, kvKey(name))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, fmt.Errorf("eventstore: secret %q: %w", name, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("eventstore: secret %q on %s: %w", name, s.url, err)
	}
	return s.m.openSecret(name, e.Value())
}

// DeleteSecret implements Secrets: the secret is purged (no revision
// kept).
func (s *JetStreamStore) DeleteSecret(ctx context.Context, name string) error {
	if s.readOnly {
		return ErrReadOnly
	}
	// Every message of the key's subject goes, marker and all: the name
	// is then not listed (SecretNames lists the subjects that hold one).
	ctx, cancel := context.WithTimeout(ctx, kvTimeout)
	defer cancel()
	if err := retryUnanswered(ctx, func() error {
		return s.secretsStream.Purge(ctx, jetstream.WithPurgeSubject(s.secretSubject(name)))
	}); err != nil {
		return fmt.Errorf("eventstore: delete secret %q on %s: %w", name, s.url, err)
	}
	return nil
}

// SecretNames implements Secrets.
func (s *JetStreamStore) SecretNames(ctx context.Context, prefix string) ([]string, error) {
	// The subjects the bucket's stream holds, as its leader answers: a
	// listing consumer could miss a secret just written on a replicated
	// log.
	info, err := s.secretsStream.Info(ctx, jetstream.WithSubjectFilter(s.secretSubject("")+">"))
	if err != nil {
		return nil, fmt.Errorf("eventstore: secret names on %s: %w", s.url, err)
	}
	var out []string
	for subject := range info.State.Subjects {
		name, err := decodeKVKey(strings.TrimPrefix(subject, s.secretSubject("")))
		if err != nil {
			return nil, fmt.Errorf("%w: foreign key %q in bucket %s", ErrCorrupt, subject, s.names.secrets)
		}
		if strings.HasPrefix(name, prefix) {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out, nil
}

// secretSubject is the subject of the secret name in the secrets bucket's
// stream; of "", the subjects' common prefix.
func (s *JetStreamStore) secretSubject(name string) string {
	if name == "" {
		return "$KV." + s.names.secrets + "."
	}
	return "$KV." + s.names.secrets + "." + kvKey(name)
}
