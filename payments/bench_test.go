package payments_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/khqrbot/khqrbot/internal/clocktest"
	"github.com/khqrbot/khqrbot/internal/pgtest"
	"github.com/khqrbot/khqrbot/payments"
	"github.com/khqrbot/khqrbot/payments/bakong"
	"github.com/khqrbot/khqrbot/payments/bakong/sim"
)

// noDeeplink skips the deeplink call, so seeding stays inside one transaction.
type noDeeplink struct{ payments.Bakong }

func (noDeeplink) Deeplink(context.Context, string) (string, error) {
	return "", errors.New("not in benchmarks")
}

// seed issues n invoices with one QR each, through the real Service, in one transaction.
func seed(b *testing.B, h *harness, n int) []*payments.QR {
	qrs := make([]*payments.QR, 0, n)
	err := h.db.WithTx(h.ctx, func(st payments.Store) error {
		svc, err := payments.NewService(st, noDeeplink{h.api}, h.now, h.cfg, nil)
		if err != nil {
			return err
		}
		for range n {
			inv, err := svc.CreateInvoice(h.ctx, payments.NewInvoice{Kind: payments.KindPay, Amount: usd5, CreatedBy: 1, ChatID: 10})
			if err != nil {
				return err
			}
			q, err := svc.IssueQR(h.ctx, payments.QRRequest{InvoiceID: inv.ID, ChatID: 10, UserID: 1})
			if err != nil {
				return err
			}
			qrs = append(qrs, q)
		}
		return nil
	})
	if err != nil {
		b.Fatalf("seed: %v", err)
	}
	return qrs
}

// BenchmarkReconcile10k polls 10,000 pending QRs against the simulator, one
// cycle per iteration, on one SQLite process: see benchReconcile.
//
// Metrics: calls/cycle (target ceil(N/50) = 200), cycle-s, cpu-s/cycle,
// pay-to-settle-s,
// heap-inuse-MB (the most in use after a cycle; target under 100).
func BenchmarkReconcile10k(b *testing.B) {
	benchReconcile(b, 10_000, pgtest.SQLiteURL(b), 1)
}

// BenchmarkReconcile100k polls 100,000 pending QRs, on each engine and with
// each number of replicas (processes sharing the database, each with its
// own handle, client, Service and Reconciler, ticking together on the same
// grid): see benchReconcile. The cycle must fit in the interval (5 s):
// cycle-s below 5 with calls/cycle at ceil(N/50) = 2,000 summed over the
// replicas. Seeding 100,000 invoices takes minutes: run it alone, e.g.
//
//	go test ./payments -run '^$' -bench 'Reconcile100k' -benchtime 3x -timeout 60m
//
// The PostgreSQL runs skip without KHQRBOT_TEST_POSTGRES_URL; for figures,
// point it at a server with default durability (a test server with fsync
// off commits faster than production), and give the load average beside
// them: on 2 shared cores the wall time follows it. Since storage v9 the
// server's part of a cycle is its HOT updates of qrs (pg_stat_user_tables'
// n_tup_hot_upd should match n_tup_upd).
func BenchmarkReconcile100k(b *testing.B) {
	for _, e := range pgtest.Engines() {
		replicas := []int{1}
		if e.Postgres() {
			replicas = append(replicas, 3) // a deployment of replicas shares one PostgreSQL
		}
		for _, replicas := range replicas {
			b.Run(fmt.Sprintf("%s/replicas=%d", e.Name, replicas), func(b *testing.B) {
				benchReconcile(b, 100_000, e.NewURL(b), replicas)
			})
		}
	}
}

