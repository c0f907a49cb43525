package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/adapters/eventlog"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/projections/sinktest"
)

var campaignClock = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

// campaignLog makes a log with one account (sales-1) and four contacts:
// anna (saas, Berlin), boris (saas, Berlin, on the do-not-contact list),
// clara (saas, Paris) and dan (retail, Berlin).
func campaignLog(t *testing.T) (dir string, account uuid.UUID) {
	t.Helper()
	dir = t.TempDir()
	s := openLog(t, dir)
	defer s.Close()
	ctx := t.Context()
	h := domain.Handlers{Log: eventlog.New(s), Index: domain.NewIndexKey(s.IndexKey()), Now: func() time.Time { return campaignClock }}
	account = uuid.New()
	if _, err := h.Account(ctx, account, domain.RegisterAccount{AccountID: account, Label: "sales-1", Limits: domain.DefaultLimits()}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []struct {
		user, city string
		tags       []string
		optOut     bool
	}{{"anna_k", "Berlin", []string{"SaaS"}, false}, {"boris_b", "berlin ", []string{"saas", "vip"}, true},
		{"clara_c", "Paris", []string{"saas"}, false}, {"dan_d", "Berlin", []string{"retail"}, false}} {
		id := uuid.New()
		if _, err := h.Contact(ctx, id, domain.AddContact{ContactID: id, Source: domain.SourceImport, Basis: domain.BasisConsent, Username: p.user,
			Tags: p.tags, Fields: []domain.ContactField{{Name: "city", Value: p.city}}, Import: "imp-1"}); err != nil {
			t.Fatal(err)
		}
		if p.optOut {
			if _, err := h.Contact(ctx, id, domain.OptOutContact{By: "lead", Reason: "stop"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	return dir, account
}

func TestCampaignsCreateBadFlags(t *testing.T) {
	dir, _ := campaignLog(t)
	missing := filepath.Join(t.TempDir(), "none.yaml")
	if r := run(t, nil, "campaigns", "create", "--data-dir", dir, "--name", "First", "--start", "2026-12-02T09:00"); r.code != 0 {
		t.Fatalf("a good create: %+v", r)
	}
	good := []string{"campaigns", "create", "--data-dir", dir, "--name", "Q1", "--start", "2026-12-02T09:00"}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--name", " "}, "--name is required"},
		{[]string{"--start", ""}, "--start is required"},
		{[]string{"--start", "next monday"}, "--start"},
		{[]string{"--start", "2026-12-02T25:00"}, "--start"},
		{[]string{"--end", "2026-12-01T09:00"}, "--end (2026-12-01 09:00) must be after --start"},
		{[]string{"--end", "soon"}, "--end"},
		{[]string{"--end", "2026-12-09", "--days", "7"}, "give --end or --days, not both"},
		{[]string{"--days", "-1"}, "--days"},
		{[]string{"--hours", "9-5"}, "--hours"},
		{[]string{"--hours", "18:00-09:00"}, "--hours"},
		{[]string{"--tz", "Mars/Olympus"}, "--tz"},
		{[]string{"--weekdays", "funday"}, "--weekdays"},
		{[]string{"--weekdays", "mondayish"}, "--weekdays"},
		{[]string{"--start", "9999-12-31", "--days", "3660"}, "between the years 2000 and 2200"},
		{[]string{"--start", "0001-01-01"}, "between the years 2000 and 2200"},
		{[]string{"--daily-cap", "-1"}, "--daily-cap"},
		{[]string{"--daily-cap", "many"}, "--daily-cap"},
		{[]string{"--total-cap", "-5"}, "--total-cap"},
		{[]string{"--variants", "A=50,C=50"}, `--variants: the scenario acme-analytics has no variant "C" (it has A, B)`},
		{[]string{"--variants", "A=0"}, "--variants: the weight of A must be above 0"},
		{[]string{"--variants", "A"}, "--variants"},
		{[]string{"--variants", "A=1,A=2"}, "--variants: A is given twice"},
		{[]string{"--field", "city"}, "--field"},
		{[]string{"--field", "City="}, "--field"},
		{[]string{"--field", "1city=x"}, "--field"},
		{[]string{"--field", "city=a", "--field", "city=b"}, "--field: city is given twice"},
		{[]string{"--import", "imp 1"}, "--import"},
		{[]string{"--scenario", missing}, "--scenario"},
		{[]string{"--accounts", "nobody"}, `--accounts: no account "nobody"`},
		{[]string{"--optimize", "clicks"}, `--optimize: no goal "clicks" to optimize (one of none, replied, qualified, won)`},
		{[]string{"--optimize", "won", "--variants", "A=1"}, "--optimize: optimizing for won needs two variants or more"},
		{[]string{"--accounts", "sales-1,SALES-1"}, "--accounts: SALES-1 is given twice"},
		{[]string{"--name", "FIRST"}, `is called "First" already`},
		{[]string{"extra"}, "takes no arguments"},
	} {
		args := append(append([]string{}, good...), c.args...)
		r := run(t, nil, args...)
		if r.code != 2 || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and one line with %q", c.args, r.code, r.stderr, c.want)
		}
	}
	// No log there: said, not created.
	if r := run(t, nil, "campaigns", "create", "--data-dir", filepath.Join(t.TempDir(), "none"), "--name", "x", "--start", "2026-12-02"); r.code != 1 || !strings.Contains(r.stderr, "no event log") {
		t.Fatalf("create without a log: %+v", r)
	}
	// The pause, resume and stats commands name what they need.
	for _, args := range [][]string{{"campaigns", "pause"}, {"campaigns", "resume", "a", "b"}, {"campaigns", "stats"}, {"campaigns", "stats", "x", "--since", "May"}, {"campaigns", "list", "x"}} {
		if r := run(t, nil, append(args, "--data-dir", dir)...); r.code != 2 || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("%v: %+v", args, r)
		}
	}
}

// --optimize: the campaign records its goal; create and stats say so.
func TestCampaignsCreateOptimized(t *testing.T) {
	dir, _ := campaignLog(t)
	r := run(t, nil, "campaigns", "create", "--data-dir", dir, "--name", "Tuned", "--start", "2026-12-02T09:00", "--optimize", "Replied")
	if r.code != 0 || !strings.Contains(r.stdout, "variants A 50, B 50 to start with; their weights optimize themselves for replied (Thompson sampling, at least 10% each)\n") {
		t.Fatalf("create: %+v", r)
	}
	r = run(t, nil, "campaigns", "stats", "--data-dir", dir, "Tuned")
	for _, want := range []string{"\nOptimizing for replied (Thompson sampling", "no weight change yet",
		"\nA        50.0%  Beta(1, 1)  50.0%  2.5–97.5%\n"} {
		if r.code != 0 || !strings.Contains(r.stdout, want) {
			t.Errorf("stats lack %q: %+v", want, r)
		}
	}
	r = run(t, nil, "campaigns", "stats", "--data-dir", dir, "Tuned", "--json")
	if r.code != 0 || !strings.Contains(r.stdout, `"optimizer": {`) || !strings.Contains(r.stdout, `"goal": "replied"`) {
		t.Fatalf("stats --json: %+v", r)
	}
}

func TestCampaignsCreateListPauseResume(t *testing.T) {
	dir, account := campaignLog(t)
	r := run(t, nil, "campaigns", "create", "--data-dir", dir, "--name", "Q1 Berlin", "--tags", "saas", "--field", "City=berlin",
		"--variants", "B=30,A=70", "--accounts", "sales-1", "--start", "2026-12-02T09:00", "--days", "14", "--tz", "Europe/Berlin",
		"--hours", "09:00-18:00", "--weekdays", "mon-fri", "--daily-cap", "40", "--total-cap", "500")
	if r.code != 0 {
		t.Fatalf("create: %+v", r)
	}
	m := regexp.MustCompile(`^campaign ([0-9a-f-]{36}) created: Q1 Berlin \(short id ([0-9a-f]{8})\), active\n`).FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("create said:\n%s", r.stdout)
	}
	id, short := uuid.MustParse(m[1]), m[2]
	for _, want := range []string{
		"scenario acme-analytics 1.0, variants B 30, A 70\n",
		"runs 2026-12-02 09:00 to 2026-12-16 09:00 Europe/Berlin, mon,tue,wed,thu,fri, 09:00-18:00, within each account's working hours\n",
		"caps: 40 new dialogs a day, total 500; accounts: sales-1\n",
		// anna; boris matches too but is on the do-not-contact list.
		"segment (tags saas; city = berlin) selects 1 contact now (1 more match but may not be written to: do-not-contact, erased or unreachable)\n",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("create output lacks %q:\n%s", want, r.stdout)
		}
	}
	// The log has the campaign as the flags said.
	s := openLog(t, dir)
	h := domain.Handlers{Log: eventlog.New(s), Index: domain.NewIndexKey(s.IndexKey()), Now: time.Now}
	c, err := h.LoadCampaign(t.Context(), id)
	s.Close()
	if err != nil {
		t.Fatal(err)
	}
	berlin, _ := time.LoadLocation("Europe/Berlin")
	want := domain.Campaign{ID: id, Exists: true, Name: "Q1 Berlin", Scenario: "acme-analytics", Version: "1.0",
		Segment:  domain.Segment{Tags: []string{"saas"}, Fields: []domain.SegmentField{{Name: "city", Value: "berlin"}}},
		Variants: []domain.VariantWeight{{Name: "B", Weight: 30}, {Name: "A", Weight: 70}}, Accounts: []uuid.UUID{account},
		Schedule: domain.CampaignSchedule{Start: time.Date(2026, 12, 2, 9, 0, 0, 0, berlin).UTC(), End: time.Date(2026, 12, 16, 9, 0, 0, 0, berlin).UTC(),
			Days: []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday}, TimeZone: "Europe/Berlin", StartMinute: 540, EndMinute: 1080},
		Caps: domain.CampaignCaps{DailyNewDialogs: 40, TotalDialogs: 500}, Status: domain.StatusCampaignActive, By: "cli"}
	if fmt.Sprintf("%+v", c) != fmt.Sprintf("%+v", want) {
		t.Fatalf("campaign in the log:\n got %+v\nwant %+v", c, want)
	}

	// A second one: the scenario's variants by default, every contact.
	if r := run(t, nil, "campaigns", "create", "--data-dir", dir, "--name", "Everyone", "--start", "2026-12-01", "--end", "2026-12-03T12:00"); r.code != 0 ||
		!strings.Contains(r.stdout, "variants A 50, B 50") || !strings.Contains(r.stdout, "segment (every contact) selects 3 contacts now (1 more match") ||
		!strings.Contains(r.stdout, "runs 2026-12-01 00:00 to 2026-12-03 12:00 UTC, every day, within") {
		t.Fatalf("create with defaults: %+v", r)
	}

	r = run(t, nil, "campaigns", "list", "--data-dir", dir)
	if r.code != 0 || !regexp.MustCompile(`(?m)^`+short+`\s+Q1 Berlin\s+active\s+B 30, A 70\s+2026-12-02 08:00\s+2026-12-16 08:00\s+0\s+0\s+0$`).MatchString(r.stdout) ||
		!strings.Contains(r.stdout, "Everyone") {
		t.Fatalf("list:\n%s%s", r.stdout, r.stderr)
	}

	for _, step := range []struct {
		args []string
		want string
	}{
		{[]string{"pause", "q1 berlin"}, "campaign Q1 Berlin (" + short + ") paused: it opens no new dialogs until resumed; open dialogs go on\n"},
		{[]string{"pause", short}, "campaign Q1 Berlin (" + short + ") is paused already\n"},
		{[]string{"resume", id.String()}, "campaign Q1 Berlin (" + short + ") resumed: it opens dialogs again within its schedule\n"},
		{[]string{"resume", short[:5]}, "campaign Q1 Berlin (" + short + ") is active already\n"},
		{[]string{"pause", "Q1 Berlin"}, "paused: it opens no new dialogs"},
	} {
		r := run(t, nil, append(append([]string{"campaigns"}, step.args...), "--data-dir", dir)...)
		if r.code != 0 || !strings.Contains(r.stdout, step.want) {
			t.Fatalf("%v: %+v", step.args, r)
		}
	}
	if r := run(t, nil, "campaigns", "pause", "nothing-like-it", "--data-dir", dir); r.code != 1 || !strings.Contains(r.stderr, `no campaign "nothing-like-it"`) {
		t.Fatalf("pause of an unknown campaign: %+v", r)
	}

	r = run(t, nil, "campaigns", "list", "--json", "--data-dir", dir)
	var items []struct {
		ID       string `json:"id"`
		Short    string `json:"short_id"`
		Name     string `json:"name"`
		Status   string `json:"status"`
		Variants []struct {
			Name   string `json:"name"`
			Weight int    `json:"weight"`
		} `json:"variants"`
		Caps struct {
			Daily int `json:"daily_new_dialogs"`
		} `json:"caps"`
	}
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &items) != nil || len(items) != 2 {
		t.Fatalf("list --json: %+v", r)
	}
	var q1 = items[0]
	if q1.Name != "Q1 Berlin" {
		q1 = items[1]
	}
	if q1.ID != id.String() || q1.Short != short || q1.Status != "paused" || len(q1.Variants) != 2 || q1.Variants[0].Name != "B" || q1.Caps.Daily != 40 {
		t.Fatalf("list --json: %+v", q1)
	}
	if r := run(t, nil, "campaigns", "create", "--help"); r.code != 0 || !strings.Contains(r.stdout, "the admin bot has it too") {
		t.Fatalf("create --help: %+v", r)
	}
}

