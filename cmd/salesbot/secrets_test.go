package main

import (
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
