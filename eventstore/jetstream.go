package eventstore

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// JetStreamStore is the event log on NATS JetStream, shared by any number
// of nodes (see docs/scale-out.md, "The log on JetStream").
//
// Layout, for a log named NAME:
//
//   - the JetStream stream SALESBOT_LOG_NAME, subject salesbot.NAME.log,
//     file storage, no age limit, deletes and purges denied. Its first
//     message (the genesis) holds the log's id, signed with the log's key;
//     every later message is one Append: the batch's stored records
//     (envelope and MAC, exactly as PebbleStore stores them), with the
//     stream, its expected and new version and the first position in
//     headers for operators;
//   - the key-value buckets SALESBOT_KEYS_NAME (subject keys and
//     tombstones, one revision kept) and SALESBOT_SECRETS_NAME (secrets),
//     sealed with the master key as on Pebble, and SALESBOT_META_NAME (the
//     signed head, see jetstream_trust.go).
//
// One global order: every publish carries Nats-Expected-Last-Sequence, the
// last JetStream sequence this node has applied. When another node got
// there first the server refuses it; the node applies the new messages,
// checks the stream's version again (a stale expected version is a
// *VersionConflictError, as on every store), links the batch to the new
// chain tip and publishes again. So each message commits to the hash of
// the one before it whoever wrote it: the append itself seals the chain.
//
// Each node keeps an index in memory, built by reading the stream in order
// (at Open, then live with an ordered consumer): the records by position,
// the positions of every stream, the chain tip. Head and WaitHead are the
// head as applied here; reads are served from the index. The appends a
// node has waiting are published together, as one message (see
// publisher).
type JetStreamStore struct {
	url     LogURL
	nc      *nats.Conn
	js      jetstream.JetStream
	stream  jetstream.Stream
	names   jsNames
	keysKV  jetstream.KeyValue
	secrets jetstream.KeyValue
	// secretsStream is the secrets bucket's stream: its names are listed,
	// and a secret deleted, by subject, on the stream's leader.
	secretsStream jetstream.Stream
	meta          jetstream.KeyValue // the signed head
	id            uuid.UUID
	m             *master
	keys          *keyring
	dec           decoder
	now           func() time.Time
	log           *slog.Logger
	readOnly      bool

	mu      sync.RWMutex
	seq     uint64              // last JetStream sequence applied
	events  [][]byte            // events[pos-1] = stored record
	streams map[string][]uint64 // stream → positions by version-1
	tip     chainTip
	closed  bool

	head    *headSignal // positions applied
	applied *headSignal // JetStream sequences applied

	reqs      chan *jsAppend // to the publisher
	closing   chan struct{}  // closed by Close
	pubDone   chan struct{}
	signDone  chan struct{} // nil: this node signs no head
	watchDone chan struct{}
	stop      context.CancelFunc
	done      chan struct{}
	closeOnce sync.Once
	observer  atomic.Pointer[func(AppendStat)]
	// lastReconnect is when reconnect last moved the connection (Unix ns).
	lastReconnect atomic.Int64
}

var (
	_ Store   = (*JetStreamStore)(nil)
	_ Secrets = (*JetStreamStore)(nil)
)

// jsNames are the JetStream names of one log.
type jsNames struct {
	stream, subject, keys, secrets, meta string
}

func newJSNames(log string) jsNames {
	return jsNames{
		stream:  "SALESBOT_LOG_" + log,
		subject: "salesbot." + log + ".log",
		keys:    "SALESBOT_KEYS_" + log,
		secrets: "SALESBOT_SECRETS_" + log,
		meta:    "SALESBOT_META_" + log,
	}
}

// Message headers. The body is authoritative; these are for operators
// (nats stream view) and for the genesis.
const (
	hdrLogID    = "Salesbot-Log-Id"
	hdrLogSig   = "Salesbot-Log-Sig"
	hdrStream   = "Salesbot-Stream"
	hdrExpected = "Salesbot-Expected"
	hdrVersion  = "Salesbot-Version"
	hdrFirst    = "Salesbot-First"
	hdrAppends  = "Salesbot-Appends"
	sigGenesis  = "salesbot genesis v1\x00"
)

