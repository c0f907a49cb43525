// Package telegramtest is an in-process Telegram for tests, benchmarks and the
// demo: gotd's tgtest MTProto server (real transport, key exchange and
// encryption) with a small backend of its own — users with ids, access
// hashes, usernames and phones; private messages with per-user message ids
// and pts; pushed updates; updates.getState and updates.getDifference;
// sendMessage with random_id deduplication; a lead's plain texts as
// updateShortMessage, as Telegram sends them; media from leads (voice
// notes, audio, photos, video, stickers, documents: SendMedia) with their
// files served by upload.getFile; files sent as documents
// (upload.saveFilePart, messages.sendMedia); contacts.resolveUsername;
// typing and read receipts; login by code, 2FA password (SRP) and QR token;
// errors, slow replies and dropped connections on demand; and scripted lead
// personas that answer the messages they get.
//
// Nothing here touches the internet: the server listens on 127.0.0.1.
package telegramtest

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gotd/td/crypto"
	"github.com/gotd/td/telegram"
	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgtest"
	"github.com/gotd/td/tgtest/cluster"
	"github.com/gotd/td/transport"
)

// DC is the one data center the sandbox runs.
const DC = 2

// ErrTaken: AddUser or AddPersona was given a username or phone that
// another user has.
var ErrTaken = errors.New("sandbox: taken")

// Sandbox is a running in-process Telegram. It is safe for concurrent use.
type Sandbox struct {
	cluster *cluster.Cluster
	srv     *tgtest.Server
	// encode makes the sends one at a time: gotd's Encode writes the
	// flags of what it encodes, and a message the sandbox keeps goes out
	// in a push and in a getDifference at once.
	encode sync.Mutex
	log    *slog.Logger
	now    func() time.Time
	secret [32]byte // derives access hashes

	cancel    context.CancelFunc
	ctx       context.Context // cancelled by Close
	stateFile string
	done      chan error
	wg        sync.WaitGroup // persona replies in flight

	mu        sync.Mutex
	nextID    int64
	users     map[int64]*user
	byName    map[string]*user // lower-case username
	byPhone   map[string]*user
	keys      map[[8]byte]*key // auth key id → what it is allowed to do
	codes     map[string]*code // phone_code_hash → pending code
	tokens    map[string]*qrToken
	faults    []*faultState
	typing    []Typing
	reads     []Read
	requests  map[uint32]int            // calls by method, for tests and benches
	uploads   map[upload]map[int][]byte // parts of files being uploaded, by part number
	files     map[int64]File            // the files of documents sent, by document id
	docHashes map[int64]int64           // the access hashes of those documents
}

// key is what the sandbox knows about one auth key.
type key struct {
	value    *crypto.Key // the key itself, kept for Options.StateFile
	user     int64       // signed-in user, 0 if none
	pending  int64       // user awaiting the 2FA password
	srp      *srpSession
	revoked  string // AUTH_KEY_UNREGISTERED, SESSION_REVOKED: the key was logged out server-side
	sessions map[int64]tgtest.Session
}

type code struct {
	phone, code string
	expires     time.Time
}

// user is a Telegram user and its message box.
type user struct {
	id                           int64
	username, phone, first, last string
	password                     *password
	banned                       bool
	persona                      *Persona
	pts                          int
	lastMsgID                    int
	box                          []boxed        // messages in pts order
	random                       map[int64]int  // (sender) random_id → message id in this box
	received                     map[int64]int  // messages received per peer (for personas)
	blocked                      map[int64]bool // users this user blocked
}

// boxed is one pts step of a user's box: a message, or another update
// (a read receipt).
type boxed struct {
	pts   int
	msg   *tg.Message
	other tg.UpdateClass
}

// Options configure a sandbox.
type Options struct {
	Logger *slog.Logger     // default: discard
	Now    func() time.Time // default: time.Now
	// StateFile keeps users and auth keys between runs (not messages), so
	// clients reconnect with stored sessions; empty = nothing is kept.
	StateFile string
}

