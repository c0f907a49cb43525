package main

import (
	"crypto/tls"
	"flag"

	"github.com/salesbot/salesbot/adapters/app/system"
	"github.com/salesbot/salesbot/adapters/cli"
	"github.com/salesbot/salesbot/adapters/httpapi"
)

// defaultHTTPListen is where run serves HTTP unless told otherwise. A
// variable only so that this package's tests, which start many runs at
// once, serve on free ports (TestMain); nothing else sets it.
var defaultHTTPListen = "127.0.0.1:8080"

// httpConfig is the HTTP server's configuration.
type httpConfig struct {
	listen    string
	cert, key string // PEM, from --http-tls-cert(-file), ...
	tls       *tls.Config
}

func (h *httpConfig) register(fs *flag.FlagSet, a *app) {
	h.listen = a.envOr("SALESBOT_HTTP_LISTEN", defaultHTTPListen)
	fs.StringVar(&h.listen, "http-listen", h.listen, "`address` the HTTP API listens on; empty or off = no HTTP server [SALESBOT_HTTP_LISTEN]")
	cli.SecretFlag(fs, &h.cert, "http-tls-cert", "SALESBOT_HTTP_TLS_CERT", "http-tls-cert", "the HTTP server's TLS certificate chain",
		"the HTTP server's TLS certificate chain: a PEM `file`, or the PEM itself; with --http-tls-key serves HTTPS")
	cli.SecretFlag(fs, &h.key, "http-tls-key", "SALESBOT_HTTP_TLS_KEY", "http-tls-key", "the HTTP server's TLS private key",
		"the HTTP server's TLS private key: a PEM `file`, or the PEM itself")
}

// check reads the TLS pair: both or neither.
func (h *httpConfig) check() error {
	if h.listen == "off" {
		h.listen = ""
	}
	switch {
	case h.cert == "" && h.key == "":
		return nil
	case h.cert == "" || h.key == "":
		return usagef("--http-tls-cert and --http-tls-key (SALESBOT_HTTP_TLS_CERT, SALESBOT_HTTP_TLS_KEY) go together: give both or neither")
	case h.listen == "":
		return usagef("--http-tls-cert and --http-tls-key need --http-listen")
	}
	var err error
	if h.tls, err = httpapi.LoadTLS(h.cert, h.key); err != nil {
		return usagef("--http-tls-cert, --http-tls-key: %v", err)
	}
	return nil
}

// system is the running system's HTTP server; nil when it is off.
func (h *httpConfig) system() *system.HTTP {
	if h.listen == "" {
		return nil
	}
	return &system.HTTP{Listen: h.listen, TLS: h.tls}
}
