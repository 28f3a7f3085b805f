package bot_test

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
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

// TestRedeliveryResumes: the settled event of an invoice paid through its
// link is delivered in two steps, the edit of the customer's QR message and
// the notice to the admin who made the invoice. However its delivery is cut
// short after the edit, the next delivery (here by the next run, once the
// claim or the retry delay ended) makes the remaining call only: the
// customer's message is edited once and the admin told once. Telegram's
// "message is not modified" counts as an edit done. With a sibling (another
// customer's QR of the same invoice, which then shows "paid with another
// QR"), each message's edit is a step of its own.
func TestRedeliveryResumes(t *testing.T) {
	const notModified = "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message"
	for _, tc := range []struct {
		name        string
		editRefused string // a 400 answering the edit
		noticeFails bool   // the notice is answered 500
		cut         bool   // the run stops once the edit is recorded
		markFails   bool   // marking the event delivered fails
		sibling     bool   // a second customer opened the link first
		notices     int    // notice calls in all, refused ones too
	}{
		{name: "the notice fails", noticeFails: true, notices: 2},
		{name: "the run stops after the edit", cut: true, notices: 1},
		{name: "marking it delivered fails", markFails: true, notices: 1},
		{name: "the edit is not modified and the notice fails", editRefused: notModified, noticeFails: true, notices: 2},
		{name: "the run stops after the first of two edits", sibling: true, cut: true, notices: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var h *harness
			stopped := make(chan struct{}) // the first delivery stopped short
			var stopOnce sync.Once
			stop := func() { stopOnce.Do(func() { close(stopped) }) }
			marked := make(chan struct{}, 1)
			var markings atomic.Int32
			o := options{fakeClock: true, noPolling: true}
			o.delivered = func(_ int64, mark func() error) error {
				if markings.Add(1) == 1 && tc.markFails {
					stop()
					return errors.New("injected: the database is gone")
				}
				err := mark()
				marked <- struct{}{}
				return err
			}
			var cutOnce sync.Once
			var records atomic.Int32
			o.progressed = func(_ int64, done payments.Progress) {
				records.Add(1)
				if tc.cut && done.User == 0 {
					cutOnce.Do(func() {
						h.cut()
						stop()
					})
				}
			}
			h = newHarness(t, o)
			tok := h.shareLink("20 USD logo design")
			chats := []int64{customer}
			if tc.sibling {
				chats = []int64{customer + 1, customer} // the sibling's QR has the lower id: its edit comes first
			}
			var m telegramtest.Message
			for _, c := range chats {
				h.tg.SendText(c, c, "/start inv_"+tok)
				m = h.waitPhoto(c, 1)
			}
			if tc.editRefused != "" {
				h.tg.InjectError("editMessageMedia", http.StatusBadRequest, tc.editRefused, 0)
			}
			if tc.noticeFails {
				h.tg.InjectError("sendMessage", http.StatusInternalServerError, "", 0)
			}
			if _, err := h.sim.PayQR(scanQR(t, m.Photo), sim.Payment{}); err != nil {
				t.Fatal(err)
			}
			h.poll(5, func() bool { return h.invoiceStatus("INV-000001") == payments.InvoicePaid })
			if tc.noticeFails {
				h.waitFor("the notice refused", func() bool { return len(h.notices(true)) == 1 })
				stop()
			}
			select {
			case <-stopped:
			case <-time.After(waitLong):
				t.Fatal("the first delivery never stopped short")
			}
			h.shutdown() // waits for the outbox to record what it did
			// Past the claim of a delivery cut short, and the retry delay.
			h.fake.Advance(payments.EventClaim + time.Second)
			h.start()
			select {
			case <-marked:
			case <-time.After(waitLong):
				t.Fatal("the event was never marked delivered")
			}
			edits := map[string]int{}
			for _, c := range h.tg.CallsTo("editMessageMedia") {
				edits[c.Params["chat_id"]]++
			}
			for _, c := range chats {
				if edits[itoa(c)] != 1 || len(edits) != len(chats) {
					t.Errorf("edits per chat %v, want one of each QR message, in chats %v", edits, chats)
				}
			}
			if tc.editRefused == "" {
				if got, _ := h.tg.Message(customer, m.ID); !strings.Contains(got.Caption, "Paid") {
					t.Errorf("the customer's message reads %q", got.Caption)
				}
			}
			// One record per step, whatever the attempts: a small UPDATE per
			// Telegram call at most.
			if n := int(records.Load()); n != len(chats)+1 {
				t.Errorf("%d progress records, want %d: one per step", n, len(chats)+1)
			}
			if n := len(h.notices(false)); n != tc.notices || len(h.notices(true)) != tc.notices-1 {
				t.Errorf("%d notices to the admin (%d refused), want %d and one of them accepted: %v", n, len(h.notices(true)), tc.notices, h.notices(false))
			}
		})
	}
}

// notices are the bot's "was paid" notices to the admin, only those
// Telegram refused when refused is set.
func (h *harness) notices(refused bool) []telegramtest.Call {
	var out []telegramtest.Call
	for _, c := range h.tg.CallsTo("sendMessage") {
		if c.Params["chat_id"] == itoa(admin) && strings.Contains(c.Params["text"], "was paid") && (!refused || c.ErrorCode != 0) {
			out = append(out, c)
		}
	}
	return out
}

// TestUndeliverableStepSkipped: a step Telegram refuses for good (the
// customer blocked the bot) is logged and skipped, and the event's other
// steps still go out: the admin is told their invoice was paid, once.
func TestUndeliverableStepSkipped(t *testing.T) {
	marked := make(chan error, 1)
	h := newHarness(t, options{fakeClock: true, noPolling: true, delivered: func(_ int64, mark func() error) error {
		err := mark()
		marked <- err
		return err
	}})
	tok := h.shareLink("20 USD logo design")
	h.tg.SendText(customer, customer, "/start inv_"+tok)
	m := h.waitPhoto(customer, 1)
	h.tg.InjectError("editMessageMedia", http.StatusForbidden, "Forbidden: bot was blocked by the user", 0)
	if _, err := h.sim.PayQR(scanQR(t, m.Photo), sim.Payment{}); err != nil {
		t.Fatal(err)
	}
	h.poll(5, func() bool { return h.invoiceStatus("INV-000001") == payments.InvoicePaid })
	select {
	case err := <-marked:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(waitLong):
		t.Fatal("the event was never marked delivered")
	}
	if n, edits := len(h.notices(false)), h.tg.CallsTo("editMessageMedia"); n != 1 || len(edits) != 1 {
		t.Errorf("%d notices and edits %v, want one of each", n, edits)
	}
	if !strings.Contains(h.logs.String(), "cannot be delivered; skipping it") {
		t.Errorf("the refused step was not logged")
	}
}
