package storage

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/khqrbot/khqrbot/internal/pgtest"
	"github.com/khqrbot/khqrbot/payments"
)

// twoProcesses opens one new database of engine e twice, as two processes would.
func twoProcesses(t *testing.T, e pgtest.Engine) (a, b *DB) {
	t.Helper()
	path := e.NewURL(t)
	a, _ = openPath(t, path)
	b, _ = openPath(t, path)
	return a, b
}

// TestClaimDueQRsOnce: eight claimers on two handles of one database claim
// 50 at a time, each after the last QR it claimed, until nothing is due;
// every due QR is claimed exactly once, in ID order, as it was before the
// claim, QRs not yet due are left alone, and claims not recorded come due
// again when they expire.
func TestClaimDueQRsOnce(t *testing.T) {
	pgtest.Each(t, func(t *testing.T, e pgtest.Engine) {
		a, b := twoProcesses(t, e)
		ctx := context.Background()
		inv := testInvoice()
		if err := a.CreateInvoice(ctx, inv); err != nil {
			t.Fatal(err)
		}
		const n = 230
		now, until := t0.Add(time.Second), t0.Add(time.Minute)
		for i := range n + n/10 {
			q := testQR(inv.ID, i+1)
			q.NextCheckAt = t0.Add(time.Duration(n-i) * time.Millisecond) // the order of IDs is not that of due times
			if i%11 == 10 {
				q.NextCheckAt = until.Add(time.Hour) // not due in this test
			}
			if err := a.CreateQR(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
		var mu sync.Mutex
		claimed := map[int64]int{}
		var wg sync.WaitGroup
		for i := range 8 {
			d := []*DB{a, b}[i%2]
			wg.Go(func() {
				var after int64
				for {
					qrs, err := d.ClaimDueQRs(ctx, now, until, after, 50)
					if err != nil {
						t.Error(err)
						return
					}
					if len(qrs) == 0 {
						return
					}
					mu.Lock()
					for j, q := range qrs {
						claimed[q.ID]++
						if q.MD5 == "" || q.ExpiresAt.IsZero() {
							t.Errorf("claimed QR %d lacks its check fields: %+v", q.ID, q)
						}
						if q.NextCheckAt.After(now) {
							t.Errorf("claimed QR %d: NextCheckAt %s, want the one it had before the claim, at or before %s", q.ID, q.NextCheckAt, now)
						}
						prev := after
						if j > 0 {
							prev = qrs[j-1].ID
						}
						if q.ID <= prev {
							t.Errorf("claim out of order: QR %d after %d", q.ID, prev)
						}
					}
					after = qrs[len(qrs)-1].ID
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if len(claimed) != n {
			t.Errorf("%d QRs claimed, want %d", len(claimed), n)
		}
		for id, k := range claimed {
			if k != 1 {
				t.Errorf("QR %d claimed %d times", id, k)
			}
		}
		if qrs, _ := b.ClaimDueQRs(ctx, until.Add(-time.Nanosecond), until.Add(time.Minute), 0, 500); len(qrs) != 0 {
			t.Errorf("%d QRs claimable before the claims expire", len(qrs))
		}
		if qrs, _ := b.ClaimDueQRs(ctx, until, until.Add(time.Minute), 0, 500); len(qrs) != n {
			t.Errorf("%d QRs claimable once the claims expired, want %d", len(qrs), n)
		}
		if _, err := a.ClaimDueQRs(ctx, now, until, 0, 0); payments.ErrorCode(err) != payments.EInvalid {
			t.Errorf("limit 0: %v, want EInvalid", err)
		}
	})
}

// TestClaimEventsOnce: claimers on two handles deliver each event once;
// an event whose claimer neither delivered nor delayed it comes back when
// the claim expires.
func TestClaimEventsOnce(t *testing.T) {
	pgtest.Each(t, func(t *testing.T, e pgtest.Engine) {
		a, b := twoProcesses(t, e)
		ctx := context.Background()
		const n = 120
		for i := range n {
			if err := a.AddEvent(ctx, &payments.Event{Kind: payments.EventAlert, Detail: fmt.Sprint(i), CreatedAt: t0}); err != nil {
				t.Fatal(err)
			}
		}
		now, until := t0.Add(time.Second), t0.Add(time.Minute)
		var mu sync.Mutex
		seen := map[int64]int{}
		var wg sync.WaitGroup
		for i := range 6 {
			d := []*DB{a, b}[i%2]
			wg.Go(func() {
				for {
					evs, err := d.ClaimEvents(ctx, now, until, 7)
					if err != nil {
						t.Error(err)
						return
					}
					if len(evs) == 0 {
						return
					}
					mu.Lock()
					for _, e := range evs {
						seen[e.ID]++
					}
					mu.Unlock()
					for _, e := range evs[1:] { // the first is "lost" with its claimer
						if err := d.MarkEventDelivered(ctx, e.ID, now); err != nil {
							t.Error(err)
						}
					}
				}
			})
		}
		wg.Wait()
		if len(seen) != n {
			t.Errorf("%d events claimed, want %d", len(seen), n)
		}
		for id, k := range seen {
			if k != 1 {
				t.Errorf("event %d claimed %d times", id, k)
			}
		}
		back, err := b.ClaimEvents(ctx, until, until.Add(time.Minute), 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(back) == 0 || len(back) == n {
			t.Errorf("%d events came back after the claims expired, want those never delivered", len(back))
		}
	})
}

func TestLeases(t *testing.T) {
	pgtest.Each(t, func(t *testing.T, e pgtest.Engine) {
		a, b := twoProcesses(t, e)
		ctx := context.Background()
		const name = "telegram.poller"
		acquire := func(d *DB, holder string, now time.Time) bool {
			t.Helper()
			ok, err := d.AcquireLease(ctx, name, holder, now, now.Add(10*time.Second))
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}
		if !acquire(a, "r1", t0) {
			t.Fatal("a free lease was refused")
		}
		if acquire(b, "r2", t0.Add(5*time.Second)) {
			t.Fatal("r2 took a lease r1 holds")
		}
		if !acquire(a, "r1", t0.Add(5*time.Second)) {
			t.Fatal("r1 could not renew its lease")
		}
		if acquire(b, "r2", t0.Add(14*time.Second)) {
			t.Fatal("r2 took the lease before the renewed one expired")
		}
		if h, until, err := b.Lease(ctx, name); err != nil || h != "r1" || !until.Equal(t0.Add(15*time.Second)) {
			t.Fatalf("Lease = %q %v %v, want r1 until +15s", h, until, err)
		}
		if !acquire(b, "r2", t0.Add(15*time.Second)) {
			t.Fatal("r2 could not take the expired lease")
		}
		if acquire(a, "r1", t0.Add(16*time.Second)) {
			t.Fatal("r1 took back a lease r2 holds")
		}
		if err := a.ReleaseLease(ctx, name, "r1"); err != nil {
			t.Fatal(err)
		}
		if h, _, _ := a.Lease(ctx, name); h != "r2" {
			t.Fatalf("r1's release freed r2's lease (holder %q)", h)
		}
		if err := b.ReleaseLease(ctx, name, "r2"); err != nil {
			t.Fatal(err)
		}
		if !acquire(a, "r1", t0.Add(16*time.Second)) {
			t.Fatal("a released lease was refused")
		}
		if h, _, err := a.Lease(ctx, "never"); err != nil || h != "" {
			t.Fatalf("Lease of a lease never taken = %q %v", h, err)
		}
	})
}

func TestSwapSetting(t *testing.T) {
	pgtest.Each(t, func(t *testing.T, e pgtest.Engine) {
		a, b := twoProcesses(t, e)
		ctx := context.Background()
		swap := func(d *DB, old, new string) bool {
			t.Helper()
			ok, err := d.SwapSetting(ctx, "alert.outage", old, new)
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}
		if !swap(a, "", "on") || swap(b, "", "on") || swap(b, "off", "on") {
			t.Fatal("the first swap from unset must win and later ones from a stale value lose")
		}
		if !swap(b, "on", "off") || swap(a, "on", "off") {
			t.Fatal("on -> off must happen once")
		}
		if v, _ := a.Setting(ctx, "alert.outage"); v != "off" {
			t.Fatalf("setting = %q, want off", v)
		}
		if !swap(a, "off", "") || !swap(b, "", "on") {
			t.Fatal("swapping through the empty value must work")
		}
	})
}

// TestTakeBudget: two processes share one budget of 5 a second.
func TestTakeBudget(t *testing.T) {
	pgtest.Each(t, func(t *testing.T, e pgtest.Engine) {
		a, b := twoProcesses(t, e)
		ctx := context.Background()
		const cost, burst = 200 * time.Millisecond, 800 * time.Millisecond // 5/s, bursts of 5
		took := 0
		for i := range 8 {
			k, wait, err := []*DB{a, b}[i%2].TakeBudget(ctx, "bakong", t0, cost, burst, 1)
			if err != nil {
				t.Fatal(err)
			}
			took += k
			if k == 0 && wait != cost {
				t.Errorf("refused take %d: wait %s, want %s", i, wait, cost)
			}
		}
		if took != 5 {
			t.Errorf("%d requests at one instant, want a burst of 5", took)
		}
		if k, _, _ := b.TakeBudget(ctx, "bakong", t0.Add(3*cost), cost, burst, 10); k != 3 {
			t.Errorf("%d requests after three costs of time, want 3", k)
		}
		if k, _, _ := a.TakeBudget(ctx, "other", t0, cost, burst, 2); k != 2 {
			t.Errorf("budgets of other names are apart: took %d of 2", k)
		}
		if _, _, err := a.TakeBudget(ctx, "other", t0, cost, burst, 0); payments.ErrorCode(err) != payments.EInvalid {
			t.Errorf("n=0: %v, want EInvalid", err)
		}
	})
}

// TestTakeBudgetConcurrently: sixteen takers on two processes race for a
// budget nobody has taken from yet, whose row the first take makes; at one
// instant they get exactly its burst between them.
func TestTakeBudgetConcurrently(t *testing.T) {
	pgtest.Each(t, func(t *testing.T, e pgtest.Engine) {
		a, b := twoProcesses(t, e)
		ctx := context.Background()
		const cost, burst = 100 * time.Millisecond, 900 * time.Millisecond // bursts of 10
		for round, name := range []string{"fresh", "fresh", "second"} {
			at := t0.Add(time.Duration(round) * 10 * cost) // a full burst again each round
			var wg sync.WaitGroup
			var mu sync.Mutex
			took := 0
			for i := range 16 {
				wg.Go(func() {
					k, _, err := []*DB{a, b}[i%2].TakeBudget(ctx, name, at, cost, burst, 1)
					if err != nil {
						t.Error(err)
					}
					mu.Lock()
					took += k
					mu.Unlock()
				})
			}
			wg.Wait()
			if took != 10 {
				t.Errorf("round %d (%s): %d taken at one instant, want the burst of 10", round, name, took)
			}
		}
	})
}

func TestReleaseQRs(t *testing.T) {
	pgtest.Each(t, func(t *testing.T, e pgtest.Engine) {
		d, _ := newDB(t, e)
		ctx := context.Background()
		_, q := seed(t, d)
		now := q.NextCheckAt
		if qrs, _ := d.ClaimDueQRs(ctx, now, now.Add(time.Hour), 0, 10); len(qrs) != 1 {
			t.Fatalf("claimed %d, want 1", len(qrs))
		}
		if err := d.ReleaseQRs(ctx, []int64{q.ID}, now); err != nil {
			t.Fatal(err)
		}
		if qrs, _ := d.ClaimDueQRs(ctx, now, now.Add(time.Hour), 0, 10); len(qrs) != 1 {
			t.Fatalf("a released QR is not due again (%d claimed)", len(qrs))
		}
	})
}
