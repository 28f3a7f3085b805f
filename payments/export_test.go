package payments

import (
	"context"
	"time"
)

// TickAt runs one cycle that began at start, as Run does on its grid of
// Intervals; Tick takes the clock's now instead.
func (r *Reconciler) TickAt(ctx context.Context, start time.Time) error {
	return r.tick(ctx, &cycle{start: start})
}

// PruneBatch is how many rows of each kind one tick prunes.
const PruneBatch = pruneBatch
