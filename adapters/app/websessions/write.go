package websessions

import (
	"fmt"
	"io"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"
)

// SignInPath is the console's page that redeems a link (its secret in
// the query parameter t).
const SignInPath = "/web/signin"

// URL is the link to hand out: base (the server's address as people
// reach it, "https://sales.example.com") with SignInPath and the
// secret. It holds the secret: print it for the person who asked, log
// it never.
func (l Link) URL(base string) string {
	return strings.TrimRight(base, "/") + SignInPath + "?t=" + url.QueryEscape(l.Secret.Reveal())
}

// LinkJSON is a link just issued, for programs (`salesbot web link
// --json`, the API): with its URL, shown this once.
type LinkJSON struct {
	ID      string    `json:"id"`
	Role    string    `json:"role"`
	URL     string    `json:"url"`
	Expires time.Time `json:"expires"`
}

// JSON is l for programs, with its URL on base.
func (l Link) JSON(base string) LinkJSON {
	return LinkJSON{ID: l.ID.String(), Role: string(l.Role), URL: l.URL(base), Expires: l.Expires.UTC()}
}

// InfoJSON is a live session as programs read it: never its secret or
// hash.
type InfoJSON struct {
	ID       string    `json:"id"`
	Role     string    `json:"role"`
	Link     string    `json:"link"`
	IssuedBy string    `json:"issued_by"`
	SignedIn time.Time `json:"signed_in"`
	Expires  time.Time `json:"expires"`
}

// JSON is i for programs.
func (i Info) JSON() InfoJSON {
	return InfoJSON{ID: i.ID.String(), Role: string(i.Role), Link: i.Link.String(), IssuedBy: i.IssuedBy,
		SignedIn: i.SignedIn.UTC(), Expires: i.Expires.UTC()}
}

// ListJSON is items for programs.
func ListJSON(items []Info) []InfoJSON {
	out := make([]InfoJSON, len(items))
	for i, it := range items {
		out[i] = it.JSON()
	}
	return out
}

// WriteList writes live sessions as a table: id, role, who asked for
// the link, when they signed in and when the session expires.
func WriteList(w io.Writer, items []Info) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SESSION\tROLE\tLINK BY\tSIGNED IN\tEXPIRES")
	for _, i := range items {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", i.ID, i.Role, i.IssuedBy,
			i.SignedIn.UTC().Format("2006-01-02 15:04"), i.Expires.UTC().Format("2006-01-02 15:04"))
	}
	return tw.Flush()
}
