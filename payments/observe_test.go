package payments_test

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/khqrbot/khqrbot/payments"
	"github.com/khqrbot/khqrbot/payments/bakong/sim"
)

// observed records what an Observer is told.
type observed struct {
	mu       sync.Mutex
	created  []payments.Currency
	recorded []payments.PaymentStatus
	settled  []settlement
	cycles   []error
	waits    int
}

type settlement struct {
	m      payments.Money
	source string
	delay  time.Duration
}

func (o *observed) InvoiceCreated(c payments.Currency) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.created = append(o.created, c)
}

func (o *observed) PaymentRecorded(s payments.PaymentStatus, _ payments.Currency) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.recorded = append(o.recorded, s)
}

func (o *observed) InvoiceSettled(m payments.Money, source string, delay time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.settled = append(o.settled, settlement{m, source, delay})
}

func (o *observed) CycleDone(_ time.Duration, err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.cycles = append(o.cycles, err)
}

func (o *observed) BudgetWait(time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.waits++
}

func withObserver(o payments.Observer) option {
	return func(h *harness) { h.cfg.Observer, h.rc.Observer = o, o }
}

// TestObserver: the domain tells its Observer of each invoice, payment,
// settlement (with the time from the payment to it) and cycle.
func TestObserver(t *testing.T) {
	o := &observed{}
	h := newHarness(t, withObserver(o))
	inv := h.invoice(usd5)
	q := h.qr(inv.ID)
	h.clk.Advance(time.Second)
	h.pay(q, sim.Payment{})
	h.clk.Advance(4 * time.Second)
	if err := h.rec.Tick(h.ctx); err != nil {
		t.Fatal(err)
	}

	khr := payments.Money{Amount: 20_000, Currency: payments.KHR}
	inv2 := h.invoice(khr)
	q2 := h.qr(inv2.ID)
	h.pay(q2, sim.Payment{Amount: 10_000}) // short: to review
	h.clk.Advance(interval)
	if err := h.rec.Tick(h.ctx); err != nil {
		t.Fatal(err)
	}
	ps, err := h.db.ListPayments(h.ctx, payments.PaymentFilter{InvoiceID: inv2.ID})
	if err != nil || len(ps) != 1 {
		t.Fatalf("payments of the short invoice: %v, %v", ps, err)
	}
	h.clk.Advance(time.Minute)
	if _, err := h.svc.Accept(h.ctx, ps[0].ID, 42); err != nil {
		t.Fatal(err)
	}

	o.mu.Lock()
	defer o.mu.Unlock()
	if !slices.Equal(o.created, []payments.Currency{payments.USD, payments.KHR}) {
		t.Errorf("created %v", o.created)
	}
	if !slices.Equal(o.recorded, []payments.PaymentStatus{payments.PaymentSettled, payments.PaymentReview}) {
		t.Errorf("recorded %v", o.recorded)
	}
	want := []settlement{
		{usd5, payments.SourcePoll, 4 * time.Second},
		{payments.Money{Amount: 20_000, Currency: payments.KHR}, payments.SourceReview, interval + time.Minute},
	}
	if !slices.Equal(o.settled, want) {
		t.Errorf("settled %+v, want %+v", o.settled, want)
	}
	if len(o.cycles) != 2 || errors.Join(o.cycles...) != nil {
		t.Errorf("cycles %v, want two that succeeded", o.cycles)
	}
	if o.waits == 0 {
		t.Error("no call drew on the request budget")
	}
}
