package caldav

import (
	"context"
	"encoding/xml"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/salesbot/salesbot/domain"
)

// Interval is a busy span [Start, End).
type Interval = domain.Interval

// event is one busy span and the resource it comes from.
type event struct {
	href string
	span Interval
}

// Busy returns the calendar's busy spans that meet [from, to), sorted by
// start: every event except cancelled and transparent ("free") ones, a
// recurring event as its occurrences. It asks with a calendar-query
// REPORT whose calendar-data asks the server to expand recurrences; a
// server that does not (Radicale 3.1) returns the masters, which the
// client expands itself (RRULE FREQ DAILY, WEEKLY, MONTHLY, YEARLY with
// INTERVAL, COUNT, UNTIL and a plain BYDAY; RDATE, EXDATE, overridden
// occurrences by RECURRENCE-ID). Anything else it cannot read is
// ErrUnsupported; a refused login ErrUnauthorized.
//
// It does not use the free-busy-query REPORT: Radicale 3.1 answers it
// with no data, and the Booker needs each busy span's resource (to tell
// its own event from another's), which only calendar-query gives.
func (c *Client) Busy(ctx context.Context, from, to time.Time) ([]Interval, error) {
	evs, err := c.busy(ctx, from, to)
	if err != nil {
		return nil, err
	}
	out := make([]Interval, len(evs))
	for i, e := range evs {
		out[i] = e.span
	}
	return out, nil
}

func (c *Client) busy(ctx context.Context, from, to time.Time) ([]event, error) {
	if !to.After(from) {
		return nil, fmt.Errorf("caldav: busy: the range ends before it starts")
	}
	f, t := from.UTC().Format("20060102T150405Z"), to.UTC().Format("20060102T150405Z")
	body := `<?xml version="1.0" encoding="utf-8"?>
<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
 <D:prop><C:calendar-data><C:expand start="` + f + `" end="` + t + `"/></C:calendar-data></D:prop>
 <C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT">
  <C:time-range start="` + f + `" end="` + t + `"/>
 </C:comp-filter></C:comp-filter></C:filter>
</C:calendar-query>`
	_, data, err := c.do(ctx, "busy", "REPORT", c.base,
		map[string]string{"Depth": "1", "Content-Type": "application/xml; charset=utf-8"}, []byte(body), http.StatusMultiStatus)
	if err != nil {
		return nil, err
	}
	var ms multistatus
	if err := xml.Unmarshal(data, &ms); err != nil {
		return nil, fmt.Errorf("caldav: busy: the answer is no multistatus: %w", err)
	}
	window := Interval{Start: from, End: to}
	var out []event
	for _, r := range ms.Responses {
		for _, ps := range r.Propstat {
			if !strings.Contains(ps.Status, " 200 ") || strings.TrimSpace(ps.Prop.Data) == "" {
				continue
			}
			spans, err := busySpans(ps.Prop.Data, window, c.zone)
			if err != nil {
				return nil, fmt.Errorf("caldav: busy: %s: %w", r.Href, err)
			}
			for _, s := range spans {
				out = append(out, event{href: r.Href, span: s})
			}
		}
	}
	slices.SortFunc(out, func(a, b event) int { return a.span.Start.Compare(b.span.Start) })
	return out, nil
}

type multistatus struct {
	Responses []struct {
		Href     string `xml:"DAV: href"`
		Propstat []struct {
			Status string `xml:"DAV: status"`
			Prop   struct {
				Data string `xml:"urn:ietf:params:xml:ns:caldav calendar-data"`
			} `xml:"DAV: prop"`
		} `xml:"DAV: propstat"`
	} `xml:"DAV: response"`
}
