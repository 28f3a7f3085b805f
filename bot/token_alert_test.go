package bot_test

import (
	"strings"
	"testing"
	"time"

	"github.com/khqrbot/khqrbot/payments"
)

// TestTokenAlert: the token alerts of payments.Service.WarnTokenExpiry reach
// every admin in their own language, dated in Cambodia, with what to do.
func TestTokenAlert(t *testing.T) {
	const khmerAdmin = int64(101)
	h := newHarness(t, options{noPolling: true, admins: []int64{admin, khmerAdmin}})
	h.tg.SendText(khmerAdmin, khmerAdmin, "/lang km")
	h.waitText(khmerAdmin, "ភាសា៖ ខ្មែរ")

	exp := time.Date(2026, 3, 7, 20, 0, 0, 0, time.UTC) // 8 March in Phnom Penh
	for _, a := range []payments.TokenAlert{{ExpiresAt: exp, DaysLeft: 6}, {ExpiresAt: exp, Expired: true}} {
		if err := h.store.AddEvent(t.Context(), a.Event(time.Now())); err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range []struct {
		chat int64
		text string
	}{
		{admin, "expires on 2026-03-08, in 6 days"},
		{admin, "expired on 2026-03-08"},
		{khmerAdmin, "នឹងផុតកំណត់នៅថ្ងៃទី 2026-03-08 ក្នុងរយៈពេល 6 ថ្ងៃទៀត"},
		{khmerAdmin, "បានផុតកំណត់នៅថ្ងៃទី 2026-03-08"},
	} {
		m := h.waitText(want.chat, want.text)
		if !strings.Contains(m.Text, "BAKONG_EMAIL") || strings.Contains(m.Text, "token_exp") {
			t.Errorf("alert to %d: %q, want advice and no raw code", want.chat, m.Text)
		}
	}
}
