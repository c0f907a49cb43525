package eventstore

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
)

func sampleRecord(t testing.TB) []byte {
	m, err := newMaster(bytes.Repeat([]byte{1}, MasterKeySize))
	if err != nil {
		t.Fatal(err)
	}
	e := Event{
		ID: uuid.New(), Type: "MessageSent", SchemaVersion: 2, CorrelationID: uuid.New(),
		Metadata: map[string]string{"actor": "ai"}, Payload: []byte(`{"n":1}`), Subject: "c",
	}
	b := encodeBody(&e, "dialog-1", []string{"text"}, []byte("0123456789abcdefghijklmnopqrstuvwxyz"))
	var tip chainTip
	p := prepared{bodies: [][]byte{b}, contents: [][32]byte{contentHash(b)}}
	tip.link(m, p, 1, 0, time.Unix(1700000000, 5))
	return p.bodies[0]
}

func TestRecordRoundTrip(t *testing.T) {
	rec := sampleRecord(t)
	env, err := decodeRecord(rec)
	if err != nil {
		t.Fatal(err)
	}
	if env.position != 1 || env.version != 1 || string(env.stream) != "dialog-1" || string(env.typ) != "MessageSent" ||
		env.schema != 2 || string(env.payload) != `{"n":1}` || len(env.meta) != 1 || string(env.names[0]) != "text" ||
		env.at != time.Unix(1700000000, 5).UnixNano() {
		t.Fatalf("decoded %+v", env)
	}
	// Every truncation is an error, never a panic.
	body, _, _ := splitRecord(rec)
	for n := range len(body) {
		if _, err := decodeEnvelope(body[:n]); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("truncated to %d bytes: %v", n, err)
		}
	}
	if _, err := decodeEnvelope(append(bytes.Clone(body), 0)); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("trailing byte accepted: %v", err)
	}
	bad := bytes.Clone(body)
	bad[0] = 9
	if _, err := decodeEnvelope(bad); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("unknown format accepted: %v", err)
	}
}

// FuzzDecodeRecord: no input makes decoding or verification panic, and
// whatever decodes re-encodes to the same bytes.
func FuzzDecodeRecord(f *testing.F) {
	f.Add(sampleRecord(f))
	f.Add([]byte{})
	f.Add(make([]byte, headerLen+macLen))
	f.Add(bytes.Repeat([]byte{0xff}, 300))
	m, _ := newMaster(bytes.Repeat([]byte{1}, MasterKeySize))
	dec := decoder{keys: newKeyring(m, uuid.Nil, &memKeys{m: map[string][]byte{}})}
	f.Fuzz(func(t *testing.T, rec []byte) {
		env, err := decodeRecord(rec)
		cv := newChainVerifier(m)
		_ = cv.next(1, rec)
		_, _ = dec.decode(rec)
		if err != nil {
			return
		}
		meta := map[string]string{}
		for _, kv := range env.meta {
			meta[string(kv[0])] = string(kv[1])
		}
		if len(meta) != len(env.meta) || !sortedMeta(env.meta) {
			return // duplicate or unsorted keys: not something encodeBody makes
		}
		names := make([]string, len(env.names))
		for i, n := range env.names {
			names[i] = string(n)
		}
		e := Event{ID: env.id, Type: string(env.typ), SchemaVersion: uint32(env.schema), CausationID: env.cause,
			CorrelationID: env.corr, Metadata: meta, Payload: env.payload, Subject: string(env.subject)}
		if len(meta) == 0 {
			e.Metadata = nil
		}
		b := encodeBody(&e, string(env.stream), names, env.sealed)
		copy(b[1:headerLen], rec[1:headerLen]) // fixed header fields as decoded
		body, _, _ := splitRecord(rec)
		if !bytes.Equal(b, body) {
			t.Fatalf("re-encoding differs:\n%x\n%x", b, body)
		}
	})
}

func sortedMeta(kv [][2][]byte) bool {
	for i := 1; i < len(kv); i++ {
		if bytes.Compare(kv[i-1][0], kv[i][0]) >= 0 {
			return false
		}
	}
	return true
}
