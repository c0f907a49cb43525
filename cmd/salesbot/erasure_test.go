package main

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/mymmrac/telego"
	openai "github.com/sashabaranov/go-openai"

	"github.com/salesbot/salesbot/adapters/adminbot"
	"github.com/salesbot/salesbot/adapters/adminbot/botapitest"
	"github.com/salesbot/salesbot/adapters/llm/openaitest"
	"github.com/salesbot/salesbot/adapters/telegram/telegramtest"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/projections"
	"github.com/salesbot/salesbot/projections/sinktest"
)

// The person the erasure test talks to and then erases.
const (
	erasedUser  = "zoltana_qx"
	erasedFirst = "Zoltana"
	erasedLast  = "Quixwell"
	erasedPhone = "+49 170 5550123"
	erasedMsg1  = "Hello, Zoltana here from the Quedlinburg kvass brewery"
	erasedMsg2  = "Please call me back about the kvass brewery tomorrow"
	erasedTag   = "quixfair" // tags are not personal: readable after erasure, by design
)

// erasedTerms are what must not be readable anywhere once the person is
// forgotten: the username, the name, the phone (as imported and as
// digits) and the texts of the messages (theirs, and the assistant's,
// which name them).
var erasedTerms = []string{erasedUser, erasedFirst, erasedLast, "+491705550123", "1705550123", erasedMsg1, erasedMsg2, "Quedlinburg", "kvass"}

