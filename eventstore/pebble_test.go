package eventstore

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"syscall"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/google/uuid"
)

func key32() []byte { return bytes.Repeat([]byte{7}, MasterKeySize) }

// fill writes n events over three streams and closes the store.
func fill(t *testing.T, dir string, n int) {
	t.Helper()
	s, err := Open(dir, Options{MasterKey: key32()})
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		ev := Event{Type: "E", Payload: fmt.Appendf(nil, "payload %d", i)}
		if i%4 == 0 {
			ev.Subject, ev.Personal = "c1", map[string]string{"text": fmt.Sprint("secret ", i)}
		}
		if _, err := s.Append(t.Context(), fmt.Sprintf("dialog-%d", i%3), Any, ev); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

// rawEdit opens the Pebble database directly, the way an attacker with file
// access would, and changes it with valid checksums.
func rawEdit(t *testing.T, dir string, fn func(db *pebble.DB)) {
	t.Helper()
	db, err := pebble.Open(dir, &pebble.Options{Logger: pebbleLogger{}})
	if err != nil {
		t.Fatal(err)
	}
	fn(db)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

// logIDOf reads the log id of a raw database.
func logIDOf(t *testing.T, db *pebble.DB) uuid.UUID {
	t.Helper()
	id, err := uuid.FromBytes(get(t, db, keyLogID))
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func get(t *testing.T, db *pebble.DB, k []byte) []byte {
	t.Helper()
	v, c, err := db.Get(k)
	if err != nil {
		t.Fatalf("get %q: %v", k, err)
	}
	defer c.Close()
	return bytes.Clone(v)
}

func set(t *testing.T, db *pebble.DB, k, v []byte) {
	t.Helper()
	if err := db.Set(k, v, pebble.Sync); err != nil {
		t.Fatal(err)
	}
}

// verifyDir opens dir and verifies it; an Open refusal counts as detection.
func verifyDir(t *testing.T, dir string) (VerifyReport, error) {
	t.Helper()
	s, err := Open(dir, Options{MasterKey: key32(), ForAudit: true, ReadOnly: true})
	if err != nil {
		return VerifyReport{}, err
	}
	defer s.Close()
	if _, err := s.Append(context.Background(), "x", Any, Event{Type: "E"}); err == nil {
		t.Fatal("a store opened read-only for audit accepted an append")
	}
	return s.Verify(context.Background(), nil)
}

func TestVerifyDetectsTampering(t *testing.T) {
	const n = 20
	cases := []struct {
		name    string
		edit    func(t *testing.T, db *pebble.DB)
		wantPos uint64
	}{
		{"payload byte changed", func(t *testing.T, db *pebble.DB) {
			v := get(t, db, eventKey(7))
			v[len(v)-1] ^= 1
			set(t, db, eventKey(7), v)
		}, 7},
		{"recorded time changed", func(t *testing.T, db *pebble.DB) {
			v := get(t, db, eventKey(12))
			v[offTime+7]++
			set(t, db, eventKey(12), v)
		}, 12},
		{"event removed", func(t *testing.T, db *pebble.DB) {
			if err := db.Delete(eventKey(5), pebble.Sync); err != nil {
				t.Fatal(err)
			}
		}, 5},
		{"two events swapped", func(t *testing.T, db *pebble.DB) {
			a, b := get(t, db, eventKey(9)), get(t, db, eventKey(10))
			set(t, db, eventKey(9), b)
			set(t, db, eventKey(10), a)
		}, 9},
		{"event inserted with a recomputed chain", func(t *testing.T, db *pebble.DB) {
			// Shift events 15..20 up by one, put a forged event at 15 and
			// recompute every hash after it: only the MAC'd tip can tell.
			prev := get(t, db, eventKey(14))
			h := envelopeHash(prev[:len(prev)-macLen])
			forged := encodeBody(&Event{Type: "E", Payload: []byte("forged")}, "dialog-2", nil, nil)
			forged = append(forged, make([]byte, macLen)...)
			vals := [][]byte{forged}
			for p := uint64(15); p <= n; p++ {
				vals = append(vals, get(t, db, eventKey(p)))
			}
			for i, v := range vals {
				pos := uint64(15 + i)
				binary.BigEndian.PutUint64(v[offPosition:], pos)
				copy(v[offPrevHash:], h[:])
				set(t, db, eventKey(pos), v)
				h = envelopeHash(v[:len(v)-macLen])
			}
		}, 15},
		{"tail truncated", func(t *testing.T, db *pebble.DB) {
			if err := db.Delete(eventKey(n), pebble.Sync); err != nil {
				t.Fatal(err)
			}
		}, n},
		{"chain tip rewritten without the key", func(t *testing.T, db *pebble.DB) {
			v := get(t, db, keyTip)
			binary.BigEndian.PutUint64(v, n-1)
			set(t, db, keyTip, v)
		}, 0},
		{"stream head redirected", func(t *testing.T, db *pebble.DB) {
			set(t, db, prefixed(prefixHead, "dialog-0"), streamHead{version: 7, pos: 16}.encode())
		}, 19},
		{"stream head lowered", func(t *testing.T, db *pebble.DB) {
			set(t, db, prefixed(prefixHead, "dialog-1"), streamHead{version: 2, pos: 5}.encode())
		}, 20},
		{"stream head for a stream without events", func(t *testing.T, db *pebble.DB) {
			set(t, db, prefixed(prefixHead, "dialog-9"), streamHead{version: 1, pos: 3}.encode())
		}, 0},
		{"stream back-pointer changed", func(t *testing.T, db *pebble.DB) {
			v := get(t, db, eventKey(10))
			binary.BigEndian.PutUint64(v[offStreamPrev:], 4)
			set(t, db, eventKey(10), v)
		}, 10},
		{"subject key deleted", func(t *testing.T, db *pebble.DB) {
			if err := db.Delete(prefixed(prefixKey, "c1"), pebble.Sync); err != nil {
				t.Fatal(err)
			}
		}, 0},
		{"subject key blanked (an erasure faked)", func(t *testing.T, db *pebble.DB) {
			set(t, db, prefixed(prefixKey, "c1"), []byte{})
		}, 0},
		{"subject key replaced by a tombstone signed with another key", func(t *testing.T, db *pebble.DB) {
			other, _ := newMaster(bytes.Repeat([]byte{9}, MasterKeySize))
			set(t, db, prefixed(prefixKey, "c1"), other.tombstone(logIDOf(t, db), "c1", 0))
		}, 0},
		{"subject key copied from another subject", func(t *testing.T, db *pebble.DB) {
			set(t, db, prefixed(prefixKey, "c2"), get(t, db, prefixed(prefixKey, "c1")))
		}, 0},
		{"signed head rolled forward to a forged hash", func(t *testing.T, db *pebble.DB) {
			h, err := decodeSignedHead(get(t, db, keySignedHead))
			if err != nil {
				t.Fatal(err)
			}
			h.Hash[0] ^= 1
			set(t, db, keySignedHead, h.encode())
		}, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			fill(t, dir, n)
			if _, err := verifyDir(t, dir); err != nil {
				t.Fatalf("untouched log: %v", err)
			}
			rawEdit(t, dir, func(db *pebble.DB) { c.edit(t, db) })
			_, err := verifyDir(t, dir)
			var te *TamperError
			if !errors.Is(err, ErrTampered) || !errors.As(err, &te) {
				t.Fatalf("verify after tampering: %v, want ErrTampered", err)
			}
			if te.Position != c.wantPos {
				t.Fatalf("first bad position %d (%s), want %d", te.Position, te.Reason, c.wantPos)
			}
		})
	}
}

func TestReopenKeepsEverything(t *testing.T) {
	dir := t.TempDir()
	fill(t, dir, 30)
	s, err := Open(dir, Options{MasterKey: key32()})
	if err != nil {
		t.Fatal(err)
	}
	if s.Head() != 30 {
		t.Fatalf("head after reopen = %d", s.Head())
	}
	// Stream heads come back from disk: a stale expectation still conflicts.
	if _, err := s.Append(t.Context(), "dialog-0", Exact(3), Event{Type: "E"}); !errors.Is(err, ErrVersionConflict) {
		t.Fatalf("stale version after reopen: %v", err)
	}
	r, err := s.Append(t.Context(), "dialog-0", Exact(10), Event{Type: "E"})
	if err != nil || r.FirstPosition != 31 || r.Version != 11 {
		t.Fatalf("append after reopen: %+v %v", r, err)
	}
	evs, err := s.ReadStream(t.Context(), "dialog-0", 1)
	if err != nil || len(evs) != 11 {
		t.Fatalf("stream after reopen: %d events, %v", len(evs), err)
	}
	if evs[0].Personal["text"] != "secret 0" {
		t.Fatalf("personal field after reopen: %v", evs[0].Personal)
	}
	if err := s.Forget(t.Context(), "c1"); err != nil {
		t.Fatal(err)
	}
	s.Close()

	s, err = Open(dir, Options{MasterKey: key32()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	evs, _ = s.ReadStream(t.Context(), "dialog-0", 1)
	if !evs[0].Forgotten || evs[0].Personal["text"] != ForgottenMarker {
		t.Fatalf("forget did not survive a reopen: %v", evs[0].Personal)
	}
	if _, err := s.Verify(t.Context(), nil); err != nil {
		t.Fatalf("verify after forget and reopen: %v", err)
	}
	// The wrapped key is gone from the database, not only shadowed.
	found := false
	it, _ := s.db.NewIter(&pebble.IterOptions{LowerBound: prefixKey, UpperBound: prefixEnd(prefixKey)})
	for ok := it.First(); ok; ok = it.Next() {
		if rec, err := decodeKeyRecord(it.Value()); string(it.Key()) == "k|c1" && (err != nil || !rec.erased) {
			found = true
		}
	}
	it.Close()
	if found {
		t.Fatal("forgotten subject's key is still readable")
	}
}

func TestOpenRefusals(t *testing.T) {
	dir := t.TempDir()
	if _, err := Open(dir, Options{MasterKey: key32(), MustExist: true}); !errors.Is(err, ErrNoLog) {
		t.Fatalf("MustExist on an empty dir: %v", err)
	}
	fill(t, dir, 3)
	other := bytes.Repeat([]byte{9}, MasterKeySize)
	if _, err := Open(dir, Options{MasterKey: other}); !errors.Is(err, ErrTampered) {
		t.Fatalf("open with another master key: %v, want the tip MAC to fail", err)
	}
	if _, err := Open(dir, Options{MasterKey: []byte("short")}); err == nil {
		t.Fatal("a short master key was accepted")
	}
	rawEdit(t, dir, func(db *pebble.DB) { set(t, db, eventKey(4), get(t, db, eventKey(3))) })
	if _, err := Open(dir, Options{MasterKey: key32()}); !errors.Is(err, ErrTampered) {
		t.Fatalf("open with an event past the tip: %v", err)
	}
	s, err := Open(dir, Options{MasterKey: key32(), ForAudit: true})
	if err != nil {
		t.Fatalf("open for audit: %v", err)
	}
	defer s.Close()
	if _, err := s.Append(t.Context(), "x", Any, Event{Type: "E"}); !errors.Is(err, ErrClosed) || !errors.Is(err, ErrTampered) {
		t.Fatalf("append to a log opened for audit with a bad tip: %v", err)
	}
}

func TestReadersStopAtDurableHead(t *testing.T) {
	s, err := Open(t.TempDir(), Options{MasterKey: key32()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Append(t.Context(), "a", NoStream, Event{Type: "E"}, Event{Type: "E"}); err != nil {
		t.Fatal(err)
	}
	// Write an event straight into Pebble past the durable head, as an
	// applied-but-unsynced group would be: readers must not see it.
	b := encodeBody(&Event{Type: "E", SchemaVersion: 1}, "a", nil, nil)
	stamp(b, 3, 3, 2, s.now(), &s.tip.hash)
	set(t, s.db, eventKey(3), append(b, make([]byte, macLen)...))
	set(t, s.db, prefixed(prefixHead, "a"), streamHead{version: 3, pos: 3}.encode())
	all, err := s.ReadAll(t.Context(), 1, 10)
	if err != nil || len(all) != 2 {
		t.Fatalf("ReadAll saw %d events (%v), want 2", len(all), err)
	}
	st, err := s.ReadStream(t.Context(), "a", 1)
	if err != nil || len(st) != 2 {
		t.Fatalf("ReadStream saw %d events (%v), want 2", len(st), err)
	}
}

func TestHeadsCacheEviction(t *testing.T) {
	s, err := Open(t.TempDir(), Options{MasterKey: key32()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.maxHeads = 2
	for round := range 3 {
		for i := range 6 {
			stream := fmt.Sprint("st-", i)
			if _, err := s.Append(t.Context(), stream, Exact(uint64(round)), Event{Type: "E"}); err != nil {
				t.Fatalf("round %d %s: %v", round, stream, err)
			}
			if _, err := s.Append(t.Context(), stream, Exact(uint64(round)), Event{Type: "E"}); !errors.Is(err, ErrVersionConflict) {
				t.Fatalf("round %d %s: stale version accepted after eviction: %v", round, stream, err)
			}
		}
		if len(s.heads) > 6 {
			t.Fatalf("heads cache holds %d entries", len(s.heads))
		}
	}
	if _, err := s.Verify(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
}

// A log in use is ErrLocked: by another store of this process (Pebble's
// own refusal) and by another process (fcntl's lock); a read-only open
// of a log in use also says so, and the lock goes with Close.
func TestOpenLockedLog(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{MasterKey: key32()})
	if err != nil {
		t.Fatal(err)
	}
	for _, opts := range []Options{{MasterKey: key32()}, {MasterKey: key32(), ReadOnly: true}} {
		if again, err := Open(dir, opts); !errors.Is(err, ErrLocked) {
			if again != nil {
				again.Close()
			}
			t.Fatalf("a second open in this process (read-only %v): %v, want ErrLocked", opts.ReadOnly, err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(dir, Options{MasterKey: key32()})
	if err != nil {
		t.Fatalf("open after Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(t.TempDir(), Options{MasterKey: key32(), MustExist: true}); errors.Is(err, ErrLocked) || !errors.Is(err, ErrNoLog) {
		t.Fatalf("no log: %v", err)
	}

	// Another process holds the lock.
	cmd := exec.Command(os.Args[0], "-test.run=^TestLockHolderChild$", "-test.v=false")
	cmd.Env = append(os.Environ(), lockChildEnv+"="+dir)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		in.Close() // the child closes the log and exits
		if err := cmd.Wait(); err != nil {
			t.Errorf("child: %v", err)
		}
	}()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "open\n" {
		t.Fatalf("child: %q %v", line, err)
	}
	if s, err := Open(dir, Options{MasterKey: key32()}); !errors.Is(err, ErrLocked) {
		if s != nil {
			s.Close()
		}
		t.Fatalf("open of a log another process holds: %v, want ErrLocked", err)
	}
}

const lockChildEnv = "EVENTSTORE_LOCK_CHILD_DIR"

// TestLockHolderChild is the child of TestOpenLockedLog: it holds the log
// open until its stdin closes.
func TestLockHolderChild(t *testing.T) {
	dir := os.Getenv(lockChildEnv)
	if dir == "" {
		t.Skip("only runs as the child of TestOpenLockedLog")
	}
	s, err := Open(dir, Options{MasterKey: key32()})
	if err != nil {
		fmt.Println("open failed:", err)
		os.Exit(3)
	}
	fmt.Println("open")
	_, _ = io.Copy(io.Discard, os.Stdin)
	if err := s.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "close:", err)
		os.Exit(4)
	}
}

// lockHeld tells a held lock from a lock file that cannot be made.
func TestLockHeld(t *testing.T) {
	for _, c := range []struct {
		name string
		err  error
		want bool
	}{
		{"fcntl EAGAIN", syscall.EAGAIN, true},
		{"fcntl EACCES", syscall.EACCES, true},
		{"held by this process", errors.New("lock held by current process"), true},
		{"no directory", &fs.PathError{Op: "open", Path: "/x/LOCK", Err: syscall.ENOENT}, false},
		{"not allowed to create", &fs.PathError{Op: "open", Path: "/x/LOCK", Err: syscall.EACCES}, false},
		{"no locks on this file system", syscall.ENOLCK, false},
	} {
		if got := lockHeld(fmt.Errorf("wrapped: %w", c.err)); got != c.want {
			t.Errorf("%s: lockHeld = %v, want %v", c.name, got, c.want)
		}
	}
}
