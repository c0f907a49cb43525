// Package scenario is the company's sales scenario: a versioned YAML file
// with the company and product, the assistant's persona and tone, the
// openings, the stages and their goals, the qualification fields, the
// handoff rules, the knowledge base (products, prices, terms, FAQ), the
// follow-ups, the fixed replies the guards use, and prompt variants for
// A/B tests with weights.
//
// The package is pure: Parse turns bytes into a validated Scenario (a
// broken file is an *Error naming the line and the reason); nothing here
// reads files or clocks.
package scenario

import "time"

// Languages the scenario's texts may be written in. A lead's language is
// detected from their messages; texts fall back to the scenario's default
// language.
var Languages = []string{"en", "ru"}

// Stages a scenario may describe, in order (handoff and close are the
// engine's own).
var Stages = []string{"opening", "discovery", "qualification", "offer", "objections"}

// Text is one text in several languages, by language code ("en", "ru").
// In YAML it is either a mapping of languages or a plain string (the
// default language).
type Text map[string]string

// Texts is a list of texts per language (a plain list = the default
// language).
type Texts map[string][]string

// Scenario is a parsed, validated scenario file.
type Scenario struct {
	// Name and Version identify the file; each LLM turn records both.
	Name    string `yaml:"name"`
	Version string `yaml:"version"`
	// Language is the default language (one of Languages).
	Language string `yaml:"language"`

	Company Company `yaml:"company"`
	Persona Persona `yaml:"persona"`

	// Disclosure is the line that says the assistant is an AI; it starts
	// the first message unless FirstMessage is false (default true).
	Disclosure Disclosure `yaml:"disclosure"`

	// Openings are first messages of dialogs salesbot starts; a variant
	// may pick one by index.
	Openings []Text `yaml:"openings"`

	Stages        []Stage       `yaml:"stages"`
	Qualification Qualification `yaml:"qualification"`
	Handoff       Handoff       `yaml:"handoff"`
	Knowledge     Knowledge     `yaml:"knowledge"`
	FollowUps     FollowUps     `yaml:"follow_ups"`
	Replies       Replies       `yaml:"replies"`
	Variants      []Variant     `yaml:"variants"`
	// Offline configures the offline engine (no LLM).
	Offline Offline `yaml:"offline"`
	// Booking configures meeting booking.
	Booking Booking `yaml:"booking"`
	// Objections are the objections a dialog's insight may name
	// (objections.go).
	Objections []Objection `yaml:"objections"`
	// Media says what happens when a lead sends media.
	Media Media `yaml:"media"`
}

// What a lead's media lead to (Media's values).
const (
	// MediaReply: the assistant answers, reading the media as described
	// ("[photo]", a voice note's transcript).
	MediaReply = "reply"
	// MediaHandoff: the dialog goes to a person, who can see the file.
	MediaHandoff = "handoff"
)

// Media says, per kind of media a lead sends, whether the assistant
// replies (MediaReply) or hands the dialog to a person (MediaHandoff).
// Empty is the default: documents go to a person (the assistant cannot
// read them), everything else is answered.
type Media struct {
	Voice     string `yaml:"voice"`
	Audio     string `yaml:"audio"`
	Photo     string `yaml:"photo"`
	Video     string `yaml:"video"`
	VideoNote string `yaml:"video_note"`
	Document  string `yaml:"document"`
	Sticker   string `yaml:"sticker"`
	Other     string `yaml:"other"`
}

// Booking configures meeting booking: with a calendar connected (run
// --calendar-config) the assistant proposes the manager's free slots and
// books the one the lead picks; without one it gives Link, if set.
type Booking struct {
	// Link is a booking page (Cal.com, Calendly, ...) offered instead of
	// slots when no calendar is connected; "" = none.
	Link string `yaml:"link"`
	// AtOffer: propose a meeting when a dialog reaches the offer stage
	// (default true); a lead who asks for a meeting gets one anyway.
	AtOffer *bool `yaml:"at_offer"`
	// Slots is how many free slots a proposal shows (default 3, 1..5).
	Slots int `yaml:"slots"`
	// Phrases are more ways leads ask for a meeting, beside the built-in
	// English and Russian ones.
	Phrases []string `yaml:"phrases"`
	// Title is the meeting's title in the calendar and the lead's .ics
	// (default "Call with <company name>").
	Title Text `yaml:"title"`
}

