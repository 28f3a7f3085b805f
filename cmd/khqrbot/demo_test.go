package main

import (
	"net"
	"strings"
	"testing"
	"time"
)

// TestDemoConfigIgnoresProduction: whatever the environment holds, the
// demo's bot talks to the local servers, in sandbox mode, on its own
// database; only the shop's look and the logs pass through.
func TestDemoConfigIgnoresProduction(t *testing.T) {
	prod := mapenv(map[string]string{
		"TELEGRAM_BOT_TOKEN": "999:real-token", "TELEGRAM_API_URL": "https://api.telegram.org",
		"BAKONG_TOKEN": "real-bakong-token", "BAKONG_ACCOUNT_ID": "shop@aba", "DATABASE_URL": "/var/lib/khqrbot/prod.db",
		"ADMIN_IDS": "5", "WEBHOOK_URL": "https://shop.example.com/hook", "WEBHOOK_SECRET": "s", "LISTEN_ADDR": ":8443",
		"BAKONG_PROXY_URL": "http://proxy.example.com:3128",
		"MERCHANT_NAME":    "Sokha Coffee", "LOG_LEVEL": "warn",
	})
	cfg, err := demoConfig(prod, "http://127.0.0.1:1234", "/tmp/demo.db", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Sandbox || cfg.BakongToken != "" || cfg.BakongProxyURL != "" || cfg.BakongAccountID != sandboxAccountID {
		t.Errorf("not sandbox: %+v", cfg)
	}
	if cfg.TelegramToken != demoBot.Token || cfg.TelegramAPIURL != "http://127.0.0.1:1234" || cfg.WebhookURL != "" || cfg.ListenAddr != "" {
		t.Errorf("Telegram settings %q %q %q", cfg.TelegramAPIURL, cfg.WebhookURL, cfg.ListenAddr)
	}
	if cfg.DatabaseURL != "/tmp/demo.db" || len(cfg.AdminIDs) != 1 || cfg.AdminIDs[0] != demoMerchant.ID || cfg.QRTTL != time.Minute {
		t.Errorf("database %q admins %v ttl %s", cfg.DatabaseURL, cfg.AdminIDs, cfg.QRTTL)
	}
	if cfg.MerchantName != "Sokha Coffee" {
		t.Errorf("MERCHANT_NAME did not pass through: %q", cfg.MerchantName)
	}
}

func TestDemoUsageErrors(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--addr", "8080"}, exitUsage, `--addr "8080": want host:port`},
		{[]string{"--qr-ttl", "5s"}, exitUsage, "--qr-ttl 5s: want 10s to 10m"},
		{[]string{"extra"}, exitUsage, `unexpected argument "extra"`},
		{[]string{"--addr", busy.Addr().String()}, exitError, "address already in use (is another demo running? pick another port with --addr 127.0.0.1:0)"},
	} {
		code, _, stderr := runCmd(t, nil, append([]string{"demo"}, tc.args...)...)
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("demo %v: exit %d, stderr %q; want %d and %q", tc.args, code, stderr, tc.code, tc.want)
		}
	}
}