// OpenJetStream opens (or, unless opts.MustExist or opts.ReadOnly, creates)
// the log that rawURL names (see ParseLogURL). It returns when the node's
// index holds every message the stream had when it was called. Of opts it
// uses MasterKey (or PublicKey with ReadOnly), Upcasters, Now, Logger,
// MustExist, ReadOnly and SignInterval. It returns ErrNoLog when the log does not exist
// and must; errors name the server without its credentials.
func OpenJetStream(ctx context.Context, rawURL string, opts Options) (*JetStreamStore, error) {
	u, err := ParseLogURL(rawURL)
	if err != nil {
		return nil, err
	}
	var m *master
	switch {
	case opts.PublicKey != nil:
		if !opts.ReadOnly || opts.MasterKey != nil {
			return nil, errors.New("eventstore: a public key opens a log read-only and without the master key")
		}
		if len(opts.PublicKey) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("eventstore: public key must be %d bytes, got %d", ed25519.PublicKeySize, len(opts.PublicKey))
		}
		m = &master{pub: opts.PublicKey}
	default:
		if m, err = newMaster(opts.MasterKey); err != nil {
			return nil, err
		}
	}
	nc, err := nats.Connect(strings.Join(u.Servers, ","), nats.Name("salesbot"), nats.MaxReconnects(-1))
	if err != nil {
		return nil, fmt.Errorf("eventstore: connect to %s: %w", u, err)
	}
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncTimeout(10*time.Second))
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("eventstore: jetstream on %s: %w", u, err)
	}
	s := &JetStreamStore{
		url: u, nc: nc, js: js, names: newJSNames(u.Name), m: m, now: opts.Now, log: opts.Logger,
		readOnly: opts.ReadOnly, streams: make(map[string][]uint64),
		head: newHeadSignal(0), applied: newHeadSignal(0), done: make(chan struct{}),
		reqs: make(chan *jsAppend), closing: make(chan struct{}), pubDone: make(chan struct{}), watchDone: make(chan struct{}),
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if err := s.setup(ctx, opts); err != nil {
		nc.Close()
		return nil, err
	}
	s.keys = newKeyring(m, s.id, &jsKeys{kv: s.keysKV})
	s.dec = decoder{keys: s.keys, upcasters: opts.Upcasters}
	runCtx, stop := context.WithCancel(context.Background())
	s.stop = stop
	go s.run(runCtx)
	go s.publisher(runCtx)
	go s.watchKeys(runCtx)
	if !s.readOnly {
		interval := opts.SignInterval
		if interval <= 0 {
			interval = DefaultSignInterval
		}
		s.signDone = make(chan struct{})
		go s.signLoop(runCtx, interval)
	}
	if err := s.catchUp(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("eventstore: open %s: read the log: %w", u, err)
	}
	return s, nil
}

// setup finds or creates the stream, its genesis and the buckets.
func (s *JetStreamStore) setup(ctx context.Context, opts Options) error {
	mustExist := opts.MustExist || opts.ReadOnly
	st, err := s.js.Stream(ctx, s.names.stream)
	if errors.Is(err, jetstream.ErrStreamNotFound) && !mustExist {
		err = retryCreate(ctx, func() (err error) {
			st, err = s.js.CreateStream(ctx, jetstream.StreamConfig{
				Name: s.names.stream, Subjects: []string{s.names.subject}, Storage: jetstream.FileStorage,
				Replicas: s.url.Replicas, DenyDelete: true, DenyPurge: true, Retention: jetstream.LimitsPolicy,
				Discard: jetstream.DiscardNew, Duplicates: 2 * time.Minute,
				Description: "salesbot event log " + s.url.Name,
			})
			return err
		})
		if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) { // another node made it meanwhile
			st, err = s.js.Stream(ctx, s.names.stream)
		}
	}
	switch {
	case errors.Is(err, jetstream.ErrStreamNotFound):
		return fmt.Errorf("eventstore: %s: %w", s.url, ErrNoLog)
	case err != nil:
		return fmt.Errorf("eventstore: stream %s on %s: %w", s.names.stream, s.url, err)
	}
	s.stream = st
	if s.keysKV, err = s.bucket(ctx, s.names.keys, mustExist); err != nil {
		return err
	}
	if s.secrets, err = s.bucket(ctx, s.names.secrets, mustExist); err != nil {
		return err
	}
	if s.secretsStream, err = s.js.Stream(ctx, "KV_"+s.names.secrets); err != nil {
		return fmt.Errorf("eventstore: bucket %s on %s: %w", s.names.secrets, s.url, err)
	}
	if s.meta, err = s.bucket(ctx, s.names.meta, mustExist); err != nil {
		return err
	}
	return s.genesis(ctx, mustExist)
}

