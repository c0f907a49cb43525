package projections

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"
)

// ExportDialog writes dialog n as plain text: a header with the lead card
// (contact, stage, status, score, and the qualification fields, standard
// and custom, by name) and every message with its time and author. It is
// what /export sends as a .txt document.
func ExportDialog(ctx context.Context, sink Sink, n int64, w io.Writer) error {
	d, err := sink.DialogByN(ctx, n)
	if err != nil {
		return err
	}
	c, err := sink.ContactByID(ctx, d.ContactID)
	if err != nil {
		return fmt.Errorf("dialog %d: %w", n, err)
	}
	msgs, err := sink.Messages(ctx, d.ID)
	if err != nil {
		return fmt.Errorf("dialog %d: messages: %w", n, err)
	}
	qual, err := sink.Qualification(ctx, d.ID)
	if err != nil {
		return fmt.Errorf("dialog %d: qualification: %w", n, err)
	}
	ew := &errWriter{w: w}
	ew.printf("Dialog %d\n", d.N)
	who := c.Name
	if c.Username != "" {
		who += " (@" + c.Username + ")"
	}
	ew.printf("Contact: %s, source %s, basis %s", who, c.Source, c.Basis)
	if c.OptedOut {
		ew.printf(", do not contact")
	}
	ew.printf("\nStage: %s, status: %s", d.Stage, d.Status)
	if d.Outcome != "" {
		ew.printf(", outcome: %s", d.Outcome)
	}
	if d.Score != nil {
		ew.printf(", score %d", *d.Score)
	}
	if d.Variant != "" {
		ew.printf(", variant %s", d.Variant)
	}
	ew.printf("\nStarted: %s\n", d.CreatedAt.UTC().Format(time.DateTime))
	if !d.HandoffAt.IsZero() {
		ew.printf("Handed off: %s (%s)\n", d.HandoffAt.UTC().Format(time.DateTime), d.HandoffReason)
	}
	switch m, err := sink.Meeting(ctx, d.ID); {
	case err == nil && m.Booked():
		ew.printf("Meeting: booked %s – %s UTC", m.Start.UTC().Format(time.DateTime), m.End.UTC().Format(time.DateTime))
		if m.Manager != "" {
			ew.printf(", calendar of %s", m.Manager)
		}
		ew.printf(" (booked %s)\n", m.BookedAt.UTC().Format(time.DateTime))
	case err == nil:
		ew.printf("Meeting: proposed %s", m.ProposedAt.UTC().Format(time.DateTime))
		if m.Link != "" {
			ew.printf(", a booking link %s\n", m.Link)
		} else {
			ew.printf(", %d slots\n", len(m.Slots))
		}
	case !errors.Is(err, ErrNotFound):
		return fmt.Errorf("dialog %d: meeting: %w", n, err)
	}
	for _, q := range qual {
		ew.printf("%s: %s", q.Field, q.Value)
		if q.Quote != "" {
			ew.printf(" — %q", q.Quote)
		}
		ew.printf(" (confidence %.2f)\n", q.Confidence)
	}
	ew.printf("\n")
	for _, m := range msgs {
		status := ""
		if m.Direction == "out" && m.Status != "sent" {
			status = " [" + m.Status + "]"
		}
		file := ""
		if m.File != "" {
			file = " [file " + m.File + "]"
		}
		ew.printf("[%s] %s%s: %s%s\n", m.At.UTC().Format(time.DateTime), m.Author, status, m.Shown(), file)
	}
	return ew.err
}

// ExportAll writes every dialog as ExportDialog does, oldest first,
// separated by a line of dashes, reading the dialogs a page at a time so
// memory stays flat however many there are.
func ExportAll(ctx context.Context, sink Sink, w io.Writer) (int, error) {
	var ns []int64
	for offset := 0; ; offset += 500 {
		page, err := sink.ListDialogs(ctx, DialogFilter{Limit: 500, Offset: offset})
		if err != nil {
			return 0, err
		}
		for _, d := range page {
			ns = append(ns, d.N)
		}
		if len(page) < 500 {
			break
		}
	}
	for i := len(ns) - 1; i >= 0; i-- {
		if err := ExportDialog(ctx, sink, ns[i], w); err != nil {
			return len(ns) - 1 - i, err
		}
		if _, err := io.WriteString(w, "\n----------------------------------------\n\n"); err != nil {
			return len(ns) - 1 - i, err
		}
	}
	return len(ns), nil
}

// errWriter keeps the first write error.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}
