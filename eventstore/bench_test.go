package eventstore

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
)

// BenchmarkAppendParallel appends one 200-byte event per call from many
// goroutines, each on its own streams, durable on return. Run with
// -cpu and -benchtime to vary; `salesbot bench append` is the fuller tool.
func BenchmarkAppendParallel(b *testing.B) {
	s, err := Open(b.TempDir(), Options{MasterKey: key32()})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	payload := make([]byte, 200)
	var workers atomic.Int64
	b.SetParallelism(32)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		w := workers.Add(1)
		var version uint64
		stream := ""
		for n := 0; pb.Next(); n++ {
			if version%10 == 0 {
				stream, version = fmt.Sprintf("b-%d-%d", w, n), 0
			}
			r, err := s.Append(context.Background(), stream, Exact(version), Event{Type: "E", Payload: payload})
			if err != nil {
				b.Error(err)
				return
			}
			version = r.Version
		}
	})
}

// BenchmarkScan folds a 100k-event log with Scan.
func BenchmarkScan(b *testing.B) {
	s, err := Open(b.TempDir(), Options{MasterKey: key32()})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	payload := make([]byte, 200)
	evs := make([]Event, 1000)
	for i := range evs {
		evs[i] = Event{Type: "E", Payload: payload}
	}
	for i := range 100 {
		if _, err := s.Append(context.Background(), fmt.Sprint("s-", i), NoStream, evs...); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for b.Loop() {
		n := 0
		if err := s.Scan(context.Background(), 1, 1<<30, func(*RecordedEvent) error { n++; return nil }); err != nil || n != 100000 {
			b.Fatalf("scanned %d: %v", n, err)
		}
	}
	b.ReportMetric(float64(100000*b.N)/b.Elapsed().Seconds(), "events/s")
}
