package bot_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/khqrbot/khqrbot/payments"
	"github.com/khqrbot/khqrbot/payments/bakong/sim"
)

// twoInvoices makes two /pay invoices of the same amount and pays the
// first one's QR in the simulator; it returns the transaction and the
// first QR's message id.
func (h *harness) twoInvoices() (string, int) {
	h.t.Helper()
	h.tg.SendText(admin, admin, "/pay 5")
	one := h.waitPhoto(admin, 1)
	h.tg.SendText(admin, admin, "/pay 5")
	h.waitPhoto(admin, 2)
	tx, err := h.sim.PayQR(scanQR(h.t, one.Photo), sim.Payment{})
	if err != nil {
		h.t.Fatal(err)
	}
	return tx.ShortHash(), one.ID
}

// TestVerifyFindsThePaidQR: /verify against the wrong invoice of the same
// amount first asks Bakong which open QR the transaction paid, settles the
// invoice really paid, and says so; the named invoice stays open.
func TestVerifyFindsThePaidQR(t *testing.T) {
	h := newHarness(t, options{fakeClock: true, noPolling: true})
	short, one := h.twoInvoices()
	h.tg.SendText(admin, admin, "/verify "+short+" INV-000002")
	h.waitText(admin, "Transaction "+short+" paid a QR of invoice INV-000001, not of INV-000002")
	h.waitText(admin, "INV-000001 is settled by transaction "+short)
	h.waitCaption(admin, one, "Paid")
	if a, b := h.invoiceStatus("INV-000001"), h.invoiceStatus("INV-000002"); a != payments.InvoicePaid || b != payments.InvoiceOpen {
		t.Fatalf("INV-000001 %s, INV-000002 %s; want paid and open", a, b)
	}
}

// TestRecordedElsewhereIsFinal: when /verify could not tell which QR was
// paid and recorded the payment for the wrong invoice, the QR that was
// really paid is closed the first time polling finds the payment, the
// admins are told which invoice holds it, and it is never asked about
// again; /cancel then cancels its invoice.
func TestRecordedElsewhereIsFinal(t *testing.T) {
	h := newHarness(t, options{fakeClock: true, noPolling: true})
	short, one := h.twoInvoices()
	if err := h.sim.SetFault("check_transaction_by_md5_list", sim.Fault{Status: http.StatusServiceUnavailable, Count: 1}); err != nil {
		t.Fatal(err)
	}
	h.tg.SendText(admin, admin, "/verify "+short+" INV-000002")
	h.waitText(admin, "INV-000002 is settled by transaction "+short)

	h.poll(1, func() bool { return true })
	h.waitText(admin, "that payment is already recorded for invoice INV-000002")
	h.waitCaption(admin, one, "checking")
	h.sim.ResetCalls()
	h.poll(5, func() bool { return false })
	for _, c := range h.sim.Calls() {
		if strings.HasPrefix(c.Endpoint, "check_transaction") {
			t.Fatalf("the closed QR is still polled: %v", h.sim.Calls())
		}
	}
	h.tg.SendText(admin, admin, "/cancel INV-000001")
	h.waitText(admin, "Invoice INV-000001 cancelled")
	if s := h.invoiceStatus("INV-000001"); s != payments.InvoiceCancelled {
		t.Fatalf("INV-000001 is %s after /cancel", s)
	}
}
