package main

import (
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/khqrbot/khqrbot/internal/telegramtest"
	"github.com/khqrbot/khqrbot/payments/bakong/sim"
)

// TestRunWarnsOfExpiringToken: in live mode, a token that expires within a
// week with no BAKONG_EMAIL to renew it is reported to the admins at start.
func TestRunWarnsOfExpiringToken(t *testing.T) {
	tg := telegramtest.New(t)
	s := sim.New(sim.Options{Accounts: []string{"shop@aclb"}, TokenLifetime: 3*24*time.Hour + time.Hour})
	srv := httptest.NewServer(s)
	defer srv.Close()
	stop, _ := startRun(t, map[string]string{
		"TELEGRAM_BOT_TOKEN": tg.Token(),
		"TELEGRAM_API_URL":   tg.URL(),
		"BAKONG_API_URL":     srv.URL,
		"BAKONG_TOKEN":       s.IssueToken("shop@example.com"),
		"BAKONG_ACCOUNT_ID":  "shop@aclb",
		"MERCHANT_NAME":      "Sokha Coffee",
		"ADMIN_IDS":          "100",
		"DATABASE_URL":       filepath.Join(t.TempDir(), "bot.db"),
	})
	waitBotText(t, tg, 100, "in 3 days, and will not be renewed automatically")
	if code := stop(); code != 0 {
		t.Errorf("exit %d, want 0", code)
	}
}
