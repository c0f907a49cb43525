package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/salesbot/salesbot/adapters/cli/datadir"

	"github.com/mymmrac/telego"

	"github.com/salesbot/salesbot/adapters/adminbot/botapitest"
	"github.com/salesbot/salesbot/adapters/app/demo"
	"github.com/salesbot/salesbot/adapters/eventlog"
	"github.com/salesbot/salesbot/adapters/telegram/telegramtest"
	"github.com/salesbot/salesbot/domain"
)

// runWith runs the CLI with Telegram pointed at a sandbox and stdin given.
func runWith(t *testing.T, sb *telegramtest.Sandbox, stdin string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	a := newApp(strings.NewReader(stdin), &out, &errb, func(string) string { return "" })
	if sb != nil {
		opts := sb.ClientOptions()
		a.telegram = &opts
	}
	code := a.main(context.Background(), args)
	return result{code, out.String(), errb.String()}
}

func TestAccountsAddListRemove(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sb, err := telegramtest.New(ctx, telegramtest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	dir := t.TempDir()
	if _, err := sb.AddUser(telegramtest.UserSpec{Phone: "+15550001111", Username: "acme_one", FirstName: "Acme", Password: "pw"}); err != nil {
		t.Fatal(err)
	}
	// The code arrives in the app after sendCode, so stdin gets it through
	// a reader that asks the sandbox when read.
	var out, errb bytes.Buffer
	a := newApp(&codeReader{sb: sb, phone: "+15550001111", password: "pw"}, &out, &errb, func(string) string { return "" })
	opts := sb.ClientOptions()
	a.telegram = &opts
	if code := a.main(ctx, []string{"accounts", "add", "--data-dir", dir, "--label", "sales-1", "--phone", "+15550001111", "--tz", "Europe/Berlin"}); code != 0 {
		t.Fatalf("add: %d %s %s", code, out.String(), errb.String())
	}
	if !strings.Contains(out.String(), "signed in as Acme (@acme_one)") || !strings.Contains(errb.String(), "Login code") || !strings.Contains(errb.String(), "2FA password") {
		t.Fatalf("add said: %s / %s", out.String(), errb.String())
	}
	r := runWith(t, sb, "", "accounts", "list", "--data-dir", dir)
	if r.code != 0 || !strings.Contains(r.stdout, "sales-1") || !strings.Contains(r.stdout, "registered") || !strings.Contains(r.stdout, "yes") {
		t.Fatalf("list: %+v", r)
	}
	id := strings.Fields(strings.Split(r.stdout, "\n")[1])[0]

	// Bad input gets one line and exit 2.
	for _, args := range [][]string{
		{"accounts", "add", "--data-dir", dir, "--label", "x"},
		{"accounts", "add", "--data-dir", dir, "--phone", "+1"},
		{"accounts", "add", "--data-dir", dir, "--label", "x", "--phone", "+1", "--qr"},
		{"accounts", "add", "--data-dir", dir, "--label", "x", "--phone", "+1", "--hours", "9-5"},
		{"accounts", "add", "--data-dir", dir, "--label", "x", "--phone", "+1", "--tz", "Mars/Olympus"},
		{"accounts", "remove", "--data-dir", dir, "not-an-id"},
	} {
		if r := runWith(t, sb, "", args...); r.code != 2 || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
			t.Errorf("%v: %+v", args, r)
		}
	}
	// Without a sandbox the real Telegram needs the API credentials.
	if r := runWith(t, nil, "", "accounts", "add", "--data-dir", dir, "--label", "x", "--phone", "+1"); r.code != 2 || !strings.Contains(r.stderr, "my.telegram.org") {
		t.Fatalf("no credentials: %+v", r)
	}

	r = runWith(t, sb, "", "accounts", "remove", id, "--data-dir", dir)
	if r.code != 0 {
		t.Fatalf("remove: %+v", r)
	}
	r = runWith(t, sb, "", "accounts", "list", "--data-dir", dir, "--json")
	if !strings.Contains(r.stdout, `"status": "removed"`) || !strings.Contains(r.stdout, `"session": false`) {
		t.Fatalf("list after remove: %+v", r)
	}
}

// codeReader answers the login prompts: the code from the sandbox, then
// the password.
type codeReader struct {
	sb       *telegramtest.Sandbox
	phone    string
	password string
	buf      []byte
	n        int
}

func (c *codeReader) Read(p []byte) (int, error) {
	if len(c.buf) == 0 {
		c.n++
		switch c.n {
		case 1:
			c.buf = []byte(c.sb.LoginCode(c.phone) + "\n")
		case 2:
			c.buf = []byte(c.password + "\n")
		default:
			return 0, nil
		}
	}
	n := copy(p, c.buf)
	c.buf = c.buf[n:]
	return n, nil
}

