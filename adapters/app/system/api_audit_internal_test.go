package system

import (
	"fmt"
	"strings"
	"testing"

	"github.com/salesbot/salesbot/adapters/app/audit"
	"github.com/salesbot/salesbot/eventstore"
)

// What verify finds wrong is answered with its position, and without
// the server's paths.
func TestVerifyProblem(t *testing.T) {
	expect := &audit.Head{Position: 40}
	for _, c := range []struct {
		err  error
		pos  uint64
		want string
	}{
		{fmt.Errorf("verify: %w", &eventstore.TamperError{Position: 17, Reason: "hash chain broken"}), 17, "the log is altered: hash chain broken"},
		{&eventstore.AnchorError{File: "/srv/anchor/salesbot.json", Anchor: eventstore.SignedHead{Position: 90}, LogHead: 80,
			Reason: "is behind its anchor"}, 90, "the log is behind its anchor: its head is position 80, its anchor holds position 90"},
		{fmt.Errorf("%w: it ends at position 30", audit.ErrExpectedHead), 40, "it ends at position 30"},
	} {
		p := verifyProblem(c.err, expect)
		if p.Position == nil || *p.Position != c.pos || !strings.Contains(p.Problem, c.want) || strings.Contains(p.Problem, "/srv") {
			t.Errorf("%v: %+v", c.err, p)
		}
	}
}
