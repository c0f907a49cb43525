package scenario

import (
	"fmt"
	"strings"
)

// Texts in several languages: a Text or Texts holds what the file wrote,
// by language. A lead is answered in their language when the file has a
// text in it, else in the scenario's default language (Parse guarantees
// every required text has one). T and List apply that fallback; read
// texts through them rather than indexing the maps, so that a missing
// translation never yields an empty message.

// T returns t in lang, or in the default language when t has no text in
// lang.
func (s *Scenario) T(t Text, lang string) string {
	if v := t[lang]; strings.TrimSpace(v) != "" {
		return v
	}
	return t[s.defaultLanguage()]
}

// List returns the texts of t in lang, or in the default language when t
// has none in lang.
func (s *Scenario) List(t Texts, lang string) []string {
	if l := t[lang]; len(l) > 0 {
		return l
	}
	return t[s.defaultLanguage()]
}

func (s *Scenario) defaultLanguage() string {
	if s.Language == "" {
		return DefaultLanguage
	}
	return s.Language
}

// DisclosureFirst says whether the disclosure line starts the first
// message of a dialog (disclosure.first_message, default true).
func (s *Scenario) DisclosureFirst() bool {
	return s.Disclosure.FirstMessage == nil || *s.Disclosure.FirstMessage
}

// Opening returns the opening text of variant v in lang (the variant's
// opening, the first when it names none), without the disclosure line; ""
// if the scenario has no such opening.
func (s *Scenario) Opening(v Variant, lang string) string {
	i := 0
	if v.Opening != nil {
		i = *v.Opening
	}
	if i < 0 || i >= len(s.Openings) {
		return ""
	}
	return s.T(s.Openings[i], lang)
}

// Variant returns the variant called name.
func (s *Scenario) Variant(name string) (Variant, bool) {
	for _, v := range s.Variants {
		if v.Name == name {
			return v, true
		}
	}
	return Variant{}, false
}

// UnknownVariantError: the scenario has no variant called Name; Have are
// the names it has.
type UnknownVariantError struct {
	Name string
	Have []string
}

func (e *UnknownVariantError) Error() string {
	return fmt.Sprintf("the scenario has no variant %q (it has %s)", e.Name, strings.Join(e.Have, ", "))
}

// CheckVariant makes sure the scenario has a variant called name (one a
// dialog is to use), else an *UnknownVariantError.
func (s *Scenario) CheckVariant(name string) error {
	if _, ok := s.Variant(name); ok {
		return nil
	}
	e := &UnknownVariantError{Name: name}
	for _, v := range s.Variants {
		e.Have = append(e.Have, v.Name)
	}
	return e
}

// PickVariant chooses a variant for a new dialog with the weights as
// odds. It is deterministic: the same key (a dialog's number, say) always
// gives the same variant of the same scenario, so a dialog keeps its
// variant; keys that differ, even by one, spread as the weights say. It
// returns the zero Variant only when the scenario has none (Parse never
// allows that).
func (s *Scenario) PickVariant(key uint64) Variant {
	var total uint64
	for _, v := range s.Variants {
		if v.Weight > 0 {
			total += uint64(v.Weight)
		}
	}
	if total == 0 {
		if len(s.Variants) > 0 {
			return s.Variants[0]
		}
		return Variant{}
	}
	x := mix(key) % total
	for _, v := range s.Variants {
		if v.Weight <= 0 {
			continue
		}
		if x < uint64(v.Weight) {
			return v
		}
		x -= uint64(v.Weight)
	}
	return s.Variants[len(s.Variants)-1] // unreachable
}

// mix is SplitMix64's finaliser: consecutive keys land far apart.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// Field returns the qualification field called name.
func (s *Scenario) Field(name string) (FieldSpec, bool) {
	for _, f := range s.Qualification.Fields {
		if f.Name == name {
			return f, true
		}
	}
	return FieldSpec{}, false
}

// StageSpec returns the scenario's stage called name (the stages the
// scenario does not describe, and handoff and closed, are not found).
func (s *Scenario) StageSpec(name string) (Stage, bool) {
	for _, st := range s.Stages {
		if st.Name == name {
			return st, true
		}
	}
	return Stage{}, false
}

