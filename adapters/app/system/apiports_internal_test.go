package system

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"
	"time"

	"github.com/salesbot/salesbot/adapters/web"
	"github.com/salesbot/salesbot/domain"
)

// TestConsoleShowsLLMCosts: the LLM's prices of the HTTP server's
// configuration reach the web console's analytics.
func TestConsoleShowsLLMCosts(t *testing.T) {
	cfg := testConfig(t)
	addr := freeAddr(t)
	cfg.HTTP = &HTTP{Listen: addr, LLMPrice: web.LLMPrice{Prompt: 2.5, Completion: 10}}
	s := startSystem(t, cfg)
	link, err := s.WebSessions().IssueLink(t.Context(), domain.WebAnalyst, "test")
	if err != nil {
		t.Fatal(err)
	}
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Jar: jar}
	get := func(url string) (int, string) {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		res, err := client.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		code, body := get(link.URL(s.WebURL())) // signs in, then the inbox
		if code == http.StatusOK {
			break
		}
		if code != 0 || time.Now().After(deadline) {
			t.Fatalf("sign-in: %d %s", code, body)
		}
	}
	code, body := get(s.WebURL() + "/web/analytics")
	if code != http.StatusOK || !strings.Contains(body, "Cost per qualified lead") || !strings.Contains(body, "at $2.50 and $10.00 per million") ||
		strings.Contains(body, "--llm-price-prompt") {
		t.Fatalf("analytics: %d, without the costs at the prices given:\n%s", code, body)
	}
}
