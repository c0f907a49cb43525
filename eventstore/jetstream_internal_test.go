package eventstore

import (
	"testing"

	"github.com/salesbot/salesbot/eventstore/jetstreamtest"
)

// storedAs tells a message by its Nats-Msg-Id: how a publish whose
// answer was lost learns, on a one-server stream that refuses the resend
// for its last sequence, that the first send was stored.
func TestJetStreamStoredAs(t *testing.T) {
	url := jetstreamtest.URL()
	s, err := OpenJetStream(t.Context(), url+"/"+jetstreamtest.NewLog(t, url), Options{MasterKey: make([]byte, MasterKeySize)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, tc := range []struct {
		seq  uint64
		id   string
		want bool
	}{{1, "salesbot-genesis", true}, {1, "another", false}, {2, "salesbot-genesis", false}} {
		if got := s.storedAs(tc.seq, tc.id); got != tc.want {
			t.Errorf("storedAs(%d, %q) = %v, want %v", tc.seq, tc.id, got, tc.want)
		}
	}
}
