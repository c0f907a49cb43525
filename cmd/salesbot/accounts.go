package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/salesbot/salesbot/adapters/cli/datadir"
	"github.com/salesbot/salesbot/projections"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/adapters/app/accounts"
	"github.com/salesbot/salesbot/adapters/cli"
	"github.com/salesbot/salesbot/domain"
)

func accountsCommand() *command {
	return &command{
		name:    "accounts",
		summary: "connect, list, pause, resume and remove the company's Telegram accounts",
		sub:     []*command{accountsAddCommand(), accountsListCommand(), accountsPauseCommand(true), accountsPauseCommand(false), accountsRemoveCommand()},
	}
}

func accountsAddCommand() *command {
	var (
		tg                            tgConfig
		lf                            accounts.LimitsFlags
		label, phone, session, pwFile string
		qr                            bool
	)
	return &command{
		name:    "add",
		remote:  domain.ScopeAdmin,
		summary: "sign a company Telegram account in and register it",
		flags: func(fs *flag.FlagSet, a *app) func() error {
			tg.register(fs, a)
			lf.Register(fs)
			fs.StringVar(&label, "label", "", "a short `name` managers know the account by (required)")
			fs.StringVar(&phone, "phone", "", "sign in by `phone` number and login code")
			fs.BoolVar(&qr, "qr", false, "sign in by QR code")
			fs.StringVar(&session, "session-file", "", "import a Telethon StringSession from `file`")
			fs.StringVar(&pwFile, "password-file", "", "read the 2FA password from `file` instead of asking")
			return func() error {
				if strings.TrimSpace(label) == "" {
					return usagef("--label is required")
				}
				n := 0
				for _, set := range []bool{phone != "", qr, session != ""} {
					if set {
						n++
					}
				}
				if n != 1 {
					return usagef("give exactly one of --phone, --qr and --session-file")
				}
				return nil
			}
		},
		noArgs: true,
		run: func(ctx context.Context, a *app, _ []string) error {
			if err := tg.check(a); err != nil { // here, not through a server
				return err
			}
			limits, err := lf.Limits()
			if err != nil {
				return err
			}
			st, err := a.openStore(ctx, datadir.Create)
			if err != nil {
				return err
			}
			defer st.Close()
			ask := a.prompter()
			login := accounts.Login{Phone: phone,
				Code: func(ctx context.Context) (string, error) {
					return ask.Ask("Login code Telegram sent to " + phone + ": ")
				},
				Password: func(ctx context.Context) (string, error) {
					if pwFile != "" {
						b, err := a.files.ReadFile(pwFile)
						return strings.TrimRight(string(b), "\r\n"), err
					}
					return ask.AskSecret("2FA password: ")
				},
				Session: func() (string, error) {
					b, err := a.files.ReadFile(session)
					if err != nil {
						return "", fmt.Errorf("read --session-file: %w", err)
					}
					return string(b), nil
				}}
			if qr {
				login.QR = func(_ context.Context, url string) error {
					fmt.Fprintf(a.stderr, "Scan this link as a QR code in Telegram (Settings → Devices → Link Desktop Device):\n%s\n", url)
					return nil
				}
			}
			h := handlers(st)
			added, err := accounts.Add(ctx, st, h, accounts.AddRequest{Label: label, Phone: phone, Limits: limits, SignIn: login.SignIn(a.dialer(tg, st))})
			if domain.ErrorCode(err) == domain.EINVALID {
				return usagef("%v", err)
			}
			if err != nil {
				return err
			}
			who := added.Self.Name
			if added.Self.Username != "" {
				who += " (@" + added.Self.Username + ")"
			}
			fmt.Fprintf(a.stdout, "account %s added: %s signed in as %s\n", added.ID, label, strings.TrimSpace(who))
			return nil
		},
	}
}

func accountsListCommand() *command {
	var asJSON bool
	return &command{
		name:    "list",
		remote:  domain.ScopeRead,
		summary: "list the accounts with status, today's usage and whether a session is stored",
		flags: func(fs *flag.FlagSet, a *app) func() error {
			fs.BoolVar(&asJSON, "json", false, "print JSON")
			return nil
		},
		noArgs: true,
		run: func(ctx context.Context, a *app, _ []string) error {
			st, err := a.openStore(ctx, datadir.Existing)
			if err != nil {
				return err
			}
			defer st.Close()
			items, err := accounts.List(ctx, st, time.Now())
			if err != nil {
				return err
			}
			if asJSON {
				return cli.WriteJSON(a.stdout, items)
			}
			if len(items) == 0 {
				fmt.Fprintln(a.stdout, "no accounts yet: add one with 'salesbot accounts add'")
				return nil
			}
			return accounts.WriteList(a.stdout, items)
		},
	}
}

func accountsPauseCommand(pause bool) *command {
	name, summary := "pause", "pause an account: it sends nothing until resumed"
	says := map[bool]string{true: "paused: it sends nothing until resumed", false: "is paused already"}
	if !pause {
		name, summary = "resume", "resume an account paused by hand or restricted, once a person checked it"
		says = map[bool]string{true: "resumed", false: "is not paused"}
	}
	return pauseCommand(name, summary, "account: its id or label (see 'salesbot accounts list')", domain.ScopeAdmin, says,
		func(ctx context.Context, h domain.Handlers, sink projections.Sink, ref string) (string, bool, error) {
			acc, changed, err := accounts.SetPaused(ctx, h, sink, ref, pause, "cli")
			return "account " + acc.Label, changed, err
		})
}

func accountsRemoveCommand() *command {
	var tg tgConfig
	return &command{
		name:    "remove",
		remote:  domain.ScopeAdmin,
		summary: "log an account out of Telegram, delete its session and mark it removed",
		usage:   " ID",
		flags: func(fs *flag.FlagSet, a *app) func() error {
			tg.register(fs, a)
			return nil
		},
		run: func(ctx context.Context, a *app, args []string) error {
			if err := tg.check(a); err != nil { // here, not through a server
				return err
			}
			if len(args) != 1 {
				return usagef("give the account ID (see 'salesbot accounts list')")
			}
			id, err := uuid.Parse(args[0])
			if err != nil {
				return usagef("%q is not an account ID (see 'salesbot accounts list')", args[0])
			}
			st, err := a.openStore(ctx, datadir.Existing)
			if err != nil {
				return err
			}
			defer st.Close()
			h := handlers(st)
			logOut, err := accounts.Remove(ctx, st, h, id, "cli", func(ctx context.Context, id uuid.UUID) error {
				ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
				defer cancel()
				return a.dialer(tg, st).LogOut(ctx, id)
			})
			if logOut != nil {
				fmt.Fprintf(a.stderr, "salesbot: could not log out at Telegram (%v); deleting the local session anyway — end it in Telegram under Settings → Devices\n", logOut)
			}
			if errors.Is(err, accounts.ErrNoAccount) {
				return fmt.Errorf("no account %s (see 'salesbot accounts list')", id)
			}
			if err != nil && !errors.Is(err, context.Canceled) {
				return err
			}
			fmt.Fprintf(a.stdout, "account %s removed\n", id)
			return nil
		},
	}
}