// benchReconcile polls n pending QRs on the database at dbURL with the
// given number of replicas, one cycle per iteration, as Run would: cycles
// start on a grid one interval apart (at once when the previous one
// overran), and the clock runs in real time within a cycle, so every
// timestamp the reconcilers write is as late as it would be in production.
//
// The pending QR checked first (lowest id) and the one checked last (highest
// id) are paid in the simulator right after a check answered "not found":
// the worst case the issue names. Once one settles, the next from its end
// takes its place. pay-to-settle-s is the longest time, on that clock, from
// such a payment to the commit of its settlement (target: at most interval
// + 1 s). cycle-s is the mean wall time of a cycle, from its start until
// every replica's tick returned (call-log writes included: they are
// flushed within the cycle). MaxRPS is 10,000 here, so the request budget
// never limits a cycle; with the default 5 a 10k cycle takes 40 s of budget.
func benchReconcile(b *testing.B, n int, dbURL string, replicas int) {
	clk := &runningClock{}
	clk.Set(clocktest.Start)
	h := newHarness(b, withDatabase(dbURL), withClock(clk), withTTL(payments.MaxQRTTL), withReconciler(payments.ReconcilerConfig{Interval: interval, MaxRPS: 10_000}))
	qrs := seed(b, h, n)
	w := &worstCase{h: h, clk: clk, pending: qrs}
	settled := &settleTimes{at: map[int64]time.Time{}}
	nodes := []*node{h.node}
	for len(nodes) < replicas {
		nodes = append(nodes, h.start())
	}
	recs := make([]*payments.Reconciler, len(nodes))
	for i, nd := range nodes {
		st := &settleClock{Store: nd.db, clk: clk, times: settled}
		svc, err := payments.NewService(st, payAfterCheck{nd.api, w}, clk, h.cfg, nil)
		if err != nil {
			b.Fatal(err)
		}
		recs[i] = payments.NewReconciler(svc, h.rc)
	}
	// cycle runs every replica's tick of the cycle that began at start,
	// then writes their call logs, and returns the cycle's wall time and
	// the CPU time the process (replicas and simulator) spent in it.
	cycle := func(start time.Time) (time.Duration, time.Duration) {
		began, cpu0 := time.Now(), cpuTime(b)
		errs := make([]error, len(recs))
		var wg sync.WaitGroup
		for i, rec := range recs {
			wg.Go(func() {
				errs[i] = rec.TickAt(h.ctx, start)
				nodes[i].callLog.Flush(h.ctx)
			})
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			b.Fatalf("Tick: %v", err)
		}
		return time.Since(began), cpuTime(b) - cpu0
	}

	start := clk.Now()
	w.choose()
	cycle(start) // every QR checked once, the first targets paid
	var calls, cycles int
	var worst, wall, cpu time.Duration
	var heap uint64
	for b.Loop() {
		start = start.Add(interval)
		if now := clk.Now(); now.After(start) {
			start = start.Add(now.Sub(start) / interval * interval) // the cycle overran: Run ticks at once, from its grid
		} else {
			clk.Set(start) // the idle time until the next cycle, skipped
		}
		h.sim.ResetCalls()
		cw, cc := cycle(start)
		wall, cpu = wall+cw, cpu+cc
		if start.Add(interval).After(qrs[0].ExpiresAt) {
			b.Fatal("the QRs expire: run fewer iterations")
		}
		calls += h.checks()
		cycles++
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		heap = max(heap, ms.HeapInuse)
		worst = max(worst, w.settled(settled))
	}
	worst = max(worst, w.unsettled())
	if w.done == 0 {
		b.Fatal("no payment settled: run more iterations")
	}
	b.ReportMetric(float64(calls)/float64(cycles), "calls/cycle")
	b.ReportMetric(wall.Seconds()/float64(cycles), "cycle-s")
	b.ReportMetric(cpu.Seconds()/float64(cycles), "cpu-s/cycle")
	b.ReportMetric(worst.Seconds(), "pay-to-settle-s")
	b.ReportMetric(float64(heap)/(1<<20), "heap-inuse-MB")
}

// cpuTime is the CPU time (user and system) the process has used: on a
// machine shared with other work, a cycle's wall time waits for the CPU,
// its CPU time does not.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// runningClock runs in real time from the reading the benchmark sets.
type runningClock struct {
	mu   sync.Mutex
	base time.Time // the reading at from
	from time.Time
}

func (c *runningClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.base.Add(time.Since(c.from))
}

// Set moves the clock to t; it runs on from there.
func (c *runningClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.base, c.from = t, time.Now()
}

