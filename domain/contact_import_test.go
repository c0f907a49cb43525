package domain

import (
	"context"
	"errors"
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
		at   string // the error's Field: the one field at fault, if one is
	}{
		{"username with @", ImportRow{Username: " @Anna_K ", Name: " Anna  Karenina "}, AddContact{Username: "Anna_K", Name: "Anna Karenina"}, "", ""},
		{"username without @", ImportRow{Username: "anna_k"}, AddContact{Username: "anna_k"}, "", ""},
		{"t.me link", ImportRow{Username: "https://t.me/anna_k"}, AddContact{Username: "anna_k"}, "", ""},
		{"user id", ImportRow{UserID: " 777000 "}, AddContact{UserID: 777000}, "", ""},
		{"phone with spaces and dashes", ImportRow{Phone: "+49 (151) 1234-5678"}, AddContact{Phone: "+4915112345678"}, "", ""},
		{"all three", ImportRow{Username: "@anna_k", UserID: "5", Phone: "+1 555 0100 999"}, AddContact{Username: "anna_k", UserID: 5, Phone: "+15550100999"}, "", ""},
		{"tags split and normalised", ImportRow{Username: "anna_k", Tags: "VIP, fair-2026; berlin|vip ||"},
			AddContact{Username: "anna_k", Tags: []string{"berlin", "fair-2026", "vip"}}, "", ""},
		{"custom fields, empty ones left out", ImportRow{Username: "anna_k", Fields: []ContactField{{"company", " Acme "}, {"city", ""}}},
			AddContact{Username: "anna_k", Fields: []ContactField{{"company", "Acme"}}}, "", ""},

		{"nothing to reach", ImportRow{Name: "Anna"}, AddContact{}, "no username, user id or phone", ""},
		{"empty", ImportRow{}, AddContact{}, "no username, user id or phone", ""},
		{"username too short", ImportRow{Username: "@abcd"}, AddContact{}, `username "@abcd" is not 5 to 32`, "username"},
		{"username too long", ImportRow{Username: strings.Repeat("a", 33)}, AddContact{}, "is not 5 to 32", "username"},
		{"username with a dot", ImportRow{Username: "anna.k"}, AddContact{}, "is not 5 to 32", "username"},
		{"user id zero", ImportRow{UserID: "0"}, AddContact{}, `user id "0" is not a positive whole number`, "user_id"},
		{"user id negative", ImportRow{UserID: "-5"}, AddContact{}, "not a positive whole number", "user_id"},
		{"user id not a number", ImportRow{UserID: "12a"}, AddContact{}, "not a positive whole number", "user_id"},
		{"user id overflows", ImportRow{UserID: "99999999999999999999"}, AddContact{}, "not a positive whole number", "user_id"},
		{"phone without +", ImportRow{Phone: "4915112345678"}, AddContact{}, "is not + and 7 to 15 digits", "phone"},
		{"phone too short", ImportRow{Phone: "+12345"}, AddContact{}, "is not + and 7 to 15 digits", "phone"},
		{"phone too long", ImportRow{Phone: "+1234567890123456"}, AddContact{}, "is not + and 7 to 15 digits", "phone"},
		{"phone with letters", ImportRow{Phone: "+49 151 CALL ME"}, AddContact{}, "is not + and 7 to 15 digits", "phone"},
		{"name too long", ImportRow{Username: "anna_k", Name: long}, AddContact{}, "the name has 129 characters, at most 128", "name"},
		{"bad field name", ImportRow{Username: "anna_k", Fields: []ContactField{{"Company", "Acme"}}}, AddContact{}, `"Company" is not a field name`, "fields"},
		{"bad field name, empty cell", ImportRow{Username: "anna_k", Fields: []ContactField{{"2nd", ""}}}, AddContact{}, `"2nd" is not a field name`, "fields"},
		{"invalid UTF-8", ImportRow{Username: "anna_k", Name: "\xff"}, AddContact{}, "the name is not valid UTF-8", "name"},
		{"every problem named", ImportRow{Username: "ab", Phone: "123"}, AddContact{}, `username "ab" is not 5 to 32 letters, digits or _; phone "123"`, ""},
		{"two problems of one field", ImportRow{Username: "anna_k", Tags: strings.Repeat("x", 65) + ",\xff"}, AddContact{}, "the tags is not valid UTF-8; tag \"xxx", "tags"},
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
			if ErrorField(err) != c.at {
				t.Fatalf("error %v names field %q, want %q", err, ErrorField(err), c.at)
			}
		})
	}
}

// testKey is an index key for tests.
var testKey = NewIndexKey([]byte("0123456789abcdef0123456789abcdef"))

