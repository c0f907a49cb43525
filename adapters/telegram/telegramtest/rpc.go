package telegramtest

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math/big"
	"sort"
	"strings"
	"time"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgerr"
	"github.com/gotd/td/tgtest"
)

// call is one request being served.
type call struct {
	req  *tgtest.Request
	key  *key  // never nil
	user *user // signed-in user, nil if none
}

// vector is a result sent as a TL vector.
type vector []bin.Encoder

type handler func(c *call) (any, error)

// register installs every method the sandbox serves.
func (s *Sandbox) register(d *tgtest.Dispatcher) {
	open := map[uint32]handler{
		tg.HelpGetConfigRequestTypeID:        s.helpGetConfig,
		tg.AuthSendCodeRequestTypeID:         s.authSendCode,
		tg.AuthSignInRequestTypeID:           s.authSignIn,
		tg.AccountGetPasswordRequestTypeID:   s.accountGetPassword,
		tg.AuthCheckPasswordRequestTypeID:    s.authCheckPassword,
		tg.AuthExportLoginTokenRequestTypeID: s.authExportLoginToken,
	}
	authed := map[uint32]handler{
		tg.AuthLogOutRequestTypeID:              s.authLogOut,
		tg.AuthAcceptLoginTokenRequestTypeID:    s.authAcceptLoginToken,
		tg.UsersGetUsersRequestTypeID:           s.usersGetUsers,
		tg.ContactsResolveUsernameRequestTypeID: s.contactsResolveUsername,
		tg.MessagesSendMessageRequestTypeID:     s.messagesSendMessage,
		tg.UploadSaveFilePartRequestTypeID:      s.uploadSaveFilePart,
		tg.MessagesSendMediaRequestTypeID:       s.messagesSendMedia,
		tg.UploadGetFileRequestTypeID:           s.uploadGetFile,
		tg.MessagesSetTypingRequestTypeID:       s.messagesSetTyping,
		tg.MessagesReadHistoryRequestTypeID:     s.messagesReadHistory,
		tg.UpdatesGetStateRequestTypeID:         s.updatesGetState,
		tg.UpdatesGetDifferenceRequestTypeID:    s.updatesGetDifference,
	}
	for id, h := range open {
		d.HandleFunc(id, s.serve(id, false, h))
	}
	for id, h := range authed {
		d.HandleFunc(id, s.serve(id, true, h))
	}
}

// serve wraps a handler: it tracks the caller's session, applies injected
// faults and the account's state (banned, logged out), and sends the result
// or the RPC error.
func (s *Sandbox) serve(method uint32, needAuth bool, h handler) func(*tgtest.Server, *tgtest.Request) error {
	return func(srv *tgtest.Server, req *tgtest.Request) error {
		c, err := s.begin(method, needAuth, req)
		if err == nil {
			var res any
			res, err = h(c)
			if err == nil {
				s.encode.Lock()
				defer s.encode.Unlock()
				switch res := res.(type) {
				case vector:
					return srv.SendVector(req, res...)
				case bin.Encoder:
					return srv.SendResult(req, res)
				}
				err = fmt.Errorf("result %T is not encodable", res)
			}
		}
		if rpcErr, ok := tgerr.As(err); ok {
			return srv.SendErr(req, rpcErr)
		}
		s.log.Error("sandbox: internal error", "method", fmt.Sprintf("%#x", method), "err", err)
		return srv.SendErr(req, tgerr.New(500, "INTERNAL"))
	}
}

func (s *Sandbox) begin(method uint32, needAuth bool, req *tgtest.Request) (*call, error) {
	s.mu.Lock()
	s.requests[method]++
	k := s.keys[req.Session.AuthKey.ID]
	if k == nil {
		v := req.Session.AuthKey.Value
		k = &key{value: &v, sessions: map[int64]tgtest.Session{}}
		s.keys[req.Session.AuthKey.ID] = k
	}
	k.sessions[req.Session.ID] = req.Session
	c := &call{req: req, key: k}
	if k.user != 0 {
		c.user = s.users[k.user]
	}
	fault := s.takeFault(method, k.user)
	var err error
	switch {
	case needAuth && k.revoked != "":
		err = tgerr.New(401, k.revoked)
	case c.user != nil && c.user.banned:
		err = tgerr.New(401, "USER_DEACTIVATED_BAN")
	case needAuth && c.user == nil:
		err = tgerr.New(401, "AUTH_KEY_UNREGISTERED")
	}
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if fault != nil {
		if fault.Delay > 0 {
			select {
			case <-time.After(fault.Delay):
			case <-req.RequestCtx.Done():
			}
		}
		if fault.Drop {
			s.srv.ForceDisconnect(req.Session)
		}
		if fault.Error != "" {
			return nil, tgerr.New(fault.Code, fault.Error)
		}
	}
	return c, nil
}