type Company struct {
	Name        string `yaml:"name"`
	Product     string `yaml:"product"`
	Description string `yaml:"description"`
	Website     string `yaml:"website"`
}

type Persona struct {
	Name string `yaml:"name"` // the assistant's name, e.g. "Ada, Acme's AI assistant"
	Tone string `yaml:"tone"` // e.g. "friendly, brief, no pressure"
	// Rules are extra instructions for the model (never weaker than the
	// engine's own rules, which always apply).
	Rules []string `yaml:"rules"`
}

type Disclosure struct {
	FirstMessage *bool `yaml:"first_message"` // nil = true
	Text         Text  `yaml:"text"`
}

// Stage is one stage of the conversation and what it is for.
//
// A scenario without transitions and exits (Branching false) lists some of
// the fixed Stages in their order, and a dialog moves along them as
// domain's fixed moves allow. A branching scenario names its own stages:
// the first is "opening" (every dialog starts there); each stage that is
// not an exit has transitions to other stages, and an exit stage ends the
// AI's part (handoff, closed-lost) or parks the lead (nurture).
type Stage struct {
	Name string `yaml:"name"` // one of Stages, or any name in a branching scenario
	Goal string `yaml:"goal"`
	// Instructions tell the model how to behave in this stage.
	Instructions string `yaml:"instructions"`
	// Questions are what the offline engine asks in this stage, in order.
	Questions Texts `yaml:"questions"`
	// Transitions are the stages a dialog may move to from this one, in
	// order: one whose condition holds after a turn is taken whatever the
	// model proposed; one without a condition is the model's to choose.
	Transitions []Transition `yaml:"transitions"`
	// Exit makes this an exit stage: ExitHandoff, ExitLost or ExitNurture.
	Exit string `yaml:"exit"`
	// After (nurture) is how long the dialog waits before FollowUp.
	After time.Duration `yaml:"after"`
	// FollowUp (nurture) is the message sent After the dialog entered.
	FollowUp Text `yaml:"follow_up"`
	// Reply (nurture, closed-lost) is sent instead of the model's reply
	// when a dialog enters the stage; closed-lost defaults to replies.lost.
	Reply Text `yaml:"reply"`
	// Handoff (handoff) is the note for the manager who takes the lead.
	Handoff StageHandoff `yaml:"handoff"`
}

// Exits a stage may be.
const (
	ExitHandoff = "handoff"     // a person takes over (the handoff reason names who)
	ExitLost    = "closed-lost" // the dialog closes as lost
	ExitNurture = "nurture"     // the dialog waits After, then sends FollowUp
)

// Exits lists the Exit* names.
var Exits = []string{ExitHandoff, ExitLost, ExitNurture}

// StageHandoff is the handoff of an exit stage.
type StageHandoff struct {
	// Reason is recorded with the handoff, e.g. "enterprise lead: senior
	// manager"; default "scenario stage <name>".
	Reason string `yaml:"reason"`
}

// Transition is one way out of a stage.
type Transition struct {
	To   string     `yaml:"to"`   // a stage of the scenario
	When *Condition `yaml:"when"` // nil: the model may choose it
}

// Condition is a test on one qualification field, with exactly one of
// Below, Above, Equals, Known or Unknown. Below and Above compare the
// field's number (a budget's amount, in whatever currency the lead said;
// another field's first number) with a plain number ("1000", "1,000").
type Condition struct {
	Field   string `yaml:"field"`
	Below   string `yaml:"below"`
	Above   string `yaml:"above"`
	Equals  string `yaml:"equals"` // the field's value, ignoring case
	Known   bool   `yaml:"known"`
	Unknown bool   `yaml:"unknown"`
}

// Qualification lists the fields to learn about a lead.
type Qualification struct {
	Fields []FieldSpec `yaml:"fields"`
}

// Extractors the offline engine has.
const (
	ExtractMoney    = "money"    // a number with a currency: "5000$", "100 тыс руб"
	ExtractTimeline = "timeline" // dates and durations: "by March", "через 2 недели", "Q3"
	ExtractYesNo    = "yesno"    // yes/no: "yes, I decide", "нет"
	ExtractKeywords = "keywords" // any of Keywords
	ExtractNumber   = "number"   // a plain number: "10 people"
	ExtractText     = "text"     // the whole answer
)

