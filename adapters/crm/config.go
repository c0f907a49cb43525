package crm

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
)

// Load reads a configuration file with parse; a file that cannot be read
// is an error that matches errConfig (the connector's ErrConfig), and
// parse's errors are prefixed with the file's path.
func Load[T any](path string, errConfig error, parse func([]byte) (T, error)) (T, error) {
	var zero T
	data, err := os.ReadFile(path)
	if err != nil {
		return zero, fmt.Errorf("%w: %s: %w", errConfig, path, err)
	}
	cfg, err := parse(data)
	if err != nil {
		return zero, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

// ConfigReader reads the keys of a connector's JSON configuration; its
// errors match the connector's ErrConfig and name the bad key.
type ConfigReader struct {
	raw       map[string]json.RawMessage
	errConfig error
}

// ReadConfig reads data as a JSON object whose keys are all in keys.
// Its errors, and the reader's, match errConfig.
func ReadConfig(data []byte, errConfig error, keys []string) (*ConfigReader, error) {
	r := &ConfigReader{errConfig: errConfig}
	if err := json.NewDecoder(bytes.NewReader(data)).Decode(&r.raw); err != nil || r.raw == nil {
		return nil, fmt.Errorf("%w: not a JSON object", errConfig)
	}
	got := make([]string, 0, len(r.raw))
	for k := range r.raw {
		got = append(got, k)
	}
	slices.Sort(got)
	for _, k := range got {
		if !slices.Contains(keys, k) {
			return nil, r.Bad(k, "is not a key: one of %s", strings.Join(keys, ", "))
		}
	}
	return r, nil
}

// Bad is the error about key: `ErrConfig: "key" what`.
func (r *ConfigReader) Bad(key, format string, args ...any) error {
	return fmt.Errorf("%w: %q %s", r.errConfig, key, fmt.Sprintf(format, args...))
}

// Raw is key's JSON value, if it is given.
func (r *ConfigReader) Raw(key string) (json.RawMessage, bool) {
	v, ok := r.raw[key]
	return v, ok
}

// Str is key's string ("" when it is not given), as it is.
func (r *ConfigReader) Str(key string) (string, error) {
	var s string
	if v, ok := r.raw[key]; ok {
		if err := json.Unmarshal(v, &s); err != nil {
			return "", r.Bad(key, "is a string")
		}
	}
	return s, nil
}

// Secret is a secret given inline (key) or as a file's path (key+"_file";
// the file's content, trimmed), one of the two. Its errors never hold the
// secret.
func (r *ConfigReader) Secret(key string, required bool) (Secret, error) {
	inline, err := r.Str(key)
	if err != nil {
		return Secret{}, err
	}
	file, err := r.Str(key + "_file")
	if err != nil {
		return Secret{}, err
	}
	switch {
	case inline != "" && file != "":
		return Secret{}, r.Bad(key, "and %q: give one of the two", key+"_file")
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return Secret{}, r.Bad(key+"_file", "cannot be read: %v", errors.Unwrap(err))
		}
		inline = strings.TrimSpace(string(b))
		if inline == "" {
			return Secret{}, r.Bad(key+"_file", "names an empty file")
		}
	case inline == "" && required:
		return Secret{}, r.Bad(key, "is required (or %q)", key+"_file")
	}
	return NewSecret(inline), nil
}
