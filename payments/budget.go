package payments

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Budget is the request budget towards Bakong (BAKONG_MAX_RPS) that calls
// draw from. Several replicas share one budget through the database
// (StoreBudget), so the limit holds for the deployment, not per process.
//
// The reconciler's polling comes first: it may spend the whole burst with
// Take, while every other call (deeplinks, /check, /verify, Cancel's last
// look, Check status) spends only what Spare leaves, so that a crowd of
// customers can neither starve polling nor push the deployment over
// Bakong's rate limit.
type Budget interface {
	// Take spends up to n requests at now, as far as the budget allows,
	// and reports how many it spent; when none, wait says how long until
	// one is available.
	Take(ctx context.Context, now time.Time, n int) (took int, wait time.Duration, err error)
	// Spare spends one request at now only if half the burst stays
	// unspent for polling; otherwise wait says how long until it would.
	Spare(ctx context.Context, now time.Time) (ok bool, wait time.Duration, err error)
}

// MemoryBudget returns a Budget of rate requests a second, in bursts of up
// to rate, kept in this process: for a single process and for tests.
func MemoryBudget(rate int) Budget { return &memBudget{b: newBucket(max(rate, 1))} }

type memBudget struct {
	mu sync.Mutex
	b  bucket
}

func (m *memBudget) Take(_ context.Context, now time.Time, n int) (int, time.Duration, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	took := 0
	for took < n {
		ok, wait := m.b.take(now)
		if !ok {
			if took == 0 {
				return 0, wait, nil
			}
			break
		}
		took++
	}
	return took, 0, nil
}

func (m *memBudget) Spare(_ context.Context, now time.Time) (bool, time.Duration, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ok, wait := m.b.takeWithin(now, m.b.burst/2)
	return ok, wait, nil
}

// BudgetName is the name of the deployment's Bakong budget in the store.
const BudgetName = "bakong"

// StoreBudget returns the Budget called name, of rate requests a second in
// bursts of up to rate, kept in store: every replica on the database draws
// from the same one.
func StoreBudget(store Store, name string, rate int) Budget {
	rate = max(rate, 1)
	cost := time.Second / time.Duration(rate)
	return &storeBudget{store: store, name: name, cost: cost, burst: time.Duration(rate-1) * cost}
}

type storeBudget struct {
	store       Store
	name        string
	cost, burst time.Duration
}

func (s *storeBudget) Take(ctx context.Context, now time.Time, n int) (int, time.Duration, error) {
	took, wait, err := s.store.TakeBudget(ctx, s.name, now, s.cost, s.burst, n)
	if err != nil {
		return 0, 0, fmt.Errorf("request budget: %w", err)
	}
	return took, wait, nil
}

func (s *storeBudget) Spare(ctx context.Context, now time.Time) (bool, time.Duration, error) {
	took, wait, err := s.store.TakeBudget(ctx, s.name, now, s.cost, s.burst/2, 1)
	if err != nil {
		return false, 0, fmt.Errorf("request budget: %w", err)
	}
	return took == 1, wait, nil
}