// FieldSpec is one qualification field. need, budget, timeline and
// authority are the standard ones; any other name is a custom field.
type FieldSpec struct {
	Name        string   `yaml:"name"`
	Description string   `yaml:"description"` // for the model
	Question    Text     `yaml:"question"`    // what the offline engine asks
	Extractor   string   `yaml:"extractor"`   // one of the Extract* names
	Keywords    []string `yaml:"keywords"`    // for ExtractKeywords
	// Points are added to the interest score (offline engine) when the
	// field is known; the points of all fields should add up to at most 100.
	Points int `yaml:"points"`
}

// Handoff says when a lead goes to a human manager.
type Handoff struct {
	// ScoreThreshold: a lead at or above it is handed off (0..100).
	ScoreThreshold int `yaml:"score_threshold"`
	// AlwaysHuman are topics that always go to a person (keywords or
	// phrases, any language), e.g. "contract", "refund", "договор".
	AlwaysHuman []string `yaml:"always_human"`
	// HumanPhrases are how leads ask for a person ("call me", "менеджер").
	HumanPhrases []string `yaml:"human_phrases"`
}

// Knowledge is the only source of prices and terms: every figure in a
// reply must appear here.
type Knowledge struct {
	Products []Product `yaml:"products"`
	Terms    []string  `yaml:"terms"`
	FAQ      []FAQ     `yaml:"faq"`
	// Files are the only files the assistant may send (a price list
	// PDF): the model names one by Name, anything else is withheld.
	Files []File `yaml:"files"`
}

// File is a file of the knowledge base the assistant may send.
type File struct {
	// Name is what the lead sees and the model names ("price-list.pdf").
	Name string `yaml:"name"`
	// Path is where the file is, relative to the scenario file's folder
	// (read when salesbot starts; at most 10 MB).
	Path string `yaml:"path"`
	// MIME is its media type (default: from the name's extension).
	MIME string `yaml:"mime"`
	// Caption is the message sent with it (default: the name).
	Caption Text `yaml:"caption"`
	// When tells the model when to offer it ("the lead asks for prices").
	When string `yaml:"when"`
	// Keywords make the offline engine send it when a lead's message has
	// one ("price list", "прайс").
	Keywords []string `yaml:"keywords"`
}

type Product struct {
	Name        string `yaml:"name"`
	Price       string `yaml:"price"`
	Description string `yaml:"description"`
}

type FAQ struct {
	Q        string   `yaml:"q"`
	A        string   `yaml:"a"`
	Keywords []string `yaml:"keywords"` // the offline engine answers A when a lead's message has one
}

// FollowUps: when the lead does not answer, at most Max follow-ups, each
// After the last message, inside the account's working hours.
type FollowUps struct {
	Max   int           `yaml:"max"`
	After time.Duration `yaml:"after"` // YAML: "24h", "90m"
	Texts Texts         `yaml:"texts"`
}

// Replies are the fixed texts the guards send.
type Replies struct {
	OptOut    Text `yaml:"opt_out"`    // confirms an opt-out (sent at most once)
	BotAnswer Text `yaml:"bot_answer"` // "I am Acme's AI assistant…"
	Handoff   Text `yaml:"handoff"`    // "A colleague will write to you…"
	Lost      Text `yaml:"lost"`       // polite goodbye to a lead who is not interested
	Fallback  Text `yaml:"fallback"`   // the offline engine's answer when it has nothing better
}

// Variant is a prompt variant for A/B tests.
type Variant struct {
	Name    string `yaml:"name"`
	Version string `yaml:"version"` // recorded with each turn; default the scenario's
	Weight  int    `yaml:"weight"`  // relative, > 0
	Prompt  string `yaml:"prompt"`  // added to the system prompt
	Opening *int   `yaml:"opening"` // index into Openings; nil = the first
}

// Offline configures the offline engine.
type Offline struct {
	// NotInterested phrases close the dialog as lost with Replies.Lost.
	NotInterested []string `yaml:"not_interested"`
}
