package adminbot

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/salesbot/salesbot/domain"
)

// What a manager reads for an error comes from the error's type and
// fields, wrapped or not, never from its text; failures say nothing of
// their insides.
func TestExplain(t *testing.T) {
	at := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name    string
		err     error
		want    string
		refused bool
	}{
		{"in a dialog", fmt.Errorf("start: %w", &domain.InDialogError{Dialog: 7}), "The contact already has an open dialog (dialog 7).", true},
		{"being opened", &domain.InDialogError{}, "The contact already has an open dialog (another start is opening it).", true},
		{"the sentinel alone", fmt.Errorf("x: %w", domain.ErrInDialog), "The contact already has an open dialog.", true},
		{"a rule", fmt.Errorf("reserve: %w", &domain.Error{Code: domain.ELIMIT, Message: "ёлка opened 3 of 3 new dialogs today", RetryAt: at}),
			"Ёлка opened 3 of 3 new dialogs today (possible again at 2026-11-26 09:00 UTC).", true},
		{"no such account", fmt.Errorf("remove: %w", domain.ErrUnknownAccount), "No such account.", true},
		{"a failure", errors.New("accounts: pebble: disk on fire"), "Something went wrong; it is in the log.", false},
	} {
		got, refused := explain(c.err)
		if got != c.want || refused != c.refused {
			t.Errorf("%s: explain = %q, %v; want %q, %v", c.name, got, refused, c.want, c.refused)
		}
	}
}

// A refused import file reads without the package's name; anything else
// as it is.
func TestRefusal(t *testing.T) {
	if got := refusal(fmt.Errorf("import: %w", &domain.FileError{Problem: domain.ImportProblem("the file is not UTF-8"), Detail: "line 3"})); got != "the file is not UTF-8: line 3" {
		t.Errorf("file error: %q", got)
	}
	if got := refusal(&domain.FileError{Problem: domain.ImportProblem("the file has no rows")}); got != "the file has no rows" {
		t.Errorf("file error without detail: %q", got)
	}
	if got := refusal(errors.New("contacts: read the file: EOF")); got != "contacts: read the file: EOF" {
		t.Errorf("other error: %q", got)
	}
}
