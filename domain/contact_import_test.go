package domain

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
)

func TestValidateImportRow(t *testing.T) {
	long := strings.Repeat("я", 129)
	cases := []struct {
		name string
		row  ImportRow
		want AddContact
		err  string // a part of the error; "" = valid
	}{
		{"username with @", ImportRow{Username: " @Anna_K ", Name: " Anna  Karenina "}, AddContact{Username: "Anna_K", Name: "Anna Karenina"}, ""},
		{"username without @", ImportRow{Username: "anna_k"}, AddContact{Username: "anna_k"}, ""},
		{"t.me link", ImportRow{Username: "https://t.me/anna_k"}, AddContact{Username: "anna_k"}, ""},
		{"user id", ImportRow{UserID: " 777000 "}, AddContact{UserID: 777000}, ""},
		{"phone with spaces and dashes", ImportRow{Phone: "+49 (151) 1234-5678"}, AddContact{Phone: "+4915112345678"}, ""},
		{"all three", ImportRow{Username: "@anna_k", UserID: "5", Phone: "+1 555 0100 999"}, AddContact{Username: "anna_k", UserID: 5, Phone: "+15550100999"}, ""},
		{"tags split and normalised", ImportRow{Username: "anna_k", Tags: "VIP, fair-2026; berlin|vip ||"},
			AddContact{Username: "anna_k", Tags: []string{"berlin", "fair-2026", "vip"}}, ""},
		{"custom fields, empty ones left out", ImportRow{Username: "anna_k", Fields: []ContactField{{"company", " Acme "}, {"city", ""}}},
			AddContact{Username: "anna_k", Fields: []ContactField{{"company", "Acme"}}}, ""},

		{"nothing to reach", ImportRow{Name: "Anna"}, AddContact{}, "no username, user id or phone"},
		{"empty", ImportRow{}, AddContact{}, "no username, user id or phone"},
		{"username too short", ImportRow{Username: "@abcd"}, AddContact{}, `username "@abcd" is not 5 to 32`},
		{"username too long", ImportRow{Username: strings.Repeat("a", 33)}, AddContact{}, "is not 5 to 32"},
		{"username with a dot", ImportRow{Username: "anna.k"}, AddContact{}, "is not 5 to 32"},
		{"user id zero", ImportRow{UserID: "0"}, AddContact{}, `user id "0" is not a positive whole number`},
		{"user id negative", ImportRow{UserID: "-5"}, AddContact{}, "not a positive whole number"},
		{"user id not a number", ImportRow{UserID: "12a"}, AddContact{}, "not a positive whole number"},
		{"user id overflows", ImportRow{UserID: "99999999999999999999"}, AddContact{}, "not a positive whole number"},
		{"phone without +", ImportRow{Phone: "4915112345678"}, AddContact{}, "is not + and 7 to 15 digits"},
		{"phone too short", ImportRow{Phone: "+12345"}, AddContact{}, "is not + and 7 to 15 digits"},
		{"phone too long", ImportRow{Phone: "+1234567890123456"}, AddContact{}, "is not + and 7 to 15 digits"},
		{"phone with letters", ImportRow{Phone: "+49 151 CALL ME"}, AddContact{}, "is not + and 7 to 15 digits"},
		{"name too long", ImportRow{Username: "anna_k", Name: long}, AddContact{}, "the name has 129 characters, at most 128"},
		{"bad field name", ImportRow{Username: "anna_k", Fields: []ContactField{{"Company", "Acme"}}}, AddContact{}, `"Company" is not a field name`},
		{"bad field name, empty cell", ImportRow{Username: "anna_k", Fields: []ContactField{{"2nd", ""}}}, AddContact{}, `"2nd" is not a field name`},
		{"invalid UTF-8", ImportRow{Username: "anna_k", Name: "\xff"}, AddContact{}, "the name is not valid UTF-8"},
		{"every problem named", ImportRow{Username: "ab", Phone: "123"}, AddContact{}, `username "ab" is not 5 to 32 letters, digits or _; phone "123"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ValidateImportRow(c.row)
			if c.err == "" {
				if err != nil || !reflect.DeepEqual(got, c.want) {
					t.Fatalf("got %+v, %v; want %+v", got, err, c.want)
				}
				return
			}
			if ErrorCode(err) != EINVALID || !strings.Contains(err.Error(), c.err) {
				t.Fatalf("error %v (code %q), want EINVALID with %q", err, ErrorCode(err), c.err)
			}
		})
	}
}

func TestIndexStreamNames(t *testing.T) {
	if UsernameStream("@Anna_K") != UsernameStream("anna_k") || UsernameStream("anna_k") == UsernameStream("anna_j") {
		t.Fatal("username streams are not case-insensitive without @, or collide")
	}
	if PhoneStream("+49 151 1234-5678") != PhoneStream("+4915112345678") || PhoneStream("+4915112345678") == PhoneStream("+4915112345679") {
		t.Fatal("phone streams do not normalise, or collide")
	}
	for _, s := range []string{UsernameStream("anna_k"), PhoneStream("+4915112345678"), UserStream(777000)} {
		if strings.Contains(s, "anna") || strings.Contains(s, "4915112345678") || strings.Contains(s, "777000") {
			t.Fatalf("stream name %q carries the value", s)
		}
	}
	if UsernameStream("anna_k") == UserStream(0) || PhoneStream("+100") == UsernameStream("100") {
		t.Fatal("index kinds share names")
	}
}

// memLog is an EventLog in memory for handler tests.
type memLog struct {
	mu      sync.Mutex
	streams map[string][]Event
}

func (l *memLog) Load(ctx context.Context, stream string) ([]Event, uint64, error) {
	return l.LoadFrom(ctx, stream, 1)
}

func (l *memLog) LoadFrom(_ context.Context, stream string, from uint64) ([]Event, uint64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	evs := l.streams[stream]
	return append([]Event(nil), evs[min(max(from, 1)-1, uint64(len(evs))):]...), uint64(len(evs)), nil
}

func (l *memLog) Version(_ context.Context, stream string) (uint64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return uint64(len(l.streams[stream])), nil
}

func (l *memLog) Append(_ context.Context, stream string, expected uint64, _ string, events []Event) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.streams == nil {
		l.streams = map[string][]Event{}
	}
	if uint64(len(l.streams[stream])) != expected {
		return fmt.Errorf("stream %s at %d, not %d: %w", stream, len(l.streams[stream]), expected, ErrConflict)
	}
	l.streams[stream] = append(l.streams[stream], events...)
	return nil
}

func TestIndexLinksFirstWriterWins(t *testing.T) {
	ctx := context.Background()
	h := Handlers{Log: &memLog{}, Now: func() time.Time { return now }}
	a, b := uuid.MustParse("0193a0c0-0000-7000-8000-0000000000c1"), uuid.MustParse("0193a0c0-0000-7000-8000-0000000000c2")
	type index struct {
		name string
		of   func() (uuid.UUID, bool, error)
		link func(uuid.UUID) (uuid.UUID, error)
	}
	for _, ix := range []index{
		{"user", func() (uuid.UUID, bool, error) { return h.ContactOfUser(ctx, 42) }, func(c uuid.UUID) (uuid.UUID, error) { return h.LinkUser(ctx, 42, c) }},
		{"username", func() (uuid.UUID, bool, error) { return h.ContactOfUsername(ctx, "Anna_K") },
			func(c uuid.UUID) (uuid.UUID, error) { return h.LinkUsername(ctx, "@anna_k", c) }},
		{"phone", func() (uuid.UUID, bool, error) { return h.ContactOfPhone(ctx, "+49 151 12345678") },
			func(c uuid.UUID) (uuid.UUID, error) { return h.LinkPhone(ctx, "+4915112345678", c) }},
	} {
		t.Run(ix.name, func(t *testing.T) {
			if _, found, err := ix.of(); found || err != nil {
				t.Fatalf("found before linking: %v %v", found, err)
			}
			// Many writers at once: all agree on one contact.
			var wg sync.WaitGroup
			got := make([]uuid.UUID, 8)
			for i := range got {
				wg.Add(1)
				go func() {
					defer wg.Done()
					c := a
					if i%2 == 1 {
						c = b
					}
					var err error
					if got[i], err = ix.link(c); err != nil {
						t.Error(err)
					}
				}()
			}
			wg.Wait()
			id, found, err := ix.of()
			if !found || err != nil {
				t.Fatalf("not found after linking: %v", err)
			}
			for _, g := range got {
				if g != id {
					t.Fatalf("writers disagree: %v, index says %s", got, id)
				}
			}
			if again, err := ix.link(b); err != nil || again != id {
				t.Fatalf("a later link moved the index: %s %v", again, err)
			}
		})
	}
	if _, _, err := h.ContactOfUsername(ctx, "@"); ErrorCode(err) != EINVALID {
		t.Fatalf("empty username: %v", err)
	}
	if _, err := h.LinkPhone(ctx, "+", a); ErrorCode(err) != EINVALID {
		t.Fatalf("empty phone: %v", err)
	}
}
