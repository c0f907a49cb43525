package telegram

import (
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/gotd/td/bin"
	"github.com/gotd/td/telegram"
	"github.com/gotd/td/telegram/updates"
	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgerr"

	"github.com/salesbot/salesbot/eventstore"
)

// Dialer connects accounts. One Dialer runs each account's session at most
// once at a time (Telegram revokes an auth key used by two clients at
// once); across processes the data directory's lock does the same.
type Dialer struct {
	AppID   int
	AppHash string
	// Options are the base gotd options: zero for Telegram's production
	// servers, or a sandbox's ClientOptions. Session storage and update
	// handling are set per account.
	Options telegram.Options
	Secrets eventstore.Secrets
	// IndexKey keys the names of the peers' access hashes in Secrets
	// (the store's eventstore.Store.IndexKey, 32 bytes): required by Run.
	IndexKey []byte
	Log      *slog.Logger
	// Device is what the account's sessions list shows for salesbot.
	Device telegram.DeviceConfig

	mu      sync.Mutex
	running map[uuid.UUID]bool
}

// State is a connection state change reported by Run.
type State int

const (
	StateConnecting State = iota
	StateConnected
	StateDisconnected
)

func (s State) String() string {
	return [...]string{"connecting", "connected", "disconnected"}[s]
}

// RunOptions are the callbacks of one account's connection.
type RunOptions struct {
	// Handler gets every private message (required).
	Handler Handler
	// Ready is called once the account is signed in and its updates are
	// flowing; the Conn is valid until Run returns.
	Ready func(Conn)
	// State is told about connection changes; it must not block.
	State func(State)
}

func (d *Dialer) lease(account uuid.UUID) (release func(), err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.running == nil {
		d.running = map[uuid.UUID]bool{}
	}
	if d.running[account] {
		return nil, fmt.Errorf("account %s: %w", account, ErrSessionInUse)
	}
	d.running[account] = true
	return func() {
		d.mu.Lock()
		delete(d.running, account)
		d.mu.Unlock()
	}, nil
}

func (d *Dialer) log() *slog.Logger {
	if d.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return d.Log
}

// client builds a gotd client for account with its stored session.
func (d *Dialer) client(account uuid.UUID, h telegram.UpdateHandler, state func(telegram.ConnectionState), mw ...telegram.Middleware) *telegram.Client {
	opts := d.Options
	opts.Middlewares = append(append([]telegram.Middleware(nil), opts.Middlewares...), mw...)
	opts.SessionStorage = sessionStorage{secrets: d.Secrets, account: account, log: d.log()}
	opts.UpdateHandler = h
	opts.NoUpdates = h == nil
	opts.OnConnectionState = state
	opts.Device = d.Device
	if opts.Device.DeviceModel == "" {
		opts.Device = telegram.DeviceConfig{DeviceModel: "salesbot", SystemVersion: "server", AppVersion: "salesbot"}
	}
	if opts.RetryInterval == 0 {
		opts.RetryInterval = time.Second
	}
	if opts.MaxRetries == 0 {
		opts.MaxRetries = 5
	}
	return telegram.NewClient(d.AppID, d.AppHash, opts)
}

