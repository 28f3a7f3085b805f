package main

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"syscall"
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

// TestRunDatabaseIsPrivate: the SQLite file `khqrbot run` creates, and its
// -wal and -shm files, which hold the renewed Bakong token, are readable by
// their owner alone.
func TestRunDatabaseIsPrivate(t *testing.T) {
	old := syscall.Umask(0o022) // the usual umask, which left SQLite's files 0644
	defer syscall.Umask(old)
	tg := telegramtest.New(t)
	db := filepath.Join(t.TempDir(), "bot.db")
	stop, _ := startRun(t, map[string]string{
		"TELEGRAM_BOT_TOKEN": tg.Token(),
		"TELEGRAM_API_URL":   tg.URL(),
		"DATABASE_URL":       db,
	})
	const user = 4242
	tg.SendText(user, user, "/pay 5")
	waitPhoto(t, tg, user, 1) // the QR is stored: the bot has written the database
	for _, f := range []string{db, db + "-wal", db + "-shm"} {
		fi, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s is %v, want -rw-------", filepath.Base(f), fi.Mode().Perm())
		}
	}
	if code := stop(); code != 0 {
		t.Errorf("exit %d, want 0", code)
	}
}
