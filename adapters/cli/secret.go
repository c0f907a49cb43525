package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// CredentialsDirEnv is where systemd puts a service's credentials
// (LoadCredential=, LoadCredentialEncrypted=).
const CredentialsDirEnv = "CREDENTIALS_DIRECTORY"

// maxSecretFile bounds a secret file: a secret is a line, and pointing
// a --...-file option at something huge (or endless) is a mistake.
const maxSecretFile = 64 << 10

// secret is one secret option (a token, a key, a password, a DSN). Its
// value comes from the first of
//
//   - the flag --NAME VALUE or --NAME-file FILE,
//   - the variable ENV or ENV_FILE (naming a file),
//   - the systemd credential CRED: the file $CREDENTIALS_DIRECTORY/CRED,
//
// so flags win over variables. Giving a value and its file form together
// is a usage error. A file loses one trailing newline; a file that cannot
// be read or is empty is a usage error naming the file, never its
// content. Help never shows a secret's value.
type secret struct {
	name, env, cred string
	dst             *string
	flagValue       *string // --NAME, when given
	flagFile        *string // --NAME-file, when given
}

// secretValue is the flag.Value of --NAME (file false) and --NAME-file.
type secretValue struct {
	s    *secret
	file bool
}

func (v *secretValue) String() string { return "" } // never a default in help

func (v *secretValue) Set(x string) error {
	if v.file {
		v.s.flagFile = &x
	} else {
		v.s.flagValue = &x
	}
	return nil
}

// SecretFlag registers the secret option name and its file form on fs.
// Its value lands in *dst when the command line is resolved
// (ResolveSecrets), before the command's checks run. usage describes the
// value flag, what names the secret for the file flag.
func SecretFlag(fs *flag.FlagSet, dst *string, name, env, cred, what, usage string) {
	s := &secret{name: name, env: env, cred: cred, dst: dst}
	fs.Var(&secretValue{s: s}, name, fmt.Sprintf("%s [%s]", usage, env))
	fs.Var(&secretValue{s: s, file: true}, name+"-file",
		fmt.Sprintf("read %s from `file` (one trailing newline is dropped) [%s_FILE]; else the systemd credential %q in $%s",
			what, env, cred, CredentialsDirEnv))
}

// ResolveSecrets resolves every secret option registered on fs, reading
// the environment with getenv and files with readFile (nil: this
// machine's). Its errors are usage errors (*UsageError).
func ResolveSecrets(fs *flag.FlagSet, getenv func(string) string, readFile func(string) ([]byte, error)) error {
	if readFile == nil {
		readFile = readLocal
	}
	var secrets []*secret
	seen := map[*secret]bool{}
	fs.VisitAll(func(f *flag.Flag) {
		if v, ok := f.Value.(*secretValue); ok && !seen[v.s] {
			seen[v.s] = true
			secrets = append(secrets, v.s)
		}
	})
	for _, s := range secrets {
		if err := s.resolve(getenv, readFile); err != nil {
			return err
		}
	}
	return nil
}

func (s *secret) resolve(getenv func(string) string, readFile func(string) ([]byte, error)) error {
	read := func(path, from string) error { return s.read(readFile, path, from) }
	switch {
	case s.flagValue != nil && s.flagFile != nil:
		return Usagef("give --%s or --%s-file, not both", s.name, s.name)
	case s.flagValue != nil:
		*s.dst = *s.flagValue
		return nil
	case s.flagFile != nil:
		return read(*s.flagFile, "--"+s.name+"-file")
	}
	value, file := getenv(s.env), getenv(s.env+"_FILE")
	switch {
	case value != "" && file != "":
		return Usagef("%s and %s_FILE are both set: set one", s.env, s.env)
	case value != "":
		*s.dst = value
		return nil
	case file != "":
		return read(file, s.env+"_FILE")
	}
	*s.dst = ""
	if dir := getenv(CredentialsDirEnv); dir != "" {
		err := read(CredentialPath(dir, s.cred), "systemd credential "+s.cred)
		if errors.Is(err, fs.ErrNotExist) {
			return nil // no such credential
		}
		return err
	}
	return nil
}

// read sets the secret from the file at path; from names the option
// that gave the file. A file that does not exist is a usage error that
// matches fs.ErrNotExist.
func (s *secret) read(readFile func(string) ([]byte, error), path, from string) error {
	if path == "" {
		return Usagef("%s: no file named", from)
	}
	b, err := readFile(path)
	if err != nil {
		return &UsageError{Msg: fmt.Sprintf("%s: cannot read %s: %v", from, path, pathErr(err)), err: err}
	}
	if len(b) > maxSecretFile {
		return Usagef("%s: %s is larger than %d KiB, not a secret", from, path, maxSecretFile>>10)
	}
	v := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	if strings.TrimSpace(v) == "" {
		return Usagef("%s: %s is empty", from, path)
	}
	*s.dst = v
	return nil
}

// readLocal reads a file of this machine, at most one byte past
// maxSecretFile.
func readLocal(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, maxSecretFile+1))
}

// pathErr drops the path from a *fs.PathError (the message names it).
func pathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// CredentialPath is the file of systemd credential name in dir, or ""
// when there is no credentials directory.
func CredentialPath(dir, name string) string {
	if dir == "" {
		return ""
	}
	return filepath.Join(dir, name)
}

// SecretValues returns the values of the secret options registered on
// fs, as resolved.
func SecretValues(fs *flag.FlagSet) []string {
	var out []string
	fs.VisitAll(func(f *flag.Flag) {
		if v, ok := f.Value.(*secretValue); ok && !v.file && *v.s.dst != "" {
			out = append(out, *v.s.dst)
		}
	})
	return out
}
