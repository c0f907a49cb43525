package adminbot_test

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/mymmrac/telego"

	"github.com/salesbot/salesbot/adapters/adminbot"
	"github.com/salesbot/salesbot/adapters/adminbot/botapitest"
	"github.com/salesbot/salesbot/adapters/app/contacts"
	"github.com/salesbot/salesbot/domain"
)

// importer is the bot's Importer on the real contacts import, as the
// wiring gives it (cmd/salesbot/botports.go); tests may import the
// application service (cmd/layers/rules.go, testUpward).
type importer struct{ h domain.Handlers }

var (
	_ adminbot.Importer     = importer{}
	_ adminbot.ContactsFile = contactsFile{}
)

func (i importer) Check(r io.Reader) (adminbot.ContactsFile, error) {
	f, err := contacts.Parse(r)
	if err != nil {
		return nil, err
	}
	return contactsFile{i.h, f}, nil
}

type contactsFile struct {
	h domain.Handlers
	f *contacts.File
}

func (f contactsFile) Rows() int { return len(f.f.Rows) }

func (f contactsFile) Import(ctx context.Context, basis domain.Basis, note string, maxRejected int) (adminbot.ImportReport, error) {
	rep, err := contacts.Apply(ctx, f.h, f.f, contacts.Options{Basis: basis, Note: note})
	return adminbot.ImportReport{Rows: rep.Rows, Text: rep.Text(maxRejected)}, err
}

// send sends a document with a caption from user to the bot and returns
// the calls it made.
func (w *world) send(user int64, caption string, doc *telego.Document) []botapitest.Call {
	w.t.Helper()
	w.bot.Handle(context.Background(), telego.Update{UpdateID: 3, Message: &telego.Message{
		MessageID: 7, From: &telego.User{ID: user, FirstName: "Maria"}, Chat: telego.Chat{ID: user, Type: telego.ChatTypePrivate},
		Caption: caption, Document: doc}})
	w.catchUp()
	return w.api.Take()
}

// messages are the texts of the messages sent among calls.
func messages(calls []botapitest.Call) []string {
	var out []string
	for _, c := range calls {
		if c.Method == "sendMessage" {
			out = append(out, c.Params["text"].(string))
		}
	}
	return out
}

func TestImport(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	// The seeded anna_k is on the do-not-contact list; boris_b is a contact.
	anna, _ := w.sink.DialogByN(ctx, 1)
	w.must(w.h.Contact(ctx, anna.ContactID, domain.OptOutContact{Reason: "stop", By: "lead"}))
	if _, err := contacts.Reindex(ctx, w.store, w.h); err != nil {
		t.Fatal(err)
	}
	csv := "\xef\xbb\xbfusername;phone;name;tags\r\n@anna_k;;Anna;vip\r\nboris_b;;Boris;vip\r\nnew_lead;+49 151 1234 5678;Neu;vip\r\nab;;Bad;\r\n"
	var b strings.Builder
	b.WriteString(csv)
	for i := range 16 {
		fmt.Fprintf(&b, "lead_%04d;;Lead %d;\r\n", i, i)
	}
	doc := w.api.AddFile("fair.csv", []byte(b.String()))
	calls := w.send(managerID, "/import consent visitors of the Berlin fair", doc)
	if len(calls) < 3 || calls[0].Method != "getFile" || calls[1].Method != "file" {
		t.Fatalf("calls %+v", calls)
	}
	got := messages(calls)
	if len(got) != 1 {
		t.Fatalf("answers %q", got)
	}
	for _, want := range []string{"<b>Imported fair.csv</b>", "20 rows", "accepted  17 new contacts", "merged    1 duplicate", "skipped   1 on the do-not-contact list",
		"rejected  1", `line 5: username &quot;ab&quot; is not 5 to 32 letters`} {
		if !strings.Contains(got[0], want) {
			t.Errorf("the report lacks %q:\n%s", want, got[0])
		}
	}
	id, found, _ := w.h.ContactOfUsername(ctx, "new_lead")
	if !found {
		t.Fatal("new_lead was not imported")
	}
	c, _ := w.h.LoadContact(ctx, id)
	evs, _, _ := w.h.Log.Load(ctx, domain.ContactStream(id))
	if c.Basis != domain.BasisConsent || c.Source != domain.SourceImport || c.Phone != "+4915112345678" ||
		evs[0].(domain.ContactAdded).Note != fmt.Sprintf("visitors of the Berlin fair (file fair.csv, by admin:%d)", managerID) {
		t.Fatalf("new contact %+v %+v", c, evs[0])
	}
	if a, _ := w.h.LoadContact(ctx, anna.ContactID); a.HasTag("vip") {
		t.Fatal("an opted-out contact was merged into")
	}

	// Again: all duplicates.
	got = messages(w.send(ownerID, "/import consent", w.api.AddFile("fair.csv", []byte(b.String()))))
	if len(got) != 1 || !strings.Contains(got[0], "accepted  0 new contacts") || !strings.Contains(got[0], "merged    18 duplicates") {
		t.Fatalf("second import: %q", got)
	}
}

