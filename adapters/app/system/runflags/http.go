package runflags

import (
	"crypto/tls"
	"flag"
	"math"
	"strconv"
	"strings"

	"github.com/salesbot/salesbot/adapters/amocrm"
	"github.com/salesbot/salesbot/adapters/app/system"
	"github.com/salesbot/salesbot/adapters/bitrix24"
	"github.com/salesbot/salesbot/adapters/cli"
	"github.com/salesbot/salesbot/adapters/httpapi"
	"github.com/salesbot/salesbot/adapters/hubspot"
	"github.com/salesbot/salesbot/adapters/web"
)

// DefaultHTTPListen is where run serves HTTP unless told otherwise. A
// variable only so that cmd/salesbot's tests, which start many runs at
// once, serve on free ports (its TestMain); nothing else sets it.
var DefaultHTTPListen = "127.0.0.1:8080"

// HTTP is the HTTP server's configuration, with the LLM's prices that
// the web console's analytics show costs at, and the outbound webhooks'
// one switch.
type HTTP struct {
	allowPrivate bool // --webhooks-allow-private
	// --amocrm-config, --bitrix24-config, --hubspot-config, and what
	// they hold
	crmFiles  [3]string
	crm       system.CRM
	listen    string
	cert, key string // PEM, from --http-tls-cert(-file), ...
	tls       *tls.Config
	// --llm-price-prompt, --llm-price-completion and --llm-price-cached
	// as given, and read
	prices [3]string
	price  web.LLMPrice
}

// priceFlags are the price options: flag and variable, prompt first.
var priceFlags = [3][2]string{
	{"llm-price-prompt", "SALESBOT_LLM_PRICE_PROMPT"},
	{"llm-price-completion", "SALESBOT_LLM_PRICE_COMPLETION"},
	{"llm-price-cached", "SALESBOT_LLM_PRICE_CACHED"},
}

// Register registers the options on fs, their defaults from getenv.
func (h *HTTP) Register(fs *flag.FlagSet, getenv func(string) string) {
	h.listen = envOr(getenv, "SALESBOT_HTTP_LISTEN", DefaultHTTPListen)
	fs.StringVar(&h.listen, "http-listen", h.listen, "`address` the HTTP API listens on; empty or off = no HTTP server [SALESBOT_HTTP_LISTEN]")
	cli.SecretFlag(fs, &h.cert, "http-tls-cert", "SALESBOT_HTTP_TLS_CERT", "http-tls-cert", "the HTTP server's TLS certificate chain",
		"the HTTP server's TLS certificate chain: a PEM `file`, or the PEM itself; with --http-tls-key serves HTTPS")
	cli.SecretFlag(fs, &h.key, "http-tls-key", "SALESBOT_HTTP_TLS_KEY", "http-tls-key", "the HTTP server's TLS private key",
		"the HTTP server's TLS private key: a PEM `file`, or the PEM itself")
	h.allowPrivate = AllowPrivateWebhooks(getenv)
	fs.BoolVar(&h.allowPrivate, "webhooks-allow-private", h.allowPrivate,
		"let webhook subscriptions target private and loopback addresses (receivers on this machine or its network) [SALESBOT_WEBHOOKS_ALLOW_PRIVATE]")
	for i, f := range crmFlags {
		h.crmFiles[i] = getenv(f.env)
		fs.StringVar(&h.crmFiles[i], f.flag, h.crmFiles[i], "connect "+f.name+": its configuration `file` (JSON, see docs/integrations.md): "+
			"dialogs go to it as they qualify, its won and lost come back ["+f.env+"]")
	}
	for i, kind := range []string{"prompt", "completion"} {
		h.prices[i] = getenv(priceFlags[i][1])
		fs.StringVar(&h.prices[i], priceFlags[i][0], h.prices[i], "the LLM's price per million "+kind+
			" tokens in US `dollars`, e.g. 0.15 (or per 1,000 tokens with /1k: 0.00015/1k), for the web console's costs; empty or 0 = not known ["+priceFlags[i][1]+"]")
	}
	h.prices[2] = getenv(priceFlags[2][1])
	fs.StringVar(&h.prices[2], priceFlags[2][0], h.prices[2], "the LLM's price per million cached prompt tokens (those the provider's prompt cache served) "+
		"in US `dollars`, e.g. 0.075 (or 0.000075/1k); empty = the prompt price ["+priceFlags[2][1]+"]")
}

