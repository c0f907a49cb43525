package engine

import "context"

// Fold folds the log up to its head as Run does before it takes turns
// (from the engine's snapshot, if it has one), and returns what the
// engine then knows, encoded as its snapshot would be: equal states give
// equal bytes.
func Fold(ctx context.Context, e *Engine) ([]byte, error) {
	if _, err := e.catchUp(ctx); err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	f, err := e.fold()
	if err != nil {
		return nil, err
	}
	return f.encode()
}
