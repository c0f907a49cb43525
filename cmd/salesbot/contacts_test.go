package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/google/uuid"

	"github.com/salesbot/salesbot/adapters/app/contacts"
	"github.com/salesbot/salesbot/adapters/eventlog"
	"github.com/salesbot/salesbot/domain"
)

// csvFile writes a contacts file into dir.
func csvFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// importRun runs contacts import with --json and decodes the report.
func importRun(t *testing.T, dir, file string, extra ...string) (result, contacts.ReportJSON) {
	t.Helper()
	args := append([]string{"contacts", "import", file, "--data-dir", dir, "--source", "Berlin fair 2026", "--basis", "consent", "--json"}, extra...)
	r := run(t, nil, args...)
	var rep contacts.ReportJSON
	if strings.TrimSpace(r.stdout) != "" {
		if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
			t.Fatalf("report %q: %v", r.stdout, err)
		}
	}
	return r, rep
}

// withLog opens the log in dir (no other process may hold it) for fn.
func withLog(t *testing.T, dir string, fn func(h domain.Handlers)) {
	t.Helper()
	s := openLog(t, dir)
	defer s.Close()
	fn(domain.Handlers{Log: eventlog.New(s), Index: domain.NewIndexKey(s.IndexKey()), Now: time.Now})
}

func contactOf(t *testing.T, h domain.Handlers, username string) domain.Contact {
	t.Helper()
	id, found, err := h.ContactOfUsername(context.Background(), username)
	if err != nil || !found {
		t.Fatalf("no contact @%s: %v", username, err)
	}
	c, err := h.LoadContact(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestContactsImport(t *testing.T) {
	dir := t.TempDir()
	file := csvFile(t, t.TempDir(), "leads.csv", "\xef\xbb\xbfUsername;Phone;First name;Last name;Tags;Company\r\n"+
		"@anna_k;+49 151 1234-5678;Анна;Каренина;VIP, fair;Acme\r\n"+
		"boris_b;;Boris;;;\r\n"+
		"\"eve_eve\";\"+1 (555) 010-0999\";\"Eve; the 3rd\";;b2b;\"Evil; Inc\"\r\n")
	r, rep := importRun(t, dir, file)
	if r.code != 0 || !rep.Applied || rep.Rows != 3 || rep.Accepted != 3 || len(rep.Rejected) != 0 || !strings.HasPrefix(rep.Import, "imp-") {
		t.Fatalf("import: %+v %+v", r, rep)
	}
	withLog(t, dir, func(h domain.Handlers) {
		anna := contactOf(t, h, "anna_k")
		if anna.Name != "Анна Каренина" || anna.Phone != "+4915112345678" || anna.Source != domain.SourceImport || anna.Basis != domain.BasisConsent ||
			strings.Join(anna.Tags, ",") != "fair,vip" || anna.Import != rep.Import {
			t.Fatalf("anna: %+v", anna)
		}
		if eve := contactOf(t, h, "eve_eve"); eve.Name != "Eve; the 3rd" || eve.Fields[0] != (domain.ContactField{Name: "company", Value: "Evil; Inc"}) {
			t.Fatalf("eve: %+v", eve)
		}
		evs, _, _ := h.Log.Load(context.Background(), domain.ContactStream(anna.ID))
		if note := evs[0].(domain.ContactAdded).Note; note != "Berlin fair 2026 (file leads.csv)" {
			t.Fatalf("note %q", note)
		}
	})
	// Again: all duplicates, nothing new in the log.
	r, rep = importRun(t, dir, file)
	if r.code != 0 || rep.Accepted != 0 || rep.Merged != 3 || rep.Changed != 0 {
		t.Fatalf("re-import: %+v %+v", r, rep)
	}
	// The text report.
	r = run(t, nil, "contacts", "import", file, "--data-dir", dir, "--source", "again", "--basis", "contract")
	if r.code != 0 || !strings.Contains(r.stdout, "leads.csv: 3 rows\n  accepted  0 new contacts\n  merged    3 duplicates") {
		t.Fatalf("text report: %+v", r)
	}
	if r := run(t, nil, "verify", "--data-dir", dir); r.code != 0 {
		t.Fatalf("verify: %+v", r)
	}
}

func TestContactsImportBadFiles(t *testing.T) {
	dir, files := t.TempDir(), t.TempDir()
	broken := csvFile(t, files, "broken.csv", "username,name\nanna_k,Anna\nboris_b,Bo\"ris\n")
	r, _ := importRun(t, dir, broken)
	if r.code != 1 || !strings.Contains(r.stderr, "line 3, column 11") || !strings.Contains(r.stderr, "nothing was imported") {
		t.Fatalf("broken CSV: %+v", r)
	}
	latin1 := csvFile(t, files, "latin1.csv", "username,name\nanna_k,M\xfcller\n")
	if r, _ := importRun(t, dir, latin1); r.code != 1 || !strings.Contains(r.stderr, "line 2 holds bytes that are not UTF-8") {
		t.Fatalf("not UTF-8: %+v", r)
	}
	if r, _ := importRun(t, dir, filepath.Join(files, "missing.csv")); r.code != 1 || !strings.Contains(r.stderr, "open the contacts file") {
		t.Fatalf("missing file: %+v", r)
	}
	// Nothing reached the log.
	if _, err := os.Stat(filepath.Join(dir, "master.key")); err == nil {
		withLog(t, dir, func(h domain.Handlers) {
			if v, _ := h.Log.Version(context.Background(), h.Index.UsernameStream("anna_k")); v != 0 {
				t.Fatal("a broken file imported rows")
			}
		})
	}
	good := csvFile(t, files, "good.csv", "username\nanna_k\n")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{good, "--source", "x"}, "--basis is required"},
		{[]string{good, "--source", "x", "--basis", "because"}, `"because" is not consent`},
		{[]string{good, "--basis", "consent"}, "--source is required"},
		{[]string{"--source", "x", "--basis", "consent"}, "give one CSV file"},
		{[]string{good, "--source", "x", "--basis", "consent", "--max-errors", "5"}, "--max-errors"},
	} {
		r := run(t, nil, append([]string{"contacts", "import", "--data-dir", dir}, c.args...)...)
		if r.code != 2 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%q: %+v, want exit 2 with %q", c.args, r, c.want)
		}
	}
}

