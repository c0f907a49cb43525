// Package offline is the offline scenario engine: a domain.Model that runs
// a sales scenario as a script, without an LLM. It reads the lead's
// messages with small extractors (amounts, dates and durations, yes/no,
// keywords, counts), answers prices and FAQ from the knowledge base, and
// asks the scenario's questions in order. It is deterministic: the same
// input always gives the same output (no randomness, no clock), and it
// never states a figure that the knowledge base does not.
package offline

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"

	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/domain/scenario"
)

// Errors of Engine.Turn, besides the context's.
var (
	// ErrKind: the engine takes only reply and opening turns; follow-ups
	// are the dialog engine's, written from the scenario's texts.
	ErrKind = errors.New("offline: only reply and opening turns are taken offline")
	// ErrNoScenario: the input has no scenario.
	ErrNoScenario = errors.New("offline: no scenario")
)

// Engine is the offline scenario engine. The zero value is ready to use
// and safe for concurrent use: it keeps no state between turns.
type Engine struct{}

var _ domain.Model = (*Engine)(nil)

// New returns an offline engine.
func New() *Engine { return &Engine{} }

// Turn answers the lead's new messages (domain.TurnReply), or writes the
// opening of a dialog (domain.TurnOpening): the variant's opening with the
// lead's merge fields filled in ({first_name|there}: the lead's value, else
// the fallback). It returns an error wrapping ctx.Err() if ctx is done,
// ErrKind for other kinds of turn and ErrNoScenario without a scenario.
// Usage.Engine is always "offline"; Latency is left zero (the engine reads
// no clock).
func (e *Engine) Turn(ctx context.Context, in domain.TurnInput) (domain.TurnOutput, domain.Usage, error) {
	usage := domain.Usage{Engine: "offline"}
	if err := ctx.Err(); err != nil {
		return domain.TurnOutput{}, usage, fmt.Errorf("offline: %w", err)
	}
	if in.Kind != domain.TurnReply && in.Kind != domain.TurnOpening {
		return domain.TurnOutput{}, usage, fmt.Errorf("%w (got %q)", ErrKind, in.Kind)
	}
	if in.Scenario == nil {
		return domain.TurnOutput{}, usage, ErrNoScenario
	}
	usage.Attempts = 1
	if in.Kind == domain.TurnOpening {
		return Opening(in), usage, nil
	}
	t := newTurn(in)
	out := t.take()
	if out.Reply != "" && !out.Flags.OptOut && out.HandoffReason == "" {
		out.File = t.file()
	}
	return out, usage, nil
}

// file is the knowledge base's file a keyword of which a new message has
// ("price list", "прайс"), to send with the reply; "" for none.
func (t *turn) file() string {
	for _, f := range t.sc.Knowledge.Files {
		for _, s := range t.all {
			for _, k := range f.Keywords {
				if hasKeyword(s.words, k) {
					return f.Name
				}
			}
		}
	}
	return ""
}

// Opening is the opening of in's variant in its language, its merge
// fields filled from in.Lead (else their fallbacks); the stage stays.
func Opening(in domain.TurnInput) domain.TurnOutput {
	lang := in.Language
	if lang == "" {
		lang = in.Scenario.Language
	}
	text := scenario.Merge(in.Scenario.Opening(in.Variant, lang), in.Lead.MergeFields())
	return domain.TurnOutput{Reply: text, NextStage: in.Stage}
}

// turn is one reply turn being worked out.
type turn struct {
	in        domain.TurnInput
	sc        *scenario.Scenario
	lang      string
	knowledge string
	msgs      [][]sentence // the new messages' sentences
	all       []sentence   // all of them, in order
	lead      string       // everything the lead wrote, normalised
	asked     string       // the field the assistant's last line asked for
	said      []string     // the assistant's lines, normalised
}

