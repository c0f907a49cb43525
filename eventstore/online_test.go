package eventstore

import (
	"fmt"
	"path/filepath"
	"sync"
	"testing"
)

// Verify runs online: while appends go on and the head is signed and
// anchored as they land, every Verify sees one consistent snapshot (the
// events, the chain tip, the signed head and the anchor of one moment)
// and reports the log intact, with the hash of the head it saw.
func TestVerifyWhileAppending(t *testing.T) {
	base := t.TempDir()
	s, err := openAnchored(t, filepath.Join(base, "a"), filepath.Join(base, "anchor.json"), func(o *Options) { o.SignInterval = 1 })
	if err != nil {
		t.Fatal(err)
	}
	const writers, each = 4, 150
	var wg sync.WaitGroup
	done := make(chan struct{})
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				ev := Event{Type: "E", Payload: fmt.Appendf(nil, "%d", i), Subject: "c1", Personal: map[string]string{"text": "hello"}}
				if _, err := s.Append(t.Context(), fmt.Sprintf("dialog-%d", w), Any, ev); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	go func() { wg.Wait(); close(done) }()
	type seen struct {
		events uint64
		hash   [32]byte
	}
	var reports []seen
	for appending := true; appending; {
		select {
		case <-done:
			appending = false
		default:
		}
		rep, err := s.Verify(t.Context(), nil)
		if err != nil {
			<-done
			t.Fatalf("verify %d while appending: %v", len(reports)+1, err)
		}
		reports = append(reports, seen{rep.Events, rep.HeadHash})
	}
	if last := reports[len(reports)-1]; last.events != writers*each {
		t.Fatalf("the last verify, after the appends, saw %d events, want %d", last.events, writers*each)
	}
	moved := false
	for i, r := range reports {
		h, err := s.HashAt(t.Context(), r.events)
		if r.events == 0 {
			continue
		}
		if err != nil || h != r.hash {
			t.Fatalf("verify %d: head %d hash %x; the log's hash there is %x (%v)", i+1, r.events, r.hash, h, err)
		}
		moved = moved || r.events != reports[0].events
	}
	if !moved {
		t.Fatalf("every verify saw head %d: the appends did not run alongside", reports[0].events)
	}
}
