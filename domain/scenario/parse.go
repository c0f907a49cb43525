package scenario

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Error is what Parse returns for a broken scenario file: the line (1-based;
// 0 when unknown), the path of the key ("variants[1].weight"; empty for
// the whole file) and the reason. A caller that reads the file adds its
// name.
type Error struct {
	Line   int
	Field  string
	Reason string
}

// Error reads like "scenario: line 42: variants[1].weight: must be > 0".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("scenario: ")
	if e.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Reason)
	return b.String()
}

// DefaultLanguage is the scenario's language when the file names none.
const DefaultLanguage = "en"

// Parse decodes a scenario file strictly (an unknown key, a value of the
// wrong type or a language not in Languages is an error) and validates it.
// Texts written in the plain form are stored under the scenario's default
// language, and a variant without a version gets the scenario's version.
// Every error is an *Error with the line of the offending key.
func Parse(data []byte) (*Scenario, error) {
	s, err := parse(data)
	if err != nil {
		// yaml may place an empty value after the end of the file.
		n := bytes.Count(data, []byte("\n"))
		if len(data) > 0 && data[len(data)-1] != '\n' {
			n++
		}
		err.Line = min(err.Line, max(n, 1))
		return nil, err
	}
	return s, nil
}

func parse(data []byte) (*Scenario, *Error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Error{Line: 1, Reason: "the file is empty"}
		}
		return nil, syntaxError(err, data)
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return nil, syntaxError(err, data)
	default:
		return nil, &Error{Line: extra.Line, Reason: "a second YAML document (---): a scenario file has one"}
	}

	c := &checker{lines: map[string]int{"": 1}, seen: map[seenKey]bool{}}
	if err := c.walk(&doc, reflect.TypeFor[Scenario](), ""); err != nil {
		return nil, err
	}
	var s Scenario
	if err := doc.Decode(&s); err != nil {
		// The checker catches what yaml would reject; this is a backstop.
		return nil, yamlError(err, c)
	}
	if s.Language == "" {
		s.Language = DefaultLanguage
	}
	if !slices.Contains(Languages, s.Language) {
		return nil, c.errf("language", "unknown language %q (want one of %s)", s.Language, strings.Join(Languages, ", "))
	}
	resolvePlain(reflect.ValueOf(&s).Elem(), s.Language)
	for i := range s.Variants {
		if s.Variants[i].Version == "" {
			s.Variants[i].Version = s.Version
		}
	}
	if err := validate(&s, c); err != nil {
		return nil, err
	}
	return &s, nil
}

// UnmarshalYAML reads a plain string (the default language, stored under
// "" until Parse knows the language) or a mapping of languages to strings.
func (t *Text) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		if n.ShortTag() == "!!null" {
			*t = nil
			return nil
		}
		*t = Text{"": n.Value}
		return nil
	}
	m := map[string]string{}
	if err := n.Decode(&m); err != nil {
		return err
	}
	*t = m
	return nil
}

// UnmarshalYAML reads a plain list (the default language, stored under ""
// until Parse knows the language) or a mapping of languages to lists.
func (t *Texts) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.SequenceNode {
		var l []string
		if err := n.Decode(&l); err != nil {
			return err
		}
		*t = Texts{"": l}
		return nil
	}
	m := map[string][]string{}
	if err := n.Decode(&m); err != nil {
		return err
	}
	*t = m
	return nil
}

// resolvePlain moves every plain text (key "") to the default language.
func resolvePlain(v reflect.Value, lang string) {
	switch v.Type() {
	case textType:
		t := v.Interface().(Text)
		if s, ok := t[""]; ok {
			delete(t, "")
			t[lang] = s
		}
		return
	case textsType:
		t := v.Interface().(Texts)
		if l, ok := t[""]; ok {
			delete(t, "")
			t[lang] = l
		}
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			resolvePlain(v.Field(i), lang)
		}
	case reflect.Slice:
		for i := range v.Len() {
			resolvePlain(v.Index(i), lang)
		}
	case reflect.Pointer:
		if !v.IsNil() {
			resolvePlain(v.Elem(), lang)
		}
	}
}

var (
	textType     = reflect.TypeFor[Text]()
	textsType    = reflect.TypeFor[Texts]()
	durationType = reflect.TypeFor[time.Duration]()
)

// yamlLine finds the line in yaml's messages: "yaml: line 3: ..." for a
// syntax error, "line 3: ..." for each unmarshal error.
var yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// yamlError turns an error of the yaml package into an *Error; c, when
// known, names the key on that line.
func yamlError(err error, c *checker) *Error {
	msg := err.Error()
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = te.Errors[0]
	}
	m := yamlLine.FindStringSubmatch(msg)
	if m == nil {
		return &Error{Reason: strings.TrimPrefix(msg, "yaml: ")}
	}
	line, _ := strconv.Atoi(m[1])
	e := &Error{Line: line, Reason: m[2]}
	if c != nil {
		e.Field = c.pathAt(line)
	}
	return e
}

