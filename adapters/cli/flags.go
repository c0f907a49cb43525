package cli

import (
	"cmp"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"strconv"
)

// intRange is an int flag whose value must lie in min..max.
type intRange struct {
	p        *int
	min, max int
}

func (r *intRange) String() string {
	if r == nil || r.p == nil {
		return "0"
	}
	return strconv.Itoa(*r.p)
}

func (r *intRange) Set(v string) error {
	n, err := strconv.Atoi(v)
	switch {
	case err != nil:
		return fmt.Errorf("%q is not a whole number", v)
	case n < r.min && r.max == math.MaxInt:
		return fmt.Errorf("must be at least %d, got %d", r.min, n)
	case n < r.min || n > r.max:
		return fmt.Errorf("must be %d..%d, got %d", r.min, r.max, n)
	}
	*r.p = n
	return nil
}

// IntRange registers the int flag name with default def; a value
// outside min..max (max math.MaxInt: no upper bound) is a usage error
// naming the flag and the range. Help shows it as an int.
func IntRange(fs *flag.FlagSet, p *int, name string, def, min, max int, usage string) {
	*p = def
	fs.Var(&intRange{p: p, min: min, max: max}, name, usage)
}

// LogOptions are the logs' format and level (--log-format, --log-level).
type LogOptions struct {
	Format, Level string
	level         slog.Level
}

// Register registers the options on fs, their defaults from getenv
// (SALESBOT_LOG_FORMAT, SALESBOT_LOG_LEVEL).
func (o *LogOptions) Register(fs *flag.FlagSet, getenv func(string) string) {
	o.Format, o.Level = cmp.Or(getenv("SALESBOT_LOG_FORMAT"), "text"), cmp.Or(getenv("SALESBOT_LOG_LEVEL"), "info")
	fs.StringVar(&o.Format, "log-format", o.Format, "logs as `text` or json, on standard error [SALESBOT_LOG_FORMAT]")
	fs.StringVar(&o.Level, "log-level", o.Level, "the least `level` logged: debug, info, warn or error (no personal data at info and above) [SALESBOT_LOG_LEVEL]")
}

// Validate checks the options, naming the one at fault.
func (o *LogOptions) Validate() error {
	if err := o.level.UnmarshalText([]byte(o.Level)); err != nil {
		return Usagef("--log-level (SALESBOT_LOG_LEVEL): %q is none of debug, info, warn, error", o.Level)
	}
	if o.Format != "text" && o.Format != "json" {
		return Usagef("--log-format (SALESBOT_LOG_FORMAT): %q is neither text nor json", o.Format)
	}
	return nil
}

// Logger is the logger the options ask for, writing to w; call Validate
// first.
func (o *LogOptions) Logger(w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: o.level}
	if o.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
