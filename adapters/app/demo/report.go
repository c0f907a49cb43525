package demo

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/adapters/eventlog"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/eventstore"
	"github.com/salesbot/salesbot/projections"
)

// Report is what the demo found, from the read models, the log and
// what the sandbox's people actually received.
type Report struct {
	Elapsed  time.Duration
	Campaign domain.Campaign
	Dialogs  []projections.Dialog
	ByStage  map[string]int
	Handoffs []Handoff
	// Personas: each persona's dialog outcome, by username.
	Personas map[string]Outcome
	OptOuts  []OptOut
	Accounts []AccountUse
	Variants []projections.VariantCounts
	Tests    []projections.Comparison
	// Objections are the campaign's top objections by variant, from the
	// insights recorded so far.
	Objections []projections.ObjectionCount
	// ReadModels are the live read models the report was read from (the
	// end-to-end test compares them with a rebuild).
	ReadModels projections.Sink
}

type Handoff struct {
	N        int64
	Username string
	Reason   string
}

type Outcome struct {
	Kind, Want string
	N          int64
	Stage      string
	Outcome    string
	Score      *int
	Received   []string // what the person received, in order
}

// OptOut: an opted-out person and whether anything reached them after
// the one confirmation.
type OptOut struct {
	N        int64
	Username string
	After    int // messages received after the confirmation (must be 0)
	Confirms int // confirmations received (must be 1)
}

type AccountUse struct {
	Label        string
	NewDialogs   map[string]int // per local day
	DailyCap     int
	MaxPerMinute int // the most messages reserved in any 60 s
	PerMinuteCap int
	MinGap       time.Duration // the shortest gap between two messages
	MinDelay     time.Duration
}

// Within says whether the account kept to its limits.
func (u AccountUse) Within() bool {
	for _, n := range u.NewDialogs {
		if n > u.DailyCap {
			return false
		}
	}
	return u.MaxPerMinute <= u.PerMinuteCap && (u.MinGap == 0 || u.MinGap >= u.MinDelay)
}

func buildReport(ctx context.Context, st *eventstore.PebbleStore, sink projections.Sink, w *World, camp domain.Campaign, elapsed time.Duration) (*Report, error) {
	r := &Report{Elapsed: elapsed, Campaign: camp, ByStage: map[string]int{}, Personas: map[string]Outcome{}, ReadModels: sink}
	var err error
	if r.Dialogs, err = sink.ListDialogs(ctx, projections.DialogFilter{Limit: 10000}); err != nil {
		return nil, fmt.Errorf("demo: list dialogs: %w", err)
	}
	sort.Slice(r.Dialogs, func(i, j int) bool { return r.Dialogs[i].N < r.Dialogs[j].N })
	kinds := map[string]Persona{}
	for _, p := range w.personas {
		kinds[p.Username] = p
	}
	accountUsers := map[uuid.UUID]int64{} // account id → sandbox user id
	labels := map[uuid.UUID]string{}
	accs, err := sink.Accounts(ctx)
	if err != nil {
		return nil, fmt.Errorf("demo: list accounts: %w", err)
	}
	for _, acc := range accs {
		labels[acc.ID] = acc.Label
		for j, u := range w.accounts {
			if acc.Label == fmt.Sprintf("sales-%d", j+1) {
				accountUsers[acc.ID] = u.ID
			}
		}
	}
	for _, d := range r.Dialogs {
		stage := d.Stage
		if d.Status == projections.StatusClosed {
			stage = "closed (" + d.Outcome + ")"
		}
		r.ByStage[stage]++
		c, err := sink.ContactByID(ctx, d.ContactID)
		if err != nil {
			return nil, fmt.Errorf("demo: contact of dialog %d: %w", d.N, err)
		}
		if d.HandoffReason != "" {
			r.Handoffs = append(r.Handoffs, Handoff{N: d.N, Username: c.Username, Reason: d.HandoffReason})
		}
		p, isPersona := kinds[c.Username]
		var received []string
		if u, ok := w.users[c.Username]; ok {
			for _, m := range w.sb.Messages(u.ID, accountUsers[d.AccountID]) {
				if !m.Out {
					received = append(received, m.Text)
				}
			}
		}
		if isPersona {
			r.Personas[c.Username] = Outcome{Kind: p.Kind, Want: p.Want, N: d.N, Stage: d.Stage, Outcome: d.Outcome, Score: d.Score, Received: received}
		}
		if d.Outcome == string(domain.OutcomeOptedOut) {
			o := OptOut{N: d.N, Username: c.Username}
			for _, text := range received {
				switch {
				case o.Confirms > 0:
					o.After++
				case IsConfirmation(text):
					o.Confirms++
				}
			}
			r.OptOuts = append(r.OptOuts, o)
		}
	}
	if r.Accounts, err = accountUse(ctx, st, labels); err != nil {
		return nil, err
	}
	if r.Variants, err = sink.VariantFunnel(ctx, camp.ID, time.Time{}); err != nil {
		return nil, fmt.Errorf("demo: variant funnel: %w", err)
	}
	var names []string
	for _, v := range camp.Variants {
		names = append(names, v.Name)
	}
	r.Variants = projections.OrderVariants(r.Variants, names)
	r.Tests = projections.Compare(r.Variants)
	if r.Objections, err = sink.TopObjections(ctx, camp.ID); err != nil {
		return nil, fmt.Errorf("demo: top objections: %w", err)
	}
	return r, nil
}

