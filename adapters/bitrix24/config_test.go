package bitrix24_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/salesbot/salesbot/adapters/bitrix24"
)

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(dir, "hook")
	if err := os.WriteFile(secret, []byte("https://example.bitrix24.ru/rest/7/"+code+"/\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "bitrix24.json")
	if err := os.WriteFile(path, []byte(`{"webhook_url_file": "`+secret+`", "mode": "deal", "category_id": 2, "stage_id": "C2:NEW",
		"source_id": "WEB", "assigned_by_id": 3, "fields": {"need": "UF_CRM_NEED"}, "marker_field": "UF_CRM_MARKER",
		"application_token": "51856fefc120afa4b628cc82d3935cce"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := bitrix24.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Portal != "https://example.bitrix24.ru" || cfg.UserID != 7 || cfg.Code.Reveal() != code || cfg.Mode != bitrix24.ModeDeal ||
		cfg.CategoryID != 2 || cfg.StageID != "C2:NEW" || cfg.SourceID != "WEB" || cfg.AssignedByID != 3 ||
		cfg.Fields["need"] != "UF_CRM_NEED" || cfg.MarkerField != "UF_CRM_MARKER" || cfg.ApplicationToken.Reveal() != "51856fefc120afa4b628cc82d3935cce" {
		t.Fatalf("%+v", cfg)
	}
	if _, err := bitrix24.New(cfg, bitrix24.Options{}); err != nil {
		t.Fatal(err)
	}
	if _, err := bitrix24.Load(filepath.Join(dir, "missing.json")); !errors.Is(err, bitrix24.ErrConfig) || !strings.Contains(err.Error(), "missing.json") {
		t.Fatalf("missing: %v", err)
	}
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"webhook_url": "https://example.bitrix24.ru/rest/7/`+code+`/", "mode": "pipeline"}`), 0o600)
	if _, err := bitrix24.Load(bad); !errors.Is(err, bitrix24.ErrConfig) || !strings.Contains(err.Error(), "bad.json") || !strings.Contains(err.Error(), `"mode"`) {
		t.Fatalf("bad: %v", err)
	}
}

func TestParseNamesTheKey(t *testing.T) {
	hook := `"webhook_url": "https://example.bitrix24.ru/rest/7/` + code + `/"`
	for _, c := range []struct{ json, key string }{
		{`{}`, `"webhook_url"`},
		{`{"webhook_url": "https://example.bitrix24.ru/rest/7/"}`, `"webhook_url"`},
		{`{"webhook_url": "https://example.bitrix24.ru/rest/x/` + code + `/"}`, `"webhook_url"`},
		{`{"webhook_url": "https://example.bitrix24.ru/crm/7/` + code + `/"}`, `"webhook_url"`},
		{`{"webhook_url": "https://example.bitrix24.ru/rest/7/` + code + `/crm.lead.add.json"}`, `"webhook_url"`},
		{`{"webhook_url": "https://example.bitrix24.ru/rest/7/sh0rt/"}`, `"webhook_url"`},
		{`{` + hook + `, "webhook_url_file": "/x"}`, `"webhook_url"`},
		{`{` + hook + `, "pipeline": 1}`, `"pipeline"`},
		{`{` + hook + `, "mode": "deal", "status_id": "NEW"}`, `"status_id"`},
		{`{` + hook + `, "stage_id": "NEW"}`, `"stage_id"`},
		{`{` + hook + `, "mode": "deal", "stage_id": "NEW STAGE"}`, `"stage_id"`},
		{`{` + hook + `, "category_id": -1, "mode": "deal"}`, `"category_id"`},
		{`{` + hook + `, "assigned_by_id": "3"}`, `"assigned_by_id"`},
		{`{` + hook + `, "fields": {"need": "NEED"}}`, `"fields.need"`},
		{`{` + hook + `, "fields": {"Need": "UF_CRM_NEED"}}`, `"fields.Need"`},
		{`{` + hook + `, "fields": []}`, `"fields"`},
		{`{` + hook + `, "marker_field": "TITLE"}`, `"marker_field"`},
		{`{` + hook + `, "application_token": "short"}`, `"application_token"`},
		{`{` + hook + `, "application_token_file": "/nonexistent/x"}`, `"application_token_file"`},
		{`[]`, `not a JSON object`},
	} {
		_, err := bitrix24.Parse([]byte(c.json))
		if !errors.Is(err, bitrix24.ErrConfig) || !strings.Contains(err.Error(), c.key) {
			t.Errorf("%s: %v, want the key %s", c.json, err, c.key)
		}
		if err != nil && strings.Contains(err.Error(), code) {
			t.Errorf("%s: the error holds the code: %v", c.json, err)
		}
	}
	cfg, err := bitrix24.Parse([]byte(`{` + hook + `}`))
	if err != nil || cfg.Mode != bitrix24.ModeLead || cfg.Portal != "https://example.bitrix24.ru" {
		t.Fatalf("%+v, %v", cfg, err)
	}
}

func TestNewRefuses(t *testing.T) {
	for _, cfg := range []bitrix24.Config{
		{},
		{Portal: "https://example.bitrix24.ru", UserID: 7},
		{Portal: "https://example.bitrix24.ru/rest", UserID: 7, Code: bitrix24.NewSecret(code)},
		{Portal: "https://example.bitrix24.ru", UserID: 0, Code: bitrix24.NewSecret(code)},
		{Portal: "https://example.bitrix24.ru", UserID: 7, Code: bitrix24.NewSecret(code), Mode: "contact"},
	} {
		if _, err := bitrix24.New(cfg, bitrix24.Options{}); !errors.Is(err, bitrix24.ErrConfig) || strings.Contains(err.Error(), code) {
			t.Errorf("%+v: %v", cfg, err)
		}
	}
}
