// Package hubspot is the HubSpot connector (CRM API v3, a private app's
// token): it creates a qualified dialog's contact (POST
// /crm/v3/objects/contacts) and its deal associated with it (POST
// /crm/v3/objects/deals), adds the transcript as a note associated with
// the deal (POST /crm/v3/objects/notes), finds a deal by the dialog's
// marker (POST /crm/v3/objects/deals/search) so that a retry never creates
// a second one, and turns HubSpot's webhook on a deal's stage (signature
// v3) into the dialog's outcome (Webhook). A 429 is waited out (a daily
// limit is not); a create is never retried after an answer that may
// hide a success. The token never appears in an error or a log.
//
// hubspottest is an in-process HubSpot for tests.
package hubspot

import (
	"encoding/json"
	"errors"
	"net/url"
	"regexp"
	"strings"

	"github.com/salesbot/salesbot/adapters/crm"
	"github.com/salesbot/salesbot/domain"
)

// DefaultBaseURL is HubSpot's API.
const DefaultBaseURL = "https://api.hubapi.com"

// ErrConfig: the configuration file is missing, unreadable or has a bad
// key; the error names the file and the key.
var ErrConfig = errors.New("hubspot: invalid configuration")

// Secret is a secret text (the private app's token, the app's client
// secret): a crm.Secret, printed as "[secret]" and never marshalled.
type Secret = crm.Secret

// NewSecret wraps s.
func NewSecret(s string) Secret { return crm.NewSecret(s) }

// Config is the connector's configuration (Load reads it from a file).
type Config struct {
	// BaseURL is HubSpot's API (DefaultBaseURL; a fake's in tests).
	BaseURL string
	// Token is the private app's access token ("pat-..."; HubSpot:
	// Settings → Integrations → Private apps → your app → Auth).
	Token Secret
	// Pipeline and DealStage: where new deals go (internal ids: "default"
	// and "appointmentscheduled" in the default pipeline, numbers in
	// others).
	Pipeline  string
	DealStage string
	// WonStage and LostStage are the pipeline's closed-won and closed-lost
	// stage ids ("closedwon", "closedlost" in the default pipeline): a
	// deal moved to one of them brings the outcome back (Webhook).
	WonStage  string
	LostStage string
	// OwnerID is the HubSpot user (hubspot_owner_id) new deals and
	// contacts get; "" = none.
	OwnerID string
	// DealProperties and ContactProperties map qualification field names
	// (need, budget, timeline, authority, score, and the scenario's own:
	// team_size, ...) to the internal names of the deal's or contact's
	// properties that receive them.
	DealProperties    map[string]string
	ContactProperties map[string]string
	// TelegramProperty is the contact's property for the Telegram
	// username ("" = the username goes to the note only). When it is
	// set, a contact with the same username is reused, not created again.
	TelegramProperty string
	// MarkerProperty is a deal's text property that receives the dialog's
	// marker ("salesbot dialog 12") besides its name, so the marker
	// survives a manager renaming the deal; FindLead searches it exactly
	// ("" = the deal's name only).
	MarkerProperty string
	// Currency is the account's company currency (ISO 4217): a budget in
	// it becomes the deal's amount. Default USD.
	Currency string
	// ClientSecret is the app's client secret: it signs HubSpot's
	// webhook (signature v3). Required for the webhook.
	ClientSecret Secret
	// WebhookURL is the webhook's target URL exactly as set in HubSpot
	// (https://salesbot.example.com/hooks/hubspot): the signature covers
	// it, and behind a proxy the request's own URL may differ. Required
	// for the webhook.
	WebhookURL string
}

var configKeys = []string{"base_url", "token", "token_file", "pipeline", "dealstage", "won_stage", "lost_stage", "owner_id",
	"deal_properties", "contact_properties", "telegram_property", "marker_property", "currency",
	"client_secret", "client_secret_file", "webhook_url"}

