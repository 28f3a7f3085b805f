package bot_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/khqrbot/khqrbot/bot"
	"github.com/khqrbot/khqrbot/internal/telegramtest"
	"github.com/khqrbot/khqrbot/payments"
	"github.com/khqrbot/khqrbot/payments/bakong/sim"
)

// diesUndone is the Service of a replica that marks its first `after`
// updates done, runs the next through and dies just before marking it
// done: the mark is lost, so a survivor runs the update again from the
// start. Once dead it is a mortal.
type diesUndone struct {
	*mortal
	h     *harness
	after atomic.Int32 // updates still to mark done before dying
}

func (d *diesUndone) wrap(p bot.Payments) bot.Payments {
	d.domain = p
	return d
}

func (d *diesUndone) StartUpdate(ctx context.Context, id int64, replica string, ttl time.Duration) (bool, error) {
	if d.isDead() {
		return d.mortal.StartUpdate(ctx, id, replica, ttl)
	}
	return d.domain.StartUpdate(ctx, id, replica, ttl)
}

func (d *diesUndone) FinishUpdate(ctx context.Context, id int64) error {
	if d.after.Add(-1) >= 0 {
		return d.domain.FinishUpdate(ctx, id)
	}
	if !d.isDead() {
		d.kill(d.h)
	}
	return errDead
}

// photos returns the photos the bot shows in chat (deleted ones are gone).
func photos(h *harness, chat int64) []telegramtest.Message {
	var out []telegramtest.Message
	for _, m := range h.botMessages(chat) {
		if m.PhotoFileID != "" {
			out = append(out, m)
		}
	}
	return out
}

// dyingPoller starts a poller that dies (diesUndone) after marking
// `after` updates done.
func dyingPoller(t *testing.T, after int) (*harness, *diesUndone) {
	t.Helper()
	d := &diesUndone{mortal: newMortal()}
	d.after.Store(int32(after))
	h := newHarness(t, options{fakeClock: true, noPolling: true, grace: 10 * time.Second, wrap: d.wrap})
	d.h = h
	t.Cleanup(func() { close(d.gone) })
	h.waitFor("the poller", func() bool { return healthOf(t, h.bot.Handler()).Role == "poller" })
	return h, d
}

// standby starts a replica that will survive the poller, once the
// poller's lease is current (renewed after any leap of the fake clock), so
// that it leaves the poller the polling.
func standby(h *harness) *replica {
	h.waitFor("the poller's lease current", func() bool {
		_, until, err := h.store.Lease(context.Background(), payments.PollerLease)
		return err == nil && until.After(h.fake.Now())
	})
	r := h.launch(nil)
	h.t.Cleanup(r.stop)
	return r
}

// payThenDie sends a dyingPoller a /pay, and returns once the poller sent
// its photo and died.
func payThenDie(t *testing.T) (*harness, *replica, telegramtest.Message) {
	t.Helper()
	h, d := dyingPoller(t, 0)
	survivor := standby(h)
	h.tg.SendText(admin, admin, "/pay 5 coffee")
	first := h.waitNthPhoto(admin, 1)
	h.waitFor("the replica's death before its done mark", d.isDead)
	return h, survivor, first
}