func TestIndexStreamNames(t *testing.T) {
	k := testKey
	if k.UsernameStream("@Anna_K") != k.UsernameStream("anna_k") || k.UsernameStream("anna_k") == k.UsernameStream("anna_j") {
		t.Fatal("username streams are not case-insensitive without @, or collide")
	}
	if k.PhoneStream("+49 151 1234-5678") != k.PhoneStream("+4915112345678") || k.PhoneStream("+4915112345678") == k.PhoneStream("+4915112345679") {
		t.Fatal("phone streams do not normalise, or collide")
	}
	acc := uuid.MustParse("0193a0c0-0000-7000-8000-0000000000a1")
	for _, s := range []string{k.UsernameStream("anna_k"), k.PhoneStream("+4915112345678"), k.UserStream(777000), k.PeerStream(acc, 777000),
		LegacyUsernameStream("anna_k"), LegacyPhoneStream("+4915112345678"), LegacyUserStream(777000), LegacyPeerStream(acc, 777000)} {
		if strings.Contains(s, "anna") || strings.Contains(s, "4915112345678") || strings.Contains(s, "777000") {
			t.Fatalf("stream name %q carries the value", s)
		}
	}
	if k.UsernameStream("anna_k") == k.UserStream(0) || k.PhoneStream("+100") == k.UsernameStream("100") {
		t.Fatal("index kinds share names")
	}
	// Keyed: the unkeyed SHA-256 a log holder can compute for a guessed
	// number is not the name, and another key names otherwise.
	other := NewIndexKey([]byte("another key, also thirty-two bytes"))
	for _, c := range []struct{ keyed, legacy, otherKey string }{
		{k.PhoneStream("+4915112345678"), LegacyPhoneStream("+4915112345678"), other.PhoneStream("+4915112345678")},
		{k.UsernameStream("anna_k"), LegacyUsernameStream("anna_k"), other.UsernameStream("anna_k")},
		{k.UserStream(777000), LegacyUserStream(777000), other.UserStream(777000)},
		{k.PeerStream(acc, 777000), LegacyPeerStream(acc, 777000), other.PeerStream(acc, 777000)},
	} {
		if c.keyed == c.legacy || c.keyed == c.otherKey || c.legacy == "" {
			t.Fatalf("keyed %q, unkeyed %q, under another key %q", c.keyed, c.legacy, c.otherKey)
		}
	}
	// The unkeyed names are those of the logs made before the key: fixed.
	if got := LegacyPhoneStream("+4915112345678"); got != "phone-"+legacyHash("phone:4915112345678") || len(got) != len("phone-")+32 {
		t.Fatalf("legacy phone stream %q", got)
	}
	// Printed, the key does not show.
	for _, f := range []string{"%v", "%+v", "%#v"} {
		if out := fmt.Sprintf(f, Handlers{Index: k}); strings.Contains(out, "0123456789abcdef") {
			t.Fatalf("%s prints the index key: %s", f, out)
		}
	}
	// No key (or a short one): no names.
	for _, none := range []IndexKey{{}, NewIndexKey([]byte("short"))} {
		if none.Valid() || none.UserStream(1) != "" || none.PhoneStream("+1555") != "" || none.UsernameStream("anna_k") != "" || none.PeerStream(acc, 1) != "" {
			t.Fatalf("an index key without a key names streams: %+v", none)
		}
	}
}

// Handlers without an index key refuse index work instead of writing
// unkeyed links.
func TestIndexNeedsAKey(t *testing.T) {
	ctx := context.Background()
	log := &memLog{}
	h := Handlers{Log: log, Now: func() time.Time { return now }}
	acc, c := uuid.New(), uuid.New()
	for name, err := range map[string]error{
		"ContactOfUser": func() error { _, _, err := h.ContactOfUser(ctx, 1); return err }(),
		"LinkUser":      func() error { _, err := h.LinkUser(ctx, 1, c); return err }(),
		"LinkUsername":  func() error { _, err := h.LinkUsername(ctx, "anna_k", c); return err }(),
		"LinkPhone":     func() error { _, err := h.LinkPhone(ctx, "+4915112345678", c); return err }(),
		"DialogOfPeer":  func() error { _, _, err := h.DialogOfPeer(ctx, acc, 1); return err }(),
		"LinkPeer":      h.LinkPeer(ctx, 1, 0, PeerLinked{AccountID: acc, DialogID: uuid.New(), ContactID: c}),
		"PeerVersion":   func() error { _, err := h.PeerVersion(ctx, acc, 1); return err }(),
	} {
		if !errors.Is(err, ErrNoIndexKey) {
			t.Errorf("%s without a key: %v", name, err)
		}
	}
	if len(log.streams) != 0 {
		t.Fatalf("written without a key: %v", log.streams)
	}
}

