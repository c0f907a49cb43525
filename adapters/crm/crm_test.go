package crm_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/salesbot/salesbot/adapters/crm"
	"github.com/salesbot/salesbot/adapters/crm/crmtest"
)

var errTest = errors.New("test: invalid configuration")

func TestSecretNeverPrints(t *testing.T) {
	s := crm.NewSecret("hunter2-hunter2")
	if s.Reveal() != "hunter2-hunter2" || s.Empty() || !crm.NewSecret("").Empty() {
		t.Fatalf("Reveal/Empty: %q %v", s.Reveal(), s.Empty())
	}
	b, err := json.Marshal(struct{ S crm.Secret }{s})
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	slog.New(slog.NewTextHandler(&sb, nil)).Info("x", "s", s)
	for _, out := range []string{fmt.Sprint(s), fmt.Sprintf("%v %+v %#v %s", s, s, s, s), fmt.Sprintf("%+v", struct{ S crm.Secret }{s}), string(b), sb.String()} {
		if strings.Contains(out, "hunter2") || !strings.Contains(out, "[secret]") {
			t.Errorf("the secret shows: %s", out)
		}
	}
}

func TestReadConfig(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "tok")
	if err := os.WriteFile(file, []byte("  from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	keys := []string{"name", "token", "token_file"}

	r, err := crm.ReadConfig([]byte(`{"name": " a ", "token_file": "`+file+`"}`), errTest, keys)
	if err != nil {
		t.Fatal(err)
	}
	if s, err := r.Str("name"); err != nil || s != " a " {
		t.Errorf("Str = %q, %v", s, err)
	}
	if s, err := r.Secret("token", true); err != nil || s.Reveal() != "from-file" {
		t.Errorf("Secret from the file = %v, %v", s.Reveal(), err)
	}
	if _, ok := r.Raw("token"); ok {
		t.Error("Raw of a key not given")
	}

	for _, c := range []struct{ json, key, want string }{
		{`[]`, "", "not a JSON object"},
		{`null`, "", "not a JSON object"},
		{`{"name": "a", "zzz": 1, "aaa": 2}`, "", `"aaa" is not a key: one of name, token, token_file`},
		{`{"name": 1}`, "name", `"name" is a string`},
		{`{"token": "x", "token_file": "` + file + `"}`, "token", `"token" and "token_file": give one of the two`},
		{`{"token_file": "` + filepath.Join(dir, "none") + `"}`, "token", `"token_file" cannot be read: no such file or directory`},
		{`{"token_file": "` + empty + `"}`, "token", `"token_file" names an empty file`},
		{`{}`, "token", `"token" is required (or "token_file")`},
	} {
		r, err := crm.ReadConfig([]byte(c.json), errTest, keys)
		if err == nil {
			if c.key == "name" {
				_, err = r.Str(c.key)
			} else {
				_, err = r.Secret(c.key, true)
			}
		}
		if !errors.Is(err, errTest) || err.Error() != errTest.Error()+": "+c.want {
			t.Errorf("%s: %v, want %q matching the sentinel", c.json, err, c.want)
		}
	}
	r, _ = crm.ReadConfig([]byte(`{}`), errTest, keys)
	if s, err := r.Secret("token", false); err != nil || !s.Empty() {
		t.Errorf("an optional secret not given: %v, %v", s.Reveal(), err)
	}
}

func TestLoad(t *testing.T) {
	parse := func(b []byte) (string, error) {
		if string(b) == "bad" {
			return "", fmt.Errorf("%w: %q is bad", errTest, "k")
		}
		return string(b), nil
	}
	path := filepath.Join(t.TempDir(), "c.json")
	if _, err := crm.Load(path, errTest, parse); !errors.Is(err, errTest) || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a missing file: %v", err)
	}
	if err := os.WriteFile(path, []byte("bad"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := crm.Load(path, errTest, parse); !errors.Is(err, errTest) || !strings.HasPrefix(err.Error(), path+": ") {
		t.Errorf("a bad file: %v", err)
	}
	if err := os.WriteFile(path, []byte("good"), 0o600); err != nil {
		t.Fatal(err)
	}
	if v, err := crm.Load(path, errTest, parse); err != nil || v != "good" {
		t.Errorf("Load = %q, %v", v, err)
	}
}

func TestRetryWaits(t *testing.T) {
	for v, want := range map[string]time.Duration{"3": 3 * time.Second, " 0 ": 0, "3600": time.Minute} {
		if got, ok := crm.RetryAfter(v); !ok || got != want {
			t.Errorf("RetryAfter(%q) = %v, %v; want %v", v, got, ok, want)
		}
	}
	for _, v := range []string{"", "-1", "Wed, 21 Oct 2015 07:28:00 GMT"} {
		if _, ok := crm.RetryAfter(v); ok {
			t.Errorf("RetryAfter(%q) read", v)
		}
	}
	for attempt, want := range []time.Duration{1, 2, 4, 8, 16, 32, 32, 32} {
		if got := crm.Backoff(attempt); got != want*time.Second {
			t.Errorf("Backoff(%d) = %v, want %v", attempt, got, want*time.Second)
		}
	}
}

func TestClocks(t *testing.T) {
	var _ crm.Clock = crm.RealClock{}
	var _ crm.Clock = (*crmtest.Clock)(nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := (crm.RealClock{}).Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("RealClock.Sleep after the context ended: %v", err)
	}
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	c := crmtest.NewClock(start)
	if err := c.Sleep(context.Background(), time.Second); err != nil {
		t.Fatal(err)
	}
	if err := c.Sleep(context.Background(), 2*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := c.Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("fake Sleep after the context ended: %v", err)
	}
	if !c.Now().Equal(start.Add(3*time.Second)) || fmt.Sprint(c.Slept()) != "[1s 2s]" {
		t.Errorf("Now %v, Slept %v", c.Now(), c.Slept())
	}
}

func TestPartsWithDefaults(t *testing.T) {
	p := crm.Parts{}.WithDefaults()
	if p.HTTP == nil || p.HTTP.Timeout != 30*time.Second || p.Clock != (crm.RealClock{}) || p.Logger == nil || p.Retries != 4 {
		t.Errorf("defaults: %+v", p)
	}
	h, clk, log := &http.Client{}, crmtest.NewClock(time.Time{}), slog.Default()
	p = crm.Parts{HTTP: h, Clock: clk, Logger: log, Retries: 1}.WithDefaults()
	if p.HTTP != h || p.Clock != clk || p.Logger != log || p.Retries != 1 {
		t.Errorf("given parts replaced: %+v", p)
	}
}
