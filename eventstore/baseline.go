package eventstore

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"os"
	"sync"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// BaselineSyncedWrites measures the ceiling the log's appends are compared
// with ('salesbot bench append --baseline'): workers goroutines write
// events values of size bytes (about an envelope's) with plain concurrent
// synced Pebble batches of batch values, in a temporary directory it
// removes after; no ordering, hashing or versions. It returns the wall
// time and each commit's latency.
func BaselineSyncedWrites(workers, events, batch, size int) (time.Duration, []time.Duration, error) {
	if workers < 1 || batch < 1 {
		return 0, nil, errors.New("eventstore: a baseline needs at least one worker and one write per batch")
	}
	dir, err := os.MkdirTemp("", "salesbot-bench-raw-")
	if err != nil {
		return 0, nil, err
	}
	defer os.RemoveAll(dir)
	db, err := pebble.Open(dir, &pebble.Options{MemTableSize: 64 << 20, Logger: pebbleLogger{}})
	if err != nil {
		return 0, nil, err
	}
	defer db.Close()
	value := make([]byte, size)
	rand.Read(value)
	lat := make([][]time.Duration, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	start := time.Now()
	for w := range workers {
		wg.Go(func() {
			n := events / workers
			if w < events%workers {
				n++
			}
			key := make([]byte, 12)
			binary.BigEndian.PutUint32(key, uint32(w))
			for done := 0; done < n; {
				b := db.NewBatch()
				for range min(batch, n-done) {
					binary.BigEndian.PutUint64(key[4:], uint64(done))
					b.Set(key, value, nil)
					done++
				}
				t0 := time.Now()
				err := b.Commit(pebble.Sync)
				b.Close()
				if err != nil {
					errs[w] = err
					return
				}
				lat[w] = append(lat[w], time.Since(t0))
			}
		})
	}
	wg.Wait()
	took := time.Since(start)
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	return took, all, errors.Join(errs...)
}
