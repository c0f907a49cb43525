package system

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/salesbot/salesbot/adapters/app/accounts"
	"github.com/salesbot/salesbot/adapters/httpapi"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/projections"
)

// The API's dialog actions (adapters/httpapi/dialog_actions.go) on the
// application services: the dialogs service for a manager's actions,
// the accounts service for opening dialogs, the read models' export for
// transcripts.

var (
	_ httpapi.DialogOpener = apiOpener{}
	_ httpapi.Transcripts  = apiTranscripts{}
)

// apiOpener is accounts.Service.Start, the admin bot's /start, as
// httpapi.DialogOpener: it never waits for an account.
type apiOpener struct{ svc *accounts.Service }

// Open starts the dialog. Where Start would wait for an account (none
// inside its caps and hours, paused, connecting, ...), Open stops at
// once and returns why as a *domain.Error matching domain.ErrNoAccount,
// with the time one may open (RetryAt) when Start knows it; so does a
// service with no account that could ever write (none registered, every
// one lost), which Start refuses with a bare ESTATE.
func (o apiOpener) Open(ctx context.Context, req httpapi.OpenRequest) (int64, error) {
	live := false
	for _, a := range o.svc.Accounts() {
		live = live || !a.Lost
	}
	if !live {
		return 0, &domain.Error{Code: domain.ESTATE, Message: "no Telegram account can write: none is registered, or every one is lost", Err: domain.ErrNoAccount}
	}
	startCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		waited bool
		reason string
		until  time.Time
	)
	st, err := o.svc.Start(startCtx, accounts.StartRequest{Username: req.Username, Source: domain.SourceAPI, Basis: req.Basis, Note: req.Note,
		By: req.By, Account: req.Account},
		func(why string, at time.Time) { // called by Start itself, before it waits
			waited, reason, until = true, why, at
			cancel()
		})
	switch {
	case err == nil:
		return st.N, nil
	case waited && errors.Is(err, context.Canceled) && ctx.Err() == nil:
		code := domain.ESTATE
		if !until.IsZero() {
			code = domain.ELIMIT
		}
		return 0, &domain.Error{Code: code, Message: reason, RetryAt: until, Err: domain.ErrNoAccount}
	}
	return 0, err
}

// apiTranscripts is projections.ExportDialog, the admin bot's /export,
// as httpapi.Transcripts.
type apiTranscripts struct{ sink projections.Sink }

func (t apiTranscripts) WriteText(ctx context.Context, n int64, w io.Writer) error {
	return projections.ExportDialog(ctx, t.sink, n, w)
}
