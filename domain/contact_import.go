package domain

import (
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits on what a contact holds, so one bad file cannot bloat the log.
const (
	MaxTags       = 50   // tags per contact
	MaxTagLen     = 64   // runes per tag
	MaxFields     = 50   // custom fields per contact
	MaxFieldName  = 64   // bytes per field name
	MaxFieldValue = 1000 // runes per field value
	MaxNameLen    = 128  // runes in a contact's name
	maxImportID   = 64
)

// ImportRow is one row of a contacts file as read, cell by meaning, not yet
// checked. Fields are the custom columns, named by the file's header.
type ImportRow struct {
	Username string // "@anna_k", "anna_k" or "https://t.me/anna_k"
	UserID   string // a Telegram user id in digits
	Phone    string // "+49 151 1234-5678"
	Name     string
	Tags     string // one cell: "vip, fair-2026; berlin|b2b"
	Fields   []ContactField
}

// ValidateImportRow checks a row and returns it normalised as the person
// part of an AddContact (ContactID, Source, Basis, Note and Import are for
// the caller to set). The error is an EINVALID *Error naming every problem
// of the row, separated by "; ", with the Field at fault when all of them
// are about one: "username", "user_id", "phone", "name", "tags" or
// "fields" (none for a row without any of the first three).
//
// A row needs at least one of username, user id and phone. A username is
// 5 to 32 letters, digits or _ (Telegram's rule), with or without a
// leading @ or t.me/ link; a user id is a positive integer; a phone is +
// and 7 to 15 digits (spaces, dashes, dots and parentheses are allowed and
// dropped). A name is at most 128 characters. Tags are split on , ; and |.
// Custom field names are [a-z][a-z0-9_]*; empty cells are left out.
func ValidateImportRow(row ImportRow) (AddContact, error) {
	var out AddContact
	var problems, at []string // at: the field of each problem
	bad := func(field, format string, args ...any) {
		problems, at = append(problems, errorf(EINVALID, format, args...).Message), append(at, field)
	}
	for _, cell := range []struct{ field, what, v string }{{"username", "username", row.Username}, {"user_id", "user id", row.UserID},
		{"phone", "phone", row.Phone}, {"name", "name", row.Name}, {"tags", "tags", row.Tags}} {
		if !utf8.ValidString(cell.v) {
			bad(cell.field, "the %s is not valid UTF-8", cell.what)
		}
	}
	if u := strings.TrimSpace(row.Username); u != "" {
		if n, ok := NormalizeUsername(u); ok {
			out.Username = n
		} else {
			bad("username", "username %q is not 5 to 32 letters, digits or _", clip(u))
		}
	}
	if s := strings.TrimSpace(row.UserID); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= 0 {
			bad("user_id", "user id %q is not a positive whole number", clip(s))
		}
		out.UserID = max(n, 0)
	}
	if s := strings.TrimSpace(row.Phone); s != "" {
		if p, ok := NormalizePhone(s); ok {
			out.Phone = p
		} else {
			bad("phone", "phone %q is not + and 7 to 15 digits (with the country code)", clip(s))
		}
	}
	if out.Username == "" && out.UserID == 0 && out.Phone == "" && len(problems) == 0 {
		bad("", "no username, user id or phone: a contact needs one")
	}
	out.Name = strings.Join(strings.Fields(row.Name), " ")
	if n := utf8.RuneCountInString(out.Name); n > MaxNameLen {
		bad("name", "the name has %d characters, at most %d are allowed", n, MaxNameLen)
	}
	tags, err := checkTags(SplitTags(row.Tags))
	if err != nil {
		bad("tags", "%s", messageOf(err))
	}
	out.Tags = tags
	var fields []ContactField
	for _, f := range row.Fields {
		if strings.TrimSpace(f.Value) == "" {
			if !validFieldName(f.Name) {
				bad("fields", "%q is not a field name ([a-z][a-z0-9_]*)", clip(f.Name))
			}
			continue
		}
		fields = append(fields, f)
	}
	if fields, err = checkFields(fields); err != nil {
		bad("fields", "%s", messageOf(err))
	}
	out.Fields = fields
	if len(problems) > 0 {
		e := errorf(EINVALID, "%s", strings.Join(problems, "; "))
		if !slices.ContainsFunc(at, func(f string) bool { return f != at[0] }) {
			e.Field = at[0] // one field at fault
		}
		return AddContact{}, e
	}
	return out, nil
}

