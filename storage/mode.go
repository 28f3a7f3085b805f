package storage

import (
	"context"
	"errors"
	"fmt"

	"gorm.io/gorm"

	"github.com/khqrbot/khqrbot/payments"
)

// The money mode a database serves: sandbox (simulated payments) or live.
// Sandbox invoices, QRs and payments must never mix with live ones: a
// simulator-paid invoice would count in live totals, and a sandbox-era
// share link would make a real QR in the merchant's name. So a database
// records its mode the first time the bot runs on it, and refuses the
// other mode (ClaimMode) until its sandbox data is cleared (ClearSandbox).

// Modes, as recorded under modeKey.
const (
	ModeSandbox = "sandbox"
	ModeLive    = "live"
)

const modeKey = "mode"

// ErrModeMismatch: the database was used in the other mode (an EConflict).
var ErrModeMismatch = errors.New("storage: database used in the other mode")

// Mode returns the mode the database serves: the one recorded, or for a
// database from before modes were recorded, the one its QRs show (any
// sandbox QR: sandbox; else any QR: live); "" for a database never used.
func (d *DB) Mode(ctx context.Context) (string, error) {
	m, err := d.Setting(ctx, modeKey)
	if err != nil || m != "" {
		return m, err
	}
	sandbox, err := exists(d.gdb.WithContext(ctx).Model(&qrRow{}).Where("sandbox = ?", true))
	if err != nil {
		return "", dbErr(err, "look for sandbox QRs")
	}
	if sandbox {
		return ModeSandbox, nil
	}
	used, err := exists(d.gdb.WithContext(ctx).Model(&invoiceRow{}))
	if err != nil {
		return "", dbErr(err, "look for invoices")
	}
	if used {
		return ModeLive, nil
	}
	return "", nil
}

// exists reports whether q selects a row, reading one at most (a COUNT,
// LIMIT 1 or not, reads them all).
func exists(q *gorm.DB) (bool, error) {
	var one []int
	err := q.Select("1").Limit(1).Scan(&one).Error
	return len(one) > 0, err
}

// ClaimMode records that the database serves mode (ModeSandbox or
// ModeLive), or fails with an EConflict wrapping ErrModeMismatch when it
// served the other one.
func (d *DB) ClaimMode(ctx context.Context, mode string) error {
	if mode != ModeSandbox && mode != ModeLive {
		return payments.Errorf(payments.EInvalid, "database mode %q: want %s or %s", mode, ModeSandbox, ModeLive)
	}
	was, err := d.Mode(ctx)
	switch {
	case err != nil:
		return err
	case was != "" && was != mode:
		return &payments.Error{Code: payments.EConflict, Message: fmt.Sprintf("the database holds %s data, not %s", was, mode), Err: ErrModeMismatch}
	}
	return d.SetSetting(ctx, modeKey, mode)
}

// ClearSandbox deletes the sandbox invoices, with their QRs, payments,
// outbox events, messages and call-log rows, so that the database may
// serve live. A sandbox invoice is one with a sandbox QR, or one made
// before the database's first live QR (all of them when it has none): a
// database used in both modes before modes were recorded keeps its live
// data. Users, their languages and the settings stay. It then records the
// mode as live if live data is left, else forgets it, and reports how many
// invoices it deleted.
func (d *DB) ClearSandbox(ctx context.Context) (int64, error) {
	var n int64
	err := d.atomic(ctx, func(tx *gorm.DB) error {
		live := tx.Model(&qrRow{}).Where("sandbox = ?", false)
		sandbox := tx.Model(&invoiceRow{}).
			Where("id IN (?)", tx.Model(&qrRow{}).Select("invoice_id").Where("sandbox = ?", true)).
			Or("created_at < (?)", live.Session(&gorm.Session{}).Select("MIN(created_at)")).
			Or("NOT EXISTS (?)", live.Session(&gorm.Session{}).Select("1"))
		var ids []int64
		if err := sandbox.Pluck("id", &ids).Error; err != nil {
			return fmt.Errorf("find sandbox invoices: %w", err)
		}
		for len(ids) > 0 {
			chunk := ids[:min(len(ids), checkChunk)]
			ids = ids[len(chunk):]
			qrs := tx.Model(&qrRow{}).Select("id").Where("invoice_id IN ?", chunk)
			steps := []struct {
				table, where string
				arg          any
			}{
				{"api_calls", "qr_id IN (?)", qrs},
				{"messages", "invoice_id IN ?", chunk},
				{"outbox", "invoice_id IN ?", chunk},
				{"payments", "invoice_id IN ?", chunk},
				{"qrs", "invoice_id IN ?", chunk},
				{"invoices", "id IN ?", chunk},
			}
			for _, st := range steps {
				res := tx.Exec("DELETE FROM "+st.table+" WHERE "+st.where, st.arg)
				if res.Error != nil {
					return fmt.Errorf("delete from %s: %w", st.table, res.Error)
				}
				if st.table == "invoices" {
					n += res.RowsAffected
				}
			}
		}
		left, err := exists(tx.Model(&invoiceRow{}))
		if err != nil {
			return err
		}
		if !left {
			return tx.Exec("DELETE FROM settings WHERE name = ?", modeKey).Error
		}
		return tx.Exec("UPDATE settings SET value = ? WHERE name = ?", ModeLive, modeKey).Error
	})
	if err != nil {
		return 0, dbErr(err, "clear sandbox data")
	}
	return n, nil
}
