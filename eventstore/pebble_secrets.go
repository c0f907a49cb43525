package eventstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// What the store keeps outside the log: the subject keys (Forget
// deletes one: crypto-shredding) and secrets.

// Forget implements Store. Besides writing the tombstone it flushes and
// compacts the key's range so the old wrapped key leaves the sstables.
func (s *PebbleStore) Forget(ctx context.Context, subject string) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.closeMu.RUnlock()
	if s.readOnly {
		return fmt.Errorf("eventstore: forget %q: %w", subject, ErrReadOnly)
	}
	if err := s.keys.forget(subject); err != nil {
		return fmt.Errorf("eventstore: %w", err)
	}
	k := prefixed(prefixKey, subject)
	if err := s.db.Flush(); err != nil {
		return fmt.Errorf("eventstore: forget %q: flush: %w", subject, err)
	}
	if err := s.db.Compact(ctx, k, append(k, 0), false); err != nil {
		return fmt.Errorf("eventstore: forget %q: compact: %w", subject, err)
	}
	return nil
}

// PutSecret implements Secrets.
func (s *PebbleStore) PutSecret(_ context.Context, name string, value []byte) error {
	return s.putSecret(name, value, pebble.Sync)
}

// PutSecretNoSync implements Secrets.
func (s *PebbleStore) PutSecretNoSync(_ context.Context, name string, value []byte) error {
	return s.putSecret(name, value, pebble.NoSync)
}

func (s *PebbleStore) putSecret(name string, value []byte, opts *pebble.WriteOptions) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.closeMu.RUnlock()
	if s.readOnly {
		return fmt.Errorf("eventstore: store secret %q: %w", name, ErrReadOnly)
	}
	if name == "" {
		return fmt.Errorf("%w: empty secret name", ErrInvalidEvent)
	}
	sealed, err := s.m.sealSecret(name, value)
	if err != nil {
		return fmt.Errorf("eventstore: seal secret %q: %w", name, err)
	}
	if err := s.db.Set(prefixed(prefixSecret, name), sealed, opts); err != nil {
		return fmt.Errorf("eventstore: store secret %q: %w", name, err)
	}
	return nil
}

// Secret implements Secrets.
func (s *PebbleStore) Secret(_ context.Context, name string) ([]byte, error) {
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.closeMu.RUnlock()
	v, closer, err := s.db.Get(prefixed(prefixSecret, name))
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, fmt.Errorf("eventstore: secret %q: %w", name, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("eventstore: read secret %q: %w", name, err)
	}
	defer closer.Close()
	return s.m.openSecret(name, v)
}

// DeleteSecret implements Secrets; deleting a missing secret is not an error.
func (s *PebbleStore) DeleteSecret(_ context.Context, name string) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.closeMu.RUnlock()
	if s.readOnly {
		return fmt.Errorf("eventstore: delete secret %q: %w", name, ErrReadOnly)
	}
	if err := s.db.Delete(prefixed(prefixSecret, name), pebble.Sync); err != nil {
		return fmt.Errorf("eventstore: delete secret %q: %w", name, err)
	}
	return nil
}

// CompactSecrets flushes the log and compacts the secrets whose names
// start with prefix, so that deleted ones (and their names) leave the data
// files, as Forget does for keys.
func (s *PebbleStore) CompactSecrets(ctx context.Context, prefix string) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.closeMu.RUnlock()
	if s.readOnly {
		return fmt.Errorf("eventstore: compact secrets %q: %w", prefix, ErrReadOnly)
	}
	lo := prefixed(prefixSecret, prefix)
	if err := s.db.Flush(); err != nil {
		return fmt.Errorf("eventstore: compact secrets %q: flush: %w", prefix, err)
	}
	if err := s.db.Compact(ctx, lo, prefixEnd(lo), false); err != nil {
		return fmt.Errorf("eventstore: compact secrets %q: %w", prefix, err)
	}
	return nil
}

// SecretNames implements Secrets.
func (s *PebbleStore) SecretNames(ctx context.Context, prefix string) ([]string, error) {
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.closeMu.RUnlock()
	lo := prefixed(prefixSecret, prefix)
	it, err := s.db.NewIterWithContext(ctx, &pebble.IterOptions{LowerBound: lo, UpperBound: prefixEnd(lo)})
	if err != nil {
		return nil, fmt.Errorf("eventstore: list secrets %q: %w", prefix, err)
	}
	defer it.Close()
	var out []string
	for ok := it.First(); ok; ok = it.Next() {
		out = append(out, string(it.Key()[len(prefixSecret):]))
	}
	if err := it.Error(); err != nil {
		return nil, fmt.Errorf("eventstore: list secrets %q: %w", prefix, err)
	}
	return out, nil
}

// pebbleKeys stores wrapped subject keys.
type pebbleKeys struct{ db *pebble.DB }

func (p pebbleKeys) loadKey(subject string) ([]byte, bool, error) {
	v, closer, err := p.db.Get(prefixed(prefixKey, subject))
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	defer closer.Close()
	return bytes.Clone(v), true, nil
}

func (p pebbleKeys) storeKey(subject string, wrapped []byte) error {
	return p.db.Set(prefixed(prefixKey, subject), wrapped, pebble.Sync)
}
