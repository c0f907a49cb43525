package websessions

import (
	"context"
	"time"

	"github.com/salesbot/salesbot/domain"
)

// Console is the service as the web console's pages use it (the
// Sessions port of adapters/web): cookies as plain strings, sign-out by
// the session itself. The running system hands Console(s) to the
// console; the console imports no application service.
type Console struct{ s *Service }

// Console is s for the web console's pages.
func (s *Service) Console() Console { return Console{s} }

// Redeem opens a session with a link's secret (Service.Redeem) and
// returns the cookie's value, whom the session acts for and when it
// expires. Its errors all match domain.ErrUnauthenticated when the link
// is unknown, used or expired (and then also ErrUnknownLink,
// ErrLinkUsed or ErrLinkExpired).
func (c Console) Redeem(ctx context.Context, linkSecret string) (cookie string, p domain.Principal, expires time.Time, err error) {
	sess, err := c.s.Redeem(ctx, linkSecret)
	if err != nil {
		return "", domain.Principal{}, time.Time{}, err
	}
	return sess.Secret.Reveal(), sess.Principal, sess.Expires, nil
}

// Authenticate is Service.Authenticate.
func (c Console) Authenticate(ctx context.Context, cookie string, need domain.Scope) (domain.Principal, error) {
	return c.s.Authenticate(ctx, cookie, need)
}

// End signs the session of cookie out, by the session itself; ending
// one that is over already is no error (Service.End).
func (c Console) End(ctx context.Context, cookie string) error {
	return c.s.End(ctx, cookie, "", "")
}