// TestPayRunAgainMakesOneInvoice: a /pay whose replica dies after
// handling it, before marking it done, is run again by a survivor, which
// makes no second invoice or QR: it shows the same QR again, and the first
// photo goes, so the chat holds one photo of one invoice. Paid, it settles
// once.
func TestPayRunAgainMakesOneInvoice(t *testing.T) {
	h, survivor, first := payThenDie(t)
	ctx := context.Background()
	payload := scanQR(t, first.Photo)
	h.fake.Advance(takeover)

	h.waitFor("the /pay run again: its QR shown anew, the first photo gone", func() bool {
		ps := photos(h, admin)
		return len(ps) == 1 && ps[0].ID != first.ID
	})
	if again := scanQR(t, photos(h, admin)[0].Photo); again != payload {
		t.Fatalf("the /pay run again shows QR %q, want the first run's %q", again, payload)
	}
	invs, err := survivor.store.ListInvoices(ctx, payments.InvoiceFilter{})
	if err != nil {
		t.Fatal(err)
	}
	qrs, err := survivor.store.ListQRs(ctx, payments.QRFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(invs) != 1 || len(qrs) != 1 {
		t.Fatalf("%d invoices and %d QRs after one /pay run twice, want 1 and 1", len(invs), len(qrs))
	}
	if invs[0].SourceKey == 0 || qrs[0].SourceKey != invs[0].SourceKey {
		t.Errorf("invoice key %d, QR key %d: want both keyed by the /pay update", invs[0].SourceKey, qrs[0].SourceKey)
	}

	if _, err := h.sim.PayQR(payload, sim.Payment{}); err != nil {
		t.Fatal(err)
	}
	for range 50 {
		if err := survivor.rec.Tick(ctx); err != nil {
			t.Fatal(err)
		}
		if inv, err := survivor.store.Invoice(ctx, invs[0].ID); err == nil && inv.Status == payments.InvoicePaid {
			break
		}
		h.fake.Advance(pollInterval)
	}
	if inv, err := survivor.store.Invoice(ctx, invs[0].ID); err != nil || inv.Status != payments.InvoicePaid {
		t.Fatalf("invoice after payment: %+v, %v; want paid", inv, err)
	}
	pays, err := survivor.store.ListPayments(ctx, payments.PaymentFilter{})
	if err != nil || len(pays) != 1 {
		t.Fatalf("%d payments (%v), want 1", len(pays), err)
	}
}

// TestPayRunAgainAfterPaid: a /pay whose first run's replica died before
// marking it done, and whose QR was paid before a survivor ran it again,
// is not offered again: the redo sends no photo, and the one photo shows
// the payment.
func TestPayRunAgainAfterPaid(t *testing.T) {
	h, survivor, first := payThenDie(t)
	ctx := context.Background()
	if _, err := h.sim.PayQR(scanQR(t, first.Photo), sim.Payment{}); err != nil {
		t.Fatal(err)
	}
	if err := survivor.rec.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	h.waitCaption(admin, first.ID, "Paid")
	edits := len(h.tg.CallsTo("editMessageMedia"))
	h.fake.Advance(takeover)

	h.waitFor("the /pay run again: its paid QR's message brought up to date", func() bool {
		return len(h.tg.CallsTo("editMessageMedia")) > edits
	})
	if n := len(h.tg.CallsTo("sendPhoto")); n != 1 {
		t.Errorf("%d photos sent, want the first run's only", n)
	}
	if ps := photos(h, admin); len(ps) != 1 || ps[0].ID != first.ID {
		t.Errorf("the chat shows %d photos, want the first run's, paid", len(ps))
	}
	invs, err := survivor.store.ListInvoices(ctx, payments.InvoiceFilter{})
	if err != nil || len(invs) != 1 || invs[0].Status != payments.InvoicePaid {
		t.Fatalf("invoices %+v (%v), want one, paid", invs, err)
	}
}

// TestNewQRRunAgain: a New QR press whose replica died after handling it,
// before marking it done, is run again by a survivor, which issues no
// second QR: it shows the first run's QR again, and that run's photo goes.
// (Reusing the user's live QR, as QRFor does, gives this too; the key
// gives it also when that QR is no longer live.)
func TestNewQRRunAgain(t *testing.T) {
	h, d := dyingPoller(t, 1)
	ctx := context.Background()
	h.tg.SendText(admin, admin, "/pay 2.50")
	m := h.waitPhoto(admin, 1)
	h.fake.Advance(5*time.Minute + 11*time.Second)
	if err := h.rec.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	exp := h.waitCaption(admin, m.ID, "expired")
	survivor := standby(h)
	h.press(admin, admin, exp.ID, button(t, exp, "New QR"))
	fresh := h.waitNthPhoto(admin, 2)
	payload := scanQR(t, fresh.Photo)
	h.waitFor("the replica's death before its done mark", d.isDead)
	h.fake.Advance(takeover)

	h.waitFor("the press run again: the new QR shown anew, its first photo gone", func() bool {
		ps := photos(h, admin)
		return len(ps) == 2 && ps[0].ID == m.ID && ps[1].ID != fresh.ID
	})
	if again := scanQR(t, photos(h, admin)[1].Photo); again != payload {
		t.Fatalf("the press run again shows QR %q, want the first run's %q", again, payload)
	}
	qrs, err := survivor.store.ListQRs(ctx, payments.QRFilter{})
	if err != nil || len(qrs) != 2 {
		t.Fatalf("%d QRs (%v) after a /pay and one New QR press run twice, want 2", len(qrs), err)
	}
}
