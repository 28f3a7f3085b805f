package bot_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/khqrbot/khqrbot/bot"
	"github.com/khqrbot/khqrbot/payments"
)

// mortal is the Service of a replica that dies holding updates: its lanes
// never start one (they wait, as those of a replica killed with updates
// queued would never run them), and once killed it does nothing more in
// the database: no renewal of its claims or leases, no release.
type mortal struct {
	domain
	dead chan struct{} // closed by kill
	gone chan struct{} // closed when the test ends: the lanes give up
}

func newMortal() *mortal {
	return &mortal{dead: make(chan struct{}), gone: make(chan struct{})}
}

func (m *mortal) wrap(p bot.Payments) bot.Payments {
	m.domain = p
	return m
}

func (m *mortal) isDead() bool {
	select {
	case <-m.dead:
		return true
	default:
		return false
	}
}

var errDead = errors.New("this replica is dead")

func (m *mortal) StartUpdate(context.Context, int64, string, time.Duration) (bool, error) {
	<-m.gone
	return false, nil
}

func (m *mortal) StoreUpdates(ctx context.Context, ups []payments.Update, replica string, ttl time.Duration) ([]int64, error) {
	if m.isDead() {
		return nil, errDead
	}
	return m.domain.StoreUpdates(ctx, ups, replica, ttl)
}

func (m *mortal) RenewUpdates(ctx context.Context, ids []int64, replica string, ttl time.Duration) error {
	if m.isDead() {
		return nil
	}
	return m.domain.RenewUpdates(ctx, ids, replica, ttl)
}

func (m *mortal) ReleaseUpdate(ctx context.Context, id int64, replica string) error {
	if m.isDead() {
		return nil
	}
	return m.domain.ReleaseUpdate(ctx, id, replica)
}

func (m *mortal) FinishUpdate(ctx context.Context, id int64) error {
	if m.isDead() {
		return nil
	}
	return m.domain.FinishUpdate(ctx, id)
}

func (m *mortal) ClaimUpdates(ctx context.Context, replica string, ttl time.Duration, limit int) ([]payments.Update, error) {
	if m.isDead() {
		return nil, nil
	}
	return m.domain.ClaimUpdates(ctx, replica, ttl, limit)
}

func (m *mortal) AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (time.Time, bool, error) {
	if m.isDead() {
		return time.Time{}, false, nil
	}
	return m.domain.AcquireLease(ctx, name, holder, ttl)
}

func (m *mortal) ReleaseLease(ctx context.Context, name, holder string) error {
	if m.isDead() {
		return nil
	}
	return m.domain.ReleaseLease(ctx, name, holder)
}

// kill kills the harness's own replica, which m wraps: from now on it does
// nothing, and its claims and leases run out.
func (m *mortal) kill(h *harness) {
	close(m.dead)
	go h.stop() // returns once m.gone is closed
}

// takeover is past the end of a dead replica's poller lease and of its
// claims on updates (10 s each).
const takeover = 15 * time.Second

// wantHelpThenWelcome checks that chat got one answer to a /help and then
// one to a /start, and nothing else.
func wantHelpThenWelcome(t *testing.T, h *harness, chat int64) {
	t.Helper()
	h.waitText(chat, "Your Telegram id is")
	ms := h.botMessages(chat)
	if len(ms) != 2 || !strings.Contains(ms[0].Text, "/lang") || !strings.Contains(ms[1].Text, "Your Telegram id is") {
		var texts []string
		for _, m := range ms {
			texts = append(texts, m.Text)
		}
		t.Fatalf("chat %d got %q; want the /help answer, then the /start one, once each", chat, texts)
	}
}

// TestPollerDiesHoldingUpdates: the poller takes a /help and a /start from
// Telegram, stores them and confirms them (its next getUpdates), then dies
// before its lanes run them. Telegram will not send them again; a standby
// replica takes over the polling and those updates, and answers each once,
// in order.
func TestPollerDiesHoldingUpdates(t *testing.T) {
	m := newMortal()
	h := newHarness(t, options{fakeClock: true, noPolling: true, wrap: m.wrap})
	t.Cleanup(func() { close(m.gone) })
	h.waitFor("the poller", func() bool { return healthOf(t, h.bot.Handler()).Role == "poller" })
	standby := h.launch(nil)
	t.Cleanup(standby.stop)

	h.tg.SendText(customer, customer, "/help")
	h.tg.SendText(customer, customer, "/start")
	h.waitFor("both updates confirmed to Telegram", func() bool { return h.tg.Pending() == 0 })
	if n := len(h.botMessages(customer)); n != 0 {
		t.Fatalf("%d answers before the kill, want none", n)
	}
	m.kill(h)
	h.fake.Advance(takeover)

	wantHelpThenWelcome(t, h, customer)
	h.waitFor("the standby polling", func() bool { return healthOf(t, standby.bot.Handler()).Role == "poller" })
	h.tg.SendText(customer, customer, "/help")
	h.waitFor("an answer to a later update", func() bool { return len(h.botMessages(customer)) == 3 })
	if n := strings.Count(h.logs.String(), "taking over an update"); n != 2 {
		t.Errorf("%d updates taken over, want the 2 the dead poller held", n)
	}
}

