package adminbot_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/mymmrac/telego"

	"github.com/salesbot/salesbot/adapters/adminbot"
	"github.com/salesbot/salesbot/adapters/adminbot/botapitest"
	"github.com/salesbot/salesbot/adapters/app/dialogs"
	"github.com/salesbot/salesbot/adapters/eventlog"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/eventstore"
	"github.com/salesbot/salesbot/projections"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

const token = "123456:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

const (
	ownerID   = 1001
	managerID = 1002
	strangerI = 6666
)

var t0 = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

// world is a log with a few dialogs, its read model, and a bot on a fake
// Bot API.
type world struct {
	t     *testing.T
	api   *botapitest.Server
	bot   *adminbot.Bot
	store *eventstore.MemoryStore
	sink  *projections.Memory
	h     domain.Handlers
	acc   uuid.UUID
	links *webLinks
}

func newWorld(t *testing.T) *world { return newWorldClock(t, func() time.Time { return t0 }) }

// newWorldClock is newWorld with the log's clock (and the handlers')
// given; the bot's clock stays two hours after t0.
func newWorldClock(t *testing.T, now func() time.Time) *world {
	store, err := eventstore.NewMemory(eventstore.Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	w := &world{t: t, api: botapitest.New(t, token), store: store, sink: projections.NewMemory(), links: &webLinks{}}
	w.h = domain.Handlers{Log: eventlog.New(store), Index: domain.NewIndexKey(store.IndexKey()), Now: now}
	w.bot, err = adminbot.New(adminbot.Config{Token: token, APIURL: w.api.URL(), Sink: w.sink, Domain: w.h, Import: importer{w.h}, Dialogs: dialogs.Service{H: w.h}, Web: w.links,
		Admins: map[int64]adminbot.Role{ownerID: adminbot.RoleOwner, managerID: adminbot.RoleManager},
		Now:    func() time.Time { return t0.Add(2 * time.Hour) }, NoticeInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	w.seed()
	return w
}

func (w *world) must(_ []domain.Event, err error) {
	w.t.Helper()
	if err != nil {
		w.t.Fatal(err)
	}
}

// seed records an account and three dialogs: one talking, one handed off
// with a lead whose name is HTML, one closed.
func (w *world) seed() {
	ctx := context.Background()
	w.acc = uuid.MustParse("0193a0c0-0000-7000-8000-0000000000a1")
	w.must(w.h.Account(ctx, w.acc, domain.RegisterAccount{AccountID: w.acc, Label: "sales-1", Limits: domain.DefaultLimits()}))
	people := []struct{ name, user string }{{"Anna Karenina", "anna_k"}, {"<b>*_[", "html_lead"}, {"Boris", "boris_b"}}
	for i, p := range people {
		cid := uuid.MustParse(fmt.Sprintf("0193a0c0-0000-7000-8000-0000000000c%d", i+1))
		did := uuid.MustParse(fmt.Sprintf("0193a0c0-0000-7000-8000-0000000000d%d", i+1))
		w.must(w.h.Contact(ctx, cid, domain.AddContact{ContactID: cid, Source: domain.SourceImport, Basis: domain.BasisConsent, Username: p.user, Name: p.name, UserID: int64(500 + i)}))
		c, _ := w.h.LoadContact(ctx, cid)
		w.must(w.h.Dialog(ctx, did, cid, domain.StartDialog{DialogID: did, N: int64(i + 1), Contact: c, AccountID: w.acc, Variant: "A", By: "campaign"}))
		w.must(w.h.Dialog(ctx, did, cid, domain.PlanOutbound{RandomID: int64(10 + i), Text: "Hello, I am the AI assistant of Acme.", By: domain.ActorAI, Contact: c}))
		w.must(w.h.Dialog(ctx, did, cid, domain.MarkSent{RandomID: int64(10 + i), TelegramMessageID: 1}))
		w.must(w.h.Dialog(ctx, did, cid, domain.RecordInbound{TelegramMessageID: 2, Text: "Hi! How much is it for 10 people? <script>", At: t0}))
		score := 40 + 30*i
		w.must(w.h.Dialog(ctx, did, cid, domain.UpdateQualification{Qual: domain.Qualification{
			Need: &domain.Field{Value: "sales analytics", Quote: "we lose track of leads", Confidence: 0.8}, Score: &score}}))
		switch i {
		case 1:
			slot := domain.Interval{Start: time.Date(2026, 11, 30, 7, 0, 0, 0, time.UTC), End: time.Date(2026, 11, 30, 7, 30, 0, 0, time.UTC)}
			w.must(w.h.Dialog(ctx, did, cid, domain.ProposeMeeting{Slots: []domain.Interval{slot}, Zone: "Europe/Moscow", Text: "Free times: 1. Mon 30 Nov 10:00", RandomID: 30}))
			w.must(w.h.Dialog(ctx, did, cid, domain.BookMeeting{Slot: slot, Zone: "Europe/Moscow", UID: "salesbot-1", Manager: "Maria <b>", Text: "Booked.", RandomID: 31,
				File: domain.Attachment{Name: "meeting.ics", MIME: "text/calendar", Data: "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"}}))
			w.must(w.h.Dialog(ctx, did, cid, domain.RequestHandoff{Reason: "score 70 ≥ 70"}))
		case 2:
			w.must(w.h.Dialog(ctx, did, cid, domain.StopDialog{By: "admin:1"}))
		}
	}
	w.catchUp()
}

func (w *world) catchUp() {
	w.t.Helper()
	r := projections.Runner{Store: w.store, Decode: eventlog.New(w.store).Decode, Sink: w.sink}
	if _, err := r.CatchUp(context.Background()); err != nil {
		w.t.Fatal(err)
	}
}

// say sends a private message from user to the bot and returns the calls
// it made.
func (w *world) say(user int64, text string) []botapitest.Call {
	w.t.Helper()
	w.bot.Handle(context.Background(), telego.Update{UpdateID: 1, Message: &telego.Message{
		MessageID: 1, From: &telego.User{ID: user, FirstName: "Maria"}, Chat: telego.Chat{ID: user, Type: telego.ChatTypePrivate}, Text: text}})
	w.catchUp()
	return w.api.Take()
}

// press presses an inline button.
func (w *world) press(user int64, data string) []botapitest.Call {
	w.t.Helper()
	w.bot.Handle(context.Background(), telego.Update{UpdateID: 2, CallbackQuery: &telego.CallbackQuery{ID: "q1", From: telego.User{ID: user}, Data: data,
		Message: &telego.Message{MessageID: 5, Chat: telego.Chat{ID: user, Type: telego.ChatTypePrivate}}}})
	w.catchUp()
	calls := w.api.Take()
	if len(calls) > 0 { // an admin's press is answered (the spinner stops) before the command runs
		if calls[0].Method != "answerCallbackQuery" {
			w.t.Fatalf("the press was not answered: %+v", calls)
		}
		calls = calls[1:]
	}
	return calls
}

// text is the text of the only message sent.
func text(t *testing.T, calls []botapitest.Call) string {
	t.Helper()
	if len(calls) != 1 || calls[0].Method != "sendMessage" {
		t.Fatalf("want one sendMessage, got %+v", calls)
	}
	return calls[0].Params["text"].(string)
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(want) != got {
		t.Fatalf("%s differs from %s:\n%s", name, path, got)
	}
}

func TestStrangersGetNothing(t *testing.T) {
	w := newWorld(t)
	if calls := w.say(strangerI, "/help"); len(calls) != 0 {
		t.Fatalf("a stranger got %+v", calls)
	}
	// An admin writing in a group gets nothing either.
	w.bot.Handle(context.Background(), telego.Update{Message: &telego.Message{From: &telego.User{ID: ownerID},
		Chat: telego.Chat{ID: -100, Type: telego.ChatTypeGroup}, Text: "/list"}})
	if calls := w.api.Take(); len(calls) != 0 {
		t.Fatalf("a group got %+v", calls)
	}
	if calls := w.press(strangerI, "stop 1"); len(calls) != 0 {
		t.Fatalf("a stranger's button press got %+v", calls)
	}
	if d, _ := w.sink.DialogByN(context.Background(), 1); d.Status != projections.StatusActive {
		t.Fatalf("a stranger's button stopped dialog 1: %+v", d)
	}
}

func TestHelpAndBadInput(t *testing.T) {
	w := newWorld(t)
	if got := text(t, w.say(managerID, "/help")); got != strings.TrimRight(adminbot.Help(), "\n") {
		t.Fatalf("/help: %s", got)
	}
	for in, want := range map[string]string{
		"/view twelve":   "&#34;twelve&#34; is not a dialog number. Usage: /view N",
		"/frobnicate":    "/frobnicate is not a command; /help lists them",
		"hello":          "Send a command; /help lists them.",
		"/view 99":       "Not found.",
		"/pause sales-1": "Only an owner may manage accounts.",
	} {
		got := text(t, w.say(managerID, in))
		if got != want && got != strings.ReplaceAll(want, "&#34;", "&quot;") {
			t.Errorf("%q: got %q, want %q", in, got, want)
		}
	}
}

func TestListAndView(t *testing.T) {
	w := newWorld(t)
	calls := w.say(managerID, "/list all")
	golden(t, "list_all", text(t, calls))
	kb, _ := json.Marshal(calls[0].Params["reply_markup"])
	if !strings.Contains(string(kb), `"callback_data":"view 1"`) {
		t.Fatalf("no view buttons: %s", kb)
	}
	if got := text(t, w.say(managerID, "/list handoff")); !strings.Contains(got, "<b>2</b> &lt;b&gt;*_[ @html_lead") || strings.Contains(got, "anna") {
		t.Fatalf("/list handoff: %s", got)
	}
	calls = w.say(managerID, "/view 2")
	golden(t, "view_2", text(t, calls))
	kb, _ = json.Marshal(calls[0].Params["reply_markup"])
	for _, b := range []string{"release 2", "stop 2", "export 2"} {
		if !strings.Contains(string(kb), `"callback_data":"`+b+`"`) {
			t.Fatalf("/view 2 lacks the %q button: %s", b, kb)
		}
	}
	// Button presses run the same commands.
	if got := text(t, w.press(managerID, "view 1")); !strings.HasPrefix(got, "<b>Dialog 1</b>") {
		t.Fatalf("view button: %s", got)
	}
}

func TestExport(t *testing.T) {
	w := newWorld(t)
	calls := w.say(managerID, "/export 1")
	if len(calls) != 1 || calls[0].Method != "sendDocument" || calls[0].File != "dialog-1.txt" {
		t.Fatalf("export: %+v", calls)
	}
	golden(t, "export_1", string(calls[0].Data))

	calls = w.say(managerID, "/export_all")
	if len(calls) != 1 || calls[0].Method != "sendDocument" || calls[0].File != "dialogs-2026-11-25.zip" {
		t.Fatalf("export_all: %+v", calls)
	}
	zr, err := zip.NewReader(bytes.NewReader(calls[0].Data), int64(len(calls[0].Data)))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	for _, f := range zr.File {
		rc, _ := f.Open()
		b, _ := io.ReadAll(rc)
		rc.Close()
		files[f.Name] = string(b)
	}
	if len(files) != 4 || !strings.HasPrefix(files["dialog-2.txt"], "Dialog 2\n") {
		t.Fatalf("zip holds %v", keys(files))
	}
	golden(t, "export_all_summary.csv", files["summary.csv"])
	if first := w.say(managerID, "/export 1"); files["dialog-1.txt"] != string(first[0].Data) {
		t.Fatal("the zip's dialog 1 differs from /export 1")
	}
	// A date after every dialog: an empty archive, still with its summary.
	calls = w.say(managerID, "/export_all 2026-12-01")
	if !strings.Contains(calls[0].Params["caption"].(string), "0 dialogs") {
		t.Fatalf("export_all since: %+v", calls[0].Params)
	}
}

// A document Telegram refuses reaches the admin as a plain answer that
// names the file and Telegram's reason.
func TestRefusedDocumentIsAnswered(t *testing.T) {
	w := newWorld(t)
	w.api.Refuse("sendDocument", 400, "Bad Request: file is too big")
	calls := w.say(managerID, "/export 1")
	if len(calls) != 2 || calls[0].Method != "sendDocument" {
		t.Fatalf("want the refused document, then an answer: %+v", calls)
	}
	if got := text(t, calls[1:]); got != "Could not send dialog-1.txt: Telegram refused the file (Bad Request: file is too big)." {
		t.Fatalf("answer: %q", got)
	}
	w.api.Refuse("sendDocument", 413, "Request Entity Too Large")
	calls = w.say(managerID, "/export_all")
	if len(calls) != 2 || calls[0].Method != "sendDocument" {
		t.Fatalf("want the refused document, then an answer: %+v", calls)
	}
	got := text(t, calls[1:])
	if !strings.HasPrefix(got, "Could not send dialogs-2026-11-25.zip: Telegram refused the file (Request Entity Too Large).") ||
		!strings.Contains(got, "/export_all YYYY-MM-DD") {
		t.Fatalf("answer: %q", got)
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestDialogCommandsGoThroughTheLog(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	if got := text(t, w.say(managerID, "/takeover 1")); !strings.Contains(got, "Dialog 1 is yours") {
		t.Fatalf("takeover: %s", got)
	}
	if d, _ := w.sink.DialogByN(ctx, 1); !d.TakenOver {
		t.Fatal("the takeover did not reach the read model")
	}
	if got := text(t, w.press(managerID, "release 1")); !strings.Contains(got, "back with the AI") {
		t.Fatalf("release: %s", got)
	}
	if got := text(t, w.say(managerID, "/release 1")); got != "Dialog 1 is not with a manager." {
		t.Fatalf("release twice: %s", got)
	}
	if got := text(t, w.say(managerID, "/reply 1 Hi Anna, Maria here")); !strings.Contains(got, "Queued for dialog 1") || !strings.Contains(got, "the AI stays silent until /release 1") {
		t.Fatalf("reply: %s", got)
	}
	msgs, _ := w.sink.Messages(ctx, uuid.MustParse("0193a0c0-0000-7000-8000-0000000000d1"))
	last := msgs[len(msgs)-1]
	if last.Author != "manager" || last.Text != "Hi Anna, Maria here" || last.Status != "planned" {
		t.Fatalf("the reply is not planned through the outbox: %+v", last)
	}
	evs, _, _ := eventlog.New(w.store).Load(ctx, domain.DialogStream(uuid.MustParse("0193a0c0-0000-7000-8000-0000000000d1")))
	if p, ok := evs[len(evs)-1].(domain.OutboundPlanned); !ok || p.Person != fmt.Sprintf("admin:%d", managerID) {
		t.Fatalf("the log does not say which manager wrote: %#v", evs[len(evs)-1])
	}
	if to, ok := evs[len(evs)-2].(domain.DialogTakenOver); !ok || to.By != fmt.Sprintf("admin:%d", managerID) {
		t.Fatalf("a manager's /reply did not take the dialog over: %#v", evs[len(evs)-2])
	}
	if got := text(t, w.say(managerID, "/stop 1")); !strings.Contains(got, "stopped") {
		t.Fatalf("stop: %s", got)
	}
	if got := text(t, w.say(managerID, "/reply 1 one more")); !strings.Contains(got, "closed") {
		t.Fatalf("a reply to a stopped dialog: %s", got)
	}
}

// /won and /lost record the deal's outcome in any state, once; bad input
// gets a clear answer.
func TestWonAndLost(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	for _, c := range []struct{ say, want string }{
		{"/won 1 1200.5 usd", "Dialog 1: won, 1200.50 USD. Recorded; the AI writes no more in it."},
		{"/won 1 1200.50 USD", "Dialog 1 is recorded as won, 1200.50 USD already; nothing changed."},
		{"/lost 2 chose a competitor", "Dialog 2: lost: chose a competitor. Recorded; the AI writes no more in it."},
		{"/won 3", "Dialog 3: won. Recorded; the AI writes no more in it."}, // stopped before: recorded all the same
		{"/won 99", "No dialog has that number; /list shows them."},
		{"/won 1 1200 EURO", `&#34;EURO&#34; is not an ISO 4217 currency code (USD, EUR, RUB, ...).`},
		{"/won 1 12,50 EUR", `&#34;12,50&#34; is not an amount of EUR: write digits with a point for the decimals, like 1200.50.`},
		{"/won 1 -5 EUR", `&#34;-5&#34; is not an amount of EUR: write digits with a point for the decimals, like 1200.50.`},
		{"/won 1 1200", "say the currency after the amount, like 1200.50 USD. Usage: /won N [amount currency]"},
		{"/won one", "&#34;one&#34; is not a dialog number. Usage: /won N [amount currency]"},
		{"/lost 2", "say why the deal was lost. Usage: /lost N reason"},
	} {
		got := text(t, w.say(managerID, c.say))
		if got != c.want && got != strings.ReplaceAll(c.want, "&#34;", "&quot;") {
			t.Errorf("%q: got %q, want %q", c.say, got, c.want)
		}
	}
	for n, want := range map[int64]struct {
		outcome string
		value   domain.Money
		reason  string
	}{1: {"won", domain.Money{Minor: 120050, Currency: "USD"}, ""}, 2: {"lost", domain.Money{}, "chose a competitor"}, 3: {"won", domain.Money{}, ""}} {
		d, err := w.sink.DialogByN(ctx, n)
		if err != nil || d.Outcome != want.outcome || d.OutcomeValue != want.value || d.OutcomeReason != want.reason || d.Status != projections.StatusClosed {
			t.Errorf("dialog %d: %+v, %v; want %+v", n, d, err, want)
		}
	}
	if got := text(t, w.say(managerID, "/view 1")); !strings.Contains(got, "closed, won 1200.50 USD)") {
		t.Errorf("/view 1 does not show the outcome: %s", got)
	}
	evs, _, err := eventlog.New(w.store).Load(ctx, domain.DialogStream(uuid.MustParse("0193a0c0-0000-7000-8000-0000000000d1")))
	if err != nil {
		t.Fatal(err)
	}
	recorded := 0
	for _, e := range evs {
		if o, ok := e.(domain.OutcomeRecorded); ok {
			recorded++
			if o.By != fmt.Sprintf("admin:%d", managerID) {
				t.Errorf("the log does not say who recorded it: %+v", o)
			}
		}
	}
	if recorded != 1 {
		t.Errorf("%d outcomes recorded in dialog 1, want 1", recorded)
	}
}

func TestAccountsPauseResumeStats(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	if got := text(t, w.say(managerID, "/accounts")); !strings.Contains(got, "<b>sales-1</b> — registered") {
		t.Fatalf("/accounts: %s", got)
	}
	if got := text(t, w.say(ownerID, "/pause sales-1")); !strings.Contains(got, "paused") {
		t.Fatalf("pause: %s", got)
	}
	if a, _ := w.h.AccountNow(ctx, w.acc, nil); !a.Paused {
		t.Fatal("not paused in the log")
	}
	if got := text(t, w.say(ownerID, "/resume_all")); got != "Resumed 1 accounts: sales-1." {
		t.Fatalf("resume_all: %s", got)
	}
	if got := text(t, w.say(ownerID, "/pause nobody")); got != "Not found." {
		t.Fatalf("pause an unknown account: %s", got)
	}
	got := text(t, w.say(managerID, "/stats 7d"))
	if !strings.Contains(got, "3 dialogs · replied 3 (100%) · handoffs 1 (33%)") || !strings.Contains(got, "<b>By variant</b>") {
		t.Fatalf("/stats: %s", got)
	}
}

// Long polling: updates served by the API server are answered.
func TestRunLongPolling(t *testing.T) {
	w := newWorld(t)
	w.api.Push(telego.Update{UpdateID: 7, Message: &telego.Message{MessageID: 1, From: &telego.User{ID: managerID},
		Chat: telego.Chat{ID: managerID, Type: telego.ChatTypePrivate}, Text: "/view 1"}})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- w.bot.Run(ctx) }()
	for {
		if w.api.Len() > 0 {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatal("no answer through long polling")
		case <-time.After(10 * time.Millisecond):
		}
	}
	cancel()
	<-done
	if got := text(t, w.api.Take()); !strings.HasPrefix(got, "<b>Dialog 1</b>") {
		t.Fatalf("answer: %s", got)
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	if _, err := adminbot.New(adminbot.Config{Token: token, Sink: projections.NewMemory()}); err == nil {
		t.Fatal("a bot without admins")
	}
	_, err := adminbot.New(adminbot.Config{Token: "secret-but-wrong", Sink: projections.NewMemory(), Admins: map[int64]adminbot.Role{1: adminbot.RoleOwner}})
	if err == nil || strings.Contains(err.Error(), "secret-but-wrong") {
		t.Fatalf("a malformed token: %v", err)
	}
}

// A burst of notices becomes one message per admin; a 429 is waited out.
func TestNoticesAreBatchedAndRespect429(t *testing.T) {
	w := newWorld(t)
	w.api.Limit(1)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	// The burst is queued before the bot runs, so the test does not race
	// the batching window on a busy machine.
	for i := range 50 {
		w.bot.Notify(adminbot.Notice{Kind: "account-flood-wait", Label: "sales-<1>", Text: fmt.Sprintf("wait %d", i), Dialog: int64(i % 2)})
	}
	done := make(chan error, 1)
	go func() { done <- w.bot.Run(ctx) }()
	var sent []botapitest.Call
	start := time.Now()
	for len(sent) < 3 { // the 429, then one message per admin
		if ctx.Err() != nil {
			t.Fatalf("notices not delivered: %+v", sent)
		}
		for _, c := range w.api.Take() {
			if c.Method == "sendMessage" || c.Method == "429" {
				sent = append(sent, c)
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	took := time.Since(start)
	cancel()
	<-done
	var msgs []botapitest.Call
	for _, c := range sent {
		if c.Method == "sendMessage" {
			msgs = append(msgs, c)
		}
	}
	if sent[0].Method != "429" || len(msgs) != 2 || took < time.Second {
		t.Fatalf("want a 429, a wait of a second, then one message per admin: %d calls (%v) in %v", len(sent), sent[0].Method, took)
	}
	for _, m := range msgs {
		txt := m.Params["text"].(string)
		if strings.Count(txt, "• [sales-&lt;1&gt;]") != 50 || !strings.Contains(txt, "wait 49 — /view 1") {
			t.Fatalf("batch: %s", txt)
		}
		if kb, _ := json.Marshal(m.Params["reply_markup"]); !strings.Contains(string(kb), `"callback_data":"view 1"`) {
			t.Fatalf("no button to open the dialog: %s", kb)
		}
	}
}

// Webhook mode: only requests with the secret token are looked at.
func TestWebhookChecksTheSecret(t *testing.T) {
	w := newWorld(t)
	h := serveWebhook(t, w)
	srv := httptest.NewServer(h)
	defer srv.Close()
	body, _ := json.Marshal(telego.Update{UpdateID: 9, Message: &telego.Message{MessageID: 1, From: &telego.User{ID: managerID},
		Chat: telego.Chat{ID: managerID, Type: telego.ChatTypePrivate}, Text: "/view 1"}})
	post := func(secret string) int {
		req, _ := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader(body))
		if secret != "" {
			req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post(""); code != http.StatusUnauthorized || len(w.api.Take()) != 0 {
		t.Fatalf("without the secret: %d", code)
	}
	if code := post("guess"); code != http.StatusUnauthorized || len(w.api.Take()) != 0 {
		t.Fatalf("a wrong secret: %d", code)
	}
	if code := post(adminbot.WebhookSecret(h)); code != http.StatusOK {
		t.Fatalf("with the secret: %d", code)
	}
	var calls []botapitest.Call
	for deadline := time.Now().Add(5 * time.Second); len(calls) == 0 && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		calls = w.api.Take()
	}
	if got := text(t, calls); !strings.HasPrefix(got, "<b>Dialog 1</b>") {
		t.Fatalf("answer: %s", got)
	}
	// Telegram sending the same update again gets no second answer.
	if code := post(adminbot.WebhookSecret(h)); code != http.StatusOK {
		t.Fatalf("a repeat: %d", code)
	}
	time.Sleep(100 * time.Millisecond)
	if calls := w.api.Take(); len(calls) != 0 {
		t.Fatalf("a repeated update was answered again: %+v", calls)
	}
}

// A handoff notice brings the lead card.
func TestHandoffNoticeBringsTheCard(t *testing.T) {
	w := newWorld(t)
	w.bot.Notify(adminbot.Notice{Kind: "handoff", Label: "sales-1", Dialog: 2, Text: "dialog 2 is handed to a manager: score 70 ≥ 70"})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- w.bot.Run(ctx) }()
	var texts []string
	for len(texts) < 4 && ctx.Err() == nil { // two admins: the notice and the card each
		for _, c := range w.api.Take() {
			if c.Method == "sendMessage" {
				texts = append(texts, c.Params["text"].(string))
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	if len(texts) != 4 || !strings.Contains(texts[0], "handed to a manager") || !strings.HasPrefix(texts[1], "<b>Dialog 2</b>") {
		t.Fatalf("sent %q", texts)
	}
}

// webLinks is a fake of the sign-in links: it records who asked.
type webLinks struct {
	mu    sync.Mutex
	asked []string
}

func (l *webLinks) Link(_ context.Context, admin int64, role adminbot.Role) (string, time.Time, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.asked = append(l.asked, fmt.Sprintf("%d:%v", admin, role))
	return fmt.Sprintf("https://crm.example/web/signin?t=sbl_%d&x=<b>", admin), t0.Add(10 * time.Minute), nil
}

// /web sends an admin their own sign-in link, with their role.
func TestWebLink(t *testing.T) {
	w := newWorld(t)
	for _, c := range []struct {
		id   int64
		role adminbot.Role
	}{{ownerID, adminbot.RoleOwner}, {managerID, adminbot.RoleManager}} {
		got := text(t, w.say(c.id, "/web"))
		if !strings.Contains(got, fmt.Sprintf("https://crm.example/web/signin?t=sbl_%d&amp;x=&lt;b&gt;", c.id)) || !strings.Contains(got, "10:10") {
			t.Errorf("/web of %d: %q", c.id, got)
		}
	}
	want := []string{fmt.Sprintf("%d:%v", ownerID, adminbot.RoleOwner), fmt.Sprintf("%d:%v", managerID, adminbot.RoleManager)}
	if fmt.Sprint(w.links.asked) != fmt.Sprint(want) {
		t.Errorf("links asked for %v, want %v", w.links.asked, want)
	}
}
