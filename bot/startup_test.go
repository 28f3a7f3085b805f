package bot_test

import (
	"strings"
	"testing"
)

// TestDeleteWebhookRefused: a Bot API server that refuses deleteWebhook (one
// without webhooks, say) does not stop long polling.
func TestDeleteWebhookRefused(t *testing.T) {
	h := newHarness(t, options{noPolling: true})
	h.tg.SendText(customer, customer, "/start")
	h.waitText(customer, "Your Telegram id is 200")
	h.shutdown()
	h.tg.InjectError("deleteWebhook", 404, "Not Found", 0)
	h.start()
	h.tg.SendText(customer, customer, "/help")
	h.waitFor("an answer after the refused deleteWebhook", func() bool { return len(h.botMessages(customer)) == 2 })
	if m := h.botMessages(customer)[1]; !strings.Contains(m.Text, "/lang") {
		t.Errorf("/help answered %q", m.Text)
	}
	if !strings.Contains(h.logs.String(), "deleteWebhook failed") {
		t.Error("the refused deleteWebhook was not logged")
	}
}