// IsConfirmation recognises the scenario's opt-out confirmation.
func IsConfirmation(text string) bool {
	t := strings.ToLower(text)
	return strings.Contains(t, "won't write to you again") || strings.Contains(t, "больше не буду вам писать")
}

// accountUse reads each account's reservations from the log: new dialogs
// per local day and the message pacing.
func accountUse(ctx context.Context, st *eventstore.PebbleStore, labels map[uuid.UUID]string) ([]AccountUse, error) {
	dec := eventlog.New(st)
	uses := map[uuid.UUID]*AccountUse{}
	msgs := map[uuid.UUID][]time.Time{}
	get := func(id uuid.UUID) *AccountUse {
		if u := uses[id]; u != nil {
			return u
		}
		u := &AccountUse{Label: labels[id], NewDialogs: map[string]int{}, DailyCap: Limits.DailyNewDialogs,
			PerMinuteCap: Limits.MessagesPerMinute, MinDelay: Limits.MinDelay}
		uses[id] = u
		return u
	}
	for from := uint64(1); ; {
		recs, err := st.ReadAll(ctx, from, 4096)
		if err != nil {
			return nil, fmt.Errorf("demo: read the log: %w", err)
		}
		if len(recs) == 0 {
			break
		}
		for i := range recs {
			if recs[i].Type != "NewDialogReserved" && recs[i].Type != "MessageReserved" {
				continue
			}
			e, err := dec.Decode(&recs[i])
			if err != nil {
				return nil, err
			}
			switch e := e.(type) {
			case domain.NewDialogReserved:
				get(e.AccountID).NewDialogs[e.Day]++
			case domain.MessageReserved:
				get(e.AccountID)
				msgs[e.AccountID] = append(msgs[e.AccountID], e.At)
			}
		}
		from = recs[len(recs)-1].Position + 1
	}
	for id, ts := range msgs {
		u := get(id)
		sort.Slice(ts, func(i, j int) bool { return ts[i].Before(ts[j]) })
		for i := range ts {
			j := i
			for j < len(ts) && ts[j].Sub(ts[i]) < time.Minute {
				j++
			}
			u.MaxPerMinute = max(u.MaxPerMinute, j-i)
			if i > 0 {
				if gap := ts[i].Sub(ts[i-1]); u.MinGap == 0 || gap < u.MinGap {
					u.MinGap = gap
				}
			}
		}
	}
	out := make([]AccountUse, 0, len(uses))
	for _, u := range uses {
		out = append(out, *u)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Label < out[j].Label })
	return out, nil
}

