// Package clocktest provides a fake clock for tests: time moves only when the
// test says so, so expiry, grace periods and backoff are exact and no test
// sleeps. It satisfies payments.Clock, and its Now method value fits APIs that
// take a func() time.Time (the Bakong simulator's Options.Clock).
package clocktest

import (
	"sync"
	"time"
)

// Start is the default starting time of New(time.Time{}): a fixed instant, so
// test runs are reproducible.
var Start = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

// Clock is a fake clock, safe for concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// New returns a clock stopped at t, or at Start when t is zero.
func New(t time.Time) *Clock {
	if t.IsZero() {
		t = Start
	}
	return &Clock{t: t}
}

// Now returns the clock's current time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d (backward when d is negative) and
// returns the new time.
func (c *Clock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	return c.t
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}
