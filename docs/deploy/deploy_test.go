// Package deploy checks the files under docs/deploy: the systemd units
// pass systemd-analyze verify, the alert rules pass promtool check and test
// rules, and the rules and the Grafana dashboard name only series salesbot
// exports (adapters/metrics). It has tests only.
package deploy

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

const deployDir = "."

// units are the systemd units shipped in docs/deploy.
var units = []string{"salesbot.service", "salesbot-verify.service", "salesbot-verify.timer"}

// TestSystemdUnitsVerify runs systemd-analyze verify on copies of the units
// whose ExecStart names a binary that exists here (verify wants it to).
func TestSystemdUnitsVerify(t *testing.T) {
	sa, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze not installed")
	}
	dir := t.TempDir()
	stub, err := os.Executable() // any executable file will do
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, u := range units {
		b, err := os.ReadFile(filepath.Join(deployDir, u))
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(u, ".service") && !bytes.Contains(b, []byte("\nExecStart=/usr/local/bin/salesbot ")) {
			t.Fatalf("%s: no ExecStart=/usr/local/bin/salesbot", u)
		}
		b = bytes.ReplaceAll(b, []byte("\nExecStart=/usr/local/bin/salesbot "), []byte("\nExecStart="+stub+" "))
		p := filepath.Join(dir, u)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	out, err := exec.Command(sa, append([]string{"verify"}, paths...)...).CombinedOutput()
	// verify prints warnings about the host (no systemd as PID 1 in a
	// container) on stderr; only lines naming our files are findings.
	var findings []string
	for _, l := range strings.Split(string(out), "\n") {
		if strings.Contains(l, dir) {
			findings = append(findings, l)
		}
	}
	if err != nil || len(findings) > 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}

	// The hardening holds: an exposure of at most 2.0 ("OK"). Rating a unit
	// file (--offline, --threshold) takes systemd 250 or newer.
	v, _ := exec.Command(sa, "--version").Output()
	if m := regexp.MustCompile(`^systemd (\d+)`).FindSubmatch(v); m == nil || atoi(m[1]) < 250 {
		t.Logf("systemd-analyze security --offline needs systemd 250: not rated here (%s)", bytes.SplitN(v, []byte("\n"), 2)[0])
		return
	}
	out, err = exec.Command(sa, "security", "--offline=true", "--threshold=20", paths[0]).CombinedOutput()
	if err != nil {
		t.Fatalf("systemd-analyze security: %v\n%s", err, out)
	}
	if m := regexp.MustCompile(`Overall exposure level for \S+: (\d+\.\d+)`).FindSubmatch(out); m == nil {
		t.Fatalf("systemd-analyze security: no overall exposure in\n%s", out)
	} else {
		t.Logf("systemd-analyze security: exposure %s", m[1])
	}
}

func atoi(b []byte) int {
	n, _ := strconv.Atoi(string(b))
	return n
}

func promtool(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool not installed (Debian: apt-get install prometheus)")
	}
	return p
}

func TestAlertRulesCheck(t *testing.T) {
	cmd := exec.Command(promtool(t), "check", "rules", "alerts.yml")
	cmd.Dir = deployDir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("promtool check rules: %v\n%s", err, out)
	}
}

func TestAlertRulesTest(t *testing.T) {
	cmd := exec.Command(promtool(t), "test", "rules", "alerts_test.yml")
	cmd.Dir = deployDir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("promtool test rules: %v\n%s", err, out)
	}
}

// exported are the salesbot_ series names adapters/metrics declares.
func exported(t *testing.T) map[string]bool {
	t.Helper()
	files, err := filepath.Glob("../../adapters/metrics/*.go")
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range regexp.MustCompile(`"(salesbot_[a-z0-9_]+)"`).FindAllSubmatch(b, -1) {
			names[string(m[1])] = true
		}
	}
	if len(names) < 10 {
		t.Fatalf("found only %d series in adapters/metrics: %v", len(names), names)
	}
	return names
}

// unknown are the salesbot_ series text names that salesbot does not
// export (a histogram's _bucket, _sum and _count are its own).
func unknown(text string, known map[string]bool) []string {
	var bad []string
	seen := map[string]bool{}
	for _, n := range regexp.MustCompile(`salesbot_[a-z0-9_]+`).FindAllString(text, -1) {
		base := n
		for _, s := range []string{"_bucket", "_sum", "_count"} {
			if !known[base] {
				base = strings.TrimSuffix(base, s)
			}
		}
		if !known[base] && !seen[n] {
			seen[n] = true
			bad = append(bad, n)
		}
	}
	sort.Strings(bad)
	return bad
}

func TestRulesAndDashboardNameExportedSeries(t *testing.T) {
	known := exported(t)
	for _, f := range []string{"alerts.yml", "alerts_test.yml", "grafana-dashboard.json"} {
		b, err := os.ReadFile(filepath.Join(deployDir, f))
		if err != nil {
			t.Fatal(err)
		}
		if bad := unknown(string(b), known); len(bad) > 0 {
			t.Errorf("%s names series salesbot does not export: %v", f, bad)
		}
	}
}

func TestGrafanaDashboard(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(deployDir, "grafana-dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Title  string `json:"title"`
		UID    string `json:"uid"`
		Panels []struct {
			ID      int    `json:"id"`
			Title   string `json:"title"`
			Type    string `json:"type"`
			GridPos *struct {
				H, W, X, Y int
			} `json:"gridPos"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("grafana-dashboard.json: %v", err)
	}
	if d.Title == "" || d.UID == "" || len(d.Panels) < 6 {
		t.Fatalf("dashboard %q (uid %q) has %d panels, want a title, a uid and at least 6", d.Title, d.UID, len(d.Panels))
	}
	ids := map[int]bool{}
	for _, p := range d.Panels {
		if p.ID == 0 || ids[p.ID] || p.Title == "" || p.Type == "" || p.GridPos == nil {
			t.Errorf("panel %d %q: wants a unique id, a title, a type and a gridPos", p.ID, p.Title)
		}
		ids[p.ID] = true
		if p.Type != "row" && p.Type != "text" && len(p.Targets) == 0 {
			t.Errorf("panel %d %q has no query", p.ID, p.Title)
		}
		for _, q := range p.Targets {
			if strings.TrimSpace(q.Expr) == "" {
				t.Errorf("panel %d %q: an empty query", p.ID, p.Title)
			}
		}
	}
}

func TestUnknownSeries(t *testing.T) {
	known := map[string]bool{"salesbot_log_head": true, "salesbot_llm_turn_duration_seconds": true}
	got := unknown(`salesbot_log_head + salesbot_llm_turn_duration_seconds_bucket - salesbot_log_heads + salesbot_nope_count`, known)
	if strings.Join(got, ",") != "salesbot_log_heads,salesbot_nope_count" {
		t.Fatalf("unknown = %v", got)
	}
}
