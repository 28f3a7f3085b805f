package bot_test

import (
	"context"
	"strings"
	"testing"

	"github.com/khqrbot/khqrbot/payments"
	"github.com/khqrbot/khqrbot/payments/bakong/sim"
)

// TestReviewAccept: a short payment in a group goes to review; every admin
// gets a notice with Accept payment and Reject; a customer's press is
// refused; an admin's Accept settles the invoice once, the QR message
// becomes the receipt, and the notice says what was done.
func TestReviewAccept(t *testing.T) {
	h := newHarness(t, options{admins: []int64{admin, 101}})
	h.tg.SendText(group, admin, "/pay 5")
	m := h.waitPhoto(group, 1)
	tx, err := h.sim.PayQR(scanQR(t, m.Photo), sim.Payment{Amount: 400, FromAccount: "payer@wing"})
	if err != nil {
		t.Fatal(err)
	}
	r := h.waitCaption(group, m.ID, "the shop is checking")
	for _, want := range []string{"Check", "Cancel", "Accept payment", "Reject"} {
		if !hasButton(r, want) {
			t.Errorf("review message lacks %q: %+v", want, r.Buttons())
		}
	}
	acc := button(t, r, "Accept payment")
	notice := h.waitText(101, "needs your review")
	if !strings.Contains(notice.Text, "amount 4.00 USD, expected 5.00 USD") || button(t, notice, "Accept payment") != acc || !hasButton(notice, "Reject") {
		t.Fatalf("notice %q with buttons %+v", notice.Text, notice.Buttons())
	}

	if a := h.press(group, customer, m.ID, acc); !strings.Contains(a.Text, "not for you") {
		t.Errorf("a customer's Accept answered %q", a.Text)
	}
	if a := h.press(customer, customer, 1, acc); !strings.Contains(a.Text, "not for you") {
		t.Errorf("a forged Accept from a customer's chat answered %q", a.Text)
	}
	if st := h.invoiceStatus("INV-000001"); st != payments.InvoiceReview {
		t.Fatalf("invoice %s after refused presses, want review", st)
	}

	if a := h.press(101, 101, notice.ID, acc); !strings.Contains(a.Text, "accepted: invoice INV-000001 is paid") {
		t.Errorf("admin's Accept answered %q", a.Text)
	}
	h.waitFor("notice resolved", func() bool {
		n, _ := h.tg.Message(101, notice.ID)
		return strings.Contains(n.Text, "accepted") && n.Keyboard == nil
	})
	paid := h.waitCaption(group, m.ID, "✅ Paid")
	if paid.Keyboard != nil || !strings.Contains(paid.PhotoName, "paid") || !strings.Contains(paid.Caption, tx.ShortHash()) {
		t.Errorf("receipt: photo %q, caption %q, buttons %+v", paid.PhotoName, paid.Caption, paid.Buttons())
	}
	inv, err := h.store.InvoiceByNumber(context.Background(), "INV-000001")
	if err != nil || inv.Status != payments.InvoicePaid {
		t.Fatalf("invoice %+v, %v; want paid", inv, err)
	}

	// The other admin's notice is stale: pressing it is harmless.
	other := h.waitText(admin, "needs your review")
	if a := h.press(admin, admin, other.ID, acc); !strings.Contains(a.Text, "is paid") {
		t.Errorf("second Accept answered %q", a.Text)
	}
	if a := h.press(admin, admin, other.ID, button(t, other, "Reject")); !strings.Contains(a.Text, "can no longer be rejected") {
		t.Errorf("Reject after Accept answered %q", a.Text)
	}
	if got, err := h.store.InvoiceByNumber(context.Background(), "INV-000001"); err != nil || got.Status != payments.InvoicePaid || got.PaymentID != inv.PaymentID {
		t.Errorf("invoice %+v, %v; want still paid by payment %d", got, err, inv.PaymentID)
	}
}

// TestReviewReject: an admin rejects a short payment on the QR message; the
// message tells the customer and offers New QR; a fresh QR paid in full
// settles the invoice; a stale Accept is refused.
func TestReviewReject(t *testing.T) {
	h := newHarness(t, options{})
	h.tg.SendText(admin, admin, "/pay 5")
	m := h.waitPhoto(admin, 1)
	if _, err := h.sim.PayQR(scanQR(t, m.Photo), sim.Payment{Amount: 400, FromAccount: "payer@wing"}); err != nil {
		t.Fatal(err)
	}
	r := h.waitCaption(admin, m.ID, "the shop is checking")
	notice := h.waitText(admin, "needs your review")

	a := h.press(admin, admin, m.ID, button(t, r, "Reject"))
	if !strings.Contains(a.Text, "Refund 4.00 USD to payer@wing") || !strings.Contains(a.Text, "Invoice INV-000001 is now: open") {
		t.Errorf("Reject answered %q", a.Text)
	}
	rej := h.waitCaption(admin, m.ID, "did not accept this payment")
	if !hasButton(rej, "New QR") || hasButton(rej, "Accept") || !strings.Contains(rej.PhotoName, "rejected") {
		t.Fatalf("rejected message: photo %q, buttons %+v", rej.PhotoName, rej.Buttons())
	}
	if st := h.invoiceStatus("INV-000001"); st != payments.InvoiceOpen {
		t.Fatalf("invoice %s after Reject, want open", st)
	}
	if a := h.press(admin, admin, notice.ID, button(t, notice, "Accept payment")); !strings.Contains(a.Text, "was rejected") {
		t.Errorf("stale Accept answered %q", a.Text)
	}

	h.press(admin, admin, rej.ID, button(t, rej, "New QR"))
	m2 := h.waitPhoto(admin, 2)
	if _, err := h.sim.PayQR(scanQR(t, m2.Photo), sim.Payment{}); err != nil {
		t.Fatal(err)
	}
	h.waitCaption(admin, m2.ID, "✅ Paid")
	if st := h.invoiceStatus("INV-000001"); st != payments.InvoicePaid {
		t.Fatalf("invoice %s after the second QR was paid, want paid", st)
	}
	h.waitFor("rejected message paid elsewhere", func() bool {
		old, _ := h.tg.Message(admin, m.ID)
		return strings.Contains(old.Caption, "another QR") && old.Keyboard == nil
	})
}
