package bot_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/khqrbot/khqrbot/internal/telegramtest"
)

// refusalsIn counts the bot's "only this shop's admins" replies in chat.
func (h *harness) refusalsIn(chat int64) int {
	n := 0
	for _, m := range h.botMessages(chat) {
		if strings.Contains(m.Text, "only this shop's admins") {
			n++
		}
	}
	return n
}

// TestGroupRefusalsRateLimited: a stranger's 30 /pay in a group get one
// refusal, not 30; in private every refusal is answered.
func TestGroupRefusalsRateLimited(t *testing.T) {
	h := newHarness(t, options{})
	group := telegramtest.WithChatType("group")
	for range 30 {
		h.tg.SendText(-501, stranger, "/pay 1", group)
	}
	h.tg.SendText(-501, admin, "/help", group) // handled after the 30: the group's updates run in order
	h.waitText(-501, "/lang en|km")
	t.Logf("30 refused /pay in a group: %d replies", h.refusalsIn(-501))
	if n := h.refusalsIn(-501); n != 1 {
		t.Errorf("%d refusals in the group, want 1", n)
	}
	for range 3 {
		h.tg.SendText(stranger, stranger, "/pay 1")
	}
	h.waitFor("3 refusals in private", func() bool { return h.refusalsIn(stranger) == 3 })
}

// TestFloodWaitHoldsOnlyItsChat: while a group waits out Telegram's flood
// limit (429, retry_after 30s) with a stranger's /pay spam queued behind
// it, a customer's /start in private is answered at once: no worker waits
// on the group's flood-wait.
func TestFloodWaitHoldsOnlyItsChat(t *testing.T) {
	h := newHarness(t, options{})
	h.tg.InjectError("sendMessage", http.StatusTooManyRequests, "", 30)
	for u := range int64(20) { // strangers of their own: each refusal is sent
		h.tg.SendText(-502, 3000+u, "/pay 1", telegramtest.WithChatType("group"))
	}
	h.waitFor("the group's reply refused with 429", func() bool {
		c := h.tg.CallsTo("sendMessage")
		return len(c) > 0 && c[0].ErrorCode == http.StatusTooManyRequests
	})
	sent := time.Now()
	h.tg.SendText(customer, customer, "/start")
	h.waitText(customer, "Hello!")
	var delay time.Duration
	for _, c := range h.tg.CallsTo("sendMessage") {
		if c.Params["chat_id"] == itoa(customer) {
			delay = c.At.Sub(sent)
		}
		if c.Params["chat_id"] == "-502" && c.ErrorCode == 0 {
			t.Errorf("the group was answered within its retry_after")
		}
	}
	t.Logf("private /start answered after %v behind a group in flood-wait", delay)
}
