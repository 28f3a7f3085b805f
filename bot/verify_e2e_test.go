package bot_test

import (
	"strings"
	"testing"

	"github.com/khqrbot/khqrbot/internal/telegramtest"
	"github.com/khqrbot/khqrbot/payments"
	"github.com/khqrbot/khqrbot/payments/bakong/sim"
)

// TestVerify: /verify settles an invoice from the short hash on a customer's
// receipt. The invoice may be left out when exactly one is open; otherwise
// the admin is asked which one. Bad input is answered with what is expected.
func TestVerify(t *testing.T) {
	h := newHarness(t, options{noPolling: true})
	h.tg.SendText(admin, admin, "/verify 1a2b3c4d")
	h.waitText(admin, "No invoice is open. Say which invoice the payment is for: /verify 1a2b3c4d INV-000042")

	h.tg.SendText(admin, admin, "/pay 4")
	one := h.waitPhoto(admin, 1)
	tx, err := h.sim.PayQR(scanQR(t, one.Photo), sim.Payment{})
	if err != nil {
		t.Fatal(err)
	}
	h.tg.SendText(admin, admin, "/verify "+tx.ShortHash())
	h.waitText(admin, "INV-000001 is settled by transaction "+tx.ShortHash())
	h.waitCaption(admin, one.ID, "Paid")

	h.tg.SendText(admin, admin, "/pay 6")
	h.waitPhoto(admin, 2)
	h.tg.SendText(admin, admin, "/pay 7")
	three := h.waitPhoto(admin, 3)
	if tx, err = h.sim.PayQR(scanQR(t, three.Photo), sim.Payment{}); err != nil {
		t.Fatal(err)
	}
	h.tg.SendText(admin, admin, "/verify "+tx.ShortHash())
	h.waitText(admin, "Several invoices are open. Say which one the payment is for: /verify "+tx.ShortHash()+" INV-000042")
	if s := h.invoiceStatus("INV-000003"); s != payments.InvoiceOpen {
		t.Fatalf("INV-000003 is %s after an ambiguous /verify, want open", s)
	}
	h.tg.SendText(admin, admin, "/verify INV-000003 "+strings.ToUpper(tx.ShortHash()))
	h.waitText(admin, "INV-000003 is settled by transaction "+tx.ShortHash())

	tests := []struct{ args, want string }{
		{"xyz INV-000002", "“xyz” is not a short hash. I need the 8 characters"},
		{"deadbeef INV-000002", "Bakong has no payment deadbeef of exactly 6.00 USD"},
		{"deadbeef nonsense", "Usage: /verify <short hash> [invoice]"},
		{"deadbeef INV-000099", "I cannot find that"},
	}
	for _, tt := range tests {
		h.tg.SendText(admin, admin, "/verify "+tt.args)
		h.waitText(admin, tt.want)
	}
	if s := h.invoiceStatus("INV-000002"); s != payments.InvoiceOpen {
		t.Errorf("INV-000002 is %s after refused /verify calls, want open", s)
	}
}

// TestVerifyRefusals: a receipt already recorded for another invoice and a
// transaction Bakong reports as failed get answers of their own, in the
// admin's language, and leave the invoice open.
func TestVerifyRefusals(t *testing.T) {
	h := newHarness(t, options{noPolling: true})
	h.tg.SendText(admin, admin, "/pay 4")
	tx, err := h.sim.PayQR(scanQR(t, h.waitPhoto(admin, 1).Photo), sim.Payment{})
	if err != nil {
		t.Fatal(err)
	}
	h.tg.SendText(admin, admin, "/verify "+tx.ShortHash())
	h.waitText(admin, "INV-000001 is settled by transaction "+tx.ShortHash())
	h.tg.SendText(admin, admin, "/pay 4")
	h.waitPhoto(admin, 2)

	h.tg.SendText(admin, admin, "/verify "+tx.ShortHash()+" INV-000002")
	h.waitText(admin, "Transaction "+tx.ShortHash()+" is already recorded for invoice INV-000001, so it cannot also settle invoice INV-000002.")

	if err := h.sim.SetFault("check_transaction_by_short_hash", sim.Fault{ErrorCode: 3}); err != nil {
		t.Fatal(err)
	}
	h.tg.SendText(admin, admin, "/verify 1a2b3c4d INV-000002")
	h.waitText(admin, "Bakong says transaction 1a2b3c4d failed: no money arrived, so invoice INV-000002 stays unpaid.")
	h.tg.SendText(admin, admin, "/verify 1a2b3c4d INV-000002", telegramtest.WithLanguage("km"))
	h.waitText(admin, "Bakong បញ្ជាក់ថាប្រតិបត្តិការ 1a2b3c4d បានបរាជ័យ")
	if s := h.invoiceStatus("INV-000002"); s != payments.InvoiceOpen {
		t.Errorf("INV-000002 is %s after refused /verify calls, want open", s)
	}
}