// worstCase keeps two payment targets in flight, the pending QRs with the
// lowest and the highest id (checked first and last in a cycle), and pays
// each in the simulator right after its next check. Replicas' reconcilers
// call it at once.
type worstCase struct {
	mu          sync.Mutex
	h           *harness
	clk         payments.Clock
	pending     []*payments.QR // by id, not chosen yet
	first, last *target
	done        int // targets settled
}

// target is a QR to pay; paid is zero until it is.
type target struct {
	q    *payments.QR
	paid time.Time
}

// choose fills the empty target slots.
func (w *worstCase) choose() {
	if w.first == nil && len(w.pending) > 0 {
		w.first, w.pending = &target{q: w.pending[0]}, w.pending[1:]
	}
	if w.last == nil && len(w.pending) > 0 {
		w.last, w.pending = &target{q: w.pending[len(w.pending)-1]}, w.pending[:len(w.pending)-1]
	}
}

// checked pays the unpaid targets among md5s.
func (w *worstCase) checked(md5s []string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, t := range []*target{w.first, w.last} {
		if t == nil || !t.paid.IsZero() || !slices.Contains(md5s, t.q.MD5) {
			continue
		}
		if _, err := w.h.sim.PayQR(t.q.Payload, sim.Payment{}); err != nil {
			w.h.t.Fatalf("pay %s: %v", t.q.BillNumber, err)
		}
		t.paid = w.clk.Now()
	}
}

// settled returns the longest pay-to-settle time of the targets that
// settled since the last call, and chooses new targets in their place.
func (w *worstCase) settled(st *settleTimes) time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	st.mu.Lock()
	defer st.mu.Unlock()
	var worst time.Duration
	for _, t := range []**target{&w.first, &w.last} {
		if *t == nil {
			continue
		}
		if at, ok := st.at[(*t).q.ID]; ok {
			worst = max(worst, at.Sub((*t).paid))
			*t = nil
			w.done++
		}
	}
	w.choose()
	return worst
}

// unsettled returns how long the longest-waiting paid target has waited.
func (w *worstCase) unsettled() time.Duration {
	var d time.Duration
	for _, t := range []*target{w.first, w.last} {
		if t != nil && !t.paid.IsZero() {
			d = max(d, w.clk.Now().Sub(t.paid))
		}
	}
	return d
}

// payAfterCheck hands every md5 list call's md5s to worstCase once Bakong answered.
type payAfterCheck struct {
	payments.Bakong
	w *worstCase
}

func (p payAfterCheck) CheckMD5List(ctx context.Context, md5s []string) ([]bakong.Result, error) {
	res, err := p.Bakong.CheckMD5List(ctx, md5s)
	p.w.checked(md5s)
	return res, err
}

// settleTimes holds, per QR, when a transaction that settled it committed.
type settleTimes struct {
	mu sync.Mutex
	at map[int64]time.Time
}

// settleClock notes in times when a transaction of its Store settles a QR.
type settleClock struct {
	payments.Store
	clk   payments.Clock
	times *settleTimes
}

func (s *settleClock) WithTx(ctx context.Context, fn func(payments.Store) error) error {
	t := &settleTap{}
	err := s.Store.WithTx(ctx, func(tx payments.Store) error {
		t.Store, t.qrs = tx, t.qrs[:0]
		return fn(t)
	})
	if err == nil && len(t.qrs) > 0 {
		s.times.mu.Lock()
		for _, id := range t.qrs {
			s.times.at[id] = s.clk.Now()
		}
		s.times.mu.Unlock()
	}
	return err
}

// settleTap is a transaction's Store that notes the QRs of EventSettled.
type settleTap struct {
	payments.Store
	qrs []int64
}

func (t *settleTap) WithTx(_ context.Context, fn func(payments.Store) error) error { return fn(t) }

func (t *settleTap) AddEvent(ctx context.Context, e *payments.Event) error {
	if e.Kind == payments.EventSettled {
		t.qrs = append(t.qrs, e.QRID)
	}
	return t.Store.AddEvent(ctx, e)
}
