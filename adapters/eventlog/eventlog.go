// Package eventlog implements the domain's EventLog port on an
// eventstore.Store: domain events become JSON payloads, and fields tagged
// `personal:"name"` go to the store's encrypted personal fields under the
// contact's key, so erasing a contact blanks them without touching the log.
package eventlog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/eventstore"
)

// Log is the domain's EventLog on an event store.
type Log struct {
	store eventstore.Store
	types map[string]reflect.Type
	fence *eventstore.Fence // nil: appends are not fenced
}

var _ domain.EventLog = (*Log)(nil)

// New returns a Log over store that knows every domain event type.
func New(store eventstore.Store) *Log {
	l := &Log{store: store, types: map[string]reflect.Type{}}
	for _, e := range domain.EventTypes() {
		l.types[e.EventType()] = reflect.TypeOf(e)
	}
	return l
}

// Fenced returns the log whose appends are made under fence (a node's
// lease on an account, adapters/cluster): once another node took the
// lease they fail with eventstore.ErrFenced and write nothing. The store
// must be an eventstore.Fenced (every store of this module is).
func (l *Log) Fenced(fence eventstore.Fence) *Log {
	c := *l
	c.fence = &fence
	return &c
}

// Load implements domain.EventLog.
func (l *Log) Load(ctx context.Context, stream string) ([]domain.Event, uint64, error) {
	return l.LoadFrom(ctx, stream, 1)
}

// LoadFrom implements domain.EventLog.
func (l *Log) LoadFrom(ctx context.Context, stream string, from uint64) ([]domain.Event, uint64, error) {
	from = max(from, 1)
	recs, err := l.store.ReadStream(ctx, stream, from)
	if err != nil {
		return nil, 0, err
	}
	evs := make([]domain.Event, len(recs))
	for i := range recs {
		if evs[i], err = l.Decode(&recs[i]); err != nil {
			return nil, 0, err
		}
	}
	if len(recs) == 0 {
		if from == 1 { // a stream with durable events would have returned them
			return nil, 0, nil
		}
		v, err := l.store.StreamVersion(ctx, stream)
		return nil, v, err
	}
	return evs, recs[len(recs)-1].Version, nil
}

// Version implements domain.EventLog.
func (l *Log) Version(ctx context.Context, stream string) (uint64, error) {
	return l.store.StreamVersion(ctx, stream)
}

// Append implements domain.EventLog.
func (l *Log) Append(ctx context.Context, stream string, expected uint64, subject string, events []domain.Event) error {
	out := make([]eventstore.Event, len(events))
	for i, e := range events {
		var err error
		if out[i], err = l.Encode(e, subject); err != nil {
			return err
		}
	}
	var err error
	if f, ok := l.store.(eventstore.Fenced); ok && l.fence != nil {
		_, err = f.AppendFenced(ctx, stream, eventstore.Exact(expected), *l.fence, out...)
	} else if l.fence != nil {
		err = fmt.Errorf("eventlog: append to %s under lease %q: the store cannot fence appends", stream, l.fence.Key)
	} else {
		_, err = l.store.Append(ctx, stream, eventstore.Exact(expected), out...)
	}
	if errors.Is(err, eventstore.ErrVersionConflict) {
		return fmt.Errorf("%w: %w", domain.ErrConflict, err)
	}
	return err
}

// Encode turns a domain event into a store event; its personal fields are
// taken out of the payload into Personal, owned by subject.
func (l *Log) Encode(e domain.Event, subject string) (eventstore.Event, error) {
	payload, personal, err := split(e)
	if err != nil {
		return eventstore.Event{}, err
	}
	out := eventstore.Event{Type: e.EventType(), SchemaVersion: 1, Payload: payload}
	if _, erasure := e.(domain.ContactForgotten); erasure {
		// The store shreds the contact's key in the same write and binds
		// the tombstone to this event, so verify tells an erasure from a
		// deleted key.
		if subject == "" {
			return eventstore.Event{}, fmt.Errorf("encode %s: no subject to erase", e.EventType())
		}
		out.Metadata = map[string]string{eventstore.MetaErases: subject}
	}
	if len(personal) > 0 {
		if subject == "" {
			return eventstore.Event{}, fmt.Errorf("encode %s: personal fields without a subject", e.EventType())
		}
		out.Subject, out.Personal = subject, personal
	}
	return out, nil
}

