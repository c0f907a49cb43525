package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"
	"time"
)

// 'salesbot web link' through the running server gives a URL that signs
// in once, to an inbox of the sandbox's dialogs; the same URL again is
// refused.
func TestWebLink(t *testing.T) {
	dir, addr, _ := startRun(t)
	r := run(t, nil, "web", "link", "--data-dir", dir, "--json")
	var l struct{ URL, Role string }
	if err := json.Unmarshal([]byte(r.stdout), &l); r.code != 0 || err != nil || l.Role != "owner" || !strings.HasPrefix(l.URL, "http://"+addr+"/web/signin?t=sbl_") {
		t.Fatalf("web link: %+v (%v)", r, err)
	}
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}
	var page string
	for end := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if page == "" {
			res, err := client.Get(l.URL)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusOK || res.Request.URL.Path != "/web/" {
				t.Fatalf("the link: %s at %s\n%s", res.Status, res.Request.URL, b)
			}
			page = string(b)
		} else {
			res, err := client.Get("http://" + addr + "/web/")
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			page = string(b)
		}
		if strings.Contains(page, `href="/web/dialogs/1"`) || time.Now().After(end) {
			break
		}
	}
	if !strings.Contains(page, `href="/web/dialogs/1"`) {
		t.Fatalf("the inbox lists no sandbox dialog:\n%s", page)
	}
	for _, path := range []string{"/web/dialogs/1", "/web/campaigns", "/web/accounts", "/web/analytics", "/web/audit"} { // every page, wired
		res, err := client.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || strings.Contains(string(b), "not available on this server") {
			t.Errorf("%s: %s\n%.500s", path, res.Status, b)
		}
	}
	res, err := http.Get(l.URL) // used: refused
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Errorf("a used link: %s", res.Status)
	}
	if r := run(t, nil, "web", "link", "--data-dir", t.TempDir()); r.code == 0 || !strings.Contains(r.stderr, "no salesbot runs") {
		t.Errorf("web link without a server: %+v", r)
	}
}