var (
	fieldName    = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)
	propertyName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,99}$`) // HubSpot's internal names
	internalID   = regexp.MustCompile(`^[A-Za-z0-9_-]{1,100}$`)
)

// Load reads the configuration from a JSON file:
//
//	{"token_file": "/run/secrets/hubspot", "pipeline": "default", "dealstage": "appointmentscheduled",
//	 "won_stage": "closedwon", "lost_stage": "closedlost",
//	 "deal_properties": {"need": "description"}, "client_secret_file": "/run/secrets/hubspot-app",
//	 "webhook_url": "https://salesbot.example.com/hooks/hubspot"}
//
// The token and the client secret are given inline ("token") or as a
// file's path ("token_file"; its content is trimmed), one of the two.
// Errors match ErrConfig and name the file and the bad key; they never
// hold a secret.
func Load(path string) (Config, error) { return crm.Load(path, ErrConfig, Parse) }

// Parse reads the configuration from JSON (Load's format).
func Parse(data []byte) (Config, error) {
	r, err := crm.ReadConfig(data, ErrConfig, configKeys)
	if err != nil {
		return Config{}, err
	}
	bad := r.Bad
	str := func(key string) (string, error) {
		s, err := r.Str(key)
		return strings.TrimSpace(s), err
	}
	id := func(key string, required bool) (string, error) {
		s, err := str(key)
		switch {
		case err != nil:
			return "", err
		case s == "" && required:
			return "", bad(key, "is required (an internal id from HubSpot)")
		case s != "" && !internalID.MatchString(s):
			return "", bad(key, "is an internal id from HubSpot (letters, digits, _ and -)")
		}
		return s, nil
	}
	secret := r.Secret
	props := func(key string) (map[string]string, error) {
		v, ok := r.Raw(key)
		if !ok {
			return nil, nil
		}
		var m map[string]string
		if err := json.Unmarshal(v, &m); err != nil {
			return nil, bad(key, "is an object: qualification field name → property's internal name")
		}
		for name, p := range m {
			if !fieldName.MatchString(name) {
				return nil, bad(key+"."+name, "is not a field name (lower-case letters, digits, _)")
			}
			if !propertyName.MatchString(p) {
				return nil, bad(key+"."+name, "is a property's internal name (lower-case letters, digits, _)")
			}
		}
		return m, nil
	}
	var cfg Config
	if cfg.BaseURL, err = str("base_url"); err != nil {
		return Config{}, err
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	if err := checkBaseURL(cfg.BaseURL); err != nil {
		return Config{}, bad("base_url", "%s", err.Error())
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	if cfg.Token, err = secret("token", true); err != nil {
		return Config{}, err
	}
	if cfg.ClientSecret, err = secret("client_secret", false); err != nil {
		return Config{}, err
	}
	for _, f := range []struct {
		key string
		dst *string
	}{{"pipeline", &cfg.Pipeline}, {"dealstage", &cfg.DealStage}, {"won_stage", &cfg.WonStage}, {"lost_stage", &cfg.LostStage}} {
		if *f.dst, err = id(f.key, true); err != nil {
			return Config{}, err
		}
	}
	if cfg.WonStage == cfg.LostStage {
		return Config{}, bad("lost_stage", "differs from \"won_stage\"")
	}
	if cfg.OwnerID, err = id("owner_id", false); err != nil {
		return Config{}, err
	}
	if cfg.DealProperties, err = props("deal_properties"); err != nil {
		return Config{}, err
	}
	if cfg.ContactProperties, err = props("contact_properties"); err != nil {
		return Config{}, err
	}
	for _, f := range []struct {
		key string
		dst *string
	}{{"telegram_property", &cfg.TelegramProperty}, {"marker_property", &cfg.MarkerProperty}} {
		if *f.dst, err = str(f.key); err != nil {
			return Config{}, err
		}
		if *f.dst != "" && !propertyName.MatchString(*f.dst) {
			return Config{}, bad(f.key, "is a property's internal name (lower-case letters, digits, _)")
		}
	}
	if cfg.Currency, err = str("currency"); err != nil {
		return Config{}, err
	}
	if cfg.Currency == "" {
		cfg.Currency = "USD"
	}
	if _, err := domain.ParseMoney("1", cfg.Currency); err != nil {
		return Config{}, bad("currency", "is an ISO 4217 code (USD, EUR, RUB, ...)")
	}
	if cfg.WebhookURL, err = str("webhook_url"); err != nil {
		return Config{}, err
	}
	if cfg.WebhookURL != "" {
		if err := checkWebhookURL(cfg.WebhookURL); err != nil {
			return Config{}, bad("webhook_url", "%s", err.Error())
		}
	}
	return cfg, nil
}

func checkBaseURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.RawQuery != "" || (u.Path != "" && u.Path != "/") {
		return errors.New("is the API's address, https://api.hubapi.com, without a path")
	}
	return nil
}

func checkWebhookURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return errors.New("is the webhook's target URL as set in HubSpot, https://HOST/PATH, without a query")
	}
	return nil
}
