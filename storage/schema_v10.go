package storage

import (
	"fmt"

	"gorm.io/gorm"
)

// Version 10 keys invoices and QRs by the request that made them
// (payments.SourceKey: the bot's Telegram update id), so that an update run
// again after its replica died gets back the invoice and QR its first run
// made instead of making a second one. Rows made before, and those made
// with no key (the CLI), keep NULL, which the unique indexes let repeat.

// v10Invoice is what version 10 adds to the invoices table.
type v10Invoice struct {
	SourceKey *int64
}

// TableName names the invoices table.
func (v10Invoice) TableName() string { return "invoices" }

// v10QR is what version 10 adds to the qrs table.
type v10QR struct {
	SourceKey *int64
}

// TableName names the qrs table.
func (v10QR) TableName() string { return "qrs" }

// keySources adds source_key to invoices and qrs, each unique.
func keySources(tx *gorm.DB) error {
	m := tx.Migrator()
	for _, model := range []any{&v10Invoice{}, &v10QR{}} {
		if err := m.AddColumn(model, "SourceKey"); err != nil {
			return fmt.Errorf("add column source_key to %T: %w", model, err)
		}
	}
	return execAll(tx,
		"CREATE UNIQUE INDEX ix_invoices_source_key ON invoices (source_key)",
		"CREATE UNIQUE INDEX ix_qrs_source_key ON qrs (source_key)",
	)
}
