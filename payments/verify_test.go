package payments_test

import (
	"testing"
	"time"

	"github.com/khqrbot/khqrbot/payments"
	"github.com/khqrbot/khqrbot/payments/bakong/sim"
)

// TestVerifyFindsItsQR: /verify records a receipt against the QR of the
// invoice that Bakong says it paid, not merely the newest, and still
// vouches for it: paid after that QR expired, it settles all the same.
func TestVerifyFindsItsQR(t *testing.T) {
	h := newHarness(t)
	inv := h.invoice(usd5)
	q1 := h.qr(inv.ID)
	h.qr(inv.ID)
	h.clk.Advance(ttl + time.Second)
	tx := h.pay(q1, sim.Payment{CreatedAt: h.clk.Now()}) // after q1 expired
	p, err := h.svc.VerifyShortHash(h.ctx, inv.ID, tx.Hash[:8])
	if err != nil || p.Status != payments.PaymentSettled || p.QRID != q1.ID || p.Source != payments.SourceVerify {
		t.Fatalf("VerifyShortHash: %+v, %v; want settled by verify on the QR paid", p, err)
	}
	h.wantQR(q1.ID, payments.QRPaid)
	h.wantInvoice(inv.ID, payments.InvoicePaid)
}