// After 'contacts forget', nothing of the person is readable: not in any
// PostgreSQL table, not in the Pebble data dir (keys and values, WAL and
// sstables, read as raw files), not in the process logs, not in any export
// (the admin bot's /export and /export_all, 'replay dialog N'). Before it,
// the same search finds them, so the search can fail.
func TestForgetLeavesNothingReadable(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the sandbox with the dialog engine")
	}
	const token = "123456:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	api := botapitest.New(t, token)
	model := openaitest.New()
	defer model.Close()
	model.Func(func(req openai.ChatCompletionRequest) openaitest.Step {
		last := req.Messages[len(req.Messages)-1].Content
		switch {
		case strings.Contains(last, "<lead_messages>") && !strings.Contains(last, "Quedlinburg"): // the sandbox's strangers
			return openaitest.ReplyJSON(domain.TurnOutput{Reply: "Happy to help. What does your team need?", NextStage: domain.StageDiscovery, Score: 10})
		case !strings.Contains(last, "Quedlinburg"): // the opening
			return openaitest.ReplyJSON(domain.TurnOutput{Reply: "Hello " + erasedFirst + ", I am the AI assistant of Acme. What does your team need?",
				NextStage: domain.StageDiscovery, Score: 10})
		}
		// The lead's words in a qualification quote and in the handoff
		// reason, as a model writes them.
		return openaitest.ReplyJSON(domain.TurnOutput{Reply: "Thank you, " + erasedFirst + ". A colleague will call you about the kvass brewery.",
			NextStage: domain.StageDiscovery, Score: 80,
			Qualification: []domain.FieldUpdate{{Name: "need", Value: "forecasts for the Quedlinburg kvass brewery", Quote: erasedMsg1, Confidence: 0.9}},
			HandoffReason: erasedFirst + " " + erasedLast + " asks for a call about the Quedlinburg kvass brewery"})
	})
	dsn := sinktest.NewSchema(t)
	env := map[string]string{"SALESBOT_POSTGRES_DSN": dsn}
	dir := t.TempDir()
	var logs strings.Builder // everything the processes wrote
	cli := func(args ...string) result {
		t.Helper()
		r := run(t, env, args...)
		logs.WriteString(r.stdout + r.stderr)
		return r
	}

	// The person is imported from a business card (the source names them,
	// as a manager's note may), then written to through the admin bot's
	// /start; the model hands them to a manager.
	card := csvFile(t, t.TempDir(), "card.csv", "username,phone,name,tags\n"+erasedUser+","+erasedPhone+","+erasedFirst+" "+erasedLast+","+erasedTag+"\n")
	if r := cli("contacts", "import", card, "--data-dir", dir, "--source", "business card of "+erasedFirst+" "+erasedLast, "--basis", "consent"); r.code != 0 {
		t.Fatalf("import: %+v", r)
	}
	userID := runUntilHandedOff(t, dir, dsn, api, token, model.URL(), &logs)

	n := dialogOf(t, dsn, erasedUser)
	exports := func() map[string]string {
		out := botExports(t, dsn, n)
		for _, args := range [][]string{{"replay", "dialog", strconv.FormatInt(n, 10)}, {"replay", "dialog", strconv.FormatInt(n, 10), "--json"}} {
			r := run(t, env, append(args, "--data-dir", dir)...)
			logs.WriteString(r.stderr) // its output is the export
			if r.code != 0 {
				t.Fatalf("%v: %+v", args, r)
			}
			out[strings.Join(args, " ")] = r.stdout
		}
		return out
	}
	search := func() map[string]map[string]string {
		return map[string]map[string]string{
			"postgres": pgRows(t, dsn),
			"data dir": dirFiles(t, dir),
			"logs":     {"stdout and stderr": logs.String()},
			"exports":  exports(),
		}
	}

	// Before: the search finds the person, in each place it looks.
	before := search()
	found := findTerms(before, erasedTerms)
	for _, term := range erasedTerms {
		if len(found[term]) == 0 {
			t.Errorf("before the erasure %q is found nowhere: the search is blind", term)
		}
	}
	for where, terms := range map[string][]string{
		"postgres": {erasedUser, erasedFirst + " " + erasedLast, "+491705550123", erasedMsg1, erasedMsg2},
		"exports":  {erasedUser, erasedMsg1, erasedMsg2},
		"data dir": {erasedTag}, // the raw files are read: a tag (not personal) is in clear
		"logs":     {"inbound", "salesbot: running"},
	} {
		got := findTerms(map[string]map[string]string{where: before[where]}, terms)
		for _, term := range terms {
			if len(got[term]) == 0 {
				t.Errorf("before the erasure the search of the %s does not find %q", where, term)
			}
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	// The Telegram user id is never in clear in the data dir (the keys of
	// peers' access hashes are keyed hashes).
	uid := strconv.FormatInt(userID, 10)
	if got := findTerms(map[string]map[string]string{"data dir": before["data dir"]}, []string{uid}); len(got[uid]) > 0 {
		t.Errorf("before the erasure the Telegram user id %s is in clear in %v", uid, got[uid])
	}

	r := cli("contacts", "forget", "@"+erasedUser, "--data-dir", dir)
	if r.code != 0 || !strings.Contains(r.stdout, "erased") {
		t.Fatalf("forget: %+v", r)
	}
	if !strings.Contains(r.stdout, "PostgreSQL read models updated") {
		t.Errorf("forget does not say it updated the PostgreSQL read models: %q", r.stdout)
	}

	// After: nowhere. PostgreSQL is searched at once, before any 'run'.
	after := search()
	for term, places := range findTerms(after, append(slices.Clone(erasedTerms), uid)) {
		t.Errorf("after the erasure %q is still readable in %s", term, strings.Join(places, ", "))
	}
	// What stays, by design: the contact, on the do-not-contact list, and
	// its tag; and the log is intact.
	if got := findTerms(map[string]map[string]string{"postgres": after["postgres"]}, []string{erasedTag, "[forgotten]"}); len(got["[forgotten]"]) == 0 {
		t.Error("postgres holds no [forgotten] row: the rows were deleted, not blanked")
	}
	if r := cli("verify", "--data-dir", dir); r.code != 0 {
		t.Fatalf("verify after the erasure: %+v", r)
	}
	again := csvFile(t, t.TempDir(), "again.csv", "username,phone\n"+erasedUser+",\n,"+erasedPhone+"\n")
	if r, rep := importRun(t, dir, again); r.code != 0 || rep.Erased != 2 || rep.Accepted != 0 {
		t.Fatalf("the erased person imported again: %+v %+v", r, rep)
	}
}

// runUntilHandedOff runs 'run --sandbox' with the admin bot, PostgreSQL
// and the model at modelURL; a manager /starts the person, who answers
// twice, and the model hands them off. It stops once PostgreSQL shows the
// handoff and both answers, and returns the person's Telegram user id.
func runUntilHandedOff(t *testing.T, dir, dsn string, api *botapitest.Server, token, modelURL string, logs *strings.Builder) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var out, errb bytes.Buffer
	getenv := func(k string) string {
		return map[string]string{"SALESBOT_POSTGRES_DSN": dsn, "SALESBOT_LLM_BASE_URL": modelURL, "SALESBOT_LLM_MODEL": "fake-model"}[k]
	}
	a := newApp(strings.NewReader(""), &out, &errb, getenv)
	var userID int64
	pushed := 0
	say := func(text string) {
		pushed++
		api.Push(telego.Update{UpdateID: pushed, Message: &telego.Message{MessageID: pushed, From: &telego.User{ID: 42},
			Chat: telego.Chat{ID: 42, Type: telego.ChatTypePrivate}, Text: text}})
	}
	done := make(chan struct{})
	a.onSandbox = func(sb *telegramtest.Sandbox) {
		u, err := sb.AddPersona(telegramtest.UserSpec{Username: erasedUser, FirstName: erasedFirst, LastName: erasedLast},
			telegramtest.Persona{Reply: telegramtest.Script(erasedMsg1, erasedMsg2), Delay: 300 * time.Millisecond})
		if err != nil {
			t.Error(err)
			cancel()
			return
		}
		userID = u.ID
		say("/start @" + erasedUser)
		go func() {
			defer close(done)
			opened := false
			for ctx.Err() == nil {
				for _, c := range api.Take() {
					text := fmt.Sprint(c.Params["text"])
					switch {
					case c.Method != "sendMessage" || opened:
					case strings.Contains(text, "No account is connected") || strings.Contains(text, "no account can open a dialog now"):
						say("/start @" + erasedUser) // asked before the accounts were up
					case strings.Contains(text, "opened with"):
						opened = true
					case !strings.HasPrefix(text, "<b>salesbot</b>"):
						t.Errorf("/start answered %q", text)
						cancel()
						return
					}
				}
				if opened && handedOff(ctx, dsn) {
					cancel()
					return
				}
				time.Sleep(100 * time.Millisecond)
			}
		}()
	}
	code := a.main(ctx, []string{"run", "--sandbox", "--sandbox-leads", "0", "--data-dir", dir,
		"--bot-token", token, "--bot-api-url", api.URL(), "--admin-ids", "42:owner"})
	logs.WriteString(out.String() + errb.String())
	if code != 0 {
		t.Fatalf("run: exit %d\n%s", code, lastLines(errb.String(), 30))
	}
	<-done
	if !handedOff(context.Background(), dsn) {
		t.Fatalf("the dialog was not handed off with both answers recorded:\n%s", lastLines(errb.String(), 30))
	}
	return userID
}