func TestImportRefusals(t *testing.T) {
	w := newWorld(t)
	good := []byte("username\nlead_0001\n")
	cases := []struct {
		name    string
		caption string
		doc     *telego.Document
		want    string
	}{
		{"no basis", "/import", w.api.AddFile("a.csv", good), "say the lawful basis of the contacts: consent, contract or legitimate-interest. Usage: /import consent|contract|legitimate-interest [source]"},
		{"a bad basis", "/import because", w.api.AddFile("a.csv", good), "&quot;because&quot; is not consent"},
		{"no caption", "", w.api.AddFile("a.csv", good), "send the .csv file with a caption like"},
		{"not a CSV", "/import consent", &telego.Document{FileID: "x", FileName: "leads.xlsx", MimeType: "application/vnd.ms-excel", FileSize: 10}, "leads.xlsx is not a .csv file"},
		{"too large", "/import consent", &telego.Document{FileID: "x", FileName: "big.csv", FileSize: 21 << 20}, "big.csv is 21.0 MB; the bot takes files up to 20 MB"},
		{"gone from Telegram", "/import consent", &telego.Document{FileID: "nope", FileName: "gone.csv"}, "Could not fetch the file from Telegram"},
		{"broken CSV", "/import consent", w.api.AddFile("broken.csv", []byte("username,name\nlead_0001,Bo\"b\n")),
			"<b>broken.csv</b>: the file is not valid CSV: line 2, column 13: bare &quot; in non-quoted-field; nothing was imported."},
		{"too many rejected", "/import contract", w.api.AddFile("bad.csv", []byte("username\nlead_0001\nbad.1\nbad.2\n")),
			"<b>Nothing was imported from bad.csv</b>: too many rejected rows: 2 of 3 (66.7%), more than the 5% allowed. Fix the file and send it again"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := messages(w.send(managerID, c.caption, c.doc))
			if len(got) != 1 || !strings.Contains(strings.ToLower(got[0]), strings.ToLower(c.want)) {
				t.Fatalf("answers %q, want %q", got, c.want)
			}
		})
	}
	if _, found, _ := w.h.ContactOfUsername(context.Background(), "lead_0001"); found {
		t.Fatal("a refused import recorded a contact")
	}
	// Without a file.
	if got := text(t, w.say(managerID, "/import consent fair")); !strings.Contains(got, "Send the .csv file with the command as its caption") {
		t.Fatalf("/import without a file: %s", got)
	}
	// Strangers get nothing, files or not.
	if calls := w.send(strangerI, "/import consent", w.api.AddFile("a.csv", good)); len(calls) != 0 {
		t.Fatalf("a stranger got %+v", calls)
	}
}

// A big file is imported in the background: the bot answers at once and
// sends the report when it is done.
func TestImportInTheBackground(t *testing.T) {
	w := newWorld(t)
	var b strings.Builder
	b.WriteString("user_id,name\n")
	for i := range 2500 {
		fmt.Fprintf(&b, "%d,Lead %d\n", 10_000+i, i)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- w.bot.Run(ctx) }()
	w.api.Push(telego.Update{UpdateID: 9, Message: &telego.Message{MessageID: 9, From: &telego.User{ID: ownerID}, Chat: telego.Chat{ID: ownerID, Type: telego.ChatTypePrivate},
		Caption: "/import legitimate-interest CRM export", Document: w.api.AddFile("crm.csv", []byte(b.String()))}})
	var texts []string
	for len(texts) < 2 && ctx.Err() == nil {
		texts = append(texts, messages(w.api.Take())...)
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	<-done
	if len(texts) != 2 || !strings.Contains(texts[0], "Importing 2500 rows of crm.csv") || !strings.Contains(texts[1], "accepted  2500 new contacts") {
		t.Fatalf("answers %q", texts)
	}
}

// A bot given no Importer (no contacts import in its process) says so
// and records nothing.
func TestImportWithoutImporter(t *testing.T) {
	w := newWorld(t)
	bot, err := adminbot.New(adminbot.Config{Token: token, APIURL: w.api.URL(), Sink: w.sink, Domain: w.h,
		Admins: map[int64]adminbot.Role{managerID: adminbot.RoleManager}})
	if err != nil {
		t.Fatal(err)
	}
	w.bot = bot
	got := messages(w.send(managerID, "/import consent fair", w.api.AddFile("a.csv", []byte("username\nlead_0001\n"))))
	if len(got) != 1 || !strings.Contains(got[0], "Importing contacts is not available in this process") {
		t.Fatalf("answers %q", got)
	}
	if _, found, err := w.h.ContactOfUsername(context.Background(), "lead_0001"); err != nil || found {
		t.Fatalf("found %v, %v: want nothing recorded", found, err)
	}
}
