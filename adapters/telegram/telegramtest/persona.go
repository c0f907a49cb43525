package telegramtest

import (
	"fmt"
	"time"
)

// Persona is a scripted lead: a sandbox user that answers the private
// messages it gets.
type Persona struct {
	// Reply returns the persona's answers to a message; nil = stays silent.
	Reply func(in Incoming) []string
	// Media returns media the persona sends after its Reply answers (a
	// voice note, a photo); nil = none.
	Media func(in Incoming) []Media
	// Delay is how long the persona "types" before each answer.
	Delay time.Duration
}

// Incoming is a message a persona got.
type Incoming struct {
	From User   // who wrote
	Me   User   // the persona
	Text string // what they wrote (a file's caption)
	File *File  // a file sent with the message, nil if none
	N    int    // how many messages this sender has sent the persona so far, 1 for the first
}

// AddPersona creates a user that answers by script.
func (s *Sandbox) AddPersona(spec UserSpec, p Persona) (User, error) {
	if p.Reply == nil && p.Media == nil {
		return User{}, fmt.Errorf("sandbox: persona @%s has no Reply or Media script", spec.Username)
	}
	u, err := s.AddUser(spec)
	if err != nil {
		return User{}, err
	}
	s.mu.Lock()
	s.users[u.ID].persona = &p
	s.mu.Unlock()
	return u, nil
}

// Script answers message n (1-based) with lines[n-1] and is silent after
// the last line.
func Script(lines ...string) func(Incoming) []string {
	return func(in Incoming) []string {
		if in.N > len(lines) || lines[in.N-1] == "" {
			return nil
		}
		return []string{lines[in.N-1]}
	}
}

// answer runs the persona's script for one incoming message, outside the
// request that delivered it.
func (s *Sandbox) answer(p *Persona, me, from User, m content, n int) {
	in := Incoming{From: from, Me: me, Text: m.text, N: n}
	if m.file != nil {
		f := m.file.clone()
		in.File = &f
	}
	var replies []content
	if p.Reply != nil {
		for _, r := range p.Reply(in) {
			replies = append(replies, content{text: r})
		}
	}
	if p.Media != nil {
		for _, md := range p.Media(in) {
			c, err := s.mediaContent(md)
			if err != nil {
				s.log.Warn("sandbox: persona media refused", "persona", me.ID, "err", err)
				continue
			}
			replies = append(replies, c)
		}
	}
	if len(replies) == 0 {
		return
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for _, r := range replies {
			if p.Delay > 0 {
				t := time.NewTimer(p.Delay)
				select {
				case <-t.C:
				case <-s.stopped():
					t.Stop()
					return
				}
			}
			if _, err := s.send(me.ID, from.ID, r, 0, 0); err != nil {
				s.log.Warn("sandbox: persona reply failed", "persona", me.ID, "to", from.ID, "err", err)
				return
			}
		}
	}()
}