// A log made before the index was keyed has its links under the unkeyed
// names: lookups still find them (an erased person stays on the
// do-not-contact list), a link never overrides them, and new links are
// written under the keyed names only.
func TestIndexReadsLegacyLinks(t *testing.T) {
	ctx := context.Background()
	log := &memLog{}
	h := Handlers{Log: log, Now: func() time.Time { return now }, Index: testKey}
	old, fresh := uuid.New(), uuid.New()
	for stream, ev := range map[string]Event{
		LegacyUserStream(501):               UserLinked{ContactID: old},
		LegacyUsernameStream("anna_k"):      UsernameLinked{ContactID: old},
		LegacyPhoneStream("+4915112345678"): PhoneLinked{ContactID: old},
	} {
		if err := log.Append(ctx, stream, 0, "", []Event{ev}); err != nil {
			t.Fatal(err)
		}
	}
	for name, of := range map[string]func() (uuid.UUID, bool, error){
		"user":     func() (uuid.UUID, bool, error) { return h.ContactOfUser(ctx, 501) },
		"username": func() (uuid.UUID, bool, error) { return h.ContactOfUsername(ctx, "@Anna_K") },
		"phone":    func() (uuid.UUID, bool, error) { return h.ContactOfPhone(ctx, "+49 151 1234 5678") },
	} {
		if id, found, err := of(); err != nil || !found || id != old {
			t.Errorf("%s: the legacy link is not found: %s %v %v", name, id, found, err)
		}
	}
	for name, link := range map[string]func() (uuid.UUID, error){
		"user":     func() (uuid.UUID, error) { return h.LinkUser(ctx, 501, fresh) },
		"username": func() (uuid.UUID, error) { return h.LinkUsername(ctx, "anna_k", fresh) },
		"phone":    func() (uuid.UUID, error) { return h.LinkPhone(ctx, "+4915112345678", fresh) },
	} {
		if id, err := link(); err != nil || id != old {
			t.Errorf("%s: a new link overrode the legacy one: %s %v", name, id, err)
		}
	}
	for _, s := range []string{testKey.UserStream(501), testKey.UsernameStream("anna_k"), testKey.PhoneStream("+4915112345678")} {
		if v, _ := log.Version(ctx, s); v != 0 {
			t.Fatalf("a keyed link was written next to a legacy one: %s", s)
		}
	}
	// Someone new is linked under the keyed name only.
	if id, err := h.LinkUsername(ctx, "boris_b", fresh); err != nil || id != fresh {
		t.Fatalf("link boris: %s %v", id, err)
	}
	if v, _ := log.Version(ctx, testKey.UsernameStream("boris_b")); v != 1 {
		t.Fatal("the new link is not under the keyed name")
	}
	if v, _ := log.Version(ctx, LegacyUsernameStream("boris_b")); v != 0 {
		t.Fatal("a new link was written under the unkeyed name")
	}

	// The dialog index: the legacy link is the current dialog until a new
	// one is linked, under the keyed name.
	acc, d1, d2 := uuid.New(), uuid.New(), uuid.New()
	if err := log.Append(ctx, LegacyPeerStream(acc, 501), 0, "", []Event{PeerLinked{AccountID: acc, DialogID: d1, ContactID: old}}); err != nil {
		t.Fatal(err)
	}
	if l, found, err := h.DialogOfPeer(ctx, acc, 501); err != nil || !found || l.DialogID != d1 {
		t.Fatalf("the legacy dialog link: %+v %v %v", l, found, err)
	}
	v, err := h.PeerVersion(ctx, acc, 501)
	if err != nil || v != 0 {
		t.Fatalf("peer version %d %v: want the keyed stream's, 0", v, err)
	}
	if err := h.LinkPeer(ctx, 501, v, PeerLinked{AccountID: acc, DialogID: d2, ContactID: old}); err != nil {
		t.Fatal(err)
	}
	if l, found, err := h.DialogOfPeer(ctx, acc, 501); err != nil || !found || l.DialogID != d2 {
		t.Fatalf("after a new link: %+v %v %v", l, found, err)
	}
	if v, _ := log.Version(ctx, LegacyPeerStream(acc, 501)); v != 1 {
		t.Fatal("the legacy dialog index was written to")
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
	h := Handlers{Log: &memLog{}, Now: func() time.Time { return now }, Index: testKey}
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
