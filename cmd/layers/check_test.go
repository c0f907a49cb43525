package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const mod = "example.com/m"

// pkg is a package of the test module with its imports: paths inside
// the module, of the standard library (isStd) or of another module (a
// dot in the first element).
func pkg(path string, imports ...string) Package {
	p := Package{ImportPath: mod + "/" + path, Module: &struct{ Path string }{mod}}
	for _, i := range imports {
		if isStd(i) || strings.Contains(strings.Split(i, "/")[0], ".") {
			p.Imports = append(p.Imports, i)
		} else {
			p.Imports = append(p.Imports, mod+"/"+i)
		}
	}
	return p
}

// isStd says whether a path in these tests is of the standard library.
func isStd(path string) bool {
	switch strings.Split(path, "/")[0] {
	case "os", "net", "time", "fmt", "database", "log", "io", "syscall", "path":
		return true
	}
	return false
}

// Each case is a tree with one violation (or none) of the real rules.
func TestCheckFindsViolations(t *testing.T) {
	withTests := func(p Package, imports ...string) Package {
		for _, i := range imports {
			p.XTestImports = append(p.XTestImports, mod+"/"+i)
		}
		return p
	}
	withDeps := func(p Package, deps ...string) Package { p.Deps = deps; return p }
	cases := []struct {
		name string
		pkgs []Package
		want string // a part of the one problem; "" = none
	}{
		{"the layers in order", []Package{
			pkg("domain"), pkg("eventstore", "domain"), pkg("projections", "eventstore", "domain"),
			pkg("adapters/adminbot", "projections", "adapters/telegram", "domain"),
			pkg("adapters/app/accounts", "adapters/app/contacts", "adapters/telegram", "eventstore"),
			pkg("cmd/salesbot", "adapters/app/accounts", "adapters/adminbot"),
		}, ""},
		{"the running system composes the application services", []Package{
			pkg("adapters/app/system", "adapters/app/accounts", "adapters/adminbot"), pkg("adapters/app/accounts"),
			pkg("cmd/salesbot", "adapters/app/system"),
		}, ""},
		{"an application service imports the running system", []Package{
			pkg("adapters/app/demo", "adapters/app/system"), pkg("adapters/app/system"),
		}, "adapters/app/demo: imports adapters/app/system: an application service never imports the running system"},
		{"the running system imports cmd", []Package{
			pkg("adapters/app/system", "cmd/salesbot"), pkg("cmd/salesbot"),
		}, "imports upward (system → cmd)"},
		{"an edge imports an application service", []Package{
			pkg("adapters/adminbot", "adapters/app/accounts"), pkg("adapters/app/accounts"),
		}, "adapters/adminbot: imports adapters/app/accounts: an edge never imports an application service"},
		{"the log imports an edge", []Package{
			pkg("eventstore", "projections"), pkg("projections"),
		}, "eventstore: imports projections: imports upward (eventstore → edge)"},
		{"the domain imports an adapter", []Package{
			pkg("domain", "adapters/eventlog"), pkg("adapters/eventlog"),
		}, "domain: imports adapters/eventlog: domain imports no adapter"},
		{"an application service imports cmd", []Package{
			pkg("adapters/app/engine", "cmd/salesbot"), pkg("cmd/salesbot"),
		}, "imports upward (app → cmd)"},
		{"the domain imports net/http", []Package{
			pkg("domain/scenario", "net/http"),
		}, "domain/scenario: imports net/http: domain does no I/O"},
		{"the domain opens files", []Package{
			pkg("domain", "os"),
		}, "domain: imports os: domain does no I/O"},
		{"the domain depends on pebble through another module", []Package{
			withDeps(pkg("domain", "example.org/helper"), "example.org/helper", "github.com/cockroachdb/pebble/v2"),
		}, "domain: depends on github.com/cockroachdb/pebble/v2"},
		{"a package in no layer", []Package{
			pkg("adapters/http"),
		}, "adapters/http: is in no layer"},
		{"a test imports upward", []Package{
			withTests(pkg("adapters/llm"), "adapters/app/engine"), pkg("adapters/app/engine"),
		}, "adapters/llm: tests import adapters/app/engine"},
		{"a test imports upward as testUpward allows", []Package{
			withTests(pkg("adapters/adminbot"), "adapters/app/contacts"), pkg("adapters/app/contacts"),
		}, ""},
		{"a test of the domain imports os (allowed)", []Package{
			withTests(pkg("domain")), {ImportPath: mod + "/domain", Module: &struct{ Path string }{mod}, TestImports: []string{"os"}},
		}, ""},
		{"packages of other modules are not checked", []Package{
			{ImportPath: "example.org/other", Imports: []string{"example.org/other/x"}},
		}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := defaultRules.check(mod, c.pkgs)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case c.want == "" && len(got) > 0:
				t.Fatalf("want no problem, got %q", got)
			case c.want != "" && len(got) != 1:
				t.Fatalf("want one problem with %q, got %q", c.want, got)
			case c.want != "" && !strings.Contains(got[0], c.want):
				t.Fatalf("got %q; want it to say %q", got[0], c.want)
			}
		})
	}
}

func TestCheckFindsTheClock(t *testing.T) {
	dir := t.TempDir()
	write := func(name, src string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("ok.go", "package domain\n\nimport \"time\"\n\nfunc Open(now time.Time) time.Time { return now.Add(time.Hour) }\n")
	write("clock.go", "package domain\n\nimport clock \"time\"\n\nvar when = clock.Now\n\nfunc wait() { <-clock.After(clock.Second) }\n")
	p := pkg("domain")
	p.Dir, p.GoFiles = dir, []string{"ok.go", "clock.go"}
	got, err := defaultRules.check(mod, []Package{p})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"domain: clock.go:5 uses time.Now: domain reads no clock and waits for none: pass the time in",
		"domain: clock.go:7 uses time.After: domain reads no clock and waits for none: pass the time in",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The contract suite may time a Model out.
	p.ImportPath = mod + "/domain/modeltest"
	if got, err := defaultRules.check(mod, []Package{p}); err != nil || len(got) != 0 {
		t.Fatalf("domain/modeltest: %q, %v; want it allowed", got, err)
	}
}

// The tree itself keeps the rules (make lint runs the same check).
func TestTheTreeKeepsTheRules(t *testing.T) {
	if testing.Short() {
		t.Skip("lists every package of the module")
	}
	pkgs, err := list([]string{"github.com/salesbot/salesbot/..."})
	if err != nil {
		t.Fatal(err)
	}
	got, err := defaultRules.check("github.com/salesbot/salesbot", pkgs)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range got {
		t.Error(p)
	}
	if len(pkgs) < 20 {
		t.Fatalf("only %d packages listed", len(pkgs))
	}
}
