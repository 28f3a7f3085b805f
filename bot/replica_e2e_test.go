package bot_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/khqrbot/khqrbot/internal/telegramtest"
)

// replicaHealth is the replica part of /healthz.
type replicaHealth struct {
	Status        string `json:"status"`
	Replica       string `json:"replica"`
	Role          string `json:"role"`
	LeasesCurrent bool   `json:"leases_current"`
	Poller        string `json:"poller"`
}

func healthOf(t *testing.T, h http.Handler) replicaHealth {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	var st replicaHealth
	if err := json.NewDecoder(rec.Body).Decode(&st); err != nil {
		t.Fatalf("/healthz: %v", err)
	}
	return st
}

// commandUpdate is update id: the customer's private message text, a
// command, as Telegram sends it.
func commandUpdate(id int, text string) map[string]any {
	return map[string]any{"update_id": id, "message": map[string]any{
		"message_id": id, "date": time.Now().Unix(), "chat": map[string]any{"id": customer, "type": "private"},
		"from": map[string]any{"id": customer, "is_bot": false, "first_name": "C"}, "text": text,
		"entities": []map[string]any{{"type": "bot_command", "offset": 0, "length": len(text)}},
	}}
}

// postCommand posts commandUpdate(id, text) to the webhook of the replica
// listening on addr, as Telegram does, and returns the HTTP status.
func postCommand(t *testing.T, addr, secret string, id int, text string) int {
	t.Helper()
	code, err := telegramtest.PostUpdate("http://"+addr+"/telegram/hook", secret, commandUpdate(id, text))
	if err != nil {
		t.Fatalf("post update %d: %v", id, err)
	}
	return code
}

// TestWebhookUpdateOnce: Telegram posts an update twice (its retry after a
// lost answer, or to two replicas behind a load balancer); it is handled
// once. /healthz names the replica's role.
func TestWebhookUpdateOnce(t *testing.T) {
	const secret = "s3cret"
	h := newHarness(t, options{webhook: true, secret: secret, noPolling: true})
	h.waitFor("setWebhook", func() bool { return len(h.tg.CallsTo("setWebhook")) == 1 })
	post := func(id int, text string) {
		t.Helper()
		if code := postCommand(t, h.addr, secret, id, text); code != http.StatusOK {
			t.Fatalf("post update %d: %d", id, code)
		}
	}
	post(99001, "/help")
	post(99001, "/help")
	post(99002, "/start") // handled after both in the chat's lane: the barrier
	h.waitText(customer, "Your Telegram id is 200")
	if n := len(h.botMessages(customer)); n != 2 {
		t.Errorf("%d answers to one /help posted twice and a /start, want 2", n)
	}
	st := healthOf(t, h.bot.Handler())
	if st.Role != "webhook" || !st.LeasesCurrent || st.Replica == "" || st.Status != "ok" {
		t.Errorf("/healthz in webhook mode: %+v", st)
	}
}

// TestPollerHealth: the only replica takes the poller lease and says so.
func TestPollerHealth(t *testing.T) {
	h := newHarness(t, options{noPolling: true})
	h.tg.SendText(admin, admin, "/start")
	h.waitText(admin, "Your Telegram id is 100")
	st := healthOf(t, h.bot.Handler())
	if st.Role != "poller" || !st.LeasesCurrent || st.Poller != st.Replica || st.Status != "ok" {
		t.Errorf("/healthz of the poller: %+v", st)
	}
}

// TestPollerOnFakeClock: the poller times its lease in real time, whatever
// the Service's clock says: a clock months behind (a test's fake clock)
// neither ends the lease at once nor makes the poller take it again and
// again.
func TestPollerOnFakeClock(t *testing.T) {
	h := newHarness(t, options{fakeClock: true, start: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), noPolling: true})
	h.tg.SendText(admin, admin, "/start")
	h.waitText(admin, "Your Telegram id is 100")
	st := healthOf(t, h.bot.Handler())
	if st.Role != "poller" || !st.LeasesCurrent || st.Poller != st.Replica || st.Status != "ok" {
		t.Errorf("/healthz of the poller: %+v", st)
	}
	if n := strings.Count(h.logs.String(), "lost the poller lease"); n > 0 {
		t.Errorf("the poller lost its lease %d times", n)
	}
}