// Run connects account with its stored session and keeps it connected
// until ctx ends (nil error) or the connection fails: ErrUnauthorized and
// RPC errors that Classify calls KindAccountLost mean the session is gone;
// anything else is worth a reconnect. gotd reconnects by itself after
// network trouble within Run.
func (d *Dialer) Run(ctx context.Context, account uuid.UUID, opts RunOptions) error {
	if opts.Handler == nil {
		return errors.New("telegram: RunOptions.Handler is required")
	}
	if len(d.IndexKey) < 32 {
		return errNoIndexKey
	}
	release, err := d.lease(account)
	if err != nil {
		return err
	}
	defer release()
	if ok, err := HasSession(ctx, d.Secrets, account); err != nil {
		return err
	} else if !ok {
		return fmt.Errorf("account %s has no stored session: %w", account, ErrUnauthorized)
	}
	known := peers{secrets: d.Secrets, key: d.IndexKey, account: account}
	if n, err := known.migrate(ctx); err != nil {
		return err
	} else if n > 0 {
		d.log().Info("telegram: peers renamed to keyed names", "account", account, "peers", n)
	}

	parent := ctx
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	c := &conn{account: account, log: d.log().With("account", account), handler: opts.Handler,
		peers: known, known: map[int64]int64{}, sent: map[int]bool{},
		state: &stateStorage{secrets: d.Secrets, account: account}}
	c.fail = func(err error) {
		c.state.hold()
		cancel(err)
	}
	c.mgr = updates.New(updates.Config{Handler: c, Storage: c.state, Logger: nil})
	var readies atomic.Int32
	stateFn := func(s telegram.ConnectionState) {
		if s == telegram.ConnectionStateReady && readies.Add(1) > 1 {
			// gotd does not look for updates missed while the connection
			// was down; ask for the difference, as Telegram apps do.
			c.tasks.run(func() {
				if err := c.mgr.Handle(ctx, &tg.UpdatesTooLong{}); err != nil && ctx.Err() == nil {
					c.log.Warn("telegram: catch up after reconnect", "err", err)
				}
			})
		}
		if opts.State == nil {
			return
		}
		switch s {
		case telegram.ConnectionStateConnecting:
			opts.State(StateConnecting)
		case telegram.ConnectionStateReady:
			opts.State(StateConnected)
		case telegram.ConnectionStateDisconnected:
			opts.State(StateDisconnected)
		}
	}
	client := d.client(account, c.mgr, stateFn, telegram.MiddlewareFunc(func(next tg.Invoker) telegram.InvokeFunc {
		// Any call that finds the session gone (the updates manager's
		// included) ends the connection, so the loss is seen at once.
		return func(ctx context.Context, input bin.Encoder, output bin.Decoder) error {
			err := next.Invoke(ctx, input, output)
			if err != nil && Classify(err).Kind == KindAccountLost && !errors.Is(err, ErrUnauthorized) {
				cancel(err)
			}
			return err
		}
	}))
	err = client.Run(ctx, func(ctx context.Context) error {
		status, err := client.Auth().Status(ctx)
		if err != nil {
			return fmt.Errorf("check authorization: %w", err)
		}
		if !status.Authorized || status.User == nil {
			return ErrUnauthorized
		}
		c.api = client.API()
		c.self = peerOf(status.User)
		return c.mgr.Run(ctx, c.api, status.User.ID, updates.AuthOptions{
			OnStart: func(context.Context) {
				if opts.Ready != nil {
					opts.Ready(c)
				}
			},
		})
	})
	cause := context.Cause(ctx)
	cancel(nil)
	c.tasks.wait()
	switch {
	case parent.Err() != nil:
		return nil // stopped by the caller
	case cause != nil:
		err = cause // a handler failure stopped the connection
	}
	if err != nil {
		return fmt.Errorf("telegram: account %s: %w", account, err)
	}
	return nil
}

// conn is a connected account.
type conn struct {
	account uuid.UUID
	log     *slog.Logger
	api     *tg.Client
	mgr     *updates.Manager
	state   *stateStorage
	self    Peer
	handler Handler
	fail    func(error)
	peers   peers
	tasks   tasks // work handed off without waiting; Run waits for it

	mu    sync.Mutex
	known map[int64]int64 // user → access hash, cached
	sent  map[int]bool    // ids of messages this connection sent
}

var _ Conn = (*conn)(nil)

// tasks runs a connection's work in the background and waits for it;
// once wait is called, run starts nothing more.
type tasks struct {
	mu      sync.Mutex
	stopped bool
	wg      sync.WaitGroup
}

func (t *tasks) run(f func()) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.stopped {
		t.wg.Go(f)
	}
}

func (t *tasks) wait() {
	t.mu.Lock()
	t.stopped = true
	t.mu.Unlock()
	t.wg.Wait()
}

func (c *conn) Self() Peer { return c.self }

func peerOf(u *tg.User) Peer {
	p := Peer{UserID: u.ID, AccessHash: u.AccessHash, Username: u.Username}
	p.Name = strings.TrimSpace(u.FirstName + " " + u.LastName)
	return p
}

// remember stores a peer's access hash if it is new.
func (c *conn) remember(ctx context.Context, u *tg.User) error {
	if u.Min || u.AccessHash == 0 {
		return nil
	}
	c.mu.Lock()
	old, ok := c.known[u.ID]
	c.known[u.ID] = u.AccessHash
	c.mu.Unlock()
	if ok && old == u.AccessHash {
		return nil
	}
	if err := c.peers.put(ctx, u.ID, u.AccessHash); err != nil {
		return fmt.Errorf("store an access hash: %w", err)
	}
	return nil
}

