// Package telegram connects company Telegram user accounts over MTProto
// with gotd: login (code, 2FA password, QR, imported sessions), one
// supervised client per account, private messages in and out, and the
// updates state (pts) kept so nothing that arrived while salesbot was down
// is lost. Sessions and updates state are secrets in the event store's
// encrypted key-value space, never events.
//
// The port the rest of salesbot uses is Conn (one connected account) and
// Handler (messages arriving on it); telegramtest holds its contract suite.
package telegram

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gotd/td/tgerr"
)

// Peer is a Telegram user as one account sees it: the access hash is
// per account.
type Peer struct {
	UserID     int64
	AccessHash int64
	Username   string // without @, may be empty
	Name       string
}

// Message is a private message on an account: from the peer (Out false) or
// written by the account itself from another device (Out true), such as a
// manager typing in the Telegram app.
//
// A message with media (a voice note, a photo, a document, ...) has Media
// set and Text as its caption, often empty; see media.go.
type Message struct {
	ID    int // message id in the account's box
	Peer  Peer
	Out   bool
	Text  string
	Date  time.Time
	Media *Media // nil for a text message
}

// Handler receives the private messages of one account, in order, at
// least once: a message whose handling failed is delivered again after the
// client reconnects, so handlers must be idempotent (by Message.ID). A
// handler error stops the connection.
type Handler func(ctx context.Context, m Message) error

// Conn is one connected account: the Telegram port. Errors are RPC errors
// that Classify turns into facts.
type Conn interface {
	// Self is the account's own user.
	Self() Peer
	// Resolve finds a user by @username (USERNAME_NOT_OCCUPIED if none).
	Resolve(ctx context.Context, username string) (Peer, error)
	// Peer returns a user this account has seen (resolved or received a
	// message from), with its access hash; found is false otherwise.
	Peer(ctx context.Context, userID int64) (p Peer, found bool, err error)
	// Send sends a private message with the caller's random_id. Sending
	// again with the same random_id returns the first message's id and
	// does not deliver a second copy.
	Send(ctx context.Context, to Peer, randomID int64, text string) (messageID int, err error)
	// SendFile sends a file as a document in a private message, with
	// caption as its text (may be empty), under the same random_id
	// contract as Send: the same random_id twice delivers one message.
	// A file that is empty, unnamed or over MaxFileSize is ErrBadFile,
	// without a request; other errors are RPC errors, as for Send.
	SendFile(ctx context.Context, to Peer, randomID int64, caption string, f File) (messageID int, err error)
	// Typing shows "typing…" to the peer.
	Typing(ctx context.Context, to Peer) error
	// MarkRead marks the peer's messages up to maxID as read.
	MarkRead(ctx context.Context, peer Peer, maxID int) error
}

// File is a file to send: the name the recipient sees, its MIME type
// (application/octet-stream if empty) and its content.
type File struct {
	Name, MIME string
	Data       []byte
}

// MaxFileSize is the largest file SendFile sends: Telegram's limit for a
// file uploaded in small parts (upload.saveFilePart).
const MaxFileSize = 10 << 20

// Errors.
var (
	// ErrBadFile: SendFile was given a file it does not send (empty,
	// unnamed, or over MaxFileSize).
	ErrBadFile = errors.New("telegram: file not sendable")
	// ErrNotAPerson: a username names a bot, group or channel.
	ErrNotAPerson = errors.New("telegram: not a person")
	// ErrBadUsername: not something Telegram could accept as a username.
	ErrBadUsername = errors.New("telegram: not a valid username")
	// ErrUnauthorized: the stored session is missing or no longer signed in.
	ErrUnauthorized = errors.New("telegram: account is not signed in")
	// ErrSessionInUse: another client runs this account's session.
	ErrSessionInUse = errors.New("telegram: the account's session is already running")
)

// Kind is what a Telegram error means for salesbot.
type Kind int

const (
	KindNone        Kind = iota
	KindTransient        // network trouble, timeouts, 5xx: retry later
	KindFloodWait        // FLOOD_WAIT_X: wait Fault.Wait, then retry
	KindPeerFlood        // PEER_FLOOD: the account may not start conversations
	KindUnreachable      // the contact cannot be written to (privacy, blocked, no such user)
	KindAccountLost      // the session was revoked or the account banned
	KindInvalid          // our request was wrong (bad peer, empty message)
)

