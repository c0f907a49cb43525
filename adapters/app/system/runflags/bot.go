package runflags

import (
	"flag"
	"net/url"

	"github.com/salesbot/salesbot/adapters/adminbot"
	"github.com/salesbot/salesbot/adapters/app/system"
	"github.com/salesbot/salesbot/adapters/cli"
	"github.com/salesbot/salesbot/adapters/redact"
)

// Bot is the admin bot's configuration.
type Bot struct {
	token, apiURL, admins string
	webhookURL, listen    string
	ids                   map[int64]adminbot.Role
}

// Register registers the options on fs, their defaults from getenv.
func (b *Bot) Register(fs *flag.FlagSet, getenv func(string) string) {
	b.apiURL, b.admins = getenv("SALESBOT_BOT_API_URL"), getenv("SALESBOT_ADMIN_IDS")
	cli.SecretFlag(fs, &b.token, "bot-token", "SALESBOT_BOT_TOKEN", "bot-token", "the admin bot's token",
		"the admin bot's `token` from @BotFather; empty = no bot")
	fs.StringVar(&b.apiURL, "bot-api-url", b.apiURL, "Bot API server `URL` (a self-hosted one); empty = Telegram's [SALESBOT_BOT_API_URL]")
	b.webhookURL, b.listen = getenv("SALESBOT_BOT_WEBHOOK_URL"), envOr(getenv, "SALESBOT_BOT_WEBHOOK_LISTEN", ":8443")
	fs.StringVar(&b.webhookURL, "bot-webhook-url", b.webhookURL, "public https `URL` Telegram posts updates to; empty = long polling [SALESBOT_BOT_WEBHOOK_URL]")
	fs.StringVar(&b.listen, "bot-webhook-listen", b.listen, "`address` the webhook server listens on [SALESBOT_BOT_WEBHOOK_LISTEN]")
	fs.StringVar(&b.admins, "admin-ids", b.admins, "Telegram user `ids` allowed to use the bot, comma-separated; 123:owner may also manage accounts [SALESBOT_ADMIN_IDS]")
}

// Check parses the admin list; with a token it must name someone.
func (b *Bot) Check() error {
	ids, err := adminbot.ParseAdmins(b.admins)
	if err != nil {
		return cli.Usagef("--admin-ids (SALESBOT_ADMIN_IDS): %v", err)
	}
	b.ids = ids
	if b.apiURL != "" {
		if u, err := url.Parse(b.apiURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return cli.Usagef("--bot-api-url (SALESBOT_BOT_API_URL): %q is not an http(s) URL", redact.URL(b.apiURL))
		}
	}
	if b.webhookURL != "" {
		if u, err := url.Parse(b.webhookURL); err != nil || u.Scheme != "https" || u.Host == "" {
			return cli.Usagef("--bot-webhook-url (SALESBOT_BOT_WEBHOOK_URL): %q is not an https URL (Telegram posts only to https)", redact.URL(b.webhookURL))
		}
	}
	if b.token != "" && len(b.ids) == 0 {
		return cli.Usagef("--admin-ids (SALESBOT_ADMIN_IDS) is required with a bot token: nobody could use the bot")
	}
	return nil
}

// System is the admin bot of the running system; nil without a token.
// Call Check first.
func (b *Bot) System() *system.Bot {
	if b.token == "" {
		return nil
	}
	return &system.Bot{Token: b.token, APIURL: b.apiURL, Admins: b.ids, WebhookURL: b.webhookURL, Listen: b.listen}
}
