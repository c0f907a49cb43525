package contacts

import (
	"fmt"
	"strings"
)

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
