package eventstore

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"
)

// prepared is an append encoded as far as it can be before it has a place
// in the log.
type prepared struct {
	bodies   [][]byte   // envelopes with zeroed stamped fields
	contents [][32]byte // their content hashes
	// subjects whose personal fields the events seal, and erases[i] the
	// subject event i erases ("" for none; nil when no event erases).
	subjects []string
	erases   []string
}

// size is the encoded size of the events.
func (p prepared) size() int {
	n := 0
	for _, b := range p.bodies {
		n += len(b)
	}
	return n
}

// prepare validates an append and encodes each event's body, leaving the
// stamped fields (position, version, time, previous hash) to the sequencer.
// It assigns UUID v7 ids, seals personal fields and hashes the content.
func prepare(keys *keyring, stream string, expected ExpectedVersion, events []Event) (prepared, error) {
	if err := validate(stream, expected, events); err != nil {
		return prepared{}, err
	}
	p := prepared{bodies: make([][]byte, len(events)), contents: make([][32]byte, len(events))}
	for i := range events {
		e := events[i] // copy: the caller's slice is not modified
		if e.ID == uuid.Nil {
			id, err := uuid.NewV7()
			if err != nil {
				return prepared{}, fmt.Errorf("eventstore: event id for stream %q: %w", stream, err)
			}
			e.ID = id
		}
		if e.SchemaVersion == 0 {
			e.SchemaVersion = 1
		}
		names, sealed, err := keys.sealPersonal(&e)
		if err != nil {
			return prepared{}, fmt.Errorf("eventstore: append to %q: %w", stream, err)
		}
		if len(sealed) > 0 && !slices.Contains(p.subjects, e.Subject) {
			p.subjects = append(p.subjects, e.Subject)
		}
		if erased := e.Metadata[MetaErases]; erased != "" {
			if p.erases == nil {
				p.erases = make([]string, len(events))
			}
			p.erases[i] = erased
		}
		p.bodies[i] = encodeBody(&e, stream, names, sealed)
		p.contents[i] = sha256.Sum256(p.bodies[i]) // = contentHash: stamped fields are still zero
	}
	return p, nil
}

// checkErased refuses an append that seals personal data of a subject
// erased since it was prepared (in an earlier group, or earlier in this
// one).
func (p prepared) checkErased(keys *keyring, stream string) error {
	for _, subject := range p.subjects {
		if keys.isErased(subject) {
			return fmt.Errorf("eventstore: append to %q: personal fields of subject %q: %w", stream, subject, ErrForgotten)
		}
	}
	return nil
}

// checkExpected compares a stream's current version with the condition.
func checkExpected(stream string, expected ExpectedVersion, current uint64) error {
	if expected == Any || uint64(expected) == current {
		return nil
	}
	return &VersionConflictError{Stream: stream, Expected: expected, Actual: current}
}

// chainTip is the last position and its hash; link extends it. It is not
// safe for concurrent use.
type chainTip struct {
	pos  uint64
	hash [32]byte
	mac  hash.Hash // HMAC with the event key, reused across events
}

// link stamps p's bodies as the next events of the chain and appends each
// one's MAC trailer, turning them into stored records. streamPrev is the
// position of the stream's last event before them (0 for a new stream).
func (c *chainTip) link(m *master, p prepared, firstVersion, streamPrev uint64, at time.Time) {
	for i, b := range p.bodies {
		c.pos++
		stamp(b, c.pos, firstVersion+uint64(i), streamPrev, at, &c.hash)
		streamPrev = c.pos
		c.hash = eventHash(b, p.contents[i])
		if c.mac == nil {
			c.mac = hmac.New(sha256.New, m.macKey)
		}
		c.mac.Reset()
		c.mac.Write(c.hash[:])
		p.bodies[i] = c.mac.Sum(b)
	}
}

// headSignal publishes the durable head and wakes waiters.
type headSignal struct {
	mu     sync.Mutex
	head   uint64
	ch     chan struct{} // closed and replaced on every advance
	closed bool
}

func newHeadSignal(head uint64) *headSignal {
	return &headSignal{head: head, ch: make(chan struct{})}
}

func (h *headSignal) get() uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.head
}

func (h *headSignal) publish(head uint64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if head > h.head {
		h.head = head
		if !h.closed { // after close the channel stays closed
			close(h.ch)
			h.ch = make(chan struct{})
		}
	}
}

func (h *headSignal) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.closed {
		h.closed = true
		close(h.ch)
	}
}