func newTurn(in domain.TurnInput) *turn {
	t := &turn{in: in, sc: in.Scenario, lang: in.Language}
	t.knowledge = t.sc.KnowledgeText()
	var lead []string
	for _, l := range in.History {
		switch l.Role {
		case domain.RoleAssistant:
			t.said = append(t.said, norm(l.Text))
		case domain.RoleLead:
			lead = append(lead, norm(l.Text))
		}
	}
	for _, m := range in.New {
		ss := sentences(m)
		t.msgs = append(t.msgs, ss)
		t.all = append(t.all, ss...)
		lead = append(lead, norm(m))
	}
	t.lead = strings.Join(lead, " \n ")
	if len(t.said) > 0 {
		t.asked = askedField(t.sc, t.said[len(t.said)-1])
	}
	return t
}

// askedField returns the field whose question the assistant's line asks
// (the one asked last if it asks several), or "".
func askedField(sc *scenario.Scenario, line string) string {
	best, at := "", -1
	padded := " " + line + " "
	for _, f := range sc.Qualification.Fields {
		for _, q := range allTexts(f.Question) {
			q = norm(q)
			if q == "" {
				continue
			}
			if i := strings.LastIndex(padded, " "+q+" "); i > at {
				best, at = f.Name, i
			}
		}
	}
	return best
}

func (t *turn) take() domain.TurnOutput {
	var out domain.TurnOutput
	cur := t.in.Stage
	if cur == "" {
		cur = domain.StageOpening
	}
	for _, m := range t.in.New {
		out.Flags.OptOut = out.Flags.OptOut || domain.IsOptOut(m)
		out.Flags.AsksIfBot = out.Flags.AsksIfBot || domain.AsksIfBot(m)
		out.Flags.WantsHuman = out.Flags.WantsHuman || asksForHuman(strings.Fields(norm(m)), t.sc.Handoff.HumanPhrases)
	}
	if out.Flags.OptOut {
		// The dialog engine's guard confirms the opt-out; nothing more is
		// learned from someone who asked to be left alone.
		out.NextStage = cur
		out.Score = t.score(nil)
		return out
	}
	out.Qualification = t.extract()
	out.Score = t.score(out.Qualification)
	out.Flags.NeedsInfo = t.needsInfo()
	out.NextStage = t.nextStage(cur, out.Qualification)

	if t.newHas(t.sc.Offline.NotInterested) {
		out.NextStage = domain.StageClosed
		out.Reply = t.say(t.sc.T(t.sc.Replies.Lost, t.lang), goodbye)
		return out
	}
	if out.Flags.WantsHuman {
		out.Reply = t.say(t.sc.T(t.sc.Replies.Handoff, t.lang), handingOff)
		out.HandoffReason = "lead asked for a human"
		return out
	}
	if topic, ok := t.alwaysHuman(); ok {
		out.Reply = t.say(t.sc.T(t.sc.Replies.Handoff, t.lang), handingOff)
		out.HandoffReason = "a topic for a person: " + topic
		return out
	}
	out.Reply = t.compose(out)
	return out
}

// selfWords up to three words before a human phrase make it the lead's
// own description ("I'm the sales manager", "я менеджер", "my manager
// decides"), not a request, unless a requestWord stands between ("I'm
// asking to talk to a human").
var (
	selfWords    = []string{"i'm", "im", "am", "as", "my", "our", "я", "мой", "моя", "наш", "наша", "наши"}
	requestWords = []string{"to", "for", "with", "talk", "speak", "need", "want", "asking", "к", "с", "со", "нужен", "нужна", "хочу", "позовите", "дайте", "прошу"}
)

// asksForHuman says whether words hold one of phrases (Handoff.
// HumanPhrases) other than in the lead's description of themselves.
func asksForHuman(words []string, phrases []string) bool {
	for _, p := range phrases {
		pw := strings.Fields(norm(p))
		if len(pw) == 0 {
			continue
		}
		for i := 0; i+len(pw) <= len(words); i++ {
			if slices.Equal(words[i:i+len(pw)], pw) && !describesSelf(words[max(0, i-3):i]) {
				return true
			}
		}
	}
	return false
}

