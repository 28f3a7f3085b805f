package bot_test

import (
	"strings"
	"testing"
)

// md5Checks counts the simulator's check_transaction_by_md5 calls.
func (h *harness) md5Checks() int {
	n := 0
	for _, c := range h.sim.Calls() {
		if c.Endpoint == "check_transaction_by_md5" {
			n++
		}
	}
	return n
}

// TestCheckStatusCooldown: pressing Check status 100 times asks Bakong
// once; the other presses are answered from that check.
func TestCheckStatusCooldown(t *testing.T) {
	h := newHarness(t, options{fakeClock: true, noPolling: true})
	h.tg.SendText(admin, admin, "/pay 5")
	m := h.waitPhoto(admin, 1)
	data := button(t, m, "Check")
	h.sim.ResetCalls()
	for range 100 {
		if a := h.press(admin, admin, m.ID, data); !strings.Contains(a.Text, "Not paid yet") {
			t.Fatalf("Check status answered %q", a.Text)
		}
	}
	t.Logf("100 presses of Check status: %d Bakong calls", h.md5Checks())
	if n := h.md5Checks(); n != 1 {
		t.Errorf("100 presses made %d check_transaction_by_md5 calls, want 1", n)
	}
}
