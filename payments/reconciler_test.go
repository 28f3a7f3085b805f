package payments_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/khqrbot/khqrbot/payments"
	"github.com/khqrbot/khqrbot/payments/bakong"
	"github.com/khqrbot/khqrbot/payments/bakong/sim"
)

func TestPaidBeforeExpiry(t *testing.T) {
	h := newHarness(t)
	inv := h.invoice(usd5)
	q := h.qr(inv.ID)
	h.tick()
	h.wantQR(q.ID, payments.QRPending)

	h.clk.Advance(20 * time.Second)
	tx := h.pay(q, sim.Payment{})
	h.clk.Advance(interval)
	h.tick()

	got := h.wantInvoice(inv.ID, payments.InvoicePaid)
	h.wantQR(q.ID, payments.QRPaid)
	ps := h.payments(inv.ID)
	if len(ps) != 1 || ps[0].Status != payments.PaymentSettled || ps[0].Hash != tx.Hash || ps[0].ShortHash != tx.Hash[:8] ||
		ps[0].MD5 != q.MD5 || ps[0].Source != payments.SourcePoll || ps[0].Amount != usd5 {
		t.Fatalf("payments %+v, want one settled poll payment of %s", ps, tx.Hash)
	}
	if got.PaymentID != ps[0].ID || !got.PaidAt.Equal(ps[0].PaidAt) {
		t.Errorf("invoice payment %d at %v, want %d at %v", got.PaymentID, got.PaidAt, ps[0].ID, ps[0].PaidAt)
	}
	h.wantKinds(inv.ID, payments.EventSettled)

	h.sim.ResetCalls()
	h.ticksUntil(q.ExpiresAt.Add(2 * grace))
	if n := h.checks(); n != 0 {
		t.Errorf("%d checks after the QR was paid, want none", n)
	}
	h.wantKinds(inv.ID, payments.EventSettled)
}

func TestFinalCheck(t *testing.T) {
	tests := []struct {
		name   string
		paidAt time.Duration // relative to expiry
		want   payments.InvoiceStatus
	}{
		{"paid in the last second", -time.Second, payments.InvoicePaid},
		{"paid at the expiry millisecond", 0, payments.InvoicePaid},
		{"paid a millisecond late", time.Millisecond, payments.InvoiceReview},
		{"paid during the grace", 10 * time.Second, payments.InvoiceReview},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			inv := h.invoice(usd5)
			q := h.qr(inv.ID)
			h.ticksUntil(q.ExpiresAt.Add(-2 * time.Second))
			// The last check before expiry saw nothing; the next one is the final check.
			h.pay(q, sim.Payment{CreatedAt: q.ExpiresAt.Add(tt.paidAt)})
			h.clk.Set(q.ExpiresAt.Add(grace))
			h.tick()

			h.wantInvoice(inv.ID, tt.want)
			ps := h.payments(inv.ID)
			if len(ps) != 1 {
				t.Fatalf("%d payments, want 1", len(ps))
			}
			if tt.want == payments.InvoicePaid {
				h.wantQR(q.ID, payments.QRPaid)
				h.wantKinds(inv.ID, payments.EventSettled)
				return
			}
			h.wantQR(q.ID, payments.QRReview)
			if ps[0].Status != payments.PaymentReview || !strings.Contains(ps[0].Reason, "after the QR expired") {
				t.Errorf("payment %s %q, want review: paid after expiry", ps[0].Status, ps[0].Reason)
			}
			h.wantKinds(inv.ID, payments.EventReview)
		})
	}
}

func TestNeverPaid(t *testing.T) {
	h := newHarness(t)
	inv := h.invoice(usd5)
	q := h.qr(inv.ID)
	h.ticksUntil(q.ExpiresAt.Add(grace - time.Millisecond))
	h.wantQR(q.ID, payments.QRPending) // expired, but the final check is still ahead
	h.wantKinds(inv.ID)

	h.clk.Set(q.ExpiresAt.Add(grace))
	h.sim.ResetCalls()
	h.tick()
	if n := h.checks(); n != 1 {
		t.Fatalf("final check made %d calls, want 1", n)
	}
	got := h.wantQR(q.ID, payments.QRExpired)
	if !got.ClosedAt.Equal(q.ExpiresAt.Add(grace)) {
		t.Errorf("closed at %v, want %v", got.ClosedAt, q.ExpiresAt.Add(grace))
	}
	h.wantInvoice(inv.ID, payments.InvoiceOpen) // a new QR can still pay it
	h.wantKinds(inv.ID, payments.EventExpired)

	h.sim.ResetCalls()
	h.ticksUntil(h.clk.Now().Add(10 * time.Minute))
	if n := h.checks(); n != 0 {
		t.Errorf("%d checks after the QR expired, want none", n)
	}
}