// Decode turns a stored event back into its domain event. Personal fields
// of a forgotten subject read as eventstore.ForgottenMarker.
func (l *Log) Decode(r *eventstore.RecordedEvent) (domain.Event, error) {
	t, ok := l.types[r.Type]
	if !ok {
		return nil, fmt.Errorf("decode position %d: unknown event type %q", r.Position, r.Type)
	}
	p := reflect.New(t)
	if err := json.Unmarshal(r.Payload, p.Interface()); err != nil {
		return nil, fmt.Errorf("decode %s at position %d: %w", r.Type, r.Position, err)
	}
	for path, value := range r.Personal {
		if !putPersonal(p.Elem(), strings.Split(path, "."), value) {
			return nil, fmt.Errorf("decode %s at position %d: no personal field %q", r.Type, r.Position, path)
		}
	}
	return p.Elem().Interface().(domain.Event), nil
}

// split returns e's payload without its personal fields (strings empty,
// integers zero) and those fields by path.
func split(e domain.Event) (payload []byte, personal map[string]string, err error) {
	v := reflect.New(reflect.TypeOf(e)).Elem()
	v.Set(reflect.ValueOf(e))
	personal = map[string]string{}
	takePersonal(v, "", personal)
	if payload, err = json.Marshal(v.Interface()); err != nil {
		return nil, nil, fmt.Errorf("encode %s: %w", e.EventType(), err)
	}
	return payload, personal, nil
}

// Public returns e as JSON without its personal fields, as the log keeps
// its payload in clear (strings empty, integers zero), and the paths of
// the personal fields it left out (those that held a value), sorted: the
// event as whoever may not read personal data may see it.
func Public(e domain.Event) (payload json.RawMessage, withheld []string, err error) {
	payload, personal, err := split(e)
	if err != nil {
		return nil, nil, err
	}
	return payload, slices.Sorted(maps.Keys(personal)), nil
}

// takePersonal moves every string field tagged personal (in v and in the
// structs it holds) into out, keyed by its path of JSON names.
func takePersonal(v reflect.Value, prefix string, out map[string]string) {
	t := v.Type()
	for i := range t.NumField() {
		f, fv := t.Field(i), v.Field(i)
		if !f.IsExported() {
			continue
		}
		name := jsonName(f)
		switch {
		case f.Tag.Get("personal") != "" && f.Type.Kind() == reflect.String:
			if s := fv.String(); s != "" {
				out[prefix+f.Tag.Get("personal")] = s
				fv.SetString("")
			}
		case f.Tag.Get("personal") != "" && fv.CanInt():
			if n := fv.Int(); n != 0 {
				out[prefix+f.Tag.Get("personal")] = strconv.FormatInt(n, 10)
				fv.SetInt(0)
			}
		case f.Type.Kind() == reflect.Struct:
			takePersonal(fv, prefix+name+".", out)
		case f.Type.Kind() == reflect.Pointer && f.Type.Elem().Kind() == reflect.Struct && !fv.IsNil():
			cp := reflect.New(f.Type.Elem()) // copy: never change the caller's event
			cp.Elem().Set(fv.Elem())
			fv.Set(cp)
			takePersonal(cp.Elem(), prefix+name+".", out)
		case f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.Struct && fv.Len() > 0:
			cp := reflect.MakeSlice(f.Type, fv.Len(), fv.Len()) // a copy, as above
			reflect.Copy(cp, fv)
			fv.Set(cp)
			for j := range cp.Len() {
				takePersonal(cp.Index(j), prefix+name+"."+strconv.Itoa(j)+".", out)
			}
		}
	}
}

// putPersonal sets the personal field at path in v; false if there is none.
func putPersonal(v reflect.Value, path []string, value string) bool {
	t := v.Type()
	for i := range t.NumField() {
		f, fv := t.Field(i), v.Field(i)
		if !f.IsExported() {
			continue
		}
		if len(path) == 1 && path[0] != "" && f.Tag.Get("personal") == path[0] {
			switch {
			case f.Type.Kind() == reflect.String:
				fv.SetString(value)
				return true
			case fv.CanInt():
				n, err := strconv.ParseInt(value, 10, 64)
				if err != nil && value != eventstore.ForgottenMarker {
					return false
				}
				fv.SetInt(n) // forgotten: 0
				return true
			}
		}
		if len(path) > 1 && jsonName(f) == path[0] {
			switch {
			case f.Type.Kind() == reflect.Struct:
				return putPersonal(fv, path[1:], value)
			case f.Type.Kind() == reflect.Pointer && f.Type.Elem().Kind() == reflect.Struct:
				if fv.IsNil() {
					fv.Set(reflect.New(f.Type.Elem()))
				}
				return putPersonal(fv.Elem(), path[1:], value)
			case f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.Struct && len(path) > 2:
				j, err := strconv.Atoi(path[1])
				if err != nil || j < 0 || j >= fv.Len() {
					return false // the payload keeps every element, blanked
				}
				return putPersonal(fv.Index(j), path[2:], value)
			}
		}
	}
	return false
}

func jsonName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	if name == "" {
		return f.Name
	}
	return name
}