func (k Kind) String() string {
	return [...]string{"none", "transient", "flood-wait", "peer-flood", "unreachable", "account-lost", "invalid"}[k]
}

// Fault is a classified Telegram error.
type Fault struct {
	Kind   Kind
	Wait   time.Duration // for KindFloodWait
	Reason string        // the RPC error type, e.g. USER_PRIVACY_RESTRICTED
}

// Classify turns an error from Conn or a client into a Fault.
func Classify(err error) Fault {
	if err == nil {
		return Fault{}
	}
	switch {
	case errors.Is(err, ErrUnauthorized):
		return Fault{Kind: KindAccountLost, Reason: "AUTH_KEY_UNREGISTERED"}
	case errors.Is(err, ErrNotAPerson):
		return Fault{Kind: KindUnreachable, Reason: "NOT_A_PERSON"}
	case errors.Is(err, ErrBadUsername):
		return Fault{Kind: KindUnreachable, Reason: "USERNAME_INVALID"}
	case errors.Is(err, ErrBadFile):
		return Fault{Kind: KindInvalid, Reason: "FILE_INVALID"}
	}
	if d, ok := tgerr.AsFloodWait(err); ok {
		return Fault{Kind: KindFloodWait, Wait: d, Reason: "FLOOD_WAIT"}
	}
	rpc, ok := tgerr.As(err)
	if !ok {
		return Fault{Kind: KindTransient, Reason: err.Error()}
	}
	f := Fault{Reason: rpc.Type}
	switch {
	case rpc.Type == "PEER_FLOOD":
		f.Kind = KindPeerFlood
	// Our own account gone: USER_DEACTIVATED (401) is about us; the lead's
	// deactivation is INPUT_USER_DEACTIVATED (400).
	case oneOf(rpc.Type, "AUTH_KEY_UNREGISTERED", "SESSION_REVOKED", "USER_DEACTIVATED", "USER_DEACTIVATED_BAN",
		"AUTH_KEY_INVALID", "SESSION_EXPIRED", "AUTH_KEY_PERM_EMPTY", "PHONE_NUMBER_BANNED", "AUTH_KEY_DUPLICATED") ||
		(rpc.Code == 401 && rpc.Type != "SESSION_PASSWORD_NEEDED"):
		f.Kind = KindAccountLost
	case oneOf(rpc.Type, "USER_PRIVACY_RESTRICTED", "USER_IS_BLOCKED", "USERNAME_NOT_OCCUPIED",
		"USERNAME_INVALID", "INPUT_USER_DEACTIVATED", "YOU_BLOCKED_USER", "PRIVACY_PREMIUM_REQUIRED"):
		f.Kind = KindUnreachable
	case rpc.Code >= 500 || rpc.Code == 420:
		f.Kind = KindTransient
	default:
		f.Kind = KindInvalid
	}
	return f
}

func oneOf(s string, set ...string) bool {
	for _, x := range set {
		if s == x {
			return true
		}
	}
	return false
}

// normUsername strips @ and a t.me/ prefix and checks the characters
// Telegram allows, so a typo gets a clear answer without a round trip.
func normUsername(s string) (string, error) {
	s = strings.TrimSpace(s)
	for _, p := range []string{"https://t.me/", "http://t.me/", "t.me/", "@"} {
		s = strings.TrimPrefix(s, p)
	}
	if len(s) < 4 || len(s) > 32 {
		return "", fmt.Errorf("%w: %q must be 4 to 32 characters", ErrBadUsername, s)
	}
	for _, r := range s {
		if !(r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return "", fmt.Errorf("%w: %q may only hold letters, digits and _", ErrBadUsername, s)
		}
	}
	return s, nil
}

// RandomID returns a random_id for a new outbound message: random and
// non-zero, as Telegram requires. The caller records it with the planned
// message before the send, so a retry reuses it (see Conn.Send).
func RandomID() int64 {
	for {
		var b [8]byte
		_, _ = rand.Read(b[:]) // never fails (crypto/rand)
		if n := int64(binary.BigEndian.Uint64(b[:]) >> 1); n != 0 {
			return n
		}
	}
}
