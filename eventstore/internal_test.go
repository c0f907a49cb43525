package eventstore

import (
	"context"
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
)

// A head published after close (a slow group finishing after another
// failed) must neither panic nor reopen the signal.
func TestHeadSignalPublishAfterClose(t *testing.T) {
	h := newHeadSignal(3)
	h.close()
	h.publish(5)
	if got := h.get(); got != 5 {
		t.Fatalf("head = %d, want 5", got)
	}
	if _, err := h.wait(context.Background(), 9); err != ErrClosed {
		t.Fatalf("wait after close: %v", err)
	}
}

// After the heads cache was pruned, a version the appender read before the
// pruning must not be trusted: another append may have come in between.
func TestCurrentVersionRereadsAfterPruning(t *testing.T) {
	s, err := Open(t.TempDir(), Options{MasterKey: key32()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Append(t.Context(), "x", NoStream, Event{Type: "E"}); err != nil {
		t.Fatal(err)
	}
	// An appender read version 0 before that append; since then the cache
	// was pruned.
	r := &appendReq{stream: "x", hasStored: true, epoch: s.evictions}
	s.headsMu.Lock()
	delete(s.heads, "x")
	s.evictions++
	h, err := s.currentHead(r)
	s.headsMu.Unlock()
	if err != nil || h != (streamHead{version: 1, pos: 1}) {
		t.Fatalf("currentHead = %+v, %v; want version 1 at 1 read again from disk", h, err)
	}
	// Without pruning in between, the appender's read stands.
	r = &appendReq{stream: "y", stored: streamHead{version: 7, pos: 9}, hasStored: true, epoch: s.evictions}
	if h, _ := s.currentHead(r); h.version != 7 {
		t.Fatalf("currentHead = %+v, want the appender's version 7", h)
	}
	raw, _ := s.get(prefixed(prefixHead, "x"))
	if binary.BigEndian.Uint64(raw) != 1 {
		t.Fatalf("head key of x = %x", raw)
	}
}

// The keyring must own its cache keys: subjects decoded by Scan alias
// buffers that are reused or freed after the callback.
func TestKeyringCopiesSubjects(t *testing.T) {
	m, _ := newMaster(key32())
	k := newKeyring(m, uuid.Nil, &memKeys{m: map[string][]byte{}})
	buf := []byte("contact-1")
	if _, err := k.aead(bstr(buf), true); err != nil {
		t.Fatal(err)
	}
	copy(buf, "CONTACT-9")
	if _, ok := k.cached("contact-1"); !ok {
		t.Fatal("cache key changed with the caller's buffer")
	}
}

// A panic while committing (here: a malformed prepared record) must fail
// the store, not leave a lock held: later appends and Close return.
func TestPanicInCommitFailsWithoutHanging(t *testing.T) {
	s, err := Open(t.TempDir(), Options{MasterKey: key32()})
	if err != nil {
		t.Fatal(err)
	}
	r := &appendReq{stream: "x", expected: Any, p: prepared{bodies: [][]byte{{1}}, contents: make([][32]byte, 1)}, wake: make(chan int, 1)}
	s.commitGroupSafe([]*appendReq{r})
	if !errors.Is(r.err, ErrClosed) {
		t.Fatalf("request of the panicking group: %v", r.err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := s.Append(context.Background(), "y", Any, Event{Type: "E"})
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, ErrClosed) {
			t.Fatalf("append after the panic: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("append hangs after a panic in commit")
	}
	go func() { done <- s.Close() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Close hangs after a panic in commit")
	}
}