func (h *headSignal) wait(ctx context.Context, after uint64) (uint64, error) {
	for {
		h.mu.Lock()
		head, ch, closed := h.head, h.ch, h.closed
		h.mu.Unlock()
		if head > after {
			return head, nil
		}
		if closed {
			return head, ErrClosed
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return head, ctx.Err()
		}
	}
}

// chainVerifier walks envelopes in key order and checks the chain: no gap,
// no reordering, every previous hash right, stream versions contiguous,
// and (with the master key) every record's MAC. On the way it notes the
// subjects whose personal data events seal, the erasures events record
// and the hashes at the positions asked for in watch.
type chainVerifier struct {
	m        *master
	tip      chainTip
	streams  map[string]streamHead
	subjects map[string]struct{}
	erasures map[string][]uint64
	watch    map[uint64][]*[32]byte
}

func newChainVerifier(m *master) *chainVerifier {
	return &chainVerifier{m: m, streams: make(map[string]streamHead), subjects: make(map[string]struct{}),
		erasures: make(map[string][]uint64), watch: make(map[uint64][]*[32]byte)}
}

// hashAt asks the walk to note the hash of the event at pos into h.
func (v *chainVerifier) hashAt(pos uint64, h *[32]byte) { v.watch[pos] = append(v.watch[pos], h) }

// next checks the envelope stored under key position keyPos.
func (v *chainVerifier) next(keyPos uint64, raw []byte) error {
	want := v.tip.pos + 1
	if keyPos != want {
		return &TamperError{Position: want, Reason: fmt.Sprintf("event missing: the next stored position is %d", keyPos)}
	}
	body, mac, err := splitRecord(raw)
	if err != nil {
		return &TamperError{Position: keyPos, Reason: err.Error()}
	}
	hash := envelopeHash(body)
	if !v.m.publicOnly() && !hmac.Equal(mac, v.m.eventMAC(hash)) {
		return &TamperError{Position: keyPos, Reason: "event fails its MAC (changed or forged)"}
	}
	env, err := decodeEnvelope(body)
	if err != nil {
		return &TamperError{Position: keyPos, Reason: err.Error()}
	}
	if env.position != keyPos {
		return &TamperError{Position: keyPos, Reason: fmt.Sprintf("envelope says position %d (moved or reordered)", env.position)}
	}
	if env.prevHash != v.tip.hash {
		return &TamperError{Position: v.tip.pos, Reason: fmt.Sprintf(
			"hash chain broken: position %d records previous hash %s, position %d hashes to %s (changed, inserted or reordered)",
			keyPos, short(env.prevHash), v.tip.pos, short(v.tip.hash))}
	}
	stream := string(env.stream)
	last := v.streams[stream]
	if env.version != last.version+1 {
		return &TamperError{Position: keyPos, Reason: fmt.Sprintf("stream %q jumps from version %d to %d", stream, last.version, env.version)}
	}
	if env.streamPrev != last.pos {
		return &TamperError{Position: keyPos, Reason: fmt.Sprintf("stream %q back-pointer is %d, its previous event is at %d", stream, env.streamPrev, last.pos)}
	}
	if len(env.sealed) > 0 {
		if _, ok := v.subjects[string(env.subject)]; !ok {
			v.subjects[string(env.subject)] = struct{}{}
		}
	}
	for _, kv := range env.meta {
		if string(kv[0]) == MetaErases {
			v.erasures[string(kv[1])] = append(v.erasures[string(kv[1])], keyPos)
		}
	}
	for _, h := range v.watch[keyPos] {
		*h = hash
	}
	v.streams[stream] = streamHead{version: env.version, pos: keyPos}
	v.tip = chainTip{pos: keyPos, hash: hash}
	return nil
}

// finish compares the walk's end with the authenticated chain tip.
func (v *chainVerifier) finish(tipPos uint64, tipHash [32]byte) error {
	if v.tip.pos != tipPos {
		return &TamperError{Position: min(v.tip.pos, tipPos) + 1, Reason: fmt.Sprintf(
			"the log ends at position %d but its authenticated tip is position %d (events removed or appended outside salesbot)", v.tip.pos, tipPos)}
	}
	if v.tip.hash != tipHash {
		return &TamperError{Position: tipPos, Reason: "last event does not match the authenticated chain tip hash"}
	}
	return nil
}

func (v *chainVerifier) report() VerifyReport {
	return VerifyReport{Events: v.tip.pos, Streams: uint64(len(v.streams)), HeadHash: v.tip.hash, Subjects: uint64(len(v.subjects))}
}

func short(h [32]byte) string { return hex.EncodeToString(h[:6]) }
