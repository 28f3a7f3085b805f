package bot_test

import (
	"bytes"
	"context"
	"regexp"
	"testing"

	"github.com/khqrbot/khqrbot/internal/telegramtest"
	"github.com/khqrbot/khqrbot/payments"
	"github.com/khqrbot/khqrbot/payments/bakong/sim"
	"github.com/khqrbot/khqrbot/payments/card"
)

// TestKhmerCustomerCard: a Khmer-speaking customer who opens an English
// admin's invoice link gets the Khmer card, and the edit that marks it paid
// (from the outbox) is the Khmer paid card; the admin's own QR stays English.
func TestKhmerCustomerCard(t *testing.T) {
	h := newHarness(t, options{})
	ctx := context.Background()
	h.tg.SendText(admin, admin, "/invoice 20 USD logo design")
	m := h.waitText(admin, "logo design")
	tok := regexp.MustCompile(`start=inv_([A-Za-z0-9_-]+)`).FindStringSubmatch(m.Text)
	if tok == nil {
		t.Fatalf("no share link in %q", m.Text)
	}
	h.tg.SendText(customer, customer, "/start inv_"+tok[1], telegramtest.WithLanguage("km"))
	photo := h.waitPhoto(customer, 1)
	q := h.qrOfChat(customer)
	inv, err := h.store.Invoice(ctx, q.InvoiceID)
	if err != nil {
		t.Fatal(err)
	}
	want := card.Card{State: card.StatePending, MerchantName: "Test Shop", Amount: q.Amount.Number(),
		Currency: string(q.Amount.Currency), QR: q.Payload, InvoiceNumber: inv.Number, ExpiresAt: q.ExpiresAt, Sandbox: q.Sandbox}
	h.assertCard(photo.Photo, want, "km", "the customer's QR photo")

	// The photo was checked byte for byte above: pay its payload.
	if _, err := h.sim.PayQR(q.Payload, sim.Payment{}); err != nil {
		t.Fatal(err)
	}
	paid := h.waitCaption(customer, photo.ID, "បានបង់")
	pays, err := h.store.ListPayments(ctx, payments.PaymentFilter{QRID: q.ID})
	if err != nil || len(pays) != 1 {
		t.Fatalf("%d payments (%v)", len(pays), err)
	}
	want.State, want.QR, want.PaidAt, want.ShortHash = card.StatePaid, "", pays[0].PaidAt, pays[0].ShortHash
	want.Amount, want.Currency = pays[0].Amount.Number(), string(pays[0].Amount.Currency)
	h.assertCard(paid.Photo, want, "km", "the customer's paid edit")

	h.tg.SendText(admin, admin, "/pay 5")
	mine := h.waitPhoto(admin, 1)
	aq := h.qrOfChat(admin)
	ainv, err := h.store.Invoice(ctx, aq.InvoiceID)
	if err != nil {
		t.Fatal(err)
	}
	h.assertCard(mine.Photo, card.Card{State: card.StatePending, MerchantName: "Test Shop", Amount: aq.Amount.Number(),
		Currency: string(aq.Amount.Currency), QR: aq.Payload, InvoiceNumber: ainv.Number, ExpiresAt: aq.ExpiresAt, Sandbox: aq.Sandbox}, "en", "the admin's QR photo")
}

// qrOfChat returns the one QR sent to chat.
func (h *harness) qrOfChat(chat int64) *payments.QR {
	h.t.Helper()
	qrs, err := h.store.ListQRs(context.Background(), payments.QRFilter{})
	if err != nil {
		h.t.Fatal(err)
	}
	for i := range qrs {
		if qrs[i].ChatID == chat {
			return &qrs[i]
		}
	}
	h.t.Fatalf("no QR in chat %d", chat)
	return nil
}

// assertCard checks that png is c drawn in lang, not in the other language.
func (h *harness) assertCard(png []byte, c card.Card, lang, what string) {
	h.t.Helper()
	for _, l := range []string{"en", "km"} {
		c.Lang = l
		b, err := card.Render(c)
		if err != nil {
			h.t.Fatal(err)
		}
		if got := bytes.Equal(png, b); got != (l == lang) {
			h.t.Errorf("%s: equals the %s card: %v, want %v", what, l, got, l == lang)
		}
	}
}