func TestFailed(t *testing.T) {
	h := newHarness(t)
	inv := h.invoice(usd5)
	q := h.qr(inv.ID)
	h.tick()
	if err := h.sim.Fail(q.MD5); err != nil {
		t.Fatal(err)
	}
	h.clk.Advance(interval)
	h.tick()
	h.wantQR(q.ID, payments.QRFailed)
	h.wantInvoice(inv.ID, payments.InvoiceOpen)
	h.wantKinds(inv.ID, payments.EventFailed)

	h.sim.ResetCalls()
	h.ticksUntil(q.ExpiresAt.Add(2 * grace))
	if n := h.checks(); n != 0 {
		t.Errorf("%d checks of a failed QR, want none", n)
	}
}

func TestMismatchGoesToReview(t *testing.T) {
	tests := []struct {
		name   string
		pay    sim.Payment
		reason string
	}{
		{"wrong amount", sim.Payment{Amount: 499}, "amount 4.99 USD, expected 5.00 USD"},
		{"wrong currency", sim.Payment{Amount: 500, Currency: "KHR"}, `currency "KHR", expected USD`},
		{"wrong receiver", sim.Payment{ToAccount: "thief@devb"}, `paid to "thief@devb", expected shop@devb`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			inv := h.invoice(usd5)
			q := h.qr(inv.ID)
			h.pay(q, tt.pay)
			h.tick()

			h.wantInvoice(inv.ID, payments.InvoiceReview)
			h.wantQR(q.ID, payments.QRReview)
			ps := h.payments(inv.ID)
			if len(ps) != 1 || ps[0].Status != payments.PaymentReview || !strings.Contains(ps[0].Reason, tt.reason) {
				t.Fatalf("payments %+v, want one in review saying %q", ps, tt.reason)
			}
			evs := h.events()
			if len(evs) != 1 || evs[0].Kind != payments.EventReview || evs[0].PaymentID != ps[0].ID || evs[0].Detail != ps[0].Reason {
				t.Fatalf("events %+v, want one review event with the reason", evs)
			}
		})
	}
}

func TestTwoQRsBothPaid(t *testing.T) {
	h := newHarness(t)
	inv := h.invoice(usd5)
	q1, q2 := h.qr(inv.ID), h.qr(inv.ID)
	if q1.BillNumber == q2.BillNumber || q1.MD5 == q2.MD5 {
		t.Fatalf("two QRs share bill number %s or md5", q1.BillNumber)
	}
	h.pay(q1, sim.Payment{})
	h.pay(q2, sim.Payment{})
	h.tick()

	got := h.wantInvoice(inv.ID, payments.InvoicePaid)
	ps := h.payments(inv.ID)
	if len(ps) != 2 {
		t.Fatalf("%d payments, want 2", len(ps))
	}
	var settled, dup payments.Payment
	for _, p := range ps {
		switch p.Status {
		case payments.PaymentSettled:
			settled = p
		case payments.PaymentDuplicate:
			dup = p
		}
	}
	if settled.ID == 0 || dup.ID == 0 || got.PaymentID != settled.ID || !strings.Contains(dup.Reason, "already paid") {
		t.Fatalf("payments %+v, want one settled (the invoice's) and one duplicate", ps)
	}
	h.wantQR(settled.QRID, payments.QRPaid)
	h.wantQR(dup.QRID, payments.QRReview)
	h.wantKinds(inv.ID, payments.EventSettled, payments.EventDuplicate)
}

func TestSiblingQRAfterSettlement(t *testing.T) {
	h := newHarness(t)
	inv := h.invoice(usd5)
	q1 := h.qr(inv.ID)
	h.clk.Advance(time.Minute)
	q2, q3 := h.qr(inv.ID), h.qr(inv.ID)
	h.pay(q2, sim.Payment{})
	h.tick()
	h.wantInvoice(inv.ID, payments.InvoicePaid)
	h.wantQR(q1.ID, payments.QRPending) // still polled: it could be paid too
	h.wantQR(q3.ID, payments.QRPending)

	h.clk.Advance(interval)
	h.pay(q3, sim.Payment{}) // a second customer pays a QR still on screen
	h.tick()
	h.wantQR(q3.ID, payments.QRReview)
	h.wantKinds(inv.ID, payments.EventSettled, payments.EventDuplicate)

	// q1 expires unpaid: silently, since its invoice is paid.
	h.ticksUntil(q1.ExpiresAt.Add(grace))
	h.wantQR(q1.ID, payments.QRExpired)
	h.wantKinds(inv.ID, payments.EventSettled, payments.EventDuplicate)
	h.wantInvoice(inv.ID, payments.InvoicePaid)
}