// NormalizeUsername returns a Telegram username without @ (or a t.me/
// link), as typed otherwise; false if it is not 5 to 32 letters, digits or
// _. Usernames compare case-insensitively (see UsernameStream).
func NormalizeUsername(s string) (string, bool) {
	u := strings.TrimSpace(s)
	for _, p := range []string{"https://t.me/", "http://t.me/", "t.me/", "@"} {
		if len(u) >= len(p) && strings.EqualFold(u[:len(p)], p) {
			u = u[len(p):]
		}
	}
	if len(u) < 5 || len(u) > 32 {
		return "", false
	}
	for i := 0; i < len(u); i++ {
		if c := u[i]; !(c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return "", false
		}
	}
	return u, true
}

// NormalizePhone returns a phone number as + and its digits; false unless
// it starts with + and has 7 to 15 digits. Spaces, dashes, dots and
// parentheses between the digits are dropped.
func NormalizePhone(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "+") {
		return "", false
	}
	var b strings.Builder
	b.WriteByte('+')
	digits := 0
	for _, r := range s[1:] {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
			digits++
		case r == ' ' || r == '-' || r == '.' || r == '(' || r == ')' || r == '\u00a0':
		default:
			return "", false
		}
	}
	if digits < 7 || digits > 15 {
		return "", false
	}
	return b.String(), true
}

// SplitTags splits one cell of tags on , ; and |.
func SplitTags(cell string) []string {
	return strings.FieldsFunc(cell, func(r rune) bool { return r == ',' || r == ';' || r == '|' })
}

// NormalizeTags lower-cases and trims tags, drops empty ones and
// duplicates, and sorts them.
func NormalizeTags(tags []string) []string {
	var out []string
	for _, t := range tags {
		if t = normalizeTag(t); t != "" {
			out = append(out, t)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func normalizeTag(t string) string {
	return strings.ToLower(strings.Join(strings.Fields(t), " "))
}

// checkTags normalises tags and checks their number and length.
func checkTags(tags []string) ([]string, error) {
	out := NormalizeTags(tags)
	if len(out) > MaxTags {
		return nil, errorf(EINVALID, "%d tags, at most %d are allowed", len(out), MaxTags)
	}
	for _, t := range out {
		if utf8.RuneCountInString(t) > MaxTagLen {
			return nil, errorf(EINVALID, "tag %q is longer than %d characters", clip(t), MaxTagLen)
		}
		if strings.IndexFunc(t, unicode.IsControl) >= 0 || !utf8.ValidString(t) {
			return nil, errorf(EINVALID, "tag %q holds control characters", clip(t))
		}
	}
	return out, nil
}

// checkFields checks custom fields: valid, unique names, values of a
// bounded length. Values are trimmed; fields with empty values dropped.
func checkFields(fields []ContactField) ([]ContactField, error) {
	var out []ContactField
	for _, f := range fields {
		if !validFieldName(f.Name) {
			return nil, errorf(EINVALID, "%q is not a field name ([a-z][a-z0-9_]*, at most %d)", clip(f.Name), MaxFieldName)
		}
		if slices.ContainsFunc(out, func(g ContactField) bool { return g.Name == f.Name }) {
			return nil, errorf(EINVALID, "field %q is given twice", f.Name)
		}
		v := strings.TrimSpace(f.Value)
		if v == "" {
			continue
		}
		if !utf8.ValidString(v) {
			return nil, errorf(EINVALID, "field %s is not valid UTF-8", f.Name)
		}
		if n := utf8.RuneCountInString(v); n > MaxFieldValue {
			return nil, errorf(EINVALID, "field %s has %d characters, at most %d are allowed", f.Name, n, MaxFieldValue)
		}
		out = append(out, ContactField{Name: f.Name, Value: v})
	}
	if len(out) > MaxFields {
		return nil, errorf(EINVALID, "%d custom fields, at most %d are allowed", len(out), MaxFields)
	}
	return out, nil
}

// countNew is how many of fields the contact does not have yet.
func countNew(c Contact, fields []ContactField) int {
	n := 0
	for _, f := range fields {
		if _, ok := c.Field(f.Name); !ok {
			n++
		}
	}
	return n
}

func validFieldName(s string) bool {
	if s == "" || len(s) > MaxFieldName || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !(c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z') {
			return false
		}
	}
	return true
}

// ValidFieldName says whether s is a custom field name: [a-z][a-z0-9_]*,
// at most MaxFieldName bytes.
func ValidFieldName(s string) bool { return validFieldName(s) }

func checkImportID(id string) error {
	if len(id) > maxImportID || strings.IndexFunc(id, func(r rune) bool { return r <= ' ' || r > '~' }) >= 0 {
		return errorf(EINVALID, "import id %q is not up to %d printable ASCII characters", clip(id), maxImportID)
	}
	return nil
}

// clip shortens a cell quoted in an error, so a huge cell stays readable.
func clip(s string) string {
	if utf8.RuneCountInString(s) <= 40 {
		return s
	}
	return string([]rune(s)[:40]) + "…"
}
