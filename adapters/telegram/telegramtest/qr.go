package telegramtest

import (
	"bytes"
	"crypto/rand"
	"time"

	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgerr"
)

// qrToken is a QR login token: a new client shows it, an app where the
// user is signed in scans and accepts it.
type qrToken struct {
	token    []byte
	key      [8]byte // the key that asked for it
	expires  time.Time
	accepted int64 // user who accepted, 0 = not yet
}

func (s *Sandbox) authExportLoginToken(c *call) (any, error) {
	if _, err := decode[tg.AuthExportLoginTokenRequest](c); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	keyID := c.req.Session.AuthKey.ID
	for name, t := range s.tokens {
		if t.key != keyID {
			continue
		}
		if t.accepted != 0 {
			delete(s.tokens, name)
			u := s.users[t.accepted]
			if u.password != nil {
				c.key.pending = u.id
				return nil, tgerr.New(401, "SESSION_PASSWORD_NEEDED")
			}
			c.key.user = u.id
			return &tg.AuthLoginTokenSuccess{Authorization: &tg.AuthAuthorization{User: s.tgUser(u.id, u)}}, nil
		}
		if s.now().Before(t.expires) {
			return &tg.AuthLoginToken{Token: t.token, Expires: int(t.expires.Unix())}, nil
		}
		delete(s.tokens, name)
	}
	t := &qrToken{token: make([]byte, 32), key: keyID, expires: s.now().Add(30 * time.Second)}
	_, _ = rand.Read(t.token)
	s.tokens[string(t.token)] = t
	return &tg.AuthLoginToken{Token: t.token, Expires: int(t.expires.Unix())}, nil
}

func (s *Sandbox) authAcceptLoginToken(c *call) (any, error) {
	r, err := decode[tg.AuthAcceptLoginTokenRequest](c)
	if err != nil {
		return nil, err
	}
	if err := s.AcceptQR(c.user.id, r.Token); err != nil {
		return nil, err
	}
	return &tg.Authorization{Hash: 1, DeviceModel: "sandbox", Platform: "sandbox", SystemVersion: "1", AppName: "salesbot", AppVersion: "1"}, nil
}

// AcceptQR accepts a QR login token for user id, as the user's Telegram app
// does after scanning the code; the waiting client is told at once.
func (s *Sandbox) AcceptQR(id int64, token []byte) error {
	s.mu.Lock()
	t := s.tokens[string(token)]
	if t == nil || !bytes.Equal(t.token, token) || s.now().After(t.expires) {
		s.mu.Unlock()
		return tgerr.New(400, "AUTH_TOKEN_EXPIRED")
	}
	if s.users[id] == nil {
		s.mu.Unlock()
		return tgerr.New(400, "USER_ID_INVALID")
	}
	t.accepted = id
	s.mu.Unlock()
	s.pushKey(t.key, &tg.UpdateShort{Update: &tg.UpdateLoginToken{}, Date: int(s.now().Unix())})
	return nil
}
