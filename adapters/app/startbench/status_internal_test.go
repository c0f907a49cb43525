package startbench

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// parseStatus reads VmRSS and VmHWM in bytes and ignores the rest.
func TestParseStatus(t *testing.T) {
	status := "Name:\tsalesbot\nVmPeak:\t 2000000 kB\nVmHWM:\t  409600 kB\nVmRSS:\t  235520 kB\nThreads:\t12\n"
	rss, peak := parseStatus([]byte(status))
	if rss != 235520<<10 || peak != 409600<<10 {
		t.Fatalf("rss %d, peak %d", rss, peak)
	}
	if rss, peak := parseStatus([]byte("VmRSS: lots\n")); rss != 0 || peak != 0 {
		t.Fatalf("a bad line read as rss %d, peak %d", rss, peak)
	}
}

// scanLog finds the followers without a snapshot and the head at ready
// in a start's JSON log, skipping lines that are not records.
func TestScanLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cold.log")
	log := `{"time":"x","level":"INFO","msg":"salesbot: following the log from its beginning","follower":"engine","why":"none"}
not json at all
{"time":"x","level":"INFO","msg":"salesbot: following the log from its beginning","follower":"accounts","why":"none"}
{"time":"x","level":"INFO","msg":"salesbot: ready","head":1234}
{"time":"x","level":"INFO","msg":"salesbot: ready","head":9999}
`
	if err := os.WriteFile(path, []byte(log), 0o600); err != nil {
		t.Fatal(err)
	}
	followers, head := scanLog(path)
	if !slices.Equal(followers, []string{"accounts", "engine"}) || head != 1234 {
		t.Fatalf("followers %v, head %d", followers, head)
	}
}