func (c *conn) Resolve(ctx context.Context, username string) (Peer, error) {
	name, err := normUsername(username)
	if err != nil {
		return Peer{}, err
	}
	res, err := c.api.ContactsResolveUsername(ctx, &tg.ContactsResolveUsernameRequest{Username: name})
	if err != nil {
		return Peer{}, fmt.Errorf("resolve @%s: %w", name, err)
	}
	pu, ok := res.Peer.(*tg.PeerUser)
	if !ok {
		return Peer{}, fmt.Errorf("resolve @%s: %w (a group or channel)", name, ErrNotAPerson)
	}
	for _, u := range res.Users {
		if u, ok := u.(*tg.User); ok && u.ID == pu.UserID {
			if u.Bot {
				return Peer{}, fmt.Errorf("resolve @%s: %w (a bot)", name, ErrNotAPerson)
			}
			if err := c.remember(ctx, u); err != nil {
				return Peer{}, err
			}
			return peerOf(u), nil
		}
	}
	return Peer{}, fmt.Errorf("resolve @%s: %w (Telegram's answer lacks the user)", name, ErrNotAPerson)
}

func (c *conn) Peer(ctx context.Context, userID int64) (Peer, bool, error) {
	c.mu.Lock()
	hash, ok := c.known[userID]
	c.mu.Unlock()
	if !ok {
		var err error
		if hash, ok, err = c.peers.get(ctx, userID); err != nil || !ok {
			return Peer{}, false, err
		}
		c.mu.Lock()
		c.known[userID] = hash
		c.mu.Unlock()
	}
	return Peer{UserID: userID, AccessHash: hash}, true, nil
}

func inputPeer(p Peer) *tg.InputPeerUser {
	return &tg.InputPeerUser{UserID: p.UserID, AccessHash: p.AccessHash}
}

func (c *conn) Send(ctx context.Context, to Peer, randomID int64, text string) (int, error) {
	res, err := c.api.MessagesSendMessage(ctx, &tg.MessagesSendMessageRequest{
		Peer: inputPeer(to), Message: text, RandomID: randomID, NoWebpage: true,
	})
	return c.result(ctx, to, randomID, res, err)
}

// filePart is the size of an uploaded file's parts: the largest Telegram
// takes (a divisor of 512 KiB, a multiple of 1 KiB).
const filePart = 512 << 10

func (c *conn) SendFile(ctx context.Context, to Peer, randomID int64, caption string, f File) (int, error) {
	switch {
	case len(f.Data) == 0 || strings.TrimSpace(f.Name) == "":
		return 0, fmt.Errorf("send a file to user %d: %w: empty or unnamed", to.UserID, ErrBadFile)
	case len(f.Data) > MaxFileSize:
		return 0, fmt.Errorf("send a file to user %d: %w: %d bytes, over the %d a file may have", to.UserID, ErrBadFile, len(f.Data), MaxFileSize)
	}
	in, err := c.upload(ctx, f)
	if err != nil {
		return 0, fmt.Errorf("send a file to user %d: %w", to.UserID, err)
	}
	mime := f.MIME
	if mime == "" {
		mime = "application/octet-stream"
	}
	res, err := c.api.MessagesSendMedia(ctx, &tg.MessagesSendMediaRequest{
		Peer: inputPeer(to), Message: caption, RandomID: randomID,
		Media: &tg.InputMediaUploadedDocument{File: in, MimeType: mime, ForceFile: true,
			Attributes: []tg.DocumentAttributeClass{&tg.DocumentAttributeFilename{FileName: f.Name}}},
	})
	return c.result(ctx, to, randomID, res, err)
}

// upload sends a file's parts (upload.saveFilePart) under a new random
// file id and returns the file for a send that follows. Telegram keeps
// the parts for a while; a resend uploads them again.
func (c *conn) upload(ctx context.Context, f File) (*tg.InputFile, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("file id: %w", err)
	}
	id := int64(binary.LittleEndian.Uint64(b[:]))
	parts := (len(f.Data) + filePart - 1) / filePart
	for i := range parts {
		part := f.Data[i*filePart : min((i+1)*filePart, len(f.Data))]
		ok, err := c.api.UploadSaveFilePart(ctx, &tg.UploadSaveFilePartRequest{FileID: id, FilePart: i, Bytes: part})
		if err != nil {
			return nil, fmt.Errorf("upload part %d of %d: %w", i+1, parts, err)
		}
		if !ok {
			return nil, fmt.Errorf("upload part %d of %d: Telegram did not keep it", i+1, parts)
		}
	}
	sum := md5.Sum(f.Data)
	return &tg.InputFile{ID: id, Parts: parts, Name: f.Name, MD5Checksum: hex.EncodeToString(sum[:])}, nil
}