// New starts a sandbox; Close stops it.
func New(ctx context.Context, opts Options) (*Sandbox, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Sandbox{
		log: opts.Logger, now: opts.Now,
		nextID: 1_000_000, users: map[int64]*user{}, byName: map[string]*user{}, byPhone: map[string]*user{},
		keys: map[[8]byte]*key{}, codes: map[string]*code{}, tokens: map[string]*qrToken{},
		requests: map[uint32]int{}, uploads: map[upload]map[int][]byte{}, files: map[int64]File{}, docHashes: map[int64]int64{},
		done: make(chan error, 1),
	}
	if _, err := rand.Read(s.secret[:]); err != nil {
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	s.cluster = cluster.NewCluster(cluster.Options{Protocol: transport.Intermediate})
	srv, d := s.cluster.DC(DC, "sandbox")
	s.srv = srv
	s.register(d)
	s.stateFile = opts.StateFile
	if opts.StateFile != "" {
		if err := s.load(opts.StateFile); err != nil {
			return nil, err
		}
	}

	runCtx, cancel := context.WithCancel(context.Background())
	s.ctx, s.cancel = runCtx, cancel
	go func() { s.done <- s.cluster.Up(runCtx) }()
	select {
	case <-s.cluster.Ready():
		return s, nil
	case err := <-s.done:
		cancel()
		return nil, fmt.Errorf("sandbox: start: %w", err)
	case <-ctx.Done():
		cancel()
		<-s.done
		return nil, fmt.Errorf("sandbox: start: %w", ctx.Err())
	}
}

func (s *Sandbox) stopped() <-chan struct{} { return s.ctx.Done() }

// Close stops the server and waits for persona replies in flight; with
// Options.StateFile it saves the state.
func (s *Sandbox) Close() error {
	s.cancel()
	err := <-s.done
	s.wg.Wait()
	if s.stateFile != "" {
		if serr := s.save(s.stateFile); serr != nil {
			return serr
		}
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("sandbox: %w", err)
	}
	return nil
}

// ClientOptions returns gotd client options that reach this sandbox; the
// caller adds its session storage and update handler.
func (s *Sandbox) ClientOptions() telegram.Options {
	return telegram.Options{
		PublicKeys: s.cluster.Keys(),
		DC:         DC,
		DCList:     s.cluster.List(),
		Resolver:   s.cluster.Resolver(),
	}
}

// UserSpec describes a user to add.
type UserSpec struct {
	Username  string // without @; may be empty
	Phone     string // digits, may start with +; may be empty
	FirstName string
	LastName  string
	Password  string // 2FA password; empty = none
}

// User is a sandbox user as tests see it.
type User struct {
	ID       int64
	Username string
	Phone    string
	Name     string
}

// AddUser creates a user and returns it; a username or phone another
// user has is ErrTaken.
func (s *Sandbox) AddUser(spec UserSpec) (User, error) {
	var pw *password
	if spec.Password != "" {
		var err error
		if pw, err = newPassword(spec.Password); err != nil {
			return User{}, fmt.Errorf("sandbox: set password: %w", err)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	name := lower(strings.TrimPrefix(spec.Username, "@"))
	phone := normPhone(spec.Phone)
	if name != "" && s.byName[name] != nil {
		return User{}, fmt.Errorf("%w: username @%s", ErrTaken, name)
	}
	if phone != "" && s.byPhone[phone] != nil {
		return User{}, fmt.Errorf("%w: phone %s", ErrTaken, phone)
	}
	s.nextID++
	u := &user{id: s.nextID, username: strings.TrimPrefix(spec.Username, "@"), phone: phone,
		first: spec.FirstName, last: spec.LastName, password: pw,
		random: map[int64]int{}, received: map[int64]int{}, blocked: map[int64]bool{}}
	s.users[u.id] = u
	if name != "" {
		s.byName[name] = u
	}
	if phone != "" {
		s.byPhone[phone] = u
	}
	return u.public(), nil
}

// Lookup finds a user by username.
func (s *Sandbox) Lookup(username string) (User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u := s.byName[lower(strings.TrimPrefix(username, "@"))]; u != nil {
		return u.public(), nil
	}
	return User{}, fmt.Errorf("sandbox: no user @%s", username)
}

// LookupPhone finds a user by phone.
func (s *Sandbox) LookupPhone(phone string) (User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u := s.byPhone[normPhone(phone)]; u != nil {
		return u.public(), nil
	}
	return User{}, fmt.Errorf("sandbox: no user with phone %s", phone)
}

func (u *user) public() User {
	return User{ID: u.id, Username: u.username, Phone: u.phone, Name: strings.TrimSpace(u.first + " " + u.last)}
}

func lower(s string) string { return strings.ToLower(s) }

func normPhone(p string) string {
	var b strings.Builder
	for _, r := range p {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// LoginCode is the last login code sent to phone (what the account owner
// reads in their Telegram app), or "" if none.
func (s *Sandbox) LoginCode(phone string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	phone = normPhone(phone)
	var last *code
	for _, c := range s.codes {
		if c.phone == phone && (last == nil || c.expires.After(last.expires)) {
			last = c
		}
	}
	if last == nil {
		return ""
	}
	return last.code
}

// Message is a message in a user's box, as tests see it.
type Message struct {
	ID   int
	Peer int64 // the other user
	Out  bool
	Text string // a document's caption
	Date time.Time
	File *File // the document sent, nil for a text message
	// Media is the kind of media (a Kind* name; "document" for a file
	// sent as one), "" for a text message.
	Media string
}

// Messages returns user id's messages with peer, oldest first.
func (s *Sandbox) Messages(id, peer int64) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.users[id]
	if u == nil {
		return nil
	}
	var out []Message
	for _, b := range u.box {
		if b.msg == nil {
			continue
		}
		p, _ := b.msg.PeerID.(*tg.PeerUser)
		if p == nil || p.UserID != peer {
			continue
		}
		m := Message{ID: b.msg.ID, Peer: peer, Out: b.msg.Out, Text: b.msg.Message, Date: time.Unix(int64(b.msg.Date), 0)}
		if _, ok := b.msg.Media.(*tg.MessageMediaPhoto); ok {
			m.Media = KindPhoto
		}
		if media, ok := b.msg.Media.(*tg.MessageMediaDocument); ok {
			m.Media = docKind(media)
			if doc, ok := media.Document.(*tg.Document); ok {
				if f, ok := s.files[doc.ID]; ok {
					f = f.clone()
					m.File = &f
				}
			}
		}
		out = append(out, m)
	}
	return out
}

// Typing is one typing notification a user sent.
type Typing struct{ From, To int64 }

// Read is one read receipt: From read To's messages up to MaxID.
type Read struct {
	From, To int64
	MaxID    int
}

// Activity returns the typing notifications and read receipts so far.
func (s *Sandbox) Activity() ([]Typing, []Read) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Typing(nil), s.typing...), append([]Read(nil), s.reads...)
}

// Calls is how many requests of a method (a tg.*RequestTypeID) arrived.
func (s *Sandbox) Calls(method uint32) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[method]
}

// Block makes user id block peer: peer's messages to id fail with
// USER_IS_BLOCKED.
func (s *Sandbox) Block(id, peer int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u := s.users[id]; u != nil {
		u.blocked[peer] = true
	}
}

// accessHash is the access hash viewer sees for target.
func (s *Sandbox) accessHash(viewer, target int64) int64 {
	m := hmac.New(sha256.New, s.secret[:])
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(viewer))
	binary.BigEndian.PutUint64(b[8:], uint64(target))
	m.Write(b[:])
	return int64(binary.BigEndian.Uint64(m.Sum(nil)) >> 1)
}

