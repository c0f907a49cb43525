package accountsbench_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/salesbot/salesbot/adapters/app/accounts/accountsbench"
	"github.com/salesbot/salesbot/eventstore"
)

// A small run measures what it says, and a second run on the same data
// directory reconnects the accounts the first one signed in (the sandbox
// keeps its users in sandbox.json) instead of signing them in again.
func TestRunTwice(t *testing.T) {
	if testing.Short() {
		t.Skip("signs accounts in through MTProto")
	}
	dir := t.TempDir()
	key := bytes.Repeat([]byte{7}, eventstore.MasterKeySize)
	for i, wantNew := range []int{3, 0} {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		st, err := eventstore.Open(dir, eventstore.Options{MasterKey: key})
		if err != nil {
			t.Fatal(err)
		}
		res, err := accountsbench.Run(ctx, accountsbench.Config{Store: st, Dir: dir, Accounts: 3, Messages: 6, Parallel: 2})
		st.Close()
		cancel()
		if err != nil {
			t.Fatalf("run %d: %v", i+1, err)
		}
		if res.Accounts != 3 || res.NewSessions != wantNew || res.Messages != 6 || res.Replies != 3 || res.InboundP99ms <= 0 {
			t.Fatalf("run %d: %+v; want %d new sessions, 6 messages in and 3 replies out", i+1, res, wantNew)
		}
	}
}

// A result prints on four lines, as 'bench accounts' has always printed
// it.
func TestResultString(t *testing.T) {
	r := accountsbench.Result{Accounts: 100, NewSessions: 100, SignInSeconds: 61.3, ConnectSeconds: 2.5,
		RSSBeforeMiB: 40, RSSConnectedMiB: 140, RSSPerAccountKi: 1024,
		Messages: 500, Rate: 200, MessagesPerSec: 199.4, InboundP50ms: 1.25, InboundP99ms: 4.5,
		Replies: 100, RepliesPerSec: 250, ReplyP99ms: 3.75}
	want := "accounts 100 (new sessions 100, sign-in 61.3s), connected in 2.50s\n" +
		"memory   40 MiB → 140 MiB: 1024 KiB per connected account\n" +
		"inbound  500 messages offered at 200/s (0 = unthrottled): 199/s stored, p50 1.25ms p99 4.50ms\n" +
		"replies  100 sent, 250/s, planned→sent p99 3.75ms"
	if got := r.String(); got != want {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
}