// mixed writes good rows and bad rows (bad usernames) in turn.
func mixed(good, bad int) string {
	var b strings.Builder
	b.WriteString("username,name\n")
	for i := range good {
		fmt.Fprintf(&b, "lead_%04d,Lead %d\n", i, i)
	}
	for i := range bad {
		fmt.Fprintf(&b, "bad.%d,Bad %d\n", i, i)
	}
	return b.String()
}

func TestContactsImportThreshold(t *testing.T) {
	files := t.TempDir()
	below := csvFile(t, files, "below.csv", mixed(97, 3)) // 3%
	above := csvFile(t, files, "above.csv", mixed(70, 30))

	dir := t.TempDir()
	r, rep := importRun(t, dir, below)
	if r.code != 0 || rep.Accepted != 97 || len(rep.Rejected) != 3 || rep.Rejected[0].Line != 99 || !strings.Contains(rep.Rejected[0].Reason, `username "bad.0"`) {
		t.Fatalf("below the threshold: %+v %+v", r, rep)
	}
	r, rep = importRun(t, dir, above)
	if r.code != 1 || rep.Applied || rep.Accepted != 0 || len(rep.Rejected) != 30 ||
		!strings.Contains(r.stderr, "too many rejected rows: 30 of 100 (30%), more than the 5% allowed: nothing was imported; fix the file or use --partial") {
		t.Fatalf("above the threshold: %+v %+v", r, rep)
	}
	// The text report lists 20 rejected lines and says how many more.
	r = run(t, nil, "contacts", "import", above, "--data-dir", dir, "--source", "x", "--basis", "consent")
	if r.code != 1 || !strings.Contains(r.stdout, "line 72: username \"bad.0\"") || !strings.Contains(r.stdout, "line 91:") ||
		strings.Contains(r.stdout, "line 92:") || !strings.Contains(r.stdout, "… and 10 more") {
		t.Fatalf("text report: %+v", r)
	}
	if r, _ := importRun(t, dir, above, "--max-errors", "0.3"); r.code != 0 {
		t.Fatalf("a higher threshold: %+v", r)
	}
	dir = t.TempDir()
	r, rep = importRun(t, dir, above, "--partial")
	if r.code != 0 || rep.Accepted != 70 || len(rep.Rejected) != 30 {
		t.Fatalf("--partial: %+v %+v", r, rep)
	}
	if r, _ := importRun(t, t.TempDir(), below, "--max-errors", "0"); r.code != 1 {
		t.Fatalf("--max-errors 0: %+v", r)
	}
}

