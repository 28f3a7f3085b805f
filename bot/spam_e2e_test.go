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

// TestGroupRefusalsAcrossReplicas: a stranger's /pay spam in a group,
// spread over two replicas behind a load balancer (webhook mode), gets one
// refusal from the deployment, not one from each replica, until the
// refusal window ends.
func TestGroupRefusalsAcrossReplicas(t *testing.T) {
	const secret = "s3cret"
	h := newHarness(t, options{webhook: true, secret: secret, noPolling: true, fakeClock: true})
	r := h.launch(nil)
	t.Cleanup(r.stop)
	hooks := []string{"http://" + h.addr + "/telegram/hook", "http://" + r.addr + "/telegram/hook"}
	id := 99100
	post := func(hook string, from int64, text string) {
		t.Helper()
		id++
		update := map[string]any{"update_id": id, "message": map[string]any{
			"message_id": id, "date": time.Now().Unix(), "chat": map[string]any{"id": -503, "type": "group", "title": "Shop"},
			"from": map[string]any{"id": from, "is_bot": false, "first_name": "U"}, "text": text,
			"entities": []map[string]any{{"type": "bot_command", "offset": 0, "length": strings.IndexByte(text+" ", ' ')}},
		}}
		if code, err := telegramtest.PostUpdate(hook, secret, update); err != nil || code != http.StatusOK {
			t.Fatalf("post update %d: %d %v", id, code, err)
		}
	}
	helps := 0
	spam := func() {
		t.Helper()
		for i := range 10 {
			post(hooks[i%2], stranger, "/pay 1")
		}
		// Each replica handles a group's updates in order: once both have
		// answered the admin's /help, both have handled the spam.
		for _, hook := range hooks {
			post(hook, admin, "/help")
		}
		helps += 2
		h.waitFor("both replicas' /help", func() bool {
			n := 0
			for _, m := range h.botMessages(-503) {
				if strings.Contains(m.Text, "/lang en|km") {
					n++
				}
			}
			return n == helps
		})
	}
	spam()
	if n := h.refusalsIn(-503); n != 1 {
		t.Errorf("%d refusals in the group from two replicas, want 1", n)
	}
	h.fake.Advance(9 * time.Minute)
	spam()
	if n := h.refusalsIn(-503); n != 1 {
		t.Errorf("%d refusals within the window, want still 1", n)
	}
	h.fake.Advance(time.Minute)
	spam()
	if n := h.refusalsIn(-503); n != 2 {
		t.Errorf("%d refusals once the window ended, want 2", n)
	}
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
