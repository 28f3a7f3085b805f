package payments_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/khqrbot/khqrbot/payments"
	"github.com/khqrbot/khqrbot/payments/bakong/sim"
)

// faults are the ways Bakong fails; an outage cycles through them.
var faults = []struct {
	name string
	f    sim.Fault
}{
	{"timeout", sim.Fault{Latency: 10 * time.Second}}, // the client gives up after 500ms
	{"500", sim.Fault{Status: http.StatusInternalServerError}},
	{"503", sim.Fault{Status: http.StatusServiceUnavailable}},
	{"429", sim.Fault{RetryAfter: 2 * time.Second}},
	{"HTML 403", sim.Fault{GeoBlock: true}}, // on the list endpoint too: the client calls that a refusal
	{"504", sim.Fault{Status: http.StatusGatewayTimeout}},
	{"errorCode 9", sim.Fault{ErrorCode: 9}},
	{"SERVICE_FAILED", sim.Fault{ServiceFailed: []string{"*"}}},
}

// TestOutageThroughValidity: Bakong fails for the whole life of a QR that was
// paid in time. Nothing says "expired" or "unpaid"; once Bakong answers within
// the grace, the invoice settles.
func TestOutageThroughValidity(t *testing.T) {
	h := newHarness(t, withTimeout(500*time.Millisecond))
	inv := h.invoice(usd5)
	q := h.qr(inv.ID)
	two := h.qr(inv.ID) // a list call needs two QRs
	h.pay(q, sim.Payment{CreatedAt: q.ExpiresAt.Add(-time.Minute)})

	i := 0
	for h.clk.Now().Before(q.ExpiresAt.Add(grace / 2)) {
		f := faults[i%len(faults)]
		if f.name == "timeout" && i >= len(faults) {
			f = faults[1] // a timeout costs a real second: play it once
		}
		h.setFault("*", f.f)
		h.sim.ResetCalls()
		if err := h.rec.Tick(h.ctx); err != nil {
			t.Fatalf("Tick: %v", err)
		}
		if got := h.getQR(q.ID); got.Status != payments.QRPending {
			t.Fatalf("after %s: QR %s, want pending", f.name, got.Status)
		}
		i++
		h.clk.Advance(interval)
	}
	if i < len(faults) {
		t.Fatalf("only %d ticks: not every fault was played", i)
	}
	got := h.wantQR(q.ID, payments.QRPending)
	if got.CheckFailures == 0 || got.LastError == "" {
		t.Errorf("QR records %d failures, last error %q; want them", got.CheckFailures, got.LastError)
	}
	if strings.Contains(got.LastError, h.tok) {
		t.Fatal("the token leaked into the QR's last error")
	}
	h.wantInvoice(inv.ID, payments.InvoiceOpen)
	h.wantKinds(inv.ID) // no expired, nothing for customers
	alerts := h.alerts()
	if len(alerts) != 1 || !strings.Contains(alerts[0].Detail, "failed 5 times in a row") {
		t.Fatalf("alerts %+v, want one outage alert", alerts)
	}

	h.sim.ClearFaults()
	// Bakong is back, on another node whose client has the default timeout:
	// a loaded machine's slow answer must not read as another outage.
	h.wait = 0
	h.node = h.start()
	h.clk.Set(q.ExpiresAt.Add(grace)) // the backoff never passes the final check
	h.tick()
	h.wantInvoice(inv.ID, payments.InvoicePaid)
	h.wantQR(q.ID, payments.QRPaid)
	h.wantQR(two.ID, payments.QRExpired) // silently: the invoice is paid
	h.wantKinds(inv.ID, payments.EventSettled)
	if alerts := h.alerts(); len(alerts) != 2 || alerts[1].Detail != "Bakong answers again" {
		t.Fatalf("alerts %+v, want the outage and the recovery", alerts)
	}
}

// TestOutagePastGrace: a QR whose checks failed until long after its grace is
// still checked when Bakong is back, and only then expires or settles.
func TestOutagePastGrace(t *testing.T) {
	for _, paid := range []bool{false, true} {
		name := map[bool]string{false: "unpaid", true: "paid in time"}[paid]
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			inv := h.invoice(usd5)
			q := h.qr(inv.ID)
			if paid {
				h.pay(q, sim.Payment{CreatedAt: q.ExpiresAt})
			}
			h.setFault("*", sim.Fault{Status: http.StatusBadGateway})
			h.ticksUntil(q.ExpiresAt.Add(10 * time.Minute))
			got := h.wantQR(q.ID, payments.QRPending)
			if d := got.NextCheckAt.Sub(got.LastCheckedAt); d > time.Minute {
				t.Errorf("backoff %v, want it capped at a minute", d)
			}
			h.wantKinds(inv.ID)

			h.sim.ClearFaults()
			h.ticksUntil(h.clk.Now().Add(time.Minute))
			if paid {
				h.wantQR(q.ID, payments.QRPaid)
				h.wantKinds(inv.ID, payments.EventSettled)
			} else {
				h.wantQR(q.ID, payments.QRExpired)
				h.wantKinds(inv.ID, payments.EventExpired)
			}
		})
	}
}

