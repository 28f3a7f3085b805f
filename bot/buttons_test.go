package bot_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/khqrbot/khqrbot/internal/telegramtest"
	"github.com/khqrbot/khqrbot/payments"
	"github.com/khqrbot/khqrbot/payments/bakong/sim"
)

// TestButtonsRecheckPresser: every button the bot shows an admin (pending,
// review and expired QR messages, notices, /pending) refuses a stranger who
// replays its data from their own chat, and nothing changes; every press,
// malformed ones included, is answered exactly once. Buttons added later are
// covered too: the test presses whatever it finds.
func TestButtonsRecheckPresser(t *testing.T) {
	h := newHarness(t, options{fakeClock: true, noPolling: true, grace: 10 * time.Second})
	ctx := context.Background()
	h.tg.SendText(admin, admin, "/pay 3")
	exp := h.waitPhoto(admin, 1)
	h.fake.Advance(5*time.Minute + 11*time.Second)
	if err := h.rec.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	h.waitCaption(admin, exp.ID, "expired")

	h.tg.SendText(admin, admin, "/pay 1")
	h.waitPhoto(admin, 2)
	h.tg.SendText(admin, admin, "/pay 2")
	short := h.waitPhoto(admin, 3)
	if _, err := h.sim.PayQR(scanQR(t, short.Photo), sim.Payment{Amount: 100}); err != nil {
		t.Fatal(err)
	}
	if h.poll(2, func() bool { return h.invoiceStatus("INV-000003") == payments.InvoiceReview }) > 2 {
		t.Fatal("the short payment did not go to review")
	}
	h.waitCaption(admin, short.ID, "the shop is checking")
	h.waitText(admin, "expected 2.00 USD")
	h.tg.SendText(admin, admin, "/pending")
	h.waitText(admin, "Open invoices, page 1 of 1")

	before := h.tg.Messages(admin)
	invs, err := h.store.ListInvoices(ctx, payments.InvoiceFilter{})
	if err != nil {
		t.Fatal(err)
	}
	type press struct {
		msg  int
		data string
	}
	var presses []press
	for _, m := range before {
		for _, b := range m.Buttons() {
			if b.CallbackData != "" {
				presses = append(presses, press{m.ID, b.CallbackData})
			}
		}
	}
	if len(presses) < 6 { // Check, Cancel, Simulate; New QR; review's own; /pending's
		t.Fatalf("only %d buttons found: %+v", len(presses), presses)
	}

	for _, p := range presses {
		// The stranger's chat has no such message: Telegram sends it as inaccessible.
		if a := h.press(stranger, stranger, p.msg, p.data); a.Text != "Sorry, this button is not for you." {
			t.Errorf("a stranger's %q answered %q, want a refusal", p.data, a.Text)
		}
	}
	// Malformed or forged data, pressed by the admin on a real message.
	malformed := []string{"", "chk", "chk:", "chk:x", "chk:-1", "chk:0", "chk:1:2", "pg:-1", "zzz:1",
		"chk:9223372036854775807", "chk:9223372036854775808", strings.Repeat("9", 100)}
	for _, data := range malformed {
		if a := h.press(admin, admin, exp.ID, data); a.Text != "This button is out of date." {
			t.Errorf("%q answered %q, want out of date", data, a.Text)
		}
	}

	calls := h.tg.CallsTo("answerCallbackQuery")
	if len(calls) != len(presses)+len(malformed) {
		t.Errorf("%d answerCallbackQuery calls for %d presses", len(calls), len(presses)+len(malformed))
	}
	seen := map[string]bool{}
	for _, c := range calls {
		id := c.Params["callback_query_id"]
		if c.ErrorCode != 0 || seen[id] {
			t.Errorf("press %s answered twice or in error: %v", id, c)
		}
		seen[id] = true
	}

	if n := len(h.botMessages(stranger)); n != 0 {
		t.Errorf("the stranger got %d messages", n)
	}
	after := h.tg.Messages(admin)
	if len(after) != len(before) {
		t.Fatalf("%d messages in the admin's chat, had %d", len(after), len(before))
	}
	for i := range before {
		if !sameMessage(before[i], after[i]) {
			t.Errorf("message %d changed by refused presses: %q -> %q", before[i].ID, before[i].Caption+before[i].Text, after[i].Caption+after[i].Text)
		}
	}
	now, err := h.store.ListInvoices(ctx, payments.InvoiceFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range invs {
		if now[i].Status != invs[i].Status {
			t.Errorf("%s went from %s to %s", invs[i].Number, invs[i].Status, now[i].Status)
		}
	}
	if qrs, err := h.store.ListQRs(ctx, payments.QRFilter{}); err != nil || len(qrs) != 3 {
		t.Errorf("%d QRs (%v), want the 3 issued by the admin", len(qrs), err)
	}
}

// sameMessage reports whether a message is shown as it was.
func sameMessage(a, b telegramtest.Message) bool {
	return a.ID == b.ID && a.Edits == b.Edits && a.Text == b.Text && a.Caption == b.Caption &&
		a.PhotoFileID == b.PhotoFileID && len(a.Buttons()) == len(b.Buttons())
}
