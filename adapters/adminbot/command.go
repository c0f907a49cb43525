// Package adminbot is the admin bot: managers steer salesbot from Telegram.
// This file holds the one parser of bot commands; each command's usage
// line, group and summary live in the same table, so /help and every
// "usage" answer say the same thing.
package adminbot

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/salesbot/salesbot/domain"
)

// Command is a parsed bot command. Only the fields its spec uses are set.
type Command struct {
	Name     string // without the slash, e.g. "view"
	N        int64  // a dialog number
	Username string // without @
	Text     string // a note (/start), message text (/reply) or why a deal was lost (/lost)
	Amount   string // /won: the deal's value, a decimal ("1200.50"), or ""
	Currency string // /won: its ISO 4217 code, or ""
	Filter   string // /list: active, handoff, closed or all
	Stage    string // /list: a stage, or ""
	Page     int    // /list: 1-based
	Account  string // an account id or label
	Campaign string // a campaign's id, the start of its id, or its name
	Since    time.Time
	Period   string       // /stats: today, 7d or 30d
	Basis    domain.Basis // /import: the lawful basis of the contacts
}

// UsageError is a malformed command: what is wrong and the right usage.
type UsageError struct {
	Command string // "" when the command itself is unknown
	Problem string
	Usage   string
}

func (e *UsageError) Error() string {
	if e.Usage == "" {
		return e.Problem
	}
	return e.Problem + ". Usage: " + e.Usage
}

// ErrNotCommand: the text is not a bot command (no leading slash).
var ErrNotCommand = errors.New("adminbot: not a command")

// spec describes one command.
type spec struct {
	name    string
	args    string // usage after the command
	group   string
	summary string
	example string
	parse   func(c *Command, args []string, rest string) error
}

// Groups in /help order.
var groups = []string{"Dialogs", "Leads", "Campaigns", "Accounts", "Reports"}

