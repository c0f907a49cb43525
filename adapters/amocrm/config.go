// Package amocrm is the amoCRM / Kommo connector (API v4): it creates a
// qualified dialog's contact and lead in one call (POST
// /api/v4/leads/complex), adds the transcript as notes, finds a lead by
// the dialog's marker (GET /api/v4/leads?query=) so that a retry never
// creates a second one, and turns amoCRM's webhook on a lead's status
// change into the dialog's outcome (Webhook). Requests are paced to at
// most 7 a second (amoCRM's limit per integration) and a 429 is waited
// out. The long-lived token never appears in an error or a log.
//
// amocrmtest is an in-process amoCRM for tests.
package amocrm

import (
	"encoding/json"
	"errors"
	"net/url"
	"regexp"
	"strings"

	"github.com/salesbot/salesbot/adapters/crm"
	"github.com/salesbot/salesbot/domain"
)

// ErrConfig: the configuration file is missing, unreadable or has a bad
// key; the error names the file and the key.
var ErrConfig = errors.New("amocrm: invalid configuration")

// Secret is a secret text (the long-lived token, the webhook's secret): a
// crm.Secret, printed as "[secret]" and never marshalled.
type Secret = crm.Secret

// NewSecret wraps s.
func NewSecret(s string) Secret { return crm.NewSecret(s) }

// Config is the connector's configuration (Load reads it from a file).
type Config struct {
	// BaseURL is the account's address: https://SUBDOMAIN.amocrm.ru,
	// https://SUBDOMAIN.amocrm.com or https://SUBDOMAIN.kommo.com.
	BaseURL string
	// Token is a long-lived token of a private integration (amoCRM:
	// Settings → Integrations → your integration → Keys and scopes).
	Token Secret
	// PipelineID and StatusID: where new leads go.
	PipelineID int64
	StatusID   int64
	// ResponsibleUserID is the manager new leads and contacts get; 0 =
	// amoCRM's default (the token's user).
	ResponsibleUserID int64
	// Fields maps qualification field names (need, budget, timeline,
	// authority, score, and the scenario's own: team_size, ...) to the
	// ids of the lead's custom fields that receive them.
	Fields map[string]int64
	// TelegramFieldID is the contact's custom field for the Telegram
	// username (0: the username goes to the first note only).
	TelegramFieldID int64
	// MarkerFieldID is a lead's text field that receives the dialog's
	// marker ("salesbot dialog 12") besides its name, so the marker
	// survives a manager renaming the lead (0: in the name only).
	MarkerFieldID int64
	// Currency is the account's currency (ISO 4217): lead prices are
	// whole amounts in it. Default RUB.
	Currency string
	// WebhookSecret authenticates amoCRM's webhook: the URL set in amoCRM
	// ends with it (amoCRM does not sign its webhooks). Required for the
	// webhook; at least 16 characters.
	WebhookSecret Secret
}

// configFile is the file's shape: every key, for the messages.
var configKeys = []string{"base_url", "token", "token_file", "pipeline_id", "status_id", "responsible_user_id",
	"fields", "telegram_field_id", "marker_field_id", "currency", "webhook_secret", "webhook_secret_file"}

var fieldName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

// Load reads the configuration from a JSON file:
//
//	{"base_url": "https://example.amocrm.ru", "token_file": "/run/secrets/amocrm",
//	 "pipeline_id": 7001, "status_id": 7002, "fields": {"budget": 9001}, ...}
//
// The token and the webhook's secret are given inline ("token") or as a
// file's path ("token_file"; its content is trimmed), one of the two.
// Relative paths are relative to the working directory. Errors match
// ErrConfig and name the file and the bad key; they never hold a secret.
func Load(path string) (Config, error) { return crm.Load(path, ErrConfig, Parse) }

// Parse reads the configuration from JSON (Load's format).
func Parse(data []byte) (Config, error) {
	r, err := crm.ReadConfig(data, ErrConfig, configKeys)
	if err != nil {
		return Config{}, err
	}
	bad := r.Bad
	str := r.Str
	id := func(key string, required bool) (int64, error) {
		v, ok := r.Raw(key)
		if !ok {
			if required {
				return 0, bad(key, "is required")
			}
			return 0, nil
		}
		var n int64
		if err := json.Unmarshal(v, &n); err != nil || n <= 0 {
			return 0, bad(key, "is a positive whole number (an id from amoCRM)")
		}
		return n, nil
	}
	secret := r.Secret
	var cfg Config
	if cfg.BaseURL, err = str("base_url"); err != nil {
		return Config{}, err
	}
	if err := checkBaseURL(cfg.BaseURL); err != nil {
		return Config{}, bad("base_url", "%s", err.Error())
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	if cfg.Token, err = secret("token", true); err != nil {
		return Config{}, err
	}
	if cfg.WebhookSecret, err = secret("webhook_secret", false); err != nil {
		return Config{}, err
	}
	if !cfg.WebhookSecret.Empty() && len(cfg.WebhookSecret.Reveal()) < 16 {
		return Config{}, bad("webhook_secret", "has at least 16 characters")
	}
	if cfg.PipelineID, err = id("pipeline_id", true); err != nil {
		return Config{}, err
	}
	if cfg.StatusID, err = id("status_id", true); err != nil {
		return Config{}, err
	}
	if cfg.ResponsibleUserID, err = id("responsible_user_id", false); err != nil {
		return Config{}, err
	}
	if cfg.TelegramFieldID, err = id("telegram_field_id", false); err != nil {
		return Config{}, err
	}
	if cfg.MarkerFieldID, err = id("marker_field_id", false); err != nil {
		return Config{}, err
	}
	if v, ok := r.Raw("fields"); ok {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(v, &m); err != nil {
			return Config{}, bad("fields", "is an object: qualification field name → custom field id")
		}
		cfg.Fields = map[string]int64{}
		for name, rv := range m {
			var n int64
			if !fieldName.MatchString(name) {
				return Config{}, bad("fields."+name, "is not a field name (lower-case letters, digits, _)")
			}
			if err := json.Unmarshal(rv, &n); err != nil || n <= 0 {
				return Config{}, bad("fields."+name, "is a positive whole number (a custom field id)")
			}
			cfg.Fields[name] = n
		}
	}
	if cfg.Currency, err = str("currency"); err != nil {
		return Config{}, err
	}
	if cfg.Currency == "" {
		cfg.Currency = "RUB"
	}
	if _, err := domain.ParseMoney("1", cfg.Currency); err != nil {
		return Config{}, bad("currency", "is an ISO 4217 code (RUB, USD, EUR, ...)")
	}
	return cfg, nil
}

func checkBaseURL(raw string) error {
	if raw == "" {
		return errors.New("is required: https://SUBDOMAIN.amocrm.ru or https://SUBDOMAIN.kommo.com")
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.RawQuery != "" || (u.Path != "" && u.Path != "/") {
		return errors.New("is the account's address, https://SUBDOMAIN.amocrm.ru, without a path")
	}
	return nil
}
