package system

import (
	"context"
	"net/http"
	"sync"

	"github.com/salesbot/salesbot/adapters/cli/remote"
	"github.com/salesbot/salesbot/domain"
)

// owner is who connects to the unix socket: only the user the system
// runs as may (mode 0600 in a 0700 data dir), so an admin.
var owner = domain.Principal{Name: "the data dir's owner", Scope: domain.ScopeAdmin}

// sessions are the command lines the system runs for clients: they end
// when the system stops (their connections outlive the HTTP servers'
// shutdown, which does not wait for them), and Run waits for them, so
// the log is closed after their last write.
type sessions struct {
	mu   sync.Mutex
	stop context.Context // the system's run; nil until Run
	wg   sync.WaitGroup
}

// start registers a session; false when the system is not running.
func (c *sessions) start() (context.Context, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stop == nil || c.stop.Err() != nil {
		return nil, false
	}
	c.wg.Add(1)
	return c.stop, true
}

// cliFor runs p's command lines as a session of the system.
func (s *System) cliFor(p domain.Principal) remote.Exec {
	exec := s.cfg.CLI(p)
	return func(ctx context.Context, sess *remote.Session, args []string) int {
		stop, ok := s.cli.start()
		if !ok {
			_, _ = sess.Stderr().Write([]byte("salesbot: the server is stopping\n"))
			return 1
		}
		defer s.cli.wg.Done()
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		defer context.AfterFunc(stop, func() { cancel(); sess.Abort() })() // a client that stopped reading holds no stop up
		return exec(ctx, sess, args)
	}
}

// socketHandler serves the CLI on the unix socket, for its owner.
func (s *System) socketHandler() http.Handler {
	exec := s.cliFor(owner)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != remote.Path || r.Method != http.MethodPost || !remote.Upgrading(r) {
			w.Header().Set("Upgrade", remote.Protocol)
			http.Error(w, "this socket runs salesbot commands: POST "+remote.Path+" with Upgrade: "+remote.Protocol, http.StatusUpgradeRequired)
			return
		}
		if err := remote.Serve(w, r, exec); err != nil {
			s.log.Warn("salesbot: a command line through the socket failed", "err", err)
		}
	})
}
