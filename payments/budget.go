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
type Budget interface {
	// Take spends up to n requests at now, as far as the budget allows,
	// and reports how many it spent; when none, wait says how long until
	// one is available.
	Take(ctx context.Context, now time.Time, n int) (took int, wait time.Duration, err error)
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
