package caldav

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseConfig(t *testing.T) {
	cal, err := ParseConfig([]byte(`{"url":"https://dav.example/maria/sales","username":"maria","password":"s3cret-pass",
		"manager":"Maria","email":"maria@acme.example","time_zone":"Europe/Moscow","days":"mon-thu","hours":"11:00-17:00",
		"length":"45m","step":"15m","buffer":"10m","notice":"1h","horizon":"7d"}`))
	if err != nil {
		t.Fatal(err)
	}
	r := cal.Booker.Rules
	if cal.Manager != "Maria" || cal.Email != "maria@acme.example" || r.TimeZone != "Europe/Moscow" || len(r.Days) != 4 ||
		r.StartMinute != 11*60 || r.EndMinute != 17*60 || r.Length != 45*time.Minute || r.Step != 15*time.Minute ||
		r.Buffer != 10*time.Minute || r.Notice != time.Hour || r.Horizon != 7*24*time.Hour {
		t.Errorf("parsed %+v rules %+v", cal, r)
	}
	if cal.Booker.Calendar.URL() != "https://dav.example/maria/sales/" || cal.Booker.Calendar.cfg.Password.Reveal() != "s3cret-pass" {
		t.Errorf("client %s", cal.Booker.Calendar.URL())
	}

	def, err := ParseConfig([]byte(`{"url":"http://127.0.0.1:5232/m/c/","manager":"M","time_zone":"UTC"}`))
	if err != nil {
		t.Fatal(err)
	}
	if r := def.Booker.Rules; len(r.Days) != 5 || r.StartMinute != 600 || r.EndMinute != 1080 || r.Length != 30*time.Minute ||
		r.Notice != 2*time.Hour || r.Horizon != 14*24*time.Hour {
		t.Errorf("defaults %+v", r)
	}
}

func TestParseConfigErrorsNameTheKey(t *testing.T) {
	pwFile := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pwFile, []byte("  from-a-file \n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cal, err := ParseConfig(fmt.Appendf(nil, `{"url":"http://h/c/","manager":"M","time_zone":"UTC","password_file":%q}`, pwFile))
	if err != nil || cal.Booker.Calendar.cfg.Password.Reveal() != "from-a-file" {
		t.Fatalf("password_file: %v", err)
	}
	base := `"url":"http://h/c/","manager":"M","time_zone":"UTC","password":"hunter2-secret"`
	for _, c := range []struct{ json, key string }{
		{`[]`, ""},
		{`{` + base + `,"colour":"red"}`, `"colour"`},
		{`{"manager":"M","time_zone":"UTC"}`, `"url"`},
		{`{"url":"http://h/c/","time_zone":"UTC"}`, `"manager"`},
		{`{"url":"http://h/c/","manager":"M"}`, `"time_zone"`},
		{`{` + base + `,"time_zone":"Mars/Base"}`, `"time_zone"`},
		{`{` + base + `,"days":"someday"}`, `"days"`},
		{`{` + base + `,"hours":"18:00-10:00"}`, `"hours"`},
		{`{` + base + `,"length":"forever"}`, `"length"`},
		{`{` + base + `,"length":30}`, `"length"`},
		{`{` + base + `,"length":"9h"}`, `"length"`},
		{`{` + base + `,"horizon":"500d"}`, `"horizon"`},
		{`{` + base + `,"email":"not an email"}`, `"email"`},
		{`{"url":"ftp://h/c/","manager":"M","time_zone":"UTC"}`, `"url"`},
		{`{"url":"http://u:p@h/c/","manager":"M","time_zone":"UTC"}`, `"url"`},
		{`{` + base + `,"password_file":"/nonexistent"}`, `"password"`},
	} {
		_, err := ParseConfig([]byte(c.json)) // a repeated key: the last wins
		if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), c.key) {
			t.Errorf("%s: %v, want ErrConfig naming %s", c.json, err, c.key)
		}
		if err != nil && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%s: the error holds the password: %v", c.json, err)
		}
	}
	if _, err := LoadConfig(filepath.Join(t.TempDir(), "missing.json")); !errors.Is(err, ErrConfig) {
		t.Errorf("a missing file: %v", err)
	}
}
