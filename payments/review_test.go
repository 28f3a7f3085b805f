package payments_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/khqrbot/khqrbot/payments"
	"github.com/khqrbot/khqrbot/payments/bakong/sim"
)

// reviewed pays q as p, lets the reconciler find it, and returns the one
// payment in review for q's invoice.
func (h *harness) reviewed(q *payments.QR, p sim.Payment) payments.Payment {
	h.t.Helper()
	h.pay(q, p)
	h.tick()
	for _, x := range h.payments(q.InvoiceID) {
		if x.QRID == q.ID && x.Status == payments.PaymentReview {
			return x
		}
	}
	h.t.Fatalf("no payment in review for QR %s: %+v", q.BillNumber, h.payments(q.InvoiceID))
	return payments.Payment{}
}

func (h *harness) payment(id int64) *payments.Payment {
	h.t.Helper()
	p, err := h.db.Payment(h.ctx, id)
	if err != nil {
		h.t.Fatalf("Payment(%d): %v", id, err)
	}
	return p
}

func TestAccept(t *testing.T) {
	tests := []struct {
		name string
		late bool
		pay  sim.Payment
	}{
		{"wrong amount", false, sim.Payment{Amount: 450}},
		{"wrong currency", false, sim.Payment{Amount: 20000, Currency: "KHR"}},
		{"paid after expiry", true, sim.Payment{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			inv := h.invoice(usd5)
			q := h.qr(inv.ID)
			if tt.late {
				h.ticksUntil(q.ExpiresAt.Add(-time.Second))
				tt.pay.CreatedAt = q.ExpiresAt.Add(time.Second)
				h.clk.Set(q.ExpiresAt.Add(grace))
			}
			p := h.reviewed(q, tt.pay)
			h.clk.Advance(time.Hour)

			got, err := h.svc.Accept(h.ctx, p.ID, 42)
			if err != nil {
				t.Fatalf("Accept: %v", err)
			}
			if got.Status != payments.InvoicePaid || got.PaymentID != p.ID || !got.PaidAt.Equal(p.PaidAt) {
				t.Errorf("invoice %s, payment %d, paid at %v; want paid by %d at %v", got.Status, got.PaymentID, got.PaidAt, p.ID, p.PaidAt)
			}
			h.wantInvoice(inv.ID, payments.InvoicePaid)
			h.wantQR(q.ID, payments.QRPaid)
			if a := h.payment(p.ID); a.Status != payments.PaymentSettled || !strings.HasPrefix(a.Reason, p.Reason+"; accepted by 42 at ") {
				t.Errorf("payment %s %q, want settled, its reason kept and the admin noted", a.Status, a.Reason)
			}
			h.wantKinds(inv.ID, payments.EventReview, payments.EventSettled)
			if e := h.events()[1]; e.PaymentID != p.ID || e.QRID != q.ID || e.Detail != "accepted by 42" {
				t.Errorf("settled event %+v", e)
			}

			// Pressing again is harmless; rejecting now is too late.
			if again, err := h.svc.Accept(h.ctx, p.ID, 43); err != nil || again.Status != payments.InvoicePaid {
				t.Errorf("Accept again: %+v, %v", again, err)
			}
			h.wantKinds(inv.ID, payments.EventReview, payments.EventSettled)
			_, err = h.svc.Reject(h.ctx, p.ID, 43)
			wantCode(t, err, payments.EConflict)
		})
	}
}

// TestAcceptConcurrently: admins on two processes press Accept at once; the
// invoice settles once and every press gets the paid invoice.
func TestAcceptConcurrently(t *testing.T) {
	h := newHarness(t)
	other := h.start()
	inv := h.invoice(usd5)
	q := h.qr(inv.ID)
	p := h.reviewed(q, sim.Payment{Amount: 100})

	const n = 8
	var wg sync.WaitGroup
	got := make([]*payments.Invoice, n)
	errs := make([]error, n)
	for i := range n {
		svc := h.svc
		if i%2 == 1 {
			svc = other.svc
		}
		wg.Go(func() { got[i], errs[i] = svc.Accept(h.ctx, p.ID, int64(100+i)) })
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil || got[i].Status != payments.InvoicePaid || got[i].PaymentID != p.ID {
			t.Fatalf("Accept %d: %+v, %v", i, got[i], errs[i])
		}
	}
	h.wantKinds(inv.ID, payments.EventReview, payments.EventSettled)
	if r := h.payment(p.ID).Reason; strings.Count(r, "accepted by") != 1 {
		t.Errorf("reason %q, want one admin noted", r)
	}
}