// bucket opens (or creates) a key-value bucket of the log.
func (s *JetStreamStore) bucket(ctx context.Context, name string, mustExist bool) (jetstream.KeyValue, error) {
	kv, err := s.js.KeyValue(ctx, name)
	if errors.Is(err, jetstream.ErrBucketNotFound) && !mustExist {
		err = retryCreate(ctx, func() (err error) {
			kv, err = s.js.CreateKeyValue(ctx, jetstream.KeyValueConfig{
				Bucket: name, History: 1, Storage: jetstream.FileStorage, Replicas: s.url.Replicas,
			})
			return err
		})
		if errors.Is(err, jetstream.ErrBucketExists) {
			kv, err = s.js.KeyValue(ctx, name)
		}
	}
	if err == nil {
		kv, err = LeaderReads(ctx, s.js, kv)
	}
	if err != nil {
		return nil, fmt.Errorf("eventstore: bucket %s on %s: %w", name, s.url, err)
	}
	return kv, nil
}

// LeaderReads turns off direct gets on a bucket's stream, which nats.go
// turns on for every bucket it creates or updates, and returns the bucket
// reopened: with replicas, a direct get may be answered by a replica that
// has not yet stored the latest write (a key just replaced by its
// tombstone would still read as the key, a lease just released as held).
// Without it every Get goes to the stream's leader. The log's buckets and
// the cluster's (leases, nodes) all read this way.
func LeaderReads(ctx context.Context, js jetstream.JetStream, kv jetstream.KeyValue) (jetstream.KeyValue, error) {
	st, err := js.Stream(ctx, "KV_"+kv.Bucket())
	if err != nil {
		return nil, err
	}
	cfg := st.CachedInfo().Config
	if !cfg.AllowDirect {
		return kv, nil
	}
	cfg.AllowDirect = false
	if _, err := js.UpdateStream(ctx, cfg); err != nil {
		return nil, err
	}
	return js.KeyValue(ctx, kv.Bucket())
}

// retryCreate runs create again while the server fails to make the
// stream's storage (code 10049): a server before 2.10 removes its streams
// directory when the last stream is deleted, and a stream created at that
// moment fails once.
func retryCreate(ctx context.Context, create func() error) error {
	for try := 0; ; try++ {
		err := create()
		var apiErr *jetstream.APIError
		if try == 4 || !errors.As(err, &apiErr) || apiErr.ErrorCode != 10049 {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Duration(50<<try) * time.Millisecond):
		}
	}
}

// genesis reads the log's id from the stream's first message, writing it
// first if the stream is empty. Two nodes creating the log at once publish
// under one message id, so the server keeps one genesis. (It also makes
// sure no append is ever published with an expected last sequence of 0,
// which servers before 2.10 do not enforce.)
func (s *JetStreamStore) genesis(ctx context.Context, mustExist bool) error {
	info, err := s.stream.Info(ctx)
	if err != nil {
		return fmt.Errorf("eventstore: stream %s on %s: %w", s.names.stream, s.url, err)
	}
	if info.State.LastSeq == 0 {
		if mustExist || s.m.publicOnly() {
			return fmt.Errorf("eventstore: %s: %w", s.url, ErrNoLog)
		}
		id, err := uuid.NewV7()
		if err != nil {
			return fmt.Errorf("eventstore: new log id: %w", err)
		}
		msg := nats.NewMsg(s.names.subject)
		msg.Header.Set(hdrLogID, id.String())
		msg.Header.Set(hdrLogSig, fmt.Sprintf("%x", ed25519.Sign(s.m.sign, genesisMessage(id))))
		if _, err := s.js.PublishMsg(ctx, msg, jetstream.WithMsgID("salesbot-genesis")); err != nil {
			return fmt.Errorf("eventstore: create log %s: %w", s.url, err)
		}
	}
	raw, err := s.stream.GetMsg(ctx, 1)
	if err != nil {
		return fmt.Errorf("eventstore: %s: read the genesis: %w", s.url, err)
	}
	id, err := s.checkGenesis(raw.Header)
	if err != nil {
		return fmt.Errorf("eventstore: %s: %w", s.url, err)
	}
	s.id = id
	return nil
}

