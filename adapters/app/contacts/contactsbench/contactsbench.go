// Package contactsbench measures a contacts import on this machine
// ('salesbot bench import'): it generates a CSV of realistic rows, parses
// it and imports it into a log as 'salesbot contacts import' does.
package contactsbench

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/salesbot/salesbot/adapters/app/contacts"
	"github.com/salesbot/salesbot/adapters/eventlog"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/eventstore"
)

// Result is what an import measured.
type Result struct {
	Rows         int     `json:"rows"`
	Concurrency  int     `json:"concurrency"`
	ParseSeconds float64 `json:"parse_seconds"`
	Seconds      float64 `json:"seconds"`
	RowsPerSec   float64 `json:"rows_per_sec"`
	Events       uint64  `json:"events"`
	Accepted     int     `json:"accepted"`
	Merged       int     `json:"merged"`
}

// String is the result on one line, as 'salesbot bench import' prints it.
func (r Result) String() string {
	return fmt.Sprintf("import: %d rows (c=%d) parsed in %.2fs, imported in %.2fs: %.0f rows/s; %d new contacts, %d merged, %d events",
		r.Rows, r.Concurrency, r.ParseSeconds, r.Seconds, r.RowsPerSec, r.Accepted, r.Merged, r.Events)
}

// Run generates rows rows (Generate), parses them and imports them into
// s with concurrency rows recorded at once; progress, if set, hears how
// far the import is.
func Run(ctx context.Context, s eventstore.Store, rows, concurrency int, progress func(done, total int)) (Result, error) {
	csv := Generate(rows)
	t0 := time.Now()
	f, err := contacts.Parse(bytes.NewReader(csv))
	if err != nil {
		return Result{}, fmt.Errorf("parse the generated file: %w", err)
	}
	parsed := time.Since(t0)
	h := domain.Handlers{Log: eventlog.New(s), Index: domain.NewIndexKey(s.IndexKey()), Now: time.Now}
	rep, err := contacts.Apply(ctx, h, f, contacts.Options{Basis: domain.BasisConsent, Note: "bench import",
		Concurrency: concurrency, Progress: progress})
	if err != nil {
		return Result{}, err
	}
	return Result{Rows: rows, Concurrency: concurrency, ParseSeconds: parsed.Seconds(), Seconds: rep.Elapsed.Seconds(),
		RowsPerSec: float64(rows) / rep.Elapsed.Seconds(), Events: s.Head(), Accepted: rep.Accepted, Merged: rep.Merged}, nil
}

// Generate writes a contacts file of n rows (username, phone, name, tags
// and a custom field); every 20th row is the person of an earlier row
// again (by phone, with another tag).
func Generate(n int) []byte {
	var b bytes.Buffer
	b.WriteString("username,phone,first_name,last_name,tags,company\n")
	for i := range n {
		if i%20 == 19 {
			fmt.Fprintf(&b, ",+49 151 %08d,,,returning,\n", i-10)
			continue
		}
		fmt.Fprintf(&b, "lead_%07d,+49 151 %08d,Lead,Number %d,\"fair-2026,b2b\",Company %d\n", i, i, i, i%997)
	}
	return b.Bytes()
}
