package eventstore

import (
	"fmt"
	"maps"
	"slices"
	"time"
	"unsafe"
)

// Upcaster turns the payload of one schema version into the next version's.
type Upcaster func(payload []byte) ([]byte, error)

// Upcasters is a registry of payload migrations, applied on read so that old
// events stay readable forever while code only knows the newest schema. The
// stored bytes (and so the hash chain) never change. A registry is built at
// wiring time and passed to a store; it is not safe to Register concurrently
// with reads.
type Upcasters struct {
	m map[upcastKey]Upcaster
}

type upcastKey struct {
	typ  string
	from uint32
}

// Register adds the migration of eventType from schema version from to
// from+1.
func (u *Upcasters) Register(eventType string, from uint32, fn Upcaster) {
	if u.m == nil {
		u.m = make(map[upcastKey]Upcaster)
	}
	u.m[upcastKey{eventType, from}] = fn
}

// upcast applies every registered step to e.
func (u *Upcasters) upcast(e *RecordedEvent) error {
	if u == nil || len(u.m) == 0 {
		return nil
	}
	for {
		fn, ok := u.m[upcastKey{e.Type, e.SchemaVersion}]
		if !ok {
			return nil
		}
		p, err := fn(e.Payload)
		if err != nil {
			return fmt.Errorf("upcast %s v%d at position %d: %w", e.Type, e.SchemaVersion, e.Position, err)
		}
		e.Payload = p
		e.SchemaVersion++
	}
}

// decoder turns stored envelopes into RecordedEvents.
type decoder struct {
	keys      *keyring
	upcasters *Upcasters
}

// decode copies nothing: strings and slices of the result alias raw, which
// must therefore never change afterwards (callers pass their own copy).
func (d decoder) decode(raw []byte) (RecordedEvent, error) {
	env, err := decodeRecord(raw)
	if err != nil {
		return RecordedEvent{}, err
	}
	e := RecordedEvent{
		Event: Event{
			ID:            env.id,
			Type:          bstr(env.typ),
			SchemaVersion: uint32(env.schema),
			CausationID:   env.cause,
			CorrelationID: env.corr,
			Payload:       env.payload,
			Subject:       bstr(env.subject),
		},
		Stream:     bstr(env.stream),
		Version:    env.version,
		Position:   env.position,
		RecordedAt: time.Unix(0, env.at).UTC(),
		PrevHash:   env.prevHash,
	}
	if len(env.meta) > 0 {
		e.Metadata = make(map[string]string, len(env.meta))
		for _, kv := range env.meta {
			e.Metadata[bstr(kv[0])] = bstr(kv[1])
		}
	}
	if len(env.names) > 0 {
		names := make([]string, len(env.names))
		for i, n := range env.names {
			names[i] = bstr(n)
		}
		e.Personal, e.Forgotten, err = d.keys.openPersonal(e.ID, e.Subject, names, env.sealed)
		if err != nil {
			return RecordedEvent{}, fmt.Errorf("event at position %d: %w", e.Position, err)
		}
	}
	if err := d.upcasters.upcast(&e); err != nil {
		return RecordedEvent{}, err
	}
	return e, nil
}

// bstr views immutable bytes as a string without copying.
func bstr(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(unsafe.SliceData(b), len(b))
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
