package main

import (
	"flag"
	"strconv"
	"strings"

	"github.com/salesbot/salesbot/adapters/cli"
	"github.com/salesbot/salesbot/adapters/telegram"
	"github.com/salesbot/salesbot/eventstore"
)

// tgConfig is the company's Telegram API credentials (my.telegram.org).
type tgConfig struct {
	appID   int
	appHash string
}

func (t *tgConfig) register(fs *flag.FlagSet, a *app) {
	if v := a.getenv("SALESBOT_TG_APP_ID"); v != "" {
		t.appID, _ = strconv.Atoi(v) // checked in check
	}
	fs.IntVar(&t.appID, "tg-app-id", t.appID, "the company's Telegram API `id` from my.telegram.org [SALESBOT_TG_APP_ID]")
	cli.SecretFlag(fs, &t.appHash, "tg-app-hash", "SALESBOT_TG_APP_HASH", "tg-app-hash", "the Telegram API hash",
		"the company's Telegram API `hash` from my.telegram.org")
}

// check requires the credentials when talking to the real Telegram.
func (t *tgConfig) check(a *app) error {
	if v := a.getenv("SALESBOT_TG_APP_ID"); v != "" {
		if _, err := strconv.Atoi(v); err != nil {
			return usagef("SALESBOT_TG_APP_ID: %q is not a number", v)
		}
	}
	if a.telegram != nil || a.live != nil {
		return nil // a sandbox's, or the running server's
	}
	if t.appID <= 0 || strings.TrimSpace(t.appHash) == "" {
		return usagef("--tg-app-id and --tg-app-hash (SALESBOT_TG_APP_ID, SALESBOT_TG_APP_HASH, or --tg-app-hash-file) are required: create them at https://my.telegram.org")
	}
	return nil
}

func (a *app) dialer(t tgConfig, st eventstore.Log) *telegram.Dialer {
	if a.live != nil && t.appID == 0 {
		t = a.live.tg
	}
	d := &telegram.Dialer{AppID: t.appID, AppHash: t.appHash, Secrets: st, IndexKey: st.IndexKey(), Log: a.log}
	if a.telegram != nil {
		d.Options = *a.telegram
		if d.AppID == 0 {
			d.AppID, d.AppHash = 1, "sandbox"
		}
	}
	return d
}