// describesSelf says whether the words before a human phrase are the
// lead speaking of themselves.
func describesSelf(before []string) bool {
	for j := len(before) - 1; j >= 0; j-- {
		if slices.Contains(requestWords, before[j]) {
			return false
		}
		if slices.Contains(selfWords, before[j]) {
			return true
		}
	}
	return false
}

// newHas says whether one of the new messages holds one of phrases.
func (t *turn) newHas(phrases []string) bool {
	for _, m := range t.in.New {
		if _, ok := firstPhrase(norm(m), phrases); ok {
			return true
		}
	}
	return false
}

// alwaysHuman returns the first Handoff.AlwaysHuman topic a new message
// names.
func (t *turn) alwaysHuman() (string, bool) {
	for _, s := range t.all {
		for _, topic := range t.sc.Handoff.AlwaysHuman {
			if hasKeyword(s.words, topic) {
				return topic, true
			}
		}
	}
	return "", false
}

// ---- qualification ----

// extract reads every scenario field from all new messages together. A
// field already known is updated only by an explicit statement of a new
// value (a keywords field by new keywords, added to the known ones). An
// amount, a date or a count goes to one field: the one just asked, else
// the first of its kind.
func (t *turn) extract() []domain.FieldUpdate {
	fields := t.sc.Qualification.Fields
	order := make([]int, 0, len(fields))
	for i, f := range fields {
		if f.Name == t.asked {
			order = append([]int{i}, order...)
		} else {
			order = append(order, i)
		}
	}
	type claim struct{ extractor, value string }
	claimed := map[claim]bool{}
	found := map[int]domain.FieldUpdate{}
	for _, i := range order {
		f := fields[i]
		asked := f.Name == t.asked
		known := t.in.Qual.Get(f.Name)
		if known != nil && known.Value == "" {
			known = nil
		}
		var m match
		switch f.Extractor {
		case scenario.ExtractText:
			if known == nil && asked {
				m = t.textAnswer()
			}
		case scenario.ExtractKeywords:
			m = t.keywords(f)
		default:
			ex := extractors[f.Extractor]
			if ex == nil {
				continue
			}
			for _, s := range t.all {
				if c := ex(s, f, asked); c.better(m) {
					m = c
				}
			}
		}
		if m.value == "" {
			continue
		}
		if known != nil && f.Extractor == scenario.ExtractKeywords {
			m.value = mergeKeywords(known.Value, m.value)
		}
		if known != nil && (m.conf < explicit || m.value == known.Value) {
			continue
		}
		c := claim{f.Extractor, m.value}
		if f.Extractor != scenario.ExtractKeywords && claimed[c] {
			continue
		}
		claimed[c] = true
		found[i] = domain.FieldUpdate{Name: f.Name, Value: clip(m.value, 300), Quote: clip(m.quote, 300), Confidence: m.conf}
	}
	var out []domain.FieldUpdate
	for i := range fields {
		if u, ok := found[i]; ok {
			out = append(out, u)
		}
	}
	return out
}

// mergeKeywords adds the keywords of found to those of a known value: a
// keywords field learns more, it does not forget.
func mergeKeywords(known, found string) string {
	kws := strings.Split(known, ", ")
	for _, k := range strings.Split(found, ", ") {
		if !slices.Contains(kws, k) {
			kws = append(kws, k)
		}
	}
	return strings.Join(kws, ", ")
}

// keywords collects a keywords field's keywords from all new messages;
// the quote is the first sentence that has one.
func (t *turn) keywords(f scenario.FieldSpec) match {
	kws := keywordHits(t.all, f.Keywords)
	if len(kws) == 0 {
		return match{}
	}
	for _, s := range t.all {
		if m := extractKeywords(s, f, false); m.value != "" {
			return match{value: strings.Join(kws, ", "), quote: m.quote, conf: m.conf}
		}
	}
	return match{}
}

