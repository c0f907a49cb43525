package scenario

import (
	"github.com/salesbot/salesbot/domain/words"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Limits of a scenario file.
const (
	MaxPoints      = 100         // the points of all fields together
	MaxFollowUps   = 10          // follow_ups.max
	MinFollowUp    = time.Minute // follow_ups.after when max > 0
	MaxWeight      = 1_000_000   // a variant's weight
	ScoreThreshold = 100         // handoff.score_threshold is 1..ScoreThreshold
)

// Extractors lists the Extract* names.
var Extractors = []string{ExtractMoney, ExtractTimeline, ExtractYesNo, ExtractKeywords, ExtractNumber, ExtractText}

var identifier = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// validate checks a decoded scenario whose plain texts are resolved; c
// gives the lines. It returns the first problem in file order.
func validate(s *Scenario, c *checker) *Error {
	def := s.Language
	need := func(t Text, path string) *Error {
		if strings.TrimSpace(t[def]) == "" {
			return c.errf(path, "needs a text in %s, the default language", def)
		}
		return nil
	}
	nonEmpty := func(list []string, path string) *Error {
		for i, v := range list {
			if strings.TrimSpace(v) == "" {
				return c.errf(index(path, i), "must not be empty")
			}
		}
		return nil
	}

	if strings.TrimSpace(s.Name) == "" {
		return c.errf("name", "is required")
	}
	if strings.TrimSpace(s.Version) == "" {
		return c.errf("version", "is required (bump it whenever you change the file)")
	}
	if strings.TrimSpace(s.Company.Name) == "" {
		return c.errf("company.name", "is required")
	}
	if strings.TrimSpace(s.Company.Product) == "" {
		return c.errf("company.product", "is required")
	}
	if err := nonEmpty(s.Persona.Rules, "persona.rules"); err != nil {
		return err
	}

	if s.DisclosureFirst() {
		if err := need(s.Disclosure.Text, "disclosure.text"); err != nil {
			return err
		}
	}
	for _, lang := range Languages {
		if t := s.Disclosure.Text[lang]; claimsHuman(t) {
			return c.errf(join("disclosure.text", lang), "must not claim the assistant is a person")
		}
	}

	if len(s.Openings) == 0 {
		return c.errf("openings", "at least one opening is required")
	}
	for i, o := range s.Openings {
		p := index("openings", i)
		if err := need(o, p); err != nil {
			return err
		}
		for _, lang := range Languages {
			d := normalize(s.Disclosure.Text[lang])
			if d != "" && strings.Contains(" "+normalize(o[lang])+" ", " "+d+" ") {
				return c.errf(join(p, lang), "repeats the disclosure line; the engine puts it before the opening")
			}
			if claimsHuman(o[lang]) {
				return c.errf(join(p, lang), "must not claim the assistant is a person")
			}
			if err := CheckMergeFields(o[lang]); err != nil {
				return c.errf(c.textPath(p, lang), "%v", err)
			}
		}
	}

	last := -1
	for i, st := range s.Stages {
		p := index("stages", i)
		at := slices.Index(Stages, st.Name)
		for _, lang := range Languages {
			if err := nonEmpty(st.Questions[lang], join(join(p, "questions"), lang)); err != nil {
				return err
			}
		}
		if s.Branching() {
			continue
		}
		switch {
		case st.Name == "":
			return c.errf(join(p, "name"), "is required (one of %s)", strings.Join(Stages, ", "))
		case at < 0:
			return c.errf(join(p, "name"), "unknown stage %q (want one of %s)", st.Name, strings.Join(Stages, ", "))
		case slices.ContainsFunc(s.Stages[:i], func(o Stage) bool { return o.Name == st.Name }):
			return c.errf(join(p, "name"), "stage %q is listed twice", st.Name)
		case at < last:
			return c.errf(join(p, "name"), "stage %q must come before %q (the order is %s)", st.Name, Stages[last], strings.Join(Stages, ", "))
		}
		last = at
	}

	if s.Branching() && len(s.Qualification.Fields) > 0 {
		if err := validateGraph(s, c); err != nil {
			return err
		}
	}

	if len(s.Qualification.Fields) == 0 {
		return c.errf("qualification.fields", "at least one field is required")
	}
	sum := 0
	for i, f := range s.Qualification.Fields {
		p := index("qualification.fields", i)
		switch {
		case f.Name == "":
			return c.errf(join(p, "name"), "is required")
		case !identifier.MatchString(f.Name):
			return c.errf(join(p, "name"), "%q must be lowercase letters, digits and _ starting with a letter", f.Name)
		case slices.ContainsFunc(s.Qualification.Fields[:i], func(o FieldSpec) bool { return o.Name == f.Name }):
			return c.errf(join(p, "name"), "field %q is listed twice", f.Name)
		case f.Extractor == "":
			return c.errf(join(p, "extractor"), "is required (one of %s)", strings.Join(Extractors, ", "))
		case !slices.Contains(Extractors, f.Extractor):
			return c.errf(join(p, "extractor"), "unknown extractor %q (want one of %s)", f.Extractor, strings.Join(Extractors, ", "))
		case f.Extractor == ExtractKeywords && len(f.Keywords) == 0:
			return c.errf(join(p, "keywords"), "the keywords extractor needs at least one keyword")
		case f.Points < 0 || f.Points > MaxPoints:
			return c.errf(join(p, "points"), "must be 0..%d", MaxPoints)
		}
		if err := nonEmpty(f.Keywords, join(p, "keywords")); err != nil {
			return err
		}
		sum += f.Points
		if sum > MaxPoints {
			return c.errf(join(p, "points"), "the points of the fields add up to %d here, more than %d", sum, MaxPoints)
		}
		if err := need(f.Question, join(p, "question")); err != nil {
			return err
		}
	}

	if s.Handoff.ScoreThreshold < 1 || s.Handoff.ScoreThreshold > ScoreThreshold {
		return c.errf("handoff.score_threshold", "must be 1..%d (a lead at or above it goes to a person)", ScoreThreshold)
	}
	if err := nonEmpty(s.Handoff.AlwaysHuman, "handoff.always_human"); err != nil {
		return err
	}
	if err := nonEmpty(s.Handoff.HumanPhrases, "handoff.human_phrases"); err != nil {
		return err
	}

	k := s.Knowledge
	if len(k.Products) == 0 && len(k.Terms) == 0 {
		return c.errf("knowledge", "needs at least one product or term (the only source of prices and terms)")
	}
	for i, pr := range k.Products {
		if strings.TrimSpace(pr.Name) == "" {
			return c.errf(join(index("knowledge.products", i), "name"), "is required")
		}
	}
	if err := nonEmpty(k.Terms, "knowledge.terms"); err != nil {
		return err
	}
	for i, f := range k.FAQ {
		p := index("knowledge.faq", i)
		if strings.TrimSpace(f.Q) == "" {
			return c.errf(join(p, "q"), "is required")
		}
		if strings.TrimSpace(f.A) == "" {
			return c.errf(join(p, "a"), "is required")
		}
		if err := nonEmpty(f.Keywords, join(p, "keywords")); err != nil {
			return err
		}
	}

	fu := s.FollowUps
	switch {
	case fu.Max < 0 || fu.Max > MaxFollowUps:
		return c.errf("follow_ups.max", "must be 0..%d", MaxFollowUps)
	case fu.After < 0:
		return c.errf("follow_ups.after", "must not be negative")
	case fu.Max > 0 && fu.After < MinFollowUp:
		return c.errf("follow_ups.after", "must be at least %s when max is %d", "1m", fu.Max)
	}
	if fu.Max > 0 && len(fu.Texts[def]) == 0 {
		return c.errf("follow_ups.texts", "needs %d texts in %s, the default language", fu.Max, def)
	}
	for _, lang := range Languages {
		p := join("follow_ups.texts", lang)
		l, ok := fu.Texts[lang]
		if !ok {
			continue
		}
		if len(l) < fu.Max {
			return c.errf(p, "has %d texts, fewer than max (%d)", len(l), fu.Max)
		}
		if err := nonEmpty(l, p); err != nil {
			return err
		}
	}

	for _, r := range []struct {
		t    Text
		path string
	}{
		{s.Replies.OptOut, "replies.opt_out"},
		{s.Replies.BotAnswer, "replies.bot_answer"},
		{s.Replies.Handoff, "replies.handoff"},
		{s.Replies.Lost, "replies.lost"},
		{s.Replies.Fallback, "replies.fallback"},
	} {
		if err := need(r.t, r.path); err != nil {
			return err
		}
	}
	for _, lang := range Languages {
		t, ok := s.Replies.BotAnswer[lang]
		if !ok {
			continue
		}
		p := join("replies.bot_answer", lang)
		if claimsHuman(t) {
			return c.errf(p, "must not claim the assistant is a person: it answers \"are you a bot?\"")
		}
		if !saysAI(t) {
			return c.errf(p, "must say the assistant is an AI (mention AI, bot or assistant)")
		}
	}

	if l := strings.TrimSpace(s.Booking.Link); l != "" {
		rest, ok := strings.CutPrefix(strings.ToLower(l), "https://")
		if !ok {
			rest, ok = strings.CutPrefix(strings.ToLower(l), "http://")
		}
		if host, _, _ := strings.Cut(rest, "/"); !ok || host == "" || strings.ContainsAny(l, " \t\r\n<>\"") {
			return c.errf("booking.link", "must be an http(s) URL of a booking page (Cal.com, Calendly)")
		}
	}
	if s.Booking.Slots < 0 || s.Booking.Slots > 5 {
		return c.errf("booking.slots", "must be 1 to 5 (0 = 3)")
	}
	if err := nonEmpty(s.Booking.Phrases, "booking.phrases"); err != nil {
		return err
	}
	for i, f := range s.Knowledge.Files {
		p := index("knowledge.files", i)
		switch {
		case strings.TrimSpace(f.Name) == "" || strings.ContainsAny(f.Name, "/\\\n"):
			return c.errf(join(p, "name"), "is required: a file name without folders")
		case slices.ContainsFunc(s.Knowledge.Files[:i], func(o File) bool { return strings.EqualFold(o.Name, f.Name) }):
			return c.errf(join(p, "name"), "file %q is listed twice", f.Name)
		case strings.TrimSpace(f.Path) == "":
			return c.errf(join(p, "path"), "is required: where the file is, relative to the scenario file")
		}
		if err := nonEmpty(f.Keywords, join(p, "keywords")); err != nil {
			return err
		}
	}
	for _, m := range []struct{ key, value string }{{"voice", s.Media.Voice}, {"audio", s.Media.Audio}, {"photo", s.Media.Photo},
		{"video", s.Media.Video}, {"video_note", s.Media.VideoNote}, {"document", s.Media.Document}, {"sticker", s.Media.Sticker}, {"other", s.Media.Other}} {
		if m.value != "" && m.value != MediaReply && m.value != MediaHandoff {
			return c.errf(join("media", m.key), "must be %s or %s, not %q", MediaReply, MediaHandoff, m.value)
		}
	}

	if len(s.Variants) == 0 {
		return c.errf("variants", "at least one variant is required")
	}
	for i, v := range s.Variants {
		p := index("variants", i)
		switch {
		case strings.TrimSpace(v.Name) == "":
			return c.errf(join(p, "name"), "is required")
		case slices.ContainsFunc(s.Variants[:i], func(o Variant) bool { return o.Name == v.Name }):
			return c.errf(join(p, "name"), "variant %q is listed twice", v.Name)
		case v.Weight <= 0:
			return c.errf(join(p, "weight"), "must be > 0")
		case v.Weight > MaxWeight:
			return c.errf(join(p, "weight"), "must be at most %d", MaxWeight)
		case v.Opening != nil && (*v.Opening < 0 || *v.Opening >= len(s.Openings)):
			return c.errf(join(p, "opening"), "%d is not an opening: there are %d, numbered from 0", *v.Opening, len(s.Openings))
		}
		if err := CheckMergeFields(v.Prompt); err != nil {
			return c.errf(join(p, "prompt"), "%v", err)
		}
	}

	if err := nonEmpty(s.Offline.NotInterested, "offline.not_interested"); err != nil {
		return err
	}
	if err := validateObjections(s, c); err != nil {
		return err
	}
	return sendable(s, c)
}

// sendable checks every text the assistant may send as it is (openings,
// the disclosure, questions, follow-ups, the fixed replies): none may
// claim the assistant is a person, and every amount in it (a price, a
// percent) must be one the knowledge base states.
func sendable(s *Scenario, c *checker) *Error {
	kb := s.KnowledgeText()
	check := func(text, path string) *Error {
		if claimsHuman(text) {
			return c.errf(path, "must not claim the assistant is a person")
		}
		if bad := words.Ungrounded(text, kb); len(bad) > 0 {
			return c.errf(path, "states %s, which the knowledge base does not (prices, discounts and other amounts come only from knowledge)", bad[0])
		}
		return nil
	}
	at := c.textPath
	text := func(t Text, path string) *Error {
		for _, lang := range Languages {
			if v, ok := t[lang]; ok {
				if err := check(v, at(path, lang)); err != nil {
					return err
				}
			}
		}
		return nil
	}
	texts := func(t Texts, path string) *Error {
		for _, lang := range Languages {
			for i, v := range t[lang] {
				if err := check(v, index(at(path, lang), i)); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := text(s.Disclosure.Text, "disclosure.text"); err != nil {
		return err
	}
	for i, o := range s.Openings {
		if err := text(o, index("openings", i)); err != nil {
			return err
		}
	}
	for i, st := range s.Stages {
		p := index("stages", i)
		if err := texts(st.Questions, join(p, "questions")); err != nil {
			return err
		}
		if err := text(st.Reply, join(p, "reply")); err != nil {
			return err
		}
		if err := text(st.FollowUp, join(p, "follow_up")); err != nil {
			return err
		}
	}
	for i, f := range s.Qualification.Fields {
		if err := text(f.Question, join(index("qualification.fields", i), "question")); err != nil {
			return err
		}
	}
	if err := texts(s.FollowUps.Texts, "follow_ups.texts"); err != nil {
		return err
	}
	for _, r := range []struct {
		t    Text
		path string
	}{
		{s.Replies.OptOut, "replies.opt_out"}, {s.Replies.BotAnswer, "replies.bot_answer"}, {s.Replies.Handoff, "replies.handoff"},
		{s.Replies.Lost, "replies.lost"}, {s.Replies.Fallback, "replies.fallback"},
	} {
		if err := text(r.t, r.path); err != nil {
			return err
		}
	}
	return nil
}

// claimsHuman says whether a text has the assistant claim to be a person.
func claimsHuman(text string) bool { return words.ClaimsHuman(text) }

// aiWords say the speaker is an AI (after normalize; a trailing space
// means a whole word, else a word start).
var aiWords = []string{
	"ai ", "bot ", "bots ", "chatbot ", "robot ", "assistant ", "artificial", "virtual",
	"ии ", "бот", "чатбот", "робот", "ассистент", "помощник", "искусствен", "нейросет", "виртуальн",
}

func saysAI(text string) bool {
	padded := " " + normalize(text) + " "
	for _, w := range aiWords {
		if strings.Contains(padded, " "+w) {
			return true
		}
	}
	return false
}

func normalize(s string) string { return words.Normalize(s) }

// textPath is the path of a text in lang: with the language key when the
// file has one, else the plain form's own path.
func (c *checker) textPath(path, lang string) string {
	if _, ok := c.lines[join(path, lang)]; ok {
		return join(path, lang)
	}
	return path
}
