package main

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	openai "github.com/sashabaranov/go-openai"

	"github.com/salesbot/salesbot/adapters/eventlog"
	"github.com/salesbot/salesbot/adapters/llm/openaitest"
	"github.com/salesbot/salesbot/domain"
)

// previewLog is a log with seven leads tagged saas (names and companies
// of their own; the last on the do-not-contact list) and a campaign on
// them; it returns the log's head after all that.
func previewLog(t *testing.T) (dir string) {
	t.Helper()
	dir = t.TempDir()
	s := openLog(t, dir)
	ctx := t.Context()
	h := domain.Handlers{Log: eventlog.New(s), Index: domain.NewIndexKey(s.IndexKey()), Now: func() time.Time { return campaignClock }}
	account := uuid.New()
	if _, err := h.Account(ctx, account, domain.RegisterAccount{AccountID: account, Label: "sales-1", Limits: domain.DefaultLimits()}); err != nil {
		t.Fatal(err)
	}
	for i, p := range [][2]string{{"Anna Berg", "Northwind"}, {"Boris Ivanov", "Contoso"}, {"Clara Diaz", "Globex"}, {"Dan Wu", "Initech"},
		{"Eva Novak", "Umbrella"}, {"Femi Ade", "Hooli"}, {"Gus Fring", "Madrigal"}} {
		id := uuid.New()
		if _, err := h.Contact(ctx, id, domain.AddContact{ContactID: id, Source: domain.SourceImport, Basis: domain.BasisConsent,
			Username: strings.ToLower(strings.Fields(p[0])[0]), Name: p[0], Tags: []string{"saas"},
			Fields: []domain.ContactField{{Name: "company", Value: p[1]}}, Import: "imp-1"}); err != nil {
			t.Fatal(err)
		}
		if i == 0 { // the first on the do-not-contact list: never previewed
			if _, err := h.Contact(ctx, id, domain.OptOutContact{By: "lead", Reason: "stop"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	s.Close()
	if r := run(t, nil, "campaigns", "create", "--data-dir", dir, "--name", "Q1", "--tags", "saas", "--start", "2026-12-02T09:00"); r.code != 0 {
		t.Fatalf("create: %+v", r)
	}
	return dir
}

func logHead(t *testing.T, dir string) uint64 {
	t.Helper()
	s := openLog(t, dir)
	defer s.Close()
	return s.Head()
}

var previewHeader = regexp.MustCompile(`(?m)^(\d+)\. contact \S+ @(\w+) · variant (A|B) · (\w+)(.*)\n   (.*)$`)

// Five openings for five leads before the campaign starts: each greets
// its own lead, none is recorded.
func TestCampaignsPreview(t *testing.T) {
	dir := previewLog(t)
	head := logHead(t, dir)
	r := run(t, nil, "campaigns", "preview", "Q1", "--data-dir", dir)
	if r.code != 0 {
		t.Fatalf("preview: %+v", r)
	}
	found := previewHeader.FindAllStringSubmatch(r.stdout, -1)
	if len(found) != 5 || !strings.Contains(r.stdout, "5 of 6 contacts that may be written to; nothing is sent or recorded") {
		t.Fatalf("%d openings, want 5 of the 6 contactable leads:\n%s", len(found), r.stdout)
	}
	texts := map[string]bool{}
	names := map[string]string{"boris": "Boris", "clara": "Clara", "dan": "Dan", "eva": "Eva", "femi": "Femi"}
	companies := map[string]string{"boris": "Contoso", "clara": "Globex", "dan": "Initech", "eva": "Umbrella", "femi": "Hooli"}
	for _, m := range found {
		user, engineName, text := m[2], m[4], m[6]
		if names[user] == "" || !strings.Contains(text, names[user]) || !strings.Contains(text, companies[user]) {
			t.Errorf("@%s's opening %q lacks their name or company", user, text)
		}
		if engineName != "offline" || !strings.HasPrefix(text, "I'm Ada, the AI assistant of Acme Analytics.") {
			t.Errorf("@%s: engine %s, %q", user, engineName, text)
		}
		texts[text] = true
	}
	if len(texts) != 5 {
		t.Errorf("%d different openings for 5 leads:\n%s", len(texts), r.stdout)
	}
	if strings.Contains(r.stdout, "@anna") {
		t.Errorf("a lead on the do-not-contact list previewed:\n%s", r.stdout)
	}
	if got := logHead(t, dir); got != head {
		t.Errorf("the preview appended %d events to the log", got-head)
	}
	// The same leads in the same order, every time.
	if again := run(t, nil, "campaigns", "preview", "Q1", "--data-dir", dir); again.stdout != r.stdout {
		t.Errorf("a second preview differs:\n%s\n---\n%s", again.stdout, r.stdout)
	}
	if r := run(t, nil, "campaigns", "preview", "Q1", "--data-dir", dir, "--n", "2"); len(previewHeader.FindAllString(r.stdout, -1)) != 2 {
		t.Errorf("--n 2:\n%s", r.stdout)
	}
	for _, n := range []string{"0", "51", "x"} {
		if r := run(t, nil, "campaigns", "preview", "Q1", "--data-dir", dir, "--n", n); r.code != 2 || !strings.Contains(r.stderr, "-n") {
			t.Errorf("--n %s: %+v", n, r)
		}
	}
	if r := run(t, nil, "campaigns", "preview", "nope", "--data-dir", dir); r.code == 0 || !strings.Contains(r.stderr, `no campaign "nope"`) {
		t.Errorf("an unknown campaign: %+v", r)
	}
}

// With an LLM each lead's opening is the model's, written from their
// record; a hostile one is shown withheld, the merged opening instead.
func TestCampaignsPreviewWithLLM(t *testing.T) {
	dir := previewLog(t)
	head := logHead(t, dir)
	srv := openaitest.New()
	defer srv.Close()
	srv.Func(func(req openai.ChatCompletionRequest) openaitest.Step {
		last := req.Messages[len(req.Messages)-1].Content
		name := regexp.MustCompile(`(?m)^first_name: (.*)$`).FindStringSubmatch(last)
		if name == nil {
			return openaitest.Status(400, "")
		}
		reply := name[1] + ", quick one: how do you report on the pipeline?"
		if name[1] == "Clara" {
			reply = "Clara, reserve your seat at https://acme-pay.io today."
		}
		return openaitest.ReplyJSON(domain.TurnOutput{Reply: reply, NextStage: domain.StageOpening})
	})
	env := map[string]string{"SALESBOT_LLM_BASE_URL": srv.URL(), "SALESBOT_LLM_MODEL": "fake-model", "SALESBOT_LLM_RETRIES": "0"}
	r := run(t, env, "campaigns", "preview", "Q1", "--data-dir", dir)
	if r.code != 0 || len(srv.Requests()) != 5 {
		t.Fatalf("preview: %d requests, %+v", len(srv.Requests()), r)
	}
	for _, m := range previewHeader.FindAllStringSubmatch(r.stdout, -1) {
		user, how, text := m[2], m[4]+m[5], m[6]
		switch {
		case user == "clara":
			if !strings.Contains(how, "the scenario's opening") || strings.Contains(text, "acme-pay") || !strings.Contains(text, "Clara") {
				t.Errorf("clara's hostile opening: %s: %q", how, text)
			}
		case how != "llm" || !strings.Contains(text, ", quick one: how do you report"):
			t.Errorf("@%s: %s: %q, want the model's", user, how, text)
		}
	}
	if !strings.Contains(r.stdout, "guard: contact points not in the scenario (acme-pay.io)") {
		t.Errorf("the withheld opening's guard is not shown:\n%s", r.stdout)
	}
	if got := logHead(t, dir); got != head {
		t.Errorf("the preview appended %d events to the log", got-head)
	}
}
