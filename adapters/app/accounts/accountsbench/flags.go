package accountsbench

import (
	"flag"
	"math"
	"runtime"

	"github.com/salesbot/salesbot/adapters/cli"
)

// Flags registers the options of 'salesbot bench accounts' that fill c.
func (c *Config) Flags(fs *flag.FlagSet) {
	cli.IntRange(fs, &c.Accounts, "accounts", 100, 1, 100000, "connected accounts (`n`)")
	cli.IntRange(fs, &c.Messages, "messages", 0, 0, math.MaxInt, "inbound messages to exchange (`n`; default 5 per account)")
	cli.IntRange(fs, &c.Parallel, "parallel", 2*runtime.GOMAXPROCS(0), 1, math.MaxInt, "sign-ins and senders at once (`n`)")
	fs.Float64Var(&c.Rate, "rate", 200, "inbound messages per second across all accounts (`n`); 0 = as fast as possible")
}
