package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/domain"
)

// The dialog actions: opening a dialog (the admin bot's /start), a
// manager's stop, take-over, release and reply, and a dialog's export
// (/export). The use cases are the application services' (Config.Dialogs,
// Config.Opener, Config.Transcripts); this file turns HTTP into their
// calls and their answers into HTTP.

// DialogOpener opens dialogs with people (accounts.Service.Start, the
// admin bot's /start).
type DialogOpener interface {
	// Open finds the person through a connected account inside its caps
	// and working hours, records them as a contact (source api), opens a
	// dialog and plans its opening message; it returns the dialog's
	// number. It does not wait for an account. Errors:
	// domain.ErrUnknownUsername; domain.ErrInDialog (a
	// *domain.InDialogError naming the open dialog); a *domain.Error:
	// matching domain.ErrNoAccount when no account may open a dialog now
	// (RetryAt: when one may, if known), EFORBIDDEN for a person who may
	// not be written to (do-not-contact, erased, unreachable), ESTATE for
	// a pinned account that is lost or removed.
	Open(ctx context.Context, req OpenRequest) (n int64, err error)
}

// OpenRequest is whom DialogOpener.Open writes to.
type OpenRequest struct {
	Username string       // without @
	Account  uuid.UUID    // the account to write from; uuid.Nil: the least loaded
	Basis    domain.Basis // the lawful basis, for a person who is not a contact yet
	Note     string       // for a new contact: how it came
	By       string       // who opens it: "token:<prefix>"
}

// Transcripts writes dialogs' transcripts (projections.ExportDialog, the
// admin bot's /export).
type Transcripts interface {
	// WriteText writes dialog n's transcript as text: a header with the
	// contact, stage and qualification, then "[time] author: text" per
	// message. Errors: one matching projections.ErrNotFound for an
	// unknown dialog; w's.
	WriteText(ctx context.Context, n int64, w io.Writer) error
}

// The problem types of the dialog actions (docs/api.md lists them).
const (
	TypeUnknownUsername = problemPrefix + "unknown-username" // 404: no Telegram user has it
	TypeInDialog        = problemPrefix + "in-dialog"        // 409: the person has an open dialog
	TypeNoAccount       = problemPrefix + "no-account"       // 503: no account may open a dialog now
)

// MaxNote bounds OpenDialogRequest.Note, in characters.
const MaxNote = 500

// routeDialogActions serves the dialog actions.
func (a *API) routeDialogActions() error {
	if a.cfg.Opener == nil || a.cfg.Transcripts == nil {
		return errors.New("httpapi: an API needs its dialog opener and transcripts")
	}
	a.route("POST /api/v1/dialogs", domain.ScopeManage, a.openDialog)
	a.route("POST /api/v1/dialogs/{n}/stop", domain.ScopeManage, a.action(func(ctx context.Context, n int64, at uint64, by string) error {
		_, err := a.cfg.Dialogs.Stop(ctx, n, at, by)
		return err
	}))
	a.route("POST /api/v1/dialogs/{n}/takeover", domain.ScopeManage, a.action(func(ctx context.Context, n int64, at uint64, by string) error {
		_, err := a.cfg.Dialogs.TakeOver(ctx, n, at, by)
		return err
	}))
	a.route("POST /api/v1/dialogs/{n}/release", domain.ScopeManage, a.action(func(ctx context.Context, n int64, at uint64, by string) error {
		return a.cfg.Dialogs.Release(ctx, n, at, by)
	}))
	a.route("POST /api/v1/dialogs/{n}/reply", domain.ScopeManage, a.reply)
	a.route("GET /api/v1/dialogs/{n}/export", domain.ScopeRead, a.exportDialog)
	return nil
}

// response is an answer other than a 200 with a JSON value: its status,
// its headers, and a JSON value or a body of its own Content-Type.
type response struct {
	status int
	header http.Header
	value  any    // sent as JSON when body is nil
	body   []byte // sent as it is
}

