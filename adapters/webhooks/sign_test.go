package webhooks_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/salesbot/salesbot/adapters/webhooks"
)

// The Standard Webhooks project's published vector (its libraries'
// TestWebhookSign): a receiver using any of its libraries accepts what
// Sign makes.
const (
	vectorSecret    = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	vectorID        = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	vectorTimestamp = 1614265330
	vectorPayload   = `{"test": 2432232314}`
	vectorSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func TestSignVector(t *testing.T) {
	sec, err := webhooks.ParseSecret(vectorSecret)
	if err != nil {
		t.Fatal(err)
	}
	got, err := webhooks.Sign(sec, vectorID, time.Unix(vectorTimestamp, 0), []byte(vectorPayload))
	if err != nil || got != vectorSignature {
		t.Fatalf("Sign = %q, %v; want %q", got, err, vectorSignature)
	}
	// The spec's libraries take the secret without its prefix too.
	bare, err := webhooks.ParseSecret(strings.TrimPrefix(vectorSecret, "whsec_"))
	if err != nil || bare.Reveal() != vectorSecret {
		t.Fatalf("bare secret: %q %v", bare.Reveal(), err)
	}
}

func vectorHeader() http.Header {
	h := http.Header{}
	h.Set("webhook-id", vectorID)
	h.Set("webhook-timestamp", fmt.Sprint(vectorTimestamp))
	h.Set("webhook-signature", vectorSignature)
	return h
}

func TestVerify(t *testing.T) {
	sec, err := webhooks.ParseSecret(vectorSecret)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Unix(vectorTimestamp, 0)
	other, _ := webhooks.ParseSecret("whsec_" + strings.Repeat("A", 32))
	for _, c := range []struct {
		name   string
		secret webhooks.Secret
		edit   func(http.Header)
		body   string
		now    time.Time
		want   error
	}{
		{name: "the vector", secret: sec, body: vectorPayload, now: at},
		{name: "within tolerance", secret: sec, body: vectorPayload, now: at.Add(4 * time.Minute)},
		{name: "among other signatures", secret: sec, body: vectorPayload, now: at,
			edit: func(h http.Header) {
				h.Set("webhook-signature", "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= v2,x "+vectorSignature)
			}},
		{name: "another body", secret: sec, body: `{"test": 2432232315}`, now: at, want: webhooks.ErrSignature},
		{name: "another secret", secret: other, body: vectorPayload, now: at, want: webhooks.ErrSignature},
		{name: "another id", secret: sec, body: vectorPayload, now: at, edit: func(h http.Header) { h.Set("webhook-id", "msg_x") }, want: webhooks.ErrSignature},
		{name: "a v2 of the right bytes", secret: sec, body: vectorPayload, now: at,
			edit: func(h http.Header) { h.Set("webhook-signature", strings.Replace(vectorSignature, "v1,", "v2,", 1)) }, want: webhooks.ErrSignature},
		{name: "too old", secret: sec, body: vectorPayload, now: at.Add(6 * time.Minute), want: webhooks.ErrTimestamp},
		{name: "too new", secret: sec, body: vectorPayload, now: at.Add(-6 * time.Minute), want: webhooks.ErrTimestamp},
		{name: "no id", secret: sec, body: vectorPayload, now: at, edit: func(h http.Header) { h.Del("webhook-id") }, want: webhooks.ErrMissingHeader},
		{name: "no signature", secret: sec, body: vectorPayload, now: at, edit: func(h http.Header) { h.Del("webhook-signature") }, want: webhooks.ErrMissingHeader},
		{name: "a bad timestamp", secret: sec, body: vectorPayload, now: at, edit: func(h http.Header) { h.Set("webhook-timestamp", "1e9") }, want: webhooks.ErrTimestamp},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := vectorHeader()
			if c.edit != nil {
				c.edit(h)
			}
			if err := webhooks.Verify(c.secret, h, []byte(c.body), c.now, 0); !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
				t.Fatalf("Verify: %v, want %v", err, c.want)
			}
		})
	}
	if err := webhooks.Verify(sec, vectorHeader(), []byte(vectorPayload), at.Add(time.Hour), -1); err != nil {
		t.Fatalf("without the timestamp check: %v", err)
	}
}

// A new secret is whsec_ and 32 random bytes; Headers signs what Verify
// accepts; no printing shows the secret.
func TestNewSecret(t *testing.T) {
	sec, err := webhooks.NewSecret(bytes.NewReader(bytes.Repeat([]byte{0xab}, 32)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(sec.Reveal(), "whsec_") || len(sec.Reveal()) != len("whsec_")+44 {
		t.Fatalf("secret %q", sec.Reveal())
	}
	if _, err := webhooks.NewSecret(bytes.NewReader(make([]byte, 5))); err == nil {
		t.Fatal("a short read made a secret")
	}
	h := http.Header{}
	at := time.Unix(1_800_000_000, 0)
	if err := webhooks.Headers(h, sec, "msg_1", at, []byte("{}")); err != nil {
		t.Fatal(err)
	}
	if err := webhooks.Verify(sec, h, []byte("{}"), at, 0); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "secret", sec)
	j, _ := json.Marshal(struct{ S webhooks.Secret }{sec})
	for _, out := range []string{fmt.Sprint(sec), fmt.Sprintf("%+v %#v %s %q", sec, sec, sec, sec), buf.String(), string(j)} {
		if strings.Contains(out, strings.TrimPrefix(sec.Reveal(), "whsec_")) {
			t.Fatalf("printed: %s", out)
		}
	}
	for _, bad := range []string{"whsec_", "whsec_!!!", ""} {
		if _, err := webhooks.ParseSecret(bad); !errors.Is(err, webhooks.ErrSecret) {
			t.Errorf("ParseSecret(%q): %v", bad, err)
		}
	}
}
