package web_test

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/adapters/web"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/projections"
)

// inboxRow is one row of an inbox page as shown.
type inboxRow struct {
	n     int64
	class string // late, waiting or none
	name  string
}

var inboxRowRE = regexp.MustCompile(`<li class="dialog([^"]*)" data-n="(\d+)">\s*<a href="/web/dialogs/\d+">\s*<span class="n">#\d+</span>\s*<span class="name">([^<]*)</span>`)

// inboxGroups reads an inbox page's groups: their rows, and whether each
// says there were more.
func inboxGroups(t *testing.T, body string) (rows [][]inboxRow, more []bool) {
	t.Helper()
	sections := strings.Split(body, `<section class="group `)[1:]
	for _, s := range sections {
		var g []inboxRow
		for _, m := range inboxRowRE.FindAllStringSubmatch(s, -1) {
			n, err := strconv.ParseInt(m[2], 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			g = append(g, inboxRow{n: n, class: strings.TrimSpace(m[1]), name: m[3]})
		}
		rows = append(rows, g)
		more = append(more, strings.Contains(s, `<p class="more">`))
	}
	return rows, more
}

func TestInboxWithManyDialogs(t *testing.T) {
	w := newWorld(t, nil)
	cookie, _ := w.sessions.session(t, domain.ScopeRead)
	account := uuid.New()
	var changes []projections.Change
	handoffAt := map[int64]time.Time{} // of the waiting handoffs
	last := map[int64]time.Time{}      // of the rest
	taken := map[int64]bool{}
	dialog := func(n int64, status string, took bool, handoff, at time.Time) {
		c := projections.Contact{ID: uuid.New(), Name: fmt.Sprintf("Lead %04d", n), Username: fmt.Sprintf("user%04d", n), Source: "import"}
		stage := string(domain.StageDiscovery)
		if status == projections.StatusHandoff {
			stage = string(domain.StageHandoff)
		}
		if n == 400 { // a dialog whose contact the read models lack
			c.Name, c.Username = "", ""
		} else {
			changes = append(changes, projections.PutContact{Contact: c})
		}
		changes = append(changes, projections.PutDialog{Dialog: projections.Dialog{ID: uuid.New(), N: n, ContactID: c.ID, AccountID: account,
			Stage: stage, Status: status, TakenOver: took, HandoffAt: handoff, LastMessageAt: at, CreatedAt: now.Add(-48 * time.Hour), UpdatedAt: at}})
	}
	// 130 handoffs waiting, how long not in the order of their numbers;
	// 20 a manager has; 150 active, their latest messages not in order
	// either.
	for n := int64(101); n <= 230; n++ {
		at := now.Add(-time.Duration(1+(n*37)%130) * time.Minute)
		handoffAt[n] = at
		dialog(n, projections.StatusHandoff, false, at, at)
	}
	for n := int64(231); n <= 250; n++ {
		at := now.Add(-time.Duration(1+(n*11)%20) * time.Minute)
		taken[n], last[n] = true, at
		dialog(n, projections.StatusHandoff, true, now.Add(-3*time.Hour), at)
	}
	for n := int64(251); n <= 400; n++ {
		at := now.Add(-time.Duration(1+(n*53)%150) * time.Minute)
		last[n] = at
		dialog(n, projections.StatusActive, false, time.Time{}, at)
	}
	w.apply(t, changes...)

	groups, more := inboxGroups(t, w.get(t, "/web/", cookie).Body.String())
	if len(groups) != 2 {
		t.Fatalf("%d groups, want needs a person and active", len(groups))
	}
	// Each group shows web.MaxRows and says there are more.
	for i, g := range groups {
		if len(g) != web.MaxRows || !more[i] {
			t.Errorf("group %d: %d rows, more %v; want %d and more", i, len(g), more[i], web.MaxRows)
		}
	}
	// Needs a person: the waiting handoffs, the longest waiting first,
	// then those a manager has, the latest message first.
	var prev inboxRow
	for i, r := range groups[0] {
		_, waiting := handoffAt[r.n]
		switch {
		case !waiting && !taken[r.n]:
			t.Fatalf("row %d: dialog %d is no handoff", i, r.n)
		case i == 0:
		case waiting && taken[prev.n]:
			t.Fatalf("row %d: dialog %d waits, after %d which a manager has", i, r.n, prev.n)
		case waiting && handoffAt[r.n].Before(handoffAt[prev.n]):
			t.Fatalf("row %d: dialog %d waits longer than %d above it", i, r.n, prev.n)
		case !waiting && !taken[prev.n]:
		case !waiting && last[r.n].After(last[prev.n]):
			t.Fatalf("row %d: dialog %d has a later message than %d above it", i, r.n, prev.n)
		}
		if waiting != (r.class == "late" || r.class == "waiting") {
			t.Errorf("row %d: dialog %d marked %q", i, r.n, r.class)
		}
		if want := fmt.Sprintf("Lead %04d", r.n); r.name != want {
			t.Errorf("row %d: dialog %d shows %q, want its lead %q", i, r.n, r.name, want)
		}
		prev = r
	}
	if !taken[groups[0][len(groups[0])-1].n] {
		t.Errorf("no handoff a manager has in the group: %v", groups[0])
	}
	// Active: the latest message first; a dialog without a contact row
	// shows no name.
	for i, r := range groups[1] {
		if _, ok := last[r.n]; !ok || taken[r.n] {
			t.Fatalf("active row %d: dialog %d", i, r.n)
		}
		if i > 0 && last[r.n].After(last[groups[1][i-1].n]) {
			t.Fatalf("active row %d: dialog %d has a later message than %d above it", i, r.n, groups[1][i-1].n)
		}
		want := fmt.Sprintf("Lead %04d", r.n)
		if r.n == 400 {
			want = "(no name)"
		}
		if r.name != want {
			t.Errorf("active row %d: dialog %d shows %q, want %q", i, r.n, r.name, want)
		}
	}

	// A search looks past the rows a page shows: dialog 260 is not among
	// the newest web.MaxRows+1 active ones.
	for _, q := range []string{"lead%200260", "%40user0260"} {
		groups, more := inboxGroups(t, w.get(t, "/web/?q="+q, cookie).Body.String())
		if len(groups) != 2 || len(groups[0]) != 0 || len(groups[1]) != 1 || groups[1][0].n != 260 || more[1] {
			t.Errorf("search %s: %v, want dialog 260 alone", q, groups)
		}
	}
	// A search that matches more than a page: a page, and more.
	groups, more = inboxGroups(t, w.get(t, "/web/?q=lead&status=handoff", cookie).Body.String())
	if len(groups) != 1 || len(groups[0]) != web.MaxRows || !more[0] {
		t.Errorf("search lead among handoffs: %d groups, more %v", len(groups), more)
	}
}
