package webhooks

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"syscall"

	"github.com/salesbot/salesbot/domain"
)

// SSRF: a webhook's URL is whatever an API token holder types, and the
// service POSTs to it from inside the company's network. Unless private
// targets are allowed (--webhooks-allow-private, for a receiver on the
// same host or LAN), a target whose address is private, loopback,
// link-local, unique-local, multicast or unspecified is refused twice:
// when subscribing (CheckTarget resolves the host) and when dialling
// (the dialer's Control sees the address actually connected to, so a
// name that resolves elsewhere later — DNS rebinding — is caught too).

// ErrPrivate is domain.ErrWebhookTargetPrivate.
var ErrPrivate = domain.ErrWebhookTargetPrivate

// Private says whether addr is one a webhook may not reach unless
// private targets are allowed.
func Private(addr netip.Addr) bool {
	addr = addr.Unmap()
	return !addr.IsValid() || addr.IsPrivate() || addr.IsLoopback() || addr.IsLinkLocalUnicast() ||
		addr.IsLinkLocalMulticast() || addr.IsInterfaceLocalMulticast() || addr.IsMulticast() ||
		addr.IsUnspecified() || cgnat.Contains(addr) || addr == broadcast
}

var (
	cgnat     = netip.MustParsePrefix("100.64.0.0/10") // carrier-grade NAT: private in practice
	broadcast = netip.AddrFrom4([4]byte{255, 255, 255, 255})
)

// Resolver looks a host up (net.DefaultResolver is one).
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// CheckTarget parses raw (an absolute http(s) URL, domain.CheckWebhookURL)
// and, unless allowPrivate, resolves its host with r and refuses it when
// any of its addresses is private. Refusals are *domain.Error values on
// the field "url" (EINVALID) matching domain.ErrWebhookURL or
// ErrPrivate; none holds the URL's path or query.
func CheckTarget(ctx context.Context, r Resolver, raw string, allowPrivate bool) (*url.URL, error) {
	if err := domain.CheckWebhookURL(raw); err != nil {
		return nil, err
	}
	u, err := url.Parse(raw)
	if err != nil || u.Hostname() == "" {
		return nil, &domain.Error{Code: domain.EINVALID, Field: "url", Err: domain.ErrWebhookURL, Message: "a webhook's URL does not parse"}
	}
	if allowPrivate {
		return u, nil
	}
	host := u.Hostname()
	target := domain.WebhookTarget(raw)
	var addrs []netip.Addr
	if a, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{a}
	} else if addrs, err = r.LookupNetIP(ctx, "ip", host); err != nil || len(addrs) == 0 {
		return nil, &domain.Error{Code: domain.EINVALID, Field: "url", Err: domain.ErrWebhookURL,
			Message: fmt.Sprintf("the host of %s does not resolve", target)}
	}
	for _, a := range addrs {
		if Private(a) {
			return nil, &domain.Error{Code: domain.EINVALID, Field: "url", Err: ErrPrivate,
				Message: fmt.Sprintf("%s resolves to the private address %s: allow private targets (--webhooks-allow-private) to use it", target, a.Unmap())}
		}
	}
	return u, nil
}

// guard is a net.Dialer Control that refuses private addresses.
func guard(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("webhooks: dial %s: %w", network, ErrPrivate)
	}
	if Private(ap.Addr()) {
		return fmt.Errorf("webhooks: dial %s: %w", ap.Addr().Unmap(), ErrPrivate)
	}
	return nil
}

// Dialer is the dialer of webhook deliveries: it refuses private
// addresses at connect time unless allowPrivate.
func Dialer(allowPrivate bool) *net.Dialer {
	d := &net.Dialer{Timeout: DefaultTimeout, KeepAlive: DefaultTimeout}
	if !allowPrivate {
		d.Control = guard
	}
	return d
}
