package payments

import (
	"context"
	"fmt"
	"time"
)

// TickAt runs one cycle that began at start, as Run does on its grid of
// Intervals; Tick takes the clock's now instead.
func (r *Reconciler) TickAt(ctx context.Context, start time.Time) error {
	return r.tick(ctx, &cycle{start: start})
}

// PruneBatch is how many rows of each kind one tick prunes.
const PruneBatch = pruneBatch

// Events returns up to limit undelivered events that are due now (never
// delivered, or whose Retry delay has passed), oldest first, without
// claiming them: the tests' look at what waits; a consumer uses
// ClaimEvents.
func (s *Service) Events(ctx context.Context, limit int) ([]Event, error) {
	evs, err := s.store.PendingEvents(ctx, s.clock.Now(), limit)
	if err != nil {
		return nil, fmt.Errorf("pending events: %w", err)
	}
	return evs, nil
}
