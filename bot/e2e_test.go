package bot_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/khqrbot/khqrbot/internal/qrtest"
	"github.com/khqrbot/khqrbot/internal/telegramtest"
	"github.com/khqrbot/khqrbot/payments"
	"github.com/khqrbot/khqrbot/payments/bakong/sim"
	"github.com/khqrbot/khqrbot/payments/khqr"
)

// TestPayFlow: /pay 5 sends a KHQR card that scans to a valid KHQR for 5.00
// USD to the merchant; once the simulator pays it, the reconciler settles
// it within two poll intervals and the same message becomes the receipt,
// without buttons. The reconciler runs on the fake clock, so "two poll
// intervals" is two ticks, counted, never a wall-clock measurement.
func TestPayFlow(t *testing.T) {
	h := newHarness(t, options{fakeClock: true, noPolling: true})
	h.tg.SendText(admin, admin, "/pay 5 iced coffee")
	m := h.waitPhoto(admin, 1)

	payload := scanQR(t, m.Photo)
	if err := khqr.Verify(payload, h.fake.Now()); err != nil {
		t.Fatalf("the QR does not verify: %v\n%s", err, payload)
	}
	d, err := khqr.Decode(payload)
	if err != nil {
		t.Fatal(err)
	}
	if amt, err := khqr.ParseAmount(d.Amount, khqr.USD); err != nil || amt != 500 || d.Currency != "840" || d.AccountID != merchantAccount {
		t.Errorf("QR says %s (currency %s) to %s; want 5.00 USD to %s", d.Amount, d.Currency, d.AccountID, merchantAccount)
	}
	for _, want := range []string{"INV-000001", "5.00 USD", "iced coffee", "Expires at", "SANDBOX: no real money"} {
		if !strings.Contains(m.Caption, want) {
			t.Errorf("caption %q lacks %q", m.Caption, want)
		}
	}
	for _, want := range []string{"Pay with Bakong", "Check status", "Cancel", "Simulate payment"} {
		if !hasButton(m, want) {
			t.Errorf("no %q button in %+v", want, m.Buttons())
		}
	}
	for _, b := range m.Buttons() {
		if b.Text == "Pay with Bakong" && !strings.HasPrefix(b.URL, "https://") {
			t.Errorf("Pay with Bakong URL %q", b.URL)
		}
	}

	// The reconciler has been polling since the QR was issued (it is due at
	// once): unpaid, it changes nothing.
	if err := h.rec.Tick(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := h.invoiceStatus("INV-000001"); st != payments.InvoiceOpen {
		t.Fatalf("unpaid invoice is %s after a tick", st)
	}
	tx, err := h.sim.PayQR(payload, sim.Payment{FromAccount: "payer@wing"})
	if err != nil {
		t.Fatal(err)
	}
	ticks := h.poll(2, func() bool { return h.invoiceStatus("INV-000001") == payments.InvoicePaid })
	if ticks > 2 {
		t.Fatalf("not settled within two poll intervals of the payment (status %s)", h.invoiceStatus("INV-000001"))
	}
	// The edit follows from that tick alone: no more ticks, the clock stands
	// still, and the outbox is driven only by the Service's wake-up.
	paid := h.waitCaption(admin, m.ID, "Paid")
	t.Logf("paid edit after %d poll interval(s)", ticks)
	if paid.Keyboard != nil {
		t.Errorf("paid message keeps buttons %+v", paid.Buttons())
	}
	if !strings.Contains(paid.Caption, tx.ShortHash()) || !strings.Contains(paid.Caption, "5.00 USD") {
		t.Errorf("paid caption %q lacks the short hash %s or the amount", paid.Caption, tx.ShortHash())
	}
	if !strings.Contains(paid.PhotoName, "paid") || string(paid.Photo) == string(m.Photo) {
		t.Errorf("photo not replaced by the receipt (name %q)", paid.PhotoName)
	}
	if s, err := qrtest.Read(paid.Photo); err == nil && s == payload {
		t.Error("the receipt still shows the payable QR")
	}
	if edits := h.tg.CallsTo("editMessageMedia"); len(edits) != 1 || edits[0].ErrorCode != 0 {
		t.Errorf("editMessageMedia calls %v; want one that replaced media, caption and keyboard together", edits)
	}
	if n := len(h.botMessages(admin)); n != 1 {
		t.Errorf("%d bot messages, want the one edited", n)
	}
}

// TestSimulateButton: in the sandbox, Simulate payment pays the QR and the
// customer sees it at once.
func TestSimulateButton(t *testing.T) {
	h := newHarness(t, options{noPolling: true})
	h.tg.SendText(admin, admin, "/pay 10000 KHR")
	m := h.waitPhoto(admin, 1)
	if a := h.press(admin, admin, m.ID, button(t, m, "Simulate")); a.Text != "Paid ✅" {
		t.Errorf("answer %q", a.Text)
	}
	h.waitCaption(admin, m.ID, "Paid")
}

// TestExpiryAndNewQR: an unpaid QR expires into the expired card with a New
// QR button; pressing it issues a fresh QR that can be paid.
func TestExpiryAndNewQR(t *testing.T) {
	h := newHarness(t, options{fakeClock: true, noPolling: true, grace: 10 * time.Second})
	ctx := context.Background()
	h.tg.SendText(customer, customer, "/start")
	h.tg.SendText(admin, admin, "/pay 2.50")
	m := h.waitPhoto(admin, 1)
	first := scanQR(t, m.Photo)

	h.fake.Advance(5*time.Minute + 11*time.Second)
	if err := h.rec.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	exp := h.waitCaption(admin, m.ID, "expired")
	if hasButton(exp, "Check") || !hasButton(exp, "New QR") {
		t.Fatalf("expired buttons %+v; want only New QR", exp.Buttons())
	}
	if !strings.Contains(exp.PhotoName, "expired") {
		t.Errorf("photo %q, want the expired card", exp.PhotoName)
	}

	data := button(t, exp, "New QR")
	if a := h.press(stranger, stranger, exp.ID, data); !strings.Contains(a.Text, "not for you") {
		t.Errorf("a stranger's New QR answered %q", a.Text)
	}
	h.press(admin, admin, exp.ID, data)
	m2 := h.waitPhoto(admin, 2)
	second := scanQR(t, m2.Photo)
	if second == first {
		t.Fatal("New QR sent the same QR again")
	}
	if err := khqr.Verify(second, h.fake.Now()); err != nil {
		t.Fatalf("new QR: %v", err)
	}
	if _, err := h.sim.PayQR(second, sim.Payment{}); err != nil {
		t.Fatal(err)
	}
	if ticks := h.poll(2, func() bool { return h.invoiceStatus("INV-000001") == payments.InvoicePaid }); ticks > 2 {
		t.Fatal("the new QR's payment was not settled within two poll intervals")
	}
	if p := h.waitCaption(admin, m2.ID, "✅ Paid"); p.Keyboard != nil || !strings.Contains(p.PhotoName, "paid") {
		t.Errorf("new QR's paid message: photo %q, buttons %+v", p.PhotoName, p.Buttons())
	}
	// The expired message no longer offers a QR: its invoice is paid.
	h.waitFor("old message paid elsewhere", func() bool {
		old, _ := h.tg.Message(admin, m.ID)
		return strings.Contains(old.Caption, "another QR") && old.Keyboard == nil
	})
}

// TestPermissions: only admins invoice or cancel; customers may check only
// their own QRs; refusals are polite and in the user's language.
func TestPermissions(t *testing.T) {
	h := newHarness(t, options{noPolling: true})
	h.tg.SendText(stranger, stranger, "/pay 5")
	h.waitText(stranger, "only this shop's admins")
	h.tg.SendText(customer, customer, "/pay 5", telegramtest.WithLanguage("km"))
	h.waitText(customer, "មានតែអ្នកគ្រប់គ្រងហាង")
	for _, cmd := range []string{"/invoice 5 x", "/pending", "/paid", "/export", "/check INV-000001", "/verify 12345678 INV-000001", "/cancel INV-000001", "/token"} {
		h.tg.SendText(stranger, stranger, cmd)
	}
	h.waitFor("eight more refusals", func() bool { return len(h.botMessages(stranger)) == 9 })
	for _, m := range h.botMessages(stranger) {
		if !strings.Contains(m.Text, "only this shop's admins") || !strings.Contains(m.Text, "300") {
			t.Errorf("stranger got %q", m.Text)
		}
	}
	for _, c := range []int64{stranger, customer} {
		for _, m := range h.botMessages(c) {
			if m.HasMedia() {
				t.Errorf("a refused /pay sent a photo to %d", c)
			}
		}
	}
	if invs, err := h.store.ListInvoices(context.Background(), payments.InvoiceFilter{}); err != nil || len(invs) != 0 {
		t.Errorf("refused commands left %d invoices (%v)", len(invs), err)
	}

	h.tg.SendText(group, admin, "/pay 5")
	m := h.waitPhoto(group, 1)
	chk, cnl := button(t, m, "Check"), button(t, m, "Cancel")
	if a := h.press(group, stranger, m.ID, cnl); !strings.Contains(a.Text, "not for you") {
		t.Errorf("a customer's Cancel answered %q", a.Text)
	}
	if a := h.press(group, stranger, m.ID, chk); !strings.Contains(a.Text, "Not paid yet") {
		t.Errorf("Check in the QR's own chat answered %q", a.Text)
	}
	if a := h.press(stranger, stranger, 1, chk); !strings.Contains(a.Text, "not for you") {
		t.Errorf("Check of someone else's QR from another chat answered %q", a.Text)
	}
	if a := h.press(group, admin, m.ID, "zzz:1"); !strings.Contains(a.Text, "out of date") {
		t.Errorf("unknown button answered %q", a.Text)
	}
	if a := h.press(group, admin, m.ID, cnl); !strings.Contains(a.Text, "cancelled") {
		t.Errorf("admin Cancel answered %q", a.Text)
	}
	c := h.waitCaption(group, m.ID, "cancelled")
	if c.Keyboard != nil || !strings.Contains(c.PhotoName, "cancelled") {
		t.Errorf("cancelled message: keyboard %+v, photo %q", c.Buttons(), c.PhotoName)
	}
}

// TestGroupCommandAddressing: /pay@fake_bot works in a group; /pay@otherbot
// is left to that bot.
func TestGroupCommandAddressing(t *testing.T) {
	h := newHarness(t, options{noPolling: true})
	h.tg.SendText(group, admin, "/pay@otherbot 7")
	h.tg.SendText(group, admin, "/pay@fake_bot 5")
	m := h.waitPhoto(group, 1)
	if !strings.Contains(m.Caption, "5.00 USD") {
		t.Fatalf("caption %q", m.Caption)
	}
	h.tg.SendText(group, admin, "hello everyone")
	h.tg.SendText(group, admin, "/help@fake_bot")
	h.waitText(group, "/pay <amount>")
	h.waitFor("all updates taken", func() bool { return h.tg.Pending() == 0 })
	h.shutdown() // waits for every handler
	for _, x := range h.botMessages(group) {
		if strings.Contains(x.Caption, "7.00 USD") {
			t.Errorf("/pay@otherbot was answered: %q", x.Caption)
		}
	}
	if n := len(h.botMessages(group)); n != 2 {
		t.Errorf("%d bot messages in the group, want 2", n)
	}
}

// TestInvoiceLink: /invoice gives a share link; a customer who opens it gets
// a QR of their own; when they pay, the admin is told.
func TestInvoiceLink(t *testing.T) {
	h := newHarness(t, options{})
	h.tg.SendText(admin, admin, "/invoice 20 USD logo design")
	m := h.waitText(admin, "logo design")
	tok := regexp.MustCompile(`https://t\.me/fake_bot\?start=inv_([A-Za-z0-9_-]+)`).FindStringSubmatch(m.Text)
	if tok == nil {
		t.Fatalf("no share link in %q", m.Text)
	}

	h.tg.SendText(customer, customer, "/start inv_"+tok[1])
	q := h.waitPhoto(customer, 1)
	if hasButton(q, "Cancel") {
		t.Error("the customer's QR offers Cancel")
	}
	if !strings.Contains(q.Caption, "20.00 USD") || !strings.Contains(q.Caption, "logo design") {
		t.Errorf("caption %q", q.Caption)
	}
	if _, err := h.sim.PayQR(scanQR(t, q.Photo), sim.Payment{}); err != nil {
		t.Fatal(err)
	}
	h.waitCaption(customer, q.ID, "Paid")
	h.waitText(admin, "was paid: 20.00 USD")

	h.tg.SendText(stranger, stranger, "/start inv_"+tok[1])
	h.waitText(stranger, "already paid")
	h.tg.SendText(stranger, stranger, "/start inv_nosuchtoken")
	h.waitText(stranger, "not valid")
}

// TestDoubleTapCheck: two quick presses of Check status settle once: one
// payment row, one paid edit.
func TestDoubleTapCheck(t *testing.T) {
	h := newHarness(t, options{noPolling: true})
	h.tg.SendText(admin, admin, "/pay 5")
	m := h.waitPhoto(admin, 1)
	if _, err := h.sim.PayQR(scanQR(t, m.Photo), sim.Payment{}); err != nil {
		t.Fatal(err)
	}
	data := button(t, m, "Check")
	ids := []string{h.tg.PressButton(admin, admin, m.ID, data), h.tg.PressButton(admin, admin, m.ID, data)}
	for _, id := range ids {
		h.waitFor("answer", func() bool { a, ok := h.tg.AnswerOf(id); return ok && a.Text == "Paid ✅" })
	}
	h.waitCaption(admin, m.ID, "Paid")
	h.waitFor("outbox drained", func() bool {
		evs, err := h.store.PendingEvents(context.Background(), h.clock.Now(), 10)
		return err == nil && len(evs) == 0
	})
	pays, err := h.store.ListPayments(context.Background(), payments.PaymentFilter{})
	if err != nil || len(pays) != 1 {
		t.Errorf("%d payments (%v), want 1", len(pays), err)
	}
	edits := 0
	for _, c := range h.tg.CallsTo("editMessageMedia") {
		if c.ErrorCode == 0 {
			edits++
		}
	}
	if calls := h.tg.CallsTo("editMessageMedia"); edits != 1 || len(calls) != 1 {
		// A second settlement would also try an edit, which Telegram answers "not modified".
		t.Errorf("%d media edits in %d calls, want exactly 1: %v", edits, len(calls), calls)
	}
	if st := h.invoiceStatus("INV-000001"); st != payments.InvoicePaid {
		t.Errorf("invoice %s", st)
	}
}

// TestRateLimitedEdit: a 429 on the paid edit is retried after retry_after.
func TestRateLimitedEdit(t *testing.T) {
	h := newHarness(t, options{})
	h.tg.SendText(admin, admin, "/pay 5")
	m := h.waitPhoto(admin, 1)
	h.tg.InjectError("editMessageMedia", http.StatusTooManyRequests, "", 1)
	if _, err := h.sim.PayQR(scanQR(t, m.Photo), sim.Payment{}); err != nil {
		t.Fatal(err)
	}
	h.waitCaption(admin, m.ID, "Paid")
	calls := h.tg.CallsTo("editMessageMedia")
	if len(calls) != 2 || calls[0].ErrorCode != http.StatusTooManyRequests || calls[1].ErrorCode != 0 ||
		calls[1].Params["message_id"] != calls[0].Params["message_id"] {
		t.Fatalf("editMessageMedia calls %v; want a 429 then a success, on the same message", calls)
	}
	if d := calls[1].At.Sub(calls[0].At); d < time.Second {
		t.Errorf("retried after %v, before retry_after (1s)", d)
	}
}

// TestRestart: stopped with two pending QRs, one paid while the bot is down
// and one after it is back, a new process on the same database still edits
// both messages.
func TestRestart(t *testing.T) {
	h := newHarness(t, options{})
	h.tg.SendText(admin, admin, "/pay 5")
	m := h.waitPhoto(admin, 1)
	h.tg.SendText(admin, admin, "/pay 7")
	m2 := h.waitPhoto(admin, 2)
	h.waitFor("updates confirmed", func() bool { return h.tg.Pending() == 0 })
	h.shutdown()

	if _, err := h.sim.PayQR(scanQR(t, m.Photo), sim.Payment{}); err != nil {
		t.Fatal(err)
	}
	h.start()
	for _, x := range []telegramtest.Message{m, m2} {
		if x.ID == m2.ID {
			// Paid after the restart: the new process polls it too.
			if _, err := h.sim.PayQR(scanQR(t, x.Photo), sim.Payment{}); err != nil {
				t.Fatal(err)
			}
		}
		if p := h.waitCaption(admin, x.ID, "✅ Paid"); p.Keyboard != nil || !strings.Contains(p.PhotoName, "paid") {
			t.Errorf("message %d after the restart: photo %q, buttons %+v", x.ID, p.PhotoName, p.Buttons())
		}
	}
	if n := len(h.botMessages(admin)); n != 2 {
		t.Errorf("%d bot messages after the restart, want the 2 edited", n)
	}
}

// TestMessageGone: when the QR message was deleted, the paid receipt comes
// as a fresh message, linked in its place.
func TestMessageGone(t *testing.T) {
	h := newHarness(t, options{noPolling: true})
	h.tg.SendText(admin, admin, "/pay 5")
	m := h.waitPhoto(admin, 1)
	h.tg.InjectError("editMessageMedia", http.StatusBadRequest, "Bad Request: message to edit not found", 0)
	h.press(admin, admin, m.ID, button(t, m, "Simulate"))
	fresh := h.waitPhoto(admin, 2)
	if !strings.Contains(fresh.Caption, "Paid") || fresh.Keyboard != nil {
		t.Errorf("fresh message caption %q, buttons %+v", fresh.Caption, fresh.Buttons())
	}
	h.waitFor("the fresh message linked", func() bool {
		msg, err := h.store.MessageByQR(context.Background(), 1)
		return err == nil && msg.MessageID == fresh.ID
	})
}

// TestWebhook: updates arrive by webhook; a wrong secret gets 401 and a GET
// 405, the right secret 200 and the update handled; /healthz answers.
func TestWebhook(t *testing.T) {
	const secret = "right-secret_123"
	h := newHarness(t, options{webhook: true, secret: secret, noPolling: true})
	h.waitFor("setWebhook", func() bool { return len(h.tg.CallsTo("setWebhook")) == 1 })
	if c := h.tg.CallsTo("setWebhook")[0]; c.Params["secret_token"] != secret || !strings.HasSuffix(c.Params["url"], "/telegram/hook") {
		t.Errorf("setWebhook %v", c.Params)
	}
	h.tg.SendText(admin, admin, "/start")
	h.waitText(admin, "Your Telegram id is 100")

	hook := "http://" + h.addr + "/telegram/hook"
	update := map[string]any{"update_id": 99001, "message": map[string]any{
		"message_id": 50, "date": time.Now().Unix(), "chat": map[string]any{"id": customer, "type": "private"},
		"from": map[string]any{"id": customer, "is_bot": false, "first_name": "C"}, "text": "/help",
		"entities": []map[string]any{{"type": "bot_command", "offset": 0, "length": 5}},
	}}
	if code, err := telegramtest.PostUpdate(hook, "wrong", update); err != nil || code != http.StatusUnauthorized {
		t.Errorf("wrong secret: %d, %v; want 401", code, err)
	}
	if code, err := telegramtest.PostUpdate(hook, "", update); err != nil || code != http.StatusUnauthorized {
		t.Errorf("no secret: %d, %v; want 401", code, err)
	}
	if code, err := telegramtest.PostUpdate(hook, secret, []byte("{not json")); err != nil || code != http.StatusBadRequest {
		t.Errorf("bad JSON: %d, %v; want 400", code, err)
	}
	resp, err := http.Get(hook)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET: %d, want 405", resp.StatusCode)
	}
	if len(h.botMessages(customer)) != 0 {
		t.Fatal("a refused update was handled")
	}
	if code, err := telegramtest.PostUpdate(hook, secret, update); err != nil || code != http.StatusOK {
		t.Errorf("right secret: %d, %v; want 200", code, err)
	}
	h.waitText(customer, "/start")

	resp, err = http.Get("http://" + h.addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st struct {
		Status, Database, Mode string
		Sandbox                bool
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil || resp.StatusCode != 200 || st.Database != "ok" || !st.Sandbox || st.Mode != "webhook" {
		t.Errorf("/healthz: %d %+v %v", resp.StatusCode, st, err)
	}
}

// TestAdminTools: /pending, /check, /verify, /paid, /export and /cancel.
func TestAdminTools(t *testing.T) {
	h := newHarness(t, options{noPolling: true})
	h.tg.SendText(admin, admin, "/pending")
	h.waitText(admin, "Nothing is pending")
	for i := 1; i <= 12; i++ {
		h.tg.SendText(admin, admin, fmt.Sprintf("/pay %d", i))
		h.waitPhoto(admin, i)
	}
	h.tg.SendText(admin, admin, "/pending")
	p := h.waitText(admin, "page 1 of 2")
	if !strings.Contains(p.Text, "INV-000012") || strings.Contains(p.Text, "INV-000002") || !hasButton(p, "Next") {
		t.Errorf("/pending page 1: %q, buttons %+v", p.Text, p.Buttons())
	}
	h.press(admin, admin, p.ID, button(t, p, "Next"))
	h.waitFor("page 2", func() bool {
		m, _ := h.tg.Message(admin, p.ID)
		return strings.Contains(m.Text, "page 2 of 2") && strings.Contains(m.Text, "INV-000001") && !strings.Contains(m.Text, "INV-000012")
	})

	h.tg.SendText(admin, admin, "/check INV-000001")
	c := h.waitText(admin, "What Bakong says about INV-000001")
	if !strings.Contains(c.Text, "check_transaction_by_md5): not found") {
		t.Errorf("/check: %q", c.Text)
	}

	inv1 := h.waitPhoto(admin, 1)
	if _, err := h.sim.PayQR(scanQR(t, inv1.Photo), sim.Payment{}); err != nil {
		t.Fatal(err)
	}
	h.tg.SendText(admin, admin, "/check 1")
	c = h.waitText(admin, "What Bakong says about 1")
	for _, want := range []string{"By md5 (check_transaction_by_md5): paid 1.00 USD", "By full hash (check_transaction_by_hash): paid 1.00 USD", "is now: paid"} {
		if !strings.Contains(c.Text, want) {
			t.Errorf("/check after payment: %q lacks %q", c.Text, want)
		}
	}
	h.waitCaption(admin, inv1.ID, "Paid")

	inv2 := h.waitPhoto(admin, 2)
	tx, err := h.sim.PayQR(scanQR(t, inv2.Photo), sim.Payment{})
	if err != nil {
		t.Fatal(err)
	}
	h.tg.SendText(admin, admin, "/verify "+tx.ShortHash()+" INV-000002")
	h.waitText(admin, "INV-000002 is settled by transaction "+tx.ShortHash())
	h.waitCaption(admin, inv2.ID, "Paid")

	h.tg.SendText(admin, admin, "/cancel INV-000003")
	h.waitText(admin, "Invoice INV-000003 cancelled")
	h.waitCaption(admin, h.waitPhoto(admin, 3).ID, "cancelled")
	h.tg.SendText(admin, admin, "/cancel INV-000001")
	h.waitText(admin, "already paid")

	h.tg.SendText(admin, admin, "/paid today")
	paid := h.waitText(admin, "Paid — today")
	if !strings.Contains(paid.Text, "Total: 3.00 USD in 2 invoices") {
		t.Errorf("/paid: %q", paid.Text)
	}

	h.tg.SendText(admin, admin, "/export 7d")
	h.waitFor("two CSV documents", func() bool {
		n := 0
		for _, m := range h.botMessages(admin) {
			if m.DocumentFileID != "" {
				n++
			}
		}
		return n == 2
	})
	var docs []telegramtest.Message
	for _, m := range h.botMessages(admin) {
		if m.DocumentFileID != "" {
			docs = append(docs, m)
		}
	}
	invs, err := csv.NewReader(strings.NewReader(string(docs[0].Document))).ReadAll()
	if err != nil || len(invs) != 13 || invs[0][0] != "invoice" || invs[1][3] != "1.00" || invs[1][2] != "paid" {
		t.Errorf("invoices CSV (%v): %q", err, invs)
	}
	pays, err := csv.NewReader(strings.NewReader(string(docs[1].Document))).ReadAll()
	if err != nil || len(pays) != 3 || pays[1][4] != "1.00" || len(pays[1][1]) != 64 {
		t.Errorf("payments CSV (%v): %q", err, pays)
	}

	h.tg.SendText(admin, admin, "/token")
	h.waitText(admin, "Sandbox")
	h.tg.SendText(admin, admin, "/paid yesterday")
	h.waitText(admin, "Usage: /paid")
	h.tg.SendText(admin, admin, "/pay 5.555")
	h.waitText(admin, "at most two decimals")
	h.tg.SendText(admin, admin, "/frobnicate")
	h.waitText(admin, "don't know that command")
}

// TestLanguage: Telegram's language picks Khmer; /lang overrides and sticks.
func TestLanguage(t *testing.T) {
	h := newHarness(t, options{noPolling: true})
	km := telegramtest.WithLanguage("km")
	h.tg.SendText(customer, customer, "/start", km)
	h.waitText(customer, "សួស្តី")
	h.tg.SendText(customer, customer, "/lang en", km)
	h.waitText(customer, "Language: English")
	h.tg.SendText(customer, customer, "/help", km)
	h.waitText(customer, "this help")
	h.tg.SendText(customer, customer, "/lang fr")
	h.waitText(customer, "/lang km")

	h.tg.SendText(admin, admin, "/lang km")
	h.waitText(admin, "ភាសា៖ ខ្មែរ")
	h.tg.SendText(admin, admin, "/pay 5")
	m := h.waitPhoto(admin, 1)
	if !strings.Contains(m.Caption, "វិក្កយបត្រ INV-000001") || !hasButton(m, "ពិនិត្យស្ថានភាព") {
		t.Errorf("Khmer QR message: %q %+v", m.Caption, m.Buttons())
	}

	// The longest note, in Khmer, fits every caption of the message (the
	// fake Bot API refuses captions over 1024 characters, as Telegram does).
	note := strings.Repeat("ខ្មែរ", payments.MaxDescription/5)
	h.tg.SendText(admin, admin, "/pay 5 "+note)
	long := h.waitPhoto(admin, 2)
	if !strings.Contains(long.Caption, note) {
		t.Errorf("caption %q lacks the note", long.Caption)
	}
	h.press(admin, admin, long.ID, button(t, long, "សាកល្បងបង់ប្រាក់"))
	if p := h.waitCaption(admin, long.ID, "បានបង់រួចរាល់"); !strings.Contains(p.Caption, note) || !strings.Contains(p.PhotoName, "paid") {
		t.Errorf("paid message with the longest note: photo %q, caption %q", p.PhotoName, p.Caption)
	}
	h.tg.SendText(admin, admin, "/pay 5 "+note+"ក")
	h.waitText(admin, "យ៉ាងច្រើន 200 តួអក្សរ")
}

// TestReviewAndDuplicate: a short payment goes to review (receipt card,
// "checking" caption, admin buttons, admins told why); a second payment for
// a paid invoice is recorded and flagged to the admins, and its message no
// longer offers a QR.
func TestReviewAndDuplicate(t *testing.T) {
	h := newHarness(t, options{admins: []int64{admin, 101}})
	h.tg.SendText(admin, admin, "/pay 5")
	m := h.waitPhoto(admin, 1)
	if _, err := h.sim.PayQR(scanQR(t, m.Photo), sim.Payment{Amount: 400}); err != nil {
		t.Fatal(err)
	}
	r := h.waitCaption(admin, m.ID, "the shop is checking")
	if !hasButton(r, "Check") || !hasButton(r, "Cancel") || !strings.Contains(r.PhotoName, "review") {
		t.Errorf("review message: photo %q, buttons %+v", r.PhotoName, r.Buttons())
	}
	for _, a := range []int64{admin, 101} {
		h.waitText(a, "amount 4.00 USD, expected 5.00 USD")
	}

	h.tg.SendText(admin, admin, "/invoice 3 USD stickers")
	link := h.waitText(admin, "stickers")
	tok := regexp.MustCompile(`start=inv_([A-Za-z0-9_-]+)`).FindStringSubmatch(link.Text)[1]
	h.tg.SendText(customer, customer, "/start inv_"+tok)
	h.tg.SendText(stranger, stranger, "/start inv_"+tok)
	q1, q2 := h.waitPhoto(customer, 1), h.waitPhoto(stranger, 1)
	if _, err := h.sim.PayQR(scanQR(t, q1.Photo), sim.Payment{}); err != nil {
		t.Fatal(err)
	}
	h.waitCaption(customer, q1.ID, "Paid")
	h.waitCaption(stranger, q2.ID, "another QR")
	if _, err := h.sim.PayQR(scanQR(t, q2.Photo), sim.Payment{}); err != nil {
		t.Fatal(err)
	}
	for _, a := range []int64{admin, 101} {
		if d := h.waitText(a, "second payment arrived for invoice INV-000002"); !strings.Contains(d.Text, "refund it to the payer") || d.Keyboard != nil {
			t.Errorf("duplicate notice %q with buttons %+v; want a refund asked for, no Accept", d.Text, d.Buttons())
		}
	}
	pays, err := h.store.ListPayments(context.Background(), payments.PaymentFilter{InvoiceID: 2})
	if err != nil || len(pays) != 2 {
		t.Errorf("%d payments for INV-000002 (%v), want both recorded", len(pays), err)
	}
}
