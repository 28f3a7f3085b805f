package payments_test

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"time"

	"github.com/khqrbot/khqrbot/payments"
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
		svc, err := payments.NewService(st, noDeeplink{h.api}, h.clk, h.cfg, nil)
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
// cycle per iteration. Each cycle, the QR checked last was paid just after its
// previous check: the worst case for the time from payment to settlement.
// MaxRPS is 10,000 here, so the request budget never limits a cycle; with the
// default 5 a 10k cycle takes 40 s of budget.
//
// Metrics: calls/cycle (target ceil(N/50) = 200), pay-to-settle-s (one
// interval plus the cycle's wall time until the settle event is committed;
// target at most interval + 1 s), heap-inuse-MB (target under 100).
func BenchmarkReconcile10k(b *testing.B) {
	const n = 10_000
	h := newHarness(b, withTTL(payments.MaxQRTTL), withReconciler(payments.ReconcilerConfig{Interval: interval, MaxRPS: 10_000}))
	qrs := seed(b, h, n)
	h.tick() // every QR checked once: all now due together, one interval on
	drainWake(h.svc)

	var calls, cycles int
	var worst time.Duration
	last := len(qrs) - 1
	for b.Loop() {
		q := qrs[last] // the highest id among equally due QRs: checked last
		last--
		h.pay(q, sim.Payment{})
		h.clk.Advance(interval)
		if h.clk.Now().After(q.ExpiresAt) {
			b.Fatal("the QRs expired: run fewer iterations")
		}
		h.sim.ResetCalls()
		settled := make(chan time.Time, 1)
		go func() { <-h.svc.Wake(); settled <- time.Now() }()
		start := time.Now()
		h.tick()
		at := <-settled
		if got := h.getQR(q.ID); got.Status != payments.QRPaid {
			b.Fatalf("QR %s is %s after the cycle, want paid", got.BillNumber, got.Status)
		}
		worst = max(worst, interval+at.Sub(start))
		calls += h.checks()
		cycles++
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(calls)/float64(cycles), "calls/cycle")
	b.ReportMetric(worst.Seconds(), "pay-to-settle-s")
	b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap-inuse-MB")
}

func drainWake(svc *payments.Service) {
	select {
	case <-svc.Wake():
	default:
	}
}
