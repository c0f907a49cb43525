// Package contacts imports contacts from CSV files and keeps the
// do-not-contact list: Parse reads and checks a file, Apply records its
// rows through the domain's command handlers (new contacts, merged
// duplicates, people on the do-not-contact list skipped), and Record,
// OptOut and Forget are the steps the CLI, the admin bot and the Telegram
// accounts share.
package contacts

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/salesbot/salesbot/domain"
)

// Limits of Parse.
const (
	MaxFileSize = 256 << 20 // bytes
	MaxRows     = 1_000_000
	maxCells    = 200 // cells in a row
)

// Problems of a file that Parse refuses; each comes in a *FileError that
// says what and where (the line). Match them with errors.Is.
var (
	ErrEncoding = Problem("the file is not UTF-8")
	ErrSyntax   = Problem("the file is not valid CSV")
	ErrHeader   = Problem("the header is not usable")
	ErrEmpty    = Problem("the file has no rows")
	ErrTooLarge = Problem("the file is too large")
)

// Problem is why the importer refuses a whole file (ErrEncoding, ...,
// ErrTooManyErrors): domain.ImportProblem, which the admin bot reads.
type Problem = domain.ImportProblem

// FileError is a file the importer refuses: its Problem and where it is
// (domain.FileError).
type FileError = domain.FileError

// refuse is a *FileError.
func refuse(p Problem, format string, args ...any) error {
	return &FileError{Problem: p, Detail: fmt.Sprintf(format, args...)}
}

// Kind is what a column holds.
type Kind int

const (
	KindField     Kind = iota // a custom field, named by the header
	KindUsername              // username, telegram_username, tg_username, user_name
	KindUserID                // user_id, id, telegram_id, tg_id, userid
	KindPhone                 // phone, phone_number, mobile, tel, telephone
	KindName                  // name, full_name
	KindFirstName             // first_name, firstname
	KindLastName              // last_name, lastname, surname
	KindTags                  // tags, tag, labels
)

// knownColumns maps header names (normalised: lower-case, spaces and
// dashes as _) to what they hold.
var knownColumns = map[string]Kind{
	"username": KindUsername, "user_name": KindUsername, "telegram_username": KindUsername, "tg_username": KindUsername,
	// Not "id": a CRM's own row id would be taken for a Telegram user id
	// and merge strangers. A column "id" is a custom field.
	"user_id": KindUserID, "telegram_id": KindUserID, "tg_id": KindUserID, "userid": KindUserID, "telegram_user_id": KindUserID,
	"phone": KindPhone, "phone_number": KindPhone, "mobile": KindPhone, "tel": KindPhone, "telephone": KindPhone,
	"name": KindName, "full_name": KindName,
	"first_name": KindFirstName, "firstname": KindFirstName,
	"last_name": KindLastName, "lastname": KindLastName, "surname": KindLastName,
	"tags": KindTags, "tag": KindTags, "labels": KindTags,
}

// Column is one column of a file with a header.
type Column struct {
	Header string // as written in the file
	Kind   Kind
	Field  string // the custom field's name (KindField): the header normalised
}

// File is a parsed contacts file: every data row, valid or not.
type File struct {
	Delimiter rune     // ',', ';' or '\t'
	BOM       bool     // the file started with a UTF-8 byte order mark
	Columns   []Column // from the header; nil when the file has none (columns are guessed per row)
	Rows      []Row
}

// Row is one data row of a file.
type Row struct {
	Line int // where the row starts in the file (1-based)
	// Contact is the row checked and normalised (domain.ValidateImportRow):
	// the person, tags and fields; Apply sets the rest.
	Contact domain.AddContact
	Err     error // why the row is rejected; nil for a valid row
}

// Valid is how many rows are valid.
func (f *File) Valid() int {
	n := 0
	for _, r := range f.Rows {
		if r.Err == nil {
			n++
		}
	}
	return n
}

