package telegram

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"
	"github.com/gotd/td/session"
	"github.com/gotd/td/telegram"
	"github.com/gotd/td/telegram/auth"
	"github.com/gotd/td/telegram/auth/qrlogin"
	"github.com/gotd/td/telegram/updates"
	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgerr"
)

// PhoneLogin asks the account owner for what a phone login needs. Code is
// called once the code was sent (to the Telegram app or by SMS); Password
// only when the account has a 2FA password.
type PhoneLogin struct {
	Phone    string
	Code     func(ctx context.Context) (string, error)
	Password func(ctx context.Context) (string, error)
}

// ErrNotRegistered: the phone number has no Telegram account; salesbot
// connects existing accounts and never signs up new ones.
var ErrNotRegistered = errors.New("telegram: the phone number has no Telegram account")

// LoginPhone signs account in by phone code (and 2FA password) and stores
// its session. It returns the signed-in user.
func (d *Dialer) LoginPhone(ctx context.Context, account uuid.UUID, l PhoneLogin) (Peer, error) {
	phone := strings.TrimSpace(l.Phone)
	if phone == "" || strings.Trim(phone, "+0123456789 -()") != "" {
		return Peer{}, fmt.Errorf("telegram: phone %q must be digits in international format, like +4915112345678", l.Phone)
	}
	if l.Code == nil {
		return Peer{}, errors.New("telegram: PhoneLogin.Code is required")
	}
	return d.login(ctx, account, nil, func(ctx context.Context, c *telegram.Client) error {
		flow := auth.NewFlow(phoneAuth{l}, auth.SendCodeOptions{})
		err := flow.Run(ctx, c.Auth())
		var signUp *auth.SignUpRequired
		if errors.As(err, &signUp) || errors.Is(err, errSignUp) || tgerr.Is(err, "PHONE_NUMBER_UNOCCUPIED") {
			return ErrNotRegistered
		}
		return err
	})
}

var errSignUp = errors.New("sign up not supported")

type phoneAuth struct{ l PhoneLogin }

func (a phoneAuth) Phone(context.Context) (string, error) { return a.l.Phone, nil }
func (a phoneAuth) Password(ctx context.Context) (string, error) {
	if a.l.Password == nil {
		return "", errors.New("telegram: the account has a 2FA password and none was given")
	}
	return a.l.Password(ctx)
}
func (a phoneAuth) AcceptTermsOfService(context.Context, tg.HelpTermsOfService) error {
	return errSignUp
}
func (a phoneAuth) SignUp(context.Context) (auth.UserInfo, error) { return auth.UserInfo{}, errSignUp }
func (a phoneAuth) Code(ctx context.Context, _ *tg.AuthSentCode) (string, error) {
	code, err := a.l.Code(ctx)
	return strings.TrimSpace(code), err
}

// LoginQR signs account in by QR code: show is called with a tg://login
// URL to render as a QR code (again each time it expires) that the owner
// scans in Telegram (Settings → Devices → Link Desktop Device). password
// is asked for when the account has 2FA (nil = fail then).
func (d *Dialer) LoginQR(ctx context.Context, account uuid.UUID, show func(ctx context.Context, url string) error, password func(ctx context.Context) (string, error)) (Peer, error) {
	disp := tg.NewUpdateDispatcher()
	loggedIn := qrlogin.OnLoginToken(disp)
	return d.login(ctx, account, disp, func(ctx context.Context, c *telegram.Client) error {
		_, err := c.QR().Auth(ctx, loggedIn, func(ctx context.Context, t qrlogin.Token) error {
			return show(ctx, t.URL())
		})
		if errors.Is(err, auth.ErrPasswordAuthNeeded) || tgerr.Is(err, "SESSION_PASSWORD_NEEDED") {
			if password == nil {
				return errors.New("telegram: the account has a 2FA password and none was given")
			}
			pw, perr := password(ctx)
			if perr != nil {
				return perr
			}
			_, err = c.Auth().Password(ctx, pw)
		}
		return err
	})
}