// TestAcceptAndRejectRace: one admin accepts while another rejects; exactly
// one decision holds, and the other press is told why it failed.
func TestAcceptAndRejectRace(t *testing.T) {
	h := newHarness(t)
	other := h.start()
	inv := h.invoice(usd5)
	p := h.reviewed(h.qr(inv.ID), sim.Payment{Amount: 100})
	var wg sync.WaitGroup
	var accErr, rejErr error
	wg.Go(func() { _, accErr = h.svc.Accept(h.ctx, p.ID, 1) })
	wg.Go(func() { _, rejErr = other.svc.Reject(h.ctx, p.ID, 2) })
	wg.Wait()
	switch {
	case accErr == nil && payments.ErrorCode(rejErr) == payments.EConflict:
		h.wantInvoice(inv.ID, payments.InvoicePaid)
		h.wantKinds(inv.ID, payments.EventReview, payments.EventSettled)
	case rejErr == nil && payments.ErrorCode(accErr) == payments.EConflict:
		h.wantInvoice(inv.ID, payments.InvoiceOpen)
		h.wantKinds(inv.ID, payments.EventReview, payments.EventRejected)
	default:
		t.Fatalf("accept: %v; reject: %v; want one to win and the other EConflict", accErr, rejErr)
	}
}

// TestAcceptOnPaidInvoice: a payment left in review after a correct one
// settled the invoice cannot settle it again; it can be rejected, and the
// invoice stays paid.
func TestAcceptOnPaidInvoice(t *testing.T) {
	h := newHarness(t)
	inv := h.invoice(usd5)
	q1, q2 := h.qr(inv.ID), h.qr(inv.ID)
	p := h.reviewed(q1, sim.Payment{Amount: 100})
	good := h.pay(q2, sim.Payment{})
	h.clk.Advance(interval)
	h.tick()
	h.wantInvoice(inv.ID, payments.InvoicePaid)

	_, err := h.svc.Accept(h.ctx, p.ID, 42)
	wantCode(t, err, payments.EConflict)
	if msg := payments.ErrorMessage(err); !strings.Contains(msg, "already paid by transaction "+good.ShortHash()) || !strings.Contains(msg, "refund") {
		t.Errorf("message %q, want it to say the invoice is paid and what to do", msg)
	}
	if a := h.payment(p.ID); a.Status != payments.PaymentReview {
		t.Errorf("refused Accept changed the payment to %s", a.Status)
	}
	h.wantKinds(inv.ID, payments.EventReview, payments.EventSettled)

	got, err := h.svc.Reject(h.ctx, p.ID, 42)
	if err != nil || got.Status != payments.InvoicePaid || got.PaymentID == p.ID {
		t.Fatalf("Reject: %+v, %v; want the invoice still paid by the good payment", got, err)
	}
	h.wantKinds(inv.ID, payments.EventReview, payments.EventSettled, payments.EventRejected)
}

// TestRejectThenPayAgain: a rejected payment reopens the invoice; a fresh QR
// paid correctly settles it.
func TestRejectThenPayAgain(t *testing.T) {
	h := newHarness(t)
	inv := h.invoice(usd5)
	q := h.qr(inv.ID)
	p := h.reviewed(q, sim.Payment{Amount: 499})
	_, err := h.svc.IssueQR(h.ctx, payments.QRRequest{InvoiceID: inv.ID})
	wantCode(t, err, payments.EConflict) // no new QR while in review

	got, err := h.svc.Reject(h.ctx, p.ID, 42)
	if err != nil || got.Status != payments.InvoiceOpen || got.PaymentID != 0 {
		t.Fatalf("Reject: %+v, %v; want the invoice open", got, err)
	}
	h.wantQR(q.ID, payments.QRReview) // closed: its md5 answers with the rejected payment
	if r := h.payment(p.ID); r.Status != payments.PaymentRejected || !strings.Contains(r.Reason, "expected 5.00 USD; rejected by 42 at ") {
		t.Errorf("payment %s %q", r.Status, r.Reason)
	}
	h.wantKinds(inv.ID, payments.EventReview, payments.EventRejected)
	if e := h.events()[1]; e.PaymentID != p.ID || e.QRID != q.ID || e.Detail != "rejected by 42" {
		t.Errorf("rejected event %+v", e)
	}
	if again, err := h.svc.Reject(h.ctx, p.ID, 43); err != nil || again.Status != payments.InvoiceOpen {
		t.Errorf("Reject again: %+v, %v", again, err)
	}
	h.wantKinds(inv.ID, payments.EventReview, payments.EventRejected)
	_, err = h.svc.Accept(h.ctx, p.ID, 43)
	wantCode(t, err, payments.EConflict)

	q2 := h.qr(inv.ID)
	h.pay(q2, sim.Payment{})
	h.clk.Advance(interval)
	h.tick()
	if got := h.wantInvoice(inv.ID, payments.InvoicePaid); got.PaymentID == p.ID {
		t.Error("the rejected payment settled the invoice")
	}
	h.wantKinds(inv.ID, payments.EventReview, payments.EventRejected, payments.EventSettled)
}