// tgUser is target as viewer sees it.
func (s *Sandbox) tgUser(viewer int64, target *user) *tg.User {
	u := &tg.User{ID: target.id, AccessHash: s.accessHash(viewer, target.id), Self: viewer == target.id}
	u.SetFlags()
	if target.username != "" {
		u.SetUsername(target.username)
	}
	if target.first != "" {
		u.SetFirstName(target.first)
	}
	if target.last != "" {
		u.SetLastName(target.last)
	}
	if viewer == target.id && target.phone != "" {
		u.SetPhone(target.phone)
	}
	if target.banned {
		u.SetDeleted(true)
	}
	return u
}

// sessionsOf lists the live sessions of user id; the caller holds s.mu.
func (s *Sandbox) sessionsOf(id int64) []tgtest.Session {
	var out []tgtest.Session
	for _, k := range s.keys {
		if k.user != id || k.revoked != "" {
			continue
		}
		for _, sess := range k.sessions {
			out = append(out, sess)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// push sends updates to every live session of user id except skip (the
// session that made the request gets its copy as the result). Sessions
// that cannot be reached are forgotten.
func (s *Sandbox) push(id int64, upd tg.UpdatesClass, skip int64) {
	s.mu.Lock()
	sessions := s.sessionsOf(id)
	s.mu.Unlock()
	s.pushTo(sessions, upd, skip)
}

// pushKey sends updates to the sessions of one auth key.
func (s *Sandbox) pushKey(id [8]byte, upd tg.UpdatesClass) {
	s.mu.Lock()
	var sessions []tgtest.Session
	if k := s.keys[id]; k != nil {
		for _, sess := range k.sessions {
			sessions = append(sessions, sess)
		}
	}
	s.mu.Unlock()
	s.pushTo(sessions, upd, 0)
}

func (s *Sandbox) pushTo(sessions []tgtest.Session, upd tg.UpdatesClass, skip int64) {
	for _, sess := range sessions {
		if sess.ID == skip {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		s.encode.Lock()
		err := s.srv.Send(ctx, sess, tgtest.MessageFromServer, upd)
		s.encode.Unlock()
		cancel()
		if err != nil {
			s.log.Debug("sandbox: push failed; forgetting session", "session", sess.ID, "err", err)
			s.mu.Lock()
			if k := s.keys[sess.AuthKey.ID]; k != nil {
				delete(k.sessions, sess.ID)
			}
			s.mu.Unlock()
		}
	}
}
