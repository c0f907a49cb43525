package caldav

import (
	"context"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/salesbot/salesbot/domain"
)

// Event is a meeting to write to the calendar.
type Event = domain.Meeting

// Book writes ev as a new calendar object at the collection's
// UID.ics, with If-None-Match: * so that it never replaces one: if the
// resource exists (someone booked the same UID first), the error matches
// ErrConflict. It returns the new event's URL, for Delete. An invalid
// event is the domain's EINVALID *Error.
func (c *Client) Book(ctx context.Context, ev Event) (href string, err error) {
	text, err := ev.ICS()
	if err != nil {
		return "", fmt.Errorf("caldav: book: %w", err)
	}
	u := c.base.JoinPath(ev.UID + ".ics")
	_, _, err = c.do(ctx, "book", http.MethodPut, u, map[string]string{
		"Content-Type":  "text/calendar; charset=utf-8",
		"If-None-Match": "*",
	}, []byte(text), http.StatusCreated, http.StatusNoContent, http.StatusOK)
	if err != nil {
		return "", err
	}
	return u.String(), nil
}

// Delete removes the event at href (as Book returned it, or a path on
// the calendar's server): for a cancelled meeting. A missing event is
// ErrNotFound.
func (c *Client) Delete(ctx context.Context, href string) error {
	u, err := c.resolve(href)
	if err != nil {
		return err
	}
	if !strings.HasPrefix(u.Path, c.base.Path) {
		return fmt.Errorf("caldav: delete: %q is not in the calendar collection", href)
	}
	_, _, err = c.do(ctx, "delete", http.MethodDelete, u, nil, nil, http.StatusOK, http.StatusNoContent)
	return err
}

// MakeCalendar creates the calendar collection at the client's URL
// (MKCALENDAR) named name, for servers where a user may (Radicale,
// Nextcloud). An existing collection is an error matching ErrConflict
// or, on some servers, a 405 *StatusError.
func (c *Client) MakeCalendar(ctx context.Context, name string) error {
	var b strings.Builder
	if err := xmlEscape(&b, name); err != nil {
		return err
	}
	body := `<?xml version="1.0" encoding="utf-8"?>
<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
 <D:set><D:prop>
  <D:displayname>` + b.String() + `</D:displayname>
  <C:supported-calendar-component-set><C:comp name="VEVENT"/></C:supported-calendar-component-set>
 </D:prop></D:set>
</C:mkcalendar>`
	_, _, err := c.do(ctx, "mkcalendar", "MKCALENDAR", c.base,
		map[string]string{"Content-Type": "application/xml; charset=utf-8"}, []byte(body), http.StatusCreated)
	return err
}

// hrefPath is the path of an href (a URL or a path), unescaped, to
// compare what Book returned with what a multistatus names.
func hrefPath(href string) string {
	u, err := url.Parse(href)
	if err != nil {
		return href
	}
	return strings.TrimSuffix(u.Path, "/")
}

func xmlEscape(b *strings.Builder, s string) error { return xml.EscapeText(b, []byte(s)) }
