package main

import (
	"errors"
	"flag"
	"io"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/khqrbot/khqrbot/payments/khqr"
)

const testToken = "123456:TEST-secret_token"

func mapenv(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// live is a complete live-mode environment.
func live() map[string]string {
	return map[string]string{
		"TELEGRAM_BOT_TOKEN": testToken,
		"BAKONG_TOKEN":       "eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjE4MDAwMDAwMDB9.c2ln",
		"BAKONG_ACCOUNT_ID":  "shop@aclb",
		"MERCHANT_NAME":      "Sokha Coffee",
		"ADMIN_IDS":          "111",
	}
}

func sandbox() map[string]string { return map[string]string{"TELEGRAM_BOT_TOKEN": testToken} }

func with(base map[string]string, kv ...string) map[string]string {
	for i := 0; i < len(kv); i += 2 {
		base[kv[i]] = kv[i+1]
	}
	return base
}

func load(t *testing.T, env map[string]string, args ...string) (*config, error) {
	t.Helper()
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return loadConfig(mapenv(env), fs, args, true)
}

// problemVars returns the variables a configError names, in order.
func problemVars(err error) []string {
	var cerr *configError
	if !errors.As(err, &cerr) {
		return nil
	}
	var vars []string
	for _, p := range cerr.Problems {
		vars = append(vars, p.Var)
	}
	return vars
}

func TestConfigSandboxDefaults(t *testing.T) {
	cfg, err := load(t, sandbox())
	if err != nil {
		t.Fatal(err)
	}
	want := &config{
		TelegramToken:   testToken,
		TelegramAPIURL:  "https://api.telegram.org",
		BakongAPIURL:    "https://api-bakong.nbc.gov.kh",
		BakongAccountID: "sandbox@khqr",
		BakongMaxRPS:    5,
		MerchantName:    "khqrbot sandbox",
		MerchantCity:    "Phnom Penh",
		DefaultCurrency: khqr.USD,
		DatabaseURL:     "khqrbot.db",
		QRTTL:           10 * time.Minute,
		PollInterval:    3 * time.Second,
		LogLevel:        slog.LevelInfo,
		LogFormat:       "text",
		Sandbox:         true,
	}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("sandbox defaults\n got %+v\nwant %+v", cfg, want)
	}
}

func TestConfigLive(t *testing.T) {
	cfg, err := load(t, with(live(),
		"TELEGRAM_API_URL", "http://127.0.0.1:8081/",
		"BAKONG_API_URL", "https://sit-api-bakong.nbc.gov.kh/",
		"BAKONG_EMAIL", "owner@example.com",
		"BAKONG_PROXY_URL", "http://user:pw@proxy.example.kh:3128",
		"BAKONG_MAX_RPS", "100",
		"MERCHANT_CITY", "Siem Reap",
		"MERCHANT_ID", "123456",
		"ACQUIRING_BANK", "Dev Bank",
		"DEFAULT_CURRENCY", "khr",
		"DATABASE_URL", "/data/khqrbot.db",
		"ADMIN_IDS", " 111, 222,111 ,",
		"QR_TTL", "90s",
		"POLL_INTERVAL", "1m",
		"LISTEN_ADDR", ":8080",
		"WEBHOOK_URL", "https://bot.example.com/tg",
		"WEBHOOK_SECRET", "s3cret_-X",
		"LOG_LEVEL", "DEBUG",
		"LOG_FORMAT", "json",
	))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Sandbox || cfg.TelegramAPIURL != "http://127.0.0.1:8081" || cfg.BakongAPIURL != "https://sit-api-bakong.nbc.gov.kh" ||
		cfg.BakongEmail != "owner@example.com" || cfg.BakongProxyURL != "http://user:pw@proxy.example.kh:3128" ||
		cfg.BakongMaxRPS != 100 || cfg.MerchantName != "Sokha Coffee" || cfg.MerchantCity != "Siem Reap" ||
		cfg.MerchantID != "123456" || cfg.AcquiringBank != "Dev Bank" || cfg.DefaultCurrency != khqr.KHR ||
		cfg.DatabaseURL != "/data/khqrbot.db" || !slices.Equal(cfg.AdminIDs, []int64{111, 222}) ||
		cfg.QRTTL != 90*time.Second || cfg.PollInterval != time.Minute || cfg.ListenAddr != ":8080" ||
		cfg.WebhookURL != "https://bot.example.com/tg" || cfg.WebhookSecret != "s3cret_-X" ||
		cfg.LogLevel != slog.LevelDebug || cfg.LogFormat != "json" || cfg.BakongAccountID != "shop@aclb" {
		t.Errorf("live config %+v", cfg)
	}
}

