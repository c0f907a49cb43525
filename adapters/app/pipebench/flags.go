package pipebench

import (
	"flag"

	"github.com/salesbot/salesbot/adapters/cli"
)

// Flags registers the options of 'salesbot bench pipeline' that fill c.
func (c *Config) Flags(fs *flag.FlagSet) {
	cli.IntRange(fs, &c.Rate, "rate", 200, 1, 100000, "messages a second (`n`)")
	cli.IntRange(fs, &c.Dialogs, "dialogs", 64, 1, 100000, "dialogs in flight at once (`n`)")
	fs.DurationVar(&c.Duration, "duration", 0, "how long to measure (`duration`, default 10s)")
	fs.BoolVar(&c.Live, "live", false, "run the whole engine on the log (it follows the log and answers) instead of calling its turn")
}
