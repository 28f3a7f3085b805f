package metrics_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/khqrbot/khqrbot/metrics"
	"github.com/khqrbot/khqrbot/payments"
	"github.com/khqrbot/khqrbot/payments/bakong"
)

var expiry = time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)

func newMetrics(t *testing.T, backlog func(context.Context) (payments.Backlog, error)) *metrics.Metrics {
	t.Helper()
	m := metrics.New(metrics.Options{Replica: "r1", Version: "v1.2.3"})
	if backlog != nil {
		m.CountBacklog(backlog)
	}
	m.WatchToken(func() time.Time { return expiry })
	return m
}

func someBacklog(context.Context) (payments.Backlog, error) {
	at := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	return payments.Backlog{PendingQRs: 3, InReview: 1, OutboxWaiting: 2, OldestWaiting: at.Add(-90 * time.Second), UpdatesWaiting: 4, CountedAt: at}, nil
}

// scrape GETs /metrics and parses it with the client library's text parser.
func scrape(t *testing.T, h http.Handler) map[string]*dto.MetricFamily {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("Content-Type %q, want the text format", ct)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("exposition does not parse: %v", err)
	}
	return fams
}

// value is the value of family name's sample whose labels include want.
func value(t *testing.T, fams map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	t.Helper()
	f, ok := fams[name]
	if !ok {
		t.Fatalf("no family %s", name)
	}
	for _, m := range f.GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		match := true
		for k, v := range want {
			match = match && labels[k] == v
		}
		if !match {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue()
		case m.Gauge != nil:
			return m.GetGauge().GetValue()
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount())
		case m.Untyped != nil:
			return m.GetUntyped().GetValue()
		}
	}
	t.Fatalf("%s has no sample with %v", name, want)
	return 0
}

func TestExposition(t *testing.T) {
	m := newMetrics(t, someBacklog)
	m.InvoiceCreated(payments.USD)
	m.InvoiceCreated(payments.USD)
	m.InvoiceCreated(payments.KHR)
	m.PaymentRecorded(payments.PaymentSettled, payments.USD)
	m.InvoiceSettled(payments.Money{Amount: 500, Currency: payments.USD}, payments.SourcePoll, 4*time.Second)
	m.BakongCall(bakong.Call{Endpoint: "check_transaction_by_md5_list", Outcome: bakong.OutcomeOK, Latency: 80 * time.Millisecond, HTTPStatus: 200})
	m.BakongCall(bakong.Call{Endpoint: "check_transaction_by_md5_list", Outcome: string(bakong.KindUnavailable), HTTPStatus: 503})
	m.BakongCall(bakong.Call{Endpoint: "check_transaction_by_md5", Outcome: string(bakong.KindRateLimited), HTTPStatus: 429, RetryAfter: 3 * time.Second})
	m.BudgetWait(200 * time.Millisecond)
	m.CycleDone(30*time.Millisecond, nil)
	m.CycleDone(time.Second, errors.New("database is locked"))

	fams := scrape(t, m.Handler())
	r := map[string]string{"replica": "r1"}
	with := func(kv ...string) map[string]string {
		l := map[string]string{"replica": "r1"}
		for i := 0; i < len(kv); i += 2 {
			l[kv[i]] = kv[i+1]
		}
		return l
	}
	tests := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"khqrbot_invoices_created_total", with("currency", "USD"), 2},
		{"khqrbot_invoices_created_total", with("currency", "KHR"), 1},
		{"khqrbot_invoices_settled_total", with("currency", "USD", "source", "poll"), 1},
		{"khqrbot_payments_recorded_total", with("status", "settled", "currency", "USD"), 1},
		{"khqrbot_pay_to_settle_seconds", with("source", "poll"), 1},
		{"khqrbot_bakong_requests_total", with("endpoint", "check_transaction_by_md5_list", "outcome", "ok"), 1},
		{"khqrbot_bakong_requests_total", with("endpoint", "check_transaction_by_md5_list", "outcome", "unavailable"), 1},
		{"khqrbot_bakong_requests_total", with("endpoint", "check_transaction_by_md5", "outcome", "rate_limited"), 1},
		{"khqrbot_bakong_request_duration_seconds", with("endpoint", "check_transaction_by_md5_list"), 2},
		{"khqrbot_bakong_rate_limited_retry_after_seconds", r, 1},
		{"khqrbot_bakong_budget_wait_seconds", r, 1},
		{"khqrbot_reconciler_cycle_duration_seconds", r, 2},
		{"khqrbot_reconciler_cycle_failures_total", r, 1},
		{"khqrbot_qrs_pending", r, 3},
		{"khqrbot_payments_in_review", r, 1},
		{"khqrbot_outbox_events_waiting", r, 2},
		{"khqrbot_outbox_oldest_event_age_seconds", r, 90},
		{"khqrbot_updates_waiting", r, 4},
		{"khqrbot_bakong_token_expiry_timestamp_seconds", r, float64(expiry.Unix())},
		{"khqrbot_build_info", with("version", "v1.2.3"), 1},
	}
	for _, tt := range tests {
		if got := value(t, fams, tt.name, tt.labels); got != tt.want {
			t.Errorf("%s%v = %v, want %v", tt.name, tt.labels, got, tt.want)
		}
	}
	if last := value(t, fams, "khqrbot_reconciler_last_success_timestamp_seconds", r); time.Since(time.Unix(int64(last), 0)) > time.Minute {
		t.Errorf("last success %v: want about now", last)
	}
	if _, ok := fams["go_goroutines"]; !ok {
		t.Error("no Go runtime metrics")
	}
	for name, f := range fams {
		for _, s := range f.GetMetric() {
			if !slices.ContainsFunc(s.GetLabel(), func(l *dto.LabelPair) bool { return l.GetName() == "replica" && l.GetValue() == "r1" }) {
				t.Errorf("%s: a sample without the replica label", name)
			}
		}
	}
}

