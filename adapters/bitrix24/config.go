// Package bitrix24 is the Bitrix24 connector (REST over an inbound
// webhook): it creates a qualified dialog's lead (mode "lead":
// crm.lead.add) or its contact and deal (mode "deal": crm.contact.add,
// crm.deal.add), adds the transcript as timeline comments
// (crm.timeline.comment.add), finds a lead or deal by the dialog's marker
// (crm.lead.list / crm.deal.list) so that a retry never creates a second
// one, and turns Bitrix24's outbound event ONCRMDEALUPDATE into the
// dialog's outcome (Events, which reads the deal by crm.deal.get).
// Requests are paced by a leaky bucket like Bitrix24's own (2 a second,
// a small burst) and QUERY_LIMIT_EXCEEDED is waited out. The webhook's
// code never appears in an error or a log: they name the portal's host.
//
// bitrix24test is an in-process Bitrix24 for tests.
package bitrix24

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/salesbot/salesbot/adapters/crm"
)

// ErrConfig: the configuration file is missing, unreadable or has a bad
// key; the error names the file and the key.
var ErrConfig = errors.New("bitrix24: invalid configuration")

// Secret is a secret text (the inbound webhook's code, the outbound
// handler's application token): a crm.Secret, printed as "[secret]" and
// never marshalled.
type Secret = crm.Secret

// NewSecret wraps s.
func NewSecret(s string) Secret { return crm.NewSecret(s) }

// Mode is what a dialog becomes in Bitrix24.
type Mode string

const (
	ModeLead Mode = "lead" // a lead (crm.lead.add), the contact's data in it
	ModeDeal Mode = "deal" // a contact (crm.contact.add) and its deal (crm.deal.add)
)

// Config is the connector's configuration (Load reads it from a file).
type Config struct {
	// Portal is the portal's address, https://PORTAL.bitrix24.ru (no
	// secret: errors and logs name it).
	Portal string
	// UserID and Code are the inbound webhook's user and code, from its
	// URL https://PORTAL.bitrix24.ru/rest/USER_ID/CODE/. The code is the
	// credential.
	UserID int64
	Code   Secret
	// Mode: ModeLead (default) or ModeDeal.
	Mode Mode
	// CategoryID and StageID: the pipeline (0: the default one) and the
	// stage ("NEW", "C3:NEW"; "": the pipeline's first) of new deals.
	CategoryID int64
	StageID    string
	// StatusID is new leads' status ("": Bitrix24's first, NEW).
	StatusID string
	// SourceID is the source of new leads, contacts and deals ("": none;
	// e.g. "WEB", or a source of the portal's own).
	SourceID string
	// AssignedByID is the user new items are assigned to (0: the
	// webhook's user).
	AssignedByID int64
	// Fields maps qualification field names (need, budget, timeline,
	// authority, score, team_size, ...) to the lead's or deal's user
	// fields that receive them (UF_CRM_...).
	Fields map[string]string
	// MarkerField is a user field (UF_CRM_...) of the lead or deal that
	// receives the dialog's marker besides its title, so the marker
	// survives a manager renaming it ("": in the title only).
	MarkerField string
	// ApplicationToken authenticates Bitrix24's outbound events: the
	// token Bitrix24 shows when the outbound webhook is created
	// (auth[application_token]). Required for Events.
	ApplicationToken Secret
}

var configKeys = []string{"webhook_url", "webhook_url_file", "mode", "category_id", "stage_id", "status_id", "source_id",
	"assigned_by_id", "fields", "marker_field", "application_token", "application_token_file"}

var (
	fieldName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)
	userField = regexp.MustCompile(`^UF_CRM_[A-Z0-9_]{1,64}$`)
	codeRe    = regexp.MustCompile(`^[A-Za-z0-9]{8,64}$`)
	statusRe  = regexp.MustCompile(`^[A-Za-z0-9_:]{1,50}$`)
)

// Load reads the configuration from a JSON file:
//
//	{"webhook_url_file": "/run/secrets/bitrix24", "mode": "deal",
//	 "category_id": 0, "stage_id": "NEW", "source_id": "WEB",
//	 "fields": {"budget": "UF_CRM_BUDGET"}, "application_token_file": "/run/secrets/bitrix24-events"}
//
// The webhook's URL and the application token are given inline
// ("webhook_url") or as a file's path ("webhook_url_file"; its content is
// trimmed), one of the two. Errors match ErrConfig and name the file and
// the bad key; they never hold a secret.
func Load(path string) (Config, error) { return crm.Load(path, ErrConfig, Parse) }

