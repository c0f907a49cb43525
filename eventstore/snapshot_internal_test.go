package eventstore

import (
	"context"
	"encoding/binary"
	"errors"
	"testing"
)

// A snapshot of this very log (its id) is still refused when the log's
// event at its position is not the one it was made at (a rewrite), or
// when it lies past the log's head (an older backup restored).
func TestSnapshotCheckedAgainstTheLog(t *testing.T) {
	ctx := context.Background()
	st, err := NewMemory(Options{})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := st.Append(ctx, "s-1", Any, Event{Type: "T", Payload: []byte("{}")}); err != nil {
			t.Fatal(err)
		}
	}
	snaps := Snapshots{Store: st, Secrets: st}
	made := func(pos uint64, hash [32]byte) {
		id := st.LogID()
		b := append([]byte(snapshotMagic), binary.BigEndian.AppendUint32(nil, 1)...)
		b = append(append(append(b, id[:]...), binary.BigEndian.AppendUint64(nil, pos)...), hash[:]...)
		if err := st.PutSecret(ctx, snapshotSecret("x"), append(b, "state"...)); err != nil {
			t.Fatal(err)
		}
	}
	hash, err := st.HashAt(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	made(2, hash)
	if got, err := snaps.Load(ctx, "x", 1); err != nil || got.Position != 2 {
		t.Fatalf("a snapshot that fits: %d, %v", got.Position, err)
	}
	hash[0] ^= 1
	made(2, hash)
	if _, err := snaps.Load(ctx, "x", 1); !errors.Is(err, ErrNoSnapshot) {
		t.Fatalf("another event at its position: %v", err)
	}
	made(9, hash)
	if _, err := snaps.Load(ctx, "x", 1); !errors.Is(err, ErrNoSnapshot) {
		t.Fatalf("past the head: %v", err)
	}
}
