// Package metrics exposes what khqrbot does as Prometheus metrics, for an
// operator's dashboards and alerts.
//
// The domain never sees Prometheus: Metrics implements payments.Observer
// (invoices, payments, settlements, reconciler cycles, the request budget),
// observes the Open API client through bakong.Options.Observer, wraps the
// Bot API client's transport (Transport), and counts what waits in the
// database when it is scraped (payments.Service.Backlog). cmd/khqrbot wires
// it; Handler serves the text exposition.
//
// Every label takes its value from a short fixed list, so the number of
// series is bounded whatever happens: an endpoint, method, currency or
// outcome outside its list is counted as "other". No label ever holds an
// md5, a hash, a chat id, an amount or a token.
package metrics

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/khqrbot/khqrbot/payments"
	"github.com/khqrbot/khqrbot/payments/bakong"
)

// namespace prefixes every metric of ours.
const namespace = "khqrbot"

// other is the label value of anything outside a label's list.
const other = "other"

// Options configures Metrics. Every field is optional.
type Options struct {
	// Replica names this process in a deployment of several; it becomes the
	// "replica" label of every metric. Empty: "default".
	Replica string
	// Version is the build's version, for khqrbot_build_info.
	Version string
	// Log receives scrape errors; nil discards.
	Log *slog.Logger
}

// Metrics is the domain's observer.
var _ payments.Observer = (*Metrics)(nil)

// backlogTimeout bounds the database reads of one scrape.
const backlogTimeout = 5 * time.Second

// Metrics holds khqrbot's metrics in a registry of its own. It is safe for
// concurrent use.
type Metrics struct {
	reg *prometheus.Registry
	r   prometheus.Registerer // reg, adding the replica label
	log *slog.Logger

	invoicesCreated  *prometheus.CounterVec
	invoicesSettled  *prometheus.CounterVec
	paymentsRecorded *prometheus.CounterVec
	payToSettle      *prometheus.HistogramVec

	bakongCalls      *prometheus.CounterVec
	bakongLatency    *prometheus.HistogramVec
	bakongRetryAfter prometheus.Histogram
	budgetWait       prometheus.Histogram

	telegramCalls      *prometheus.CounterVec
	telegramRetryAfter *prometheus.HistogramVec

	cycleDuration prometheus.Histogram
	lastSuccess   prometheus.Gauge
	cycleFailures prometheus.Counter
}