// 'run --sandbox' signs three accounts in, writes to the leads, records
// their answers and the strangers' messages, and stops cleanly.
func TestRunSandbox(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var out, errb bytes.Buffer
	a := newApp(strings.NewReader(""), &out, &errb, func(string) string { return "" })
	a.onSandbox = func(sb *telegramtest.Sandbox) {
		go func() {
			// Stop once every lead with a script has answered and the
			// strangers' messages are in.
			for ctx.Err() == nil {
				if answered(sb, 3) {
					time.Sleep(500 * time.Millisecond) // let the last answers be recorded
					cancel()
					return
				}
				time.Sleep(50 * time.Millisecond)
			}
		}()
	}
	code := a.main(ctx, []string{"run", "--sandbox", "--sandbox-leads", "3", "--data-dir", dir})
	if code != 0 {
		t.Fatalf("run: %d %s", code, errb.String())
	}
	st, err := a.openStore(context.Background(), datadir.Existing)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	counts := map[string]int{}
	recs, err := st.ReadAll(context.Background(), 1, 100000)
	if err != nil {
		t.Fatal(err)
	}
	ev := eventlog.New(st)
	for i := range recs {
		e, err := ev.Decode(&recs[i])
		if err != nil {
			t.Fatal(err)
		}
		counts[e.EventType()]++
		if d, ok := e.(domain.DialogStarted); ok && d.By == "inbound" {
			counts["inbound dialogs"]++
		}
	}
	if counts["AccountRegistered"] != 3 || counts["AccountDisconnected"] < 3 || counts["DialogStarted"] != 5 || counts["inbound dialogs"] != 2 || counts["OutboundSent"] < 3 || counts["InboundReceived"] < 5 {
		t.Fatalf("events: %v\n%s", counts, errb.String())
	}
	if rep, err := st.Verify(context.Background(), nil); err != nil {
		t.Fatalf("verify: %v %+v", err, rep)
	}
}

// answered says whether the first n leads answered and both strangers
// wrote.
func answered(sb *telegramtest.Sandbox, n int) bool {
	for i := 1; i <= n; i++ {
		lead, err := sb.Lookup(demo.LeadUsername(i))
		if err != nil {
			return false
		}
		got := false
		for j := 1; j <= 3; j++ {
			acc, err := sb.Lookup(demo.AccountUsername(j))
			if err != nil {
				return false
			}
			for _, m := range sb.Messages(lead.ID, acc.ID) {
				if m.Out {
					got = true
				}
			}
		}
		if !got {
			return false
		}
	}
	return true
}

