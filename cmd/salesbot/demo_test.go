package main

import (
	"bytes"
	"context"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/salesbot/salesbot/adapters/cli/datadir"

	"github.com/salesbot/salesbot/adapters/app/demo"
	"github.com/salesbot/salesbot/adapters/eventlog"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/domain/scenario"
	"github.com/salesbot/salesbot/projections"
)

// The demo end to end, in-process: every persona gets what its kind
// should, no account exceeds its limits, every dialog replays, the log
// verifies and rebuilt read models equal the live ones.
func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("the demo runs for about a minute")
	}
	t.Parallel() // a minute of mostly waiting for the sandbox's leads: beside the others
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	var out, errb bytes.Buffer
	a := newApp(strings.NewReader(""), &out, &errb, func(string) string { return "" })
	var r *demo.Report
	a.onDemo = func(rep *demo.Report) { r = rep }
	if code := a.main(ctx, []string{"demo", "--data-dir", dir, "--window", "20s"}); code != 0 {
		t.Fatalf("demo: exit %d\n%s\n%s", code, out.String(), lastLines(errb.String(), 30))
	}
	if r == nil {
		t.Fatalf("no report:\n%s", out.String())
	}
	for _, want := range []string{"== Summary", "Handoffs to a manager", "Opt-outs honoured: 3 of 3", "Limits respected: 3 of 3 accounts", "Funnel per variant", "salesbot replay dialog"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the demo's output lacks %q:\n%s", want, out.String())
		}
	}
	sc, err := scenario.Default()
	if err != nil {
		t.Fatal(err)
	}
	kb := sc.KnowledgeText()
	personas := demo.Personas()
	// The campaign spreads its openings over its window and opens nothing
	// after it ends, so on a loaded machine the last one or two may miss
	// it; every kind of persona must still be there.
	if len(r.Personas) < len(personas)-3 {
		t.Errorf("%d of %d personas got a dialog", len(r.Personas), len(personas))
	}
	kinds := map[string]int{}
	for _, o := range r.Personas {
		kinds[o.Kind]++
	}
	for _, p := range personas {
		if kinds[p.Kind] == 0 {
			t.Errorf("no %s persona got a dialog", p.Kind)
		}
	}
	for _, p := range personas {
		o, ok := r.Personas[p.Username]
		if !ok {
			continue
		}
		name := p.Username + " (" + p.Kind + ")"
		for _, m := range o.Received {
			if bad := domain.UngroundedFigures(m, kb); len(bad) > 0 {
				t.Errorf("%s received %q with figures %v not in the knowledge base", name, m, bad)
			}
			if domain.ClaimsHuman(m) {
				t.Errorf("%s received %q, which claims to be human", name, m)
			}
		}
		if len(o.Received) == 0 || !domain.Discloses(o.Received[0]) {
			t.Errorf("%s: the first message %q does not say it is an AI assistant", name, first(o.Received))
		}
		switch p.Want {
		case "handoff":
			if o.Stage != string(domain.StageHandoff) {
				t.Errorf("%s ends at %s/%s, want a handoff", name, o.Stage, o.Outcome)
			}
		case "lost":
			if o.Outcome != string(domain.OutcomeLost) {
				t.Errorf("%s ends %s/%s, want closed as lost", name, o.Stage, o.Outcome)
			}
			checkInsight(t, r.ReadModels, name, o.N, strings.Contains(p.First, "already have a tool"))
		case "opted-out":
			if o.Outcome != string(domain.OutcomeOptedOut) || len(o.Received) == 0 || !demo.IsConfirmation(o.Received[len(o.Received)-1]) {
				t.Errorf("%s ends %s/%s having received %q: want opted out, the confirmation last", name, o.Stage, o.Outcome, o.Received)
			}
		case "silent":
			if len(o.Received) != 1 {
				t.Errorf("%s never wrote but received %d messages (follow-ups come after a day)", name, len(o.Received))
			}
		case "open":
			if o.Stage == string(domain.StageClosed) {
				t.Errorf("%s ends closed (%s), want an open dialog", name, o.Outcome)
			}
		}
		if p.Kind == "bot" && (len(o.Received) < 2 || !domain.Discloses(o.Received[1])) {
			t.Errorf("%s asked whether it is a bot and got %q", name, o.Received)
		}
		if p.Kind == "injection" {
			for _, m := range o.Received {
				if strings.Contains(m, "90") {
					t.Errorf("%s (prompt injection) received %q", name, m)
				}
			}
		}
		if p.Lang == "en" && len(o.Received) > 1 {
			if got := domain.DetectLanguage("ru", o.Received[1:]...); got != "en" {
				t.Errorf("%s writes English and got %q", name, o.Received[1:])
			}
		}
	}
	for _, o := range r.OptOuts {
		if o.After != 0 || o.Confirms != 1 {
			t.Errorf("dialog %d (@%s): %d confirmations, %d messages after the opt-out", o.N, o.Username, o.Confirms, o.After)
		}
	}
	for _, u := range r.Accounts {
		if !u.Within() {
			t.Errorf("account %s broke its limits: %+v", u.Label, u)
		}
	}
	var total int
	for _, v := range r.Variants {
		total += v.Dialogs
	}
	if len(r.Variants) != 2 || total != len(r.Personas) {
		t.Errorf("variants %+v: want both of the scenario's, over all %d campaign dialogs", r.Variants, len(r.Personas))
	}

	// Every dialog replays from the log; the log verifies.
	for _, d := range r.Dialogs {
		n := strconv.FormatInt(d.N, 10)
		rep := run(t, nil, "replay", "dialog", n, "--data-dir", dir)
		if rep.code != 0 || !strings.Contains(rep.stdout, "DialogStarted") {
			t.Fatalf("replay dialog %s: %+v", n, rep)
		}
	}
	if v := run(t, nil, "verify", "--data-dir", dir); v.code != 0 {
		t.Fatalf("verify: %+v", v)
	}

	// Read models rebuilt from the log equal the live ones.
	st, err := a.openStore(context.Background(), datadir.Existing)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	fresh := projections.NewMemory()
	if _, err := (projections.Runner{Store: st, Decode: eventlog.New(st).Decode, Sink: fresh, Batch: 500}).CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	live, rebuilt := snapshot(t, r.ReadModels), snapshot(t, fresh)
	if !reflect.DeepEqual(live, rebuilt) {
		t.Fatalf("rebuilt read models differ from the live ones:\nlive    %v\nrebuilt %v", live, rebuilt)
	}
}

