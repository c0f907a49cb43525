package eventstore

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// Verify: the chain, the subject keys, the signed head and the anchor.

// Verify implements Store. It reads a consistent snapshot, so it may run
// while appends go on. Besides the chain it checks the subject key
// records, the latest signed head and the anchor file (if the store has
// one); with the public key alone (Options.PublicKey) it checks everything
// but the event MACs and the chain tip, which need the master key, and
// reports how many events follow the signed head.
func (s *PebbleStore) Verify(ctx context.Context, progress func(done, total uint64)) (VerifyReport, error) {
	if err := s.enter(); err != nil {
		return VerifyReport{}, err
	}
	defer s.closeMu.RUnlock()
	// The anchor first: it is written after the log, so one read before
	// the snapshot is never ahead of it, while one read after could be
	// moved past it by appends meanwhile (a false "behind its anchor").
	anchor, hasAnchor, err := s.loadAnchorForVerify()
	if err != nil {
		return VerifyReport{}, err
	}
	snap := s.db.NewSnapshot()
	defer snap.Close()
	var tipPos uint64
	var tipHash [32]byte
	switch v, closer, err := snap.Get(keyTip); {
	case errors.Is(err, pebble.ErrNotFound):
	case err != nil:
		return VerifyReport{}, fmt.Errorf("eventstore: verify: read chain tip: %w", err)
	default:
		tipPos, tipHash, err = s.m.decodeTip(v)
		closer.Close()
		if err != nil {
			return VerifyReport{}, &TamperError{Position: 0, Reason: err.Error()}
		}
	}
	sth, err := s.loadSignedHead(snap)
	if err != nil {
		return VerifyReport{}, err
	}
	cv := newChainVerifier(s.m)
	var sthHash, anchorHash [32]byte
	if sth != nil {
		cv.hashAt(sth.Position, &sthHash)
	}
	if hasAnchor {
		cv.hashAt(anchor.Position, &anchorHash)
	}
	it, err := snap.NewIterWithContext(ctx, &pebble.IterOptions{LowerBound: prefixEvent, UpperBound: prefixEnd(prefixEvent)})
	if err != nil {
		return VerifyReport{}, fmt.Errorf("eventstore: verify: %w", err)
	}
	defer it.Close()
	for ok := it.First(); ok; ok = it.Next() {
		k := it.Key()
		if len(k) != 10 {
			return VerifyReport{}, &TamperError{Position: cv.tip.pos + 1, Reason: fmt.Sprintf("foreign key %q in the event range", k)}
		}
		v, err := it.ValueAndErr()
		if err != nil {
			return VerifyReport{}, fmt.Errorf("eventstore: verify: read after position %d: %w", cv.tip.pos, err)
		}
		if err := cv.next(binary.BigEndian.Uint64(k[2:]), v); err != nil {
			return VerifyReport{}, err
		}
		if progress != nil && cv.tip.pos%65536 == 0 {
			if err := ctx.Err(); err != nil {
				return VerifyReport{}, err
			}
			progress(cv.tip.pos, tipPos)
		}
	}
	if err := it.Error(); err != nil {
		return VerifyReport{}, fmt.Errorf("eventstore: verify: %w", err)
	}
	if s.m.publicOnly() {
		// The tip is not authenticated without the master key: it only has
		// to agree with the chain; the signed head vouches for the rest.
		tipHash = cv.tip.hash
	}
	if err := cv.finish(tipPos, tipHash); err != nil {
		return VerifyReport{}, err
	}
	if err := verifyHeads(ctx, snap, cv.streams); err != nil {
		return VerifyReport{}, err
	}
	rep := cv.report()
	rep.LogID, rep.PublicKeyOnly = s.id, s.m.publicOnly()
	kc := newKeyCheck(s.m, s.id, cv, s.keysSigned)
	if err := s.checkKeys(ctx, snap, kc); err != nil {
		return VerifyReport{}, err
	}
	rep.Erased, rep.Unbound, rep.UnsignedKeys = kc.rep.Erased, kc.rep.Unbound, kc.rep.UnsignedKeys
	if hasAnchor {
		if err := checkSignedHead(s.m.pub, s.id, anchor, cv.tip.pos, anchorHash, "anchor"); err != nil {
			reason := "is behind its anchor: an older copy of the data dir was restored or its newest events were removed"
			var te *TamperError
			if anchor.Position <= cv.tip.pos && errors.As(err, &te) {
				reason = "does not match its anchor: " + te.Reason
			}
			return VerifyReport{}, &AnchorError{File: s.anchor, Anchor: anchor, LogHead: cv.tip.pos, LogHash: cv.tip.hash, Reason: reason}
		}
		rep.Anchor = &anchor
	}
	if err := signedHead(&rep, s.m, s.id, sth, sthHash, cv.tip.pos, s.dir); err != nil {
		return VerifyReport{}, err
	}
	if progress != nil {
		progress(cv.tip.pos, tipPos)
	}
	return rep, nil
}

// loadAnchorForVerify reads the store's anchor file, if it has one.
func (s *PebbleStore) loadAnchorForVerify() (SignedHead, bool, error) {
	if s.anchor == "" {
		return SignedHead{}, false, nil
	}
	return LoadAnchor(s.anchor)
}

// checkKeys runs the key records of the snapshot through kc.
func (s *PebbleStore) checkKeys(ctx context.Context, snap *pebble.Snapshot, kc *keyCheck) error {
	it, err := snap.NewIterWithContext(ctx, &pebble.IterOptions{LowerBound: prefixKey, UpperBound: prefixEnd(prefixKey)})
	if err != nil {
		return fmt.Errorf("eventstore: verify keys: %w", err)
	}
	defer it.Close()
	for ok := it.First(); ok; ok = it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			return fmt.Errorf("eventstore: verify keys: %w", err)
		}
		if err := kc.record(string(it.Key()[len(prefixKey):]), v); err != nil {
			return err
		}
	}
	if err := it.Error(); err != nil {
		return fmt.Errorf("eventstore: verify keys: %w", err)
	}
	return kc.finish()
}

// verifyHeads checks that every stream has a head key with its version and
// last position, and that no head key names a stream without events.
func verifyHeads(ctx context.Context, snap *pebble.Snapshot, streams map[string]streamHead) error {
	it, err := snap.NewIterWithContext(ctx, &pebble.IterOptions{LowerBound: prefixHead, UpperBound: prefixEnd(prefixHead)})
	if err != nil {
		return fmt.Errorf("eventstore: verify stream heads: %w", err)
	}
	defer it.Close()
	n := 0
	for ok := it.First(); ok; ok = it.Next() {
		stream := string(it.Key()[len(prefixHead):])
		v, err := it.ValueAndErr()
		if err != nil {
			return fmt.Errorf("eventstore: verify stream heads: %w", err)
		}
		want, exists := streams[stream]
		if got, err := decodeHead(stream, v); err != nil || !exists || got != want {
			return &TamperError{Position: want.pos, Reason: fmt.Sprintf("head of stream %q does not match its %d events ending at position %d", stream, want.version, want.pos)}
		}
		n++
	}
	if err := it.Error(); err != nil {
		return fmt.Errorf("eventstore: verify stream heads: %w", err)
	}
	if n != len(streams) {
		return &TamperError{Position: 0, Reason: fmt.Sprintf("%d stream heads for %d streams", n, len(streams))}
	}
	return nil
}