// syntaxError is a yaml syntax error with the line of the problem. yaml
// reports the line where the enclosing construct starts (and, for parser
// errors, one too few), so the line is found again: it is the one after
// the longest run of whole lines that still parses.
func syntaxError(err error, data []byte) *Error {
	e := yamlError(err, nil)
	if l := problemLine(data); l > 0 {
		e.Line = l
	}
	return e
}

// problemBudget bounds the bytes problemLine parses again (a long file
// with an error near its start keeps yaml's line).
const problemBudget = 8 << 20

// problemLine is 1 + the largest number of whole lines that parse, or 0
// when that costs more than problemBudget.
func problemLine(data []byte) int {
	var ends []int // the end of each line, after its newline
	for i, b := range data {
		if b == '\n' {
			ends = append(ends, i+1)
		}
	}
	if len(ends) > 0 && ends[len(ends)-1] == len(data) {
		ends = ends[:len(ends)-1] // data itself is the last prefix
	}
	spent := 0
	for j := len(ends) - 1; j >= 0; j-- {
		spent += ends[j]
		if spent > problemBudget {
			return 0
		}
		if parses(data[:ends[j]]) {
			return j + 2
		}
	}
	return 1
}

// parses says whether every YAML document in data parses.
func parses(data []byte) bool {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return true
		}
		if err != nil {
			return false
		}
	}
}

// checker walks the YAML tree against the Scenario type before decoding:
// it rejects unknown and repeated keys, values of the wrong kind and
// unknown languages, and records the line of every key path for the
// validation errors.
type checker struct {
	lines map[string]int // path → line of its key (or list item)
	seen  map[seenKey]bool
}

// seenKey marks a node checked as a type, so that an alias used many times
// is checked once.
type seenKey struct {
	n *yaml.Node
	t reflect.Type
}

// errf makes an *Error at path, with the line of path or of its nearest
// ancestor that the file has.
func (c *checker) errf(path, format string, args ...any) *Error {
	return &Error{Line: c.line(path), Field: path, Reason: fmt.Sprintf(format, args...)}
}

func (c *checker) line(path string) int {
	for {
		if l, ok := c.lines[path]; ok {
			return l
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			return c.lines[""]
		}
		path = path[:i]
	}
}

// pathAt is the longest path whose key is on line, "" if none.
func (c *checker) pathAt(line int) string {
	best := ""
	for p, l := range c.lines {
		if l == line && len(p) > len(best) {
			best = p
		}
	}
	return best
}

func (c *checker) at(n *yaml.Node, path, format string, args ...any) *Error {
	return &Error{Line: n.Line, Field: path, Reason: fmt.Sprintf(format, args...)}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func index(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" }

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	return fmt.Sprintf("%q", n.Value)
}

func (c *checker) walk(n *yaml.Node, t reflect.Type, path string) *Error {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return &Error{Line: 1, Reason: "the file is empty"}
		}
		c.lines[""] = n.Content[0].Line
		return c.walk(n.Content[0], t, path)
	case yaml.AliasNode:
		if n.Alias == nil {
			return c.at(n, path, "unknown alias")
		}
		return c.walk(n.Alias, t, path)
	}
	k := seenKey{n, t}
	if c.seen[k] {
		return nil
	}
	c.seen[k] = true
	if isNull(n) {
		return nil
	}
	switch t {
	case textType:
		return c.walkText(n, path)
	case textsType:
		return c.walkTexts(n, path)
	case durationType:
		if n.Kind != yaml.ScalarNode {
			return c.at(n, path, "must be a duration like 24h or 90m, not %s", kindName(n))
		}
		if _, err := time.ParseDuration(n.Value); err != nil {
			return c.at(n, path, "must be a duration like 24h or 90m, not %q", n.Value)
		}
		return nil
	}
	switch t.Kind() {
	case reflect.Pointer:
		return c.walk(n, t.Elem(), path)
	case reflect.Struct:
		return c.walkStruct(n, t, path)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return c.at(n, path, "must be a list, not %s", kindName(n))
		}
		for i, item := range n.Content {
			p := index(path, i)
			c.lines[p] = item.Line
			if err := c.walk(item, t.Elem(), p); err != nil {
				return err
			}
		}
		return nil
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			return c.at(n, path, "must be a text, not %s", kindName(n))
		}
		return nil
	case reflect.Int:
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" {
			return c.at(n, path, "must be a whole number, not %s", kindName(n))
		}
		var i int
		if err := n.Decode(&i); err != nil {
			return c.at(n, path, "must be a whole number, not %s", kindName(n))
		}
		return nil
	case reflect.Bool:
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
			return c.at(n, path, "must be true or false, not %s", kindName(n))
		}
		return nil
	}
	return nil
}

