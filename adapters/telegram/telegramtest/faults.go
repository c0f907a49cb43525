package telegramtest

import (
	"time"
)

// Fault makes matching requests misbehave: answer with an RPC error, answer
// slowly, or drop the connection. Common errors: 420 FLOOD_WAIT_<seconds>,
// 400 PEER_FLOOD, 403 USER_PRIVACY_RESTRICTED, 400 USER_IS_BLOCKED,
// 400 USERNAME_NOT_OCCUPIED, 401 AUTH_KEY_UNREGISTERED, 401 SESSION_REVOKED,
// 401 USER_DEACTIVATED_BAN.
type Fault struct {
	User   int64         // requests by this user (0 = any user)
	Method uint32        // a tg.*RequestTypeID (0 = any method)
	Code   int           // RPC error code, e.g. 420
	Error  string        // RPC error type, e.g. "FLOOD_WAIT_3"; empty = no error
	Delay  time.Duration // answer this much later (a slow reply)
	Drop   bool          // drop the client's connection before answering
	Times  int           // requests it hits; 0 = until removed
}

type faultState struct {
	Fault
	left int
}

// Inject adds a fault; the returned function removes it.
func (s *Sandbox) Inject(f Fault) (remove func()) {
	st := &faultState{Fault: f, left: f.Times}
	s.mu.Lock()
	s.faults = append(s.faults, st)
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		for i, x := range s.faults {
			if x == st {
				s.faults = append(s.faults[:i], s.faults[i+1:]...)
				return
			}
		}
	}
}

// takeFault returns the first fault matching a request and counts it; the
// caller holds s.mu.
func (s *Sandbox) takeFault(method uint32, user int64) *Fault {
	for i, f := range s.faults {
		if (f.User != 0 && f.User != user) || (f.Method != 0 && f.Method != method) {
			continue
		}
		if f.Times > 0 {
			f.left--
			if f.left <= 0 {
				s.faults = append(s.faults[:i], s.faults[i+1:]...)
			}
		}
		return &f.Fault
	}
	return nil
}

// Revoke logs out every key of user id server-side, as when the owner ends
// the session from another device: requests then fail with reason
// (AUTH_KEY_UNREGISTERED or SESSION_REVOKED).
func (s *Sandbox) Revoke(id int64, reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range s.keys {
		if k.user == id {
			k.revoked = reason
		}
	}
}

// Ban deactivates user id: its requests fail with USER_DEACTIVATED_BAN and
// messages to it fail.
func (s *Sandbox) Ban(id int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u := s.users[id]; u != nil {
		u.banned = true
	}
}

// Drop cuts every connection of user id; clients reconnect by themselves.
func (s *Sandbox) Drop(id int64) {
	s.mu.Lock()
	sessions := s.sessionsOf(id)
	for _, sess := range sessions {
		delete(s.keys[sess.AuthKey.ID].sessions, sess.ID)
	}
	s.mu.Unlock()
	for _, sess := range sessions {
		s.srv.ForceDisconnect(sess)
	}
}
