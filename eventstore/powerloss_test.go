package eventstore

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
)

var powerLossRounds = flag.Int("powerloss.rounds", 12, "power cuts simulated by TestPowerLoss")

type ack struct {
	stream        string
	version, pos  uint64
	withErasure   bool
	erasedSubject string
}

// TestPowerLoss cuts the power under load, again and again: on Pebble's
// crashable in-memory filesystem, a crash clone keeps what was synced and
// a random part of what was not (torn writes, lost directory entries).
// Every append acknowledged before the cut survives at its acknowledged
// position, batches are whole, erasures acknowledged stay erased, and the
// log verifies.
func TestPowerLoss(t *testing.T) {
	if testing.Short() {
		t.Skip("long")
	}
	rng := rand.New(rand.NewPCG(1, 2))
	fs := vfs.NewCrashableMem()
	for round := range *powerLossRounds {
		s, err := Open("data", Options{MasterKey: key32(), FS: fs})
		if err != nil {
			t.Fatalf("round %d: open: %v", round, err)
		}
		var mu sync.Mutex
		var acked []ack
		ctx, stop := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for w := range 8 {
			wg.Go(func() {
				stream := fmt.Sprintf("dialog-%d-%d", round, w)
				var version uint64
				for i := 0; ctx.Err() == nil; i++ {
					subject := fmt.Sprintf("c-%d-%d-%d", round, w, i)
					evs := []Event{
						{Type: "E", Payload: fmt.Appendf(nil, "%d/0", i), Subject: subject, Personal: map[string]string{"text": "hi"}},
						{Type: "E", Payload: fmt.Appendf(nil, "%d/1", i)},
					}
					erase := i%5 == 4
					if erase {
						evs[1].Metadata = map[string]string{MetaErases: subject}
					}
					r, err := s.Append(ctx, stream, Exact(version), evs...)
					if err != nil {
						return // the cut closed the store, or ctx ended
					}
					version = r.Version
					mu.Lock()
					acked = append(acked, ack{stream: stream, version: r.Version, pos: r.FirstPosition, withErasure: erase, erasedSubject: subject})
					mu.Unlock()
				}
			})
		}
		time.Sleep(time.Duration(5+rng.IntN(40)) * time.Millisecond)
		mu.Lock()
		before := append([]ack(nil), acked...)
		mu.Unlock()
		crashed := fs.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: rng.IntN(101), RNG: rng})
		stop()
		wg.Wait()
		s.Close()

		c, err := Open("data", Options{MasterKey: key32(), FS: crashed})
		if err != nil {
			t.Fatalf("round %d: open after the power cut: %v", round, err)
		}
		if _, err := c.Verify(context.Background(), nil); err != nil {
			t.Fatalf("round %d: verify after the power cut: %v", round, err)
		}
		for _, a := range before {
			evs, err := c.ReadStream(context.Background(), a.stream, a.version-1)
			if err != nil || len(evs) < 2 {
				t.Fatalf("round %d: acknowledged %s version %d lost: %d events, %v", round, a.stream, a.version, len(evs), err)
			}
			if evs[0].Position != a.pos {
				t.Fatalf("round %d: %s version %d at position %d, acknowledged at %d", round, a.stream, a.version-1, evs[0].Position, a.pos)
			}
			if a.withErasure && !evs[0].Forgotten {
				t.Fatalf("round %d: the acknowledged erasure of %s did not survive", round, a.erasedSubject)
			}
		}
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		fs = crashed // the next round runs on what survived
		t.Logf("round %d: %d appends acknowledged before the cut, all there", round, len(before))
	}
}