// New makes the metrics and registers them, with the Go runtime's and the
// process's, under o.Replica.
func New(o Options) *Metrics {
	if o.Replica == "" {
		o.Replica = "default"
	}
	if o.Version == "" {
		o.Version = "dev"
	}
	m := &Metrics{reg: prometheus.NewRegistry(), log: o.Log}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	m.r = prometheus.WrapRegistererWith(prometheus.Labels{"replica": o.Replica}, m.reg)
	f := factory{m.r}

	m.invoicesCreated = f.counterVec("invoices_created_total", "Invoices created, by currency.", "currency")
	m.invoicesSettled = f.counterVec("invoices_settled_total",
		"Invoices that became paid, by currency and by how the payment was found (poll, check, verify, review).", "currency", "source")
	m.paymentsRecorded = f.counterVec("payments_recorded_total",
		"Payments recorded from Bakong, by the status they got (settled, review, duplicate) and currency.", "status", "currency")
	m.payToSettle = f.histogramVec("pay_to_settle_seconds",
		"Time from the payment (Bakong's createdDateMs) to the invoice's settlement, by how it was found.",
		[]float64{.25, .5, 1, 2, 3, 5, 7.5, 10, 15, 20, 30, 45, 60, 120, 300, 900, 3600}, "source")

	m.bakongCalls = f.counterVec("bakong_requests_total",
		"Open API calls, by endpoint and outcome (ok, found, not_found, failed, or the error kind: rate_limited, unavailable, ...).", "endpoint", "outcome")
	m.bakongLatency = f.histogramVec("bakong_request_duration_seconds",
		"Open API call latency, by endpoint.", []float64{.05, .1, .2, .3, .5, .75, 1, 1.5, 2, 3, 5, 10, 15}, "endpoint")
	m.bakongRetryAfter = f.histogram("bakong_rate_limited_retry_after_seconds",
		"Retry-After of each Open API 429 (0 when absent); its count is the number of 429s.", []float64{0, 1, 2, 5, 10, 30, 60, 300})
	m.budgetWait = f.histogram("bakong_budget_wait_seconds",
		"How long a Bakong call waited for the request budget (BAKONG_MAX_RPS).", []float64{0, .05, .1, .2, .5, 1, 2, 5, 10})

	m.telegramCalls = f.counterVec("telegram_requests_total",
		"Bot API calls, by method and outcome (ok, bad_request, forbidden, rate_limited, server_error, transport_error, ...).", "method", "outcome")
	m.telegramRetryAfter = f.histogramVec("telegram_rate_limited_retry_after_seconds",
		"retry_after of each Bot API 429 (0 when absent), by method; its count is the number of 429s.", []float64{0, 1, 2, 5, 10, 30, 60, 300, 3600}, "method")

	m.cycleDuration = f.histogram("reconciler_cycle_duration_seconds",
		"Wall time of one reconciler cycle, successful or not.", []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60})
	m.lastSuccess = f.gauge("reconciler_last_success_timestamp_seconds",
		"Unix time at which the last successful reconciler cycle ended; 0 before the first.")
	m.cycleFailures = f.counter("reconciler_cycle_failures_total", "Reconciler cycles that ended with an error.")

	info := f.gaugeVec("build_info", "Always 1; the version khqrbot was built as.", "version")
	info.WithLabelValues(o.Version).Set(1)
	m.r.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	for _, c := range []payments.Currency{payments.KHR, payments.USD} {
		m.invoicesCreated.WithLabelValues(string(c)) // shown at 0 before the first invoice
	}
	return m
}

// CountBacklog adds the gauges of what waits in the database (pending QRs,
// payments in review, the outbox), which read counts at each scrape;
// payments.Service.Backlog reads them. Call it once.
func (m *Metrics) CountBacklog(read func(context.Context) (payments.Backlog, error)) {
	m.r.MustRegister(&backlogCollector{read: read, log: m.log})
}

// WatchToken adds the gauge of the Open API token's expiry, which expiry
// reports at each scrape; a zero time (unknown expiry) leaves it out. Call
// it once, in live mode only: the sandbox's token never expires.
func (m *Metrics) WatchToken(expiry func() time.Time) {
	m.r.MustRegister(&tokenCollector{expiry: expiry})
}

// Handler serves the metrics in Prometheus's text format (or OpenMetrics
// when asked). A scrape whose backlog query failed still gets every other
// metric.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorLog:          slog.NewLogLogger(m.log.Handler(), slog.LevelWarn),
		ErrorHandling:     promhttp.ContinueOnError,
		EnableOpenMetrics: true,
	})
}

// InvoiceCreated counts an invoice.
func (m *Metrics) InvoiceCreated(c payments.Currency) {
	m.invoicesCreated.WithLabelValues(currency(c)).Inc()
}

// PaymentRecorded counts a payment by the status it got.
func (m *Metrics) PaymentRecorded(s payments.PaymentStatus, c payments.Currency) {
	m.paymentsRecorded.WithLabelValues(oneOf(string(s), paymentStatuses), currency(c)).Inc()
}

// InvoiceSettled counts a settlement and observes its pay-to-settle time.
func (m *Metrics) InvoiceSettled(mo payments.Money, source string, delay time.Duration) {
	src := oneOf(source, sources)
	m.invoicesSettled.WithLabelValues(currency(mo.Currency), src).Inc()
	if delay > 0 {
		m.payToSettle.WithLabelValues(src).Observe(delay.Seconds())
	}
}