// write sends the response.
func (r response) write(w http.ResponseWriter) {
	h := w.Header()
	for k, vs := range r.header {
		h[k] = vs
	}
	h.Set("Cache-Control", "no-store")
	if r.body != nil {
		w.WriteHeader(r.status)
		_, _ = w.Write(r.body)
		return
	}
	h.Set("Content-Type", "application/json")
	w.WriteHeader(r.status)
	_ = jsonEncode(w, r.value)
}

// etag is the ETag of a dialog at version v.
func etag(v uint64) string { return `"v` + strconv.FormatUint(v, 10) + `"` }

// ifMatch is the version a request's If-Match names: 0 without one or
// with *. A malformed one is a problem naming the header.
func ifMatch(r *http.Request) (uint64, error) {
	vs := r.Header.Values("If-Match")
	if len(vs) == 0 {
		return 0, nil
	}
	bad := problemError{badField("If-Match", `one ETag of the dialog as GET gave it ("v7"), or *`)}
	if len(vs) > 1 {
		return 0, bad
	}
	v := strings.TrimSpace(vs[0])
	if v == "*" {
		return 0, nil
	}
	if !strings.HasPrefix(v, `"v`) || !strings.HasSuffix(v, `"`) || len(v) < 4 {
		return 0, bad
	}
	n, err := strconv.ParseUint(v[2:len(v)-1], 10, 64)
	if err != nil || n == 0 {
		return 0, bad
	}
	return n, nil
}

// taggedCard is dialog n's card with its ETag, status 200 (or status).
// The version is read first and the read models are then awaited
// (Config.Fresh), so the card shows at least that version: an If-Match
// with the ETag never lets through a change the card did not show.
func (a *API) taggedCard(ctx context.Context, n int64, status int) (response, error) {
	v, err := a.cfg.Dialogs.Version(ctx, n)
	if err != nil {
		return response{}, err
	}
	if err := a.fresh(ctx); err != nil {
		return response{}, err
	}
	c, err := a.card(ctx, n)
	if err != nil {
		return response{}, err
	}
	return response{status: status, header: http.Header{"Etag": {etag(v)}}, value: c}, nil
}

// fresh waits for the read models (Config.Fresh), if it can.
func (a *API) fresh(ctx context.Context) error {
	if a.cfg.Fresh == nil {
		return nil
	}
	return a.cfg.Fresh(ctx)
}

// dialogAt is the path's dialog number and the version its If-Match
// names (0: none).
func dialogAt(r *http.Request) (n int64, at uint64, err error) {
	if n, err = dialogN(r); err != nil {
		return 0, 0, err
	}
	at, err = ifMatch(r)
	return n, at, err
}

// action is a POST on dialog n that takes an If-Match and no body (or an
// empty JSON object) and answers the card.
func (a *API) action(do func(ctx context.Context, n int64, at uint64, by string) error) handler {
	return func(r *http.Request, p domain.Principal) (any, error) {
		n, at, err := dialogAt(r)
		if err != nil {
			return nil, err
		}
		if err := emptyBody(r); err != nil {
			return nil, err
		}
		if err := do(r.Context(), n, at, p.Actor()); err != nil {
			return nil, err
		}
		return a.taggedCard(r.Context(), n, http.StatusOK)
	}
}

