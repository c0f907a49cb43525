package adminbot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/mymmrac/telego"
	ta "github.com/mymmrac/telego/telegoapi"
	tu "github.com/mymmrac/telego/telegoutil"

	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/domain/words"
	"github.com/salesbot/salesbot/projections"
)

// Role is what an admin may do.
type Role int

const (
	RoleManager Role = iota + 1 // dialogs and leads
	RoleOwner                   // also accounts
)

// Config configures a Bot.
type Config struct {
	Token  string // never logged
	APIURL string // Bot API server; empty = Telegram's
	// Admins are the Telegram user ids that get answers, with their roles.
	// Anyone else gets nothing at all.
	Admins   map[int64]Role
	Sink     projections.Sink // what replies read
	Domain   domain.Handlers  // how changes are made
	Accounts Accounts         // /start, /optout, /account_add, /account_remove; nil = no accounts run here
	Import   Importer         // /import; nil = not available
	Dialogs  Dialogs          // /won, /lost; nil = not available
	Web      WebLinks         // /web; nil = no web console runs here
	Log      *slog.Logger
	Now      func() time.Time
	// NoticeInterval gathers notices into one message (default 3 s).
	NoticeInterval time.Duration
}

// Bot is the admin bot.
type Bot struct {
	cfg   Config
	api   *telego.Bot
	http  *http.Client // also downloads the files admins send
	log   *slog.Logger
	notes notices
	flows flows
	work  sync.WaitGroup // guided flows in progress
	queue queues         // each admin's updates, handled in order
}

