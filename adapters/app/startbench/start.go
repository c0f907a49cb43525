package startbench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// pollEvery is how often a start asks /readyz.
const pollEvery = 50 * time.Millisecond

// fromBeginning is what a follower of the log logs when it has no
// snapshot to start from (eventstore.Snapshotter.Start).
const fromBeginning = "salesbot: following the log from its beginning"

// env are the paths and settings the starts share.
type env struct {
	cfg     Config
	dataDir string
	keyFile string
	dsn     string // with the run's schema as search_path
	dsnFile string // dsn in a file, for --postgres-file (a DSN may hold a password)
	work    string // the run's own directory: the starts' logs
}

// start runs `salesbot run` on the generated log once, named name: it
// measures the time to the first 200 from /readyz and the RSS then, lets
// it run for Settle, reads its peak RSS and stops it with SIGTERM. Its
// standard error goes to <work>/<name>.log; an early exit, a timeout or
// an unclean stop is an error that quotes its tail.
func (e env) start(ctx context.Context, name string) (st Start, err error) {
	st.Name = name
	cfg := e.cfg
	addr, err := freeAddr()
	if err != nil {
		return st, err
	}
	logPath := filepath.Join(e.work, name+".log")
	out, err := os.Create(logPath)
	if err != nil {
		return st, fmt.Errorf("%s start: %w", name, err)
	}
	defer out.Close()
	cmd := exec.Command(cfg.Binary, "run", "--data-dir", e.dataDir, "--master-key-file", e.keyFile,
		"--postgres-file", e.dsnFile, "--tg-app-id", "1", "--tg-app-hash", "bench",
		"--http-listen", addr, "--log-level", cfg.LogLevel, "--log-format", "json")
	cmd.Env = childEnv(os.Environ())
	cmd.Stdout, cmd.Stderr = out, out
	failed := func(format string, args ...any) error {
		return fmt.Errorf("%s start: %s; the tail of its log (%s):\n%s", name, fmt.Sprintf(format, args...), logPath, tail(logPath))
	}

	cfg.progress(name, 0, 1)
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return st, fmt.Errorf("%s start: %w", name, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stopped := false
	defer func() { // whatever went wrong, leave no child behind
		if !stopped {
			_ = cmd.Process.Kill()
			<-exited
		}
	}()

	client := &http.Client{Timeout: 2 * time.Second}
	defer client.CloseIdleConnections()
	readyURL := "http://" + addr + "/readyz"
	deadline := time.NewTimer(cfg.Timeout)
	defer deadline.Stop()
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	for ready := false; !ready; {
		select {
		case <-ctx.Done():
			return st, fmt.Errorf("%s start: %w", name, ctx.Err())
		case werr := <-exited:
			stopped = true
			return st, failed("salesbot run exited before it was ready (%v)", werr)
		case <-deadline.C:
			return st, failed("not ready after %v", cfg.Timeout)
		case <-tick.C:
			ready = isReady(ctx, client, readyURL)
		}
	}
	st.Ready = time.Since(t0)
	st.RSSReady, _ = memory(cmd.Process.Pid)
	cfg.Log.Info("startbench: ready", "start", name, "after", st.Ready, "rss", st.RSSReady)

	settle := time.NewTimer(cfg.Settle)
	defer settle.Stop()
	select {
	case <-ctx.Done():
		return st, fmt.Errorf("%s start: %w", name, ctx.Err())
	case werr := <-exited:
		stopped = true
		return st, failed("salesbot run exited while it ran (%v)", werr)
	case <-settle.C:
	}
	rss, hwm := memory(cmd.Process.Pid)
	// The kernel moves VmHWM on only now and then (it may lag VmRSS by a
	// few pages): the peak is at least every resident set seen.
	st.RSSPeak = max(hwm, rss, st.RSSReady)

	t1 := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return st, fmt.Errorf("%s start: stop salesbot run: %w", name, err)
	}
	wait := time.NewTimer(cfg.StopTimeout)
	defer wait.Stop()
	select {
	case werr := <-exited:
		stopped = true
		st.Stop = time.Since(t1)
		if werr != nil {
			return st, failed("salesbot run did not stop cleanly (%v)", werr)
		}
	case <-wait.C:
		return st, failed("salesbot run did not stop within %v of SIGTERM", cfg.StopTimeout)
	}
	st.FromBeginning, st.HeadReady = scanLog(logPath)
	cfg.progress(name, 1, 1)
	return st, nil
}

// isReady asks /readyz once: true on a 200.
func isReady(ctx context.Context, client *http.Client, url string) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false
	}
	resp, err := client.Do(req)
	if err != nil {
		return false // not listening yet
	}
	defer resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// freeAddr is a loopback address with a port nobody listened on a
// moment ago. Another process may take it before the child does: the
// child then exits at once, which the start reports.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// childEnv is env without salesbot's own settings (SALESBOT_*, systemd's
// credentials): the starts run with the flags the bench gives them only.
func childEnv(env []string) []string {
	return slices.DeleteFunc(slices.Clone(env), func(kv string) bool {
		return strings.HasPrefix(kv, "SALESBOT_") || strings.HasPrefix(kv, "CREDENTIALS_DIRECTORY=")
	})
}

// memory reads the resident set of process pid now (VmRSS) and at its
// peak (VmHWM), in bytes, from /proc; zeros where there is no /proc.
func memory(pid int) (rss, peak uint64) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0
	}
	return parseStatus(b)
}

// parseStatus reads VmRSS and VmHWM (kB) from a /proc/<pid>/status.
func parseStatus(b []byte) (rss, peak uint64) {
	for line := range bytes.Lines(b) {
		k, v, ok := strings.Cut(string(line), ":")
		if !ok || (k != "VmRSS" && k != "VmHWM") {
			continue
		}
		f := strings.Fields(v)
		if len(f) != 2 || f[1] != "kB" {
			continue
		}
		n, err := strconv.ParseUint(f[0], 10, 64)
		if err != nil {
			continue
		}
		if k == "VmRSS" {
			rss = n << 10
		} else {
			peak = n << 10
		}
	}
	return rss, peak
}

// scanLog reads a start's JSON log: the followers that folded the log
// from its beginning (no snapshot) and the head "salesbot: ready" named
// (0 if it did not log it: below its log level, or not ready).
func scanLog(path string) (followers []string, head uint64) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		var l struct {
			Msg      string `json:"msg"`
			Follower string `json:"follower"`
			Head     uint64 `json:"head"`
		}
		if json.Unmarshal(sc.Bytes(), &l) != nil {
			continue // not a log record (a panic's trace, Pebble's own lines)
		}
		switch l.Msg {
		case fromBeginning:
			followers = append(followers, l.Follower)
		case "salesbot: ready":
			if head == 0 {
				head = l.Head
			}
		}
	}
	slices.Sort(followers)
	return followers, head
}

// tail is the end of the file at path (at most 20 lines), for an error.
func tail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(" + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	lines = lines[max(0, len(lines)-20):]
	s := strings.Join(lines, "\n")
	if len(s) > 8<<10 {
		s = s[len(s)-8<<10:]
	}
	return s
}
