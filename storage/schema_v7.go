package storage

import (
	"fmt"

	"gorm.io/gorm"
)

// Version 7 records how far each event's delivery got (payments.Progress):
// the id of the last QR whose message it brought up to date, and of the last
// person it told, so that delivering it again skips those Telegram calls.
// Existing events start from nothing done, as they did before.

type v7Event struct {
	DoneQR   int64 `gorm:"column:done_qr;not null;default:0"`
	DoneUser int64 `gorm:"not null;default:0"`
}

// TableName names the outbox table.
func (v7Event) TableName() string { return "outbox" }

// recordProgress adds the outbox's progress columns.
func recordProgress(tx *gorm.DB) error {
	for _, f := range []string{"DoneQR", "DoneUser"} {
		if err := tx.Migrator().AddColumn(&v7Event{}, f); err != nil {
			return fmt.Errorf("add column outbox.%s: %w", f, err)
		}
	}
	return nil
}
