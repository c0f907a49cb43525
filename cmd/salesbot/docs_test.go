package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The docs' examples never put a secret on a command line, where ps
// shows it to every user of the machine: they use the _FILE forms,
// credentials or variables.
func TestDocsKeepSecretsOffCommandLines(t *testing.T) {
	files, err := filepath.Glob("../../docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, "../../README.md")
	onCommandLine := regexp.MustCompile(`--(bot-token|llm-api-key|tg-app-hash)[ =]+[^-\s\\]` + // a value, not the -file form
		`|--postgres[ =]+["']?(postgres(ql)?://[^@\s/"']*:[^@\s"']+@|[^"'\n]*password=)`) // a DSN with a password
	checked := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		inCode := false
		for i, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "```") {
				inCode = !inCode
				continue
			}
			if !inCode {
				continue
			}
			checked++
			if onCommandLine.MatchString(line) {
				t.Errorf("%s:%d puts a secret on a command line: %s", f, i+1, strings.TrimSpace(line))
			}
		}
	}
	if checked < 100 {
		t.Fatalf("only %d lines of examples found: are the docs where the test looks?", checked)
	}
}