// TestBackoff: failures back off exponentially from the interval, up to
// MaxBackoff, but never past the final check.
func TestBackoffSchedule(t *testing.T) {
	h := newHarness(t, withReconciler(payments.ReconcilerConfig{Interval: interval, MaxRPS: 100, MaxBackoff: 40 * time.Second}))
	inv := h.invoice(usd5)
	q := h.qr(inv.ID)
	h.setFault("*", sim.Fault{Status: http.StatusInternalServerError})
	var gaps []time.Duration
	for range 6 {
		h.clk.Set(h.getQR(q.ID).NextCheckAt)
		h.tick()
		got := h.getQR(q.ID)
		gaps = append(gaps, got.NextCheckAt.Sub(got.LastCheckedAt))
	}
	want := []time.Duration{5 * time.Second, 10 * time.Second, 20 * time.Second, 40 * time.Second, 40 * time.Second}
	for i, w := range want {
		if gaps[i] != w {
			t.Fatalf("backoff gaps %v, want %v then up to the final check", gaps, want)
		}
	}
	// 115s have passed; the QR expires at 120s: the next check is the final one at 150s.
	if got := h.getQR(q.ID); !got.NextCheckAt.Equal(q.ExpiresAt.Add(grace)) {
		t.Errorf("next check %v, want the final check at %v", got.NextCheckAt, q.ExpiresAt.Add(grace))
	}
}

// TestQRAlert: one QR whose checks keep failing while Bakong otherwise
// answers gets one alert, not one per tick.
func TestQRAlert(t *testing.T) {
	h := newHarness(t)
	inv := h.invoice(usd5)
	bad := h.qr(inv.ID)
	h.qr(inv.ID)
	h.setFault(epMD5List, sim.Fault{ServiceFailed: []string{bad.MD5}})
	// Seven checks until the other QR's final check; the good answers for it
	// keep Bakong's outage streak at zero.
	for range 7 {
		h.clk.Set(h.getQR(bad.ID).NextCheckAt)
		h.tick()
	}
	if got := h.wantQR(bad.ID, payments.QRPending); got.CheckFailures != 7 {
		t.Errorf("%d failures, want 7", got.CheckFailures)
	}
	alerts := h.alerts()
	if len(alerts) != 1 || alerts[0].QRID != bad.ID || !strings.Contains(alerts[0].Detail, bad.BillNumber) {
		t.Fatalf("alerts %+v, want one about %s", alerts, bad.BillNumber)
	}
}

// TestListRefused: when the md5 list endpoint is refused, single checks take
// over within the request budget, and the list is retried later.
func TestListRefused(t *testing.T) {
	const rps = 5
	h := newHarness(t, withReconciler(payments.ReconcilerConfig{Interval: interval, MaxRPS: rps, ListRetry: time.Minute}))
	inv := h.invoice(usd5)
	var qrs []*payments.QR
	for range 12 {
		qrs = append(qrs, h.qr(inv.ID))
	}
	h.setFault(epMD5List, sim.Fault{ListRefused: true})
	h.pay(qrs[11], sim.Payment{})
	h.clk.Advance(time.Second) // the deeplink calls drew from the budget too

	// Tick 1: one refused list call, then singles until the budget is spent.
	h.sim.ResetCalls()
	h.tick()
	if l, s := h.calls(epMD5List), h.calls(epMD5); l != 1 || s != rps-1 {
		t.Fatalf("first tick: %d list and %d single calls, want 1 and %d", l, s, rps-1)
	}
	// Ticks one second apart: the budget refills to rps; the refusal is remembered.
	for tick, want := range []int{rps, 12 - 2*rps + 1} {
		tick += 2
		h.clk.Advance(time.Second)
		h.sim.ResetCalls()
		h.tick()
		if l, s := h.calls(epMD5List), h.calls(epMD5); l != 0 || s != want {
			t.Fatalf("tick %d: %d list and %d single calls, want 0 and %d", tick, l, s, want)
		}
	}
	// Every QR was checked once, the last one found paid.
	h.wantInvoice(inv.ID, payments.InvoicePaid)
	for _, q := range qrs[:11] {
		if got := h.getQR(q.ID); got.LastCheckedAt.IsZero() {
			t.Errorf("QR %s never checked", got.BillNumber)
		}
	}
	// Within ListRetry, still singles; after it, the list is tried again.
	h.clk.Advance(interval)
	h.sim.ResetCalls()
	h.tick()
	if l := h.calls(epMD5List); l != 0 {
		t.Fatalf("list tried again after %v, before ListRetry", interval)
	}
	h.sim.ClearFaults()
	h.clk.Advance(time.Minute)
	h.sim.ResetCalls()
	h.tick()
	if l, s := h.calls(epMD5List), h.calls(epMD5); l != 1 || s != 0 {
		t.Fatalf("after ListRetry: %d list and %d single calls, want 1 and 0", l, s)
	}
}