func TestConfigRules(t *testing.T) {
	long := func(s string, n int) string { return strings.Repeat(s, n) }
	for _, tc := range []struct {
		name string
		env  map[string]string
		bad  []string // the variables reported, in order; nil: valid
	}{
		{"no telegram token", map[string]string{}, []string{"TELEGRAM_BOT_TOKEN"}},
		{"telegram token format", with(sandbox(), "TELEGRAM_BOT_TOKEN", "abc"), []string{"TELEGRAM_BOT_TOKEN"}},
		{"telegram token short ok", with(sandbox(), "TELEGRAM_BOT_TOKEN", "123:abc"), nil},
		{"live needs account, name, admins", with(sandbox(), "BAKONG_TOKEN", "x.y.z"), []string{"BAKONG_ACCOUNT_ID", "MERCHANT_NAME", "ADMIN_IDS"}},
		{"live complete", live(), nil},
		{"bakong token with space", with(live(), "BAKONG_TOKEN", "a b"), []string{"BAKONG_TOKEN"}},
		{"telegram url scheme", with(sandbox(), "TELEGRAM_API_URL", "ftp://api.telegram.org"), []string{"TELEGRAM_API_URL"}},
		{"bakong url no scheme", with(sandbox(), "BAKONG_API_URL", "api-bakong.nbc.gov.kh"), []string{"BAKONG_API_URL"}},
		{"proxy no host", with(sandbox(), "BAKONG_PROXY_URL", "http://"), []string{"BAKONG_PROXY_URL"}},
		{"proxy https", with(sandbox(), "BAKONG_PROXY_URL", "https://proxy.example.kh:443"), nil},
		{"rps 0", with(sandbox(), "BAKONG_MAX_RPS", "0"), []string{"BAKONG_MAX_RPS"}},
		{"rps 101", with(sandbox(), "BAKONG_MAX_RPS", "101"), []string{"BAKONG_MAX_RPS"}},
		{"rps word", with(sandbox(), "BAKONG_MAX_RPS", "five"), []string{"BAKONG_MAX_RPS"}},
		{"rps 1", with(sandbox(), "BAKONG_MAX_RPS", "1"), nil},
		{"email", with(sandbox(), "BAKONG_EMAIL", "not-an-email"), []string{"BAKONG_EMAIL"}},
		{"email with name", with(sandbox(), "BAKONG_EMAIL", "Bob <bob@example.com>"), []string{"BAKONG_EMAIL"}},
		{"account without @", with(live(), "BAKONG_ACCOUNT_ID", "shop"), []string{"BAKONG_ACCOUNT_ID"}},
		{"account 33 long", with(live(), "BAKONG_ACCOUNT_ID", long("a", 28)+"@aclb"), []string{"BAKONG_ACCOUNT_ID"}},
		{"account in sandbox", with(sandbox(), "BAKONG_ACCOUNT_ID", "me@wing"), nil},
		{"merchant name 26", with(live(), "MERCHANT_NAME", long("a", 26)), []string{"MERCHANT_NAME"}},
		{"merchant name 25 khmer", with(live(), "MERCHANT_NAME", long("ក", 25)), nil},
		{"merchant name emoji counts 2", with(live(), "MERCHANT_NAME", long("😀", 13)), []string{"MERCHANT_NAME"}},
		{"merchant city 16", with(sandbox(), "MERCHANT_CITY", long("c", 16)), []string{"MERCHANT_CITY"}},
		{"merchant id alone", with(sandbox(), "MERCHANT_ID", "1"), []string{"ACQUIRING_BANK"}},
		{"acquiring bank alone", with(sandbox(), "ACQUIRING_BANK", "Bank"), []string{"MERCHANT_ID"}},
		{"merchant id 33", with(sandbox(), "MERCHANT_ID", long("1", 33), "ACQUIRING_BANK", "B"), []string{"MERCHANT_ID"}},
		{"currency EUR", with(sandbox(), "DEFAULT_CURRENCY", "EUR"), []string{"DEFAULT_CURRENCY"}},
		{"currency numeric", with(sandbox(), "DEFAULT_CURRENCY", "116"), nil},
		{"postgres", with(sandbox(), "DATABASE_URL", "postgres://u:p@h:5432/db?sslmode=require"), nil},
		{"postgresql", with(sandbox(), "DATABASE_URL", "postgresql://h/db"), nil},
		{"mysql", with(sandbox(), "DATABASE_URL", "mysql://u@h/db"), []string{"DATABASE_URL"}},
		{"sqlite file url", with(sandbox(), "DATABASE_URL", "file:///data/k.db?_busy_timeout=1"), nil},
		{"admins garbage", with(live(), "ADMIN_IDS", "111,bob"), []string{"ADMIN_IDS"}},
		{"admins negative", with(live(), "ADMIN_IDS", "-5"), []string{"ADMIN_IDS"}},
		{"admins only commas", with(live(), "ADMIN_IDS", ",,"), []string{"ADMIN_IDS"}},
		{"admins in sandbox", with(sandbox(), "ADMIN_IDS", "7"), nil},
		{"ttl 9s", with(sandbox(), "QR_TTL", "9s"), []string{"QR_TTL"}},
		{"ttl 11m", with(sandbox(), "QR_TTL", "11m"), []string{"QR_TTL"}},
		{"ttl no unit", with(sandbox(), "QR_TTL", "60"), []string{"QR_TTL"}},
		{"ttl 10s", with(sandbox(), "QR_TTL", "10s"), nil},
		{"poll 500ms", with(sandbox(), "POLL_INTERVAL", "500ms"), []string{"POLL_INTERVAL"}},
		{"poll 61s", with(sandbox(), "POLL_INTERVAL", "61s"), []string{"POLL_INTERVAL"}},
		{"listen no port", with(sandbox(), "LISTEN_ADDR", "8080"), []string{"LISTEN_ADDR"}},
		{"listen big port", with(sandbox(), "LISTEN_ADDR", "127.0.0.1:70000"), []string{"LISTEN_ADDR"}},
		{"metrics alone", with(sandbox(), "METRICS_ADDR", "127.0.0.1:9090"), nil},
		{"metrics no port", with(sandbox(), "METRICS_ADDR", "9090"), []string{"METRICS_ADDR"}},
		{"metrics on listen", with(sandbox(), "LISTEN_ADDR", ":8080", "METRICS_ADDR", ":8080"), []string{"METRICS_ADDR"}},
		{"webhook alone", with(sandbox(), "WEBHOOK_URL", "https://bot.example.com/x"), []string{"LISTEN_ADDR", "WEBHOOK_SECRET"}},
		{"webhook http public", with(sandbox(), "WEBHOOK_URL", "http://bot.example.com/x", "WEBHOOK_SECRET", "s", "LISTEN_ADDR", ":1"), []string{"WEBHOOK_URL"}},
		{"webhook http loopback", with(sandbox(), "WEBHOOK_URL", "http://127.0.0.1:9/x", "WEBHOOK_SECRET", "s", "LISTEN_ADDR", ":1"), nil},
		{"webhook secret chars", with(sandbox(), "WEBHOOK_URL", "https://b.example.com", "WEBHOOK_SECRET", "a b", "LISTEN_ADDR", ":1"), []string{"WEBHOOK_SECRET"}},
		{"webhook secret 257", with(sandbox(), "WEBHOOK_URL", "https://b.example.com", "WEBHOOK_SECRET", long("a", 257), "LISTEN_ADDR", ":1"), []string{"WEBHOOK_SECRET"}},
		{"webhook secret 256", with(sandbox(), "WEBHOOK_URL", "https://b.example.com", "WEBHOOK_SECRET", long("a", 256), "LISTEN_ADDR", ":1"), nil},
		{"log level", with(sandbox(), "LOG_LEVEL", "verbose"), []string{"LOG_LEVEL"}},
		{"log level warning", with(sandbox(), "LOG_LEVEL", "warning"), nil},
		{"log format", with(sandbox(), "LOG_FORMAT", "xml"), []string{"LOG_FORMAT"}},
		{"several at once", with(live(), "BAKONG_MAX_RPS", "0", "QR_TTL", "1h", "LOG_FORMAT", "xml", "ADMIN_IDS", ""),
			[]string{"BAKONG_MAX_RPS", "ADMIN_IDS", "QR_TTL", "LOG_FORMAT"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := load(t, tc.env)
			if got := problemVars(err); !slices.Equal(got, tc.bad) {
				t.Fatalf("problems %v, want %v (err %v)", got, tc.bad, err)
			}
			if tc.bad == nil && (err != nil || cfg == nil) {
				t.Fatalf("cfg %v err %v", cfg, err)
			}
			if tc.bad != nil && cfg != nil {
				t.Errorf("loadConfig returned a config with an error")
			}
		})
	}
}

