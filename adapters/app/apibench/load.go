package apibench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/salesbot/salesbot/adapters/httpapi"
	"github.com/salesbot/salesbot/projections"
)

// Kinds of request, as Result.Kinds names them.
const (
	KindFirst    = "first"        // the first page, no filter
	KindLimit    = "limit"        // the first page of 200
	KindStatus   = "status"       // ?status=
	KindStage    = "status+stage" // ?status=active&stage=
	KindAccount  = "account"      // ?account=
	KindCampaign = "campaign"     // ?campaign=
	KindSince    = "since"        // ?since= (the last 1 to 60 days)
	KindMixed    = "account+status"
	KindCursor   = "cursor" // the next page of an earlier answer (next_cursor)
)

// kinds are the first pages and how often each is drawn.
var kinds = []struct {
	name   string
	weight int
}{
	{KindFirst, 30}, {KindLimit, 5}, {KindStatus, 15}, {KindStage, 10}, {KindAccount, 12},
	{KindCampaign, 12}, {KindSince, 8}, {KindMixed, 8},
}

// pagerShare of the first pages start paging: their worker follows
// next_cursor for 1 to maxPages more pages before it draws again.
const (
	pagerShare = 0.2
	maxPages   = 4
)

// sample is one measured request.
type sample struct {
	kind    string
	latency time.Duration
	err     string // "" for a 200
}

// driver sends the requests of one run.
type driver struct {
	client *http.Client
	base   string // http://host:port/api/v1/dialogs
	auth   string
	w      *world
}

// worker is one of the goroutines sending requests: the page it goes
// on with.
type worker struct {
	r      *mrand.Rand
	query  url.Values // of the list it pages through
	cursor string
	pages  int // left to follow
}

// run sends rate requests a second for total requests (the first warm of
// them not measured) from concurrency workers. Request i is due at
// start + i/rate: a worker takes the next request, waits for its time,
// sends it and measures from the time it was due, so a request that
// waited for a free worker counts its wait (no coordinated omission).
func (d *driver) run(ctx context.Context, rate, total, warm, concurrency int, seed uint64) ([]sample, time.Duration, error) {
	samples := make([]sample, total)
	interval := time.Second / time.Duration(rate)
	var next atomic.Int64
	start := time.Now().Add(20 * time.Millisecond)
	var (
		mu   sync.Mutex
		last time.Time
		wg   sync.WaitGroup
	)
	for w := range concurrency {
		wg.Go(func() {
			wk := &worker{r: mrand.New(mrand.NewPCG(seed, uint64(w)+1))}
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= total {
					return
				}
				due := start.Add(time.Duration(i) * interval)
				if wait := time.Until(due); wait > 0 {
					t := time.NewTimer(wait)
					select {
					case <-ctx.Done():
						t.Stop()
						return
					case <-t.C:
					}
				}
				kind, err := d.send(ctx, wk)
				done := time.Now()
				samples[i] = sample{kind: kind, latency: done.Sub(due), err: err}
				mu.Lock()
				if done.After(last) {
					last = done
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	took := last.Sub(start.Add(time.Duration(warm) * interval))
	return samples[warm:], took, nil
}

// send sends worker wk's next request and says its kind and, unless the
// answer was a 200 with a page, what went wrong.
func (d *driver) send(ctx context.Context, wk *worker) (kind, failure string) {
	q := url.Values{}
	if wk.pages > 0 && wk.cursor != "" {
		kind = KindCursor
		for k, v := range wk.query {
			q[k] = v
		}
		q.Set("cursor", wk.cursor)
		wk.pages--
	} else {
		kind, q = d.draw(wk.r)
		wk.query, wk.pages = q, 0
		if wk.r.Float64() < pagerShare {
			wk.pages = 1 + wk.r.IntN(maxPages)
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.base+"?"+q.Encode(), nil)
	if err != nil {
		return kind, err.Error()
	}
	req.Header.Set("Authorization", d.auth)
	resp, err := d.client.Do(req)
	if err != nil {
		wk.pages = 0
		return kind, err.Error()
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, resp.Body)
		wk.pages = 0
		return kind, resp.Status
	}
	if wk.pages == 0 {
		if _, err := io.Copy(io.Discard, resp.Body); err != nil {
			return kind, err.Error()
		}
		return kind, ""
	}
	var page struct {
		NextCursor *string `json:"next_cursor"` // the items are skipped, not kept
	}
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
		wk.pages = 0
		return kind, fmt.Sprintf("decode the page: %v", err)
	}
	wk.cursor = ""
	if page.NextCursor != nil {
		wk.cursor = *page.NextCursor
	}
	return kind, ""
}

// draw is a first page: its kind and query.
func (d *driver) draw(r *mrand.Rand) (string, url.Values) {
	total := 0
	for _, k := range kinds {
		total += k.weight
	}
	x := r.IntN(total)
	kind := kinds[len(kinds)-1].name
	for _, k := range kinds {
		if x < k.weight {
			kind = k.name
			break
		}
		x -= k.weight
	}
	q := url.Values{}
	status := func() string {
		return []string{projections.StatusActive, projections.StatusHandoff, projections.StatusClosed}[r.IntN(3)]
	}
	switch kind {
	case KindLimit:
		q.Set("limit", "200")
	case KindStatus:
		q.Set("status", status())
	case KindStage:
		q.Set("status", projections.StatusActive)
		q.Set("stage", string(activeStages[r.IntN(len(activeStages))]))
	case KindAccount:
		q.Set("account", d.w.accounts[r.IntN(Accounts)].String())
	case KindCampaign:
		q.Set("campaign", d.w.campaigns[r.IntN(Campaigns)].String())
	case KindSince:
		q.Set("since", d.w.now.Add(-time.Duration(1+r.IntN(60))*24*time.Hour).Format(time.RFC3339))
	case KindMixed:
		q.Set("account", d.w.accounts[r.IntN(Accounts)].String())
		q.Set("status", status())
	}
	if kind != KindLimit && r.IntN(4) == 0 {
		q.Set("limit", strconv.Itoa([]int{10, 20, 100}[r.IntN(3)]))
	}
	return kind, q
}

// noCampaigns, noOpener and noTranscripts stand for ports the list does
// not use.
type (
	noCampaigns   struct{}
	noOpener      struct{}
	noTranscripts struct{}
)

var errNotMeasured = errors.New("apibench: only the dialog list is measured")

func (noOpener) Open(context.Context, httpapi.OpenRequest) (int64, error) { return 0, errNotMeasured }
func (noTranscripts) WriteText(context.Context, int64, io.Writer) error   { return errNotMeasured }

func (noCampaigns) Campaigns(context.Context) ([]httpapi.Campaign, error) { return nil, nil }
