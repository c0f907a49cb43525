package eventstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Append implements Store: the append goes out in one message, with the
// others this node has waiting (see publisher). It returns when the
// server has stored the message (on R3, on a majority of the servers)
// and this node has applied it.
func (s *JetStreamStore) Append(ctx context.Context, stream string, expected ExpectedVersion, events ...Event) (AppendResult, error) {
	return s.append(ctx, stream, expected, nil, events)
}

// AppendFenced implements Fenced. The lease is checked with the stream's
// version, against what this node applied up to the sequence the message
// is published on: stored, it follows no grant the check did not see.
func (s *JetStreamStore) AppendFenced(ctx context.Context, stream string, expected ExpectedVersion, fence Fence, events ...Event) (AppendResult, error) {
	return s.append(ctx, stream, expected, &fence, events)
}

func (s *JetStreamStore) append(ctx context.Context, stream string, expected ExpectedVersion, fence *Fence, events []Event) (AppendResult, error) {
	if err := ctx.Err(); err != nil {
		return AppendResult{}, err
	}
	if s.isClosed() {
		return AppendResult{}, ErrClosed
	}
	if s.readOnly {
		return AppendResult{}, ErrReadOnly
	}
	p, err := prepare(s.keys, stream, expected, events)
	if err != nil {
		return AppendResult{}, err
	}
	lc, err := newLeaseCheck(stream, fence, events)
	if err != nil {
		return AppendResult{}, err
	}
	if size := p.size() + len(p.bodies)*(32+binary.MaxVarintLen64) + 1024; int64(size) > s.nc.MaxPayload() {
		return AppendResult{}, fmt.Errorf("%w: append to stream %q is about %d bytes stored, the NATS server takes at most %d in a message (max_payload)",
			ErrInvalidEvent, stream, size, s.nc.MaxPayload())
	}
	start := time.Now()
	req := &jsAppend{stream: stream, expected: expected, p: p, lease: lc, done: make(chan jsResult, 1)}
	select {
	case s.reqs <- req:
	case <-s.closing:
		return AppendResult{}, ErrClosed
	}
	res := <-req.done
	if f := s.observer.Load(); f != nil {
		types := make([]string, len(events))
		for i, e := range events {
			types[i] = e.Type
		}
		(*f)(AppendStat{Stream: stream, Events: events, Types: types, Group: len(events), Latency: time.Since(start), Err: res.err})
	}
	return res.r, res.err
}

// ObserveAppends has f told of every append from now on (nil: no more),
// as PebbleStore.ObserveAppends does; Group is the append's own events.
func (s *JetStreamStore) ObserveAppends(f func(AppendStat)) {
	if f == nil {
		s.observer.Store(nil)
		return
	}
	s.observer.Store(&f)
}

// Err is nil: a log on JetStream does not fail as a whole. A server that
// is down or electing a leader fails the appends made meanwhile, each
// with its error, and the next ones succeed once it is back.
func (s *JetStreamStore) Err() error { return nil }

// Failed never closes (see Err).
func (s *JetStreamStore) Failed() <-chan struct{} { return nil }

// jsAppend is an append waiting for the publisher.
type jsAppend struct {
	stream   string
	expected ExpectedVersion
	p        prepared
	lease    leaseCheck
	done     chan jsResult
}

type jsResult struct {
	r   AppendResult
	err error
}

// maxGroup caps the appends one round of the publisher takes.
const maxGroup = 256