var specs = []spec{
	{name: "start", args: "@username [note]", group: "Dialogs", summary: "open a dialog with a person", example: "/start @anna_k met at the fair",
		parse: func(c *Command, args []string, rest string) error {
			if len(args) == 0 {
				return errors.New("say whom to write to")
			}
			u, err := username(args[0])
			if err != nil {
				return err
			}
			c.Username, c.Text = u, strings.TrimSpace(strings.TrimPrefix(rest, args[0]))
			return nil
		}},
	{name: "stop", args: "N", group: "Dialogs", summary: "stop dialog N: nothing more is sent", example: "/stop 12", parse: dialogOnly},
	{name: "list", args: "[active|handoff|closed|all] [stage] [page]", group: "Dialogs", summary: "dialogs, newest activity first", example: "/list handoff 2",
		parse: parseList},
	{name: "view", args: "N", group: "Dialogs", summary: "the lead card and the last messages of dialog N", example: "/view 12", parse: dialogOnly},
	{name: "reply", args: "N text", group: "Dialogs", summary: "write to the lead of dialog N through its account", example: "/reply 12 Hi Anna, Maria here",
		parse: func(c *Command, args []string, rest string) error {
			if err := dialogN(c, args); err != nil {
				return err
			}
			c.Text = strings.TrimSpace(strings.TrimPrefix(rest, args[0]))
			if c.Text == "" {
				return errors.New("say what to write")
			}
			return nil
		}},
	{name: "won", args: "N [amount currency]", group: "Dialogs", summary: "record that the lead of dialog N bought, with the deal's value if known; closes the dialog",
		example: "/won 12 1200.50 USD", parse: func(c *Command, args []string, _ string) error {
			if err := dialogN(c, args); err != nil {
				return err
			}
			switch len(args) {
			case 1:
			case 2:
				return errors.New("say the currency after the amount, like 1200.50 USD")
			case 3:
				c.Amount, c.Currency = args[1], args[2]
			default:
				return errors.New("too many arguments: the amount and its currency, like 1200.50 USD")
			}
			return nil
		}},
	{name: "lost", args: "N reason", group: "Dialogs", summary: "record that the deal of dialog N was lost, and why; closes the dialog",
		example: "/lost 12 chose a competitor", parse: func(c *Command, args []string, rest string) error {
			if err := dialogN(c, args); err != nil {
				return err
			}
			c.Text = strings.TrimSpace(strings.TrimPrefix(rest, args[0]))
			if c.Text == "" {
				return errors.New("say why the deal was lost")
			}
			return nil
		}},
	{name: "takeover", args: "N", group: "Dialogs", summary: "hand dialog N to a person: the AI goes silent", example: "/takeover 12", parse: dialogOnly},
	{name: "release", args: "N", group: "Dialogs", summary: "give dialog N back to the AI", example: "/release 12", parse: dialogOnly},
	{name: "export", args: "N", group: "Dialogs", summary: "dialog N as a .txt file", example: "/export 12", parse: dialogOnly},
	{name: "export_all", args: "[since YYYY-MM-DD]", group: "Dialogs", summary: "every dialog as a .zip of .txt files with a CSV summary", example: "/export_all 2026-11-01",
		parse: func(c *Command, args []string, _ string) error {
			if len(args) > 1 {
				return errors.New("too many arguments")
			}
			if len(args) == 1 {
				t, err := time.Parse(time.DateOnly, args[0])
				if err != nil {
					return fmt.Errorf("%q is not a date like 2026-11-01", args[0])
				}
				c.Since = t
			}
			return nil
		}},
	{name: "optout", args: "@username", group: "Leads", summary: "put a person on the do-not-contact list", example: "/optout @anna_k",
		parse: func(c *Command, args []string, _ string) error {
			if len(args) != 1 {
				return errors.New("say whom")
			}
			u, err := username(args[0])
			c.Username = u
			return err
		}},
	{name: "import", args: "consent|contract|legitimate-interest [source]", group: "Leads",
		summary: "import contacts: send a .csv file with this as its caption; source says where the list came from",
		example: "/import consent visitors of the Berlin fair", parse: func(c *Command, args []string, rest string) error {
			if len(args) == 0 {
				return errors.New("say the lawful basis of the contacts: consent, contract or legitimate-interest")
			}
			switch b := domain.Basis(strings.ToLower(args[0])); b {
			case domain.BasisConsent, domain.BasisContract, domain.BasisLegitimateInterest:
				c.Basis = b
			default:
				return fmt.Errorf("%q is not consent, contract or legitimate-interest", truncate(args[0], 32))
			}
			c.Text = strings.TrimSpace(strings.TrimPrefix(rest, args[0]))
			return nil
		}},
	{name: "campaigns", group: "Campaigns", summary: "campaigns with status and dialogs so far; buttons pause or resume them", example: "/campaigns", parse: noArgs},
	{name: "campaign_pause", args: "ID", group: "Campaigns", summary: "pause a campaign: no new dialogs, open ones go on (ID: the start of its id, or its name)",
		example: "/campaign_pause 3f2a9c1e", parse: campaignOnly},
	{name: "campaign_resume", args: "ID", group: "Campaigns", summary: "resume a paused campaign", example: "/campaign_resume Q1 Berlin", parse: campaignOnly},
	{name: "accounts", group: "Accounts", summary: "accounts with status and today's counts against caps", example: "/accounts", parse: noArgs},
	{name: "account_add", group: "Accounts", summary: "connect an account: phone, then code, then 2FA password", example: "/account_add", parse: noArgs},
	{name: "cancel", group: "Accounts", summary: "stop a guided /account_add", example: "/cancel", parse: noArgs},
	{name: "account_remove", args: "ID", group: "Accounts", summary: "log an account out and remove it", example: "/account_remove sales-2", parse: accountOnly},
	{name: "pause", args: "ID", group: "Accounts", summary: "stop an account from writing", example: "/pause sales-2", parse: accountOnly},
	{name: "resume", args: "ID", group: "Accounts", summary: "let a paused or restricted account write again", example: "/resume sales-2", parse: accountOnly},
	{name: "pause_all", group: "Accounts", summary: "pause every account", example: "/pause_all", parse: noArgs},
	{name: "resume_all", group: "Accounts", summary: "resume every paused account", example: "/resume_all", parse: noArgs},
	{name: "stats", args: "[today|7d|30d]", group: "Reports", summary: "funnel, replies, handoffs and opt-outs, per stage and account; per variant in the period, with the A/B test", example: "/stats 7d",
		parse: func(c *Command, args []string, _ string) error {
			c.Period = "today"
			if len(args) > 1 {
				return errors.New("too many arguments")
			}
			if len(args) == 1 {
				switch p := strings.ToLower(args[0]); p {
				case "today", "7d", "30d":
					c.Period = p
				default:
					return fmt.Errorf("%q is not today, 7d or 30d", args[0])
				}
			}
			return nil
		}},
	{name: "web", group: "Reports", summary: "a one-time link that signs you in to the web console, with your role", example: "/web", parse: noArgs},
	{name: "help", group: "Reports", summary: "this list", example: "/help", parse: noArgs},
}

// usage is the usage line of a command.
func (s spec) usage() string {
	if s.args == "" {
		return "/" + s.name
	}
	return "/" + s.name + " " + s.args
}

func find(name string) (spec, bool) {
	for _, s := range specs {
		if s.name == name {
			return s, true
		}
	}
	return spec{}, false
}

// maxCommandLen bounds what is parsed: Telegram messages are at most 4096
// characters.
const maxCommandLen = 4096

