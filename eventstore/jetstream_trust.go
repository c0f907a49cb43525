package eventstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Signed heads of a JetStream log: every node that writes signs the head
// it has applied, at most every SignInterval and when it closes, into the
// key signed-head of the bucket SALESBOT_META_NAME. A node never replaces
// a signed head with an older one (compare-and-set on the key's
// revision), so the key holds the furthest head any node signed. Verify
// checks it against the chain, which lets an auditor with the public key
// alone vouch for every event up to it.

const kvSignedHead = "signed-head"

// signLoop signs the head every interval while it moves, until ctx ends.
func (s *JetStreamStore) signLoop(ctx context.Context, interval time.Duration) {
	defer close(s.signDone)
	t := time.NewTicker(interval)
	defer t.Stop()
	var signed uint64
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if h := s.Head(); h > signed {
			if err := s.signHead(ctx, h); err != nil {
				if ctx.Err() == nil {
					s.log.Warn("eventstore: sign the log's head", "log", s.url.String(), "err", err)
				}
				continue
			}
			signed = h
		}
	}
}

// signHead signs position pos (applied here) unless the bucket holds a
// head at pos or further.
func (s *JetStreamStore) signHead(ctx context.Context, pos uint64) error {
	s.mu.RLock()
	hash, err := s.hashAt(pos)
	s.mu.RUnlock()
	if err != nil {
		return err
	}
	val := s.m.signHead(s.id, pos, hash, s.now()).encode()
	for try := 0; try < 3; try++ {
		cur, err := s.meta.Get(ctx, kvSignedHead)
		switch {
		case errors.Is(err, jetstream.ErrKeyNotFound):
			_, err = s.meta.Create(ctx, kvSignedHead, val)
		case err != nil:
			return err
		default:
			if h, derr := decodeSignedHead(cur.Value()); derr == nil && h.Position >= pos {
				return nil
			}
			_, err = s.meta.Update(ctx, kvSignedHead, val, cur.Revision())
		}
		if err == nil || !(errors.Is(err, jetstream.ErrKeyExists) || isWrongLastSequence(err)) {
			return err
		}
	}
	return fmt.Errorf("the signed head kept moving")
}

// loadSignedHead reads the furthest signed head, nil if none.
func (s *JetStreamStore) loadSignedHead(ctx context.Context) (*SignedHead, error) {
	e, err := s.meta.Get(ctx, kvSignedHead)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("eventstore: read the signed head: %w", err)
	}
	h, err := decodeSignedHead(e.Value())
	if err != nil {
		return nil, &TamperError{Reason: "signed head: " + err.Error()}
	}
	return &h, nil
}

// watchKeys hears every tombstone written to the keys bucket after Open
// and stops using the subject's key at once, so that a Forget made on
// another node shreds the subject here too, not only when its cached key
// is evicted.
func (s *JetStreamStore) watchKeys(ctx context.Context) {
	defer close(s.watchDone)
	for ctx.Err() == nil {
		w, err := s.keysKV.WatchAll(ctx, jetstream.UpdatesOnly())
		if err == nil {
			s.hearTombstones(ctx, w)
			w.Stop()
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

func (s *JetStreamStore) hearTombstones(ctx context.Context, w jetstream.KeyWatcher) {
	for {
		select {
		case <-ctx.Done():
			return
		case e, ok := <-w.Updates():
			if !ok {
				return
			}
			if e == nil || e.Operation() != jetstream.KeyValuePut {
				continue
			}
			subject, err := decodeKVKey(e.Key())
			if err != nil {
				continue
			}
			if rec, err := decodeKeyRecord(e.Value()); err == nil && rec.kind == recTombstone && rec.check(s.m.pub, s.id, subject) {
				s.keys.markErased(subject)
			}
		}
	}
}