// result handles Telegram's answer to a send under randomID (Send and
// SendFile): the new message's id, remembered as ours so its update is
// not taken for a message typed elsewhere, and the answer handed to the
// updates manager.
func (c *conn) result(ctx context.Context, to Peer, randomID int64, res tg.UpdatesClass, err error) (int, error) {
	if tgerr.Is(err, "RANDOM_ID_DUPLICATE") {
		// Telegram has a message with this random_id: sent before (a resend
		// after a crash). Its id is not in the answer.
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	id := 0
	switch r := res.(type) {
	case *tg.UpdateShortSentMessage:
		id = r.ID
	case *tg.Updates:
		for _, u := range r.Updates {
			if m, ok := u.(*tg.UpdateMessageID); ok && m.RandomID == randomID {
				id = m.ID
			}
		}
	}
	if id == 0 {
		return 0, fmt.Errorf("send to user %d: no message id in the answer (%T)", to.UserID, res)
	}
	c.mu.Lock()
	c.sent[id] = true
	c.mu.Unlock()
	// The answer carries the new pts; the manager must see it, or the next
	// pushed update looks like a gap.
	if err := c.mgr.Handle(ctx, res); err != nil {
		c.log.Warn("telegram: updates manager rejected a send result", "err", err)
	}
	return id, nil
}

func (c *conn) Typing(ctx context.Context, to Peer) error {
	_, err := c.api.MessagesSetTyping(ctx, &tg.MessagesSetTypingRequest{Peer: inputPeer(to), Action: &tg.SendMessageTypingAction{}})
	return err
}

func (c *conn) MarkRead(ctx context.Context, peer Peer, maxID int) error {
	res, err := c.api.MessagesReadHistory(ctx, &tg.MessagesReadHistoryRequest{Peer: inputPeer(peer), MaxID: maxID})
	if err != nil {
		return err
	}
	if res.PtsCount > 0 {
		// The manager's queue for these is drained by the goroutine that
		// delivers messages, which may be the caller: hand it over
		// without waiting. (ctx, a handler's, ends with the connection.)
		c.tasks.run(func() {
			if err := c.mgr.HandleAffected(ctx, 0, res.Pts, res.PtsCount); err != nil && ctx.Err() == nil {
				c.log.Debug("telegram: read receipt pts", "err", err)
			}
		})
	}
	return nil
}

// Handle implements telegram.UpdateHandler for the updates manager: it
// turns new private messages into Messages for the handler.
func (c *conn) Handle(ctx context.Context, u tg.UpdatesClass) error {
	var (
		list  []tg.UpdateClass
		users []tg.UserClass
	)
	switch u := u.(type) {
	case *tg.Updates:
		list, users = u.Updates, u.Users
	case *tg.UpdatesCombined:
		list, users = u.Updates, u.Users
	case *tg.UpdateShort:
		list = []tg.UpdateClass{u.Update}
	case *tg.UpdateShortMessage:
		// The updates manager hands these over as full updates; one that
		// reaches Handle directly is expanded here, so none is lost.
		list = []tg.UpdateClass{shortMessage(u, c.self.UserID)}
	default:
		return nil
	}
	byID := map[int64]*tg.User{}
	for _, x := range users {
		if x, ok := x.(*tg.User); ok {
			byID[x.ID] = x
		}
	}
	for _, upd := range list {
		nm, ok := upd.(*tg.UpdateNewMessage)
		if !ok {
			continue
		}
		m, ok := nm.Message.(*tg.Message)
		if !ok {
			continue // service messages
		}
		pu, ok := m.PeerID.(*tg.PeerUser)
		if !ok || pu.UserID == c.self.UserID {
			continue // groups, channels, saved messages
		}
		c.mu.Lock()
		ours := m.Out && c.sent[m.ID]
		delete(c.sent, m.ID)
		c.mu.Unlock()
		if ours {
			continue
		}
		msg := Message{ID: m.ID, Out: m.Out, Text: m.Message, Date: time.Unix(int64(m.Date), 0).UTC(), Peer: Peer{UserID: pu.UserID},
			Media: c.mediaOf(m.Media)}
		if user := byID[pu.UserID]; user != nil {
			if user.Bot {
				continue
			}
			msg.Peer = peerOf(user)
			if err := c.remember(ctx, user); err != nil {
				c.fail(err)
				return err
			}
		} else if p, found, err := c.Peer(ctx, pu.UserID); err == nil && found {
			msg.Peer.AccessHash = p.AccessHash
		}
		if err := c.handler(ctx, msg); err != nil {
			c.log.Error("telegram: message handler failed; the message will be fetched again on reconnect",
				"message", m.ID, "err", err)
			c.fail(fmt.Errorf("handle message %d: %w", m.ID, err))
			return err
		}
	}
	return nil
}
