package metrics_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"

	"github.com/salesbot/salesbot/adapters/eventlog"
	"github.com/salesbot/salesbot/adapters/metrics"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/eventstore"
	"github.com/salesbot/salesbot/projections"
)

// value is the value of the series of fams named name with the labels
// (name, value pairs) among its own, and whether there is one.
func value(t *testing.T, fams []*dto.MetricFamily, name string, labels ...string) (float64, bool) {
	t.Helper()
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
	metrics:
		for _, m := range f.Metric {
			for i := 0; i+1 < len(labels); i += 2 {
				found := false
				for _, l := range m.Label {
					found = found || l.GetName() == labels[i] && l.GetValue() == labels[i+1]
				}
				if !found {
					continue metrics
				}
			}
			switch {
			case m.Counter != nil:
				return m.Counter.GetValue(), true
			case m.Gauge != nil:
				return m.Gauge.GetValue(), true
			}
		}
	}
	return 0, false
}

// The series the read models, the accounts service, the appends and
// the LLM feed: dialogs by status, outbound messages by account (only
// once complete), guard interventions by kind, cached prompt tokens.
func TestSeries(t *testing.T) {
	ctx := context.Background()
	sink := projections.NewMemory()
	var changes []projections.Change
	for i, st := range []string{projections.StatusActive, projections.StatusActive, projections.StatusHandoff, projections.StatusClosed} {
		changes = append(changes, projections.PutDialog{Dialog: projections.Dialog{ID: uuid.New(), N: int64(i + 1), Status: st, Stage: "discovery",
			HandoffAt: time.Unix(1, 0), CreatedAt: time.Unix(1, 0), UpdatedAt: time.Unix(1, 0)}})
	}
	if err := sink.Apply(ctx, changes, 1, projections.Checkpoint{Position: 4}); err != nil {
		t.Fatal(err)
	}
	acc := uuid.New()
	complete := false
	log := eventlog.New(nil) // decodes only
	m, err := metrics.New(metrics.Config{Head: func() uint64 { return 4 }, ReadModels: sink, Decode: log.Decode,
		Outbound: func() ([]metrics.AccountOutbound, bool) {
			return []metrics.AccountOutbound{{Account: acc, Planned: 5, Sent: 3, Failed: 1}}, complete
		}})
	if err != nil {
		t.Fatal(err)
	}
	gather := func() []*dto.MetricFamily {
		t.Helper()
		fams, err := m.Registry().Gather()
		if err != nil {
			t.Fatal(err)
		}
		return fams
	}

	fams := gather()
	if _, ok := value(t, fams, "salesbot_messages_sent_total"); ok {
		t.Error("outbound messages shown before the accounts service read the whole log")
	}
	for _, k := range domain.GuardKinds() {
		if v, ok := value(t, fams, "salesbot_guard_interventions_total", "kind", string(k)); !ok || v != 0 {
			t.Errorf("guard kind %s: %v %v before any turn, want 0", k, v, ok)
		}
	}

	complete = true
	turn, err := log.Encode(domain.TurnTaken{Engine: "llm", Guards: []string{
		"the reply claimed to be human: withheld",
		"bot question: the reply starts with the AI disclosure",
		"bot question: the handoff note starts with the AI disclosure",
		"an older guard's wording",
	}}, "")
	if err != nil {
		t.Fatal(err)
	}
	other, err := log.Encode(domain.InboundReceived{Text: "hi"}, "contact-1")
	if err != nil {
		t.Fatal(err)
	}
	stream := domain.DialogStream(uuid.New())
	m.ObserveAppend(eventstore.AppendStat{Stream: stream, Events: []eventstore.Event{other, turn}, Types: []string{other.Type, turn.Type}, Group: 2})
	// A failed append counts no guard.
	m.ObserveAppend(eventstore.AppendStat{Stream: stream, Events: []eventstore.Event{turn}, Types: []string{turn.Type}, Err: eventstore.ErrVersionConflict})
	m.ObserveLLM(domain.Usage{Engine: "llm", Model: "gpt-test", PromptTokens: 100, CachedPromptTokens: 60, CompletionTokens: 10}, nil)
	m.ObserveLLM(domain.Usage{Engine: "llm", Model: "gpt-test", PromptTokens: 50, CompletionTokens: 5}, nil)

	fams = gather()
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"salesbot_dialogs_by_status", []string{"status", "active"}, 2},
		{"salesbot_dialogs_by_status", []string{"status", "handoff"}, 1},
		{"salesbot_dialogs_by_status", []string{"status", "closed"}, 1},
		{"salesbot_dialogs", []string{"stage", "discovery"}, 4},
		{"salesbot_messages_planned_total", []string{"account", acc.String()}, 5},
		{"salesbot_messages_sent_total", []string{"account", acc.String()}, 3},
		{"salesbot_messages_failed_total", []string{"account", acc.String()}, 1},
		{"salesbot_guard_interventions_total", []string{"kind", "claimed-human"}, 1},
		{"salesbot_guard_interventions_total", []string{"kind", "bot-question"}, 2},
		{"salesbot_guard_interventions_total", []string{"kind", "other"}, 1},
		{"salesbot_guard_interventions_total", []string{"kind", "ungrounded-figures"}, 0},
		{"salesbot_llm_tokens_total", []string{"model", "gpt-test", "kind", "prompt"}, 150},
		{"salesbot_llm_tokens_total", []string{"model", "gpt-test", "kind", "cached"}, 60},
		{"salesbot_llm_tokens_total", []string{"model", "gpt-test", "kind", "completion"}, 15},
		{"salesbot_read_model_up", nil, 1},
	} {
		if v, ok := value(t, fams, c.name, c.labels...); !ok || v != c.want {
			t.Errorf("%s%v = %v (found %v), want %v", c.name, c.labels, v, ok, c.want)
		}
	}
	for _, f := range fams {
		if f.GetName() == "salesbot_guard_interventions_total" && len(f.Metric) != len(domain.GuardKinds()) {
			t.Errorf("%d guard kinds shown, want the %d of domain.GuardKinds", len(f.Metric), len(domain.GuardKinds()))
		}
	}
	// promlint is what `promtool check metrics` runs.
	problems, err := promlint.NewWithMetricFamilies(fams).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}
}