// TestWebhookReplicaDiesHoldingUpdates: a webhook replica answers 200 to a
// /help and a /start, so Telegram forgets them, then dies before running
// them; Telegram's retry of the /help reaches another replica, which
// leaves it to its first taker. That replica takes both over once the dead
// one's claims end, and answers each once, in order.
func TestWebhookReplicaDiesHoldingUpdates(t *testing.T) {
	const secret = "s3cret"
	m := newMortal()
	h := newHarness(t, options{webhook: true, secret: secret, fakeClock: true, noPolling: true, wrap: m.wrap})
	t.Cleanup(func() { close(m.gone) })
	other := h.launch(nil)
	t.Cleanup(other.stop)
	h.waitFor("setWebhook", func() bool { return len(h.tg.CallsTo("setWebhook")) == 2 })

	post := func(addr string, id int, text string) {
		t.Helper()
		if code := postCommand(t, addr, secret, id, text); code != http.StatusOK {
			t.Fatalf("post update %d to %s: %d", id, addr, code)
		}
	}
	post(h.addr, 99001, "/help")
	post(h.addr, 99002, "/start")
	post(other.addr, 99001, "/help") // Telegram's retry, to the other replica
	m.kill(h)
	h.fake.Advance(takeover)

	wantHelpThenWelcome(t, h, customer)
	if n := strings.Count(h.logs.String(), "taking over an update"); n != 2 {
		t.Errorf("%d updates taken over, want the 2 the dead replica held", n)
	}
}

// unstorable is a Service whose inbox refuses the first fails deliveries,
// as a database that cannot be reached for a while does; seen, when set,
// runs at each refusal.
type unstorable struct {
	domain
	mu    sync.Mutex
	fails int
	seen  func()
}

func (u *unstorable) wrap(p bot.Payments) bot.Payments {
	u.domain = p
	return u
}

func (u *unstorable) StoreUpdates(ctx context.Context, ups []payments.Update, replica string, ttl time.Duration) ([]int64, error) {
	u.mu.Lock()
	refuse := u.fails > 0
	if refuse {
		u.fails--
	}
	u.mu.Unlock()
	if refuse {
		if u.seen != nil {
			u.seen()
		}
		return nil, errors.New("the database cannot be reached")
	}
	return u.domain.StoreUpdates(ctx, ups, replica, ttl)
}

func (u *unstorable) left() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.fails
}

// TestUpdateConfirmedOnlyOnceStored: while the inbox cannot store an
// update, the poller does not confirm it to Telegram (the next getUpdates
// asks from it again), and the webhook answers 503 (Telegram posts it
// again); once it is stored, it is answered, once.
func TestUpdateConfirmedOnlyOnceStored(t *testing.T) {
	t.Run("polling", func(t *testing.T) {
		u := &unstorable{fails: 3}
		var h *harness
		u.seen = func() {
			if n := h.tg.Pending(); n != 1 {
				t.Errorf("%d updates waiting at Telegram while the only one could not be stored, want 1: it was confirmed", n)
			}
		}
		h = newHarness(t, options{noPolling: true, wrap: u.wrap})
		h.tg.SendText(customer, customer, "/help")
		h.waitText(customer, "/lang")
		h.tg.SendText(customer, customer, "/start") // after the /help in the chat's lane: the barrier
		h.waitText(customer, "Your Telegram id is")
		if n := len(h.botMessages(customer)); n != 2 || u.left() != 0 {
			t.Errorf("%d answers to a /help stored at the fourth try and a /start (%d refusals left), want 2", n, u.left())
		}
	})
	t.Run("webhook", func(t *testing.T) {
		const secret = "s3cret"
		u := &unstorable{fails: 1}
		h := newHarness(t, options{webhook: true, secret: secret, noPolling: true, wrap: u.wrap})
		if code := postCommand(t, h.addr, secret, 99001, "/help"); code != http.StatusServiceUnavailable {
			t.Fatalf("an update that could not be stored was answered %d, want 503", code)
		}
		for _, p := range []struct {
			id   int
			text string
		}{{99001, "/help"}, {99002, "/start"}} {
			if code := postCommand(t, h.addr, secret, p.id, p.text); code != http.StatusOK {
				t.Fatalf("post update %d: %d, want 200", p.id, code)
			}
		}
		wantHelpThenWelcome(t, h, customer)
	})
}

// TestUpdateDroppedAfterTries: an update whose handling started and never
// finished maxUpdateTries times (it killed every replica that ran it) is
// dropped, not run again; the chat's later updates run.
func TestUpdateDroppedAfterTries(t *testing.T) {
	h := newHarness(t, options{noPolling: true})
	ctx := context.Background()
	raw := func(id int, text string) []byte {
		b, err := json.Marshal(commandUpdate(id, text))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	now := time.Now()
	ups := []payments.Update{{ID: 5001, Chat: customer, Body: raw(5001, "/help")}, {ID: 5002, Chat: customer, Body: raw(5002, "/start")}}
	if _, err := h.store.StoreUpdates(ctx, ups, "dead", now, now); err != nil {
		t.Fatal(err)
	}
	for range 3 { // each start by a replica that died running it
		if ok, err := h.store.StartUpdate(ctx, 5001, "dead", now, now); err != nil || !ok {
			t.Fatalf("start: %v %v", ok, err)
		}
	}
	h.waitText(customer, "Your Telegram id is")
	if n := len(h.botMessages(customer)); n != 1 {
		t.Errorf("%d answers, want only the /start's: the /help was dropped", n)
	}
	if !strings.Contains(h.logs.String(), "dropping an update") {
		t.Error("the dropped update was not logged")
	}
}