// 'run' serves the admin bot: a scripted conversation, each command
// answered from the live read models or through the running accounts.
func TestRunServesTheAdminBot(t *testing.T) {
	const token = "123456:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	api := botapitest.New(t, token)
	script := []struct{ say, want string }{
		{"/optout @stranger_1", "@stranger_1 is on the do-not-contact list"},
		{"/start @fresh_lead met at the fair", "opened with @fresh_lead"},
		{"/start @fresh_lead", "already has an open dialog"},
		{"/start @nobody_here", "No Telegram user has that username"},
		{"/pause_all", "Paused 3 accounts"},
		{"/resume sales-2", "Account sales-2 resumed"},
		{"/account_remove sales-3", "Account sales-3 is logged out and removed"},
		{"/accounts", "<b>sales-1</b>"},
	}
	step, pushed := 0, 0
	say := func() {
		pushed++ // update ids only grow: telego skips one it has seen
		api.Push(telego.Update{UpdateID: pushed, Message: &telego.Message{MessageID: pushed, From: &telego.User{ID: 42},
			Chat: telego.Chat{ID: 42, Type: telego.ChatTypePrivate}, Text: script[step].say}})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var out, errb bytes.Buffer
	a := newApp(strings.NewReader(""), &out, &errb, func(string) string { return "" })
	var answers []string
	a.onSandbox = func(sb *telegramtest.Sandbox) {
		if _, err := sb.AddPersona(telegramtest.UserSpec{Username: "fresh_lead"}, telegramtest.Persona{Reply: telegramtest.Script("hi")}); err != nil {
			t.Error(err)
		}
		say()
		go func() {
			for ctx.Err() == nil {
				for _, c := range api.Take() {
					if c.Method != "sendMessage" {
						continue
					}
					text := fmt.Sprint(c.Params["text"])
					if strings.HasPrefix(text, "<b>salesbot</b>\n•") {
						continue // a notice, not an answer
					}
					if strings.Contains(text, "No account is connected") || strings.Contains(text, "no account can open a dialog now") {
						say() // asked before the accounts were up: ask again
						continue
					}
					answers = append(answers, text)
					if !strings.Contains(text, script[step].want) {
						t.Errorf("%s: got %q, want %q", script[step].say, text, script[step].want)
					}
					if step++; step == len(script) {
						cancel()
						return
					}
					say()
				}
				time.Sleep(20 * time.Millisecond)
			}
		}()
	}
	code := a.main(ctx, []string{"run", "--sandbox", "--sandbox-leads", "0", "--data-dir", t.TempDir(),
		"--bot-token", token, "--bot-api-url", api.URL(), "--admin-ids", "42:owner"})
	if code != 0 {
		t.Fatalf("run: %d %s", code, errb.String())
	}
	if len(answers) != len(script) {
		t.Fatalf("%d answers of %d: %q", len(answers), len(script), answers)
	}
	if strings.Contains(errb.String(), token) {
		t.Fatal("the bot token was logged")
	}
	var help bytes.Buffer
	h := newApp(strings.NewReader(""), &help, &help, func(k string) string {
		return map[string]string{"SALESBOT_BOT_TOKEN": token, "SALESBOT_TG_APP_HASH": "hash-secret"}[k]
	})
	if h.main(context.Background(), []string{"run", "--help"}); strings.Contains(help.String(), token) || strings.Contains(help.String(), "hash-secret") {
		t.Fatalf("run --help shows a secret:\n%s", help.String())
	}
	for _, bad := range [][]string{
		{"--bot-token", token},
		{"--bot-token", token, "--admin-ids", "alice"},
		{"--bot-token", token, "--admin-ids", "42:king"},
		{"--bot-token", token, "--admin-ids", "42", "--bot-api-url", "ftp://x"},
		{"--bot-token", token, "--admin-ids", "42", "--bot-webhook-url", "http://example.com/hook"},
	} {
		args := append([]string{"run", "--sandbox", "--data-dir", t.TempDir()}, bad...)
		if r := runWith(t, nil, "", args...); r.code != 2 || !strings.Contains(r.stderr, "SALESBOT_") {
			t.Errorf("%v: %+v", bad, r)
		}
	}
}

// An owner adds an account from the bot: phone and label, then the code
// (deleted from the chat once read); the account connects at once.
func TestAccountAddFromTheBot(t *testing.T) {
	const token = "123456:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	api := botapitest.New(t, token)
	say := func(id int, text string) {
		api.Push(telego.Update{UpdateID: id, Message: &telego.Message{MessageID: 100 + id, From: &telego.User{ID: 42},
			Chat: telego.Chat{ID: 42, Type: telego.ChatTypePrivate}, Text: text}})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var out, errb bytes.Buffer
	a := newApp(strings.NewReader(""), &out, &errb, func(string) string { return "" })
	var log []string
	deleted := map[string]bool{}
	a.onSandbox = func(sb *telegramtest.Sandbox) {
		if _, err := sb.AddUser(telegramtest.UserSpec{Phone: "+15557770001", FirstName: "New", Username: "acme_new"}); err != nil {
			t.Error(err)
		}
		say(1, "/account_add")
		go func() {
			for ctx.Err() == nil {
				for _, c := range api.Take() {
					text := fmt.Sprint(c.Params["text"])
					if c.Method == "deleteMessage" {
						deleted[fmt.Sprint(c.Params["message_id"])] = true
					}
					if c.Method != "sendMessage" {
						continue
					}
					log = append(log, text)
					switch {
					case strings.Contains(text, "phone number in international format"):
						say(2, "+15557770001 sales-4")
					case strings.Contains(text, "login code"):
						code := sb.LoginCode("+15557770001")
						say(3, strings.Join(strings.Split(code, ""), " "))
					case strings.Contains(text, "Account sales-4 added"):
						say(4, "/accounts")
					case strings.Contains(text, "<b>sales-4</b>"):
						cancel()
						return
					}
				}
				time.Sleep(20 * time.Millisecond)
			}
		}()
	}
	code := a.main(ctx, []string{"run", "--sandbox", "--sandbox-leads", "0", "--data-dir", t.TempDir(),
		"--bot-token", token, "--bot-api-url", api.URL(), "--admin-ids", "42:owner"})
	if code != 0 {
		t.Fatalf("run: %d %s", code, errb.String())
	}
	all := strings.Join(log, "\n---\n")
	if !strings.Contains(all, "signed in as New @acme_new") || !strings.Contains(all, "<b>sales-4</b>") {
		t.Fatalf("the conversation:\n%s", all)
	}
	if !deleted["103"] {
		t.Fatalf("the code message was not deleted: %v", deleted)
	}
}