// ImportSession stores an existing session for account: a Telethon
// StringSession ("1…"), as exported by Telethon-based tools. The session
// is checked by connecting once.
func (d *Dialer) ImportSession(ctx context.Context, account uuid.UUID, telethon string) (Peer, error) {
	data, err := session.TelethonSession(strings.TrimSpace(telethon))
	if err != nil {
		return Peer{}, fmt.Errorf("telegram: not a Telethon string session: %w", err)
	}
	loader := session.Loader{Storage: sessionStorage{secrets: d.Secrets, account: account}}
	if err := loader.Save(ctx, data); err != nil {
		return Peer{}, fmt.Errorf("telegram: store imported session of account %s: %w", account, err)
	}
	self, err := d.login(ctx, account, nil, func(context.Context, *telegram.Client) error { return nil })
	if err != nil {
		_ = DeleteSession(ctx, d.Secrets, account)
		return Peer{}, err
	}
	return self, nil
}

// login runs a client for account, signs it in with f if it is not signed
// in yet, and returns the account's user; the session is stored as it
// changes.
func (d *Dialer) login(ctx context.Context, account uuid.UUID, h telegram.UpdateHandler, f func(context.Context, *telegram.Client) error) (Peer, error) {
	release, err := d.lease(account)
	if err != nil {
		return Peer{}, err
	}
	defer release()
	var self Peer
	c := d.client(account, h, nil)
	err = c.Run(ctx, func(ctx context.Context) error {
		status, err := c.Auth().Status(ctx)
		if err != nil {
			return err
		}
		if !status.Authorized {
			if err := f(ctx, c); err != nil {
				return err
			}
			if status, err = c.Auth().Status(ctx); err != nil {
				return err
			}
			if !status.Authorized {
				return ErrUnauthorized
			}
		}
		self = peerOf(status.User)
		return d.keepState(ctx, account, c)
	})
	if err != nil {
		return Peer{}, fmt.Errorf("telegram: sign in account %s: %w", account, err)
	}
	// gotd stores the session as it changes and only logs a failure: an
	// account signed in without one would never connect.
	if ok, err := HasSession(ctx, d.Secrets, account); err != nil || !ok {
		return Peer{}, fmt.Errorf("telegram: sign in account %s: %w", account, cmp.Or(err, ErrSessionNotStored))
	}
	return self, nil
}

// ErrSessionNotStored: the account signed in, but its session could not
// be stored (the store did not take it); nothing is registered.
var ErrSessionNotStored = errors.New("the session could not be stored; try again")

// keepState stores the account's updates state at sign-in when none is
// stored, so that its first run fetches every message that came since
// (getDifference) instead of starting from the state of that moment and
// missing the messages in between.
func (d *Dialer) keepState(ctx context.Context, account uuid.UUID, c *telegram.Client) error {
	st := &stateStorage{secrets: d.Secrets, account: account}
	if _, found, err := st.GetState(ctx, 0); err != nil || found {
		return err
	}
	s, err := c.API().UpdatesGetState(ctx)
	if err != nil {
		return fmt.Errorf("get the updates state: %w", err)
	}
	return st.put(ctx, updates.State{Pts: s.Pts, Qts: s.Qts, Date: s.Date, Seq: s.Seq})
}

// LogOut ends account's session at Telegram and deletes what is stored for
// it. A session Telegram already dropped is deleted all the same.
func (d *Dialer) LogOut(ctx context.Context, account uuid.UUID) error {
	if ok, err := HasSession(ctx, d.Secrets, account); err != nil || !ok {
		return err
	}
	release, err := d.lease(account)
	if err != nil {
		return err
	}
	c := d.client(account, nil, nil)
	err = c.Run(ctx, func(ctx context.Context) error {
		_, err := c.API().AuthLogOut(ctx)
		return err
	})
	release()
	if err != nil && Classify(err).Kind != KindAccountLost {
		return fmt.Errorf("telegram: log out account %s: %w", account, err)
	}
	return DeleteSession(ctx, d.Secrets, account)
}
