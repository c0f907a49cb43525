package system

import (
	"context"
	"io"
	"strconv"
	"time"

	"github.com/salesbot/salesbot/adapters/adminbot"
	"github.com/salesbot/salesbot/adapters/app/accounts"
	"github.com/salesbot/salesbot/adapters/app/contacts"
	"github.com/salesbot/salesbot/domain"
)

// The admin bot is an edge: it imports no application service, and gets
// them here, through its ports (adapters/adminbot/ports.go).

var (
	_ adminbot.Accounts     = botAccounts{}
	_ adminbot.Importer     = botImporter{}
	_ adminbot.ContactsFile = botContactsFile{}
	_ adminbot.WebLinks     = botWebLinks{}
)

// botAccounts is the accounts service as adminbot.Accounts: OptOut,
// Remove and Add are the service's own.
type botAccounts struct{ *accounts.Service }

func (a botAccounts) Start(ctx context.Context, req adminbot.StartRequest, wait func(reason string, until time.Time)) (adminbot.Started, error) {
	st, err := a.Service.Start(ctx, accounts.StartRequest{Username: req.Username, Source: req.Source, Basis: req.Basis, Note: req.Note, By: req.By}, wait)
	return adminbot.Started{N: st.N, Label: st.Label}, err
}

// botWebLinks issues the bot's /web links through the sign-in links
// service: an owner gets an owner's link, a manager a manager's.
type botWebLinks struct{ s *System }

func (w botWebLinks) Link(ctx context.Context, admin int64, role adminbot.Role) (string, time.Time, error) {
	scope := domain.ScopeManage
	if role == adminbot.RoleOwner {
		scope = domain.ScopeAdmin
	}
	by := "admin:" + strconv.FormatInt(admin, 10)
	l, err := w.s.signins.IssueLinkFor(ctx, domain.Principal{Name: by, Scope: scope}, "", by)
	if err != nil {
		return "", time.Time{}, err
	}
	return l.URL(w.s.WebURL()), l.Expires, nil
}

// botImporter is the contacts import (contacts.Parse, contacts.Apply) as
// adminbot.Importer.
type botImporter struct{ h domain.Handlers }

func (i botImporter) Check(r io.Reader) (adminbot.ContactsFile, error) {
	f, err := contacts.Parse(r)
	if err != nil {
		return nil, err
	}
	return botContactsFile{i.h, f}, nil
}

type botContactsFile struct {
	h domain.Handlers
	f *contacts.File
}

func (f botContactsFile) Rows() int { return len(f.f.Rows) }

func (f botContactsFile) Import(ctx context.Context, basis domain.Basis, note string, maxRejected int) (adminbot.ImportReport, error) {
	rep, err := contacts.Apply(ctx, f.h, f.f, contacts.Options{Basis: basis, Note: note})
	return adminbot.ImportReport{Rows: rep.Rows, Text: rep.Text(maxRejected)}, err
}

// botNotice is a notice of the accounts, the dialog engine or the
// campaign scheduler as the bot shows it.
func botNotice(n accounts.Notice) adminbot.Notice {
	return adminbot.Notice{Kind: n.Kind, Label: n.Label, Dialog: n.Dialog, Text: n.Text}
}
