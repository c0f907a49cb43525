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