func genesisMessage(id uuid.UUID) []byte { return append([]byte(sigGenesis), id[:]...) }

// checkGenesis returns the log id of a genesis message signed by this
// log's key.
func (s *JetStreamStore) checkGenesis(h nats.Header) (uuid.UUID, error) {
	id, err := uuid.Parse(h.Get(hdrLogID))
	if err != nil {
		return uuid.Nil, fmt.Errorf("stream %s is not a salesbot log: its first message holds no log id", s.names.stream)
	}
	var sig []byte
	if _, err := fmt.Sscanf(h.Get(hdrLogSig), "%x", &sig); err != nil || !ed25519.Verify(s.m.pub, genesisMessage(id), sig) {
		return uuid.Nil, fmt.Errorf("the genesis of log %s is not signed by this master key (another master key, or not a salesbot log)", id)
	}
	return id, nil
}

// run applies the stream's messages to the index, in order, until Close.
func (s *JetStreamStore) run(ctx context.Context) {
	defer close(s.done)
	for ctx.Err() == nil {
		err := s.follow(ctx)
		if ctx.Err() != nil {
			return
		}
		s.log.Warn("eventstore: following the log failed; retrying", "log", s.url.String(), "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

// followCheck is how long the follower waits for a message before it
// checks that it is not behind the stream.
const followCheck = 2 * time.Second

// follow reads the stream from the first message not applied yet.
func (s *JetStreamStore) follow(ctx context.Context) error {
	cons, err := s.stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
		DeliverPolicy: jetstream.DeliverByStartSequencePolicy, OptStartSeq: s.appliedSeq() + 1,
		// A consumer that cannot be made again on its server (it died)
		// gives up after a few tries: run starts a new one elsewhere.
		MaxResetAttempts: 3,
	})
	if err != nil {
		return err
	}
	it, err := cons.Messages()
	if err != nil {
		return err
	}
	defer it.Stop()
	defer context.AfterFunc(ctx, it.Stop)() // Close: also while it makes the consumer again
	for {
		// A consumer whose server stopped may wait for ever: when nothing
		// came for a while, the stream is asked how far it is, and a
		// follower behind it starts a new consumer where it stopped.
		nctx, cancel := context.WithTimeout(ctx, followCheck)
		msg, err := it.Next(jetstream.NextContext(nctx))
		cancel()
		if err != nil && ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
			ictx, cancel := context.WithTimeout(ctx, followCheck)
			info, ierr := s.stream.Info(ictx)
			cancel()
			if ierr != nil {
				return fmt.Errorf("follow: %w", ierr)
			}
			if last := info.State.LastSeq; last > s.appliedSeq() {
				return fmt.Errorf("follow: stalled at sequence %d of %d", s.appliedSeq(), last)
			}
			continue
		}
		if err != nil {
			return err
		}
		md, err := msg.Metadata()
		if err != nil {
			return err
		}
		s.apply(md.Sequence.Stream, msg.Data())
	}
}

func (s *JetStreamStore) appliedSeq() uint64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.seq
}

