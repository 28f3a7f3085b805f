package storage

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/khqrbot/khqrbot/payments"
)

// CreatePayment inserts p and sets its ID; a zero CreatedAt becomes the
// store's clock. A payment whose Hash is already stored is EConflict and
// changes nothing. The duplicate is found by a lookup and, should another
// process win the race in between, by INSERT ... ON CONFLICT DO NOTHING: no
// statement fails, so a caller's transaction stays usable (on PostgreSQL
// too, where a failed statement would doom it). A QRID or InvoiceID that
// does not exist is ENotFound; zero ones are stored as NULL.
func (d *DB) CreatePayment(ctx context.Context, p *payments.Payment) error {
	if p == nil {
		return payments.Errorf(payments.EInvalid, "create payment: no payment given")
	}
	if p.ID != 0 {
		return payments.Errorf(payments.EInvalid, "create payment: it already has id %d", p.ID)
	}
	if p.Hash == "" {
		return payments.Errorf(payments.EInvalid, "create payment: it has no transaction hash")
	}
	conflict := payments.Errorf(payments.EConflict, "payment %s is already recorded", p.Hash)
	row := paymentToRow(p)
	row.CreatedAt = d.orNow(p.CreatedAt)
	err := d.atomic(ctx, func(tx *gorm.DB) error {
		var n int64
		if err := tx.Model(&paymentRow{}).Where("hash = ?", p.Hash).Count(&n).Error; err != nil {
			return err
		}
		if n > 0 {
			return conflict
		}
		res := tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "hash"}}, DoNothing: true}).Create(&row)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return conflict
		}
		return nil
	})
	switch {
	case errors.Is(err, gorm.ErrDuplicatedKey):
		return &payments.Error{Code: payments.EConflict, Message: conflict.Message, Err: err}
	case errors.Is(err, gorm.ErrForeignKeyViolated):
		return &payments.Error{Code: payments.ENotFound, Message: fmt.Sprintf("create payment %s: QR %d or invoice %s not found", p.Hash, p.QRID, payments.InvoiceNumber(p.InvoiceID)), Err: err}
	case err != nil:
		return dbErr(err, "create payment %s", p.Hash)
	}
	*p = row.domain()
	return nil
}

// Payment returns payment id.
func (d *DB) Payment(ctx context.Context, id int64) (*payments.Payment, error) {
	return take[payments.Payment, paymentRow](ctx, d, fmt.Sprintf("payment %d", id), "id = ?", id)
}

// SetPaymentStatus moves payment id from one of `from` to `to` in one
// conditional UPDATE, and reports whether it did. A non-empty note is
// appended to Reason ("; " after any reason there) with `at` (the store's
// clock when zero) in UTC, in the same statement. A missing payment is
// ENotFound; an empty `from` is EInvalid.
func (d *DB) SetPaymentStatus(ctx context.Context, id int64, from []payments.PaymentStatus, to payments.PaymentStatus, note string, at time.Time) (bool, error) {
	if len(from) == 0 {
		return false, payments.Errorf(payments.EInvalid, "set payment %d status to %s: no status to move from", id, to)
	}
	set := map[string]any{"status": string(to)}
	if note = strings.TrimSpace(note); note != "" {
		note += " at " + d.orNow(at).Format(noteTime)
		set["reason"] = gorm.Expr("CASE WHEN reason = '' THEN ? ELSE reason || ? END", note, "; "+note)
	}
	res := d.gdb.WithContext(ctx).Model(&paymentRow{}).
		Where("id = ? AND status IN ?", id, asStrings(from)).Updates(set)
	if res.Error != nil {
		return false, dbErr(res.Error, "set payment %d status to %s", id, to)
	}
	if res.RowsAffected == 1 {
		return true, nil
	}
	return false, d.exists(ctx, &paymentRow{}, id, fmt.Sprintf("payment %d", id))
}

// noteTime dates the notes SetPaymentStatus appends.
const noteTime = "2006-01-02 15:04:05Z"

// PaymentByHash returns the payment with the full transaction hash.
func (d *DB) PaymentByHash(ctx context.Context, hash string) (*payments.Payment, error) {
	return take[payments.Payment, paymentRow](ctx, d, "payment "+hash, "hash = ?", hash)
}

// ListPayments returns the payments f selects, newest (highest ID) first.
func (d *DB) ListPayments(ctx context.Context, f payments.PaymentFilter) ([]payments.Payment, error) {
	q := d.gdb.WithContext(ctx).Model(&paymentRow{})
	if f.InvoiceID != 0 {
		q = q.Where("invoice_id = ?", f.InvoiceID)
	}
	if f.QRID != 0 {
		q = q.Where("qr_id = ?", f.QRID)
	}
	if len(f.Statuses) > 0 {
		q = q.Where("status IN ?", asStrings(f.Statuses))
	}
	if !f.Since.IsZero() {
		q = q.Where("paid_at >= ?", utc(f.Since))
	}
	if !f.Until.IsZero() {
		q = q.Where("paid_at < ?", utc(f.Until))
	}
	return find[payments.Payment, paymentRow](page(q, f.Limit, 0).Order("id DESC"), "payments")
}
