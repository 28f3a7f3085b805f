package storage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/khqrbot/khqrbot/payments"
)

// CreateInvoice inserts inv and sets its ID, its Number (from the ID, in the
// same transaction, so numbers are unique across processes) and, when zero,
// CreatedAt (the store's clock) and UpdatedAt (CreatedAt). An empty Status
// becomes open. A SourceKey of an invoice stored before is EConflict
// wrapping payments.ErrSourceKeyUsed. inv is changed only if the insert
// succeeds.
func (d *DB) CreateInvoice(ctx context.Context, inv *payments.Invoice) error {
	if inv == nil {
		return payments.Errorf(payments.EInvalid, "create invoice: no invoice given")
	}
	if inv.ID != 0 {
		return payments.Errorf(payments.EInvalid, "create invoice: it already has id %d", inv.ID)
	}
	row := invoiceToRow(inv)
	row.Number = nil
	row.CreatedAt = d.orNow(inv.CreatedAt)
	row.UpdatedAt = row.CreatedAt
	if !inv.UpdatedAt.IsZero() {
		row.UpdatedAt = utc(inv.UpdatedAt)
	}
	if row.Status == "" {
		row.Status = string(payments.InvoiceOpen)
	}
	err := d.atomic(ctx, func(tx *gorm.DB) error {
		if err := insertKeyed(tx, &row, row.SourceKey); err != nil {
			return err
		}
		n := payments.InvoiceNumber(row.ID)
		row.Number = &n
		return tx.Model(&invoiceRow{}).Where("id = ?", row.ID).Update("number", n).Error
	})
	switch {
	case errors.Is(err, payments.ErrSourceKeyUsed):
		return &payments.Error{Code: payments.EConflict, Message: fmt.Sprintf("create invoice: source key %d made an invoice before", inv.SourceKey), Err: err}
	case errors.Is(err, gorm.ErrDuplicatedKey):
		return &payments.Error{Code: payments.EConflict, Message: "create invoice: another invoice has the same link token", Err: err}
	}
	if err != nil {
		return dbErr(err, "create invoice")
	}
	*inv = row.domain()
	return nil
}

// Invoice returns invoice id.
func (d *DB) Invoice(ctx context.Context, id int64) (*payments.Invoice, error) {
	return take[payments.Invoice, invoiceRow](ctx, d, "invoice "+payments.InvoiceNumber(id), "id = ?", id)
}

// InvoiceBySource returns the invoice made by the request key names.
func (d *DB) InvoiceBySource(ctx context.Context, key payments.SourceKey) (*payments.Invoice, error) {
	return take[payments.Invoice, invoiceRow](ctx, d, fmt.Sprintf("invoice of source key %d", key), "source_key = ?", nullID(int64(key)))
}

// insertKeyed inserts row, a row of a table with a unique source_key, and
// when key is not nil and taken inserts nothing and returns
// payments.ErrSourceKeyUsed. The insert skips the conflict (ON CONFLICT DO
// NOTHING) rather than failing on it, so that it leaves a PostgreSQL
// transaction it runs in usable.
func insertKeyed(tx *gorm.DB, row any, key *int64) error {
	if key == nil {
		return tx.Create(row).Error
	}
	res := tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "source_key"}}, DoNothing: true}).Create(row)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return payments.ErrSourceKeyUsed
	}
	return nil
}

// InvoiceByNumber returns the invoice numbered number ("INV-000042").
func (d *DB) InvoiceByNumber(ctx context.Context, number string) (*payments.Invoice, error) {
	return take[payments.Invoice, invoiceRow](ctx, d, "invoice "+number, "number = ?", number)
}

// InvoiceByToken returns the invoice whose share link carries token.
func (d *DB) InvoiceByToken(ctx context.Context, token string) (*payments.Invoice, error) {
	if token == "" {
		return nil, payments.Errorf(payments.ENotFound, "no invoice for this link")
	}
	inv, err := take[payments.Invoice, invoiceRow](ctx, d, "the invoice of this link", "token = ?", token)
	if payments.ErrorCode(err) == payments.ENotFound {
		return nil, payments.Errorf(payments.ENotFound, "no invoice for this link")
	}
	return inv, err
}

// SetInvoiceStatus moves invoice id from one of `from` to `to` in one
// conditional UPDATE, and reports whether it did. It stores paymentID as the
// invoice's PaymentID (0 clears it), `at` as UpdatedAt (the store's clock
// when zero) and, when `to` is paid, as PaidAt. A missing invoice is
// ENotFound; an empty `from` is EInvalid.
func (d *DB) SetInvoiceStatus(ctx context.Context, id int64, from []payments.InvoiceStatus, to payments.InvoiceStatus, paymentID int64, at time.Time) (bool, error) {
	if len(from) == 0 {
		return false, payments.Errorf(payments.EInvalid, "set invoice %s status to %s: no status to move from", payments.InvoiceNumber(id), to)
	}
	at = d.orNow(at)
	set := map[string]any{"status": string(to), "payment_id": nullID(paymentID), "updated_at": at}
	if to == payments.InvoicePaid {
		set["paid_at"] = at
	}
	res := d.gdb.WithContext(ctx).Model(&invoiceRow{}).
		Where("id = ? AND status IN ?", id, asStrings(from)).Updates(set)
	if res.Error != nil {
		return false, dbErr(res.Error, "set invoice %s status to %s", payments.InvoiceNumber(id), to)
	}
	if res.RowsAffected == 1 {
		return true, nil
	}
	return false, d.exists(ctx, &invoiceRow{}, id, "invoice "+payments.InvoiceNumber(id))
}

// ListInvoices returns the invoices f selects, newest first: by CreatedAt,
// or by PaidAt when f.PaidRange is set (which also leaves out unpaid ones);
// ties by descending ID.
func (d *DB) ListInvoices(ctx context.Context, f payments.InvoiceFilter) ([]payments.Invoice, error) {
	col := "created_at"
	q := d.gdb.WithContext(ctx).Model(&invoiceRow{})
	if f.PaidRange {
		col = "paid_at"
		q = q.Where("paid_at IS NOT NULL")
	}
	if len(f.Statuses) > 0 {
		q = q.Where("status IN ?", asStrings(f.Statuses))
	}
	if f.CreatedBy != 0 {
		q = q.Where("created_by = ?", f.CreatedBy)
	}
	if !f.Since.IsZero() {
		q = q.Where(col+" >= ?", utc(f.Since))
	}
	if !f.Until.IsZero() {
		q = q.Where(col+" < ?", utc(f.Until))
	}
	return find[payments.Invoice, invoiceRow](page(q, f.Limit, f.Offset).Order(col+" DESC, id DESC"), "invoices")
}

// exists returns nil if the row with id exists in model's table, and
// ENotFound naming what otherwise.
func (d *DB) exists(ctx context.Context, model any, id int64, what string) error {
	var n int64
	if err := d.gdb.WithContext(ctx).Model(model).Where("id = ?", id).Count(&n).Error; err != nil {
		return dbErr(err, "look up %s", what)
	}
	if n == 0 {
		return payments.Errorf(payments.ENotFound, "%s not found", what)
	}
	return nil
}

// page applies a limit (0: none) and an offset.
func page(q *gorm.DB, limit, offset int) *gorm.DB {
	if limit > 0 {
		q = q.Limit(limit)
	}
	if offset > 0 {
		q = q.Offset(offset)
	}
	return q
}

// asStrings converts typed statuses for an IN clause.
func asStrings[S ~string](ss []S) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = string(s)
	}
	return out
}
