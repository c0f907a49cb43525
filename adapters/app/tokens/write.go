package tokens

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"
)

// InfoJSON is a token as programs read it (tokens list --json, the API):
// never its secret or hash.
type InfoJSON struct {
	ID          string     `json:"id"`
	Name        string     `json:"name"`
	Scope       string     `json:"scope"`
	Prefix      string     `json:"prefix"`
	Created     time.Time  `json:"created"`
	CreatedBy   string     `json:"created_by"`
	Revoked     *time.Time `json:"revoked,omitempty"`
	RevokedBy   string     `json:"revoked_by,omitempty"`
	Reason      string     `json:"reason,omitempty"`
	Refused     int        `json:"refused_uses,omitempty"`
	LastRefused *time.Time `json:"last_refused,omitempty"`
}

// JSON is i for programs.
func (i Info) JSON() InfoJSON {
	out := InfoJSON{ID: i.ID.String(), Name: i.Name, Scope: string(i.Scope), Prefix: i.Prefix, Created: i.Created.UTC(),
		CreatedBy: i.CreatedBy, RevokedBy: i.RevokedBy, Reason: i.Reason, Refused: i.Refused}
	if !i.Revoked.IsZero() {
		t := i.Revoked.UTC()
		out.Revoked = &t
	}
	if !i.LastRefused.IsZero() {
		t := i.LastRefused.UTC()
		out.LastRefused = &t
	}
	return out
}

// WriteList writes tokens as a table: prefix, name, scope, created, and
// whether (and when) each was revoked.
func WriteList(w io.Writer, items []Info) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PREFIX\tNAME\tSCOPE\tCREATED\tSTATUS")
	for _, i := range items {
		status := "live"
		if !i.Live() {
			status = "revoked " + i.Revoked.UTC().Format("2006-01-02 15:04")
			if i.Refused > 0 {
				status += fmt.Sprintf(", %d uses refused since", i.Refused)
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", i.Prefix, i.Name, i.Scope, i.Created.UTC().Format("2006-01-02 15:04"), status)
	}
	return tw.Flush()
}

// ListJSON is items for programs.
func ListJSON(items []Info) []InfoJSON {
	out := make([]InfoJSON, len(items))
	for i, it := range items {
		out[i] = it.JSON()
	}
	return out
}

// CreatedJSON is a token just created, for programs: with the token
// itself, shown this once.
type CreatedJSON struct {
	InfoJSON
	Token string `json:"token"`
}

// JSON is c for programs, with the token.
func (c Created) JSON() CreatedJSON { return CreatedJSON{c.Info.JSON(), c.Token.Reveal()} }
