package cli

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeFile writes a file with mode 0600 and returns its path.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// Where a secret's value comes from, and what is a usage error.
func TestSecretSources(t *testing.T) {
	dir := t.TempDir()
	tokenFile := writeFile(t, dir, "token", "from-file\n")
	crlfFile := writeFile(t, dir, "crlf", "from-crlf-file\r\n")
	twoLines := writeFile(t, dir, "two", "line one\n\n")
	empty := writeFile(t, dir, "empty", "\n")
	unreadable := writeFile(t, dir, "unreadable", "content-never-shown")
	if err := os.Chmod(unreadable, 0); err != nil {
		t.Fatal(err)
	}
	huge := writeFile(t, dir, "huge", strings.Repeat("x", maxSecretFile+1))
	creds := t.TempDir()
	writeFile(t, creds, "bot-token", "from-credential\n")
	emptyCreds := t.TempDir()
	writeFile(t, emptyCreds, "bot-token", "")
	cases := []struct {
		name    string
		args    []string
		env     map[string]string
		want    string // the value
		wantErr string // or the usage error's text
	}{
		{"nothing", nil, nil, "", ""},
		{"flag", []string{"--bot-token", "from-flag"}, nil, "from-flag", ""},
		{"flag file drops one newline", []string{"--bot-token-file", tokenFile}, nil, "from-file", ""},
		{"crlf", []string{"--bot-token-file", crlfFile}, nil, "from-crlf-file", ""},
		{"only one newline goes", []string{"--bot-token-file", twoLines}, nil, "line one\n", ""},
		{"variable", nil, map[string]string{"SALESBOT_BOT_TOKEN": "from-env"}, "from-env", ""},
		{"variable file", nil, map[string]string{"SALESBOT_BOT_TOKEN_FILE": tokenFile}, "from-file", ""},
		{"credential", nil, map[string]string{"CREDENTIALS_DIRECTORY": creds}, "from-credential", ""},
		{"no such credential", nil, map[string]string{"CREDENTIALS_DIRECTORY": t.TempDir()}, "", ""},
		{"flag wins over variable", []string{"--bot-token", "from-flag"}, map[string]string{"SALESBOT_BOT_TOKEN_FILE": tokenFile}, "from-flag", ""},
		{"flag file wins over variable", []string{"--bot-token-file", tokenFile}, map[string]string{"SALESBOT_BOT_TOKEN": "from-env"}, "from-file", ""},
		{"variable wins over credential", nil, map[string]string{"SALESBOT_BOT_TOKEN": "from-env", "CREDENTIALS_DIRECTORY": creds}, "from-env", ""},
		{"an empty flag clears the variable", []string{"--bot-token", ""}, map[string]string{"SALESBOT_BOT_TOKEN": "from-env"}, "", ""},
		{"both flags", []string{"--bot-token", "x", "--bot-token-file", tokenFile}, nil, "", "give --bot-token or --bot-token-file, not both"},
		{"both variables", nil, map[string]string{"SALESBOT_BOT_TOKEN": "x", "SALESBOT_BOT_TOKEN_FILE": tokenFile}, "", "SALESBOT_BOT_TOKEN and SALESBOT_BOT_TOKEN_FILE are both set"},
		{"empty file", []string{"--bot-token-file", empty}, nil, "", "--bot-token-file: " + empty + " is empty"},
		{"missing file", []string{"--bot-token-file", filepath.Join(dir, "none")}, nil, "", "--bot-token-file: cannot read " + filepath.Join(dir, "none")},
		{"huge file", nil, map[string]string{"SALESBOT_BOT_TOKEN_FILE": huge}, "", "SALESBOT_BOT_TOKEN_FILE: " + huge + " is larger than 64 KiB"},
		{"directory", []string{"--bot-token-file", dir}, nil, "", "--bot-token-file: cannot read " + dir},
		{"empty credential", nil, map[string]string{"CREDENTIALS_DIRECTORY": emptyCreds}, "", "systemd credential bot-token: " + filepath.Join(emptyCreds, "bot-token") + " is empty"},
	}
	if os.Geteuid() != 0 { // root reads any file
		cases = append(cases, struct {
			name    string
			args    []string
			env     map[string]string
			want    string
			wantErr string
		}{"unreadable file", []string{"--bot-token-file", unreadable}, nil, "", "--bot-token-file: cannot read " + unreadable + ": permission denied"})
	}
	for _, c := range cases {
		var got string
		fs := flag.NewFlagSet("test", flag.ContinueOnError)
		SecretFlag(fs, &got, "bot-token", "SALESBOT_BOT_TOKEN", "bot-token", "the bot token", "the `token`")
		if _, err := ParseInterspersed(fs, c.args); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		err := ResolveSecrets(fs, func(k string) string { return c.env[k] }, nil)
		switch {
		case c.wantErr == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
			t.Errorf("%s: error %v, want %q", c.name, err, c.wantErr)
		case c.wantErr != "" && strings.Contains(err.Error(), "content-never-shown"):
			t.Errorf("%s: the error shows the file's content: %v", c.name, err)
		case c.wantErr == "" && got != c.want:
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
		if _, ok := err.(*UsageError); err != nil && !ok {
			t.Errorf("%s: %T is not a usage error", c.name, err)
		}
	}
}