// checkInsight: a dialog lost early has its insight, by the rules (the
// demo runs the offline engine), naming has_a_tool when the lead said so.
func checkInsight(t *testing.T, s projections.Sink, name string, n int64, hasATool bool) {
	t.Helper()
	ctx := context.Background()
	d, err := s.DialogByN(ctx, n)
	if err != nil {
		t.Fatal(err)
	}
	in, err := s.Insight(ctx, d.ID)
	if err != nil {
		t.Errorf("%s: no insight: %v", name, err)
		return
	}
	if in.By != domain.InsightByRules || in.Ended != "lost" || in.Summary == "" || in.LossReason == "" || slices.Contains(in.Objections, "has_a_tool") != hasATool {
		t.Errorf("%s: insight %+v", name, in)
	}
}

// snapshot is what the read models say of every dialog.
func snapshot(t *testing.T, s projections.Sink) []string {
	t.Helper()
	ctx := context.Background()
	ds, err := s.ListDialogs(ctx, projections.DialogFilter{Limit: 10000})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, d := range ds {
		ms, err := s.Messages(ctx, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		qs, err := s.Qualification(ctx, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		b.WriteString(strconv.FormatInt(d.N, 10) + " " + d.Stage + " " + d.Status + " " + d.Outcome + " " + d.Variant + " " + d.HandoffReason)
		for _, m := range ms {
			b.WriteString(" | " + m.Direction + ":" + m.Status + ":" + m.Text)
		}
		for _, q := range qs {
			b.WriteString(" | " + q.Field + "=" + q.Value)
		}
		out = append(out, b.String())
	}
	return out
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