// emptyBody accepts a request without a body, or with an empty JSON
// object.
func emptyBody(r *http.Request) error {
	b, err := io.ReadAll(r.Body) // bounded by MaxBody (idempotent)
	if err != nil {
		return problemError{invalid("the body could not be read")}
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(b, &obj); err != nil || obj == nil || len(obj) > 0 {
		return problemError{invalid("this takes no body, or an empty JSON object: {}")}
	}
	return nil
}

// ReplyRequest is the body of POST /api/v1/dialogs/{n}/reply.
type ReplyRequest struct {
	Text string `json:"text"`
}

// reply: POST /api/v1/dialogs/{n}/reply.
func (a *API) reply(r *http.Request, p domain.Principal) (any, error) {
	n, at, err := dialogAt(r)
	if err != nil {
		return nil, err
	}
	var req ReplyRequest
	if err := decode(r, &req, "text"); err != nil {
		return nil, err
	}
	if _, err := a.cfg.Dialogs.Reply(r.Context(), n, at, p.Actor(), req.Text); err != nil {
		return nil, err
	}
	return a.taggedCard(r.Context(), n, http.StatusOK)
}

// OpenDialogRequest is the body of POST /api/v1/dialogs.
type OpenDialogRequest struct {
	Username string `json:"username"`
	Account  string `json:"account"`
	Basis    string `json:"basis"`
	Note     string `json:"note"`
}

// Opened is the answer to POST /api/v1/dialogs while the read models do
// not show the new dialog yet (202).
type Opened struct {
	N int64 `json:"n"`
}

// openDialog: POST /api/v1/dialogs. It answers 201 with the new dialog's
// card once the read models show it (Config.Fresh), else 202 with its
// number; Location names the dialog either way.
func (a *API) openDialog(r *http.Request, p domain.Principal) (any, error) {
	var req OpenDialogRequest
	if err := decode(r, &req, "username", "account", "basis", "note"); err != nil {
		return nil, err
	}
	var bad []FieldError
	username, ok := telegramUsername(req.Username)
	if !ok {
		bad = append(bad, FieldError{"username", "a Telegram @username: 4 to 32 letters, digits or _"})
	}
	basis := domain.BasisLegitimateInterest // as the admin bot's /start
	if req.Basis != "" {
		b, err := domain.ParseBasis(req.Basis)
		if err != nil {
			bad = append(bad, FieldError{"basis", "consent, contract or legitimate-interest"})
		}
		basis = b
	}
	if c := utf8.RuneCountInString(req.Note); c > MaxNote {
		bad = append(bad, FieldError{"note", fmt.Sprintf("at most %d characters, not %d", MaxNote, c)})
	}
	var account uuid.UUID
	if req.Account != "" {
		id, err := a.accountOf(r.Context(), req.Account)
		var pe problemError
		if errors.As(err, &pe) {
			bad = append(bad, pe.Errors...)
		} else if err != nil {
			return nil, err
		}
		account = id
	}
	if len(bad) > 0 {
		return nil, problemError{invalid("bad fields", bad...)}
	}
	note := "opened through the API by " + p.Actor()
	if req.Note != "" {
		note += ": " + req.Note
	}
	n, err := a.cfg.Opener.Open(r.Context(), OpenRequest{Username: username, Account: account, Basis: basis, Note: note, By: p.Actor()})
	if err != nil {
		return nil, err
	}
	location := fmt.Sprintf("/api/v1/dialogs/%d", n)
	card, err := a.taggedCard(r.Context(), n, http.StatusCreated)
	if errors.Is(err, domain.ErrUnknownDialog) {
		// The read models lag behind the log: the dialog is open, its card
		// is not there yet.
		return response{status: http.StatusAccepted, header: http.Header{"Location": {location}}, value: Opened{N: n}}, nil
	}
	if err != nil {
		return nil, err
	}
	card.header.Set("Location", location)
	return card, nil
}

// telegramUsername is a @username (or t.me link) without its @, if it
// reads as one (as the admin bot's /start checks it).
func telegramUsername(s string) (string, bool) {
	u := strings.TrimSpace(s)
	for _, p := range []string{"https://t.me/", "http://t.me/", "t.me/", "@"} {
		u = strings.TrimPrefix(u, p)
	}
	if len(u) < 4 || len(u) > 32 {
		return "", false
	}
	for i := range len(u) {
		if c := u[i]; !(c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return "", false
		}
	}
	return u, true
}

// accountOf finds an account by its id or label (any case), as the admin
// bot does; none, a removed one or a label several accounts share is a
// problem naming the field "account".
func (a *API) accountOf(ctx context.Context, ref string) (uuid.UUID, error) {
	accs, err := a.cfg.ReadModels.Accounts(ctx)
	if err != nil {
		return uuid.Nil, err
	}
	id, idErr := uuid.Parse(ref)
	var found []uuid.UUID
	for _, acc := range accs {
		if acc.Status == string(domain.StatusRemoved) {
			continue
		}
		if (idErr == nil && acc.ID == id) || strings.EqualFold(acc.Label, ref) {
			found = append(found, acc.ID)
		}
	}
	switch len(found) {
	case 0:
		return uuid.Nil, problemError{badField("account", "no account has this label or id (GET /api/v1/accounts lists them)")}
	case 1:
		return found[0], nil
	}
	return uuid.Nil, problemError{badField("account", "%d accounts have this label: give the id", len(found))}
}

// exportDialog: GET /api/v1/dialogs/{n}/export?format=text|jsonl.
func (a *API) exportDialog(r *http.Request, _ domain.Principal) (any, error) {
	n, err := dialogN(r)
	if err != nil {
		return nil, err
	}
	format := r.URL.Query().Get("format")
	switch format {
	case "":
		format = "text"
	case "text", "jsonl":
	default:
		return nil, problemError{badField("format", "text or jsonl")}
	}
	d, err := a.cfg.ReadModels.DialogByN(r.Context(), n)
	if err != nil {
		return nil, notFoundDialog(err)
	}
	var buf bytes.Buffer
	header := http.Header{}
	if format == "text" {
		if err := a.cfg.Transcripts.WriteText(r.Context(), n, &buf); err != nil {
			return nil, notFoundDialog(err)
		}
		header.Set("Content-Type", "text/plain; charset=utf-8")
		header.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="dialog-%d.txt"`, n))
		return response{status: http.StatusOK, header: header, body: buf.Bytes()}, nil
	}
	ms, err := a.cfg.ReadModels.Messages(r.Context(), d.ID)
	if err != nil {
		return nil, err
	}
	enc := json.NewEncoder(&buf) // one object a line
	enc.SetEscapeHTML(false)
	for _, m := range ms {
		if err := enc.Encode(Message{Position: m.Position, Direction: m.Direction, Author: m.Author, Text: m.Shown(), At: m.At.UTC(), Status: m.Status}); err != nil {
			return nil, err
		}
	}
	header.Set("Content-Type", "application/x-ndjson")
	header.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="dialog-%d.jsonl"`, n))
	return response{status: http.StatusOK, header: header, body: buf.Bytes()}, nil
}

