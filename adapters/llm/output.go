package llm

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	openai "github.com/sashabaranov/go-openai"

	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/domain/scenario"
)

// MaxReplyRunes is the longest reply accepted: a chat message, not a
// letter.
const MaxReplyRunes = 1000

// standardFields are the qualification fields every scenario may use.
var standardFields = []string{"need", "budget", "timeline", "authority"}

// stageNames are the stages a model may move to: the scenario's (all of
// scenario.Stages if it lists none) and closed.
func stageNames(sc *scenario.Scenario) []string {
	var names []string
	for _, st := range sc.Stages {
		if st.Name != "" && !slices.Contains(names, st.Name) {
			names = append(names, st.Name)
		}
	}
	if len(names) == 0 {
		names = slices.Clone(scenario.Stages)
	}
	return append(names, string(domain.StageClosed))
}

// fieldNames are the qualification fields a model may fill: the
// scenario's (the four standard ones if it lists none).
func fieldNames(sc *scenario.Scenario) []string {
	var names []string
	for _, f := range sc.Qualification.Fields {
		if f.Name != "" && !slices.Contains(names, f.Name) {
			names = append(names, f.Name)
		}
	}
	if len(names) == 0 {
		names = slices.Clone(standardFields)
	}
	return names
}

// turnSchema is the JSON schema of domain.TurnOutput for the turn's
// scenario, in the form OpenAI's strict mode requires: every property
// required, no additional properties. The ranges of confidence and
// interest_score are stated in descriptions, not as minimum/maximum,
// which some providers' strict modes reject; validate enforces them.
func turnSchema(in domain.TurnInput) (json.RawMessage, error) {
	str := func(desc string) map[string]any { return map[string]any{"type": "string", "description": desc} }
	boolean := func(desc string) map[string]any { return map[string]any{"type": "boolean", "description": desc} }
	object := func(props map[string]any) map[string]any {
		keys := make([]string, 0, len(props))
		for k := range props {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		return map[string]any{"type": "object", "properties": props, "required": keys, "additionalProperties": false}
	}
	field := object(map[string]any{
		"name":       map[string]any{"type": "string", "enum": fieldNames(in.Scenario), "description": "the qualification field"},
		"value":      str("what the lead said, normalised: a short value"),
		"quote":      str("the lead's own words it comes from"),
		"confidence": map[string]any{"type": "number", "description": "0..1: how sure you are"},
	})
	schema := object(map[string]any{
		"reply":      str("the message to send to the lead; empty only when the lead opts out"),
		"next_stage": map[string]any{"type": "string", "enum": stageNames(in.Scenario), "description": "the stage after this turn; closed when the lead is not interested"},
		"qualification": map[string]any{
			"type": "array", "items": field,
			"description": "fields the lead stated in their new messages; empty if none",
		},
		"interest_score": map[string]any{"type": "integer", "description": "0..100: how interested the lead is"},
		"flags": object(map[string]any{
			"wants_human": boolean("the lead asks for a person"),
			"opt_out":     boolean("the lead asks not to be written to again"),
			"asks_if_bot": boolean("the lead asks whether you are a bot, an AI or a person"),
			"off_topic":   boolean("the lead's messages are off topic"),
			"needs_info":  boolean("the answer is not in the knowledge base"),
		}),
		"handoff_reason": str("why a person should take over now; empty if not"),
	})
	if names := in.Scenario.FileNames(); len(names) > 0 {
		// Only with files to send: the schema of a scenario without them
		// stays as it was.
		schema["properties"].(map[string]any)["file"] = map[string]any{"type": "string", "enum": append([]string{""}, names...),
			"description": "a file of the knowledge base to send with your reply; empty for none"}
		schema["required"] = append(schema["required"].([]string), "file")
	}
	return json.Marshal(schema)
}

// fence matches a Markdown code block, which some local servers wrap the
// JSON in when they ignore the response format.
var fence = regexp.MustCompile("(?s)```[a-zA-Z]*[ \t]*\r?\n?(.*?)```")

// decode parses and validates one answer.
func decode(ans answer, in domain.TurnInput) (domain.TurnOutput, error) {
	content := strings.TrimSpace(ans.content)
	if content == "" {
		switch {
		case ans.refusal != "":
			return domain.TurnOutput{}, fmt.Errorf("the model refused: %s", truncate(ans.refusal, 200))
		case ans.finish == openai.FinishReasonContentFilter:
			return domain.TurnOutput{}, errors.New("the answer was withheld by the provider's content filter")
		}
		return domain.TurnOutput{}, errors.New("the answer is empty, not a JSON object")
	}
	out, err := parse(content)
	if err != nil {
		if ans.finish == openai.FinishReasonLength {
			err = fmt.Errorf("%w (the answer was cut off at the token limit)", err)
		}
		return domain.TurnOutput{}, err
	}
	out.Reply = strings.TrimSpace(out.Reply)
	out.HandoffReason = strings.TrimSpace(out.HandoffReason)
	if err := validate(out, in); err != nil {
		return domain.TurnOutput{}, err
	}
	return out, nil
}

// parse reads the JSON object of an answer, from a ```json block if there
// is one. It is lenient on unknown fields and strict on types; reply,
// next_stage and interest_score must be present (a missing score is not
// a score of 0), the others default to empty.
func parse(content string) (domain.TurnOutput, error) {
	if !strings.HasPrefix(content, "{") {
		if m := fence.FindStringSubmatch(content); m != nil {
			content = strings.TrimSpace(m[1])
		}
	}
	dec := json.NewDecoder(strings.NewReader(content))
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		return domain.TurnOutput{}, fmt.Errorf("the answer is not a JSON object: %v", err)
	}
	if dec.More() {
		return domain.TurnOutput{}, errors.New("the answer has text after the JSON object")
	}
	if !bytes.HasPrefix(bytes.TrimSpace(raw), []byte("{")) {
		return domain.TurnOutput{}, errors.New("the answer is not a JSON object but another JSON value")
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(raw, &keys); err != nil {
		return domain.TurnOutput{}, fmt.Errorf("the answer is not a JSON object: %v", err)
	}
	var missing []string
	for _, k := range []string{"reply", "next_stage", "interest_score"} {
		if _, ok := keys[k]; !ok {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		return domain.TurnOutput{}, fmt.Errorf("the answer lacks %s", strings.Join(missing, ", "))
	}
	var out domain.TurnOutput
	if err := json.Unmarshal(raw, &out); err != nil {
		var typ *json.UnmarshalTypeError
		if errors.As(err, &typ) && typ.Field != "" {
			return domain.TurnOutput{}, fmt.Errorf("%s must be a JSON %s, not %s", typ.Field, jsonKind(typ.Type.Kind().String()), typ.Value)
		}
		return domain.TurnOutput{}, fmt.Errorf("the answer does not match the schema: %v", err)
	}
	return out, nil
}

func jsonKind(goKind string) string {
	switch goKind {
	case "int", "int64":
		return "integer"
	case "float64":
		return "number"
	case "bool":
		return "boolean"
	case "slice":
		return "array"
	case "struct":
		return "object"
	}
	return goKind
}

// validate checks an answer against the turn: a known next stage, known
// fields with a value and a confidence in 0..1, a score in 0..100, and a
// reply of 1..MaxReplyRunes runes (empty only with an opt-out). The error
// names every problem, for the repair prompt.
func validate(out domain.TurnOutput, in domain.TurnInput) error {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	if stages := stageNames(in.Scenario); !slices.Contains(stages, string(out.NextStage)) {
		add("next_stage %q is not one of %s", out.NextStage, strings.Join(stages, ", "))
	}
	fields := fieldNames(in.Scenario)
	for i, f := range out.Qualification {
		switch {
		case !slices.Contains(fields, f.Name):
			add("qualification[%d].name %q is not one of %s", i, f.Name, strings.Join(fields, ", "))
		case strings.TrimSpace(f.Value) == "":
			add("qualification[%d] (%s) has an empty value: leave out fields the lead did not state", i, f.Name)
		}
		if f.Confidence < 0 || f.Confidence > 1 {
			add("qualification[%d].confidence %v is outside 0..1", i, f.Confidence)
		}
	}
	if out.Score < 0 || out.Score > 100 {
		add("interest_score %d is outside 0..100", out.Score)
	}
	switch n := utf8.RuneCountInString(out.Reply); {
	case n == 0 && !out.Flags.OptOut:
		add("reply is empty (it may be empty only when flags.opt_out is true)")
	case n > MaxReplyRunes:
		add("reply has %d characters, more than %d: keep it short, like a chat message", n, MaxReplyRunes)
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}