func decode[T any, P interface {
	*T
	bin.Decoder
}](c *call) (*T, error) {
	r := P(new(T))
	if err := r.Decode(c.req.Buf); err != nil {
		return nil, tgerr.New(400, "INPUT_REQUEST_INVALID")
	}
	return (*T)(r), nil
}

func (s *Sandbox) helpGetConfig(c *call) (any, error) {
	if _, err := decode[tg.HelpGetConfigRequest](c); err != nil {
		return nil, err
	}
	return &tg.Config{DCOptions: s.cluster.List().Options, ThisDC: DC, Date: int(s.now().Unix()), Expires: int(s.now().Add(time.Hour).Unix())}, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (s *Sandbox) authSendCode(c *call) (any, error) {
	r, err := decode[tg.AuthSendCodeRequest](c)
	if err != nil {
		return nil, err
	}
	phone := normPhone(r.PhoneNumber)
	if phone == "" {
		return nil, tgerr.New(400, "PHONE_NUMBER_INVALID")
	}
	n, _ := rand.Int(rand.Reader, big.NewInt(90000))
	cd := &code{phone: phone, code: fmt.Sprint(10000 + n.Int64()), expires: s.now().Add(5 * time.Minute)}
	hash := randomHex(8)
	s.mu.Lock()
	s.codes[hash] = cd
	s.mu.Unlock()
	return &tg.AuthSentCode{Type: &tg.AuthSentCodeTypeApp{Length: 5}, PhoneCodeHash: hash}, nil
}

func (s *Sandbox) authSignIn(c *call) (any, error) {
	r, err := decode[tg.AuthSignInRequest](c)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cd := s.codes[r.PhoneCodeHash]
	switch {
	case cd == nil || cd.phone != normPhone(r.PhoneNumber):
		return nil, tgerr.New(400, "PHONE_CODE_HASH_EMPTY")
	case s.now().After(cd.expires):
		return nil, tgerr.New(400, "PHONE_CODE_EXPIRED")
	case r.PhoneCode != cd.code:
		return nil, tgerr.New(400, "PHONE_CODE_INVALID")
	}
	delete(s.codes, r.PhoneCodeHash)
	u := s.byPhone[cd.phone]
	if u == nil {
		return nil, tgerr.New(400, "PHONE_NUMBER_UNOCCUPIED")
	}
	if u.banned {
		return nil, tgerr.New(400, "PHONE_NUMBER_BANNED")
	}
	if u.password != nil {
		c.key.pending = u.id
		return nil, tgerr.New(401, "SESSION_PASSWORD_NEEDED")
	}
	c.key.user = u.id
	return &tg.AuthAuthorization{User: s.tgUser(u.id, u)}, nil
}

func (s *Sandbox) accountGetPassword(c *call) (any, error) {
	if _, err := decode[tg.AccountGetPasswordRequest](c); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id := c.key.pending
	if id == 0 {
		id = c.key.user
	}
	u := s.users[id]
	if u == nil {
		return nil, tgerr.New(401, "AUTH_KEY_UNREGISTERED")
	}
	if u.password == nil {
		return &tg.AccountPassword{NewAlgo: &tg.PasswordKdfAlgoUnknown{}, NewSecureAlgo: &tg.SecurePasswordKdfAlgoUnknown{}, SecureRandom: make([]byte, 32)}, nil
	}
	sess, res, err := u.password.challenge()
	if err != nil {
		return nil, err
	}
	c.key.srp = sess
	return res, nil
}

func (s *Sandbox) authCheckPassword(c *call) (any, error) {
	r, err := decode[tg.AuthCheckPasswordRequest](c)
	if err != nil {
		return nil, err
	}
	in, ok := r.Password.(*tg.InputCheckPasswordSRP)
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.users[c.key.pending]
	switch {
	case u == nil || u.password == nil:
		return nil, tgerr.New(400, "PASSWORD_HASH_INVALID")
	case !ok || c.key.srp == nil || in.SRPID != c.key.srp.id:
		return nil, tgerr.New(400, "SRP_ID_INVALID")
	case !u.password.check(c.key.srp, in.A, in.M1):
		c.key.srp = nil
		return nil, tgerr.New(400, "PASSWORD_HASH_INVALID")
	}
	c.key.srp, c.key.pending, c.key.user = nil, 0, u.id
	return &tg.AuthAuthorization{User: s.tgUser(u.id, u)}, nil
}

func (s *Sandbox) authLogOut(c *call) (any, error) {
	if _, err := decode[tg.AuthLogOutRequest](c); err != nil {
		return nil, err
	}
	s.mu.Lock()
	c.key.user = 0
	s.mu.Unlock()
	return &tg.AuthLoggedOut{}, nil
}

func (s *Sandbox) usersGetUsers(c *call) (any, error) {
	r, err := decode[tg.UsersGetUsersRequest](c)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out vector
	for _, in := range r.ID {
		switch in := in.(type) {
		case *tg.InputUserSelf:
			out = append(out, s.tgUser(c.user.id, c.user))
		case *tg.InputUser:
			if u := s.users[in.UserID]; u != nil && in.AccessHash == s.accessHash(c.user.id, u.id) {
				out = append(out, s.tgUser(c.user.id, u))
			}
		}
	}
	return out, nil
}

func (s *Sandbox) contactsResolveUsername(c *call) (any, error) {
	r, err := decode[tg.ContactsResolveUsernameRequest](c)
	if err != nil {
		return nil, err
	}
	name := strings.ToLower(strings.TrimPrefix(r.Username, "@"))
	if name == "" || len(name) > 32 {
		return nil, tgerr.New(400, "USERNAME_INVALID")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.byName[name]
	if u == nil {
		return nil, tgerr.New(400, "USERNAME_NOT_OCCUPIED")
	}
	return &tg.ContactsResolvedPeer{Peer: &tg.PeerUser{UserID: u.id}, Users: []tg.UserClass{s.tgUser(c.user.id, u)}}, nil
}

// peer resolves an input peer the caller names, checking its access hash.
func (s *Sandbox) peer(c *call, in tg.InputPeerClass) (*user, error) {
	switch p := in.(type) {
	case *tg.InputPeerUser:
		u := s.users[p.UserID]
		if u == nil || p.AccessHash != s.accessHash(c.user.id, u.id) {
			return nil, tgerr.New(400, "PEER_ID_INVALID")
		}
		return u, nil
	case *tg.InputPeerSelf:
		return c.user, nil
	}
	return nil, tgerr.New(400, "PEER_ID_INVALID")
}

func (s *Sandbox) messagesSendMessage(c *call) (any, error) {
	r, err := decode[tg.MessagesSendMessageRequest](c)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	to, err := s.peer(c, r.Peer)
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return s.send(c.user.id, to.id, content{text: r.Message}, r.RandomID, c.req.Session.ID)
}

// SendAs delivers a private message from one user to another as if typed
// in a Telegram app: a lead writing to an account, or a manager writing
// from the account's phone. Every session of both sides gets the update.
func (s *Sandbox) SendAs(from, to int64, text string) (int, error) {
	res, err := s.send(from, to, content{text: text}, 0, 0)
	if err != nil {
		return 0, err
	}
	return res.Updates[0].(*tg.UpdateMessageID).ID, nil
}

// content is what a message carries: its text (a caption, with a
// document) and a document with the file it holds, if any.
type content struct {
	text  string
	doc   *tg.Document
	file  *File
	photo *tg.Photo
	voice bool // the document is a voice note
	round bool // the document is a round video message
}

// message is the content as a box keeps it.
func (m content) message(from, peer int64, out bool, date int) *tg.Message {
	msg := &tg.Message{Out: out, FromID: &tg.PeerUser{UserID: from}, PeerID: &tg.PeerUser{UserID: peer}, Message: m.text, Date: date}
	switch {
	case m.doc != nil:
		md := &tg.MessageMediaDocument{Document: m.doc, Voice: m.voice, Round: m.round}
		md.SetFlags()
		msg.Media = md
	case m.photo != nil:
		mp := &tg.MessageMediaPhoto{Photo: m.photo}
		mp.SetFlags()
		msg.Media = mp
	}
	return msg
}

// send stores a private message (text, or a document with a caption) in
// both boxes, pushes it to the recipient (and to the sender's other
// sessions) and returns the sender's updates. A random_id the sender used
// before returns the first message again and stores nothing, as Telegram
// does.
func (s *Sandbox) send(fromID, toID int64, m content, randomID int64, session int64) (*tg.Updates, error) {
	limit, tooLong := 4096, "MESSAGE_TOO_LONG"
	if m.doc != nil || m.photo != nil {
		limit, tooLong = 1024, "MEDIA_CAPTION_TOO_LONG"
	}
	if strings.TrimSpace(m.text) == "" && m.doc == nil && m.photo == nil {
		return nil, tgerr.New(400, "MESSAGE_EMPTY")
	}
	if len([]rune(m.text)) > limit {
		return nil, tgerr.New(400, tooLong)
	}
	s.mu.Lock()
	from, to := s.users[fromID], s.users[toID]
	if from == nil || to == nil {
		s.mu.Unlock()
		return nil, tgerr.New(400, "PEER_ID_INVALID")
	}
	if res := s.resent(from, to, randomID); res != nil {
		s.mu.Unlock()
		return res, nil
	}
	switch {
	case to.blocked[fromID]:
		s.mu.Unlock()
		return nil, tgerr.New(400, "USER_IS_BLOCKED")
	case to.banned:
		s.mu.Unlock()
		return nil, tgerr.New(400, "INPUT_USER_DEACTIVATED")
	}
	if m.doc != nil && m.file != nil {
		s.files[m.doc.ID] = *m.file
		s.docHashes[m.doc.ID] = m.doc.AccessHash
	}
	date := int(s.now().Unix())
	out := from.store(m.message(fromID, toID, true, date))
	if randomID != 0 {
		from.random[randomID] = out.msg.ID
	}
	var in boxed
	if fromID != toID {
		in = to.store(m.message(fromID, fromID, false, date))
		to.received[fromID]++
	}
	res := s.sentUpdates(from, to, out, randomID)
	own := &tg.Updates{Updates: []tg.UpdateClass{&tg.UpdateNewMessage{Message: out.msg, Pts: out.pts, PtsCount: 1}},
		Users: []tg.UserClass{s.tgUser(fromID, to), s.tgUser(fromID, from)}, Date: date}
	var theirs tg.UpdatesClass
	switch {
	case fromID == toID:
	case in.msg.Media == nil:
		// A plain private text comes in Telegram's short form, without
		// the sender's user: the client must know them or ask for the
		// difference.
		short := &tg.UpdateShortMessage{ID: in.msg.ID, UserID: fromID, Message: in.msg.Message, Pts: in.pts, PtsCount: 1, Date: date}
		short.SetFlags()
		theirs = short
	default:
		theirs = &tg.Updates{Updates: []tg.UpdateClass{&tg.UpdateNewMessage{Message: in.msg, Pts: in.pts, PtsCount: 1}},
			Users: []tg.UserClass{s.tgUser(toID, from), s.tgUser(toID, to)}, Date: date}
	}
	persona := to.persona
	n := to.received[fromID]
	s.mu.Unlock()

	s.push(fromID, own, session)
	if theirs != nil {
		s.push(toID, theirs, 0)
		if persona != nil {
			s.answer(persona, to.public(), from.public(), m, n)
		}
	}
	return res, nil
}

// resent is the answer to a send with a random_id the sender used before:
// the first message again. It is nil for a new random_id (or none); the
// caller holds s.mu.
func (s *Sandbox) resent(from, to *user, randomID int64) *tg.Updates {
	if randomID == 0 {
		return nil
	}
	id, ok := from.random[randomID]
	if !ok {
		return nil
	}
	return s.sentUpdates(from, to, from.find(id), randomID)
}

// sentUpdates is what the sender gets back from sendMessage.
func (s *Sandbox) sentUpdates(from, to *user, out boxed, randomID int64) *tg.Updates {
	return &tg.Updates{
		Updates: []tg.UpdateClass{
			&tg.UpdateMessageID{ID: out.msg.ID, RandomID: randomID},
			&tg.UpdateNewMessage{Message: out.msg, Pts: out.pts, PtsCount: 1},
		},
		Users: []tg.UserClass{s.tgUser(from.id, to), s.tgUser(from.id, from)},
		Date:  out.msg.Date,
	}
}

// store adds a message to the box with the next id and pts.
func (u *user) store(m *tg.Message) boxed {
	u.lastMsgID++
	u.pts++
	m.ID = u.lastMsgID
	m.SetFlags()
	b := boxed{pts: u.pts, msg: m}
	u.box = append(u.box, b)
	return b
}

func (u *user) find(id int) boxed {
	for _, b := range u.box {
		if b.msg != nil && b.msg.ID == id {
			return b
		}
	}
	return boxed{}
}

func (s *Sandbox) messagesSetTyping(c *call) (any, error) {
	r, err := decode[tg.MessagesSetTypingRequest](c)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	to, err := s.peer(c, r.Peer)
	if err == nil {
		s.typing = append(s.typing, Typing{From: c.user.id, To: to.id})
	}
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	s.push(to.id, &tg.UpdateShort{Update: &tg.UpdateUserTyping{UserID: c.user.id, Action: r.Action}, Date: int(s.now().Unix())}, 0)
	return &tg.BoolTrue{}, nil
}

func (s *Sandbox) messagesReadHistory(c *call) (any, error) {
	r, err := decode[tg.MessagesReadHistoryRequest](c)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	to, err := s.peer(c, r.Peer)
	if err != nil {
		return nil, err
	}
	s.reads = append(s.reads, Read{From: c.user.id, To: to.id, MaxID: r.MaxID})
	// Reading takes a pts step of its own, as on Telegram.
	c.user.pts++
	c.user.box = append(c.user.box, boxed{pts: c.user.pts, other: &tg.UpdateReadHistoryInbox{
		Peer: &tg.PeerUser{UserID: to.id}, MaxID: r.MaxID, Pts: c.user.pts, PtsCount: 1}})
	return &tg.MessagesAffectedMessages{Pts: c.user.pts, PtsCount: 1}, nil
}

func (s *Sandbox) updatesGetState(c *call) (any, error) {
	if _, err := decode[tg.UpdatesGetStateRequest](c); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return &tg.UpdatesState{Pts: c.user.pts, Date: int(s.now().Unix())}, nil
}

// differenceLimit is how many messages one getDifference returns before it
// answers with a slice, as Telegram does.
const differenceLimit = 100

func (s *Sandbox) updatesGetDifference(c *call) (any, error) {
	r, err := decode[tg.UpdatesGetDifferenceRequest](c)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u := c.user
	date := int(s.now().Unix())
	if r.Pts >= u.pts {
		return &tg.UpdatesDifferenceEmpty{Date: date}, nil
	}
	i := sort.Search(len(u.box), func(i int) bool { return u.box[i].pts > r.Pts })
	msgs := u.box[i:]
	slice := len(msgs) > differenceLimit
	if slice {
		msgs = msgs[:differenceLimit]
	}
	var (
		out   []tg.MessageClass
		other []tg.UpdateClass
		users []tg.UserClass
		seen  = map[int64]bool{u.id: true}
	)
	users = append(users, s.tgUser(u.id, u))
	for _, b := range msgs {
		if b.msg == nil {
			other = append(other, b.other)
			continue
		}
		out = append(out, b.msg)
		if p, ok := b.msg.PeerID.(*tg.PeerUser); ok && !seen[p.UserID] {
			seen[p.UserID] = true
			if peer := s.users[p.UserID]; peer != nil {
				users = append(users, s.tgUser(u.id, peer))
			}
		}
	}
	// The state is the box's when all of it is sent; a box restored from a
	// state file has its pts but not its messages.
	statePts := u.pts
	if slice {
		statePts = msgs[len(msgs)-1].pts
	}
	state := tg.UpdatesState{Pts: statePts, Date: date}
	if slice {
		return &tg.UpdatesDifferenceSlice{NewMessages: out, OtherUpdates: other, Users: users, IntermediateState: state}, nil
	}
	return &tg.UpdatesDifference{NewMessages: out, OtherUpdates: other, Users: users, State: state}, nil
}