// actionProblem maps the errors of the dialog actions to their problems
// (problemOf asks it first): a stale version or a lost race 409
// conflict, an unknown username 404, an open dialog 409 in-dialog, no
// account 503 (Retry-After when the domain knows when one opens).
func actionProblem(err error, now time.Time) (Problem, bool) {
	var (
		stale    *domain.StaleError
		inDialog *domain.InDialogError
		de       *domain.Error
	)
	switch {
	case errors.As(err, &stale):
		return Problem{Type: TypeConflict, Title: "Conflict", Status: http.StatusConflict,
			Detail: fmt.Sprintf("the dialog changed since it was read: its ETag is %s now, not %s; read it again and decide anew", etag(stale.Version), etag(stale.Expected))}, true
	case errors.Is(err, domain.ErrConflict):
		return Problem{Type: TypeConflict, Title: "Conflict", Status: http.StatusConflict,
			Detail: "the resource changed while this was being done; repeat the request"}, true
	case errors.Is(err, domain.ErrUnknownUsername):
		return Problem{Type: TypeUnknownUsername, Title: "Unknown username", Status: http.StatusNotFound,
			Detail: "no Telegram user has this username"}, true
	case errors.As(err, &inDialog) && inDialog.Dialog != 0:
		return Problem{Type: TypeInDialog, Title: "In a dialog", Status: http.StatusConflict,
			Detail: fmt.Sprintf("the person already has an open dialog: dialog %d", inDialog.Dialog)}, true
	case errors.Is(err, domain.ErrInDialog):
		return Problem{Type: TypeInDialog, Title: "In a dialog", Status: http.StatusConflict,
			Detail: "the person already has an open dialog, or one is being opened"}, true
	case errors.Is(err, domain.ErrNoAccount), errors.Is(err, domain.ErrNoConnection):
		p := Problem{Type: TypeNoAccount, Title: "No account available", Status: http.StatusServiceUnavailable,
			Detail: "no Telegram account can open a dialog now"}
		if errors.As(err, &de) {
			p.Detail = de.Message
			if !de.RetryAt.IsZero() {
				p.retryAfter = max(de.RetryAt.Sub(now), time.Second)
			}
		}
		return p, true
	}
	return Problem{}, false
}
