// Package webhooks is the wire of salesbot's outbound webhooks (issue
// 18): Standard Webhooks signatures (Sign, Verify, the whsec_ secret),
// the payloads built from log events (Payloads), and an HTTP sender that
// refuses private targets when it dials, follows no redirect and reads
// Retry-After (Sender). The subscriptions, their checkpoints and the
// retries are the application service's (adapters/app/webhooks).
//
// See https://www.standardwebhooks.com: a receiver checks a delivery
// with any of that project's libraries, or with Verify here.
package webhooks

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The headers of a delivery.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// SecretPrefix starts every signing secret.
const SecretPrefix = "whsec_"

// SecretBytes is how many random bytes a new secret has (the spec asks
// for 24 to 64).
const SecretBytes = 32

// DefaultTolerance is how far a delivery's timestamp may be from the
// receiver's clock for Verify (the spec's libraries use 5 minutes).
const DefaultTolerance = 5 * time.Minute

// Errors of Verify; match them with errors.Is.
var (
	// ErrSecret: a signing secret is not whsec_ and base64.
	ErrSecret = errors.New("webhooks: malformed signing secret")
	// ErrMissingHeader: a delivery lacks webhook-id, webhook-timestamp or
	// webhook-signature.
	ErrMissingHeader = errors.New("webhooks: missing webhook header")
	// ErrTimestamp: the timestamp is malformed or too far from now.
	ErrTimestamp = errors.New("webhooks: webhook timestamp out of tolerance")
	// ErrSignature: no v1 signature matches.
	ErrSignature = errors.New("webhooks: no matching webhook signature")
)

// Secret is a subscription's signing secret: "whsec_" and the base64 of
// its key. Printed (fmt's verbs, slog, JSON) it reads as "[webhook
// secret]"; Reveal gives it to whoever shows it once.
type Secret struct{ s string }

// NewSecret draws a secret of SecretBytes random bytes from r.
func NewSecret(r io.Reader) (Secret, error) {
	b := make([]byte, SecretBytes)
	if _, err := io.ReadFull(r, b); err != nil {
		return Secret{}, fmt.Errorf("webhooks: draw a signing secret: %w", err)
	}
	return Secret{SecretPrefix + base64.StdEncoding.EncodeToString(b)}, nil
}

// ParseSecret reads a secret as NewSecret writes it; as the spec's
// libraries do, the whsec_ prefix may be left out.
func ParseSecret(s string) (Secret, error) {
	sec := Secret{SecretPrefix + strings.TrimPrefix(s, SecretPrefix)}
	if _, err := sec.key(); err != nil {
		return Secret{}, err
	}
	return sec, nil
}

// key is the HMAC key: the base64-decoded part after whsec_.
func (s Secret) key() ([]byte, error) {
	k, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s.s, SecretPrefix))
	if err != nil || len(k) == 0 {
		return nil, ErrSecret
	}
	return k, nil
}

// Reveal is the secret.
func (s Secret) Reveal() string { return s.s }

// IsZero says whether s is no secret.
func (s Secret) IsZero() bool { return s.s == "" }

// Format prints the same placeholder for every verb.
func (Secret) Format(f fmt.State, _ rune) { io.WriteString(f, "[webhook secret]") }

// LogValue hides the secret from slog.
func (Secret) LogValue() slog.Value { return slog.StringValue("[webhook secret]") }

// MarshalJSON hides the secret from JSON: an answer uses Reveal.
func (Secret) MarshalJSON() ([]byte, error) { return []byte(`"[webhook secret]"`), nil }

// Sign is the webhook-signature of a delivery: "v1," and the base64 of
// the HMAC-SHA256, keyed by the secret's key, of "id.timestamp.body"
// (timestamp in Unix seconds).
func Sign(secret Secret, id string, at time.Time, body []byte) (string, error) {
	key, err := secret.key()
	if err != nil {
		return "", err
	}
	return "v1," + base64.StdEncoding.EncodeToString(mac(key, id, strconv.FormatInt(at.Unix(), 10), body)), nil
}

func mac(key []byte, id, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id))
	m.Write([]byte{'.'})
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// Headers sets the three headers of a delivery signed at at on h.
func Headers(h http.Header, secret Secret, id string, at time.Time, body []byte) error {
	sig, err := Sign(secret, id, at, body)
	if err != nil {
		return err
	}
	h.Set(HeaderID, id)
	h.Set(HeaderTimestamp, strconv.FormatInt(at.Unix(), 10))
	h.Set(HeaderSignature, sig)
	return nil
}

// Verify checks a delivery as a receiver does: the headers are there,
// the timestamp is within tolerance of now (0: DefaultTolerance; a
// negative one skips the check), and one of the space-separated
// signatures is a v1 signature of the body with secret. Its errors match
// ErrMissingHeader, ErrTimestamp, ErrSignature or ErrSecret.
func Verify(secret Secret, h http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	key, err := secret.key()
	if err != nil {
		return err
	}
	id, ts, sigs := h.Get(HeaderID), h.Get(HeaderTimestamp), h.Get(HeaderSignature)
	if id == "" || ts == "" || sigs == "" {
		return ErrMissingHeader
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return ErrTimestamp
	}
	if tolerance == 0 {
		tolerance = DefaultTolerance
	}
	if d := now.Sub(time.Unix(sec, 0)); tolerance > 0 && (d > tolerance || d < -tolerance) {
		return ErrTimestamp
	}
	want := mac(key, id, ts, body)
	for _, s := range strings.Fields(sigs) {
		version, sig, ok := strings.Cut(s, ",")
		if !ok || version != "v1" {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(sig)
		if err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return ErrSignature
}
