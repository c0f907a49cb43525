package eventstore

import (
	"context"
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/cockroachdb/pebble/v2"
)

// Reads: up to the durable head only.

// Head implements Store.
func (s *PebbleStore) Head() uint64 { return s.head.get() }

// WaitHead implements Store.
func (s *PebbleStore) WaitHead(ctx context.Context, after uint64) (uint64, error) {
	return s.head.wait(ctx, after)
}

// ReadAll implements Store.
func (s *PebbleStore) ReadAll(ctx context.Context, from uint64, limit int) ([]RecordedEvent, error) {
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.closeMu.RUnlock()
	var out []RecordedEvent
	var slab []byte
	err := s.records(ctx, from, limit, func(n int, pos uint64, rec []byte) error {
		if out == nil {
			out = make([]RecordedEvent, 0, n)
		}
		if cap(slab)-len(slab) < len(rec) {
			slab = make([]byte, 0, max(64<<10, len(rec)))
		}
		start := len(slab)
		slab = append(slab, rec...)
		e, err := s.dec.decode(slab[start:len(slab):len(slab)])
		if err != nil {
			return fmt.Errorf("eventstore: decode position %d: %w", pos, err)
		}
		out = append(out, e)
		return nil
	})
	return out, err
}

// Scan implements Store.
func (s *PebbleStore) Scan(ctx context.Context, from uint64, limit int, fn func(*RecordedEvent) error) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.closeMu.RUnlock()
	e := new(RecordedEvent) // one per call, reused: fn may not keep it
	return s.records(ctx, from, limit, func(_ int, pos uint64, rec []byte) error {
		var err error
		if *e, err = s.dec.decode(rec); err != nil {
			return fmt.Errorf("eventstore: decode position %d: %w", pos, err)
		}
		return fn(e)
	})
}

// records calls fn with each stored record of up to limit durable events
// from position from on; n is how many records the call will visit. rec is
// valid only during fn.
func (s *PebbleStore) records(ctx context.Context, from uint64, limit int, fn func(n int, pos uint64, rec []byte) error) error {
	head := s.head.get()
	from = max(from, 1)
	if limit <= 0 || from > head {
		return nil
	}
	last := min(head, from+uint64(limit)-1)
	it, err := s.db.NewIterWithContext(ctx, &pebble.IterOptions{LowerBound: eventKey(from), UpperBound: eventKey(last + 1)})
	if err != nil {
		return fmt.Errorf("eventstore: read from position %d: %w", from, err)
	}
	defer it.Close()
	n := int(last - from + 1)
	want := from
	for ok := it.First(); ok; ok = it.Next() {
		pos := binary.BigEndian.Uint64(it.Key()[2:])
		if pos != want {
			return fmt.Errorf("%w: position %d missing", ErrCorrupt, want)
		}
		want++
		v, err := it.ValueAndErr()
		if err != nil {
			return fmt.Errorf("eventstore: read position %d: %w", pos, err)
		}
		if err := fn(n, pos, v); err != nil {
			return err
		}
	}
	if err := it.Error(); err != nil {
		return fmt.Errorf("eventstore: read from position %d: %w", from, err)
	}
	if want != last+1 {
		return fmt.Errorf("%w: position %d missing", ErrCorrupt, want)
	}
	return nil
}

// ReadStream implements Store. It reads the stream's head key (written in
// the same batch as the stream's last events, so it never points at an
// event not yet in Pebble), walks back along each event's pointer to the
// stream's previous event, skipping events not yet durable, and returns
// the rest in order.
func (s *PebbleStore) ReadStream(ctx context.Context, stream string, fromVersion uint64) ([]RecordedEvent, error) {
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.closeMu.RUnlock()
	durable := s.head.get()
	h, err := s.lastHead(stream)
	if err != nil {
		return nil, fmt.Errorf("eventstore: read stream %q: %w", stream, err)
	}
	fromVersion = max(fromVersion, 1)
	var out []RecordedEvent
	for pos, want := h.pos, h.version; pos != 0 && want >= fromVersion; want-- {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		raw, err := s.get(eventKey(pos))
		if err != nil {
			return nil, fmt.Errorf("eventstore: stream %q: read position %d: %w", stream, pos, err)
		}
		e, err := s.dec.decode(raw)
		if err != nil {
			return nil, fmt.Errorf("eventstore: stream %q: decode position %d: %w", stream, pos, err)
		}
		if e.Stream != stream || e.Version != want {
			return nil, fmt.Errorf("%w: stream %q: position %d holds %q version %d, want version %d", ErrCorrupt, stream, pos, e.Stream, e.Version, want)
		}
		if pos <= durable {
			out = append(out, e)
		}
		pos = binary.BigEndian.Uint64(raw[offStreamPrev:])
	}
	slices.Reverse(out)
	return out, nil
}

// StreamVersion implements Store: the head key, walked back past events
// not yet durable.
func (s *PebbleStore) StreamVersion(ctx context.Context, stream string) (uint64, error) {
	if err := s.enter(); err != nil {
		return 0, err
	}
	defer s.closeMu.RUnlock()
	durable := s.head.get()
	h, err := s.lastHead(stream)
	if err != nil {
		return 0, fmt.Errorf("eventstore: version of stream %q: %w", stream, err)
	}
	for h.pos > durable {
		raw, err := s.get(eventKey(h.pos))
		if err != nil {
			return 0, fmt.Errorf("eventstore: version of stream %q: read position %d: %w", stream, h.pos, err)
		}
		h = streamHead{version: h.version - 1, pos: binary.BigEndian.Uint64(raw[offStreamPrev:])}
	}
	return h.version, nil
}
