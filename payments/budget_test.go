package payments_test

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/khqrbot/khqrbot/payments"
	"github.com/khqrbot/khqrbot/payments/bakong/sim"
)

// TestOneBudget: the calls the Service makes for people (here /check's
// CheckQR and deeplinks) draw from the reconciler's budget, only from its
// spare half, so polling keeps its share within the same second; and a 429
// one of them meets holds back such calls, not polling.
func TestOneBudget(t *testing.T) {
	const rps = 4
	h := newHarness(t, withReconciler(payments.ReconcilerConfig{Interval: interval, MaxRPS: rps}))
	inv := h.invoice(usd5)
	q1, _ := h.qr(inv.ID), h.qr(inv.ID)
	h.clk.Advance(time.Second) // a full budget
	h.sim.ResetCalls()
	refused := 0
	for range 10 {
		if _, err := h.svc.CheckQR(h.ctx, q1.ID); errors.Is(err, payments.ErrBudget) {
			refused++
		} else if err != nil {
			t.Fatal(err)
		}
	}
	if n := h.calls(epMD5); n != rps/2 || refused != 10-rps/2 {
		t.Fatalf("10 checks at one instant: %d reached Bakong and %d were refused; want %d and %d", n, refused, rps/2, 10-rps/2)
	}
	h.tick() // polling: two QRs, one list call, from its own half
	if n := h.calls(epMD5List); n != 1 {
		t.Fatalf("polling made %d list calls after the checks, want 1", n)
	}

	// A 429 met by a check pauses checks for its Retry-After, not polling.
	h.clk.Advance(time.Second)
	h.setFault(epMD5, sim.Fault{Status: http.StatusTooManyRequests, RetryAfter: 30 * time.Second, Count: 1})
	if _, err := h.svc.CheckQR(h.ctx, q1.ID); payments.ErrorCode(err) != payments.EUnavailable {
		t.Fatalf("check meeting a 429: %v", err)
	}
	h.sim.ResetCalls()
	if _, err := h.svc.CheckQR(h.ctx, q1.ID); !errors.Is(err, payments.ErrBudget) {
		t.Fatalf("check within the Retry-After: %v, want ErrBudget", err)
	}
	h.clk.Advance(interval)
	h.tick()
	if n := h.calls(epMD5List); n != 1 || h.calls(epMD5) != 0 {
		t.Fatalf("after a check's 429: %d list and %d single calls, want polling's 1 list call", n, h.calls(epMD5))
	}
}