// WriteSummary writes the summary the demo ends with: dialogs by stage,
// handoffs, opt-outs honoured, limits kept, the funnel per variant and
// commands to look deeper at dataDir (a rebuild into dsn).
func (r *Report) WriteSummary(w io.Writer, dataDir, dsn string) {
	fmt.Fprintf(w, "\n== Summary (%s) ==\n", r.Elapsed.Round(time.Second))
	campaign := 0
	for _, d := range r.Dialogs {
		if d.Campaign != uuid.Nil {
			campaign++
		}
	}
	fmt.Fprintf(w, "Dialogs: %d (%d opened by campaign %q, %d written in)\n", len(r.Dialogs), campaign, r.Campaign.Name, len(r.Dialogs)-campaign)
	var stages []string
	for _, s := range slices.Sorted(maps.Keys(r.ByStage)) {
		stages = append(stages, fmt.Sprintf("%s %d", s, r.ByStage[s]))
	}
	fmt.Fprintf(w, "  by stage: %s\n", strings.Join(stages, " · "))
	fmt.Fprintf(w, "Handoffs to a manager: %d\n", len(r.Handoffs))
	for _, h := range r.Handoffs {
		fmt.Fprintf(w, "  dialog %-3d @%-14s %s\n", h.N, h.Username, h.Reason)
	}
	honoured := 0
	for _, o := range r.OptOuts {
		if o.After == 0 && o.Confirms == 1 {
			honoured++
		}
	}
	fmt.Fprintf(w, "Opt-outs honoured: %d of %d (one confirmation each, nothing after it; on the do-not-contact list)\n", honoured, len(r.OptOuts))
	for _, o := range r.OptOuts {
		if o.After > 0 || o.Confirms != 1 {
			fmt.Fprintf(w, "  NOT honoured: dialog %d @%s got %d confirmation(s) and %d message(s) after\n", o.N, o.Username, o.Confirms, o.After)
		}
	}
	within := 0
	for _, u := range r.Accounts {
		if u.Within() {
			within++
		}
	}
	fmt.Fprintf(w, "Limits respected: %d of %d accounts\n", within, len(r.Accounts))
	for _, u := range r.Accounts {
		var days []string
		for _, d := range slices.Sorted(maps.Keys(u.NewDialogs)) {
			days = append(days, fmt.Sprintf("%d on %s", u.NewDialogs[d], d))
		}
		fmt.Fprintf(w, "  %-8s new dialogs %s (cap %d/day) · at most %d messages in a minute (cap %d) · shortest gap %s (min %s)\n",
			u.Label, strings.Join(days, ", "), u.DailyCap, u.MaxPerMinute, u.PerMinuteCap, u.MinGap.Round(10*time.Millisecond), u.MinDelay)
	}
	fmt.Fprintln(w, "Funnel per variant (campaign dialogs):")
	fmt.Fprintf(w, "  %-8s %7s %9s %10s %8s %8s\n", "variant", "dialogs", "replied", "qualified", "handoff", "opt-out")
	for _, v := range r.Variants {
		fmt.Fprintf(w, "  %-8s %7d %9s %10s %8s %8s\n", v.Variant, v.Dialogs, ratio(v.Replied, v.Dialogs), ratio(v.Qualified, v.Dialogs), ratio(v.Handoffs, v.Dialogs), ratio(v.OptedOut, v.Dialogs))
	}
	for _, c := range r.Tests {
		fmt.Fprintf(w, "  %s, %s vs %s: %s\n", c.Title, c.Variant, c.Control, c.Verdict)
	}
	if len(r.Objections) > 0 {
		fmt.Fprintln(w, "Top objections (insights of the dialogs closed or handed off):")
		for _, o := range r.Objections {
			fmt.Fprintf(w, "  %-8s %-14s %s\n", o.Variant, o.Objection, ratio(o.Dialogs, o.WithInsight))
		}
	}
	first := int64(1)
	if len(r.Handoffs) > 0 {
		first = r.Handoffs[0].N
	}
	fmt.Fprintf(w, `Look deeper:
  salesbot replay dialog %d --data-dir %s     # a dialog's whole history from the log
  salesbot verify --data-dir %s               # prove the log was not altered
  salesbot campaigns stats %s --data-dir %s
  salesbot projections rebuild --data-dir %s --postgres %s
`, first, dataDir, dataDir, projections.ShortID(r.Campaign.ID), dataDir, dataDir, dsn)
}

func ratio(x, n int) string {
	if n == 0 {
		return "0"
	}
	return fmt.Sprintf("%d (%.0f%%)", x, 100*float64(x)/float64(n))
}