// apply adds message seq to the index unless it is applied already. Every
// node applies the same messages the same way, so positions agree: a
// body that is no batch of records counts as one (bad) record.
func (s *JetStreamStore) apply(seq uint64, data []byte) {
	type erasure struct {
		subject string
		pos     uint64
	}
	var erased []erasure
	s.mu.Lock()
	if seq <= s.seq {
		s.mu.Unlock()
		return
	}
	if seq > 1 { // 1 is the genesis
		// A copy: the message's buffer also holds its headers, which the
		// index does not need (a third of the memory at 200-byte payloads).
		data = bytes.Clone(data)
		recs, err := splitMessage(data)
		if err != nil {
			recs = [][]byte{data}
		}
		for _, r := range recs {
			pos := s.tip.pos + 1
			s.events = append(s.events, r)
			if env, err := decodeRecord(r); err == nil {
				s.streams[string(env.stream)] = append(s.streams[string(env.stream)], pos)
				for _, kv := range env.meta {
					if string(kv[0]) == MetaErases {
						erased = append(erased, erasure{string(kv[1]), pos})
					}
				}
			}
			if body, _, err := splitRecord(r); err == nil {
				s.tip.hash = envelopeHash(body)
			} else {
				s.tip.hash = sha256.Sum256(r)
			}
			s.tip.pos = pos
		}
	}
	// Marked before the sequence is seen as applied: the publisher skips a
	// message the follower applied first, and checks the next appends
	// against the erasures at once.
	for _, e := range erased {
		s.keys.markErased(e.subject)
	}
	s.seq = seq
	head := s.tip.pos
	s.mu.Unlock()
	for _, e := range erased {
		if !s.readOnly {
			if err := s.eraseKey(e.subject, e.pos); err != nil {
				s.log.Error("eventstore: write the tombstone of an erased subject", "log", s.url.String(), "position", e.pos, "err", err)
			}
		}
	}
	s.head.publish(head) // before applied: who waits for applied reads the head
	s.applied.publish(seq)
}

// awaitApplied waits until message seq is applied whole here, its head
// published and its erasures' tombstones written: the follower may have
// begun applying it before the publisher, which then skips it.
func (s *JetStreamStore) awaitApplied(seq uint64) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*kvTimeout)
	defer cancel()
	_, _ = s.applied.wait(ctx, seq-1) // a store closing ends the wait
}

// eraseKey replaces the subject's key by a tombstone bound to the
// erasure at pos, unless a bound tombstone is there already. Every node
// that applies the erasure does it (the tombstone is the same bytes), so
// a writer that stopped between its publish and its tombstone is made
// good by the next node to read the log.
func (s *JetStreamStore) eraseKey(subject string, pos uint64) error {
	raw, found, err := s.keys.backend.loadKey(subject)
	if err != nil {
		return err
	}
	if found {
		if rec, err := decodeKeyRecord(raw); err == nil && rec.kind == recTombstone && rec.pos != 0 && rec.check(s.m.pub, s.id, subject) {
			return nil
		}
	}
	return s.keys.backend.storeKey(subject, s.m.tombstone(s.id, subject, pos))
}

// catchUp waits until the index holds every message the stream has now.
func (s *JetStreamStore) catchUp(ctx context.Context) error {
	info, err := s.stream.Info(ctx)
	if err != nil {
		return fmt.Errorf("stream %s: %w", s.names.stream, err)
	}
	if info.State.LastSeq == 0 {
		return nil
	}
	_, err = s.applied.wait(ctx, info.State.LastSeq-1)
	return err
}

// LogID implements Store.
func (s *JetStreamStore) LogID() uuid.UUID { return s.id }

// URL is the log's URL without credentials.
func (s *JetStreamStore) URL() string { return s.url.String() }

// Close implements Store. It stops following the log and closes the
// connection; appends in flight fail with ErrClosed.
func (s *JetStreamStore) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		close(s.closing)
		if s.stop != nil {
			s.stop()
			<-s.pubDone // it answers the appends it took
			<-s.done
			<-s.watchDone
		}
		if s.signDone != nil {
			<-s.signDone
			if h := s.Head(); h > 0 {
				ctx, cancel := context.WithTimeout(context.Background(), kvTimeout)
				if err := s.signHead(ctx, h); err != nil {
					s.log.Warn("eventstore: sign the log's head on close", "log", s.url.String(), "err", err)
				}
				cancel()
			}
		}
		s.head.close()
		s.applied.close()
		s.nc.Close()
	})
	return nil
}

func (s *JetStreamStore) isClosed() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.closed
}
