package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"testing"
)

type stringer string

func (s stringer) String() string { return "stringer:" + string(s) }

type valuer string

func (v valuer) LogValue() slog.Value { return slog.GroupValue(slog.String("inner", string(v))) }

func TestLoggerRedactsSecrets(t *testing.T) {
	const (
		tgToken = "987654:AAHsecretTelegram"
		bkToken = "eyJhbGciOi.eyJleHAi.sig"
		hook    = "wh1" // short secrets are redacted too
	)
	for _, format := range []string{"text", "json"} {
		t.Run(format, func(t *testing.T) {
			cfg := &config{TelegramToken: tgToken, BakongToken: bkToken, WebhookSecret: hook, LogFormat: format, LogLevel: slog.LevelDebug}
			var out strings.Builder
			log := newLogger(&out, cfg)
			apiURL := "https://api.telegram.org/bot" + tgToken + "/getMe"
			wrapped := fmt.Errorf("get updates: %w", &url.Error{Op: "Post", URL: apiURL, Err: errors.New("EOF")})

			log.Info("calling "+apiURL, "url", apiURL)
			log.Error("poll failed", "err", wrapped, "escaped", url.QueryEscape(tgToken))
			log.Warn("bakong", slog.Group("req", slog.String("auth", "Bearer "+bkToken), slog.Group("deep", "secret", hook)))
			log.With("token", tgToken).WithGroup("g").Debug("with", "s", stringer(bkToken), "v", valuer(tgToken))
			log.Info("struct", "cfg", struct{ Token string }{bkToken}, "n", 42)

			got := out.String()
			for _, secret := range []string{tgToken, bkToken, hook, url.QueryEscape(tgToken)} {
				if strings.Contains(got, secret) {
					t.Errorf("log holds secret %q:\n%s", secret, got)
				}
			}
			if n := strings.Count(got, redacted); n < 10 {
				t.Errorf("%d redactions, want at least 10:\n%s", n, got)
			}
			for _, keep := range []string{"poll failed", "get updates", "api.telegram.org/bot", "Bearer", "stringer:", "42"} {
				if !strings.Contains(got, keep) {
					t.Errorf("log lost %q:\n%s", keep, got)
				}
			}
		})
	}
}

func TestLoggerLevel(t *testing.T) {
	var out strings.Builder
	log := newLogger(&out, &config{LogLevel: slog.LevelWarn, LogFormat: "text"})
	log.Info("hidden")
	log.Warn("shown")
	if got := out.String(); strings.Contains(got, "hidden") || !strings.Contains(got, "shown") {
		t.Errorf("level filter: %q", got)
	}
}

// TestRedactorOverlappingSecrets: a secret that begins with a shorter one
// is hidden whole, whatever order they come in.
func TestRedactorOverlappingSecrets(t *testing.T) {
	const short, long = "abc", "abcdef123456"
	for _, r := range []*redactor{newRedactor(short, long), newRedactor(long, short)} {
		got := r.String("token=" + long + " secret=" + short)
		if want := "token=" + redacted + " secret=" + redacted; got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
}

func TestRedactorWithoutSecrets(t *testing.T) {
	r := newRedactor("", "")
	if got := r.String("nothing to hide"); got != "nothing to hide" {
		t.Errorf("got %q", got)
	}
}
