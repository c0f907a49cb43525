package redact_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/salesbot/salesbot/adapters/redact"
)

func TestString(t *testing.T) {
	cases := []struct {
		in      string
		secrets []string
		want    string
	}{
		{"token 123:ABC failed", []string{"123:ABC"}, "token [REDACTED] failed"},
		{"no secret here", []string{"x-secret"}, "no secret here"},
		{"empty secrets change nothing", []string{"", ""}, "empty secrets change nothing"},
		{"nor do short ones: the key x", []string{"x", "abc"}, "nor do short ones: the key x"},
		{"a=s3cr3t b=s3cr3t", []string{"s3cr3t"}, "a=[REDACTED] b=[REDACTED]"},
		// The longer secret is masked whole, whatever the order.
		{"key abcdef", []string{"abc", "abcdef"}, "key [REDACTED]"},
		// Percent-encoded as in a query, a path and user info.
		{"?k=p%40ss+w%2Frd", []string{"p@ss w/rd"}, "?k=[REDACTED]"},
		{"/p@ss%20w%2Frd/", []string{"p@ss w/rd"}, "/[REDACTED]/"},
		{"//u:p%40ss%20w%2Frd@host", []string{"p@ss w/rd"}, "//u:[REDACTED]@host"},
	}
	for _, c := range cases {
		if got := redact.String(c.in, c.secrets...); got != c.want {
			t.Errorf("String(%q, %q) = %q, want %q", c.in, c.secrets, got, c.want)
		}
	}
}

func TestErrorKeepsTheChain(t *testing.T) {
	const secret = "sk-very-secret"
	inner := &url.Error{Op: "Post", URL: "https://api.example.com/v1?key=" + secret, Err: context.DeadlineExceeded}
	err := redact.Error(fmt.Errorf("llm: call: %w", inner), secret)
	if strings.Contains(err.Error(), secret) || !strings.Contains(err.Error(), redact.Marker) {
		t.Fatalf("not redacted: %v", err)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatal("errors.Is lost the deadline")
	}
	var ue *url.Error
	if !errors.As(err, &ue) || !ue.Timeout() {
		t.Fatal("errors.As lost the *url.Error")
	}
	plain := errors.New("nothing to hide")
	if redact.Error(plain, secret) != plain {
		t.Fatal("an error without secrets should come back as is")
	}
	if redact.Error(nil, secret) != nil {
		t.Fatal("nil should stay nil")
	}
}

func TestURL(t *testing.T) {
	cases := []struct{ in, want string }{
		{"https://api.telegram.org", "https://api.telegram.org"},
		{"https://user:hunter2@proxy.example:8443/v1", "https://user:[REDACTED]@proxy.example:8443/v1"},
		{"https://user@proxy.example/v1", "https://user@proxy.example/v1"},
		{"https://h/v1?api-key=abc123&model=x", "https://h/v1?api-key=[REDACTED]&model=x"},
		{"https://h/hook?token=t0k&x=1#frag", "https://h/hook?token=[REDACTED]&x=1#frag"},
		// A URL that does not parse still loses its password.
		{"http://u:pa ss@h:bad/", "http://u:[REDACTED]@h:bad/"},
		{"http://u:pw@h/", "http://u:[REDACTED]@h/"}, // short: masked by place, not by value
		{"http://u:@h/?key=&token=x", "http://u:@h/?key=&token=[REDACTED]"},
		{"https://h/#frag?token=t0k", "https://h/#frag?token=t0k"},
		{"not a url", "not a url"},
		{"", ""},
	}
	for _, c := range cases {
		if got := redact.URL(c.in); got != c.want {
			t.Errorf("URL(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestDSN(t *testing.T) {
	cases := []struct{ in, want string }{
		{"postgres://app:s3cret@db:5432/sales?sslmode=disable", "postgres://app:[REDACTED]@db:5432/sales?sslmode=disable"},
		{"postgresql://app@db/sales?password=s3cret", "postgresql://app@db/sales?password=[REDACTED]"},
		{"postgres://app:p%40ss@db/sales", "postgres://app:[REDACTED]@db/sales"},
		{"host=db user=app password=s3cret dbname=sales", "host=db user=app password=[REDACTED] dbname=sales"},
		{"host=db password = s3cret", "host=db password = [REDACTED]"},
		{"host=db password='with space' dbname=x", "host=db password='[REDACTED]' dbname=x"},
		{`host=db password='it\'s' sslpassword=k3y`, `host=db password='[REDACTED]' sslpassword=[REDACTED]`},
		{"host=db user=app", "host=db user=app"},
		{"host=db password=pw", "host=db password=[REDACTED]"},
		{"not a dsn password=oops", "not a dsn password=[REDACTED]"},
	}
	for _, c := range cases {
		if got := redact.DSN(c.in); got != c.want {
			t.Errorf("DSN(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestSecretName(t *testing.T) {
	for name, want := range map[string]bool{"password": true, "api-key": true, "access_token": true, "X-Amz-Signature": true,
		"Secret": true, "model": false, "sslmode": false, "host": false} {
		if got := redact.SecretName(name); got != want {
			t.Errorf("SecretName(%q) = %v, want %v", name, got, want)
		}
	}
}