// textAnswer is the lead's whole answer to a text field's question: the
// new messages that are not questions.
func (t *turn) textAnswer() match {
	var parts []string
	quote := ""
	for i, ss := range t.msgs {
		q := false
		for _, s := range ss {
			q = q || s.question
		}
		if q || len(ss) == 0 {
			continue
		}
		m := strings.TrimSpace(t.in.New[i])
		if quote == "" {
			quote = m
		}
		parts = append(parts, m)
	}
	if len(parts) == 0 {
		return match{}
	}
	return match{value: strings.Join(parts, " "), quote: quote, conf: weak}
}

// known says whether a field is known after this turn's updates.
func (t *turn) known(name string, upd []domain.FieldUpdate) bool {
	if f := t.in.Qual.Get(name); f != nil && f.Value != "" {
		return true
	}
	return slices.ContainsFunc(upd, func(u domain.FieldUpdate) bool { return u.Name == name })
}

// score is the sum of the points of the fields known, 0..100.
func (t *turn) score(upd []domain.FieldUpdate) int {
	sum := 0
	for _, f := range t.sc.Qualification.Fields {
		if t.known(f.Name, upd) {
			sum += f.Points
		}
	}
	return min(max(sum, 0), 100)
}

// ---- stages ----

// stageOrder is how far along each stage is.
var stageOrder = map[domain.Stage]int{
	domain.StageOpening: 0, domain.StageDiscovery: 1, domain.StageQualification: 2,
	domain.StageOffer: 3, domain.StageObjections: 4,
}

// nextStage: discovery while the need is unknown, qualification while
// another field is, offer when all are; objections when the lead objects
// to the offer. It never goes back, and only to a stage the scenario has.
func (t *turn) nextStage(cur domain.Stage, upd []domain.FieldUpdate) domain.Stage {
	at, ok := stageOrder[cur]
	if !ok {
		return t.graphNext(cur) // a branching scenario's own stage, or handoff, closed, unknown
	}
	target := domain.StageOffer
	for _, f := range t.sc.Qualification.Fields {
		if t.known(f.Name, upd) {
			continue
		}
		if f.Name == "need" {
			target = domain.StageDiscovery
			break
		}
		target = domain.StageQualification
	}
	if t.objects() && at >= stageOrder[domain.StageOffer] {
		target = domain.StageObjections
	}
	best := cur
	for _, s := range t.sc.Stages {
		i, ok := stageOrder[domain.Stage(s.Name)]
		if ok && i > stageOrder[best] && i <= stageOrder[target] {
			best = domain.Stage(s.Name)
		}
	}
	if best == cur && t.sc.Branching() && !t.onFixedTrack(cur) {
		return t.graphNext(cur) // the graph leaves the five stages here
	}
	return best
}

// onFixedTrack says whether a transition without a condition leads from
// cur to one of the five fixed stages, which the order above moves along.
func (t *turn) onFixedTrack(cur domain.Stage) bool {
	st, _ := t.sc.StageSpec(string(cur))
	return slices.ContainsFunc(st.Transitions, func(tr scenario.Transition) bool {
		_, fixed := stageOrder[domain.Stage(tr.To)]
		return tr.When == nil && fixed
	})
}

// graphNext moves on from a branching scenario's own stage: along its
// first transition without a condition once the stage's questions were
// all asked (the domain takes the transitions with conditions). Handoff,
// closed, an exit that ends the AI's part and an unknown stage stay.
func (t *turn) graphNext(cur domain.Stage) domain.Stage {
	st, ok := t.sc.StageSpec(string(cur))
	if !ok || !t.sc.Branching() || st.Exit == scenario.ExitHandoff || st.Exit == scenario.ExitLost {
		return cur
	}
	for _, q := range t.sc.List(st.Questions, t.lang) {
		if t.sayable(q) && !t.wasSaid(q) {
			return cur
		}
	}
	for _, tr := range st.Transitions {
		if tr.When == nil {
			return domain.Stage(tr.To)
		}
	}
	return cur
}

