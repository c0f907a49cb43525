package hubspot_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/salesbot/salesbot/adapters/hubspot"
)

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoad(t *testing.T) {
	tok := writeFile(t, "token", token+"\n")
	path := writeFile(t, "hubspot.json", `{
  "token_file": "`+tok+`",
  "pipeline": "default", "dealstage": "qualifiedtobuy", "won_stage": "closedwon", "lost_stage": "closedlost",
  "owner_id": "77", "deal_properties": {"need": "description", "team_size": "team_size"},
  "contact_properties": {"authority": "jobtitle"}, "telegram_property": "telegram_username",
  "marker_property": "salesbot_marker", "client_secret": "`+clientSecret+`",
  "webhook_url": "https://salesbot.example.com/hooks/hubspot"
}`)
	cfg, err := hubspot.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.BaseURL != hubspot.DefaultBaseURL || cfg.Token.Reveal() != token || cfg.Pipeline != "default" || cfg.DealStage != "qualifiedtobuy" ||
		cfg.WonStage != "closedwon" || cfg.LostStage != "closedlost" || cfg.OwnerID != "77" || cfg.DealProperties["team_size"] != "team_size" ||
		cfg.ContactProperties["authority"] != "jobtitle" || cfg.TelegramProperty != "telegram_username" || cfg.MarkerProperty != "salesbot_marker" ||
		cfg.Currency != "USD" || cfg.ClientSecret.Reveal() != clientSecret || cfg.WebhookURL != "https://salesbot.example.com/hooks/hubspot" {
		t.Fatalf("%+v", cfg)
	}
}

func TestParseRefusals(t *testing.T) {
	base := `"token": "pat-x", "pipeline": "default", "dealstage": "qualifiedtobuy", "won_stage": "closedwon", "lost_stage": "closedlost"`
	for _, c := range []struct{ json, key string }{
		{`{` + base + `, "dealstag": "x"}`, `"dealstag" is not a key`},
		{`{"pipeline": "default", "dealstage": "a", "won_stage": "b", "lost_stage": "c"}`, `"token" is required`},
		{`{` + base + `, "token_file": "/x"}`, `"token" and "token_file"`},
		{`{"token": "pat-x", "pipeline": "default", "dealstage": "a", "won_stage": "b"}`, `"lost_stage" is required`},
		{`{"token": "pat-x", "pipeline": "default", "dealstage": "a", "won_stage": "b", "lost_stage": "b"}`, `"lost_stage" differs`},
		{`{` + base + `, "pipeline": "a b"}`, `"pipeline" is an internal id`}, // duplicate key: the last wins, and is refused
		{`{` + base + `, "base_url": "https://api.hubapi.com/crm"}`, `"base_url"`},
		{`{` + base + `, "deal_properties": {"need": "Bad Name"}}`, `"deal_properties.need"`},
		{`{` + base + `, "contact_properties": {"Need": "x"}}`, `"contact_properties.Need"`},
		{`{` + base + `, "currency": "XXXX"}`, `"currency"`},
		{`{` + base + `, "webhook_url": "https://h/p?q=1"}`, `"webhook_url"`},
		{`{` + base + `, "client_secret_file": "/no/such/file"}`, `"client_secret_file" cannot be read`},
		{`[]`, `not a JSON object`},
	} {
		_, err := hubspot.Parse([]byte(c.json))
		if !errors.Is(err, hubspot.ErrConfig) || !strings.Contains(err.Error(), c.key) {
			t.Errorf("%s: %v", c.json, err)
		}
		if err != nil && strings.Contains(err.Error(), "pat-x") {
			t.Errorf("the token is in %v", err)
		}
	}
	if _, err := hubspot.Load(filepath.Join(t.TempDir(), "none.json")); !errors.Is(err, hubspot.ErrConfig) {
		t.Fatal(err)
	}
}