// publisher publishes the node's appends until ctx ends. It takes every
// append waiting as one group and publishes the group as one message (or
// a few, one after another, when it does not fit one) on the last
// sequence this node applied (Nats-Expected-Last-Sequence), so that when
// another node's message got in first, the message is refused, never
// stored after a message it does not follow. The refused appends are
// tried again once this node has applied the stream.
func (s *JetStreamStore) publisher(ctx context.Context) {
	defer close(s.pubDone)
	for {
		var group []*jsAppend
		select {
		case <-ctx.Done():
			return
		case r := <-s.reqs:
			group = append(group, r)
		}
	gather:
		for len(group) < maxGroup {
			select {
			case r := <-s.reqs:
				group = append(group, r)
			default:
				break gather
			}
		}
		for len(group) > 0 {
			group = s.publishGroup(group)
			if len(group) == 0 {
				break
			}
			// Another node appended first: apply what it wrote, then
			// check the versions and link the chain again on the new tip.
			if err := s.catchUp(ctx); err != nil {
				if s.isClosed() {
					err = ErrClosed
				}
				for _, r := range group {
					r.done <- jsResult{err: fmt.Errorf("eventstore: append to %q: catch up with %s: %w", r.stream, s.url, err)}
				}
				break
			}
		}
	}
}

// publishGroup publishes the appends of group and answers each, but for
// those another node's message got ahead of, which it returns with every
// append after them to be tried again. The appends go out as few
// messages as fit the server's max_payload, one after another, each on
// the last sequence (Nats-Expected-Last-Sequence): the server checks that
// before it proposes the message to its replicas, so a refused message
// was never replicated. (A condition a replicated stream checks only when it
// applies a message, as Nats-Expected-Last-Msg-Id is, fails every
// replica's write instead and stops the stream for good: nats-server
// 2.15 puts such a replica in observer mode.)
func (s *JetStreamStore) publishGroup(group []*jsAppend) (retry []*jsAppend) {
	type batched struct {
		req                  *jsAppend
		first, last, version uint64
	}
	s.mu.RLock()
	seq, tip := s.seq, chainTip{pos: s.tip.pos, hash: s.tip.hash}
	s.mu.RUnlock()
	heads := map[string]streamHead{} // streams as the messages sent leave them
	epochs := map[string]uint64{}    // lease epochs as the messages sent leave them
	epoch := func(key string) (uint64, error) {
		if e, ok := epochs[key]; ok {
			return e, nil
		}
		s.mu.RLock()
		defer s.mu.RUnlock()
		return latestEpoch(key, s.streams[LeaseStream(key)], func(pos uint64) []byte { return s.events[pos-1] })
	}
	budget := int(s.nc.MaxPayload()) - msgHeadroom
	for len(group) > 0 {
		var (
			batch   []batched
			records [][]byte
			size    = 1 + binary.MaxVarintLen64
			i       int
			// What this message changes, not stored yet: an append that
			// fails on it is judged again once the message is stored
			// (a refused message would leave that failure untrue).
			streams = map[string]bool{}
			keys    = map[string]bool{}
			erasing = map[string]bool{}
		)
		dependent := func(r *jsAppend) bool {
			return streams[r.stream] || (r.lease.fence != nil && keys[r.lease.fence.Key]) || (r.lease.grantKey != "" && keys[r.lease.grantKey])
		}
		for ; i < len(group); i++ {
			r := group[i]
			if len(batch) > 0 && slices.ContainsFunc(r.p.subjects, func(subject string) bool { return erasing[subject] }) {
				break // sealed for a subject this message erases: ErrForgotten once it is stored
			}
			head, ok := heads[r.stream]
			if !ok {
				s.mu.RLock()
				if positions := s.streams[r.stream]; len(positions) > 0 {
					head = streamHead{version: uint64(len(positions)), pos: positions[len(positions)-1]}
				}
				s.mu.RUnlock()
			}
			err := checkExpected(r.stream, r.expected, head.version)
			if err == nil {
				err = r.p.checkErased(s.keys, r.stream)
			}
			if err == nil && !r.lease.none() {
				err = r.lease.check(epoch)
			}
			if err != nil {
				if len(batch) > 0 && dependent(r) {
					break
				}
				r.done <- jsResult{err: err}
				continue
			}
			q := r.p.clone()
			next := tip
			next.link(s.m, q, head.version+1, head.pos, s.now())
			n := 0
			for _, b := range q.bodies {
				n += binary.MaxVarintLen64 + len(b)
			}
			if len(batch) > 0 && (size+n > budget || len(records)+len(q.bodies) > MaxAppendEvents) {
				break // the next message takes it and the rest
			}
			size += n
			records = append(records, q.bodies...)
			version := head.version + uint64(len(q.bodies))
			batch = append(batch, batched{req: r, first: tip.pos + 1, last: next.pos, version: version})
			tip = next
			heads[r.stream] = streamHead{version: version, pos: tip.pos}
			streams[r.stream] = true
			if r.lease.grantKey != "" {
				epochs[r.lease.grantKey] = r.lease.grantHigh
				keys[r.lease.grantKey] = true
			}
			for _, subject := range r.p.erases {
				if subject != "" {
					erasing[subject] = true
				}
			}
		}
		group = group[i:]
		if len(batch) == 0 {
			continue
		}
		msg := nats.NewMsg(s.names.subject)
		msg.Data = encodeMessage(records)
		msg.Header.Set(hdrFirst, strconv.FormatUint(batch[0].first, 10))
		msg.Header.Set(hdrAppends, strconv.Itoa(len(batch)))
		if stream := url.QueryEscape(batch[0].req.stream); len(batch) == 1 && len(stream) <= maxStreamHeader {
			msg.Header.Set(hdrStream, stream)
			msg.Header.Set(hdrExpected, batch[0].req.expected.String())
			msg.Header.Set(hdrVersion, strconv.FormatUint(batch[0].version, 10))
		}
		ack, err := s.publish(msg, seq)
		if err == nil {
			s.apply(ack.Sequence, msg.Data)
			s.awaitApplied(ack.Sequence)
			seq = ack.Sequence
			for _, b := range batch {
				b.req.done <- jsResult{r: AppendResult{FirstPosition: b.first, LastPosition: b.last, Version: b.version}}
			}
			continue
		}
		if isWrongLastSequence(err) {
			// Another node got there first: this message and the rest are
			// linked again once this node has applied what it wrote.
			for _, b := range batch {
				retry = append(retry, b.req)
			}
			return append(retry, group...)
		}
		if s.isClosed() {
			err = ErrClosed
		}
		// Not answered, even sent again: the rest would wait as long, so
		// it fails with it (the message may have been stored all the same).
		for _, b := range batch {
			b.req.done <- jsResult{err: fmt.Errorf("eventstore: append to %q on %s: %w", b.req.stream, s.url, err)}
		}
		for _, r := range group {
			r.done <- jsResult{err: fmt.Errorf("eventstore: append to %q on %s: %w", r.stream, s.url, err)}
		}
		return nil
	}
	return nil
}

