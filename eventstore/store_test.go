package eventstore_test

import (
	"testing"

	"github.com/salesbot/salesbot/eventstore"
	"github.com/salesbot/salesbot/eventstore/storetest"
)

func testKey() []byte {
	k := make([]byte, eventstore.MasterKeySize)
	for i := range k {
		k[i] = byte(i + 1)
	}
	return k
}

func newPebble(t *testing.T, opts eventstore.Options) eventstore.Store {
	if opts.MasterKey == nil {
		opts.MasterKey = testKey()
	}
	s, err := eventstore.Open(t.TempDir(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newMemory(t *testing.T, opts eventstore.Options) eventstore.Store {
	s, err := eventstore.NewMemory(opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestPebbleContract(t *testing.T) { storetest.Run(t, newPebble) }
func TestMemoryContract(t *testing.T) { storetest.Run(t, newMemory) }
