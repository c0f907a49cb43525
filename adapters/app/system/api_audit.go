package system

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/salesbot/salesbot/adapters/app/audit"
	"github.com/salesbot/salesbot/adapters/httpapi"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/eventstore"
)

// The auditor's endpoints of the HTTP API: audit.VerifyLog on the
// running log, audit.Dialog for a replay.

var _ httpapi.Audit = (*apiAudit)(nil)

// lastVerifiedSecret names the last verification's report among the
// log's sealed values (eventstore.Secrets): derived data about the log,
// kept outside it, as the snapshots are.
const lastVerifiedSecret = "audit/last-verified"

// AuditStore is the log the auditor's port verifies, and where it keeps
// the last verification.
type AuditStore interface {
	eventstore.Store
	eventstore.Secrets
}

// apiAudit is the audit use cases as httpapi.Audit.
type apiAudit struct {
	store AuditStore
	// one lets one verification run at a time: each walks the whole
	// log, so more at once would only slow each other and the service.
	// It is held until the report is kept, so the last one kept is the
	// last one run.
	one chan struct{}
	now func() time.Time
	// last is the last verification, kept in memory once written or
	// read (the audit page asks at every view).
	last atomic.Pointer[httpapi.Verification]
}

// APIAudit is the auditor's port on store (the running system's, and the
// API's tests'): one for the API and the console, so that they share the
// one verification at a time.
func APIAudit(store AuditStore) httpapi.Audit {
	return &apiAudit{store: store, one: make(chan struct{}, 1), now: time.Now}
}

func (a *apiAudit) Verify(ctx context.Context, expect, by string) (httpapi.VerifyReport, error) {
	var o audit.VerifyOptions
	if expect != "" {
		h, err := audit.ParseHead(expect)
		if err != nil {
			return httpapi.VerifyReport{}, &domain.Error{Code: domain.EINVALID, Field: "expect_head", Message: err.Error()}
		}
		o.Expect = &h
	}
	select {
	case a.one <- struct{}{}:
		defer func() { <-a.one }()
	case <-ctx.Done():
		return httpapi.VerifyReport{}, ctx.Err()
	}
	rep, err := a.verify(ctx, o)
	if err != nil {
		return rep, err
	}
	v := httpapi.Verification{Report: rep, At: a.now().UTC(), By: by}
	b, err := json.Marshal(v)
	if err == nil {
		err = a.store.PutSecret(ctx, lastVerifiedSecret, b)
	}
	if err != nil {
		return rep, fmt.Errorf("keep the verification's report: %w", err)
	}
	a.last.Store(&v)
	return rep, nil
}

func (a *apiAudit) LastVerified(ctx context.Context) (httpapi.Verification, bool, error) {
	if v := a.last.Load(); v != nil {
		return *v, true, nil
	}
	b, err := a.store.Secret(ctx, lastVerifiedSecret)
	if errors.Is(err, eventstore.ErrNotFound) {
		return httpapi.Verification{}, false, nil
	}
	if err != nil {
		return httpapi.Verification{}, false, fmt.Errorf("read the last verification: %w", err)
	}
	var v httpapi.Verification
	if err := json.Unmarshal(b, &v); err != nil {
		return httpapi.Verification{}, false, fmt.Errorf("read the last verification: %w", err)
	}
	a.last.CompareAndSwap(nil, &v) // a verification kept meanwhile wins
	return *a.last.Load(), true, nil
}

// verify walks the log (the caller holds one) and reports what it found.
func (a *apiAudit) verify(ctx context.Context, o audit.VerifyOptions) (httpapi.VerifyReport, error) {
	r, err := audit.VerifyLog(ctx, a.store, o)
	if err != nil && !audit.Failed(err) {
		return httpapi.VerifyReport{}, fmt.Errorf("verify the log: %w", err)
	}
	out := httpapi.VerifyReport{OK: err == nil, LogID: a.store.LogID().String(), Events: r.Events, Streams: r.Streams,
		Subjects: r.Subjects, Erased: r.Erased, UnsignedEvents: r.Unsigned, Seconds: r.Took.Seconds(), Problems: []httpapi.VerifyProblem{}}
	if r.Events > 0 {
		out.Head = &httpapi.Head{Position: r.Events, Hash: hex.EncodeToString(r.HeadHash[:])}
	}
	out.SignedHead, out.Anchor = signedHead(r.SignedHead), signedHead(r.Anchor)
	if err != nil {
		out.Problems = append(out.Problems, verifyProblem(err, o.Expect))
	}
	return out, nil
}

func signedHead(h *eventstore.SignedHead) *httpapi.SignedHead {
	if h == nil {
		return nil
	}
	return &httpapi.SignedHead{Head: httpapi.Head{Position: h.Position, Hash: hex.EncodeToString(h.Hash[:])}, SignedAt: h.Time.UTC()}
}

// verifyProblem is what audit.VerifyLog found wrong (audit.Failed), at
// its position: without the anchor file's path, which is the server's.
func verifyProblem(err error, expect *audit.Head) httpapi.VerifyProblem {
	var te *eventstore.TamperError
	var ae *eventstore.AnchorError
	switch {
	case errors.As(err, &te):
		return httpapi.VerifyProblem{Position: &te.Position, Problem: "the log is altered: " + te.Reason}
	case errors.As(err, &ae):
		return httpapi.VerifyProblem{Position: &ae.Anchor.Position, Problem: fmt.Sprintf("the log %s: its head is position %d, its anchor holds position %d hash %x",
			ae.Reason, ae.LogHead, ae.Anchor.Position, ae.Anchor.Hash)}
	case errors.Is(err, audit.ErrExpectedHead) && expect != nil:
		return httpapi.VerifyProblem{Position: &expect.Position, Problem: err.Error()}
	}
	return httpapi.VerifyProblem{Problem: err.Error()}
}

func (a *apiAudit) Replay(ctx context.Context, n int64, personal bool) ([]httpapi.LogEvent, error) {
	h, err := audit.Dialog(ctx, a.store, n)
	if errors.Is(err, audit.ErrNoDialog) {
		return nil, fmt.Errorf("%w: %w", domain.ErrUnknownDialog, err)
	}
	if err != nil {
		return nil, err
	}
	out := make([]httpapi.LogEvent, 0, len(h.Entries))
	for i := range h.Entries {
		le, err := logEvent(&h.Entries[i].Record, h.Entries[i].Event, personal)
		if err != nil {
			return nil, err
		}
		out = append(out, le)
	}
	return out, nil
}