// statsLog makes a log with a campaign and its dialogs: variant A 100
// dialogs (30 replied, 12 qualified, 8 handed off, 5 opted out, 10 lost),
// B 100 (45, 20, 10, 4, 6), and one dialog without a campaign that must
// not count.
func statsLog(t *testing.T) (dir string, campaign uuid.UUID) {
	t.Helper()
	dir = t.TempDir()
	s := openLog(t, dir)
	defer s.Close()
	ctx := t.Context()
	h := domain.Handlers{Log: eventlog.New(s), Index: domain.NewIndexKey(s.IndexKey()), Now: func() time.Time { return campaignClock }}
	campaign = uuid.MustParse("3f2a9c1e-0000-4000-8000-0000000000ca")
	if _, err := h.Campaign(ctx, campaign, domain.CreateCampaign{CampaignID: campaign, Name: "Q1 Berlin", Scenario: "acme-analytics", Version: "1.0",
		Variants: []domain.VariantWeight{{Name: "A", Weight: 50}, {Name: "B", Weight: 50}},
		Schedule: domain.CampaignSchedule{Start: campaignClock, End: campaignClock.AddDate(0, 0, 7)}, By: "cli"}); err != nil {
		t.Fatal(err)
	}
	plans := map[string]statsPlan{"A": {30, 12, 8, 5, 10}, "B": {45, 20, 10, 4, 6}}
	type job struct {
		n        int64
		variant  string
		i        int
		campaign uuid.UUID
	}
	jobs := make(chan job)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 { // concurrent appends share synced commits
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				if err := statsDialog(ctx, h, j.n, j.campaign, j.variant, j.i, plans[j.variant]); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	n := int64(0)
	for _, v := range []string{"A", "B"} {
		for i := range 100 {
			n++
			jobs <- job{n, v, i, campaign}
		}
	}
	jobs <- job{n + 1, "B", 0, uuid.Nil}
	close(jobs)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	return dir, campaign
}

// statsPlan is how many dialogs of a variant get so far.
type statsPlan struct{ replied, qualified, handoff, optedOut, lost int }

// statsDialog plays dialog i of a variant: the first replied ones reply,
// the first of them qualify and the first of those are handed off; the
// last replied ones opt out; some who never replied are closed as lost.
func statsDialog(ctx context.Context, h domain.Handlers, n int64, campaign uuid.UUID, variant string, i int, p statsPlan) error {
	cid, did := uuid.New(), uuid.New()
	if _, err := h.Contact(ctx, cid, domain.AddContact{ContactID: cid, Source: domain.SourceImport, Basis: domain.BasisConsent, Username: fmt.Sprintf("lead_%d", n)}); err != nil {
		return err
	}
	c, err := h.LoadContact(ctx, cid)
	if err != nil {
		return err
	}
	steps := []domain.DialogCommand{domain.StartDialog{DialogID: did, N: n, Contact: c, AccountID: uuid.New(), Variant: variant, By: "campaign", Campaign: campaign}}
	score := 70
	switch {
	case i < p.replied:
		steps = append(steps, domain.RecordInbound{TelegramMessageID: 1, Text: "hello", At: campaignClock})
		if i < p.qualified {
			steps = append(steps, domain.UpdateQualification{Qual: domain.Qualification{Score: &score}})
		}
		if i < p.handoff {
			steps = append(steps, domain.RequestHandoff{Reason: "score 70"})
		}
		if i >= p.replied-p.optedOut {
			steps = append(steps, domain.OptOutDialog{Reason: "stop"})
		}
	case i < p.replied+p.lost:
		steps = append(steps, domain.CloseDialog{Outcome: domain.OutcomeLost, By: "ai"})
	}
	for _, cmd := range steps {
		if _, err := h.Dialog(ctx, did, cid, cmd); err != nil {
			return fmt.Errorf("dialog %d: %T: %w", n, cmd, err)
		}
	}
	return nil
}

func TestCampaignsStats(t *testing.T) {
	dir, campaign := statsLog(t)
	r := run(t, nil, "campaigns", "stats", "Q1 Berlin", "--data-dir", dir)
	if r.code != 0 {
		t.Fatalf("stats: %+v", r)
	}
	for _, want := range []string{
		"Q1 Berlin (3f2a9c1e) — active; scenario acme-analytics 1.0\n",
		"200 dialogs (all time), 0 contacts targeted\n",
		"A        50      100      30 (30.0%)  12 (12.0%)  8 (8.0%)    5 (5.0%)   10    0\n",
		"B        50      100      45 (45.0%)  20 (20.0%)  10 (10.0%)  4 (4.0%)   6     0\n",
		"B against A (the control):\n",
		"  reply rate  +15.0 points  likely real (p = 0.03)\n",
		"  qualified   +8.0 points   not enough evidence yet (p = 0.12; need about 229 more dialogs per variant)\n",
		"  handoff     +2.0 points   not enough evidence yet (p = 0.62; need about 3113 more dialogs per variant)\n",
		"  opt-out     -1.0 points   not enough evidence yet (p = 1.00, Fisher's exact test, few dialogs; need about 6645 more dialogs per variant)\n",
		"Qualified: the lead's interest score reached 50.",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stats lack %q:\n%s", want, r.stdout)
		}
	}

	// --metric picks the rates tested: won (deals) only here.
	if r := run(t, nil, "campaigns", "stats", "Q1 Berlin", "--metric", "won", "--data-dir", dir); r.code != 0 ||
		!strings.Contains(r.stdout, "B against A (the control):\n  won ") || strings.Contains(r.stdout, "reply rate") {
		t.Errorf("stats --metric won: %+v", r)
	}
	if r := run(t, nil, "campaigns", "stats", "Q1 Berlin", "--metric", "replied,revenue", "--data-dir", dir); r.code != 2 || !strings.Contains(r.stderr, `no metric "revenue"`) {
		t.Errorf("stats --metric revenue: %+v", r)
	}

	// JSON: the same numbers for a program.
	r = run(t, nil, "campaigns", "stats", "3f2a9c1e", "--json", "--data-dir", dir)
	var out struct {
		Campaign struct {
			ID string `json:"id"`
		} `json:"campaign"`
		Variants []struct {
			Variant   string  `json:"variant"`
			Weight    int     `json:"weight"`
			Dialogs   int     `json:"dialogs"`
			Replied   int     `json:"replied"`
			ReplyRate float64 `json:"reply_rate"`
			Qualified int     `json:"qualified"`
			OptedOut  int     `json:"opted_out"`
			Lost      int     `json:"lost"`
		} `json:"variants"`
		Tests []struct {
			Metric     string  `json:"metric"`
			Variant    string  `json:"variant"`
			Control    string  `json:"control"`
			Diff       float64 `json:"diff"`
			Z          float64 `json:"z"`
			P          float64 `json:"p"`
			LikelyReal bool    `json:"likely_real"`
			More       int     `json:"more_dialogs_per_variant"`
		} `json:"tests"`
	}
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &out) != nil {
		t.Fatalf("stats --json: %+v", r)
	}
	if out.Campaign.ID != campaign.String() || len(out.Variants) != 2 || out.Variants[1].Replied != 45 || out.Variants[1].ReplyRate != 0.45 ||
		out.Variants[0].Weight != 50 || out.Variants[0].Lost != 10 || out.Variants[0].OptedOut != 5 || len(out.Tests) != 4 {
		t.Fatalf("stats --json: %s", r.stdout)
	}
	if rt := out.Tests[0]; rt.Metric != "replied" || rt.Variant != "B" || rt.Control != "A" || rt.Diff != 0.15 ||
		math.Abs(rt.Z-2.191) > 1e-3 || math.Abs(rt.P-0.0285) > 1e-4 || !rt.LikelyReal || rt.More != 0 {
		t.Fatalf("reply-rate test: %+v", rt)
	}
	if qt := out.Tests[1]; qt.LikelyReal || qt.More != 229 || math.Abs(qt.P-0.1228) > 1e-4 {
		t.Fatalf("qualified test: %+v", qt)
	}

	// From PostgreSQL: brought up to date, the same answer.
	env := map[string]string{"SALESBOT_POSTGRES_DSN": sinktest.NewSchema(t)}
	text := run(t, nil, "campaigns", "stats", "Q1 Berlin", "--data-dir", dir).stdout
	if pg := run(t, env, "campaigns", "stats", "Q1 Berlin", "--data-dir", dir); pg.code != 0 || pg.stdout != text {
		t.Fatalf("stats from PostgreSQL differ:\n%s%s\nin memory:\n%s", pg.stdout, pg.stderr, text)
	}
	// A period after every dialog (the log records them now): none, and
	// nothing to test.
	tomorrow := time.Now().UTC().AddDate(0, 0, 2).Format(time.DateOnly)
	if r := run(t, nil, "campaigns", "stats", "Q1 Berlin", "--since", tomorrow, "--data-dir", dir); r.code != 0 ||
		!strings.Contains(r.stdout, "0 dialogs (started since "+tomorrow+")") || !strings.Contains(r.stdout, "no dialogs yet with variant A") {
		t.Fatalf("stats since: %+v", r)
	}
}

// Odd input is a usage error, never a panic.
func TestCampaignsCreateOddInput(t *testing.T) {
	dir, _ := campaignLog(t)
	for _, args := range [][]string{
		{"--weekdays", "\u212a"}, // the Kelvin sign lower-cases to a shorter "k"
		{"--weekdays", "mon,,"},
		{"--hours", "\u212a-09:00"},
		{"--start", strings.Repeat("9", 5000)},
		{"--variants", "=,=,"},
		{"--field", "=x"},
		{"--tags", strings.Repeat(",", 100)},
		{"--name", strings.Repeat("я", 101)},
	} {
		r := run(t, nil, append([]string{"campaigns", "create", "--data-dir", dir, "--name", "Odd", "--start", "2026-12-02"}, args...)...)
		if r.code != 2 && !(args[0] == "--tags" && r.code == 0) {
			t.Errorf("%q: %+v", args, r)
		}
	}
}
