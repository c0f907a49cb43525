package runflags

import (
	"crypto/tls"
	"flag"

	"github.com/salesbot/salesbot/adapters/app/system"
	"github.com/salesbot/salesbot/adapters/cli"
	"github.com/salesbot/salesbot/adapters/httpapi"
)

// DefaultHTTPListen is where run serves HTTP unless told otherwise. A
// variable only so that cmd/salesbot's tests, which start many runs at
// once, serve on free ports (its TestMain); nothing else sets it.
var DefaultHTTPListen = "127.0.0.1:8080"

// HTTP is the HTTP server's configuration.
type HTTP struct {
	listen    string
	cert, key string // PEM, from --http-tls-cert(-file), ...
	tls       *tls.Config
}

// Register registers the options on fs, their defaults from getenv.
func (h *HTTP) Register(fs *flag.FlagSet, getenv func(string) string) {
	h.listen = envOr(getenv, "SALESBOT_HTTP_LISTEN", DefaultHTTPListen)
	fs.StringVar(&h.listen, "http-listen", h.listen, "`address` the HTTP API listens on; empty or off = no HTTP server [SALESBOT_HTTP_LISTEN]")
	cli.SecretFlag(fs, &h.cert, "http-tls-cert", "SALESBOT_HTTP_TLS_CERT", "http-tls-cert", "the HTTP server's TLS certificate chain",
		"the HTTP server's TLS certificate chain: a PEM `file`, or the PEM itself; with --http-tls-key serves HTTPS")
	cli.SecretFlag(fs, &h.key, "http-tls-key", "SALESBOT_HTTP_TLS_KEY", "http-tls-key", "the HTTP server's TLS private key",
		"the HTTP server's TLS private key: a PEM `file`, or the PEM itself")
}

// Check reads the TLS pair: both or neither.
func (h *HTTP) Check() error {
	if h.listen == "off" {
		h.listen = ""
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
	return &system.HTTP{Listen: h.listen, TLS: h.tls}
}