func TestContactsImportProgress(t *testing.T) {
	file := csvFile(t, t.TempDir(), "big.csv", mixed(2500, 0))
	r, rep := importRun(t, t.TempDir(), file)
	if r.code != 0 || rep.Accepted != 2500 {
		t.Fatalf("import: %+v", r)
	}
	// Not a terminal: a line every 10%.
	if n := strings.Count(r.stderr, "import: "); n != 10 || !strings.Contains(r.stderr, "import: 2500/2500 rows (100%)") {
		t.Fatalf("%d progress lines:\n%s", n, r.stderr)
	}
	small := csvFile(t, t.TempDir(), "small.csv", mixed(10, 0))
	if r, _ := importRun(t, t.TempDir(), small); strings.Contains(r.stderr, "import: ") {
		t.Fatalf("progress for a small file: %s", r.stderr)
	}
}

// startDialog opens dialog n with the contact of username and records a
// message from them.
func startDialog(t *testing.T, h domain.Handlers, username string, n int64) uuid.UUID {
	t.Helper()
	ctx := context.Background()
	c := contactOf(t, h, username)
	id := uuid.New()
	for _, cmd := range []domain.DialogCommand{
		domain.StartDialog{DialogID: id, N: n, Contact: c, AccountID: uuid.New(), By: "ai"},
		domain.RecordInbound{TelegramMessageID: 1, Text: "my phone is +49 151 1234-5678", At: time.Now()},
	} {
		if _, err := h.Dialog(ctx, id, c.ID, cmd); err != nil {
			t.Fatal(err)
		}
	}
	return id
}

func TestContactsOptOut(t *testing.T) {
	dir := t.TempDir()
	file := csvFile(t, t.TempDir(), "leads.csv", "username,phone\nanna_k,\nboris_b,+4915112345678\n")
	if r, _ := importRun(t, dir, file); r.code != 0 {
		t.Fatalf("import: %+v", r)
	}
	var dialog uuid.UUID
	withLog(t, dir, func(h domain.Handlers) { dialog = startDialog(t, h, "anna_k", 1) })

	r := run(t, nil, "contacts", "optout", "@Anna_K", "--data-dir", dir, "--reason", "asked by phone")
	if r.code != 0 || !strings.Contains(r.stdout, "@Anna_K is on the do-not-contact list") || !strings.Contains(r.stdout, "ended dialogs 1") {
		t.Fatalf("optout: %+v", r)
	}
	// By phone, and someone never seen.
	if r := run(t, nil, "contacts", "optout", "+49 151 1234 5678", "--data-dir", dir); r.code != 0 {
		t.Fatalf("optout by phone: %+v", r)
	}
	if r := run(t, nil, "contacts", "optout", "never_met", "--data-dir", dir); r.code != 0 {
		t.Fatalf("optout of a stranger: %+v", r)
	}
	withLog(t, dir, func(h domain.Handlers) {
		d, _ := h.LoadDialog(context.Background(), dialog)
		if d.Stage != domain.StageClosed || d.Outcome != domain.OutcomeOptedOut {
			t.Fatalf("the open dialog goes on: %+v", d)
		}
		for _, u := range []string{"anna_k", "boris_b", "never_met"} {
			if c := contactOf(t, h, u); !c.OptedOut {
				t.Fatalf("@%s is not opted out: %+v", u, c)
			}
		}
		if c := contactOf(t, h, "never_met"); c.Source != domain.SourceManual || c.Username != "never_met" {
			t.Fatalf("the stranger's contact: %+v", c)
		}
	})
	// An import never brings them back.
	again := csvFile(t, t.TempDir(), "again.csv", "username,phone,tags\nanna_k,,new\n,+4915112345678,new\nnever_met,,new\nfresh_one,,new\n")
	r, rep := importRun(t, dir, again)
	if r.code != 0 || rep.OptedOut != 3 || rep.Accepted != 1 || rep.Merged != 0 {
		t.Fatalf("re-import after opt-outs: %+v %+v", r, rep)
	}
	withLog(t, dir, func(h domain.Handlers) {
		if c := contactOf(t, h, "anna_k"); c.HasTag("new") {
			t.Fatal("an opted-out contact was merged into")
		}
	})
	for _, bad := range [][]string{{}, {"@ab"}, {"+12"}, {"a", "b"}} {
		if r := run(t, nil, append([]string{"contacts", "optout", "--data-dir", dir}, bad...)...); r.code != 2 {
			t.Errorf("optout %q: %+v", bad, r)
		}
	}
	if r := run(t, nil, "contacts", "optout", "anna_k", "--data-dir", filepath.Join(t.TempDir(), "none")); r.code != 1 || !strings.Contains(r.stderr, "no event log") {
		t.Fatalf("optout without a log: %+v", r)
	}
}

