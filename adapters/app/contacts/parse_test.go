package contacts_test

import (
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/salesbot/salesbot/adapters/app/contacts"
	"github.com/salesbot/salesbot/domain"
)

func parse(t *testing.T, in string) *contacts.File {
	t.Helper()
	f, err := contacts.Parse(strings.NewReader(in))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return f
}

// rows renders a file's rows as "line: contact" or "line: error".
func rows(f *contacts.File) []string {
	var out []string
	for _, r := range f.Rows {
		if r.Err != nil {
			out = append(out, itoa(r.Line)+": ERR "+r.Err.Error())
			continue
		}
		c := r.Contact
		s := itoa(r.Line) + ":"
		if c.Username != "" {
			s += " @" + c.Username
		}
		if c.UserID != 0 {
			s += " id=" + itoa(int(c.UserID))
		}
		if c.Phone != "" {
			s += " " + c.Phone
		}
		if c.Name != "" {
			s += " name=" + c.Name
		}
		if len(c.Tags) > 0 {
			s += " tags=" + strings.Join(c.Tags, ",")
		}
		for _, fl := range c.Fields {
			s += " " + fl.Name + "=" + fl.Value
		}
		out = append(out, s)
	}
	return out
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestParse(t *testing.T) {
	cases := []struct {
		name  string
		in    string
		delim rune
		bom   bool
		cols  []string // the headers, nil = no header
		want  []string
	}{
		{"BOM, semicolons, header, CRLF",
			"\xef\xbb\xbfUsername;Phone;First Name;Last-Name;Tags;Company\r\n" +
				"@anna_k;+49 151 1234-5678;Anna;Karenina;VIP, fair|Berlin;Acme GmbH\r\n" +
				"boris_b;;Boris;;;\r\n",
			';', true, []string{"Username", "Phone", "First Name", "Last-Name", "Tags", "Company"},
			[]string{"2: @anna_k +4915112345678 name=Anna Karenina tags=berlin,fair,vip company=Acme GmbH", "3: @boris_b name=Boris"}},
		{"commas, quotes with delimiters, quotes and a newline inside",
			"name,user_id,notes\n\"Karenina, Anna\",777000,\"said \"\"call me\"\"\nin May\"\n",
			',', false, []string{"name", "user_id", "notes"},
			[]string{"2: id=777000 name=Karenina, Anna notes=said \"call me\"\nin May"}},
		{"tabs", "telegram_id\tname\n5\tEve\n6\tMallory\n", '\t', false, []string{"telegram_id", "name"},
			[]string{"2: id=5 name=Eve", "3: id=6 name=Mallory"}},
		{"tg_id alias and blank lines skipped", "tg_id,phone\n\n1,\n,,\n,+1 555 010 0999\n", ',', false, []string{"tg_id", "phone"},
			[]string{"3: id=1", "5: +15550100999"}},
		{"no header: guessed per row",
			"@anna_k;Anna;Karenina\n+49 151 12345678;Boris\n777000;\"Eve\"\nt.me/mallory_m\n",
			';', false, nil,
			[]string{"1: @anna_k name=Anna Karenina", "2: +4915112345678 name=Boris", "3: id=777000 name=Eve", "4: @mallory_m"}},
		{"bad rows keep their line and reason",
			"username,phone,name\nanna_k,,Anna\nab,,Short\n,123,Nobody\n,,Only a name\nboris_b,+4915112345678,Boris,extra\n",
			',', false, []string{"username", "phone", "name"},
			[]string{"2: @anna_k name=Anna",
				`3: ERR username "ab" is not 5 to 32 letters, digits or _`,
				`4: ERR phone "123" is not + and 7 to 15 digits (with the country code)`,
				"5: ERR no username, user id or phone: a contact needs one",
				"6: ERR 4 cells, but the header has 3 columns"}},
		{"no header, two usernames", "@anna_k,@boris_b\n", ',', false, nil,
			[]string{`1: ERR two cells look like a username ("@anna_k" and "@boris_b"); add a header to say which is which`}},
		{"no header, a header of unknown names is a rejected row with a hint", "company,city\nacme,berlin\n", ',', false, nil,
			[]string{"1: ERR no username, user id or phone: a contact needs one (if this is a header, name a username, user_id or phone column)",
				"2: ERR no username, user id or phone: a contact needs one"}},
		{"fewer cells than columns", "username,name,tags\nanna_k\n", ',', false, []string{"username", "name", "tags"}, []string{"2: @anna_k"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := parse(t, c.in)
			if f.Delimiter != c.delim || f.BOM != c.bom {
				t.Errorf("delimiter %q, BOM %v; want %q, %v", f.Delimiter, f.BOM, c.delim, c.bom)
			}
			var cols []string
			for _, col := range f.Columns {
				cols = append(cols, col.Header)
			}
			if !reflect.DeepEqual(cols, c.cols) {
				t.Errorf("columns %q, want %q", cols, c.cols)
			}
			if got := rows(f); !reflect.DeepEqual(got, c.want) {
				t.Errorf("rows\n got %q\nwant %q", got, c.want)
			}
		})
	}
}

func TestParseRejectsTheFile(t *testing.T) {
	cases := []struct {
		name string
		in   string
		is   error
		want string
	}{
		{"bare quote", "username,name\nanna_k,Anna\nboris_b,Bo\"ris\n", contacts.ErrSyntax, `line 3, column 11: bare " in non-quoted-field`},
		{"quote never closed", "username,name\nanna_k,\"Anna\nboris_b,Boris\n", contacts.ErrSyntax, "in the row that starts on line 2"},
		{"not UTF-8", "username,name\nanna_k,Anna\nboris_b,\xc1\xee\xf0\xe8\xf1\n", contacts.ErrEncoding, "line 3 holds bytes that are not UTF-8"},
		{"empty", "", contacts.ErrEmpty, "no rows"},
		{"only blank lines", "\n\n;;\r\n\t\n", contacts.ErrEmpty, "no rows"},
		{"only a header", "username,name\r\n", contacts.ErrEmpty, "only a header"},
		{"no identity column", "name,tags\nAnna,vip\n", contacts.ErrHeader, "no username, user_id or phone column"},
		{"a column twice", "phone,name,Phone\n", contacts.ErrHeader, "columns 1 and 3 both hold the phone"},
		{"two aliases of one column", "tg_id,telegram_id\n", contacts.ErrHeader, "columns 1 and 2 both hold the user id"},
		{"a bad field name", "username,Größe\n", contacts.ErrHeader, `column 2, "Größe", is not a field name`},
		{"a column without a name", "username,,name\n", contacts.ErrHeader, "column 2 has no name"},
		{"name and first_name", "username,name,first_name\n", contacts.ErrHeader, "either a name column or first_name and last_name"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := contacts.Parse(strings.NewReader(c.in))
			if !errors.Is(err, c.is) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v; want %v with %q", err, c.is, c.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("the error is more than one line: %q", err)
			}
			// A *FileError: the problem (one of the sentinels only) and
			// where, readable without the package's name.
			var fe *contacts.FileError
			if !errors.As(err, &fe) || fe.Problem != c.is || !strings.HasPrefix(fe.Reason(), string(fe.Problem)) ||
				!strings.Contains(fe.Reason(), c.want) || err.Error() != "contacts: "+fe.Reason() {
				t.Fatalf("error %v is not a *FileError of %v", err, c.is)
			}
			for _, other := range []error{contacts.ErrEncoding, contacts.ErrSyntax, contacts.ErrHeader, contacts.ErrEmpty, contacts.ErrTooLarge, contacts.ErrTooManyErrors} {
				if other != c.is && errors.Is(err, other) {
					t.Fatalf("error %v also matches %v", err, other)
				}
			}
		})
	}
}

