package storage

import (
	"context"
	"errors"

	"gorm.io/gorm"

	"github.com/khqrbot/khqrbot/payments"
)

// Backlog counts pending QRs, payments in review, undelivered events and
// updates not handled (on the inbox's index of them), and finds when the
// oldest of those events was written. Each count is its
// own query: the numbers are a gauge's, and need not be one snapshot.
func (d *DB) Backlog(ctx context.Context) (payments.Backlog, error) {
	var b payments.Backlog
	g := d.gdb.WithContext(ctx)
	var n int64
	if err := g.Model(&qrRow{}).Where("status = ?", string(payments.QRPending)).Count(&n).Error; err != nil {
		return b, dbErr(err, "count pending QRs")
	}
	b.PendingQRs = int(n)
	if err := g.Model(&paymentRow{}).Where("status = ?", string(payments.PaymentReview)).Count(&n).Error; err != nil {
		return b, dbErr(err, "count payments in review")
	}
	b.InReview = int(n)
	if err := g.Model(&eventRow{}).Where("delivered_at IS NULL").Count(&n).Error; err != nil {
		return b, dbErr(err, "count undelivered events")
	}
	b.OutboxWaiting = int(n)
	var updates int64
	if err := g.Model(&updateRow{}).Where("done_at IS NULL").Count(&updates).Error; err != nil {
		return b, dbErr(err, "count updates not handled")
	}
	b.UpdatesWaiting = int(updates)
	if n == 0 {
		return b, nil
	}
	var oldest eventRow
	err := g.Select("id", "created_at").Where("delivered_at IS NULL").Order("created_at, id").Take(&oldest).Error
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound): // delivered meanwhile
	case err != nil:
		return b, dbErr(err, "find the oldest undelivered event")
	default:
		b.OldestWaiting = utc(oldest.CreatedAt)
	}
	return b, nil
}