// Parse reads a contacts file: CSV in UTF-8 (a byte order mark is
// skipped), separated by commas, semicolons or tabs (whichever the first
// line holds most of, outside quotes), with quoted cells and CRLF or LF
// line ends.
//
// The first row is a header if one of its cells is a known column name
// (see Kind; case, spaces and dashes do not matter); every other header
// cell names a custom field and must read as [a-z][a-z0-9_]* once
// normalised. A header needs a username, user id or phone column. Without
// a header the columns are guessed per row from their content: @name (or
// a t.me/ link) is the username, digits are the user id, + and digits the
// phone, and everything else the name (cells joined with spaces).
//
// Each data row is checked (domain.ValidateImportRow); a bad row is kept
// with its reason in Row.Err. Parse itself fails only for the file as a
// whole: not UTF-8, broken CSV (an unclosed quote...), an unusable header,
// no rows, or more than MaxRows rows or MaxFileSize bytes. Its errors
// are a *FileError naming the line, with one of ErrEncoding, ErrSyntax,
// ErrHeader, ErrEmpty and ErrTooLarge (or the reader's error).
func Parse(r io.Reader) (*File, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("contacts: read the file: %w", err)
	}
	if len(data) > MaxFileSize {
		return nil, refuse(ErrTooLarge, "more than %d MiB", MaxFileSize>>20)
	}
	f := &File{}
	if rest, ok := bytes.CutPrefix(data, []byte("\xef\xbb\xbf")); ok {
		data, f.BOM = rest, true
	}
	if !utf8.Valid(data) {
		return nil, refuse(ErrEncoding, "line %d holds bytes that are not UTF-8 (save the file as UTF-8 and try again)", badLine(data))
	}
	if bytes.IndexByte(data, '\r') >= 0 && bytes.IndexByte(data, '\n') < 0 {
		data = bytes.ReplaceAll(data, []byte("\r"), []byte("\n")) // old Mac line ends: CR only
	}
	f.Delimiter = sniff(data)
	cr := csv.NewReader(bytes.NewReader(data))
	cr.Comma = f.Delimiter
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	first := true
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) && pe.StartLine != pe.Line {
				return nil, refuse(ErrSyntax, "line %d, column %d: %v (in the row that starts on line %d: is a quote missing there?)", pe.Line, pe.Column, pe.Err, pe.StartLine)
			}
			if errors.As(err, &pe) {
				return nil, refuse(ErrSyntax, "line %d, column %d: %v", pe.Line, pe.Column, pe.Err)
			}
			return nil, refuse(ErrSyntax, "%v", err)
		}
		line, _ := cr.FieldPos(0)
		if blank(rec) {
			continue
		}
		if first {
			first = false
			if cols, ok, err := header(rec); err != nil {
				return nil, refuse(ErrHeader, "line %d: %v", line, err)
			} else if ok {
				f.Columns = cols
				continue
			}
		}
		if len(f.Rows) >= MaxRows {
			return nil, refuse(ErrTooLarge, "more than %d rows (split the file)", MaxRows)
		}
		f.Rows = append(f.Rows, f.row(line, rec))
	}
	if len(f.Rows) == 0 {
		if f.Columns != nil {
			return nil, refuse(ErrEmpty, "only a header")
		}
		return nil, &FileError{Problem: ErrEmpty}
	}
	return f, nil
}

// row checks one data row.
func (f *File) row(line int, rec []string) Row {
	var in domain.ImportRow
	var err error
	if f.Columns != nil {
		err = f.byHeader(rec, &in)
	} else {
		err = guess(rec, &in)
	}
	if err != nil {
		return Row{Line: line, Err: err}
	}
	c, err := domain.ValidateImportRow(in)
	if err != nil && f.Columns == nil && line == 1 && looksLikeHeader(rec) {
		err = fmt.Errorf("%w (if this is a header, name a username, user_id or phone column)", err)
	}
	return Row{Line: line, Contact: c, Err: err}
}

func (f *File) byHeader(rec []string, in *domain.ImportRow) error {
	if len(rec) > len(f.Columns) {
		for _, extra := range rec[len(f.Columns):] {
			if strings.TrimSpace(extra) != "" {
				return fmt.Errorf("%d cells, but the header has %d columns", len(rec), len(f.Columns))
			}
		}
	}
	var first, last string
	for i, col := range f.Columns {
		v := ""
		if i < len(rec) {
			v = strings.TrimSpace(rec[i])
		}
		switch col.Kind {
		case KindUsername:
			in.Username = v
		case KindUserID:
			in.UserID = v
		case KindPhone:
			in.Phone = v
		case KindName:
			in.Name = v
		case KindFirstName:
			first = v
		case KindLastName:
			last = v
		case KindTags:
			in.Tags = v
		case KindField:
			in.Fields = append(in.Fields, domain.ContactField{Name: col.Field, Value: v})
		}
	}
	if first != "" || last != "" {
		in.Name = strings.TrimSpace(first + " " + last)
	}
	return nil
}

