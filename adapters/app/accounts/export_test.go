package accounts

import (
	"context"

	"github.com/salesbot/salesbot/eventstore"
)

// Fold folds the log up to its head as Run does before it starts the
// accounts (from the service's snapshot, if it has one), and returns what
// the service then knows, encoded as its snapshot would be: equal states
// give equal bytes.
func Fold(ctx context.Context, s *Service) ([]byte, error) {
	if _, _, err := s.catchUp(ctx); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return eventstore.EncodeState("accounts", s.fold())
}
