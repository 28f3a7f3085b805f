package metrics

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/khqrbot/khqrbot/payments"
)

// Descriptions of the gauges read when scraped.
var (
	pendingQRsDesc = prometheus.NewDesc(namespace+"_qrs_pending",
		"QRs still pending: the reconciler polls them.", nil, nil)
	inReviewDesc = prometheus.NewDesc(namespace+"_payments_in_review",
		"Payments waiting for an admin to accept or reject them.", nil, nil)
	outboxWaitingDesc = prometheus.NewDesc(namespace+"_outbox_events_waiting",
		"Outbox events (message edits, notices) not delivered to Telegram yet.", nil, nil)
	outboxAgeDesc = prometheus.NewDesc(namespace+"_outbox_oldest_event_age_seconds",
		"Age of the oldest undelivered outbox event; 0 when none waits.", nil, nil)
	updatesWaitingDesc = prometheus.NewDesc(namespace+"_updates_waiting",
		"Telegram updates stored and not handled yet: queued or running on a replica, or left by one that died until a survivor takes them.", nil, nil)
	tokenExpiryDesc = prometheus.NewDesc(namespace+"_bakong_token_expiry_timestamp_seconds",
		"Unix time at which the Open API token expires.", nil, nil)
)

// backlogCollector reads the backlog from the database at each scrape, so
// the gauges are right across restarts and replicas.
type backlogCollector struct {
	read func(context.Context) (payments.Backlog, error)
	log  *slog.Logger
}

// Describe sends the backlog gauges' descriptions.
func (c *backlogCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- pendingQRsDesc
	ch <- inReviewDesc
	ch <- outboxWaitingDesc
	ch <- outboxAgeDesc
	ch <- updatesWaitingDesc
}

// Collect counts the backlog. When the database fails, the gauges are
// missing from the scrape (an error the handler reports), never zero.
func (c *backlogCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), backlogTimeout)
	defer cancel()
	b, err := c.read(ctx)
	if err == nil {
		err = b.Validate()
	}
	if err != nil {
		c.log.Warn("metrics: backlog", "err", err)
		ch <- prometheus.NewInvalidMetric(pendingQRsDesc, err)
		return
	}
	ch <- prometheus.MustNewConstMetric(pendingQRsDesc, prometheus.GaugeValue, float64(b.PendingQRs))
	ch <- prometheus.MustNewConstMetric(inReviewDesc, prometheus.GaugeValue, float64(b.InReview))
	ch <- prometheus.MustNewConstMetric(outboxWaitingDesc, prometheus.GaugeValue, float64(b.OutboxWaiting))
	ch <- prometheus.MustNewConstMetric(outboxAgeDesc, prometheus.GaugeValue, b.OldestAge().Seconds())
	ch <- prometheus.MustNewConstMetric(updatesWaitingDesc, prometheus.GaugeValue, float64(b.UpdatesWaiting))
}

// tokenCollector reports the token's expiry when it is known.
type tokenCollector struct{ expiry func() time.Time }

// Describe sends the token gauge's description.
func (c *tokenCollector) Describe(ch chan<- *prometheus.Desc) { ch <- tokenExpiryDesc }

// Collect sends the expiry, or nothing while it is unknown.
func (c *tokenCollector) Collect(ch chan<- prometheus.Metric) {
	if t := c.expiry(); !t.IsZero() {
		ch <- prometheus.MustNewConstMetric(tokenExpiryDesc, prometheus.GaugeValue, float64(t.Unix()))
	}
}