// TestBudgetWithLists: one list call costs one request; 120 QRs take 3.
func TestBudgetWithLists(t *testing.T) {
	h := newHarness(t, withReconciler(payments.ReconcilerConfig{Interval: interval, MaxRPS: 2}))
	inv := h.invoice(usd5)
	for range 120 {
		h.qr(inv.ID)
	}
	h.clk.Advance(time.Second) // the deeplink calls drew from the budget too
	h.sim.ResetCalls()
	h.tick()
	if l, s := h.calls(epMD5List), h.calls(epMD5); l != 2 || s != 0 {
		t.Fatalf("first tick: %d list and %d single calls, want 2 and 0", l, s)
	}
	h.clk.Advance(time.Second)
	h.sim.ResetCalls()
	h.tick()
	// 20 left: one list call.
	if l, s := h.calls(epMD5List), h.calls(epMD5); l != 1 || s != 0 {
		t.Fatalf("second tick: %d list and %d single calls, want 1 and 0", l, s)
	}
}

// TestShortBudgetTakesTurns: when the budget allows fewer calls per cycle
// than the QRs due need, each cycle starts where the last one stopped, and
// goes round to the first QRs in the same md5 lists, so every QR is asked
// about in turn; the last QR, paid at once, settles in the third cycle.
func TestShortBudgetTakesTurns(t *testing.T) {
	h := newHarness(t, withReconciler(payments.ReconcilerConfig{Interval: interval, MaxRPS: 2})) // two list calls a cycle
	inv := h.invoice(usd5)
	qrs := make([]*payments.QR, 240)
	for i := range qrs {
		qrs[i] = h.qr(inv.ID)
	}
	last := h.invoice(usd5)
	paid := h.qr(last.ID) // the 241st
	h.pay(paid, sim.Payment{})
	h.clk.Advance(time.Second) // the deeplink calls drew from the budget too
	// Each cycle's turn of qrs; the third's goes on with the 241st, then
	// the first 59 again.
	for cycle, want := range [][2]int{{0, 100}, {100, 200}, {200, 240}} {
		h.sim.ResetCalls()
		began := h.clk.Now()
		h.tick()
		if n := h.checks(); n != 2 {
			t.Fatalf("cycle %d: %d calls, want the budget's 2", cycle, n)
		}
		for i, q := range qrs {
			asked := !h.getQR(q.ID).LastCheckedAt.Before(began)
			if turn := i >= want[0] && i < want[1] || cycle == 2 && i < 59; asked != turn {
				t.Errorf("cycle %d: QR %d of 240 asked about: %v, want %v", cycle, i+1, asked, turn)
			}
		}
		h.clk.Advance(interval)
	}
	h.wantInvoice(last.ID, payments.InvoicePaid)
}

// TestRateLimitedStopsTick: a 429 ends the tick and pauses calls for its Retry-After.
func TestRateLimitedStopsTick(t *testing.T) {
	h := newHarness(t)
	inv := h.invoice(usd5)
	for range 120 {
		h.qr(inv.ID)
	}
	h.setFault("*", sim.Fault{RetryAfter: 3 * time.Second, Count: 1})
	h.sim.ResetCalls()
	h.tick()
	if n := h.checks(); n != 1 {
		t.Fatalf("%d calls after a 429, want 1", n)
	}
	h.clk.Advance(time.Second)
	h.tick()
	if n := h.checks(); n != 1 {
		t.Fatalf("%d calls within Retry-After, want still 1", n)
	}
	h.clk.Advance(2 * time.Second)
	h.tick() // the 70 QRs not yet checked: two list calls
	if n := h.checks(); n != 3 {
		t.Fatalf("%d calls once Retry-After passed, want 3", n)
	}
	h.clk.Advance(2 * time.Second)
	h.tick() // the 50 of the 429, after their backoff
	if n := h.checks(); n != 4 {
		t.Fatalf("%d calls after the backoff, want 4", n)
	}
}

func (h *harness) alerts() []payments.Event {
	var out []payments.Event
	for _, e := range h.events() {
		if e.Kind == payments.EventAlert {
			out = append(out, e)
		}
	}
	return out
}
