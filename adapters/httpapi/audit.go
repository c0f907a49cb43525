package httpapi

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"time"

	"github.com/salesbot/salesbot/domain"
)

// An auditor's questions, answered from the log itself rather than the
// read models: is the log intact (POST /api/v1/audit/verify), and what
// is a dialog's whole history (GET /api/v1/dialogs/{n}/replay).

// Audit answers an auditor from the log (audit.VerifyLog, audit.Dialog).
type Audit interface {
	// Verify walks the whole log while it is written, from one
	// consistent snapshot of it, and checks that it holds expect (a head
	// written down earlier, as POS:HASH; "": none). A log found altered,
	// behind its anchor or without the expected head is a report with
	// its problems (OK false), not an error. Errors: a *domain.Error
	// (EINVALID, Field "expect_head") for a malformed expect; failures
	// to read the log. The report is kept, with when and by whom it was
	// asked (a principal's name), as the last verification.
	Verify(ctx context.Context, expect, by string) (VerifyReport, error)
	// LastVerified is the last verification run on this log through the
	// server (the API or the console), kept across restarts; ok false:
	// none yet.
	LastVerified(ctx context.Context) (v Verification, ok bool, err error)
	// Replay returns dialog n's every event in order, decoded, with
	// their personal fields only if personal. Errors: one matching
	// domain.ErrUnknownDialog when the log holds no dialog n.
	Replay(ctx context.Context, n int64, personal bool) ([]LogEvent, error)
}

// VerifyReport is what a verification of the log found.
type VerifyReport struct {
	// OK: the log is intact (and holds the expected head).
	OK    bool   `json:"ok"`
	LogID string `json:"log_id"`
	// Head is the last event verified: write it down to check later that
	// the log still holds it. Null when the log is empty or was found
	// altered.
	Head *Head `json:"head"`
	// Events verified (0 when the log was found altered), in Streams.
	Events  uint64 `json:"events"`
	Streams uint64 `json:"streams"`
	// Subjects is how many contacts' (and accounts') keys seal personal
	// data; Erased of them are erased, by signed tombstones.
	Subjects uint64 `json:"subjects"`
	Erased   uint64 `json:"erased"`
	// SignedHead is the latest head the log signed (null: none yet);
	// UnsignedEvents follow it.
	SignedHead     *SignedHead `json:"signed_head"`
	UnsignedEvents uint64      `json:"unsigned_events"`
	// Anchor is the copy of a signed head kept outside the data dir
	// that the log matched (null: none configured).
	Anchor  *SignedHead `json:"anchor"`
	Seconds float64     `json:"seconds"`
	// Problems is what was found wrong; empty when OK, never null.
	Problems []VerifyProblem `json:"problems"`
}

// Verification is a verification's report, when it ended and who asked
// for it.
type Verification struct {
	Report VerifyReport `json:"report"`
	At     time.Time    `json:"at"`
	By     string       `json:"by"`
}

// Head is a position of the log and the chain hash of its event (hex).
type Head struct {
	Position uint64 `json:"position"`
	Hash     string `json:"hash"`
}

// SignedHead is a head signed with the log's key.
type SignedHead struct {
	Head
	SignedAt time.Time `json:"signed_at"`
}

// VerifyProblem is one thing a verification found wrong, at a position
// of the log when it has one.
type VerifyProblem struct {
	Position *uint64 `json:"position"`
	Problem  string  `json:"problem"`
}

// VerifyRequest is the optional body of POST /api/v1/audit/verify.
type VerifyRequest struct {
	// ExpectHead is a head the log must hold, as POS:HASH (what an
	// earlier verification answered as head).
	ExpectHead string `json:"expect_head"`
}

func (a *API) auditRoutes() {
	if a.cfg.Audit == nil {
		return
	}
	a.route("POST /api/v1/audit/verify", domain.ScopeRead, a.verifyLog)
	a.route("GET /api/v1/dialogs/{n}/replay", domain.ScopeRead, a.replayDialog)
}

// verifyLog: POST /api/v1/audit/verify. It reads no personal data, so a
// read token (an auditor's) may ask.
func (a *API) verifyLog(r *http.Request, p domain.Principal) (any, error) {
	var req VerifyRequest
	if err := optionalBody(r, &req, "expect_head"); err != nil {
		return nil, err
	}
	rep, err := a.cfg.Audit.Verify(r.Context(), req.ExpectHead, p.Name)
	if err != nil {
		return nil, err
	}
	if rep.Problems == nil {
		rep.Problems = []VerifyProblem{}
	}
	return rep, nil
}

// replayDialog: GET /api/v1/dialogs/{n}/replay, what 'salesbot replay
// dialog N' prints: each event of the dialog with its position, type,
// time and fields, personal fields only for a token that may read them.
func (a *API) replayDialog(r *http.Request, p domain.Principal) (any, error) {
	n, err := dialogN(r)
	if err != nil {
		return nil, err
	}
	evs, err := a.cfg.Audit.Replay(r.Context(), n, mayReadPersonal(p))
	if err != nil {
		return nil, err
	}
	for i := range evs {
		if evs[i].Withheld == nil {
			evs[i].Withheld = []string{}
		}
	}
	if evs == nil {
		evs = []LogEvent{}
	}
	return list[LogEvent]{Items: evs}, nil
}

// optionalBody decodes r's body into v as decode does, if it has one
// (anything but blanks).
func optionalBody(r *http.Request, v any, fields ...string) error {
	body, err := io.ReadAll(r.Body) // bounded by MaxBody (idempotent)
	if err != nil {
		return problemError{invalid("the body could not be read")}
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	return decode(r, v, fields...)
}
