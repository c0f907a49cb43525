package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"

	"github.com/salesbot/salesbot/domain"
)

// Signing in and out, and the forms' CSRF tokens.

// csrfField is the forms' hidden field with the CSRF token.
const csrfField = "csrf"

// MaxForm bounds a POST's form.
const MaxForm = 64 << 10

// signin: GET /web/signin. With ?t= it redeems a one-time link: the
// session's cookie is set and the browser goes on to the inbox (a GET
// that changes state, which is safe only because the link works once;
// Referrer-Policy no-referrer keeps the link out of other sites' logs).
// Without, it says how to get a link.
func (w *Web) signin(rw http.ResponseWriter, r *http.Request) {
	secret := r.URL.Query().Get("t")
	if secret == "" {
		w.signinPage(rw, r, http.StatusOK, false)
		return
	}
	cookie, _, expires, err := w.cfg.Sessions.Redeem(r.Context(), secret)
	switch {
	case errors.Is(err, domain.ErrUnauthenticated):
		w.signinPage(rw, r, http.StatusUnauthorized, true)
		return
	case err != nil:
		w.fail(rw, r, err)
		return
	}
	http.SetCookie(rw, &http.Cookie{Name: sessionCookie, Value: cookie, Path: cookiePath, Expires: expires,
		HttpOnly: true, Secure: w.cfg.Secure, SameSite: http.SameSiteLaxMode})
	rw.Header().Set("Cache-Control", "no-store")
	http.Redirect(rw, r, "/web/", http.StatusSeeOther)
}

// signinPage says how to get a sign-in link; used: the link given was
// used or expired.
func (w *Web) signinPage(rw http.ResponseWriter, r *http.Request, status int, used bool) {
	v := w.viewOf(r, nil, "")
	v.Status = status
	v.Title = v.L["SignInTitle"]
	if used {
		v.Title = v.L["LinkUsedTitle"]
	}
	v.Data = struct{ Used bool }{used}
	w.renderPage(rw, "signin", v)
}

// signout: POST /web/signout ends the session.
func (w *Web) signout(rw http.ResponseWriter, r *http.Request) {
	_, cookie, ok := w.admitPost(rw, r, domain.ScopeRead)
	if !ok {
		return
	}
	if err := w.cfg.Sessions.End(r.Context(), cookie); err != nil {
		w.fail(rw, r, err)
		return
	}
	w.clearSession(rw)
	http.Redirect(rw, r, "/web/signin", http.StatusSeeOther)
}

// clearSession tells the browser to forget the session's cookie.
func (w *Web) clearSession(rw http.ResponseWriter) {
	http.SetCookie(rw, &http.Cookie{Name: sessionCookie, Value: "", Path: cookiePath, MaxAge: -1,
		HttpOnly: true, Secure: w.cfg.Secure, SameSite: http.SameSiteLaxMode})
}

// admitPost admits a POST: from a page of this origin (Go's
// cross-origin protection: Sec-Fetch-Site, Origin), of a session for
// scope need, with the session's CSRF token in its form. When r may not
// go on it answers why (403, the sign-in page) and ok is false.
func (w *Web) admitPost(rw http.ResponseWriter, r *http.Request, need domain.Scope) (p domain.Principal, cookie string, ok bool) {
	if err := w.origin.Check(r); err != nil {
		w.problem(rw, r, http.StatusForbidden, "CSRFTitle", "CSRF")
		return p, "", false
	}
	r.Body = http.MaxBytesReader(rw, r.Body, MaxForm)
	if err := r.ParseForm(); err != nil {
		w.problem(rw, r, http.StatusBadRequest, "CSRFTitle", "CSRF")
		return p, "", false
	}
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		w.signinPage(rw, r, http.StatusUnauthorized, false)
		return p, "", false
	}
	// The token before the session: a forged request learns nothing of
	// the session and changes nothing.
	if !hmac.Equal([]byte(r.PostForm.Get(csrfField)), []byte(w.csrfToken(c.Value))) {
		w.problem(rw, r, http.StatusForbidden, "CSRFTitle", "CSRF")
		return p, "", false
	}
	return w.admit(rw, r, need)
}

// csrfToken is the CSRF token of a session: an HMAC of its cookie, so
// no other site can know it, and it dies with the session.
func (w *Web) csrfToken(cookie string) string {
	m := hmac.New(sha256.New, w.key)
	m.Write([]byte("salesbot web csrf\x00"))
	m.Write([]byte(cookie))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}