// keys walks a mapping's pairs, following merge keys ("<<: *base"; the
// mapping's own keys win), and rejects keys that are not plain scalars or
// that repeat.
func (c *checker) keys(n *yaml.Node, path string, fn func(key, val *yaml.Node) *Error) *Error {
	own := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key := n.Content[i]
		if key.Kind == yaml.ScalarNode && key.ShortTag() == "!!merge" {
			continue
		}
		if key.Kind != yaml.ScalarNode {
			return c.at(key, path, "a key must be a plain word, not %s", kindName(key))
		}
		if l, ok := own[key.Value]; ok {
			return c.at(key, join(path, key.Value), "defined twice (first at line %d)", l)
		}
		own[key.Value] = key.Line
	}
	done := map[string]bool{}
	var visit func(m *yaml.Node, depth int) *Error
	visit = func(m *yaml.Node, depth int) *Error {
		if depth > 10 {
			return c.at(m, path, "merge keys nested too deep")
		}
		for i := 0; i+1 < len(m.Content); i += 2 {
			key, val := m.Content[i], m.Content[i+1]
			if key.Kind == yaml.ScalarNode && key.ShortTag() == "!!merge" {
				for val.Kind == yaml.AliasNode && val.Alias != nil {
					val = val.Alias
				}
				srcs := []*yaml.Node{val}
				if val.Kind == yaml.SequenceNode {
					srcs = val.Content
				}
				for _, s := range srcs {
					for s.Kind == yaml.AliasNode && s.Alias != nil {
						s = s.Alias
					}
					if s.Kind != yaml.MappingNode {
						return c.at(key, path, "a merge (<<) needs a mapping")
					}
					if err := visit(s, depth+1); err != nil {
						return err
					}
				}
				continue
			}
			if key.Kind != yaml.ScalarNode {
				return c.at(key, path, "a key must be a plain word, not %s", kindName(key))
			}
			if done[key.Value] || (depth > 0 && own[key.Value] != 0) {
				continue // already checked, or overridden by the mapping's own key
			}
			done[key.Value] = true
			if err := fn(key, val); err != nil {
				return err
			}
		}
		return nil
	}
	return visit(n, 0)
}

func (c *checker) walkStruct(n *yaml.Node, t reflect.Type, path string) *Error {
	if n.Kind != yaml.MappingNode {
		return c.at(n, path, "must be a mapping of keys, not %s", kindName(n))
	}
	fields := map[string]reflect.Type{}
	var names []string
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || name == "-" {
			continue
		}
		fields[name] = f.Type
		names = append(names, name)
	}
	return c.keys(n, path, func(key, val *yaml.Node) *Error {
		p := join(path, key.Value)
		ft, ok := fields[key.Value]
		if !ok {
			where := "the file"
			if path != "" {
				where = path
			}
			return c.at(key, p, "unknown key %q in %s (known: %s)", key.Value, where, strings.Join(names, ", "))
		}
		c.lines[p] = key.Line
		return c.walk(val, ft, p)
	})
}

func (c *checker) language(key *yaml.Node, path string) *Error {
	if !slices.Contains(Languages, key.Value) {
		return c.at(key, join(path, key.Value), "unknown language %q (want one of %s)", key.Value, strings.Join(Languages, ", "))
	}
	return nil
}

func (c *checker) walkText(n *yaml.Node, path string) *Error {
	const want = "must be a text or a mapping of languages to texts"
	switch n.Kind {
	case yaml.ScalarNode:
		return nil
	case yaml.MappingNode:
		return c.keys(n, path, func(key, val *yaml.Node) *Error {
			if err := c.language(key, path); err != nil {
				return err
			}
			p := join(path, key.Value)
			c.lines[p] = key.Line
			for val.Kind == yaml.AliasNode && val.Alias != nil {
				val = val.Alias
			}
			if val.Kind != yaml.ScalarNode {
				return c.at(val, p, "must be a text, not %s", kindName(val))
			}
			return nil
		})
	}
	return c.at(n, path, "%s, not %s", want, kindName(n))
}

func (c *checker) walkTexts(n *yaml.Node, path string) *Error {
	list := func(l *yaml.Node, p string) *Error {
		for l.Kind == yaml.AliasNode && l.Alias != nil {
			l = l.Alias
		}
		if isNull(l) {
			return nil
		}
		if l.Kind != yaml.SequenceNode {
			return c.at(l, p, "must be a list of texts, not %s", kindName(l))
		}
		for i, item := range l.Content {
			ip := index(p, i)
			c.lines[ip] = item.Line
			for item.Kind == yaml.AliasNode && item.Alias != nil {
				item = item.Alias
			}
			if item.Kind != yaml.ScalarNode {
				return c.at(item, ip, "must be a text, not %s", kindName(item))
			}
		}
		return nil
	}
	switch n.Kind {
	case yaml.SequenceNode:
		return list(n, path)
	case yaml.MappingNode:
		return c.keys(n, path, func(key, val *yaml.Node) *Error {
			if err := c.language(key, path); err != nil {
				return err
			}
			p := join(path, key.Value)
			c.lines[p] = key.Line
			return list(val, p)
		})
	}
	return c.at(n, path, "must be a list of texts or a mapping of languages to lists, not %s", kindName(n))
}
