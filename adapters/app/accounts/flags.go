package accounts

import (
	"flag"
	"fmt"

	"github.com/salesbot/salesbot/adapters/cli"
	"github.com/salesbot/salesbot/domain"
)

// LimitsFlags are an account's limits on the command line ('accounts
// add').
type LimitsFlags struct{ domain.LimitsText }

// Register registers the limits' options on fs, with the domain's
// defaults.
func (l *LimitsFlags) Register(fs *flag.FlagSet) {
	d := domain.DefaultLimits()
	fs.StringVar(&l.TimeZone, "tz", d.TimeZone, "the account's `time zone` for working hours and daily caps (e.g. Europe/Berlin)")
	fs.StringVar(&l.Hours, "hours", fmt.Sprintf("%02d:%02d-%02d:%02d", d.StartMinute/60, d.StartMinute%60, d.EndMinute/60, d.EndMinute%60), "working `hours` HH:MM-HH:MM, local time")
	fs.StringVar(&l.Days, "days", "mon-fri", "working `days`: mon-fri, all, or a list like mon,tue,thu")
	fs.IntVar(&l.DailyNewDialogs, "daily-cap", d.DailyNewDialogs, "new dialogs per day at most (`n`); 0 = no cap")
	fs.IntVar(&l.MessagesPerMinute, "per-minute", d.MessagesPerMinute, "outbound messages per minute at most (`n`); 0 = no cap")
	fs.DurationVar(&l.MinDelay, "min-delay", d.MinDelay, "least `time` between two outbound messages")
	fs.StringVar(&l.Ramp, "ramp", "3,5,8,12,16", "daily caps on the first days of a new account (`list`); empty = none")
}

// limitsFlag is the flag of each field domain.NewLimits names.
var limitsFlag = map[string]string{"time_zone": "--tz", "hours": "--hours", "days": "--days", "ramp": "--ramp"}

// Limits reads the options (domain.NewLimits); an error is a usage error
// naming the option at fault.
func (l *LimitsFlags) Limits() (domain.Limits, error) {
	out, err := domain.NewLimits(l.LimitsText)
	if flag, ok := limitsFlag[domain.ErrorField(err)]; ok {
		return out, cli.Usagef("%s: %v", flag, err)
	} else if err != nil {
		return out, cli.Usagef("%v", err)
	}
	return out, nil
}