// CycleDone observes a reconciler cycle.
func (m *Metrics) CycleDone(d time.Duration, err error) {
	m.cycleDuration.Observe(d.Seconds())
	if err != nil {
		m.cycleFailures.Inc()
		return
	}
	m.lastSuccess.SetToCurrentTime()
}

// BudgetWait observes a wait for the request budget.
func (m *Metrics) BudgetWait(d time.Duration) { m.budgetWait.Observe(max(d, 0).Seconds()) }

// BakongCall observes one Open API exchange; it is a bakong.Options.Observer.
func (m *Metrics) BakongCall(c bakong.Call) {
	ep := oneOf(c.Endpoint, bakongEndpoints)
	m.bakongCalls.WithLabelValues(ep, oneOf(c.Outcome, bakongOutcomes)).Inc()
	m.bakongLatency.WithLabelValues(ep).Observe(max(c.Latency, 0).Seconds())
	if c.HTTPStatus == http.StatusTooManyRequests {
		m.bakongRetryAfter.Observe(max(c.RetryAfter, 0).Seconds())
	}
}

// Observers combines Open API observers (the call log, the metrics) into
// one bakong.Options.Observer; nil ones are skipped.
func Observers(fs ...func(bakong.Call)) func(bakong.Call) {
	fs = slices.DeleteFunc(fs, func(f func(bakong.Call)) bool { return f == nil })
	return func(c bakong.Call) {
		for _, f := range fs {
			f(c)
		}
	}
}

// Label lists. A value outside its list becomes "other".
var (
	paymentStatuses = []string{string(payments.PaymentSettled), string(payments.PaymentReview), string(payments.PaymentDuplicate)}
	sources         = []string{payments.SourcePoll, payments.SourceCheck, payments.SourceVerify, payments.SourceReview}
)

// bakongEndpoints and bakongOutcomes list Call.Endpoint's and Call.Outcome's
// values, built once rather than at every call observed.
var (
	bakongEndpoints = bakong.Endpoints()
	bakongOutcomes  = func() []string {
		out := []string{bakong.OutcomeOK, bakong.OutcomeFound, bakong.OutcomeNotFound, bakong.OutcomeFailed}
		for _, k := range bakong.Kinds() {
			out = append(out, string(k))
		}
		return out
	}()
)

func currency(c payments.Currency) string {
	if c.Validate() != nil {
		return other
	}
	return string(c)
}

func oneOf(v string, list []string) string {
	if slices.Contains(list, v) {
		return v
	}
	return other
}

// factory makes metrics in our namespace and registers them with r.
type factory struct{ r prometheus.Registerer }

// register registers c with r and returns it.
func register[C prometheus.Collector](r prometheus.Registerer, c C) C {
	r.MustRegister(c)
	return c
}

func (f factory) counter(name, help string) prometheus.Counter {
	return register(f.r, prometheus.NewCounter(prometheus.CounterOpts{Namespace: namespace, Name: name, Help: help}))
}

func (f factory) counterVec(name, help string, labels ...string) *prometheus.CounterVec {
	return register(f.r, prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: name, Help: help}, labels))
}

func (f factory) gauge(name, help string) prometheus.Gauge {
	return register(f.r, prometheus.NewGauge(prometheus.GaugeOpts{Namespace: namespace, Name: name, Help: help}))
}

func (f factory) gaugeVec(name, help string, labels ...string) *prometheus.GaugeVec {
	return register(f.r, prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: namespace, Name: name, Help: help}, labels))
}

func (f factory) histogram(name, help string, buckets []float64) prometheus.Histogram {
	return register(f.r, prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: namespace, Name: name, Help: help, Buckets: buckets}))
}

func (f factory) histogramVec(name, help string, buckets []float64, labels ...string) *prometheus.HistogramVec {
	return register(f.r, prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: namespace, Name: name, Help: help, Buckets: buckets}, labels))
}
