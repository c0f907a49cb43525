package system

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	gotd "github.com/gotd/td/telegram"
	"github.com/nats-io/nats-server/v2/server"

	"github.com/salesbot/salesbot/adapters/app/contacts"
	"github.com/salesbot/salesbot/adapters/app/demo"
	"github.com/salesbot/salesbot/adapters/eventlog"
	"github.com/salesbot/salesbot/adapters/telegram"
	"github.com/salesbot/salesbot/adapters/telegram/telegramtest"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/domain/scenario"
	"github.com/salesbot/salesbot/eventstore"
	"github.com/salesbot/salesbot/eventstore/jetstreamtest"
	"github.com/salesbot/salesbot/projections"
)

// clusterNode is one salesbot node of a failover test.
type clusterNode struct {
	st   *eventstore.JetStreamStore
	sys  *System
	stop context.CancelFunc
	done chan error
	// killed is set before the test closes the node's log under it, as a
	// crash would: what Run then answers is expected.
	killed atomic.Bool
}

// held are the accounts this node runs, connected.
func (n *clusterNode) held() map[uuid.UUID]bool {
	out := map[uuid.UUID]bool{}
	for _, a := range n.sys.Accounts().Accounts() {
		if a.Connected {
			out[a.ID] = true
		}
	}
	return out
}

// clusterEnv is what the nodes of a test share: the log, its key, the
// read models (one PostgreSQL for every node) and the scenario.
type clusterEnv struct {
	t      *testing.T
	logURL string
	key    []byte
	log    *slog.Logger
	sink   projections.Sink
	sc     *scenario.Scenario
}

func newClusterEnv(t *testing.T, logURL string) *clusterEnv {
	sc, err := scenario.Default()
	if err != nil {
		t.Fatal(err)
	}
	return &clusterEnv{t: t, logURL: logURL, key: bytes.Repeat([]byte{7}, eventstore.MasterKeySize), sc: sc, sink: projections.NewMemory(),
		log: slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))}
}

// open opens the log, closed when the test ends.
func (e *clusterEnv) open() *eventstore.JetStreamStore {
	st, err := eventstore.OpenJetStream(e.t.Context(), e.logURL, eventstore.Options{MasterKey: e.key, Logger: e.log})
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { st.Close() })
	return st
}