// New checks the configuration and returns a bot; Run serves it.
func New(cfg Config) (*Bot, error) {
	if len(cfg.Admins) == 0 {
		return nil, errors.New("adminbot: no admin ids: nobody could use the bot")
	}
	if cfg.Sink == nil {
		return nil, errors.New("adminbot: Config.Sink is required")
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.NoticeInterval <= 0 {
		cfg.NoticeInterval = 3 * time.Second
	}
	// telego gets a stand-in token; only the client's transport knows
	// the real one (token.go).
	client, standIn, err := newHTTPClient(cfg.Token, nil)
	if err != nil {
		return nil, fmt.Errorf("adminbot: %w", err)
	}
	opts := []telego.BotOption{telego.WithDiscardLogger(), telego.WithHTTPClient(client)}
	if cfg.APIURL != "" {
		opts = append(opts, telego.WithAPIServer(strings.TrimRight(cfg.APIURL, "/")))
	}
	api, err := telego.NewBot(standIn, opts...)
	if err != nil {
		// telego's errors never hold the token.
		return nil, fmt.Errorf("adminbot: %w", err)
	}
	return &Bot{cfg: cfg, api: api, http: client, log: cfg.Log, notes: notices{wake: make(chan struct{}, 1)}}, nil
}

// Run long-polls for updates and answers them, and sends notices, until
// ctx ends. Each admin's updates are answered in order, and apart from
// every other admin's (see queues).
func (b *Bot) Run(ctx context.Context) error {
	done := make(chan struct{})
	defer func() { <-done }()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // runs first: stops the notices, then Run waits for them
	go func() {
		defer close(done)
		b.sendNotices(ctx)
	}()
	updates, err := b.api.UpdatesViaLongPolling(ctx, &telego.GetUpdatesParams{Timeout: 25,
		AllowedUpdates: []string{"message", "callback_query"}})
	if err != nil {
		return fmt.Errorf("adminbot: start long polling: %w", err)
	}
	for u := range updates {
		if ctx.Err() != nil {
			break
		}
		b.dispatch(ctx, u)
	}
	cancel()
	b.queue.wait() // before the flows: a command may still start one
	b.flows.cancelAll()
	b.work.Wait()
	return nil
}

// Handle answers one update and returns when it is answered. Updates
// from anyone who is not an admin, or from a group or channel, get no
// answer at all (an "access denied" would confirm the bot exists); they
// are logged. Run and the webhook call it through each admin's queue.
func (b *Bot) Handle(ctx context.Context, u telego.Update) {
	switch {
	case u.Message != nil:
		m := u.Message
		if !b.admitted(m.From, m.Chat) {
			return
		}
		if t := strings.TrimSpace(m.Text); t != "/cancel" && b.feed(ctx, m.Chat.ID, m.From.ID, m, true) {
			return // an answer in a guided flow (even one starting with "/": a password may)
		}
		if m.Document != nil { // a file: its caption is the command (/import)
			b.command(ctx, m.Chat.ID, m.From.ID, m.Caption, m.Document)
			return
		}
		b.command(ctx, m.Chat.ID, m.From.ID, m.Text, nil)
	case u.CallbackQuery != nil:
		q := u.CallbackQuery
		msg := q.Message
		if msg == nil || !b.admitted(&q.From, msg.GetChat()) {
			return
		}
		_ = b.api.AnswerCallbackQuery(ctx, &telego.AnswerCallbackQueryParams{CallbackQueryID: q.ID})
		b.command(ctx, msg.GetChat().ID, q.From.ID, buttonCommand(q.Data), nil)
	}
}

func (b *Bot) admitted(from *telego.User, chat telego.Chat) bool {
	if from == nil {
		return false
	}
	if _, ok := b.cfg.Admins[from.ID]; !ok || chat.Type != telego.ChatTypePrivate || chat.ID != from.ID {
		b.log.Warn("adminbot: ignored a message from a non-admin or a group", "user", from.ID, "chat", chat.ID, "chat_type", chat.Type)
		return false
	}
	return true
}

// buttonCommand turns a button's callback data into the command it stands
// for: buttons carry commands, so they go through the same parser.
func buttonCommand(data string) string {
	if strings.HasPrefix(data, "/") {
		return data
	}
	return "/" + data
}

// command parses and runs one command and sends the answer; doc is the
// file sent with it, if any.
func (b *Bot) command(ctx context.Context, chat, user int64, text string, doc *telego.Document) {
	c, err := Parse(text)
	if errors.Is(err, ErrNotCommand) && doc != nil {
		b.reply(ctx, chat, reply{text: "To import contacts, send the .csv file with a caption like <code>/import consent visitors of the Berlin fair</code>."})
		return
	}
	if errors.Is(err, ErrNotCommand) {
		b.reply(ctx, chat, reply{text: "Send a command; /help lists them."})
		return
	}
	if err != nil {
		b.reply(ctx, chat, reply{text: Escape(err.Error())})
		return
	}
	if owner(c.Name) && b.cfg.Admins[user] != RoleOwner {
		b.reply(ctx, chat, reply{text: "Only an owner may manage accounts."})
		return
	}
	if c.Name == "import" {
		b.importFile(ctx, chat, user, c, doc)
		return
	}
	r, err := b.run(ctx, c, user)
	if err != nil {
		text, refused := explain(err)
		if refused {
			// A rule or a lookup said no: not a failure. Its text may name
			// the lead (an unknown @username), so only at DEBUG.
			b.log.Debug("adminbot: command refused", "command", c.Name, "user", user, "err", err)
		} else {
			b.log.Error("adminbot: command failed", "command", c.Name, "user", user, "err", err)
		}
		r = reply{text: Escape(text)}
	}
	b.reply(ctx, chat, r)
}

// documentRefused is what the admin reads when a document could not be
// sent: which file, and Telegram's own reason when it gave one.
func documentRefused(name string, err error) string {
	var apiErr *ta.Error
	if !errors.As(err, &apiErr) {
		return fmt.Sprintf("Could not send %s: Telegram could not be reached. Ask again in a moment.", Escape(name))
	}
	s := fmt.Sprintf("Could not send %s: Telegram refused the file", Escape(name))
	if d := strings.TrimSpace(apiErr.Description); d != "" {
		s += " (" + Escape(d) + ")"
	}
	s += "."
	if apiErr.ErrorCode == http.StatusRequestEntityTooLarge {
		s += " It is too large for a bot to send (Telegram takes up to 50 MB); export a shorter period: <code>/export_all YYYY-MM-DD</code> sends the dialogs started since that day."
	}
	return s
}

func owner(name string) bool {
	switch name {
	case "account_add", "account_remove", "pause", "resume", "pause_all", "resume_all":
		return true
	}
	return false
}

// answer is what a manager reads for an error: the domain's own message
// for rule errors, a plain sentence otherwise.
func answer(err error) string {
	s, _ := explain(err)
	return s
}

// explain is answer, and whether the error is a refusal the answer
// explains in full (a rule, a lookup) rather than a failure.
func explain(err error) (string, bool) {
	var (
		de       *domain.Error
		inDialog *domain.InDialogError
	)
	switch {
	case errors.As(err, &de):
		s := de.Message
		if !de.RetryAt.IsZero() {
			s += " (possible again at " + de.RetryAt.UTC().Format("2006-01-02 15:04 UTC") + ")"
		}
		return words.Capitalize(s) + ".", true
	case errors.Is(err, projections.ErrNotFound):
		return "Not found.", true
	case errors.Is(err, domain.ErrUnknownUsername):
		return "No Telegram user has that username.", true
	case errors.Is(err, domain.ErrUnknownDialog):
		return "No dialog has that number; /list shows them.", true
	case errors.Is(err, domain.ErrUnknownAccount):
		return "No such account.", true
	case errors.Is(err, domain.ErrNoConnection):
		return "No account is connected to look the username up; try again when one is.", true
	case errors.As(err, &inDialog) && inDialog.Dialog != 0:
		return fmt.Sprintf("The contact already has an open dialog (dialog %d).", inDialog.Dialog), true
	case errors.As(err, &inDialog):
		return "The contact already has an open dialog (another start is opening it).", true
	case errors.Is(err, domain.ErrInDialog):
		return "The contact already has an open dialog.", true
	}
	return "Something went wrong; it is in the log.", false
}

// reply is an answer: HTML text, optional buttons, optional document.
type reply struct {
	text     string
	buttons  *telego.InlineKeyboardMarkup
	document *document
}

type document struct {
	name string
	data []byte
	path string // a file to send instead of data; removed after sending
}

// reply sends an answer, split into messages of at most 4096 characters;
// the buttons go with the last one.
func (b *Bot) reply(ctx context.Context, chat int64, r reply) {
	if r.document != nil {
		if r.document.path != "" {
			defer os.Remove(r.document.path)
		}
		err := b.retry(ctx, func() error {
			file := tu.FileFromBytes(r.document.data, r.document.name)
			if r.document.path != "" {
				f, err := os.Open(r.document.path)
				if err != nil {
					return err
				}
				defer f.Close()
				file = tu.FileFromReader(f, r.document.name)
			}
			_, err := b.api.SendDocument(ctx, &telego.SendDocumentParams{ChatID: tu.ID(chat),
				Document: file, Caption: r.text, ParseMode: telego.ModeHTML})
			return err
		})
		if err != nil {
			b.log.Error("adminbot: send document", "chat", chat, "file", r.document.name, "err", err)
			if ctx.Err() == nil {
				b.reply(ctx, chat, reply{text: documentRefused(r.document.name, err)})
			}
		}
		return
	}
	if strings.TrimSpace(r.text) == "" {
		return // nothing to say (e.g. /cancel: the flow answers itself)
	}
	parts := Split(r.text, MaxMessage)
	for i, p := range parts {
		params := &telego.SendMessageParams{ChatID: tu.ID(chat), Text: p, ParseMode: telego.ModeHTML,
			LinkPreviewOptions: &telego.LinkPreviewOptions{IsDisabled: true}}
		if i == len(parts)-1 && r.buttons != nil {
			params.ReplyMarkup = r.buttons
		}
		if err := b.retry(ctx, func() error { _, err := b.api.SendMessage(ctx, params); return err }); err != nil {
			b.log.Error("adminbot: send message", "chat", chat, "err", err)
			return
		}
	}
}
