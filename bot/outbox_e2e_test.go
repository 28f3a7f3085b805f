package bot_test

import (
	"context"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/khqrbot/khqrbot/internal/telegramtest"
	"github.com/khqrbot/khqrbot/payments"
	"github.com/khqrbot/khqrbot/payments/bakong/sim"
)

// TestOutboxPerChat: the outbox delivers each chat on its own. While one
// chat's edit waits out a long flood limit (429, retry_after 30s), another
// chat's PAID edit goes out at once, and the waiting chat's edit is not yet
// retried: no chat waits for another's flood limit.
func TestOutboxPerChat(t *testing.T) {
	h := newHarness(t, options{fakeClock: true, noPolling: true, grace: 10 * time.Second})
	ctx := context.Background()
	h.tg.SendText(group, admin, "/pay 1", telegramtest.WithChatType("group"))
	slow := h.waitPhoto(group, 1)
	h.fake.Advance(3 * time.Minute)
	h.tg.SendText(admin, admin, "/pay 2")
	fast := h.waitPhoto(admin, 1)

	// The group's QR expires; its edit meets a long flood limit.
	h.tg.InjectError("editMessageMedia", http.StatusTooManyRequests, "", 30)
	h.fake.Advance(2*time.Minute + 11*time.Second)
	if err := h.rec.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	h.waitFor("the group's edit refused with 429", func() bool {
		c := h.tg.CallsTo("editMessageMedia")
		return len(c) == 1 && c[0].ErrorCode == http.StatusTooManyRequests
	})

	// Meanwhile the customer in the other chat pays.
	if _, err := h.sim.PayQR(scanQR(t, fast.Photo), sim.Payment{}); err != nil {
		t.Fatal(err)
	}
	paidAt := time.Now()
	h.poll(2, func() bool { return h.invoiceStatus("INV-000002") == payments.InvoicePaid })
	h.waitCaption(admin, fast.ID, "Paid")
	calls := h.tg.CallsTo("editMessageMedia")
	t.Logf("PAID edit %v after its settlement, behind another chat's 429 (retry_after 30s)", calls[len(calls)-1].At.Sub(paidAt))
	for _, c := range calls[1:] {
		if c.Params["chat_id"] == strconv.FormatInt(group, 10) {
			t.Errorf("the group's edit was retried before the other chat's PAID edit: %v", calls)
		}
	}
	if m, _ := h.tg.Message(group, slow.ID); strings.Contains(m.Caption, "expired") {
		t.Errorf("the flood-limited group's message was edited within its retry_after")
	}
}

// TestCancelRetriesPerMessage: cancelling an invoice whose link three
// customers opened edits three messages; one edit that fails is retried
// alone, without editing (re-uploading) the two that succeeded.
func TestCancelRetriesPerMessage(t *testing.T) {
	h := newHarness(t, options{noPolling: true})
	h.tg.SendText(admin, admin, "/invoice 20 USD logo design")
	m := h.waitText(admin, "logo design")
	tok := regexp.MustCompile(`start=inv_([A-Za-z0-9_-]+)`).FindStringSubmatch(m.Text)
	if tok == nil {
		t.Fatalf("no share link in %q", m.Text)
	}
	customers := []int64{201, 202, 203}
	msgs := map[int64]int{}
	for _, c := range customers {
		h.tg.SendText(c, c, "/start inv_"+tok[1])
		msgs[c] = h.waitPhoto(c, 1).ID
	}
	h.tg.InjectError("editMessageMedia", http.StatusInternalServerError, "Internal Server Error", 0)
	h.tg.SendText(admin, admin, "/cancel INV-000001")
	for _, c := range customers {
		h.waitCaption(c, msgs[c], "was cancelled")
	}
	h.waitFor("every event delivered", func() bool {
		evs, err := h.store.PendingEvents(context.Background(), time.Now().Add(time.Hour), 10)
		return err == nil && len(evs) == 0
	})
	calls := h.tg.CallsTo("editMessageMedia")
	t.Logf("%d editMessageMedia calls for 3 messages and one failure: %v", len(calls), calls)
	if len(calls) != 4 {
		t.Errorf("%d editMessageMedia calls, want 4 (3 edits and 1 retry): %v", len(calls), calls)
	}
	perChat := map[string]int{}
	for _, c := range calls {
		perChat[c.Params["chat_id"]]++
	}
	for _, c := range customers {
		if n := perChat[strconv.FormatInt(c, 10)]; n > 2 {
			t.Errorf("chat %d edited %d times", c, n)
		}
	}
}

// TestPaidWhileSending: a QR paid while its message is on its way (in the
// chat, not yet linked to the QR) still turns Paid, and the chat gets no
// second message for it. The settled event is delivered in that gap.
func TestPaidWhileSending(t *testing.T) {
	var h *harness
	var first atomic.Bool
	settle := func(q *payments.QR) { // on the bot's handler, between sendPhoto and the link
		if first.Swap(true) {
			return
		}
		func() {
			if _, err := h.sim.PayQR(q.Payload, sim.Payment{}); err != nil {
				t.Errorf("pay: %v", err)
				return
			}
			for h.invoiceStatus("INV-000001") != payments.InvoicePaid {
				h.fake.Advance(pollInterval)
				if err := h.rec.Tick(context.Background()); err != nil {
					t.Errorf("tick: %v", err)
					return
				}
			}
			// The creator's notice comes after the QR messages in the event's delivery.
			if !h.tg.WaitFor(waitLong, func() bool { return len(h.botMessages(admin)) == 2 }) {
				t.Errorf("the settled event was never delivered: %+v", h.botMessages(admin))
			}
		}()
	}
	h = newHarness(t, options{fakeClock: true, noPolling: true, beforeLink: settle})
	tok := h.shareLink("20 USD logo design")
	h.tg.SendText(customer, customer, "/start inv_"+tok)
	m := h.waitPhoto(customer, 1)
	h.waitCaption(customer, m.ID, "Paid")
	if n := h.sentTo("sendPhoto", customer); n != 1 {
		t.Errorf("%d photos sent to the customer, want 1: %+v", n, h.botMessages(customer))
	}
	if ms := h.botMessages(admin); !strings.Contains(ms[len(ms)-1].Text, "INV-000001 was paid") {
		t.Errorf("the creator was told %q", ms[len(ms)-1].Text)
	}
}
