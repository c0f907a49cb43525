package main

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/salesbot/salesbot/adapters/amocrm/amocrmtest"
	"github.com/salesbot/salesbot/adapters/app/demo"
	"github.com/salesbot/salesbot/adapters/telegram/telegramtest"
)

// run --amocrm-config on the sandbox: a person's handoff becomes one
// amoCRM lead (with its marker) and its transcript; amoCRM's webhook
// moving the lead to won (142) records the dialog's outcome with the
// lead's price. A configuration file with a bad key is a usage error
// naming the option.
func TestAmoCRMOnTheSandbox(t *testing.T) {
	t.Parallel() // mostly waiting for the sandbox: beside the others
	const token, secret = "amo-long-lived-token-0123456789", "hook-secret-0123456789"
	crm := amocrmtest.New(token)
	defer crm.Close()
	conf := filepath.Join(t.TempDir(), "amocrm.json")
	if err := os.WriteFile(conf, []byte(`{"base_url":"`+crm.URL+`","token":"`+token+`","webhook_secret":"`+secret+
		`","pipeline_id":7001,"status_id":7002,"currency":"USD"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	dir, addr, sb := startRun(t, "--amocrm-config", conf)
	acct, err := sb.Lookup(demo.AccountUsername(3))
	if err != nil {
		t.Fatal(err)
	}
	person, err := sb.AddUser(telegramtest.UserSpec{Username: "crm_person", FirstName: "Dana"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sb.SendAs(person.ID, acct.ID, "Can I talk to a manager, please?"); err != nil {
		t.Fatal(err)
	}
	var lead amocrmtest.Lead
	waitFor(t, 60*time.Second, "the person's amoCRM lead with its transcript", func() bool {
		for _, l := range crm.Leads() {
			if strings.HasPrefix(l.Name, "Dana") && strings.Contains(l.Name, "salesbot dialog ") {
				lead = l
			}
		}
		return lead.ID != 0 && len(crm.Notes()) > 0
	})
	time.Sleep(500 * time.Millisecond) // a second push would come by now
	markers := map[string]bool{}
	for _, l := range crm.Leads() { // other sandbox dialogs qualify too: each once
		if markers[l.Name] {
			t.Errorf("%q pushed twice", l.Name)
		}
		markers[l.Name] = true
	}
	n := lead.Name[strings.LastIndex(lead.Name, " ")+1:] // "... salesbot dialog N"

	form := url.Values{"leads[status][0][id]": {strconv.FormatInt(lead.ID, 10)}, "leads[status][0][status_id]": {"142"},
		"leads[status][0][pipeline_id]": {"7001"}, "leads[status][0][price]": {"1500"}}
	if res, err := http.PostForm("http://"+addr+"/hooks/amocrm/wrong-secret-0123456789", form); err != nil || res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a wrong secret: %v %v", res, err)
	}
	res, err := http.PostForm("http://"+addr+"/hooks/amocrm/"+secret, form)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("amoCRM's webhook: %v %v", res, err)
	}
	r := run(t, nil, "replay", "dialog", n, "--data-dir", dir)
	if r.code != 0 || !strings.Contains(r.stdout, "OutcomeRecorded") || !strings.Contains(r.stdout, "1500") {
		t.Errorf("the dialog after amoCRM's won: %+v", r)
	}

	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte(`{"base_url":"`+crm.URL+`","token":"x","pipeline_id":-1}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := run(t, nil, "run", "--sandbox", "--data-dir", t.TempDir(), "--amocrm-config", bad); r.code != exitUsage ||
		!strings.Contains(r.stderr, "--amocrm-config") || !strings.Contains(r.stderr, "pipeline_id") {
		t.Errorf("a bad amoCRM file: %+v", r)
	}
}
