package contacts

import (
	"fmt"
	"strings"
)

// Text is the report for a person, in plain text: the counts, then up to
// maxRejected rejected rows with their lines and reasons ("… and N more").
// The CLI prints it and the admin bot sends it (escaped).
func (r Report) Text(maxRejected int) string {
	var b strings.Builder
	if r.Applied {
		fmt.Fprintf(&b, "%d rows: %d accepted (new contacts), %d merged into existing contacts", r.Rows, r.Accepted, r.Merged)
		if r.Merged > 0 {
			fmt.Fprintf(&b, " (%d duplicates within the file; %d got new tags or fields)", r.InFile, r.Changed)
		}
		fmt.Fprintf(&b, ", %d skipped (do-not-contact list", r.Skipped())
		if r.Erased > 0 {
			fmt.Fprintf(&b, ": %d opted out, %d erased", r.OptedOut, r.Erased)
		}
		fmt.Fprintf(&b, "), %d rejected.\n", len(r.Rejected))
	} else {
		fmt.Fprintf(&b, "%d rows, %d rejected.\n", r.Rows, len(r.Rejected))
	}
	if len(r.Rejected) > 0 {
		b.WriteString("Rejected rows:\n")
		for i, rj := range r.Rejected {
			if i == maxRejected {
				fmt.Fprintf(&b, "  … and %d more\n", len(r.Rejected)-maxRejected)
				break
			}
			fmt.Fprintf(&b, "  line %d: %s\n", rj.Line, rj.Reason)
		}
	}
	if r.Applied && r.Import != "" {
		fmt.Fprintf(&b, "Import id: %s\n", r.Import)
	}
	return b.String()
}
