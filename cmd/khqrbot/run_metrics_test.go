package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/khqrbot/khqrbot/internal/telegramtest"
	"github.com/khqrbot/khqrbot/payments/bakong/sim"
)

// scrapeMetrics GETs url and parses it with the client library's text parser.
func scrapeMetrics(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: the exposition does not parse: %v", url, err)
	}
	return fams
}

// sample is the value of family name's sample whose labels include want
// (a histogram's count), and whether there is one.
func sample(fams map[string]*dto.MetricFamily, name string, want ...string) (float64, bool) {
	for _, m := range fams[name].GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		match := true
		for i := 0; i < len(want); i += 2 {
			match = match && labels[want[i]] == want[i+1]
		}
		if !match {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue(), true
		case m.Gauge != nil:
			return m.GetGauge().GetValue(), true
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount()), true
		}
	}
	return 0, false
}

// TestRunMetrics: `khqrbot run` in live mode (the simulator as Bakong)
// serves /metrics on METRICS_ADDR and not on LISTEN_ADDR, and its counters
// move as the flow runs: a paid invoice moves settled by one, a Bakong 503
// moves its outcome's counter, a Telegram 429 its retry_after.
func TestRunMetrics(t *testing.T) {
	tg := telegramtest.New(t)
	s := sim.New(sim.Options{Accounts: []string{"shop@aclb"}})
	srv := httptest.NewServer(s)
	defer srv.Close()
	listen, metricsAddr := freeAddr(t), freeAddr(t)
	startRun(t, map[string]string{
		"TELEGRAM_BOT_TOKEN": tg.Token(),
		"TELEGRAM_API_URL":   tg.URL(),
		"BAKONG_API_URL":     srv.URL,
		"BAKONG_TOKEN":       s.IssueToken("shop@example.com"),
		"BAKONG_ACCOUNT_ID":  "shop@aclb",
		"MERCHANT_NAME":      "Sokha Coffee",
		"ADMIN_IDS":          "100",
		"DATABASE_URL":       filepath.Join(t.TempDir(), "bot.db"),
		"POLL_INTERVAL":      "1s",
		"LISTEN_ADDR":        listen,
		"METRICS_ADDR":       metricsAddr,
	})
	url := "http://" + metricsAddr + "/metrics"
	get := func(name string, labels ...string) float64 {
		v, _ := sample(scrapeMetrics(t, url), name, labels...)
		return v
	}
	// waitMetric polls /metrics (nothing signals a scrape-worthy change)
	// until family name's sample reaches want.
	waitMetric := func(want float64, name string, labels ...string) {
		t.Helper()
		var v float64
		for deadline := time.Now().Add(waitLong); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if v = get(name, labels...); v >= want {
				return
			}
		}
		t.Fatalf("%s%v = %v, never reached %v", name, labels, v, want)
	}

	tg.SendText(100, 100, "/start")
	waitBotText(t, tg, 100, "100")
	if resp, err := http.Get("http://" + listen + "/metrics"); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("/metrics on LISTEN_ADDR with METRICS_ADDR set: %v %v, want 404", resp.Status, err)
	}
	if get("khqrbot_invoices_settled_total", "currency", "USD", "source", "poll") != 0 {
		t.Fatal("an invoice settled before any was paid")
	}

	// A paid invoice moves settled by one.
	tg.SendText(100, 100, "/pay 5 coffee")
	m := waitPhoto(t, tg, 100, 1)
	var body struct{ QR string }
	for _, c := range s.Calls() {
		if c.Endpoint == "generate_deeplink_by_qr" {
			if err := json.Unmarshal([]byte(c.Body), &body); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := s.PayQR(body.QR, sim.Payment{}); err != nil {
		t.Fatal(err)
	}
	waitCaption(t, tg, 100, m.ID, "Paid")
	waitMetric(1, "khqrbot_invoices_settled_total", "currency", "USD", "source", "poll")
	fams := scrapeMetrics(t, url)
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"khqrbot_invoices_settled_total", []string{"currency", "USD", "source", "poll"}, 1},
		{"khqrbot_invoices_created_total", []string{"currency", "USD"}, 1},
		{"khqrbot_payments_recorded_total", []string{"status", "settled", "currency", "USD"}, 1},
		{"khqrbot_pay_to_settle_seconds", []string{"source", "poll"}, 1},
		{"khqrbot_bakong_requests_total", []string{"endpoint", "check_transaction_by_md5", "outcome", "found"}, 1},
		{"khqrbot_telegram_requests_total", []string{"method", "sendPhoto", "outcome", "ok"}, 1},
		{"khqrbot_payments_in_review", nil, 0},
	} {
		if got, ok := sample(fams, c.name, c.labels...); !ok || got != c.want {
			t.Errorf("%s%v = %v (present %v), want %v", c.name, c.labels, got, ok, c.want)
		}
	}
	if exp, ok := sample(fams, "khqrbot_bakong_token_expiry_timestamp_seconds"); !ok || time.Unix(int64(exp), 0).Before(time.Now()) {
		t.Errorf("token expiry %v (present %v), want a time ahead", exp, ok)
	}
	if _, ok := sample(fams, "khqrbot_reconciler_last_success_timestamp_seconds"); !ok {
		t.Error("no last successful cycle")
	}

	// An injected 503 moves the unavailable outcome's counter.
	if err := s.SetFault("check_transaction_by_md5", sim.Fault{Status: http.StatusServiceUnavailable, Count: 1}); err != nil {
		t.Fatal(err)
	}
	tg.SendText(100, 100, "/pay 6 tea")
	waitPhoto(t, tg, 100, 2)
	waitMetric(1, "khqrbot_bakong_requests_total", "endpoint", "check_transaction_by_md5", "outcome", "unavailable")
	waitMetric(1, "khqrbot_bakong_requests_total", "endpoint", "check_transaction_by_md5", "outcome", "not_found")
	if v := get("khqrbot_qrs_pending"); v != 1 {
		t.Errorf("pending QRs %v, want 1", v)
	}

	// A Telegram 429 is counted with its retry_after.
	tg.InjectError("sendMessage", http.StatusTooManyRequests, "", 1)
	tg.SendText(100, 100, "/help")
	waitMetric(1, "khqrbot_telegram_rate_limited_retry_after_seconds", "method", "sendMessage")
	waitMetric(1, "khqrbot_telegram_requests_total", "method", "sendMessage", "outcome", "rate_limited")
}
