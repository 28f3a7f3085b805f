package storage

import (
	"context"
	"errors"
	"fmt"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/khqrbot/khqrbot/payments"
)

// LinkMessage records that a Telegram message shows QR m.QRID, replacing
// any earlier link of that QR (an upsert on qr_id). A zero InvoiceID is
// taken from the QR, a zero CreatedAt from the store's clock. A missing QR
// is ENotFound.
func (d *DB) LinkMessage(ctx context.Context, m payments.Message) error {
	if m.QRID == 0 {
		return payments.Errorf(payments.EInvalid, "link message %d in chat %d: no QR given", m.MessageID, m.ChatID)
	}
	row := messageRow{
		ChatID:    m.ChatID,
		MessageID: int64(m.MessageID),
		QRID:      m.QRID,
		InvoiceID: m.InvoiceID,
		CreatedAt: d.orNow(m.CreatedAt),
	}
	err := d.atomic(ctx, func(tx *gorm.DB) error {
		if row.InvoiceID == 0 {
			var q qrRow
			if err := tx.Select("invoice_id").Where("id = ?", m.QRID).Take(&q).Error; err != nil {
				return err
			}
			row.InvoiceID = q.InvoiceID
		}
		return tx.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "qr_id"}},
			DoUpdates: clause.AssignmentColumns([]string{"chat_id", "message_id", "invoice_id", "created_at"}),
		}).Create(&row).Error
	})
	if errors.Is(err, gorm.ErrRecordNotFound) || errors.Is(err, gorm.ErrForeignKeyViolated) {
		return &payments.Error{Code: payments.ENotFound, Message: fmt.Sprintf("link message: QR %d or invoice %s not found", m.QRID, payments.InvoiceNumber(row.InvoiceID)), Err: err}
	}
	if err != nil {
		return dbErr(err, "link message %d in chat %d to QR %d", m.MessageID, m.ChatID, m.QRID)
	}
	return nil
}

// MessageByQR returns the message that shows QR qrID.
func (d *DB) MessageByQR(ctx context.Context, qrID int64) (*payments.Message, error) {
	return take[payments.Message, messageRow](ctx, d, fmt.Sprintf("message of QR %d", qrID), "qr_id = ?", qrID)
}

// User returns Telegram user id, or ENotFound.
func (d *DB) User(ctx context.Context, id int64) (*payments.User, error) {
	return take[payments.User, userRow](ctx, d, fmt.Sprintf("user %d", id), "id = ?", id)
}

// SaveUser inserts u or updates its Language, then reads it back into u
// (so CreatedAt is the first save's); zero times come from the store's clock.
func (d *DB) SaveUser(ctx context.Context, u *payments.User) error {
	if u == nil || u.ID == 0 {
		return payments.Errorf(payments.EInvalid, "save user: want a Telegram user id")
	}
	row := userRow{ID: u.ID, Language: u.Language, CreatedAt: d.orNow(u.CreatedAt), UpdatedAt: d.orNow(u.UpdatedAt)}
	err := d.atomic(ctx, func(tx *gorm.DB) error {
		err := tx.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "id"}},
			DoUpdates: clause.AssignmentColumns([]string{"language", "updated_at"}),
		}).Create(&row).Error
		if err != nil {
			return err
		}
		return tx.Where("id = ?", u.ID).Take(&row).Error
	})
	if err != nil {
		return dbErr(err, "save user %d", u.ID)
	}
	*u = row.domain()
	return nil
}