// TestRejectOneOfTwo: the invoice stays in review until its last payment in
// review is judged.
func TestRejectOneOfTwo(t *testing.T) {
	h := newHarness(t)
	inv := h.invoice(usd5)
	q1, q2 := h.qr(inv.ID), h.qr(inv.ID)
	p1 := h.reviewed(q1, sim.Payment{Amount: 100})
	h.clk.Advance(interval)
	p2 := h.reviewed(q2, sim.Payment{Amount: 200})
	if got, err := h.svc.Reject(h.ctx, p1.ID, 1); err != nil || got.Status != payments.InvoiceReview {
		t.Fatalf("first Reject: %+v, %v; want still in review", got, err)
	}
	if got, err := h.svc.Reject(h.ctx, p2.ID, 1); err != nil || got.Status != payments.InvoiceOpen {
		t.Fatalf("second Reject: %+v, %v; want open", got, err)
	}
}

// TestRejectAfterCancel: a payment that arrived on a cancelled invoice,
// once rejected, leaves the invoice cancelled, not open.
func TestRejectAfterCancel(t *testing.T) {
	h := newHarness(t)
	inv := h.invoice(usd5)
	q := h.qr(inv.ID)
	h.setFault(epMD5, sim.Fault{Status: 503, Count: 1}) // Cancel's last look fails
	if _, err := h.svc.Cancel(h.ctx, inv.ID, 1); err != nil {
		t.Fatal(err)
	}
	h.pay(q, sim.Payment{})
	if _, err := h.svc.CheckQR(h.ctx, q.ID); err != nil {
		t.Fatal(err)
	}
	p := h.payments(inv.ID)[0]
	got, err := h.svc.Reject(h.ctx, p.ID, 1)
	if err != nil || got.Status != payments.InvoiceCancelled {
		t.Fatalf("Reject: %+v, %v; want cancelled again", got, err)
	}
}

func TestResolveRefused(t *testing.T) {
	h := newHarness(t)
	inv := h.invoice(usd5)
	q1, q2 := h.qr(inv.ID), h.qr(inv.ID)
	h.pay(q1, sim.Payment{})
	h.pay(q2, sim.Payment{})
	h.tick()
	var dup payments.Payment
	for _, p := range h.payments(inv.ID) {
		if p.Status == payments.PaymentDuplicate {
			dup = p
		}
	}
	tests := []struct {
		name string
		call func(ctx context.Context, id, by int64) (*payments.Invoice, error)
		id   int64
		code string
	}{
		{"accept a duplicate", h.svc.Accept, dup.ID, payments.EConflict},
		{"reject a duplicate", h.svc.Reject, dup.ID, payments.EConflict},
		{"accept a settled payment of a paid invoice", h.svc.Accept, h.getInvoice(inv.ID).PaymentID, ""},
		{"accept nothing", h.svc.Accept, 999, payments.ENotFound},
		{"reject nothing", h.svc.Reject, 999, payments.ENotFound},
	}
	for _, tt := range tests {
		_, err := tt.call(h.ctx, tt.id, 1)
		if payments.ErrorCode(err) != tt.code {
			t.Errorf("%s: %v, want code %q", tt.name, err, tt.code)
		}
	}
	h.wantKinds(inv.ID, payments.EventSettled, payments.EventDuplicate)
}