// start runs node i on its own connection to the log, its accounts on
// the Telegram of tg, until the test ends.
func (e *clusterEnv) start(i int, tg gotd.Options) *clusterNode {
	t := e.t
	st := e.open()
	cfg := Config{Store: st, ReadModels: e.sink, Log: e.log, Typing: demo.Typing,
		Telegram: &telegram.Dialer{AppID: 1, AppHash: "sandbox", Options: tg, Secrets: st, IndexKey: st.IndexKey(), Log: e.log},
		Engine:   Engine{Scenario: e.sc, Debounce: time.Second},
		Cluster:  &Cluster{URL: e.logURL, Label: fmt.Sprintf("node-%d", i)}}
	s, err := New(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	rctx, stop := context.WithCancel(t.Context())
	n := &clusterNode{st: st, sys: s, stop: stop, done: make(chan error, 1)}
	go func() {
		err := s.Run(rctx)
		if err != nil && rctx.Err() == nil && !n.killed.Load() {
			t.Errorf("node %d stopped: %v", i, err)
		}
		n.done <- err
	}()
	t.Cleanup(func() {
		n.stop()
		<-n.done
	})
	return n
}

// A 3-replica NATS cluster, three salesbot nodes on one log and the
// sandbox Telegram with a campaign running. The node that leads is
// killed (no lease released): its accounts resume on the others within
// 15 s and another node leads. Then the NATS server leading the log's
// stream is killed: writes resume after the election. In the end no lead
// got a message twice, every message a lead wrote is in the log, no
// account passed its caps, and the log verifies.
func TestFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("three NATS servers, three nodes and a campaign: about a minute")
	}
	servers, urls := jetstreamtest.StartServers(t)
	env := newClusterEnv(t, jetstreamtest.ClusterLogURL(urls, "failover"))
	ctx, log := t.Context(), env.log
	first := env.open()
	const leads = 12
	var sb *telegramtest.Sandbox
	world, err := demo.StartSandbox(ctx, first, log, leads, func(s *telegramtest.Sandbox) { sb = s })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { world.Close() })
	sc := env.sc
	start := func(i int) *clusterNode { return env.start(i, world.ClientOptions()) }
	nodes := []*clusterNode{start(1), start(2), start(3)}

	// Every look at the accounts also checks that none runs on two nodes.
	accountsConnected := func(alive []*clusterNode) (map[uuid.UUID]int, int) {
		on := map[uuid.UUID]int{}
		for i, n := range alive {
			for a := range n.held() {
				if j, twice := on[a]; twice {
					t.Errorf("account %s connected on nodes %d and %d at once", a, j, i)
				}
				on[a] = i
			}
		}
		return on, len(on)
	}
	waitFor(t, 45*time.Second, "every account connected on some node, at most 2 on each (ceil(1.1 × 3 / 3))", func() bool {
		_, n := accountsConnected(nodes)
		for _, nd := range nodes {
			if len(nd.held()) > 2 {
				return false
			}
		}
		return n == 3
	})

	// What the API, the web console and the metrics read: this node, the
	// three, on the node's own connection.
	if rep, err := nodes[0].sys.reporter().Status(ctx); err != nil || rep.Self != nodes[0].sys.NodeID() || rep.Self == "" || len(rep.Nodes) != 3 {
		t.Errorf("node 1's cluster status: self %q (want %q), %d nodes, %v", rep.Self, nodes[0].sys.NodeID(), len(rep.Nodes), err)
	}

	// The campaign: every lead, openings spread over 40 s.
	h := nodes[1].sys.Handlers()
	var csv strings.Builder
	csv.WriteString("username;tags\n")
	for i := 1; i <= leads; i++ {
		fmt.Fprintf(&csv, "@%s;failover\n", demo.LeadUsername(i))
	}
	f, err := contacts.Parse(strings.NewReader(csv.String()))
	if err != nil {
		t.Fatal(err)
	}
	if rep, err := contacts.Apply(ctx, h, f, contacts.Options{Basis: domain.BasisConsent, Note: "failover test"}); err != nil || rep.Accepted != leads {
		t.Fatalf("import: %+v, %v", rep, err)
	}
	var variants []domain.VariantWeight
	for _, v := range sc.Variants {
		variants = append(variants, domain.VariantWeight{Name: v.Name, Weight: v.Weight})
	}
	camp := uuid.New()
	now := time.Now()
	if _, err := h.Campaign(ctx, camp, domain.CreateCampaign{CampaignID: camp, Name: "failover", Segment: domain.Segment{Tags: []string{"failover"}},
		Scenario: sc.Name, Version: sc.Version, Variants: variants,
		Schedule: domain.CampaignSchedule{Start: now.Add(-time.Second), End: now.Add(40 * time.Second)}, By: "test"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "the campaign's first dialogs", func() bool { return countType(t, first, "DialogStarted") >= 3 })

	// Kill the leader: no lease released, no record taken down.
	var victim *clusterNode
	for _, n := range nodes {
		if n.sys.Leads() {
			victim = n
		}
	}
	if victim == nil {
		t.Fatal("no node leads")
	}
	moved := victim.held()
	victim.killed.Store(true)
	victim.sys.node.abandon()
	victim.st.Close() // nothing it still does reaches the log
	victim.stop()
	<-victim.done
	victim.done <- nil // for the cleanup
	killed := time.Now()
	var alive []*clusterNode
	for _, n := range nodes {
		if n != victim {
			alive = append(alive, n)
		}
	}
	waitFor(t, 20*time.Second, "the killed node's accounts connected on the others", func() bool {
		on, n := accountsConnected(alive)
		for a := range moved {
			if _, ok := on[a]; !ok {
				return false
			}
		}
		return n == 3
	})
	took := time.Since(killed)
	t.Logf("%d accounts of the killed node resumed in %s", len(moved), took.Round(100*time.Millisecond))
	if took > 15*time.Second {
		t.Errorf("the killed node's accounts resumed after %s, want within 15 s", took)
	}
	waitFor(t, 20*time.Second, "another node leads", func() bool { return alive[0].sys.Leads() || alive[1].sys.Leads() })

	// Kill the NATS server that leads the log's stream.
	var leader *server.Server
	for _, s := range servers {
		if s.JetStreamIsStreamLeader("$G", "SALESBOT_LOG_failover") {
			leader = s
		}
	}
	if leader == nil {
		t.Fatal("no server leads the log's stream")
	}
	leader.Shutdown()
	downAt := time.Now()
	waitFor(t, 30*time.Second, "an append after the stream leader's death", func() bool {
		actx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		id := uuid.New()
		_, err := alive[0].sys.Handlers().Campaign(actx, id, domain.CreateCampaign{CampaignID: id, Name: "probe", Segment: domain.Segment{Tags: []string{"nobody"}},
			Scenario: sc.Name, Version: sc.Version, Variants: variants,
			Schedule: domain.CampaignSchedule{Start: time.Now(), End: time.Now().Add(time.Minute)}, By: "test"})
		return err == nil
	})
	t.Logf("writes resumed %s after the stream leader stopped", time.Since(downAt).Round(100*time.Millisecond))

	// The campaign runs out; the leads finish talking.
	quiet := quietFor(alive, 5*time.Second)
	waitFor(t, 90*time.Second, "the campaign's dialogs settled, both nodes at one head", func() bool {
		accountsConnected(alive)
		return quiet() && time.Now().After(now.Add(45*time.Second)) && alive[0].st.Head() == alive[1].st.Head()
	})
	for _, n := range alive {
		n.stop()
		if err := <-n.done; err != nil {
			t.Errorf("node %s: %v", n.sys.NodeID(), err)
		}
		n.done <- nil // for the cleanup
	}
	checkFailoverLog(t, alive[0].st, sb, leads)
}

