package contacts

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"
)

// ReportJSON is a report as 'contacts import --json' prints it (and the
// API serves it).
type ReportJSON struct {
	File     string      `json:"file"`
	Import   string      `json:"import,omitempty"`
	Applied  bool        `json:"applied"`
	Rows     int         `json:"rows"`
	Accepted int         `json:"accepted"`
	Merged   int         `json:"merged"`
	InFile   int         `json:"merged_in_file"`
	Changed  int         `json:"merged_changed"`
	OptedOut int         `json:"skipped_do_not_contact"`
	Erased   int         `json:"skipped_erased"`
	Rejected []Rejection `json:"rejected"` // [] when none
	Seconds  float64     `json:"seconds"`
}

// JSON is the report of importing file in its JSON shape.
func (r Report) JSON(file string) ReportJSON {
	rj := ReportJSON{File: file, Import: r.Import, Applied: r.Applied, Rows: r.Rows, Accepted: r.Accepted, Merged: r.Merged,
		InFile: r.InFile, Changed: r.Changed, OptedOut: r.OptedOut, Erased: r.Erased, Rejected: r.Rejected, Seconds: r.Elapsed.Seconds()}
	if rj.Rejected == nil {
		rj.Rejected = []Rejection{}
	}
	return rj
}

// Text is the report for a person, in plain text: the counts, then up to
// maxRejected rejected rows with their lines and reasons ("… and N more").
// The CLI prints it and the admin bot sends it (escaped), e.g.
//
//	1000 rows
//	  accepted  950 new contacts
//	  merged    30 duplicates (12 within the file; 8 brought new tags or fields)
//	  skipped   5 on the do-not-contact list (1 of them erased)
//	  rejected  15
//	    line 17: phone "123" is not + and 7 to 15 digits (with the country code)
//	    …
//	import id imp-0193a0c0-…
func (r Report) Text(maxRejected int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n", plural(r.Rows, "row", "rows"))
	if r.Applied {
		fmt.Fprintf(&b, "  accepted  %s\n", plural(r.Accepted, "new contact", "new contacts"))
		fmt.Fprintf(&b, "  merged    %s", plural(r.Merged, "duplicate", "duplicates"))
		if r.Merged > 0 {
			fmt.Fprintf(&b, " (%d within the file; %d brought new tags or fields)", r.InFile, r.Changed)
		}
		fmt.Fprintf(&b, "\n  skipped   %d on the do-not-contact list", r.Skipped())
		if r.Erased > 0 {
			fmt.Fprintf(&b, " (%d of them erased)", r.Erased)
		}
		b.WriteString("\n")
	} else {
		b.WriteString("  nothing was imported\n")
	}
	fmt.Fprintf(&b, "  rejected  %d\n", len(r.Rejected))
	for i, rj := range r.Rejected {
		if i == maxRejected {
			fmt.Fprintf(&b, "    … and %d more\n", len(r.Rejected)-maxRejected)
			break
		}
		fmt.Fprintf(&b, "    line %d: %s\n", rj.Line, rj.Reason)
	}
	if r.Applied && r.Import != "" {
		fmt.Fprintf(&b, "import id %s\n", r.Import)
	}
	return b.String()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// WriteText writes the report of importing file as 'salesbot contacts
// import' prints it: the file's base name, then Text(maxRejected);
// nothing when no row was read (Apply refused the options first).
func (r Report) WriteText(w io.Writer, file string, maxRejected int) error {
	if r.Rows == 0 {
		return nil
	}
	_, err := fmt.Fprintf(w, "%s: %s", filepath.Base(file), r.Text(maxRejected))
	return err
}

// WriteJSON writes the report of importing file in its JSON shape
// (JSON), on one line.
func (r Report) WriteJSON(w io.Writer, file string) error {
	b, err := json.Marshal(r.JSON(file))
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(w, string(b))
	return err
}
