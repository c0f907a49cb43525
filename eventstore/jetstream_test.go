package eventstore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/salesbot/salesbot/eventstore"
	"github.com/salesbot/salesbot/eventstore/jetstreamtest"
	"github.com/salesbot/salesbot/eventstore/storetest"
)

// natsURL is the server the JetStream tests use: SALESBOT_TEST_NATS, or the
// machine's server at 127.0.0.1:4222.
func natsURL() string { return jetstreamtest.URL() }

// newLogName returns a log name no other test uses on server, deleted
// with its buckets when the test ends; it skips without a server.
func newLogName(t testing.TB, server string) string { return jetstreamtest.NewLog(t, server) }

func openJS(t *testing.T, url string, opts eventstore.Options) *eventstore.JetStreamStore {
	t.Helper()
	if opts.MasterKey == nil && opts.PublicKey == nil {
		opts.MasterKey = testKey()
	}
	s, err := eventstore.OpenJetStream(t.Context(), url, opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newJetStream(t *testing.T, opts eventstore.Options) eventstore.Store {
	return openJS(t, natsURL()+"/"+newLogName(t, natsURL()), opts)
}

func TestJetStreamContract(t *testing.T) { storetest.Run(t, newJetStream) }

// reachable says whether something listens at host:port.
func reachable(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// Two nodes append at once to one shared stream (each append on the
// version it read, retrying on conflicts) and to streams of their own: no
// event is lost or doubled, both see one order and one head hash, every
// stream's versions are contiguous, and the log verifies on both.
func TestJetStreamTwoNodes(t *testing.T) {
	url := natsURL() + "/" + newLogName(t, natsURL())
	a := openJS(t, url, eventstore.Options{})
	defer a.Close()
	b := openJS(t, url, eventstore.Options{})
	defer b.Close()
	if a.LogID() != b.LogID() {
		t.Fatalf("two nodes of one log see ids %s and %s", a.LogID(), b.LogID())
	}
	const workers, each = 4, 25
	ctx := t.Context()
	errs := make(chan error, 2*workers)
	var conflicts atomic.Int64
	for n, node := range []*eventstore.JetStreamStore{a, b} {
		for w := range workers {
			go func() {
				errs <- func() error {
					own := fmt.Sprintf("own-%d-%d", n, w)
					for i := range each {
						payload := fmt.Sprintf(`{"node":%d,"w":%d,"i":%d}`, n, w, i)
						if _, err := node.Append(ctx, own, eventstore.Exact(uint64(i)), eventstore.Event{Type: "Own", Payload: []byte(payload)}); err != nil {
							return fmt.Errorf("node %d: %s: %w", n, own, err)
						}
						for {
							v, err := node.StreamVersion(ctx, "shared")
							if err != nil {
								return err
							}
							_, err = node.Append(ctx, "shared", eventstore.Exact(v), eventstore.Event{Type: "Shared", Payload: []byte(payload)},
								eventstore.Event{Type: "SharedTwin", Payload: []byte(payload)})
							if errors.Is(err, eventstore.ErrVersionConflict) {
								conflicts.Add(1)
								continue
							}
							if err != nil {
								return fmt.Errorf("node %d: shared: %w", n, err)
							}
							break
						}
					}
					return nil
				}()
			}()
		}
	}
	for range 2 * workers {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	total := uint64(2 * workers * each * 3)
	for _, s := range []*eventstore.JetStreamStore{a, b} {
		wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		if _, err := s.WaitHead(wctx, total-1); err != nil {
			t.Fatalf("head %d, want %d: %v", s.Head(), total, err)
		}
		cancel()
	}
	if a.Head() != total || b.Head() != total {
		t.Fatalf("heads %d and %d, want %d", a.Head(), b.Head(), total)
	}
	evA, err := a.ReadAll(ctx, 1, int(total))
	if err != nil {
		t.Fatal(err)
	}
	evB, err := b.ReadAll(ctx, 1, int(total))
	if err != nil {
		t.Fatal(err)
	}
	versions := map[string]uint64{}
	seen := map[string]int{}
	for i := range evA {
		x, y := evA[i], evB[i]
		if x.ID != y.ID || x.Stream != y.Stream || x.Version != y.Version || x.Position != uint64(i+1) || y.Position != uint64(i+1) {
			t.Fatalf("position %d: node a has %s %s v%d, node b %s %s v%d", i+1, x.ID, x.Stream, x.Version, y.ID, y.Stream, y.Version)
		}
		if versions[x.Stream]+1 != x.Version {
			t.Fatalf("stream %s jumps from version %d to %d at position %d", x.Stream, versions[x.Stream], x.Version, x.Position)
		}
		versions[x.Stream] = x.Version
		seen[x.Type+string(x.Payload)]++
	}
	if versions["shared"] != 2*workers*each*2 {
		t.Fatalf("shared stream at version %d, want %d", versions["shared"], 2*workers*each*2)
	}
	for k, n := range seen {
		if n != 1 {
			t.Fatalf("%s appended %d times", k, n)
		}
	}
	if len(seen) != int(total) {
		t.Fatalf("%d distinct events, want %d", len(seen), total)
	}
	ha, err := a.HashAt(ctx, total)
	if err != nil {
		t.Fatal(err)
	}
	hb, err := b.HashAt(ctx, total)
	if err != nil || ha != hb {
		t.Fatalf("head hashes %x and %x (%v)", ha, hb, err)
	}
	for _, s := range []*eventstore.JetStreamStore{a, b} {
		rep, err := s.Verify(ctx, nil)
		if err != nil || rep.Events != total || rep.HeadHash != ha {
			t.Fatalf("verify: %+v %v", rep, err)
		}
	}
	t.Logf("%d events from two nodes, %d version conflicts retried", total, conflicts.Load())
}

// Two nodes that make a new subject's key at once agree on one key, and
// an erasure recorded by one node shreds the subject on the other.
func TestJetStreamKeysAcrossNodes(t *testing.T) {
	url := natsURL() + "/" + newLogName(t, natsURL())
	a := openJS(t, url, eventstore.Options{})
	defer a.Close()
	b := openJS(t, url, eventstore.Options{})
	defer b.Close()
	ctx := t.Context()
	const subjects = 20
	errs := make(chan error, 2)
	for n, node := range []*eventstore.JetStreamStore{a, b} {
		go func() {
			for i := range subjects {
				e := eventstore.Event{Type: "Named", Subject: fmt.Sprintf("c%d", i), Personal: map[string]string{"name": fmt.Sprintf("node %d", n)}}
				if _, err := node.Append(ctx, fmt.Sprintf("contact-%d", i), eventstore.Any, e); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range []*eventstore.JetStreamStore{a, b} {
		if _, err := s.WaitHead(ctx, 2*subjects-1); err != nil {
			t.Fatal(err)
		}
		evs, err := s.ReadAll(ctx, 1, 2*subjects)
		if err != nil {
			t.Fatalf("read personal data written by both nodes: %v", err)
		}
		for _, e := range evs {
			if e.Forgotten || (e.Personal["name"] != "node 0" && e.Personal["name"] != "node 1") {
				t.Fatalf("position %d reads %v forgotten=%v", e.Position, e.Personal, e.Forgotten)
			}
		}
	}
	r, err := a.Append(ctx, "contact-0", eventstore.Any, eventstore.Event{Type: "Erased", Metadata: map[string]string{eventstore.MetaErases: "c0"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.WaitHead(ctx, r.LastPosition-1); err != nil {
		t.Fatal(err)
	}
	evs, err := b.ReadStream(ctx, "contact-0", 1)
	if err != nil || len(evs) != 3 || !evs[0].Forgotten || evs[0].Personal["name"] != eventstore.ForgottenMarker {
		t.Fatalf("node b after node a erased c0: %+v %v", evs, err)
	}
	if _, err := b.Append(ctx, "contact-0", eventstore.Any, eventstore.Event{Type: "Named", Subject: "c0", Personal: map[string]string{"name": "again"}}); !errors.Is(err, eventstore.ErrForgotten) {
		t.Fatalf("node b appends personal data of a subject node a erased: %v, want ErrForgotten", err)
	}
	rep, err := b.Verify(ctx, nil)
	if err != nil || rep.Erased != 1 || rep.Unbound != 0 || rep.Subjects != subjects {
		t.Fatalf("verify: %+v %v", rep, err)
	}
	// Forget called on node a (no erasure event): node b, which holds c1's
	// key in its cache, stops using it too.
	if evs, err := b.ReadStream(ctx, "contact-1", 1); err != nil || evs[0].Forgotten {
		t.Fatalf("node b reads c1 before the Forget: %+v %v", evs, err)
	}
	if err := a.Forget(ctx, "c1"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		evs, err := b.ReadStream(ctx, "contact-1", 1)
		if err != nil {
			t.Fatal(err)
		}
		if evs[0].Forgotten {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("node b still reads c1's personal data 5 s after node a forgot c1")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// rawStream connects to the log's stream as an outsider would: with the
// server's credentials but without the master key.
func rawStream(t *testing.T, name string) (*nats.Conn, jetstream.Stream) {
	t.Helper()
	u, err := eventstore.ParseLogURL(natsURL() + "/" + name)
	if err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(u.Servers[0])
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	st, err := js.Stream(t.Context(), "SALESBOT_LOG_"+name)
	if err != nil {
		t.Fatal(err)
	}
	return nc, st
}

// Whoever can publish to the log's subject but lacks the master key can
// add messages, not hide them: a message copied with one byte changed, a
// message that is no batch of events and a replayed message are each
// named by Verify at their first position; the stream refuses deletes.
func TestJetStreamTamper(t *testing.T) {
	for _, tc := range []struct {
		name   string
		forge  func(good []byte) []byte
		reason string
	}{
		{"changed byte", func(good []byte) []byte {
			bad := bytes.Clone(good)
			i := bytes.Index(bad, []byte("payload-3"))
			bad[i+len("payload-")] = '9'
			return bad
		}, "MAC"},
		{"not a batch", func([]byte) []byte { return []byte("hello") }, "not a batch"},
		{"replayed", func(good []byte) []byte { return good }, "position"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name := newLogName(t, natsURL())
			s := openJS(t, natsURL()+"/"+name, eventstore.Options{})
			defer s.Close()
			ctx := t.Context()
			for i := range 4 {
				if _, err := s.Append(ctx, "dialog-1", eventstore.Exact(uint64(i)), eventstore.Event{Type: "E", Payload: fmt.Appendf(nil, "payload-%d", i)}); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := s.Verify(ctx, nil); err != nil {
				t.Fatalf("verify before tampering: %v", err)
			}
			nc, st := rawStream(t, name)
			good, err := st.GetMsg(ctx, 5) // genesis at 1, then a message per append (each waited for): payload-3
			if err != nil {
				t.Fatal(err)
			}
			js, _ := jetstream.New(nc)
			if _, err := js.Publish(ctx, "salesbot."+name+".log", tc.forge(good.Data)); err != nil {
				t.Fatal(err)
			}
			// The node applies the forged message like any other, and its
			// next append lands after it.
			if _, err := s.Append(ctx, "dialog-2", eventstore.NoStream, eventstore.Event{Type: "E", Payload: []byte("after")}); err != nil {
				t.Fatalf("append after the forged message: %v", err)
			}
			_, err = s.Verify(ctx, nil)
			var te *eventstore.TamperError
			if !errors.As(err, &te) || te.Position != 5 || !strings.Contains(te.Reason, tc.reason) {
				t.Fatalf("verify after forging position 5: %v, want a TamperError at position 5 about %q", err, tc.reason)
			}
			if err := st.DeleteMsg(ctx, 2); err == nil {
				t.Fatal("the log's stream lets a message be deleted")
			}
			if err := st.Purge(ctx); err == nil {
				t.Fatal("the log's stream lets itself be purged")
			}
		})
	}
}

// Another master key cannot open the log: the genesis is signed.
func TestJetStreamOtherMasterKey(t *testing.T) {
	url := natsURL() + "/" + newLogName(t, natsURL())
	s := openJS(t, url, eventstore.Options{})
	s.Close()
	other := bytes.Repeat([]byte{9}, eventstore.MasterKeySize)
	if _, err := eventstore.OpenJetStream(t.Context(), url, eventstore.Options{MasterKey: other}); err == nil || !strings.Contains(err.Error(), "master key") {
		t.Fatalf("open with another master key: %v", err)
	}
	if _, err := eventstore.OpenJetStream(t.Context(), natsURL()+"/"+newLogName(t, natsURL()), eventstore.Options{MasterKey: testKey(), MustExist: true}); !errors.Is(err, eventstore.ErrNoLog) {
		t.Fatalf("open a log that does not exist with MustExist: %v", err)
	}
}

// A reopened node rebuilds its index from the stream alone.
func TestJetStreamReopen(t *testing.T) {
	url := natsURL() + "/" + newLogName(t, natsURL())
	s := openJS(t, url, eventstore.Options{})
	ctx := t.Context()
	for i := range 5 {
		if _, err := s.Append(ctx, "s", eventstore.Any, eventstore.Event{Type: "E", Subject: "c", Personal: map[string]string{"n": fmt.Sprint(i)}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.PutSecret(ctx, "session/1", []byte("k")); err != nil {
		t.Fatal(err)
	}
	h, _ := s.HashAt(ctx, 5)
	id := s.LogID()
	s.Close()
	r := openJS(t, url, eventstore.Options{ReadOnly: true})
	defer r.Close()
	if r.Head() != 5 || r.LogID() != id {
		t.Fatalf("reopened: head %d id %s, want 5 %s", r.Head(), r.LogID(), id)
	}
	if h2, err := r.HashAt(ctx, 5); err != nil || h2 != h {
		t.Fatalf("hash at 5 after reopening: %x %v, want %x", h2, err, h)
	}
	evs, err := r.ReadStream(ctx, "s", 5)
	if err != nil || len(evs) != 1 || evs[0].Personal["n"] != "4" {
		t.Fatalf("read after reopening: %+v %v", evs, err)
	}
	if v, err := r.Secret(ctx, "session/1"); err != nil || string(v) != "k" {
		t.Fatalf("secret after reopening: %q %v", v, err)
	}
	if _, err := r.Append(ctx, "s", eventstore.Any, eventstore.Event{Type: "E"}); !errors.Is(err, eventstore.ErrReadOnly) {
		t.Fatalf("append to a read-only node: %v", err)
	}
}

// Credentials in a log URL never show in what is printed.
func TestParseLogURL(t *testing.T) {
	u, err := eventstore.ParseLogURL("nats://alice:s3cret@h1:4222,h2:4222/prod_1?replicas=3")
	if err != nil {
		t.Fatal(err)
	}
	if u.Name != "prod_1" || u.Replicas != 3 || len(u.Servers) != 2 || u.Servers[1] != "nats://alice:s3cret@h2:4222" {
		t.Fatalf("parsed %+v", u)
	}
	if s := u.String(); strings.Contains(s, "s3cret") || !strings.Contains(s, "alice") {
		t.Fatalf("String() = %q", s)
	}
	for _, bad := range []string{
		"http://h/x", "nats://alice:s3cret@h:4222/", "nats://alice:s3cret@h:4222/a.b",
		"nats://alice:s3cret@h:4222/x?replicas=9", "nats://alice:s3cret@h:4222/x?speed=1", "nats://alice:s3cret@/x",
	} {
		_, err := eventstore.ParseLogURL(bad)
		if err == nil {
			t.Errorf("%q parsed", bad)
		} else if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("error shows the password: %v", err)
		}
	}
	if _, err := eventstore.OpenJetStream(t.Context(), "nats://bob:hunter2@127.0.0.1:1/x", eventstore.Options{MasterKey: testKey()}); err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("connect error: %v", err)
	}
}

// Every writing node signs the head it applied; the signed head is
// checked against the chain, and with it an auditor holding the public key
// alone verifies the log; a signed head that does not match the chain is
// tampering.
func TestJetStreamSignedHead(t *testing.T) {
	name := newLogName(t, natsURL())
	url := natsURL() + "/" + name
	s := openJS(t, url, eventstore.Options{SignInterval: time.Hour})
	ctx := t.Context()
	for i := range 3 {
		if _, err := s.Append(ctx, "s", eventstore.Exact(uint64(i)), eventstore.Event{Type: "E", Subject: "c", Personal: map[string]string{"n": "x"}}); err != nil {
			t.Fatal(err)
		}
	}
	if rep, err := s.Verify(ctx, nil); err != nil || rep.SignedHead != nil || rep.Unsigned != 3 {
		t.Fatalf("verify before any signing: %+v %v", rep, err)
	}
	h3, _ := s.HashAt(ctx, 3)
	s.Close() // signs its head
	pub, err := eventstore.PublicKey(testKey())
	if err != nil {
		t.Fatal(err)
	}
	a := openJS(t, url, eventstore.Options{PublicKey: pub, ReadOnly: true})
	defer a.Close()
	rep, err := a.Verify(ctx, nil)
	if err != nil || !rep.PublicKeyOnly || rep.SignedHead == nil || rep.SignedHead.Position != 3 || rep.SignedHead.Hash != h3 || rep.Unsigned != 0 {
		t.Fatalf("verify with the public key: %+v %v", rep, err)
	}
	if _, err := a.ReadAll(ctx, 1, 1); !errors.Is(err, eventstore.ErrNoMasterKey) {
		t.Fatalf("read personal data with the public key alone: %v", err)
	}
	// A node that is behind never moves the signed head back.
	b := openJS(t, url, eventstore.Options{SignInterval: 10 * time.Millisecond})
	if _, err := b.Append(ctx, "s", eventstore.Exact(3), eventstore.Event{Type: "E"}); err != nil {
		t.Fatal(err)
	}
	b.Close()
	rep, err = a.Verify(ctx, nil)
	if err != nil || rep.SignedHead == nil || rep.SignedHead.Position != 4 {
		t.Fatalf("signed head after a fourth event: %+v %v", rep, err)
	}
	// A signed head made up by someone without the key fails.
	nc, _ := rawStream(t, name)
	js, _ := jetstream.New(nc)
	kv, err := js.KeyValue(ctx, "SALESBOT_META_"+name)
	if err != nil {
		t.Fatal(err)
	}
	e, err := kv.Get(ctx, "signed-head")
	if err != nil {
		t.Fatal(err)
	}
	forged := bytes.Clone(e.Value())
	forged[30] ^= 1 // inside the hash
	if _, err := kv.Put(ctx, "signed-head", forged); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Verify(ctx, nil); !errors.Is(err, eventstore.ErrTampered) {
		t.Fatalf("verify with a forged signed head: %v", err)
	}
}

// An append bigger than the server takes in one message is refused as
// invalid before anything is written.
func TestJetStreamAppendOverMaxPayload(t *testing.T) {
	s := openJS(t, natsURL()+"/"+newLogName(t, natsURL()), eventstore.Options{})
	defer s.Close()
	big := eventstore.Event{Type: "E", Payload: make([]byte, 3<<20)} // under MaxEventSize, over the default max_payload
	if _, err := s.Append(t.Context(), "s", eventstore.NoStream, big); !errors.Is(err, eventstore.ErrInvalidEvent) || !strings.Contains(err.Error(), "max_payload") {
		t.Fatalf("append of 3 MiB: %v", err)
	}
	if r, err := s.Append(t.Context(), "s", eventstore.NoStream, eventstore.Event{Type: "E"}); err != nil || r.FirstPosition != 1 {
		t.Fatalf("append after the refused one: %+v %v", r, err)
	}
}

// TestJetStreamFencingAcrossNodes: node A appends under epoch 1; node B
// grants epoch 2; A's next append under epoch 1 is fenced off whether or
// not A has applied B's grant yet (if not, its publish on the old last
// sequence is refused, it catches up and checks again).
func TestJetStreamFencingAcrossNodes(t *testing.T) {
	url := natsURL() + "/" + newLogName(t, natsURL())
	a := openJS(t, url, eventstore.Options{})
	defer a.Close()
	b := openJS(t, url, eventstore.Options{})
	defer b.Close()
	ctx := t.Context()
	const key = "acct-1"
	for round := uint64(1); round <= 20; round++ {
		holder, other := a, b
		if round%2 == 0 {
			holder, other = b, a
		}
		if _, err := holder.Append(ctx, eventstore.LeaseStream(key), eventstore.Any, eventstore.LeaseGranted{Key: key, Holder: fmt.Sprint(round), Epoch: round}.Event()); err != nil {
			t.Fatalf("round %d: grant: %v", round, err)
		}
		if _, err := holder.AppendFenced(ctx, "acct", eventstore.Any, eventstore.Fence{Key: key, Epoch: round}, eventstore.Event{Type: "Sent", Payload: []byte(`{}`)}); err != nil {
			t.Fatalf("round %d: append by the holder: %v", round, err)
		}
		// The other node held the previous epoch; it may not have seen
		// this grant yet.
		if round > 1 {
			_, err := other.AppendFenced(ctx, "acct", eventstore.Any, eventstore.Fence{Key: key, Epoch: round - 1}, eventstore.Event{Type: "Stale", Payload: []byte(`{}`)})
			var fe *eventstore.FencedError
			if !errors.As(err, &fe) || fe.Current != round {
				t.Fatalf("round %d: append under epoch %d by the old holder: %v, want ErrFenced naming epoch %d", round, round-1, err, round)
			}
		}
	}
	if _, err := a.WaitHead(ctx, b.Head()-1); err != nil {
		t.Fatal(err)
	}
	evs, err := a.ReadStream(ctx, "acct", 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		if e.Type != "Sent" {
			t.Fatalf("a fenced-off append was written: %s at %d", e.Type, e.Position)
		}
	}
	if len(evs) != 20 {
		t.Fatalf("stream acct holds %d events, want 20", len(evs))
	}
	if _, err := b.Verify(ctx, nil); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkJetStreamAppendFenced: 200-byte appends from 32 goroutines on
// one node, unfenced and fenced (each goroutine under its own lease), on
// the machine's server: the fence's cost is a lookup in the node's index.
func BenchmarkJetStreamAppendFenced(b *testing.B) {
	for _, fenced := range []bool{false, true} {
		b.Run(fmt.Sprintf("fenced=%v", fenced), func(b *testing.B) {
			url := natsURL() + "/" + newLogName(b, natsURL())
			s, err := eventstore.OpenJetStream(b.Context(), url, eventstore.Options{MasterKey: testKey()})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			payload := make([]byte, 200)
			var workers atomic.Int64
			b.SetParallelism(32)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				w := workers.Add(1)
				key := fmt.Sprint("acct-", w)
				fence := eventstore.Fence{Key: key, Epoch: 1}
				if fenced {
					if _, err := s.Append(b.Context(), eventstore.LeaseStream(key), eventstore.Any, eventstore.LeaseGranted{Key: key, Holder: "n", Epoch: 1}.Event()); err != nil {
						b.Error(err)
						return
					}
				}
				for pb.Next() {
					var err error
					if fenced {
						_, err = s.AppendFenced(b.Context(), "d-"+key, eventstore.Any, fence, eventstore.Event{Type: "E", Payload: payload})
					} else {
						_, err = s.Append(b.Context(), "d-"+key, eventstore.Any, eventstore.Event{Type: "E", Payload: payload})
					}
					if err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "appends/s")
		})
	}
}

// The log's buckets answer reads from their stream's leader: nats.go
// creates buckets with direct gets, which a replica behind the leader may
// answer (a key just replaced by its tombstone would still read as the
// key), so the store turns them off, also on a bucket made before.
func TestJetStreamBucketsReadFromTheLeader(t *testing.T) {
	name := newLogName(t, natsURL())
	s := openJS(t, natsURL()+"/"+name, eventstore.Options{})
	s.Close()
	nc, _ := rawStream(t, name)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	keys := "KV_SALESBOT_KEYS_" + name
	st, err := js.Stream(t.Context(), keys)
	if err != nil {
		t.Fatal(err)
	}
	cfg := st.CachedInfo().Config
	if cfg.AllowDirect {
		t.Fatalf("%s allows direct gets", keys)
	}
	cfg.AllowDirect = true // as a bucket made by an older salesbot
	if _, err := js.UpdateStream(t.Context(), cfg); err != nil {
		t.Fatal(err)
	}
	openJS(t, natsURL()+"/"+name, eventstore.Options{}).Close()
	for _, b := range []string{"KEYS", "SECRETS", "META"} {
		st, err := js.Stream(t.Context(), "KV_SALESBOT_"+b+"_"+name)
		if err != nil || st.CachedInfo().Config.AllowDirect {
			t.Errorf("bucket %s after a reopen: direct gets %v (%v)", b, err == nil && st.CachedInfo().Config.AllowDirect, err)
		}
	}
}