// quietFor returns a check that says whether the nodes' logs took no
// event for d.
func quietFor(nodes []*clusterNode, d time.Duration) func() bool {
	heads := make([]uint64, len(nodes))
	since := time.Now()
	return func() bool {
		for i, n := range nodes {
			if h := n.st.Head(); h != heads[i] {
				heads[i], since = h, time.Now()
			}
		}
		return time.Since(since) >= d
	}
}

// checkFailoverLog checks the log against what the sandbox delivered.
func checkFailoverLog(t *testing.T, st *eventstore.JetStreamStore, sb *telegramtest.Sandbox, leads int) {
	t.Helper()
	ctx := t.Context()
	rep, err := st.Verify(ctx, nil)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	if rep.Events != st.Head() {
		t.Errorf("verify checked %d events, the head is %d", rep.Events, st.Head())
	}
	ev := eventlog.New(st)
	type dialog struct {
		lead          string
		account       uuid.UUID
		sent, inbound int
		randomIDs     map[int64]bool
	}
	dialogs := map[string]*dialog{}
	perMinute := map[string]int{}
	started := map[string]int{}
	names := map[uuid.UUID]string{}
	err = st.Scan(ctx, 1, math.MaxInt, func(r *eventstore.RecordedEvent) error {
		e, err := ev.Decode(r)
		if err != nil {
			return err
		}
		switch e := e.(type) {
		case domain.ContactAdded:
			names[e.ContactID] = e.Username
		case domain.DialogStarted:
			name := names[e.ContactID]
			dialogs[r.Stream] = &dialog{lead: name, account: e.AccountID, randomIDs: map[int64]bool{}}
			started[name]++
		case domain.OutboundSent:
			d := dialogs[r.Stream]
			if d.randomIDs[e.RandomID] {
				t.Errorf("dialog %s: random_id %d recorded sent twice", r.Stream, e.RandomID)
			}
			d.randomIDs[e.RandomID] = true
			d.sent++
		case domain.InboundReceived:
			dialogs[r.Stream].inbound++
		case domain.MessageReserved:
			perMinute[r.Stream+r.RecordedAt.UTC().Format("15:04")]++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for k, n := range perMinute {
		if n > demo.SandboxLimits.MessagesPerMinute {
			t.Errorf("%s: %d messages in a minute, the cap is %d", k, n, demo.SandboxLimits.MessagesPerMinute)
		}
	}
	opened, delivered, recorded := 0, 0, 0
	for i := 1; i <= leads; i++ {
		name := demo.LeadUsername(i)
		if started[name] > 1 {
			t.Errorf("lead %s: %d dialogs", name, started[name])
		}
		lead, err := sb.Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		var got, wrote int
		for a := 1; a <= 3; a++ {
			acc, _ := sb.Lookup(demo.AccountUsername(a))
			for _, m := range sb.Messages(lead.ID, acc.ID) {
				if m.Out {
					wrote++
				} else {
					got++
				}
			}
		}
		var sent, inbound int
		for _, d := range dialogs {
			if d.lead == name {
				sent += d.sent
				inbound += d.inbound
			}
		}
		if got != sent {
			t.Errorf("lead %s got %d messages, the log records %d sent", name, got, sent)
		}
		if wrote != inbound {
			t.Errorf("lead %s wrote %d messages, the log records %d", name, wrote, inbound)
		}
		if started[name] > 0 {
			opened++
		}
		delivered += got
		recorded += wrote
	}
	t.Logf("%d of %d leads opened; %d messages delivered to leads, %d received from them", opened, leads, delivered, recorded)
	if opened < leads/2 {
		t.Errorf("only %d of %d leads got a dialog", opened, leads)
	}
}

func countType(t *testing.T, st eventstore.Store, typ string) int {
	t.Helper()
	recs, err := st.ReadAll(t.Context(), 1, math.MaxInt)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range recs {
		if r.Type == typ {
			n++
		}
	}
	return n
}

func waitFor(t *testing.T, d time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s", d, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// Sandbox accounts spread over three nodes, each connected on the node
// that holds its lease: a measurement, run with
// SALESBOT_CLUSTER_ACCOUNTS=N (each sandbox sign-in costs about a second
// of CPU here).
func TestClusterAccountsSpread(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("SALESBOT_CLUSTER_ACCOUNTS"))
	if n <= 0 {
		t.Skip("a measurement: set SALESBOT_CLUSTER_ACCOUNTS=N")
	}
	logURL := jetstreamtest.URL() + "/" + jetstreamtest.NewLog(t, jetstreamtest.URL()) // the machine's server
	if os.Getenv("SALESBOT_CLUSTER_EMBEDDED") != "" {                                  // or three in this process, replicas 3
		_, urls := jetstreamtest.StartServers(t)
		logURL = jetstreamtest.ClusterLogURL(urls, "spread")
	}
	env := newClusterEnv(t, logURL)
	ctx := t.Context()
	sb, err := telegramtest.New(ctx, telegramtest.Options{Logger: env.log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	first := env.open()
	h := domain.Handlers{Log: eventlog.New(first), Index: domain.NewIndexKey(first.IndexKey()), Now: time.Now}
	signIn := time.Now()
	if _, err := demo.AddAccounts(ctx, sb, first, h, env.log, n, demo.SandboxLimits); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d sandbox accounts signed in in %s", n, time.Since(signIn).Round(time.Second))
	start := time.Now()
	nodes := []*clusterNode{env.start(1, sb.ClientOptions()), env.start(2, sb.ClientOptions()), env.start(3, sb.ClientOptions())}
	waitFor(t, 2*time.Minute, "every account connected on one node", func() bool {
		seen := map[uuid.UUID]bool{}
		for _, nd := range nodes {
			for a := range nd.held() {
				if seen[a] {
					t.Fatalf("account %s connected on two nodes", a)
				}
				seen[a] = true
			}
		}
		if len(seen) != n && time.Since(start) > 20*time.Second && time.Since(start)%(10*time.Second) < 100*time.Millisecond {
			t.Logf("after %s: %d of %d connected: %d / %d / %d", time.Since(start).Round(time.Second), len(seen), n, len(nodes[0].held()), len(nodes[1].held()), len(nodes[2].held()))
		}
		return len(seen) == n
	})
	var spread []string
	for _, nd := range nodes {
		c := len(nd.held())
		spread = append(spread, strconv.Itoa(c))
		if c > (11*n+29)/30 { // ceil(1.1 × n / 3)
			t.Errorf("node %s runs %d of %d accounts", nd.sys.NodeID(), c, n)
		}
	}
	t.Logf("%d accounts connected over 3 nodes in %s: %s", n, time.Since(start).Round(100*time.Millisecond), strings.Join(spread, " / "))
}
