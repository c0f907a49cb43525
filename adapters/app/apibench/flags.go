package apibench

import (
	"flag"
	"math"

	"github.com/salesbot/salesbot/adapters/cli"
)

// Flags registers the options of 'salesbot bench api' that fill c.
func (c *Config) Flags(fs *flag.FlagSet) {
	cli.IntRange(fs, &c.Dialogs, "dialogs", 100000, 1, math.MaxInt32, "dialogs to seed (`n`)")
	cli.IntRange(fs, &c.Rate, "rate", 200, 1, 100000, "requests a second (`n`)")
	cli.IntRange(fs, &c.Concurrency, "concurrency", 32, 1, 10000, "connections at most (`n`)")
	fs.DurationVar(&c.Duration, "duration", 0, "how long to measure (`duration`, default 30s)")
	fs.Uint64Var(&c.Seed, "seed", 1, "seed of the data and the requests drawn (`n`)")
	fs.BoolVar(&c.Keep, "keep", false, "keep the seeded schema (its name is printed)")
}