var objections = []string{
	"too expensive", "expensive", "pricey", "costly", "not sure", "i'm not sure", "im not sure", "need to think",
	"think about it", "not convinced", "can't afford", "cant afford", "дорого", "дороговато", "слишком дорого",
	"не уверен", "не уверена", "подумаю", "надо подумать", "нужно подумать", "сомневаюсь", "не потянем",
}

func (t *turn) objects() bool { return t.newHas(objections) }

// ---- the reply ----

var priceWords = []string{
	"price", "prices", "pricing", "cost", "costs", "how much", "сколько стоит", "сколько стоят", "сколько будет стоить",
	"сколько это стоит", "сколько это будет стоить", "во сколько обойдется",
	"цена", "цены", "цену", "ценам", "ценах", "стоимость", "стоимости", "прайс", "расценки",
}

// compose writes the reply: the bot answer if asked, then prices, an FAQ
// answer or (from the offer on) an answer to an objection, then the next
// question or the offer; the fallback if nothing applies.
func (t *turn) compose(out domain.TurnOutput) string {
	var parts []string
	add := func(s string) {
		if s = strings.TrimSpace(s); t.sayable(s) && !slices.Contains(parts, s) {
			parts = append(parts, s)
		}
	}
	if out.Flags.AsksIfBot {
		add(t.sc.T(t.sc.Replies.BotAnswer, t.lang))
	}
	answered := false
	if t.newHas(priceWords) {
		// The FAQ's answer first: it is in the lead's language.
		if f, ok := t.faq(); ok && t.sayable(f.A) {
			add(f.A)
			answered = true
		} else if p := t.prices(); p != "" {
			add(p)
			answered = true
		}
	}
	if !answered {
		if f, ok := t.faq(); ok {
			add(f.A)
			answered = true
		}
	}
	if !answered && t.objects() && stageOrder[t.in.Stage] >= stageOrder[domain.StageOffer] {
		if term := t.term(); term != "" {
			add(term)
			answered = true
		}
	}
	if !answered && out.Flags.NeedsInfo {
		add(t.sc.T(t.sc.Replies.Fallback, t.lang))
	}
	for _, s := range t.next(out) {
		add(s)
	}
	if len(parts) == 0 {
		add(t.sc.T(t.sc.Replies.Fallback, t.lang))
	}
	if len(parts) == 0 {
		parts = append(parts, lastResort.in(t.lang))
	}
	return strings.Join(parts, "\n")
}

// say is a fixed reply, unless it states a figure the knowledge base does
// not (then the engine's own words for it).
func (t *turn) say(s string, instead phrase) string {
	if !t.sayable(s) {
		return instead.in(t.lang)
	}
	return s
}

// prices lists the products with their prices exactly as the knowledge
// base states them.
func (t *turn) prices() string {
	var lines []string
	for _, p := range t.sc.Knowledge.Products {
		if strings.TrimSpace(p.Price) != "" {
			lines = append(lines, oneLine(p.Name)+" — "+oneLine(p.Price))
		}
	}
	if len(lines) == 0 {
		return ""
	}
	return pricesIntro.in(t.lang) + "\n" + strings.Join(lines, "\n")
}

// faq returns the first FAQ entry a keyword of which a new message has,
// preferring one written in the lead's language (the knowledge base has
// no languages of its own: an entry in Cyrillic is taken for Russian).
func (t *turn) faq() (scenario.FAQ, bool) {
	var first *scenario.FAQ
	for i, f := range t.sc.Knowledge.FAQ {
		if !t.faqMatches(f, t.all) {
			continue
		}
		if script(f.A) == script(t.lang) {
			return f, true
		}
		if first == nil {
			first = &t.sc.Knowledge.FAQ[i]
		}
	}
	if first != nil {
		return *first, true
	}
	return scenario.FAQ{}, false
}

