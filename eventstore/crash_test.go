package eventstore

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var crashIterations = flag.Int("crash.iterations", 4, "kill-and-restart rounds of TestCrashRecovery (hundreds for a soak)")

const crashChildEnv = "SALESBOT_CRASH_CHILD_DIR"

// crashAnchor is the anchor of the crash test's log, outside its dir: the
// anchor must never be ahead of what survives a kill.
func crashAnchor(dir string) string { return dir + "-anchor.json" }

// crashBatch is the number of events per append in the crash test: after any
// crash every stream must hold whole batches only.
const crashBatch = 3

// TestCrashRecovery runs a child process that appends under load and kills
// it with SIGKILL at a random moment, again and again on the same log. After
// each kill: the log opens, verify passes, every acknowledged append is
// there with the acknowledged positions, and no batch is partly present.
func TestCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	dir := t.TempDir()
	acked := map[string]map[uint64]uint64{} // stream → version → position
	for round := range *crashIterations {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.v=false")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+dir)
		cmd.Stderr = os.Stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan string, 1<<16)
		var readers sync.WaitGroup
		readers.Go(func() {
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				lines <- sc.Text()
			}
			close(lines)
		})
		// Wait for the child's first acknowledged append, then kill it at a
		// random moment.
		var seen []string
		for len(seen) == 0 || !strings.HasPrefix(seen[len(seen)-1], "ack ") {
			line, ok := <-lines
			if !ok {
				cmd.Wait()
				t.Fatalf("round %d: child stopped before appending: %q", round, seen)
			}
			seen = append(seen, line)
		}
		time.Sleep(time.Duration(rand.IntN(100)) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		n := 0
		for _, line := range append(seen, drain(lines)...) {
			if !strings.HasPrefix(line, "ack ") {
				continue
			}
			var stream string
			var version, firstPos uint64
			if _, err := fmt.Sscanf(line, "ack %s %d %d", &stream, &version, &firstPos); err != nil {
				t.Fatalf("bad child line %q: %v", line, err)
			}
			if acked[stream] == nil {
				acked[stream] = map[uint64]uint64{}
			}
			for i := range uint64(crashBatch) {
				acked[stream][version-crashBatch+1+i] = firstPos + i
			}
			n++
		}
		readers.Wait()
		cmd.Wait()
		checkAfterCrash(t, dir, acked)
		t.Logf("round %d: %d appends acknowledged before the kill", round, n)
	}
}

func drain(lines chan string) []string {
	var out []string
	for l := range lines {
		out = append(out, l)
	}
	return out
}

func checkAfterCrash(t *testing.T, dir string, acked map[string]map[uint64]uint64) {
	t.Helper()
	s, err := Open(dir, Options{MasterKey: key32(), AnchorFile: crashAnchor(dir)})
	if err != nil {
		t.Fatalf("open after kill: %v", err)
	}
	defer s.Close()
	if _, err := s.Verify(context.Background(), nil); err != nil {
		t.Fatalf("verify after kill: %v", err)
	}
	for stream, versions := range acked {
		evs, err := s.ReadStream(context.Background(), stream, 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs)%crashBatch != 0 {
			t.Fatalf("stream %s holds %d events: a batch of %d was partly written", stream, len(evs), crashBatch)
		}
		for v, pos := range versions {
			if v > uint64(len(evs)) {
				t.Fatalf("acknowledged %s version %d lost (stream has %d events)", stream, v, len(evs))
			}
			if got := evs[v-1].Position; got != pos {
				t.Fatalf("%s version %d at position %d, acknowledged at %d", stream, v, got, pos)
			}
		}
		for i := 0; i < len(evs); i += crashBatch {
			tag := string(evs[i].Payload[:strings.LastIndexByte(string(evs[i].Payload), '/')])
			for j := 1; j < crashBatch; j++ {
				if p := string(evs[i+j].Payload); !strings.HasPrefix(p, tag+"/") {
					t.Fatalf("stream %s: events %d..%d mix batches (%q, %q)", stream, i+1, i+crashBatch, evs[i].Payload, p)
				}
			}
		}
	}
}

// TestCrashChild is the child of TestCrashRecovery; it does nothing unless
// started by it.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashChildEnv)
	if dir == "" {
		t.Skip("only runs as the child of TestCrashRecovery")
	}
	s, err := Open(dir, Options{MasterKey: key32(), AnchorFile: crashAnchor(dir), SignInterval: time.Millisecond})
	if err != nil {
		fmt.Println("open failed:", err)
		os.Exit(3)
	}
	fmt.Println("started")
	var mu sync.Mutex // one line per write to stdout
	var wg sync.WaitGroup
	for w := range 16 {
		wg.Go(func() {
			stream := fmt.Sprintf("crash-%d", w)
			cur, err := s.ReadStream(context.Background(), stream, 1)
			if err != nil {
				panic(err)
			}
			version := uint64(len(cur))
			for i := 0; ; i++ {
				evs := make([]Event, crashBatch)
				subject := fmt.Sprintf("crash-%d-%d-%d", w, version, i)
				for k := range evs {
					evs[k] = Event{Type: "E", Payload: fmt.Appendf(nil, "%d-%d-%d/%d", w, version, i, k)}
					if k == 0 {
						evs[k].Subject, evs[k].Personal = subject, map[string]string{"text": "x"}
					}
				}
				if i%4 == 3 { // an erasure, written with its tombstone
					evs[crashBatch-1].Metadata = map[string]string{MetaErases: subject}
				}
				r, err := s.Append(context.Background(), stream, Exact(version), evs...)
				if err != nil {
					panic(err)
				}
				version = r.Version
				mu.Lock()
				fmt.Printf("ack %s %d %d\n", stream, r.Version, r.FirstPosition)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}