// checkPrices reads the LLM's prices: decimal numbers, 0 or more, per
// million tokens, or per 1,000 tokens when they end in "/1k" (as some
// price lists give them; "/1m" says per million).
func (h *HTTP) checkPrices() error {
	var p [3]float64
	for i, text := range h.prices {
		text = strings.ToLower(strings.TrimSpace(text))
		if text == "" {
			continue
		}
		per := 1.0
		if t, ok := strings.CutSuffix(text, "/1k"); ok {
			text, per = strings.TrimSpace(t), 1000
		} else if t, ok := strings.CutSuffix(text, "/1m"); ok {
			text = strings.TrimSpace(t)
		}
		v, err := strconv.ParseFloat(text, 64)
		if err != nil || v < 0 || math.IsInf(v, 0) || math.IsNaN(v) {
			return cli.Usagef("--%s (%s): %q is not a price in US dollars per million tokens, such as 0.15 (or per 1,000 tokens: 0.00015/1k)",
				priceFlags[i][0], priceFlags[i][1], h.prices[i])
		}
		p[i] = v * per
	}
	h.price = web.LLMPrice{Prompt: p[0], Completion: p[1], Cached: p[2], HasCached: strings.TrimSpace(h.prices[2]) != ""}
	return nil
}

// crmFlags are the CRM connectors' options.
var crmFlags = [3]struct{ flag, env, name string }{
	{"amocrm-config", "SALESBOT_AMOCRM_CONFIG", "amoCRM / Kommo"},
	{"bitrix24-config", "SALESBOT_BITRIX24_CONFIG", "Bitrix24"},
	{"hubspot-config", "SALESBOT_HUBSPOT_CONFIG", "HubSpot"},
}

// checkCRMs reads the CRMs' configuration files.
func (h *HTTP) checkCRMs() error {
	for i, path := range h.crmFiles {
		if path == "" {
			continue
		}
		var err error
		switch i {
		case 0:
			var c amocrm.Config
			c, err = amocrm.Load(path)
			h.crm.AmoCRM = &c
		case 1:
			var c bitrix24.Config
			c, err = bitrix24.Load(path)
			h.crm.Bitrix24 = &c
		case 2:
			var c hubspot.Config
			c, err = hubspot.Load(path)
			h.crm.HubSpot = &c
		}
		if err != nil {
			return cli.Usagef("--%s (%s): %v", crmFlags[i].flag, crmFlags[i].env, err)
		}
	}
	return nil
}

// CRM is the CRM connectors' configuration. Call Check first.
func (h *HTTP) CRM() system.CRM { return h.crm }

// Check reads the TLS pair (both or neither), the LLM's prices and the
// CRMs' files.
func (h *HTTP) Check() error {
	if h.listen == "off" {
		h.listen = ""
	}
	if err := h.checkPrices(); err != nil {
		return err
	}
	if err := h.checkCRMs(); err != nil {
		return err
	}
	switch {
	case h.cert == "" && h.key == "":
		return nil
	case h.cert == "" || h.key == "":
		return cli.Usagef("--http-tls-cert and --http-tls-key (SALESBOT_HTTP_TLS_CERT, SALESBOT_HTTP_TLS_KEY) go together: give both or neither")
	case h.listen == "":
		return cli.Usagef("--http-tls-cert and --http-tls-key need --http-listen")
	}
	var err error
	if h.tls, err = httpapi.LoadTLS(h.cert, h.key); err != nil {
		return cli.Usagef("--http-tls-cert, --http-tls-key: %v", err)
	}
	return nil
}

// System is the running system's HTTP server; nil when it is off. Call
// Check first.
func (h *HTTP) System() *system.HTTP {
	if h.listen == "" {
		return nil
	}
	return &system.HTTP{Listen: h.listen, TLS: h.tls, LLMPrice: h.price}
}

// Webhooks is the outbound webhooks' configuration.
func (h *HTTP) Webhooks() system.Webhooks { return system.Webhooks{AllowPrivate: h.allowPrivate} }

// AllowPrivateWebhooks reads SALESBOT_WEBHOOKS_ALLOW_PRIVATE (a boolean:
// true, 1, ...), the default of --webhooks-allow-private, and what
// 'webhooks add' without a running server goes by.
func AllowPrivateWebhooks(getenv func(string) string) bool {
	allow, _ := strconv.ParseBool(getenv("SALESBOT_WEBHOOKS_ALLOW_PRIVATE"))
	return allow
}