// script is "cyrillic" for Russian and a text with Cyrillic letters,
// "latin" otherwise.
func script(langOrText string) string {
	if langOrText == "ru" {
		return "cyrillic"
	}
	for _, r := range langOrText {
		if unicode.Is(unicode.Cyrillic, r) {
			return "cyrillic"
		}
	}
	return "latin"
}

func (t *turn) faqMatches(f scenario.FAQ, ss []sentence) bool {
	for _, s := range ss {
		for _, k := range f.Keywords {
			if hasKeyword(s.words, k) {
				return true
			}
		}
	}
	return false
}

// objectionTerms are what a term that answers an objection is about.
var objectionTerms = []string{"trial", "free", "refund", "guarantee", "discount", "cancel", "пробн", "бесплатн", "возврат", "гарант", "скидк", "отмен"}

// term returns the term that answers an objection best: a free trial, a
// refund, a discount (the first not said yet), else any term not said
// yet, else the first.
func (t *turn) term() string {
	var best, rest []string
	for _, term := range t.sc.Knowledge.Terms {
		if hasAnyStem(strings.Fields(norm(term)), objectionTerms) {
			best = append(best, term)
		} else {
			rest = append(rest, term)
		}
	}
	terms := append(best, rest...)
	for _, term := range terms {
		if !t.wasSaid(term) {
			return term
		}
	}
	if len(terms) > 0 {
		return terms[0]
	}
	return ""
}

// next is what moves the dialog on: the first unknown field's question
// (another one if that was the question just asked), or, when all are
// known, the offer (once) and the stage's first question not yet asked.
func (t *turn) next(out domain.TurnOutput) []string {
	var unknown []scenario.FieldSpec
	for _, f := range t.sc.Qualification.Fields {
		if q := t.sc.T(f.Question, t.lang); !t.known(f.Name, out.Qualification) && t.sayable(q) {
			unknown = append(unknown, f)
		}
	}
	if len(unknown) > 0 {
		// A question asked twice already goes to the back, so that two
		// unanswered ones do not take turns for ever.
		twice := func(f scenario.FieldSpec) int { return min(t.timesAsked(f)/2, 1) }
		slices.SortStableFunc(unknown, func(a, b scenario.FieldSpec) int { return twice(a) - twice(b) })
		f := unknown[0]
		if f.Name == t.asked && len(unknown) > 1 && t.answeredSomething() {
			f = unknown[1]
		}
		return []string{t.sc.T(f.Question, t.lang)}
	}
	var lines []string
	if offer := t.offer(out.Qualification); offer != "" && !t.wasSaid(offer) {
		lines = append(lines, offer)
	}
	if st, ok := t.sc.StageSpec(string(out.NextStage)); ok {
		for _, q := range t.sc.List(st.Questions, t.lang) {
			if t.sayable(q) && !t.wasSaid(q) {
				lines = append(lines, q)
				break
			}
		}
	}
	return lines
}

// timesAsked counts the assistant's lines that ask f's question.
func (t *turn) timesAsked(f scenario.FieldSpec) int {
	n := 0
	for _, l := range t.said {
		for _, q := range allTexts(f.Question) {
			if q = norm(q); q != "" && strings.Contains(" "+l+" ", " "+q+" ") {
				n++
				break
			}
		}
	}
	return n
}

// answeredSomething says whether the new messages hold a statement, not
// only questions: an answer that did not fill the field just asked.
func (t *turn) answeredSomething() bool {
	for _, s := range t.all {
		if !s.question {
			return true
		}
	}
	return false
}

// sayable says whether s is a text with no figure the knowledge base
// does not state.
func (t *turn) sayable(s string) bool {
	return strings.TrimSpace(s) != "" && domain.UngroundedFigures(s, t.knowledge) == nil
}

