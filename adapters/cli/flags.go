package cli

import (
	"flag"
	"fmt"
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
