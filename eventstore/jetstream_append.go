package eventstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net/url"
	"strconv"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Append implements Store: one message per append, published on the
// node's last applied sequence (see JetStreamStore). It returns when the
// server has stored the message (on R3, on a majority of the servers) and
// this node has applied it.
func (s *JetStreamStore) Append(ctx context.Context, stream string, expected ExpectedVersion, events ...Event) (AppendResult, error) {
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
	s.appendMu.Lock()
	defer s.appendMu.Unlock()
	for {
		s.mu.RLock()
		closed, seq, tip := s.closed, s.seq, chainTip{pos: s.tip.pos, hash: s.tip.hash}
		positions := s.streams[stream]
		s.mu.RUnlock()
		if closed {
			return AppendResult{}, ErrClosed
		}
		cur := uint64(len(positions))
		if err := checkExpected(stream, expected, cur); err != nil {
			return AppendResult{}, err
		}
		if err := p.checkErased(s.keys, stream); err != nil {
			return AppendResult{}, err
		}
		var prev uint64
		if cur > 0 {
			prev = positions[cur-1]
		}
		q := p.clone()
		first := tip.pos + 1
		tip.link(s.m, q, cur+1, prev, s.now())
		msg := nats.NewMsg(s.names.subject)
		msg.Data = encodeMessage(q.bodies)
		msg.Header.Set(hdrStream, url.QueryEscape(stream))
		msg.Header.Set(hdrExpected, expected.String())
		msg.Header.Set(hdrVersion, strconv.FormatUint(cur+uint64(len(q.bodies)), 10))
		msg.Header.Set(hdrFirst, strconv.FormatUint(first, 10))
		if max := s.nc.MaxPayload(); int64(len(msg.Data)+512) > max {
			return AppendResult{}, fmt.Errorf("%w: append to stream %q is %d bytes stored, the NATS server takes at most %d in a message (max_payload)",
				ErrInvalidEvent, stream, len(msg.Data), max)
		}
		ack, err := s.publish(ctx, msg, seq)
		if isWrongLastSequence(err) {
			// Another node appended first: apply what it wrote, then check
			// the version and link the chain again on the new tip.
			if err := s.catchUp(ctx); err != nil {
				return AppendResult{}, fmt.Errorf("eventstore: append to %q: catch up with %s: %w", stream, s.url, err)
			}
			continue
		}
		if err != nil {
			if s.isClosed() {
				return AppendResult{}, ErrClosed
			}
			return AppendResult{}, fmt.Errorf("eventstore: append to %q on %s: %w", stream, s.url, err)
		}
		s.apply(ack.Sequence, msg.Data)
		return AppendResult{FirstPosition: first, LastPosition: tip.pos, Version: cur + uint64(len(q.bodies))}, nil
	}
}

// publish sends msg on the condition that the stream's last sequence is
// lastSeq. A publish whose answer was lost (a timeout, a server switch) is
// sent again as it was, with the same Nats-Msg-Id: if the first one was
// stored the server answers with its sequence instead of storing it twice.
func (s *JetStreamStore) publish(ctx context.Context, msg *nats.Msg, lastSeq uint64) (*jetstream.PubAck, error) {
	opts := []jetstream.PublishOpt{jetstream.WithExpectLastSequence(lastSeq), jetstream.WithMsgID(uuid.NewString())}
	var err error
	for try := 0; try < 3; try++ {
		var ack *jetstream.PubAck
		if ack, err = s.js.PublishMsg(ctx, msg, opts...); err == nil {
			return ack, nil
		}
		if ctx.Err() != nil || !(errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout) || errors.Is(err, jetstream.ErrNoStreamResponse)) {
			return nil, err
		}
	}
	return nil, err
}

// isWrongLastSequence: the server refused a publish because the stream
// moved past the expected last sequence.
func isWrongLastSequence(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && (apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
		apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant)
}

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