// wasSaid says whether the assistant has said s before.
func (t *turn) wasSaid(s string) bool {
	n := norm(s)
	if n == "" {
		return false
	}
	for _, l := range t.said {
		if strings.Contains(" "+l+" ", " "+n+" ") {
			return true
		}
	}
	return false
}

// offer is one line on the product that fits: the one the lead or the
// need names, else the one whose description has most of the need's
// words, else the first.
func (t *turn) offer(upd []domain.FieldUpdate) string {
	ps := t.sc.Knowledge.Products
	if len(ps) == 0 {
		return ""
	}
	need := ""
	if f := t.in.Qual.Get("need"); f != nil {
		need = norm(f.Value)
	}
	for _, u := range upd {
		if u.Name == "need" {
			need = norm(u.Value)
		}
	}
	p, fit := ps[0], 0
	for _, c := range ps {
		if hasPhrase(t.lead, c.Name) || hasPhrase(need, c.Name) {
			p = c
			break
		}
		// Else the product whose description says most of the need.
		words := strings.Fields(norm(c.Name + " " + c.Description))
		n := 0
		for _, k := range strings.Split(need, " ") {
			if k != "" && hasKeyword(words, k) {
				n++
			}
		}
		if n > fit {
			p, fit = c, n
		}
	}
	line := offerIntro.in(t.lang) + " " + oneLine(p.Name)
	if price := oneLine(p.Price); price != "" {
		line += " (" + price + ")"
	}
	line += "."
	if d := oneLine(p.Description); d != "" {
		line += " " + d
	}
	return line
}

// ---- needs info ----

// genericWords are too vague to make a question one the knowledge base
// should answer ("can you help me?").
var genericWords = []string{
	"help", "mean", "okay", "sure", "that", "this", "there", "then", "about", "really", "right", "again", "please",
	"это", "так", "тогда", "правда", "можно", "ладно", "помочь", "помогите", "значит", "имеете", "виду", "пожалуйста",
}

// needsInfo says whether a new message clearly asks something that
// nothing the engine knows answers: a question (a "?" or a question word
// first) with at least three words, one of them specific, that names no
// price, product, FAQ keyword or topic for a person and that answers no
// qualification question.
func (t *turn) needsInfo() bool {
	for _, s := range t.all {
		if !s.question || len(s.words) < 3 || !t.specific(s.words) {
			continue
		}
		n := strings.Join(s.words, " ")
		if _, ok := firstPhrase(n, priceWords); ok && t.prices() != "" {
			continue
		}
		if domain.AsksIfBot(s.text) || domain.IsOptOut(s.text) {
			continue
		}
		if asksForHuman(s.words, t.sc.Handoff.HumanPhrases) {
			continue
		}
		if _, ok := firstPhrase(n, t.sc.Offline.NotInterested); ok {
			continue
		}
		if t.answered(s) {
			continue
		}
		return true
	}
	return false
}

func (t *turn) specific(words []string) bool {
	for _, w := range words {
		if len([]rune(w)) >= 4 && !slices.Contains(questionWords, w) && !slices.Contains(genericWords, w) {
			return true
		}
	}
	return false
}

// answered says whether the knowledge or the qualification covers a
// question.
func (t *turn) answered(s sentence) bool {
	n := strings.Join(s.words, " ")
	for _, p := range t.sc.Knowledge.Products {
		if hasPhrase(n, p.Name) {
			return true
		}
	}
	for _, f := range t.sc.Knowledge.FAQ {
		if t.faqMatches(f, []sentence{s}) {
			return true
		}
	}
	for _, topic := range t.sc.Handoff.AlwaysHuman {
		if hasKeyword(s.words, topic) {
			return true
		}
	}
	for _, f := range t.sc.Qualification.Fields {
		asked := f.Name == t.asked
		if ex := extractors[f.Extractor]; ex != nil && ex(s, f, asked).value != "" {
			return true
		}
	}
	return false
}