// handedOff says whether PostgreSQL shows a dialog handed off with two
// messages from the lead.
func handedOff(ctx context.Context, dsn string) bool {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return false
	}
	defer conn.Close(context.Background())
	var ok bool
	err = conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM dialogs d JOIN contacts c ON c.id = d.contact_id
		WHERE c.username = $1 AND d.handoff_at IS NOT NULL AND d.inbound >= 2)`, erasedUser).Scan(&ok)
	return err == nil && ok
}

// dialogOf is the number of the dialog with the contact of username.
func dialogOf(t *testing.T, dsn, username string) int64 {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int64
	err = conn.QueryRow(t.Context(), `SELECT d.n FROM dialogs d JOIN contacts c ON c.id = d.contact_id WHERE c.username = $1`, username).Scan(&n)
	if err != nil {
		t.Fatalf("the dialog of @%s: %v", username, err)
	}
	return n
}

// pgRows returns every row of every table in the DSN's schema, each as
// text (all its columns), by table.
func pgRows(t *testing.T, dsn string) map[string]string {
	t.Helper()
	ctx := t.Context()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(ctx, `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(tables, "dialogs") || !slices.Contains(tables, "contacts") {
		t.Fatalf("tables %v: not the read models' schema", tables)
	}
	out := map[string]string{}
	for _, table := range tables {
		rows, err := conn.Query(ctx, `SELECT t::text FROM `+pgx.Identifier{table}.Sanitize()+` t`)
		if err != nil {
			t.Fatal(err)
		}
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		out[table] = strings.Join(lines, "\n")
	}
	return out
}