// msgHeadroom is what a message's headers may take of max_payload;
// maxStreamHeader keeps a long stream name out of them.
const (
	msgHeadroom     = 1024
	maxStreamHeader = 256
)

// publish sends msg on the stream's last sequence seq and waits for the
// server to store it. An answer that was lost (a timeout, a leader
// change) is asked for once more by sending msg again with the same
// Nats-Msg-Id: a replicated stream finds the id and answers with the
// first one's sequence; a stream on one server checks the last sequence
// first and refuses it, so the message after seq is read to see whether
// it is this one. An append left unanswered moves the connection to
// another server (reconnect).
func (s *JetStreamStore) publish(msg *nats.Msg, seq uint64) (*jetstream.PubAck, error) {
	id := uuid.NewString()
	opts := []jetstream.PublishOpt{jetstream.WithMsgID(id), jetstream.WithExpectLastSequence(seq)}
	send := func() (*jetstream.PubAck, error) {
		ctx, cancel := context.WithTimeout(context.Background(), publishTimeout)
		defer cancel()
		return s.js.PublishMsg(ctx, msg, opts...)
	}
	ack, err := send()
	if err == nil || isWrongLastSequence(err) || s.isClosed() {
		return ack, err
	}
	ack, err = send()
	switch {
	case isWrongLastSequence(err):
		if s.storedAs(seq+1, id) {
			return &jetstream.PubAck{Stream: s.names.stream, Sequence: seq + 1, Duplicate: true}, nil
		}
	case err != nil && (errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout)):
		s.reconnect(err)
	}
	return ack, err
}

