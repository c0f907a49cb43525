package scenario

import _ "embed"

// Example is a complete scenario for a fictional company, Acme Analytics,
// in English and Russian: a starting point for a company's own file and
// the scenario of the tests and the demo.
//
//go:embed example.yaml
var Example []byte

// Default parses Example. Its error is nil unless the embedded file is
// broken (a test guarantees it is not); each call returns a new Scenario.
func Default() (*Scenario, error) {
	return Parse(Example)
}
