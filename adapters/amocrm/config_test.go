package amocrm_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/salesbot/salesbot/adapters/amocrm"
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
	path := writeFile(t, "amocrm.json", `{
  "base_url": "https://example.kommo.com/",
  "token_file": "`+tok+`",
  "pipeline_id": 7001, "status_id": 7002, "responsible_user_id": 42,
  "fields": {"budget": 9001, "team_size": 9005},
  "telegram_field_id": 9100,
  "webhook_secret": "0123456789abcdef-hook"
}`)
	cfg, err := amocrm.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.BaseURL != "https://example.kommo.com" || cfg.Token.Reveal() != token || cfg.PipelineID != 7001 || cfg.StatusID != 7002 ||
		cfg.ResponsibleUserID != 42 || cfg.Fields["team_size"] != 9005 || cfg.TelegramFieldID != 9100 || cfg.Currency != "RUB" ||
		cfg.WebhookSecret.Reveal() != "0123456789abcdef-hook" {
		t.Fatalf("%+v", cfg)
	}
}

func TestLoadErrorsNameTheKey(t *testing.T) {
	base := `"base_url": "https://example.amocrm.ru", "pipeline_id": 1, "status_id": 2`
	for _, c := range []struct{ json, key string }{
		{`{` + base + `}`, `"token"`},
		{`{` + base + `, "token": "x", "pipelin_id": 3}`, `"pipelin_id"`},
		{`{` + base + `, "token": "x", "token_file": "/y"}`, `"token"`},
		{`{` + base + `, "token_file": "/nonexistent/token"}`, `"token_file"`},
		{`{"base_url": "https://example.amocrm.ru/api/v4", "token": "x", "pipeline_id": 1, "status_id": 2}`, `"base_url"`},
		{`{"base_url": "https://example.amocrm.ru", "token": "x", "pipeline_id": "1", "status_id": 2}`, `"pipeline_id"`},
		{`{"base_url": "https://example.amocrm.ru", "token": "x", "pipeline_id": 1}`, `"status_id"`},
		{`{` + base + `, "token": "x", "fields": {"Budget": 1}}`, `"fields.Budget"`},
		{`{` + base + `, "token": "x", "fields": {"budget": -1}}`, `"fields.budget"`},
		{`{` + base + `, "token": "x", "currency": "rubles"}`, `"currency"`},
		{`{` + base + `, "token": "x", "webhook_secret": "short"}`, `"webhook_secret"`},
	} {
		path := writeFile(t, "c.json", c.json)
		_, err := amocrm.Load(path)
		if !errors.Is(err, amocrm.ErrConfig) || !strings.Contains(err.Error(), c.key) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: %v (want the key %s)", c.json, err, c.key)
		}
	}
	if _, err := amocrm.Load(filepath.Join(t.TempDir(), "none.json")); !errors.Is(err, amocrm.ErrConfig) || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	// A secret is never in the error, even one inline in a bad file.
	path := writeFile(t, "c.json", `{"base_url": "ftp://x", "token": "`+token+`", "pipeline_id": 1, "status_id": 2}`)
	if _, err := amocrm.Load(path); err == nil || strings.Contains(err.Error(), token) {
		t.Errorf("err %v", err)
	}
}
