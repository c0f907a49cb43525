package domain

import (
	"go/build"
	"slices"
	"testing"
)

// The zone database is part of the domain package itself (not only of
// some binary that happens to import time/tzdata): without zone files on
// the machine, LoadLocation would fail and working hours fall back to UTC.
func TestZoneDatabaseIsBuiltIn(t *testing.T) {
	pkg, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(pkg.Imports, "time/tzdata") {
		t.Fatalf("package domain does not import time/tzdata; it imports %v", pkg.Imports)
	}
}
