package adminbot

import (
	"archive/zip"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/salesbot/salesbot/projections"
)

// exportAll writes every dialog started since (zero: all) to a .zip in a
// temporary file — one .txt per dialog plus summary.csv — reading the read
// model a page at a time, so memory stays flat however many dialogs there
// are. The caller removes the file.
func exportAll(ctx context.Context, sink projections.Sink, since time.Time, accountLabel func(projections.Dialog) string) (path string, n int, err error) {
	f, err := os.CreateTemp("", "salesbot-export-*.zip")
	if err != nil {
		return "", 0, fmt.Errorf("create export file: %w", err)
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = cerr
		}
		if err != nil {
			os.Remove(f.Name())
		}
	}()
	z := zip.NewWriter(f)
	summary := &strings.Builder{} // one line per dialog: small next to the texts
	cw := csv.NewWriter(summary)
	_ = cw.Write([]string{"n", "name", "username", "account", "stage", "status", "outcome", "score", "variant",
		"messages_in", "messages_out", "started_at", "last_message_at", "handoff_reason"})
	// Dialogs opened during the export shift the newest-first pages: a
	// dialog seen on an earlier page is skipped.
	seen := map[int64]bool{}
	for offset := 0; ; offset += 500 {
		page, err := sink.ListDialogs(ctx, projections.DialogFilter{Limit: 500, Offset: offset})
		if err != nil {
			return "", 0, err
		}
		for _, d := range page {
			if seen[d.N] || (!since.IsZero() && d.CreatedAt.Before(since)) {
				continue
			}
			seen[d.N] = true
			w, err := z.Create(fmt.Sprintf("dialog-%d.txt", d.N))
			if err != nil {
				return "", 0, err
			}
			if err := projections.ExportDialog(ctx, sink, d.N, w); err != nil {
				return "", 0, fmt.Errorf("export dialog %d: %w", d.N, err)
			}
			c, err := sink.ContactByID(ctx, d.ContactID)
			if err != nil && !errors.Is(err, projections.ErrNotFound) {
				return "", 0, err
			}
			score := ""
			if d.Score != nil {
				score = strconv.Itoa(*d.Score)
			}
			_ = cw.Write([]string{strconv.FormatInt(d.N, 10), cell(c.Name), cell(c.Username), cell(accountLabel(d)), d.Stage, d.Status, d.Outcome,
				score, cell(d.Variant), strconv.Itoa(d.Inbound), strconv.Itoa(d.Outbound), stamp(d.CreatedAt), stamp(d.LastMessageAt), cell(d.HandoffReason)})
			n++
		}
		if len(page) < 500 {
			break
		}
	}
	cw.Flush()
	w, err := z.Create("summary.csv")
	if err != nil {
		return "", 0, err
	}
	if _, err := io.WriteString(w, summary.String()); err != nil {
		return "", 0, err
	}
	if err := z.Close(); err != nil {
		return "", 0, err
	}
	return f.Name(), n, nil
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// cell keeps a spreadsheet from reading user text as a formula.
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
