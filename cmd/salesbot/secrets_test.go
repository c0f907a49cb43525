package main

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/salesbot/salesbot/projections/sinktest"
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
		secretFlag(fs, &got, "bot-token", "SALESBOT_BOT_TOKEN", "bot-token", "the bot token", "the `token`")
		if _, err := parseInterspersed(fs, c.args); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		err := resolveSecrets(fs, func(k string) string { return c.env[k] })
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
		if _, ok := err.(*usageError); err != nil && !ok {
			t.Errorf("%s: %T is not a usage error", c.name, err)
		}
	}
}

// Every secret option has a file form, listed in --help with its variable
// and credential.
func TestHelpListsFileForms(t *testing.T) {
	want := map[string][]string{
		"run":          {"--bot-token-file", "SALESBOT_BOT_TOKEN_FILE", `"bot-token"`, "--llm-api-key-file", "SALESBOT_LLM_API_KEY_FILE", `"llm-api-key"`, "--tg-app-hash-file", "SALESBOT_TG_APP_HASH_FILE", `"tg-app-hash"`, "--postgres-file", "SALESBOT_POSTGRES_DSN_FILE", `"postgres-dsn"`, `"master-key"`},
		"accounts add": {"--tg-app-hash-file"},
		"chat":         {"--llm-api-key-file"},
		"verify":       {"--postgres-file"},
	}
	for cmd, wants := range want {
		r := run(t, nil, append(strings.Fields(cmd), "--help")...)
		for _, w := range wants {
			if r.code != 0 || !strings.Contains(r.stdout, w) {
				t.Errorf("%s --help lacks %s:\n%s", cmd, w, r.stdout)
			}
		}
	}
	if r := run(t, nil, "help"); !strings.Contains(r.stdout, "CREDENTIALS_DIRECTORY") {
		t.Errorf("help does not mention systemd credentials:\n%s", r.stdout)
	}
}

// The DSN from a file or a systemd credential, and the master key from a
// credential, reach the commands.
func TestSecretsFromFilesReachTheCommands(t *testing.T) {
	dsn := sinktest.NewSchema(t)
	secrets := t.TempDir()
	dsnFile := writeFile(t, secrets, "dsn", dsn+"\n")
	dir := makeLog(t, 2)
	for name, c := range map[string]struct {
		env  map[string]string
		args []string
	}{
		"flag":       {nil, []string{"--postgres-file", dsnFile}},
		"variable":   {map[string]string{"SALESBOT_POSTGRES_DSN_FILE": dsnFile}, nil},
		"credential": {map[string]string{"CREDENTIALS_DIRECTORY": filepath.Dir(writeFile(t, t.TempDir(), "postgres-dsn", dsn+"\n"))}, nil},
	} {
		r := run(t, c.env, append([]string{"projections", "status", "--data-dir", dir}, c.args...)...)
		if r.code != 0 || !strings.Contains(r.stdout, "read models: postgres") {
			t.Errorf("%s: %+v", name, r)
		}
	}

	// The master key as the systemd credential "master-key".
	creds := t.TempDir()
	logDir := filepath.Join(t.TempDir(), "log")
	if r := run(t, map[string]string{"CREDENTIALS_DIRECTORY": creds}, "bench", "append", "--events", "5", "--concurrency", "1", "--data-dir", logDir); r.code != 0 {
		t.Fatalf("bench append: %+v", r)
	}
	key, err := os.ReadFile(filepath.Join(logDir, "master.key"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(logDir, "master.key"), filepath.Join(creds, "master-key")); err != nil {
		t.Fatal(err)
	}
	r := run(t, map[string]string{"CREDENTIALS_DIRECTORY": creds}, "verify", "--data-dir", logDir)
	if r.code != 0 || len(key) == 0 {
		t.Fatalf("verify with the master key credential: %+v", r)
	}
	if r := run(t, nil, "verify", "--data-dir", logDir); r.code == 0 {
		t.Fatalf("verify without the credential found a key: %+v", r)
	}
}