// Parse reads the configuration from JSON (Load's format).
func Parse(data []byte) (Config, error) {
	r, err := crm.ReadConfig(data, ErrConfig, configKeys)
	if err != nil {
		return Config{}, err
	}
	bad := r.Bad
	str := r.Str
	id := func(key string) (int64, error) {
		v, ok := r.Raw(key)
		if !ok {
			return 0, nil
		}
		var n int64
		if err := json.Unmarshal(v, &n); err != nil || n < 0 {
			return 0, bad(key, "is a whole number (an id from Bitrix24)")
		}
		return n, nil
	}
	secret := func(key string, required bool) (string, error) {
		v, err := r.Secret(key, required)
		return v.Reveal(), err
	}
	var cfg Config
	hook, err := secret("webhook_url", true)
	if err != nil {
		return Config{}, err
	}
	if cfg.Portal, cfg.UserID, cfg.Code, err = ParseWebhookURL(hook); err != nil {
		return Config{}, bad("webhook_url", "%s", err.Error())
	}
	tok, err := secret("application_token", false)
	if err != nil {
		return Config{}, err
	}
	if tok != "" && len(tok) < 16 {
		return Config{}, bad("application_token", "has at least 16 characters (Bitrix24's has 32)")
	}
	cfg.ApplicationToken = NewSecret(tok)
	mode, err := str("mode")
	if err != nil {
		return Config{}, err
	}
	switch Mode(mode) {
	case "", ModeLead:
		cfg.Mode = ModeLead
	case ModeDeal:
		cfg.Mode = ModeDeal
	default:
		return Config{}, bad("mode", `is "lead" (crm.lead.add) or "deal" (crm.contact.add and crm.deal.add)`)
	}
	if cfg.CategoryID, err = id("category_id"); err != nil {
		return Config{}, err
	}
	if cfg.AssignedByID, err = id("assigned_by_id"); err != nil {
		return Config{}, err
	}
	for _, k := range []struct {
		key string
		dst *string
	}{{"stage_id", &cfg.StageID}, {"status_id", &cfg.StatusID}, {"source_id", &cfg.SourceID}} {
		if *k.dst, err = str(k.key); err != nil {
			return Config{}, err
		}
		if *k.dst != "" && !statusRe.MatchString(*k.dst) {
			return Config{}, bad(k.key, "is a Bitrix24 code: letters, digits, '_' and ':' (NEW, C3:NEW, WEB)")
		}
	}
	if cfg.Mode == ModeLead && (cfg.StageID != "" || cfg.CategoryID != 0) {
		return Config{}, bad("stage_id", `and "category_id" are for mode "deal"; a lead has "status_id"`)
	}
	if cfg.Mode == ModeDeal && cfg.StatusID != "" {
		return Config{}, bad("status_id", `is for mode "lead"; a deal has "category_id" and "stage_id"`)
	}
	if cfg.MarkerField, err = str("marker_field"); err != nil {
		return Config{}, err
	}
	if cfg.MarkerField != "" && !userField.MatchString(cfg.MarkerField) {
		return Config{}, bad("marker_field", "is a user field's code, UF_CRM_...")
	}
	if v, ok := r.Raw("fields"); ok {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(v, &m); err != nil {
			return Config{}, bad("fields", "is an object: qualification field name → user field (UF_CRM_...)")
		}
		cfg.Fields = map[string]string{}
		for name, rv := range m {
			var f string
			if !fieldName.MatchString(name) {
				return Config{}, bad("fields."+name, "is not a field name (lower-case letters, digits, _)")
			}
			if err := json.Unmarshal(rv, &f); err != nil || !userField.MatchString(f) {
				return Config{}, bad("fields."+name, "is a user field's code, UF_CRM_...")
			}
			cfg.Fields[name] = f
		}
	}
	return cfg, nil
}

// ParseWebhookURL splits an inbound webhook's URL,
// https://PORTAL.bitrix24.ru/rest/USER_ID/CODE/, into the portal's
// address, the user and the code. Its errors never hold the code.
func ParseWebhookURL(raw string) (portal string, userID int64, code Secret, err error) {
	const want = "is the inbound webhook's URL, https://PORTAL.bitrix24.ru/rest/USER_ID/CODE/"
	u, perr := url.Parse(strings.TrimSpace(raw))
	if perr != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", 0, Secret{}, errors.New(want)
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(parts) != 3 || parts[0] != "rest" {
		return "", 0, Secret{}, errors.New(want)
	}
	userID, perr = strconv.ParseInt(parts[1], 10, 64)
	if perr != nil || userID <= 0 {
		return "", 0, Secret{}, errors.New(want + " (USER_ID is a number)")
	}
	if !codeRe.MatchString(parts[2]) {
		return "", 0, Secret{}, errors.New(want + " (CODE is 8 to 64 letters and digits)")
	}
	return u.Scheme + "://" + u.Host, userID, NewSecret(parts[2]), nil
}

// check is New's check of a Config built by hand.
func (c Config) check() error {
	if _, _, _, err := ParseWebhookURL(c.Portal + "/rest/" + strconv.FormatInt(c.UserID, 10) + "/" + c.Code.Reveal() + "/"); err != nil {
		return fmt.Errorf("%w: portal, user and code: %s", ErrConfig, err.Error())
	}
	if c.Mode != ModeLead && c.Mode != ModeDeal {
		return fmt.Errorf("%w: mode %q", ErrConfig, c.Mode)
	}
	return nil
}