// storedAs says whether the stream's message seq is the one published
// with the message id.
func (s *JetStreamStore) storedAs(seq uint64, id string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), publishTimeout)
	defer cancel()
	m, err := s.stream.GetMsg(ctx, seq)
	return err == nil && m.Header.Get(jetstream.MsgIDHeader) == id
}

// publishTimeout bounds one publish's wait for the server's answer.
const publishTimeout = 10 * time.Second

// isWrongLastSequence: the server refused a publish because the stream
// moved on: past the expected last sequence, or to another last message.
func isWrongLastSequence(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && (apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
		apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant || apiErr.ErrorCode == errCodeWrongLastMsgID)
}

// errCodeWrongLastMsgID is the server's "wrong last msg ID" error code.
const errCodeWrongLastMsgID jetstream.ErrorCode = 10070

// clone copies the bodies, so that a retried append links fresh copies.
func (p prepared) clone() prepared {
	q := p
	q.bodies = make([][]byte, len(p.bodies))
	for i, b := range p.bodies {
		q.bodies[i] = bytes.Clone(b)
	}
	return q
}

// A message body: the format byte, the number of records, and each record
// as its length and its bytes.
const msgFormat = 1

func encodeMessage(records [][]byte) []byte {
	n := 1 + binary.MaxVarintLen64
	for _, r := range records {
		n += binary.MaxVarintLen64 + len(r)
	}
	b := make([]byte, 0, n)
	b = append(b, msgFormat)
	b = binary.AppendUvarint(b, uint64(len(records)))
	for _, r := range records {
		b = binary.AppendUvarint(b, uint64(len(r)))
		b = append(b, r...)
	}
	return b
}

// splitMessage returns the records of a message body; they alias b.
func splitMessage(b []byte) ([][]byte, error) {
	if len(b) == 0 || b[0] != msgFormat {
		return nil, errors.New("unknown message format")
	}
	b = b[1:]
	n, k := binary.Uvarint(b)
	if k <= 0 || n == 0 || n > MaxAppendEvents {
		return nil, errors.New("bad record count")
	}
	b = b[k:]
	out := make([][]byte, 0, n)
	for i := uint64(0); i < n; i++ {
		l, k := binary.Uvarint(b)
		if k <= 0 || l > uint64(len(b)-k) {
			return nil, fmt.Errorf("record %d is cut short", i)
		}
		out = append(out, b[k:k+int(l):k+int(l)])
		b = b[k+int(l):]
	}
	if len(b) != 0 {
		return nil, fmt.Errorf("%d bytes after the last record", len(b))
	}
	return out, nil
}

// reconnect moves the connection to another server when an append was
// not answered even once sent again: after a server of the cluster died,
// a connection can stay where answers no longer come back (seen on a
// 3-server cluster under load), while a new one is answered at once. At
// most once every 10 s.
func (s *JetStreamStore) reconnect(cause error) {
	now := time.Now()
	if last := s.lastReconnect.Load(); last != 0 && now.Sub(time.Unix(0, last)) < 10*time.Second {
		return
	}
	s.lastReconnect.Store(now.UnixNano())
	s.log.Warn("eventstore: appends are not answered; reconnecting to the servers", "log", s.url.String(), "err", cause)
	if err := s.nc.ForceReconnect(); err != nil {
		s.log.Warn("eventstore: reconnect", "log", s.url.String(), "err", err)
	}
}