func TestContactsForget(t *testing.T) {
	dir := t.TempDir()
	file := csvFile(t, t.TempDir(), "leads.csv", "username,phone,name,company\nanna_k,+4915112345678,Anna Karenina,Acme\nboris_b,,Boris,\n")
	if r, _ := importRun(t, dir, file); r.code != 0 {
		t.Fatalf("import: %+v", r)
	}
	var anna domain.Contact
	withLog(t, dir, func(h domain.Handlers) {
		startDialog(t, h, "anna_k", 1)
		anna = contactOf(t, h, "anna_k")
	})
	r := run(t, nil, "contacts", "forget", "@anna_k", "--data-dir", dir)
	if r.code != 0 || !strings.Contains(r.stdout, "contact "+anna.ID.String()+" erased") {
		t.Fatalf("forget: %+v", r)
	}
	// The replay shows the message as forgotten, and the log is intact.
	r = run(t, nil, "replay", "dialog", "1", "--data-dir", dir)
	if r.code != 0 || !strings.Contains(r.stdout, `lead: "[forgotten]"`) || strings.Contains(r.stdout, "1234-5678") || !strings.Contains(r.stdout, "DialogClosed") {
		t.Fatalf("replay after forget: %+v", r)
	}
	if r := run(t, nil, "verify", "--data-dir", dir); r.code != 0 {
		t.Fatalf("verify after forget: %+v", r)
	}
	// The key is gone from the database, not only shadowed.
	db, err := pebble.Open(dir, &pebble.Options{})
	if err != nil {
		t.Fatal(err)
	}
	iter, err := db.NewIter(&pebble.IterOptions{LowerBound: []byte("k|"), UpperBound: []byte("k}")})
	if err != nil {
		t.Fatal(err)
	}
	keys := 0
	for ok := iter.First(); ok; ok = iter.Next() {
		// A live key record starts with 0x02 (docs/event-log.md); an
		// erased one is a tombstone (0x03) that holds no key.
		if v := iter.Value(); string(iter.Key()) == "k|"+anna.ID.String() && (len(v) == 0 || v[0] != 0x03) {
			t.Fatalf("the erased contact's key record is not a tombstone: %x", v)
		}
		keys++
	}
	iter.Close()
	db.Close()
	if keys == 0 {
		t.Fatal("no subject keys at all: the test looks in the wrong place")
	}
	withLog(t, dir, func(h domain.Handlers) {
		c := contactOf(t, h, "anna_k") // the username's hash still finds the contact
		if !c.Forgotten || !c.OptedOut || c.Name != "" || c.Fields != nil {
			t.Fatalf("forgotten contact: %+v", c)
		}
		if b := contactOf(t, h, "boris_b"); b.Name != "Boris" {
			t.Fatalf("another contact was erased: %+v", b)
		}
	})
	// Still on the do-not-contact list: by username and by phone.
	again := csvFile(t, t.TempDir(), "again.csv", "username,phone\nanna_k,\n,+4915112345678\n")
	if r, rep := importRun(t, dir, again); r.code != 0 || rep.Erased != 2 || rep.Accepted != 0 {
		t.Fatalf("re-import of an erased person: %+v %+v", r, rep)
	}
	if r := run(t, nil, "contacts", "forget", "@anna_k", "--data-dir", dir); r.code != 0 {
		t.Fatalf("forget twice: %+v", r)
	}
	if r := run(t, nil, "contacts", "forget", "@nobody_here", "--data-dir", dir); r.code != 1 || !strings.Contains(r.stderr, "@nobody_here is not a contact") {
		t.Fatalf("forget a stranger: %+v", r)
	}
}

func TestContactsHelpSaysUseTheBotWhileRunning(t *testing.T) {
	for _, sub := range []string{"import", "optout", "forget"} {
		r := run(t, nil, "contacts", sub, "--help")
		if r.code != 0 || !strings.Contains(r.stdout, "/import") || !strings.Contains(r.stdout, "salesbot run") {
			t.Errorf("contacts %s --help: %+v", sub, r)
		}
	}
}