// TestBacklogFailure: a database that fails leaves the backlog gauges out
// of the scrape, never reports them as 0, and keeps every other metric.
func TestBacklogFailure(t *testing.T) {
	m := newMetrics(t, func(context.Context) (payments.Backlog, error) {
		return payments.Backlog{}, errors.New("disk I/O error")
	})
	m.InvoiceCreated(payments.KHR)
	fams := scrape(t, m.Handler())
	if _, ok := fams["khqrbot_qrs_pending"]; ok {
		t.Error("pending QRs reported although the database failed")
	}
	if got := value(t, fams, "khqrbot_invoices_created_total", map[string]string{"currency": "KHR"}); got != 1 {
		t.Errorf("invoices created = %v", got)
	}
}

// TestNoToken: with no known expiry (sandbox) there is no token gauge, so
// the "expiring within 7 days" alert cannot fire on a 0.
func TestNoToken(t *testing.T) {
	m := metrics.New(metrics.Options{})
	m.WatchToken(func() time.Time { return time.Time{} })
	if _, ok := scrape(t, m.Handler())["khqrbot_bakong_token_expiry_timestamp_seconds"]; ok {
		t.Error("token expiry reported while unknown")
	}
}

// botAPI answers like the Bot API: 429 with retry_after for sendMessage,
// 400 for editMessageText, ok otherwise.
func botAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	switch {
	case strings.HasSuffix(r.URL.Path, "/sendMessage"):
		w.WriteHeader(http.StatusTooManyRequests)
		io.WriteString(w, `{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 7","parameters":{"retry_after":7}}`)
	case strings.HasSuffix(r.URL.Path, "/editMessageText"):
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"ok":false,"error_code":400,"description":"Bad Request: message is not modified"}`)
	default:
		io.WriteString(w, `{"ok":true,"result":true}`)
	}
}

func TestTelegramTransport(t *testing.T) {
	api := httptest.NewServer(http.HandlerFunc(botAPI))
	defer api.Close()
	m := newMetrics(t, nil)
	hc := &http.Client{Transport: m.Transport(nil)}
	const token = "123456:SECRET-token"
	call := func(method string) string {
		resp, err := hc.Post(api.URL+"/bot"+token+"/"+method, "application/json", strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	if body := call("sendMessage"); !strings.Contains(body, `"retry_after":7`) {
		t.Errorf("the caller lost the 429's body: %q", body)
	}
	call("sendMessage")
	call("editMessageText")
	call("getMe")
	call("getme")
	call("someNewMethod")
	dead := &http.Client{Transport: m.Transport(failing{})}
	if _, err := dead.Get(api.URL + "/bot" + token + "/getUpdates"); err == nil {
		t.Fatal("no transport error")
	}

	fams := scrape(t, m.Handler())
	tests := []struct {
		method, outcome string
		want            float64
	}{
		{"sendMessage", "rate_limited", 2},
		{"editMessageText", "bad_request", 1},
		{"getMe", "ok", 2},
		{"other", "ok", 1},
		{"getUpdates", "transport_error", 1},
	}
	for _, tt := range tests {
		if got := value(t, fams, "khqrbot_telegram_requests_total", map[string]string{"method": tt.method, "outcome": tt.outcome}); got != tt.want {
			t.Errorf("%s %s = %v, want %v", tt.method, tt.outcome, got, tt.want)
		}
	}
	h := fams["khqrbot_telegram_rate_limited_retry_after_seconds"].GetMetric()[0].GetHistogram()
	if h.GetSampleCount() != 2 || h.GetSampleSum() != 14 {
		t.Errorf("retry_after: %d samples summing to %v, want 2 and 14", h.GetSampleCount(), h.GetSampleSum())
	}
}

type failing struct{}

func (failing) RoundTrip(*http.Request) (*http.Response, error) {
	return nil, errors.New("connection refused")
}

// allowed lists every value each label may take. A label missing here, or
// a value outside its list, fails TestLabelsBounded: each must come from a
// short fixed list, never from data (md5s, hashes, chat ids, amounts,
// tokens, URLs).
func allowed() map[string][]string {
	outcomes := []string{"ok", "found", "not_found", "failed", "other"}
	for _, k := range bakong.Kinds() {
		outcomes = append(outcomes, string(k))
	}
	return map[string][]string{
		"replica":  {"r1"},
		"version":  {"v1.2.3", runtime.Version()}, // ours, and go_info's
		"currency": {"USD", "KHR", "other"},
		"source":   {"poll", "check", "verify", "review", "other"},
		"status":   {"settled", "review", "duplicate", "other"},
		"endpoint": append(bakong.Endpoints(), "other"),
		"outcome": append(outcomes, "bad_request", "unauthorized", "forbidden", "not_found", "conflict",
			"rate_limited", "server_error", "transport_error"),
		"method": {"getMe", "getUpdates", "setWebhook", "deleteWebhook", "getWebhookInfo",
			"sendMessage", "sendPhoto", "sendDocument", "sendChatAction",
			"editMessageText", "editMessageCaption", "editMessageMedia", "editMessageReplyMarkup", "deleteMessage",
			"answerCallbackQuery", "setMyCommands", "deleteMyCommands", "setChatMenuButton",
			"setMyDescription", "setMyShortDescription", "getChat", "getChatMember", "getChatAdministrators",
			"getFile", "close", "logOut", "other"},
		// Labels of the Go runtime and process collectors.
		"le": nil, "quantile": nil, "go_version": nil,
	}
}

// TestLabelsBounded feeds the metrics everything hostile or unexpected
// that could reach a label, then checks every label of every sample
// against allowed.
func TestLabelsBounded(t *testing.T) {
	m := newMetrics(t, someBacklog)
	const md5 = "0123456789abcdef0123456789abcdef"
	for i := range 50 {
		m.InvoiceCreated(payments.Currency(fmt.Sprintf("X%02d", i)))
		m.PaymentRecorded(payments.PaymentStatus(md5), payments.Currency("usd"))
		m.InvoiceSettled(payments.Money{Amount: int64(i), Currency: "EUR"}, fmt.Sprintf("source-%d", i), time.Duration(i)*time.Second)
		m.BakongCall(bakong.Call{Endpoint: fmt.Sprintf("check_%d", i), Outcome: md5, Key: md5, RequestID: fmt.Sprint(i), Err: "Bearer sekrit"})
		m.BakongCall(bakong.Call{Endpoint: "check_transaction_by_md5", Outcome: fmt.Sprintf("kind-%d", i), Key: md5})
	}
	api := httptest.NewServer(http.HandlerFunc(botAPI))
	defer api.Close()
	hc := &http.Client{Transport: m.Transport(nil)}
	for _, p := range []string{
		"/bot1:SECRET/sendMessage", "/bot1:SECRET/" + md5, "/bot1:SECRET/", "/bot1:SECRET", "/",
		"/file/bot1:SECRET/photos/file_1.jpg", "/bot1:SECRET/sendMessage/extra?chat_id=42",
		"/bot1:SECRET/SENDPHOTO", "/bot1:SECRET/getUpdates%2F..",
	} {
		resp, err := hc.Get(api.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}

	ok := allowed()
	fams := scrape(t, m.Handler())
	for name, f := range fams {
		for _, s := range f.GetMetric() {
			for _, l := range s.GetLabel() {
				vals, known := ok[l.GetName()]
				switch {
				case !known:
					t.Errorf("%s: label %q has no bounded list in allowed()", name, l.GetName())
				case vals != nil && !slices.Contains(vals, l.GetValue()):
					t.Errorf("%s: label %s=%q is outside its list", name, l.GetName(), l.GetValue())
				}
				if strings.Contains(l.GetValue(), "SECRET") || strings.Contains(l.GetValue(), md5) {
					t.Errorf("%s: label %s=%q leaks data", name, l.GetName(), l.GetValue())
				}
			}
		}
	}
}

func TestObservers(t *testing.T) {
	var got []string
	obs := metrics.Observers(nil, func(c bakong.Call) { got = append(got, "log "+c.Endpoint) }, func(c bakong.Call) { got = append(got, "metrics "+c.Endpoint) })
	obs(bakong.Call{Endpoint: "verify"})
	if !slices.Equal(got, []string{"log verify", "metrics verify"}) {
		t.Errorf("observed %q", got)
	}
}
