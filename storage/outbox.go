package storage

import (
	"context"
	"time"

	"gorm.io/gorm"

	"github.com/khqrbot/khqrbot/payments"
)

// AddEvent appends e to the outbox and sets its ID. A zero CreatedAt
// becomes the store's clock, and a zero NextAttempt ("now") is stored as
// CreatedAt, which PendingEvents treats the same.
func (d *DB) AddEvent(ctx context.Context, e *payments.Event) error {
	if e == nil {
		return payments.Errorf(payments.EInvalid, "add event: no event given")
	}
	if e.ID != 0 {
		return payments.Errorf(payments.EInvalid, "add event: it already has id %d", e.ID)
	}
	if e.Kind == "" {
		return payments.Errorf(payments.EInvalid, "add event: it has no kind")
	}
	row := eventToRow(e)
	row.CreatedAt = d.orNow(e.CreatedAt)
	if e.NextAttempt.IsZero() {
		row.NextAttempt = row.CreatedAt
	}
	if err := d.gdb.WithContext(ctx).Create(&row).Error; err != nil {
		return dbErr(err, "add %s event", e.Kind)
	}
	*e = row.domain()
	return nil
}

// PendingEvents returns up to limit (0: all) undelivered events whose
// NextAttempt is at or before now, in ID order.
func (d *DB) PendingEvents(ctx context.Context, now time.Time, limit int) ([]payments.Event, error) {
	q := d.gdb.WithContext(ctx).
		Where("delivered_at IS NULL AND next_attempt <= ?", utc(now)).
		Order("id")
	return find[payments.Event, eventRow](page(q, limit, 0), "pending events")
}

// MarkEventDelivered marks event id delivered at `at` (the store's clock
// when zero). Marking it again keeps the first time.
func (d *DB) MarkEventDelivered(ctx context.Context, id int64, at time.Time) error {
	res := d.gdb.WithContext(ctx).Model(&eventRow{}).
		Where("id = ? AND delivered_at IS NULL", id).Update("delivered_at", d.orNow(at))
	if res.Error != nil {
		return dbErr(res.Error, "mark event %d delivered", id)
	}
	if res.RowsAffected == 1 {
		return nil
	}
	return d.exists(ctx, &eventRow{}, id, "event")
}

// DelayEvent counts a failed delivery of event id and sets when to try again.
func (d *DB) DelayEvent(ctx context.Context, id int64, next time.Time) error {
	res := d.gdb.WithContext(ctx).Model(&eventRow{}).Where("id = ?", id).
		Updates(map[string]any{"attempts": gorm.Expr("attempts + 1"), "next_attempt": utc(next)})
	if res.Error != nil {
		return dbErr(res.Error, "delay event %d", id)
	}
	if res.RowsAffected == 0 {
		return payments.Errorf(payments.ENotFound, "event %d not found", id)
	}
	return nil
}

// SetEventProgress records how far the delivery of event id got, in one
// small UPDATE (one per Telegram call of a delivery). Each mark only moves
// forward: a late writer never undoes a step recorded after its own.
func (d *DB) SetEventProgress(ctx context.Context, id int64, done payments.Progress) error {
	if err := done.Validate(); err != nil {
		return err
	}
	res := d.gdb.WithContext(ctx).Model(&eventRow{}).Where("id = ?", id).Updates(map[string]any{
		"done_qr":   gorm.Expr("CASE WHEN done_qr < ? THEN ? ELSE done_qr END", done.QR, done.QR),
		"done_user": gorm.Expr("CASE WHEN done_user < ? THEN ? ELSE done_user END", done.User, done.User),
	})
	if res.Error != nil {
		return dbErr(res.Error, "record the delivery progress of event %d", id)
	}
	if res.RowsAffected == 0 {
		return payments.Errorf(payments.ENotFound, "event %d not found", id)
	}
	return nil
}
