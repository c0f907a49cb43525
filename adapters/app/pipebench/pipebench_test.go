package pipebench_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/salesbot/salesbot/adapters/app/pipebench"
)

// TestRun: a short run on each path answers every message, with
// latencies in order, and says so.
func TestRun(t *testing.T) {
	for _, live := range []bool{false, true} {
		res, err := pipebench.Run(context.Background(), pipebench.Config{Rate: 50, Duration: time.Second, Warmup: -1, Dialogs: 8, Exchanges: 4, Live: live})
		if err != nil {
			t.Fatalf("live %v: %v", live, err)
		}
		if res.Messages != 50 || res.Errors != 0 {
			t.Fatalf("live %v: %d messages, %d without a reply (%s); want 50, 0", live, res.Messages, res.Errors, res.FirstError)
		}
		if !(0 < res.P50ms && res.P50ms <= res.P95ms && res.P95ms <= res.P99ms && res.P99ms <= res.MaxMs) {
			t.Errorf("live %v: latencies out of order: %+v", live, res)
		}
		if res.Started <= 8 { // 50 messages, 4 a dialog: new dialogs were started
			t.Errorf("live %v: %d dialogs started; want more than the 8 lanes", live, res.Started)
		}
		if want := map[bool]string{false: "core", true: "live"}[live]; res.Mode != want || !strings.Contains(res.String(), "("+want+")") {
			t.Errorf("live %v: mode %q, text %q", live, res.Mode, res.String())
		}
		if live && res.DebounceMs != 1 {
			t.Errorf("live: debounce %v ms excluded; want 1", res.DebounceMs)
		}
	}
}

// BenchmarkPipeline runs the bench at 200 messages a second for 5 s per
// iteration and reports its percentiles (run with -benchtime 1x).
func BenchmarkPipeline(b *testing.B) {
	for b.Loop() {
		res, err := pipebench.Run(context.Background(), pipebench.Config{Duration: 5 * time.Second})
		if err != nil {
			b.Fatal(err)
		}
		if res.Errors > 0 {
			b.Fatalf("%d messages without a reply: %s", res.Errors, res.FirstError)
		}
		b.ReportMetric(res.P50ms, "p50-ms")
		b.ReportMetric(res.P99ms, "p99-ms")
		b.ReportMetric(res.Achieved, "msgs/s")
	}
}