func TestTwoReconcilersOneDatabase(t *testing.T) {
	h := newHarness(t)
	other := h.start()
	inv := h.invoice(usd5)
	qrs := []*payments.QR{h.qr(inv.ID), h.qr(inv.ID)}
	h.tick()
	h.pay(qrs[0], sim.Payment{})
	h.clk.Advance(interval)

	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, n := range []*node{h.node, other} {
		wg.Go(func() { errs[i] = n.rec.Tick(h.ctx) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatalf("Tick: %v", err)
		}
	}
	h.wantInvoice(inv.ID, payments.InvoicePaid)
	if ps := h.payments(inv.ID); len(ps) != 1 || ps[0].Status != payments.PaymentSettled {
		t.Fatalf("payments %+v, want exactly one settled", ps)
	}
	h.wantKinds(inv.ID, payments.EventSettled)
}

func TestConcurrentApply(t *testing.T) {
	h := newHarness(t)
	other := h.start()
	inv := h.invoice(usd5)
	q := h.qr(inv.ID)
	tx := h.pay(q, sim.Payment{})

	const n = 8
	var wg sync.WaitGroup
	ids := make([]int64, n)
	errs := make([]error, n)
	for i := range n {
		svc := h.svc
		if i%2 == 1 {
			svc = other.svc // a second process on the same file
		}
		wg.Go(func() {
			p, err := svc.Apply(h.ctx, q, tx, payments.SourcePoll)
			errs[i] = err
			if err == nil {
				ids[i] = p.ID
			}
		})
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("Apply %d: %v", i, errs[i])
		}
		if ids[i] != ids[0] {
			t.Fatalf("Apply returned payments %v, want the same one every time", ids)
		}
	}
	h.wantInvoice(inv.ID, payments.InvoicePaid)
	if ps := h.payments(inv.ID); len(ps) != 1 {
		t.Fatalf("%d payments, want 1", len(ps))
	}
	h.wantKinds(inv.ID, payments.EventSettled)
}

func TestRestart(t *testing.T) {
	h := newHarness(t)
	a := h.invoice(usd5)
	qa := h.qr(a.ID)
	b := h.invoice(usd5)
	qb := h.qr(b.ID)
	c := h.invoice(usd5)
	h.qr(c.ID)
	if _, err := h.svc.Cancel(h.ctx, c.ID, 1); err != nil {
		t.Fatal(err)
	}
	h.tick()

	// Mid-poll: the next check hangs in Bakong when everything is closed.
	h.setFault("*", sim.Fault{Latency: time.Minute})
	h.clk.Advance(interval)
	ctx, cancel := context.WithCancel(h.ctx)
	done := make(chan error, 1)
	drain(h.arrived)
	go func() { done <- h.rec.Tick(ctx) }()
	<-h.arrived
	cancel()
	if err := <-done; err == nil {
		t.Fatal("Tick returned nil after its context was cancelled mid-poll")
	}
	if err := h.db.Close(); err != nil {
		t.Fatal(err)
	}
	h.sim.ClearFaults()

	h.pay(qa, sim.Payment{})
	h.node = h.start()
	h.wantQR(qb.ID, payments.QRPending)
	h.clk.Advance(interval)
	h.tick()
	h.wantInvoice(a.ID, payments.InvoicePaid)
	h.wantKinds(a.ID, payments.EventSettled)
	h.wantKinds(c.ID, payments.EventCancelled) // written before the restart, still undelivered

	h.ticksUntil(qb.ExpiresAt.Add(grace))
	h.wantQR(qb.ID, payments.QRExpired)
	h.wantKinds(b.ID, payments.EventExpired)
}

// drain empties a signal channel.
func drain(c chan string) {
	for {
		select {
		case <-c:
		default:
			return
		}
	}
}

