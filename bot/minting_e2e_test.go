package bot_test

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/khqrbot/khqrbot/internal/telegramtest"
	"github.com/khqrbot/khqrbot/payments"
	"github.com/khqrbot/khqrbot/payments/bakong/sim"
)

// shareLink makes an /invoice and returns its token.
func (h *harness) shareLink(args string) string {
	h.t.Helper()
	before := len(h.botMessages(admin))
	h.tg.SendText(admin, admin, "/invoice "+args)
	var m telegramtest.Message
	h.waitFor("a share link", func() bool {
		ms := h.botMessages(admin)
		if len(ms) <= before {
			return false
		}
		m = ms[len(ms)-1]
		return true
	})
	tok := regexp.MustCompile(`start=inv_([A-Za-z0-9_-]+)`).FindStringSubmatch(m.Text)
	if tok == nil {
		h.t.Fatalf("no share link in %q", m.Text)
	}
	return tok[1]
}

// sentTo counts the bot's successful calls of method to chat.
func (h *harness) sentTo(method string, chat int64) int {
	n := 0
	for _, c := range h.tg.CallsTo(method) {
		if c.ErrorCode == 0 && c.Params["chat_id"] == itoa(chat) {
			n++
		}
	}
	return n
}

// deeplinkCalls counts the simulator's generate_deeplink_by_qr calls.
func (h *harness) deeplinkCalls() int {
	n := 0
	for _, c := range h.sim.Calls() {
		if strings.Contains(c.Endpoint, "deeplink") {
			n++
		}
	}
	return n
}

// TestQRMinting: opening a share link 40 times resends one QR (one
// deeplink call, one QR polled) and leaves one QR message; a forged New QR
// on a live QR mints nothing.
func TestQRMinting(t *testing.T) {
	h := newHarness(t, options{fakeClock: true, noPolling: true})
	ctx := context.Background()
	tok := h.shareLink("20 USD logo design")
	for i := range 40 { // one at a time: each answer has its own bound, however loaded the machine
		h.tg.SendText(customer, customer, "/start inv_"+tok)
		h.waitFor("an answer", func() bool { return h.sentTo("sendPhoto", customer) == i+1 })
	}
	qrs, err := h.svc.QRs(ctx, payments.QRFilter{InvoiceID: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("40 opens: %d QRs, %d deeplink calls", len(qrs), h.deeplinkCalls())
	if len(qrs) != 1 || h.deeplinkCalls() != 1 {
		t.Fatalf("40 opens made %d QRs and %d deeplink calls, want 1 and 1", len(qrs), h.deeplinkCalls())
	}
	h.waitFor("one QR message left", func() bool { return len(h.botMessages(customer)) == 1 })
	m := h.botMessages(customer)[0]
	h.waitLinked(customer, m.ID)

	// A forged New QR on the live QR.
	a := h.press(customer, customer, m.ID, "new:"+itoa(qrs[0].ID))
	if !strings.Contains(a.Text, "can still be paid") {
		t.Errorf("New QR on a live QR answered %q", a.Text)
	}
	if qrs, _ := h.svc.QRs(ctx, payments.QRFilter{InvoiceID: 1}); len(qrs) != 1 {
		t.Errorf("a forged New QR minted: %d QRs", len(qrs))
	}
	// The resent message is the one that gets paid.
	if _, err := h.sim.PayQR(scanQR(t, m.Photo), sim.Payment{}); err != nil {
		t.Fatal(err)
	}
	h.poll(2, func() bool { return h.invoiceStatus("INV-000001") == payments.InvoicePaid })
	h.waitCaption(customer, m.ID, "Paid")
}

// TestQRCaps: an invoice link has at most 20 live QRs, and a customer gets
// at most 10 QRs an hour; each refusal is in the customer's language.
func TestQRCaps(t *testing.T) {
	h := newHarness(t, options{fakeClock: true, noPolling: true})
	tok := h.shareLink("5 USD tickets")
	for u := int64(1000); u < 1000+payments.DefaultMaxLiveQRs; u++ {
		h.tg.SendText(u, u, "/start inv_"+tok)
		h.waitPhoto(u, 1)
	}
	h.tg.SendText(customer, customer, "/start inv_"+tok)
	h.waitText(customer, "too many QRs waiting")
	h.tg.SendText(stranger, stranger, "/start inv_"+tok, telegramtest.WithLanguage("km"))
	h.waitText(stranger, "QR ច្រើនពេក")

	// One customer, many links: ten QRs an hour.
	var toks []string
	for i := range payments.DefaultMaxQRsPerHour + 1 {
		toks = append(toks, h.shareLink(itoa(int64(i+1))+" USD item"))
	}
	for i, tok := range toks[:payments.DefaultMaxQRsPerHour] {
		h.tg.SendText(2000, 2000, "/start inv_"+tok)
		h.waitPhoto(2000, i+1)
	}
	h.tg.SendText(2000, 2000, "/start inv_"+toks[payments.DefaultMaxQRsPerHour])
	h.waitText(2000, "too many QRs in the last hour")
	h.fake.Advance(time.Hour + time.Second)
	h.tg.SendText(2000, 2000, "/start inv_"+toks[payments.DefaultMaxQRsPerHour])
	h.waitPhoto(2000, payments.DefaultMaxQRsPerHour+1)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