func TestConfigErrorText(t *testing.T) {
	env := with(live(), "BAKONG_TOKEN", "secret token", "BAKONG_MAX_RPS", "0", "DATABASE_URL", "mysql://bob:dbpass@x/db",
		"BAKONG_PROXY_URL", "socks5://bob:hunter2@proxy.example.kh:1080")
	env["TELEGRAM_BOT_TOKEN"] = "notatoken"
	_, err := load(t, env)
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	for _, want := range []string{
		"invalid configuration (5 problems):",
		`BAKONG_PROXY_URL="socks5://bob:xxxxx@proxy.example.kh:1080": want an http:// or https:// URL with a host`,
		"TELEGRAM_BOT_TOKEN=(set): want the bot token from @BotFather",
		"BAKONG_TOKEN=(set): want",
		`BAKONG_MAX_RPS="0": want a whole number from 1 to 100`,
		`DATABASE_URL="mysql://bob:xxxxx@x/db": want a SQLite file path such as khqrbot.db, a file: URL, or a postgres:// URL`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	for _, secret := range []string{"notatoken", "secret token", "hunter2", "dbpass"} {
		if strings.Contains(msg, secret) {
			t.Errorf("error shows a secret %q:\n%s", secret, msg)
		}
	}

	_, err = load(t, map[string]string{})
	if want := "TELEGRAM_BOT_TOKEN is not set: want the bot token from @BotFather"; !strings.Contains(err.Error(), want) {
		t.Errorf("missing token: %v", err)
	}
}

func TestConfigFlags(t *testing.T) {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	md5 := fs.String("md5", "", "md5 to check")
	cfg, err := loadConfig(mapenv(with(sandbox(), "BAKONG_MAX_RPS", "5")), fs,
		[]string{"-md5", "abc", "--bakong-max-rps", "7", "--telegram-bot-token=9:flag", "rest", "x"}, true)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.BakongMaxRPS != 7 || cfg.TelegramToken != "9:flag" || *md5 != "abc" || !slices.Equal(fs.Args(), []string{"rest", "x"}) {
		t.Errorf("cfg %+v md5 %q args %v", cfg, *md5, fs.Args())
	}

	_, err = load(t, sandbox(), "--qr-ttl", "1h")
	var cerr *configError
	if !errors.As(err, &cerr) || cerr.Problems[0].Source != "--qr-ttl" || !strings.Contains(err.Error(), `--qr-ttl (QR_TTL)="1h"`) {
		t.Errorf("flag problem: %v", err)
	}

	// An empty flag does not hide the environment's value.
	cfg, err = load(t, with(sandbox(), "MERCHANT_CITY", "Kampot"), "--log-level", "warn")
	if err != nil || cfg.MerchantCity != "Kampot" || cfg.LogLevel != slog.LevelWarn {
		t.Errorf("cfg %+v err %v", cfg, err)
	}

	if _, err := load(t, sandbox(), "-h"); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: %v", err)
	}
	if _, err := load(t, sandbox(), "--no-such-flag"); err == nil || errors.As(err, &cerr) {
		t.Errorf("unknown flag: %v", err)
	}
	if code := exitConfig(io.Discard, flag.ErrHelp); code != 0 {
		t.Errorf("exitConfig(ErrHelp) = %d", code)
	}
	var out strings.Builder
	_, err = load(t, map[string]string{})
	if code := exitConfig(&out, err); code != 2 || !strings.Contains(out.String(), "TELEGRAM_BOT_TOKEN") {
		t.Errorf("exitConfig = %d %q", code, out.String())
	}
}

func TestConfigUsageListsEverySetting(t *testing.T) {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	var out strings.Builder
	fs.SetOutput(&out)
	fs.Bool("dry", false, "do nothing")
	if _, err := loadConfig(mapenv(sandbox()), fs, []string{"-h"}, true); !errors.Is(err, flag.ErrHelp) {
		t.Fatal(err)
	}
	help := out.String()
	for _, s := range configSettings {
		if !strings.Contains(help, s.env) {
			t.Errorf("help lacks %s", s.env)
		}
	}
	for _, want := range []string{"Usage: khqrbot run [flags]", "run the bot", "-dry", "--telegram-bot-token", "https://api-bakong.nbc.gov.kh"} {
		if !strings.Contains(help, want) {
			t.Errorf("help lacks %q:\n%s", want, help)
		}
	}
}
