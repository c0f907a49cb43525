package adminbot

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/salesbot/salesbot/domain"
)

func TestParse(t *testing.T) {
	day := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		in   string
		want Command
	}{
		{"/help", Command{Name: "help"}},
		{"/HELP@AcmeSalesBot", Command{Name: "help"}},
		{"/start @anna_k", Command{Name: "start", Username: "anna_k"}},
		{"/start https://t.me/anna_k met at the fair  ", Command{Name: "start", Username: "anna_k", Text: "met at the fair"}},
		{"/stop 12", Command{Name: "stop", N: 12}},
		{"/view@AcmeSalesBot #7", Command{Name: "view", N: 7}},
		{"/view\n7", Command{Name: "view", N: 7}},
		{"/list", Command{Name: "list", Filter: "active", Page: 1}},
		{"/list handoff", Command{Name: "list", Filter: "handoff", Page: 1}},
		{"/list all offer 3", Command{Name: "list", Filter: "all", Stage: "offer", Page: 3}},
		{"/list 2", Command{Name: "list", Filter: "active", Page: 2}},
		{"/list qualification", Command{Name: "list", Filter: "active", Stage: "qualification", Page: 1}},
		{"/reply 12 Hi Anna,\nMaria here", Command{Name: "reply", N: 12, Text: "Hi Anna,\nMaria here"}},
		{"/takeover 3", Command{Name: "takeover", N: 3}},
		{"/release 3", Command{Name: "release", N: 3}},
		{"/export 3", Command{Name: "export", N: 3}},
		{"/export_all", Command{Name: "export_all"}},
		{"/export_all 2026-11-01", Command{Name: "export_all", Since: day}},
		{"/optout @anna_k", Command{Name: "optout", Username: "anna_k"}},
		{"/accounts", Command{Name: "accounts"}},
		{"/account_add", Command{Name: "account_add"}},
		{"/account_remove sales-2", Command{Name: "account_remove", Account: "sales-2"}},
		{"/pause sales-2", Command{Name: "pause", Account: "sales-2"}},
		{"/resume 0193a0c0-0000-7000-8000-000000000003", Command{Name: "resume", Account: "0193a0c0-0000-7000-8000-000000000003"}},
		{"/pause_all", Command{Name: "pause_all"}},
		{"/resume_all", Command{Name: "resume_all"}},
		{"/campaigns", Command{Name: "campaigns"}},
		{"/campaign_pause 3f2a9c1e", Command{Name: "campaign_pause", Campaign: "3f2a9c1e"}},
		{"/campaign_pause@AcmeSalesBot 3f2a9c1e-0000-4000-8000-0000000000ca", Command{Name: "campaign_pause", Campaign: "3f2a9c1e-0000-4000-8000-0000000000ca"}},
		{"/campaign_resume   Q1   Berlin ", Command{Name: "campaign_resume", Campaign: "Q1 Berlin"}},
		{"/stats", Command{Name: "stats", Period: "today"}},
		{"/stats 30D", Command{Name: "stats", Period: "30d"}},
		{"/import consent", Command{Name: "import", Basis: domain.BasisConsent}},
		{"/import Legitimate-Interest visitors of the Berlin fair", Command{Name: "import", Basis: domain.BasisLegitimateInterest, Text: "visitors of the Berlin fair"}},
	} {
		got, err := Parse(c.in)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("Parse(%q) = %+v, %v; want %+v", c.in, got, err, c.want)
		}
	}
}

func TestParseRejects(t *testing.T) {
	for _, c := range []struct{ in, problem, usage string }{
		{"/frobnicate", "/frobnicate is not a command", ""},
		{"/", "/ is not a command", ""},
		{"/start", "say whom to write to", "/start @username [note]"},
		{"/start @ab", `"@ab" is not a username`, "/start @username [note]"},
		{"/start <b>*_[", `"<b>*_[" is not a username`, "/start @username [note]"},
		{"/stop", "say which dialog", "/stop N"},
		{"/stop twelve", `"twelve" is not a dialog number`, "/stop N"},
		{"/stop -3", `"-3" is not a dialog number`, "/stop N"},
		{"/stop 0", `"0" is not a dialog number`, "/stop N"},
		{"/stop 99999999999999999999", "is not a dialog number", "/stop N"},
		{"/view 1 2", "too many arguments", "/view N"},
		{"/reply 12", "say what to write", "/reply N text"},
		{"/reply x hello", `"x" is not a dialog number`, "/reply N text"},
		{"/list everything", `"everything" is not a filter, a stage or a page number`, "/list [active|handoff|closed|all] [stage] [page]"},
		{"/list 2 handoff", `"2" is not a filter`, "/list [active|handoff|closed|all] [stage] [page]"},
		{"/export_all yesterday", `"yesterday" is not a date`, "/export_all [since YYYY-MM-DD]"},
		{"/stats year", `"year" is not today, 7d or 30d`, "/stats [today|7d|30d]"},
		{"/accounts now", "takes no arguments", "/accounts"},
		{"/campaigns all", "takes no arguments", "/campaigns"},
		{"/campaign_pause", "say which campaign", "/campaign_pause ID"},
		{"/campaign_resume   ", "say which campaign", "/campaign_resume ID"},
		{"/campaign_resume " + strings.Repeat("x", 101), "is longer than a campaign's name or id", "/campaign_resume ID"},
		{"/pause", "say which account", "/pause ID"},
		{"/optout", "say whom", "/optout @username"},
		{"/import", "say the lawful basis", "/import consent|contract|legitimate-interest [source]"},
		{"/import because", `"because" is not consent, contract or legitimate-interest`, "/import consent|contract|legitimate-interest [source]"},
	} {
		_, err := Parse(c.in)
		var ue *UsageError
		if !errors.As(err, &ue) || !strings.Contains(ue.Problem, c.problem) || ue.Usage != c.usage {
			t.Errorf("Parse(%q) = %v; want problem %q, usage %q", c.in, err, c.problem, c.usage)
			continue
		}
		if strings.Contains(err.Error(), "\n") {
			t.Errorf("Parse(%q): the answer is more than one line: %q", c.in, err)
		}
	}
	if _, err := Parse("hello there"); !errors.Is(err, ErrNotCommand) {
		t.Errorf("plain text: %v", err)
	}
}