// guess reads a row of a file without a header by the look of its cells.
func guess(rec []string, in *domain.ImportRow) error {
	if len(rec) > maxCells {
		return fmt.Errorf("%d cells, at most %d are read", len(rec), maxCells)
	}
	var names []string
	set := func(dst *string, what, v string) error {
		if *dst != "" {
			return fmt.Errorf("two cells look like a %s (%q and %q); add a header to say which is which", what, clipCell(*dst), clipCell(v))
		}
		*dst = v
		return nil
	}
	for _, cell := range rec {
		v := strings.TrimSpace(cell)
		var err error
		switch {
		case v == "":
		case strings.HasPrefix(v, "@") || hasPrefixFold(v, "t.me/") || hasPrefixFold(v, "https://t.me/") || hasPrefixFold(v, "http://t.me/"):
			err = set(&in.Username, "username", v)
		case digits(v):
			err = set(&in.UserID, "user id", v)
		case strings.HasPrefix(v, "+"):
			err = set(&in.Phone, "phone", v)
		default:
			names = append(names, v)
		}
		if err != nil {
			return err
		}
	}
	in.Name = strings.Join(names, " ")
	return nil
}

// header reads a first row as a header: ok if one of its cells is a known
// column name.
func header(rec []string) ([]Column, bool, error) {
	known := false
	for _, cell := range rec {
		if _, ok := knownColumns[normalizeHeader(cell)]; ok {
			known = true
		}
	}
	if !known {
		return nil, false, nil
	}
	if len(rec) > maxCells {
		return nil, false, fmt.Errorf("%d columns, at most %d are read", len(rec), maxCells)
	}
	cols := make([]Column, len(rec))
	seen := map[string]int{}
	fields, identity := 0, false
	for i, cell := range rec {
		name := normalizeHeader(cell)
		col := Column{Header: strings.TrimSpace(cell), Kind: KindField, Field: name}
		if k, ok := knownColumns[name]; ok {
			col.Kind, col.Field = k, ""
			identity = identity || k == KindUsername || k == KindUserID || k == KindPhone
			name = kindName(k)
		} else {
			if name == "" {
				return nil, false, fmt.Errorf("column %d has no name", i+1)
			}
			if !domain.ValidFieldName(name) {
				return nil, false, fmt.Errorf("column %d, %q, is not a field name (letters a-z, digits and _, starting with a letter)", i+1, clipCell(col.Header))
			}
			if fields++; fields > domain.MaxFields {
				return nil, false, fmt.Errorf("more than %d custom fields", domain.MaxFields)
			}
		}
		if j, dup := seen[name]; dup {
			return nil, false, fmt.Errorf("columns %d and %d both hold the %s", j+1, i+1, strings.ReplaceAll(name, "_", " "))
		}
		seen[name] = i
		cols[i] = col
	}
	_, full := seen["name"]
	_, firstName := seen["first_name"]
	_, lastName := seen["last_name"]
	if full && (firstName || lastName) {
		return nil, false, errors.New("give either a name column or first_name and last_name, not both")
	}
	if !identity {
		return nil, false, errors.New("no username, user_id or phone column: no row could be reached")
	}
	return cols, true, nil
}

func kindName(k Kind) string {
	return map[Kind]string{KindUsername: "username", KindUserID: "user_id", KindPhone: "phone", KindName: "name",
		KindFirstName: "first_name", KindLastName: "last_name", KindTags: "tags"}[k]
}

// normalizeHeader lower-cases a header cell and turns spaces and dashes
// into _.
func normalizeHeader(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '-' || r == '_' }), "_")
}

// looksLikeHeader says whether every cell of a row reads as a field name.
func looksLikeHeader(rec []string) bool {
	for _, c := range rec {
		if c = normalizeHeader(c); c != "" && !domain.ValidFieldName(c) {
			return false
		}
	}
	return true
}

// sniff picks the delimiter the first line that is not empty holds most
// of, outside quotes.
func sniff(data []byte) rune {
	counts := map[rune]int{}
	quoted, seen := false, false
	for _, c := range data {
		if c == '"' {
			quoted = !quoted
		}
		if quoted {
			continue
		}
		if c == '\n' && seen {
			break
		}
		seen = seen || c != '\n' && c != '\r'
		if c == '\n' {
			continue
		}
		if c == ',' || c == ';' || c == '\t' {
			counts[rune(c)]++
		}
	}
	best := ','
	for _, d := range []rune{';', '\t'} {
		if counts[d] > counts[best] {
			best = d
		}
	}
	return best
}

// badLine is the line of the first byte that is not UTF-8.
func badLine(data []byte) int {
	line := 1
	for len(data) > 0 {
		r, n := utf8.DecodeRune(data)
		if r == utf8.RuneError && n <= 1 {
			return line
		}
		if r == '\n' {
			line++
		}
		data = data[n:]
	}
	return line
}

func blank(rec []string) bool {
	for _, c := range rec {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

func clipCell(s string) string {
	if utf8.RuneCountInString(s) <= 40 {
		return s
	}
	return string([]rune(s)[:40]) + "…"
}
