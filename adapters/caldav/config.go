package caldav

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/salesbot/salesbot/adapters/crm"
	"github.com/salesbot/salesbot/domain"
)

// ErrConfig: the calendar configuration file is unusable; the error
// names the key.
var ErrConfig = errors.New("caldav: bad calendar configuration")

// Calendar is the manager's calendar as `run --calendar-config` gives it:
// the Booker and who the meetings are with.
type Calendar struct {
	Booker *Booker
	// Manager is the manager's name as the lead sees it; Email, if set,
	// makes them the meeting's organizer; Location is where the meeting
	// takes place (a video link the company gives, a phone call, ...).
	Manager, Email, Location string
}

// configKeys are the keys a calendar configuration file may have.
var configKeys = []string{
	"url", "username", "password", "password_file", "bearer_token", "bearer_token_file",
	"manager", "email", "location", "time_zone", "days", "hours",
	"length", "step", "buffer", "notice", "horizon",
}

// LoadConfig reads a calendar configuration file (JSON; see
// docs/integrations.md#meeting-booking-caldav). Its errors match ErrConfig and
// never hold the password.
func LoadConfig(path string) (Calendar, error) {
	return crm.Load(path, ErrConfig, ParseConfig)
}

// ParseConfig reads a calendar configuration. Defaults: days mon-fri,
// hours 10:00-18:00, length 30m, step the length, buffer 0, notice 2h,
// horizon 14d.
func ParseConfig(data []byte) (Calendar, error) {
	r, err := crm.ReadConfig(data, ErrConfig, configKeys)
	if err != nil {
		return Calendar{}, err
	}
	str := func(key, def string) (string, error) {
		v, err := r.Str(key)
		if v = strings.TrimSpace(v); v == "" {
			v = def
		}
		return v, err
	}
	var cfg Config
	var cal Calendar
	var zone, days, hours string
	for _, f := range []struct {
		key, def string
		to       *string
	}{
		{"url", "", &cfg.URL}, {"username", "", &cfg.Username}, {"manager", "", &cal.Manager}, {"email", "", &cal.Email},
		{"location", "", &cal.Location}, {"time_zone", "", &zone}, {"days", "mon-fri", &days}, {"hours", "10:00-18:00", &hours},
	} {
		if *f.to, err = str(f.key, f.def); err != nil {
			return Calendar{}, err
		}
	}
	pw, err := r.Secret("password", false)
	if err != nil {
		return Calendar{}, err
	}
	tok, err := r.Secret("bearer_token", false)
	if err != nil {
		return Calendar{}, err
	}
	cfg.Password, cfg.BearerToken = NewPassword(pw.Reveal()), NewPassword(tok.Reveal())
	switch {
	case cfg.URL == "":
		return Calendar{}, r.Bad("url", "is required: the URL of the manager's calendar collection")
	case cal.Manager == "":
		return Calendar{}, r.Bad("manager", "is required: the manager's name, as the lead sees it")
	case zone == "":
		return Calendar{}, r.Bad("time_zone", "is required: the manager's IANA time zone, e.g. Europe/Moscow")
	case strings.ContainsAny(cal.Email, " \r\n\";:,<>") || (cal.Email != "" && !strings.Contains(cal.Email, "@")):
		return Calendar{}, r.Bad("email", "is not an email address")
	}
	rules := domain.SlotRules{TimeZone: zone}
	if rules.Days, err = domain.ParseWeekdays(days); err != nil {
		return Calendar{}, r.Bad("days", "%v", err)
	}
	if rules.StartMinute, rules.EndMinute, err = domain.ParseHours(hours); err != nil {
		return Calendar{}, r.Bad("hours", "%v", err)
	}
	for _, d := range []struct {
		key, def string
		to       *time.Duration
	}{
		{"length", "30m", &rules.Length}, {"step", "0", &rules.Step}, {"buffer", "0", &rules.Buffer},
		{"notice", "2h", &rules.Notice}, {"horizon", "14d", &rules.Horizon},
	} {
		if *d.to, err = duration(r, d.key, d.def); err != nil {
			return Calendar{}, err
		}
	}
	if err := rules.Validate(); err != nil {
		var de *domain.Error
		if errors.As(err, &de) && de.Field != "" {
			return Calendar{}, r.Bad(configKey(de.Field), "%s", de.Message)
		}
		return Calendar{}, r.Bad("hours", "%v", err)
	}
	loc, _ := time.LoadLocation(zone)
	cfg.Zone = loc
	client, err := New(cfg)
	if err != nil {
		return Calendar{}, r.Bad("url", "%v", err)
	}
	cal.Booker = &Booker{Calendar: client, Rules: rules}
	return cal, nil
}

// configKey is the file's key for a domain.SlotRules field.
func configKey(field string) string {
	switch field {
	case "time_zone", "days", "hours", "length", "horizon":
		return field
	}
	return "buffer"
}

// duration reads key as a duration: "30m", "2h", "1h30m", or whole days
// "14d"; def when not given.
func duration(r *crm.ConfigReader, key, def string) (time.Duration, error) {
	s, err := r.Str(key)
	if err != nil {
		var n json.Number
		if raw, ok := r.Raw(key); ok && json.Unmarshal(raw, &n) == nil {
			return 0, r.Bad(key, "is a duration in quotes, e.g. \"30m\" or \"14d\"")
		}
		return 0, err
	}
	if s = strings.TrimSpace(s); s == "" {
		s = def
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 {
			return 0, r.Bad(key, "is not a duration like \"30m\", \"2h\" or \"14d\"")
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, r.Bad(key, "is not a duration like \"30m\", \"2h\" or \"14d\"")
	}
	return d, nil
}