func TestHelpListsEveryCommand(t *testing.T) {
	h := Help()
	for _, s := range specs {
		if !strings.Contains(h, Escape(s.usage())) || !strings.Contains(h, Escape(s.example)) {
			t.Errorf("/help lacks /%s", s.name)
		}
		if _, err := Parse(strings.Fields(s.example)[0]); err != nil && !strings.Contains(s.example, "(") {
			var ue *UsageError
			if !errors.As(err, &ue) || ue.Command != s.name {
				t.Errorf("the example of /%s does not parse as it: %v", s.name, err)
			}
		}
	}
	for _, g := range groups {
		if !strings.Contains(h, "<b>"+g+"</b>") {
			t.Errorf("/help lacks the group %s", g)
		}
	}
}

// Every example in /help parses.
func TestHelpExamplesParse(t *testing.T) {
	for _, s := range specs {
		if strings.Contains(s.example, "(") {
			continue
		}
		if c, err := Parse(s.example); err != nil || c.Name != s.name {
			t.Errorf("example %q: %+v %v", s.example, c, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"/view 12", "/start @anna_k hi", "/list all offer 3", "/reply 1 x", "/stats 7d", "/export_all 2026-01-01", "/\x00", "/view@bot\t#3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		c, err := Parse(in)
		if err != nil {
			var ue *UsageError
			if !errors.Is(err, ErrNotCommand) && !errors.As(err, &ue) {
				t.Fatalf("Parse(%q): an error of type %T", in, err)
			}
			if ue != nil && strings.ContainsAny(ue.Problem, "\n\r") {
				t.Fatalf("Parse(%q): a multi-line problem %q", in, ue.Problem)
			}
			return
		}
		if _, ok := find(c.Name); !ok {
			t.Fatalf("Parse(%q) = unknown command %q", in, c.Name)
		}
		if c.N < 0 || c.Page < 0 {
			t.Fatalf("Parse(%q) = negative numbers %+v", in, c)
		}
	})
}

func TestEscape(t *testing.T) {
	if got := Escape(`<b>*_[ & "x"`); got != "&lt;b&gt;*_[ &amp; &quot;x&quot;" {
		t.Fatalf("Escape = %q", got)
	}
}

func TestSplit(t *testing.T) {
	line := strings.Repeat("я", 30) + "\n"
	long := strings.Repeat(line, 500) // 15 500 runes
	parts := Split(long, MaxMessage)
	if len(parts) < 4 {
		t.Fatalf("%d parts", len(parts))
	}
	for _, p := range parts {
		if n := utf8.RuneCountInString(p); n > MaxMessage {
			t.Fatalf("a part of %d characters", n)
		}
		if strings.HasSuffix(p, "я\nя") || !strings.HasSuffix(p, "я") {
			t.Fatalf("a part does not end at a line break: %q", p[len(p)-10:])
		}
	}
	if strings.Join(parts, "\n") != strings.TrimRight(long, "\n") {
		t.Fatal("splitting lost or changed text")
	}
	// No line breaks or spaces: cut anywhere, but never inside an entity.
	ent := strings.Repeat("a", 9) + "&amp;" + strings.Repeat("b", 5)
	for _, p := range Split(ent, 12) {
		if strings.Count(p, "&") != strings.Count(p, ";") {
			t.Fatalf("an entity was split: %q", Split(ent, 12))
		}
	}
	if got := Split("short", 10); len(got) != 1 || got[0] != "short" {
		t.Fatalf("short text: %q", got)
	}
}