// dirFiles returns the bytes of every file under dir (Pebble's WAL,
// sstables, MANIFEST, OPTIONS, and the rest), by path.
func dirFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		out[strings.TrimPrefix(path, dir)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) < 3 {
		t.Fatalf("the data dir holds %d files", len(out))
	}
	return out
}

// botExports asks an admin bot on the PostgreSQL read models for /export
// n and /export_all, and returns the documents it sends (the .zip's files
// one by one), by name.
func botExports(t *testing.T, dsn string, n int64) map[string]string {
	t.Helper()
	const token = "654321:BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"
	ctx := t.Context()
	api := botapitest.New(t, token)
	sink, err := projections.OpenPostgres(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	bot, err := adminbot.New(adminbot.Config{Token: token, APIURL: api.URL(), Admins: map[int64]adminbot.Role{42: adminbot.RoleOwner}, Sink: sink})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for i, cmd := range []string{fmt.Sprintf("/export %d", n), "/export_all"} {
		bot.Handle(ctx, telego.Update{UpdateID: i + 1, Message: &telego.Message{MessageID: i + 1, From: &telego.User{ID: 42},
			Chat: telego.Chat{ID: 42, Type: telego.ChatTypePrivate}, Text: cmd}})
		var doc *botapitest.Call
		for deadline := time.Now().Add(30 * time.Second); doc == nil && time.Now().Before(deadline); {
			for _, c := range api.Take() {
				if c.Method == "sendDocument" {
					doc = &c
				}
			}
			time.Sleep(20 * time.Millisecond)
		}
		if doc == nil || len(doc.Data) == 0 {
			t.Fatalf("%s sent no document", cmd)
		}
		if !strings.HasSuffix(doc.File, ".zip") {
			out[cmd+" "+doc.File] = string(doc.Data)
			continue
		}
		zr, err := zip.NewReader(bytes.NewReader(doc.Data), int64(len(doc.Data)))
		if err != nil {
			t.Fatalf("%s: %v", cmd, err)
		}
		for _, f := range zr.File {
			rc, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(rc)
			rc.Close()
			if err != nil {
				t.Fatal(err)
			}
			out[cmd+" "+doc.File+"/"+f.Name] = string(b)
		}
	}
	return out
}

// findTerms says where each term is found (case folded): "postgres
// contacts", "data dir /000004.log", ...; terms found nowhere are left out.
func findTerms(places map[string]map[string]string, terms []string) map[string][]string {
	out := map[string][]string{}
	for where, docs := range places {
		for name, doc := range docs {
			doc = strings.ToLower(doc)
			for _, term := range terms {
				if strings.Contains(doc, strings.ToLower(term)) {
					out[term] = append(out[term], where+" "+name)
				}
			}
		}
	}
	for _, l := range out {
		slices.Sort(l)
	}
	return out
}