func TestRun(t *testing.T) {
	h := newHarness(t, withReconciler(payments.ReconcilerConfig{Interval: 10 * time.Millisecond, MaxRPS: 100}))
	inv := h.invoice(usd5)
	q := h.qr(inv.ID)
	h.pay(q, sim.Payment{})
	ctx, cancel := context.WithCancel(h.ctx)
	done := make(chan error, 1)
	go func() { done <- h.rec.Run(ctx) }()
	select {
	case <-h.svc.Wake():
	case <-time.After(5 * time.Second):
		t.Fatal("Run settled nothing within 5s")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v, want nil after its context ended", err)
	}
	waitFor(t, func() bool { return !h.rec.LastTick().IsZero() }) // read while Run writes: -race checks it
	h.wantInvoice(inv.ID, payments.InvoicePaid)
}

// slowAPI is Bakong taking its time: every md5 list call moves the clock on.
type slowAPI struct {
	payments.Bakong
	clk  interface{ Advance(time.Duration) time.Time }
	took time.Duration
}

func (s slowAPI) CheckMD5List(ctx context.Context, md5s []string) ([]bakong.Result, error) {
	res, err := s.Bakong.CheckMD5List(ctx, md5s)
	s.clk.Advance(s.took)
	return res, err
}

// TestEveryQREveryCycle: however late in a cycle a QR is checked, it is due
// again at the next cycle, one interval after this one began; and LastTick
// says when the cycle ended.
func TestEveryQREveryCycle(t *testing.T) {
	h := newHarness(t)
	for range 120 { // three md5 list calls
		h.qr(h.invoice(usd5).ID)
	}
	svc, err := payments.NewService(h.db, slowAPI{h.api, h.clk, 2 * time.Second}, h.clk, h.cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	rec := payments.NewReconciler(svc, h.rc)
	if got := rec.LastTick(); !got.IsZero() {
		t.Fatalf("LastTick before any tick: %v, want zero", got)
	}
	start := h.clk.Now()
	for i := range 3 {
		h.sim.ResetCalls()
		h.clk.Set(start.Add(time.Duration(i) * interval))
		if err := rec.Tick(h.ctx); err != nil {
			t.Fatal(err)
		}
		if n := h.calls(epMD5List); n != 3 {
			t.Fatalf("cycle %d: %d md5 list calls, want 3", i, n)
		}
		if got, want := rec.LastTick(), h.clk.Now(); !got.Equal(want) {
			t.Fatalf("cycle %d: LastTick %v, want the cycle's end %v", i, got, want)
		}
	}
}

// TestPrune: ticks delete call-log rows and delivered events older than 30
// days, at most once an hour, and a batch per tick while a backlog lasts.
func TestPrune(t *testing.T) {
	h := newHarness(t)
	old := h.clk.Now().Add(-30*24*time.Hour - time.Minute)
	logCalls := func(endpoint string, n int, at time.Time) {
		t.Helper()
		err := h.db.WithTx(h.ctx, func(st payments.Store) error {
			for range n {
				if err := st.LogCall(h.ctx, &payments.APICall{Endpoint: endpoint, At: at}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	count := func(endpoint string) int {
		t.Helper()
		calls, err := h.db.ListCalls(h.ctx, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, c := range calls {
			if c.Endpoint == endpoint {
				n++
			}
		}
		return n
	}
	logCalls("old", payments.PruneBatch+1, old) // one more than a tick prunes
	logCalls("recent", 1, h.clk.Now().Add(-time.Hour))
	delivered := &payments.Event{Kind: payments.EventAlert, CreatedAt: old}
	undelivered := &payments.Event{Kind: payments.EventAlert, CreatedAt: old}
	for _, e := range []*payments.Event{delivered, undelivered} {
		if err := h.db.AddEvent(h.ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.db.MarkEventDelivered(h.ctx, delivered.ID, old); err != nil {
		t.Fatal(err)
	}

	h.tick()
	if n := count("old"); n != 1 {
		t.Fatalf("%d old calls after the first tick, want the one past its batch", n)
	}
	h.clk.Advance(interval)
	h.tick() // the backlog goes on at once
	if n := count("old"); n != 0 {
		t.Fatalf("%d old calls after the second tick, want none", n)
	}
	if n := count("recent"); n != 1 {
		t.Errorf("%d recent calls, want 1 kept", n)
	}
	if evs := h.events(); len(evs) != 1 || evs[0].ID != undelivered.ID {
		t.Errorf("undelivered events %+v, want the old undelivered one kept", evs)
	}

	logCalls("old", 1, old)
	h.clk.Advance(interval)
	h.tick()
	if n := count("old"); n != 1 {
		t.Fatalf("%d old calls within the hour, want 1: no pruning yet", n)
	}
	h.clk.Advance(time.Hour)
	h.tick()
	if n := count("old"); n != 0 {
		t.Fatalf("%d old calls an hour later, want none", n)
	}
}
