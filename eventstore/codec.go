package eventstore

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"time"
	"unsafe"

	"github.com/google/uuid"
)

// Envelope encoding, format 1 (documented in docs/event-log.md):
//
//	off  size  field
//	0    1     format (1)
//	1    8     global position, big-endian
//	9    8     stream version, big-endian
//	17   8     position of the stream's previous event (0 for version 1)
//	25   8     recorded-at, Unix nanoseconds, big-endian
//	33   32    hash of the previous event (zero for position 1)
//	65   16    event id
//	81   16    causation id
//	97   16    correlation id
//	113  ...   uvarint schema version
//	           string stream, string type          (string = uvarint length + bytes)
//	           uvarint n, n × (string key, string value)   metadata
//	           bytes payload                        (bytes = uvarint length + bytes)
//	           string subject
//	           uvarint n, n × string                personal field names
//	           bytes sealed personal values         (empty when n = 0)
//
// Bytes 1..64 are the stamped fields: the sequencer fills them in after the
// appender has encoded the rest. A stored record is the envelope followed
// by a 32-byte MAC (see eventHash). Each event points at its stream's
// previous event, so a stream is read by walking back from its head: the
// log needs no separate stream index.
const (
	formatV1      = 1
	offPosition   = 1
	offVersion    = 9
	offStreamPrev = 17
	offTime       = 25
	offPrevHash   = 33
	offID         = 65
	offCausation  = 81
	offCorrelate  = 97
	headerLen     = 113
)

// contentHash is SHA-256 of an envelope whose stamped fields (position,
// version, stream back-pointer, time, previous hash: bytes 1..64) are read
// as zeros. An appender
// computes it before the event has a place in the log, in parallel with
// other appenders.
func contentHash(env []byte) [32]byte {
	var zeros [offID - offPosition]byte
	h := sha256.New()
	h.Write(env[:offPosition])
	h.Write(zeros[:])
	h.Write(env[offID:])
	var sum [32]byte
	h.Sum(sum[:0])
	return sum
}

// eventHash is the chain hash of an event: SHA-256 over its stamped fields
// (bytes 1..64: position, version, stream back-pointer, time, previous
// hash) followed by its
// content hash. Linking costs two SHA-256 blocks per event, whatever the
// payload size.
func eventHash(env []byte, content [32]byte) [32]byte {
	var buf [offID - offPosition + 32]byte
	copy(buf[:], env[offPosition:offID])
	copy(buf[offID-offPosition:], content[:])
	return sha256.Sum256(buf[:])
}

// envelopeHash is eventHash computed from the envelope alone.
func envelopeHash(env []byte) [32]byte { return eventHash(env, contentHash(env)) }

// macLen is the size of the MAC trailer of a stored record.
const macLen = 32

// splitRecord separates a stored record into envelope and MAC trailer.
func splitRecord(rec []byte) (env, mac []byte, err error) {
	if len(rec) < headerLen+macLen {
		return nil, nil, fmt.Errorf("%w: record of %d bytes is shorter than header and MAC", ErrCorrupt, len(rec))
	}
	return rec[:len(rec)-macLen], rec[len(rec)-macLen:], nil
}

// decodeRecord decodes a stored record without checking its MAC.
func decodeRecord(rec []byte) (envelope, error) {
	env, _, err := splitRecord(rec)
	if err != nil {
		return envelope{}, err
	}
	return decodeEnvelope(env)
}

// encodeBody encodes e with a zeroed fixed header; sealed holds the already
// encrypted personal values (nil when there are none) and names their field
// names in the same order.
func encodeBody(e *Event, stream string, names []string, sealed []byte) []byte {
	size := headerLen + macLen + 5 + 5 + len(stream) + 5 + len(e.Type) + 5 + 5 + len(e.Payload) + 5 + len(e.Subject) + 5 + 5 + len(sealed)
	for k, v := range e.Metadata {
		size += 10 + len(k) + len(v)
	}
	for _, n := range names {
		size += 5 + len(n)
	}
	b := make([]byte, headerLen, size)
	b[0] = formatV1
	copy(b[offID:], e.ID[:])
	copy(b[offCausation:], e.CausationID[:])
	copy(b[offCorrelate:], e.CorrelationID[:])
	b = binary.AppendUvarint(b, uint64(e.SchemaVersion))
	b = appendString(b, stream)
	b = appendString(b, e.Type)
	b = binary.AppendUvarint(b, uint64(len(e.Metadata)))
	for _, k := range sortedKeys(e.Metadata) {
		b = appendString(b, k)
		b = appendString(b, e.Metadata[k])
	}
	b = appendString(b, unsafe.String(unsafe.SliceData(e.Payload), len(e.Payload)))
	b = appendString(b, e.Subject)
	b = binary.AppendUvarint(b, uint64(len(names)))
	for _, n := range names {
		b = appendString(b, n)
	}
	b = appendString(b, unsafe.String(unsafe.SliceData(sealed), len(sealed)))
	return b
}