// KnowledgeText is the whole knowledge base as plain text: the products
// with their prices and descriptions, the terms, and the FAQ. The prompt
// quotes it, and the price guard accepts only the figures it states.
func (s *Scenario) KnowledgeText() string {
	var b strings.Builder
	k := s.Knowledge
	if len(k.Products) > 0 {
		b.WriteString("Products:\n")
		for _, p := range k.Products {
			b.WriteString("- ")
			b.WriteString(oneLine(p.Name))
			if p.Price != "" {
				b.WriteString(": ")
				b.WriteString(oneLine(p.Price))
			}
			if p.Description != "" {
				// A dash, not a full stop: "$49. 10 seats" would read as
				// one amount, 49.10.
				b.WriteString(" — ")
				b.WriteString(oneLine(p.Description))
			}
			b.WriteByte('\n')
		}
	}
	if len(k.Terms) > 0 {
		b.WriteString("Terms:\n")
		for _, t := range k.Terms {
			b.WriteString("- ")
			b.WriteString(oneLine(t))
			b.WriteByte('\n')
		}
	}
	if len(k.FAQ) > 0 {
		b.WriteString("FAQ:\n")
		for _, f := range k.FAQ {
			b.WriteString("- Q: ")
			b.WriteString(oneLine(f.Q))
			b.WriteString("\n  A: ")
			b.WriteString(oneLine(f.A))
			b.WriteByte('\n')
		}
	}
	if len(k.Files) > 0 {
		b.WriteString("Files you may send (name one in \"file\" to send it with your reply; no other file exists):\n")
		for _, f := range k.Files {
			b.WriteString("- ")
			b.WriteString(oneLine(f.Name))
			if f.When != "" {
				b.WriteString(" — ")
				b.WriteString(oneLine(f.When))
			}
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// oneLine folds a text's line breaks and runs of spaces into single
// spaces, so that each entry stays on its line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// StatedText is what the scenario states outside the knowledge base, for
// the guards: the company (its website above all), the openings, the
// follow-ups, the stages' replies and follow-ups, and the fixed replies
// in every language. A contact point
// (URL, e-mail, phone, @username) in a reply must appear here or in
// KnowledgeText.
func (s *Scenario) StatedText() string {
	var b strings.Builder
	line := func(t string) {
		if t = strings.TrimSpace(t); t != "" {
			b.WriteString(t)
			b.WriteByte('\n')
		}
	}
	text := func(t Text) {
		for _, l := range Languages {
			line(t[l])
		}
	}
	line(s.Company.Name)
	line(s.Company.Website)
	line(s.Booking.Link)
	line(s.Company.Description)
	text(s.Disclosure.Text)
	for _, o := range s.Openings {
		text(o)
	}
	for _, l := range Languages {
		for _, t := range s.FollowUps.Texts[l] {
			line(t)
		}
	}
	for _, st := range s.Stages {
		text(st.Reply)
		text(st.FollowUp)
	}
	r := s.Replies
	for _, t := range []Text{r.OptOut, r.BotAnswer, r.Handoff, r.Lost, r.Fallback} {
		text(t)
	}
	return b.String()
}

// ProposesAtOffer says whether a meeting is proposed when a dialog
// reaches the offer stage (booking.at_offer, default true).
func (s *Scenario) ProposesAtOffer() bool {
	return s.Booking.AtOffer == nil || *s.Booking.AtOffer
}

// MeetingSlots is how many free slots a proposal shows (booking.slots,
// default 3).
func (s *Scenario) MeetingSlots() int {
	if s.Booking.Slots > 0 {
		return s.Booking.Slots
	}
	return 3
}

// MeetingTitle is the meeting's title in lang (booking.title, default
// "Call with <company>" / "Звонок с <company>").
func (s *Scenario) MeetingTitle(lang string) string {
	if t := strings.TrimSpace(s.T(s.Booking.Title, lang)); t != "" {
		return t
	}
	if lang == "ru" {
		return "Звонок с " + s.Company.Name
	}
	return "Call with " + s.Company.Name
}

// MediaAction is what a lead's media of kind (a domain.MediaKind name:
// voice, audio, photo, video, video_note, document, sticker, other) leads
// to: MediaReply or MediaHandoff, the scenario's choice or the default.
func (s *Scenario) MediaAction(kind string) string {
	m := s.Media
	set, def := "", MediaReply
	switch kind {
	case "voice":
		set = m.Voice
	case "audio":
		set = m.Audio
	case "photo":
		set = m.Photo
	case "video":
		set = m.Video
	case "video_note":
		set = m.VideoNote
	case "document":
		set, def = m.Document, MediaHandoff
	case "sticker":
		set = m.Sticker
	default:
		set = m.Other
	}
	if set == "" {
		return def
	}
	return set
}

// FileNamed is the knowledge base's file of name (ignoring case).
func (s *Scenario) FileNamed(name string) (File, bool) {
	for _, f := range s.Knowledge.Files {
		if strings.EqualFold(f.Name, strings.TrimSpace(name)) {
			return f, true
		}
	}
	return File{}, false
}

// FileNames are the names of the knowledge base's files.
func (s *Scenario) FileNames() []string {
	out := make([]string, len(s.Knowledge.Files))
	for i, f := range s.Knowledge.Files {
		out[i] = f.Name
	}
	return out
}