func TestParseBounds(t *testing.T) {
	var b strings.Builder
	b.WriteString("username")
	for i := range domain.MaxFields + 1 {
		b.WriteString(",f" + itoa(i))
	}
	if _, err := contacts.Parse(strings.NewReader(b.String() + "\n")); !errors.Is(err, contacts.ErrHeader) {
		t.Fatalf("too many fields: %v", err)
	}
	if _, err := contacts.Parse(strings.NewReader(strings.Repeat("x", contacts.MaxFileSize+1))); !errors.Is(err, contacts.ErrTooLarge) {
		t.Fatalf("too large: %v", err)
	}
}

// A CRM's own "id" column is not a Telegram user id: it stays a custom
// field, so two files numbering their rows from 1 never merge strangers.
func TestAnIDColumnIsACustomField(t *testing.T) {
	f, err := contacts.Parse(strings.NewReader("id,username,name\n1,@ivan_one,Ivan\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Columns) != 3 || f.Columns[0].Kind != contacts.KindField || f.Columns[0].Field != "id" {
		t.Fatalf("columns %+v: want id as a custom field", f.Columns)
	}
	if r := f.Rows[0]; r.Err != nil || r.Contact.UserID != 0 || r.Contact.Username != "ivan_one" {
		t.Fatalf("row %+v", r)
	}
}

// Lines that end with CR alone (old Mac exports) read as lines.
func TestCROnlyLineEnds(t *testing.T) {
	f, err := contacts.Parse(strings.NewReader("username,name\r@carl_one,Carl\r@dora_two,Dora\r"))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Rows) != 2 || f.Rows[1].Err != nil || f.Rows[1].Contact.Username != "dora_two" || f.Rows[1].Contact.Name != "Dora" {
		t.Fatalf("rows %+v", f.Rows)
	}
}