// stamp fills the stamped fields of an encoded body.
func stamp(b []byte, position, version, streamPrev uint64, at time.Time, prev *[32]byte) {
	binary.BigEndian.PutUint64(b[offPosition:], position)
	binary.BigEndian.PutUint64(b[offVersion:], version)
	binary.BigEndian.PutUint64(b[offStreamPrev:], streamPrev)
	binary.BigEndian.PutUint64(b[offTime:], uint64(at.UnixNano()))
	copy(b[offPrevHash:], prev[:])
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// envelope is a decoded envelope whose strings and slices alias the input.
type envelope struct {
	position, version uint64
	streamPrev        uint64
	at                int64
	prevHash          [32]byte
	id, cause, corr   uuid.UUID
	schema            uint64
	stream, typ       []byte
	meta              [][2][]byte
	payload           []byte
	subject           []byte
	names             [][]byte
	sealed            []byte
}

// decodeEnvelope parses b without copying. It never panics; bad input returns
// an error wrapping ErrCorrupt.
func decodeEnvelope(b []byte) (envelope, error) {
	var env envelope
	if len(b) < headerLen {
		return env, fmt.Errorf("%w: %d bytes, shorter than the %d-byte header", ErrCorrupt, len(b), headerLen)
	}
	if b[0] != formatV1 {
		return env, fmt.Errorf("%w: unknown envelope format %d", ErrCorrupt, b[0])
	}
	env.position = binary.BigEndian.Uint64(b[offPosition:])
	env.version = binary.BigEndian.Uint64(b[offVersion:])
	env.streamPrev = binary.BigEndian.Uint64(b[offStreamPrev:])
	env.at = int64(binary.BigEndian.Uint64(b[offTime:]))
	copy(env.prevHash[:], b[offPrevHash:])
	copy(env.id[:], b[offID:])
	copy(env.cause[:], b[offCausation:])
	copy(env.corr[:], b[offCorrelate:])
	r := reader{b: b, off: headerLen}
	env.schema = r.uvarint()
	env.stream = r.bytes()
	env.typ = r.bytes()
	if n := r.count(2); n > 0 {
		env.meta = make([][2][]byte, n)
		for i := range env.meta {
			env.meta[i] = [2][]byte{r.bytes(), r.bytes()}
		}
	}
	env.payload = r.bytes()
	env.subject = r.bytes()
	if n := r.count(1); n > 0 {
		env.names = make([][]byte, n)
		for i := range env.names {
			env.names[i] = r.bytes()
		}
	}
	env.sealed = r.bytes()
	if r.err != "" {
		return env, fmt.Errorf("%w: %s at byte %d", ErrCorrupt, r.err, r.off)
	}
	if r.off != len(b) {
		return env, fmt.Errorf("%w: %d trailing bytes", ErrCorrupt, len(b)-r.off)
	}
	if env.schema == 0 || env.schema > 1<<32-1 {
		return env, fmt.Errorf("%w: schema version %d", ErrCorrupt, env.schema)
	}
	if len(env.stream) == 0 || len(env.typ) == 0 {
		return env, fmt.Errorf("%w: empty stream or type", ErrCorrupt)
	}
	if env.position == 0 || env.version == 0 {
		return env, fmt.Errorf("%w: zero position or version", ErrCorrupt)
	}
	if env.streamPrev >= env.position || (env.version == 1) != (env.streamPrev == 0) {
		return env, fmt.Errorf("%w: stream back-pointer %d at position %d, version %d", ErrCorrupt, env.streamPrev, env.position, env.version)
	}
	if len(env.names) > 0 && len(env.subject) == 0 {
		return env, fmt.Errorf("%w: personal fields without a subject", ErrCorrupt)
	}
	return env, nil
}

// reader is a bounds-checked cursor; the first error sticks.
type reader struct {
	b   []byte
	off int
	err string
}

func (r *reader) uvarint() uint64 {
	if r.err != "" {
		return 0
	}
	v, n := binary.Uvarint(r.b[r.off:])
	if n <= 0 || (n > 1 && r.b[r.off+n-1] == 0) {
		r.err = "bad varint" // malformed, overflowing or not minimal
		return 0
	}
	r.off += n
	return v
}

func (r *reader) bytes() []byte {
	n := r.uvarint()
	if r.err != "" {
		return nil
	}
	if n > uint64(len(r.b)-r.off) {
		r.err = fmt.Sprintf("length %d past the end", n)
		return nil
	}
	s := r.b[r.off : r.off+int(n) : r.off+int(n)]
	r.off += int(n)
	return s
}

// count reads an element count; each element takes at least min bytes, so
// a count the remaining bytes cannot hold is an error, and a hostile count
// cannot force a huge allocation.
func (r *reader) count(min int) int {
	n := r.uvarint()
	if r.err != "" {
		return 0
	}
	if n > uint64((len(r.b)-r.off)/min) {
		r.err = fmt.Sprintf("count %d past the end", n)
		return 0
	}
	return int(n)
}