// Parse reads one bot command. "/view@AcmeBot 12" is /view 12. Errors are
// ErrNotCommand or a *UsageError with a one-line explanation.
func Parse(text string) (Command, error) {
	text = strings.TrimSpace(text)
	if !strings.HasPrefix(text, "/") {
		return Command{}, ErrNotCommand
	}
	if !utf8.ValidString(text) {
		return Command{}, &UsageError{Problem: "the message is not valid text"}
	}
	if len(text) > maxCommandLen*4 {
		return Command{}, &UsageError{Problem: "the message is too long"}
	}
	head, rest, _ := strings.Cut(text[1:], " ")
	if i := strings.IndexFunc(head, unicode.IsSpace); i >= 0 { // "/view\n12"
		head, rest = head[:i], head[i:]+" "+rest
	}
	name, _, _ := strings.Cut(head, "@") // /view@AcmeBot
	name = strings.ToLower(name)
	s, ok := find(name)
	if !ok {
		return Command{}, &UsageError{Problem: fmt.Sprintf("/%s is not a command; /help lists them", truncate(name, 32))}
	}
	rest = strings.TrimSpace(rest)
	c := Command{Name: s.name}
	if err := s.parse(&c, strings.Fields(rest), rest); err != nil {
		return Command{}, &UsageError{Command: s.name, Problem: err.Error(), Usage: s.usage()}
	}
	return c, nil
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

func noArgs(_ *Command, args []string, _ string) error {
	if len(args) > 0 {
		return errors.New("takes no arguments")
	}
	return nil
}

func dialogOnly(c *Command, args []string, _ string) error {
	if len(args) > 1 {
		return errors.New("too many arguments")
	}
	return dialogN(c, args)
}

func dialogN(c *Command, args []string) error {
	if len(args) == 0 {
		return errors.New("say which dialog (its number, as /list shows)")
	}
	n, err := strconv.ParseInt(strings.TrimPrefix(args[0], "#"), 10, 64)
	if err != nil || n <= 0 {
		return fmt.Errorf("%q is not a dialog number", truncate(args[0], 32))
	}
	c.N = n
	return nil
}

func accountOnly(c *Command, args []string, _ string) error {
	if len(args) != 1 {
		return errors.New("say which account (its label or id, as /accounts shows)")
	}
	c.Account = args[0]
	return nil
}

// maxCampaignRef bounds a campaign reference: a name or an id.
const maxCampaignRef = 100

// campaignOnly takes the rest of the line: a name may have spaces.
func campaignOnly(c *Command, _ []string, rest string) error {
	ref := strings.Join(strings.Fields(rest), " ")
	switch {
	case ref == "":
		return errors.New("say which campaign (the start of its id, or its name, as /campaigns shows)")
	case utf8.RuneCountInString(ref) > maxCampaignRef:
		return fmt.Errorf("%q is longer than a campaign's name or id", truncate(ref, 32))
	}
	c.Campaign = ref
	return nil
}

var listFilters = map[string]bool{"active": true, "handoff": true, "closed": true, "all": true}

func parseList(c *Command, args []string, _ string) error {
	c.Filter, c.Page = "active", 1
	if len(args) > 3 {
		return errors.New("too many arguments")
	}
	for i, a := range args {
		a = strings.ToLower(a)
		switch {
		case listFilters[a] && i == 0:
			c.Filter = a
		case validStage(a) && c.Stage == "":
			c.Stage = a
		default:
			n, err := strconv.Atoi(a)
			if err != nil || n <= 0 || i != len(args)-1 {
				return fmt.Errorf("%q is not a filter, a stage or a page number", truncate(args[i], 32))
			}
			c.Page = n
		}
	}
	return nil
}

func validStage(s string) bool {
	switch domain.Stage(s) {
	case domain.StageOpening, domain.StageDiscovery, domain.StageQualification, domain.StageOffer,
		domain.StageObjections, domain.StageHandoff, domain.StageClosed:
		return true
	}
	return false
}

// username checks a @username or t.me link and returns it without @.
func username(s string) (string, error) {
	u := s
	for _, p := range []string{"https://t.me/", "http://t.me/", "t.me/", "@"} {
		u = strings.TrimPrefix(u, p)
	}
	if len(u) < 4 || len(u) > 32 {
		return "", fmt.Errorf("%q is not a username (4 to 32 letters, digits or _)", truncate(s, 40))
	}
	for _, r := range u {
		if !(r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return "", fmt.Errorf("%q is not a username (4 to 32 letters, digits or _)", truncate(s, 40))
		}
	}
	return u, nil
}

// Help is the /help text (HTML), grouped, with an example per command.
func Help() string {
	var b strings.Builder
	b.WriteString("<b>salesbot</b> — what you can ask\n")
	for _, g := range groups {
		fmt.Fprintf(&b, "\n<b>%s</b>\n", g)
		for _, s := range specs {
			if s.group == g {
				fmt.Fprintf(&b, "%s — %s\n   e.g. <code>%s</code>\n", Escape(s.usage()), Escape(s.summary), Escape(s.example))
			}
		}
	}
	return b.String()
}
