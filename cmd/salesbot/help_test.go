package main

import (
	"strings"
	"testing"
)

// Every section of help.txt belongs to a command (a renamed command
// would lose its help without this), and the commands that do things
// have one.
func TestHelpTextSections(t *testing.T) {
	paths := map[string]bool{}
	var walk func(prefix string, cs []*command)
	walk = func(prefix string, cs []*command) {
		for _, c := range cs {
			p := strings.TrimSpace(prefix + " " + c.name)
			if len(c.sub) == 0 {
				paths[p] = true
			}
			walk(p, c.sub)
		}
	}
	walk("", commands())
	for _, line := range strings.Split(helpText, "\n") {
		if p, ok := strings.CutPrefix(line, "## "); ok && !paths[p] {
			t.Errorf("help.txt has a section for %q, which is no command", p)
		}
	}
	for _, p := range []string{"verify", "run", "demo", "contacts import", "campaigns create", "bench append"} {
		if d := details(p); strings.TrimSpace(d) == "" || strings.Contains(d, "## ") {
			t.Errorf("details(%q) = %q", p, d)
		}
	}
	if d := details("accounts list"); d != "" {
		t.Errorf("accounts list has no section, got %q", d)
	}
}
