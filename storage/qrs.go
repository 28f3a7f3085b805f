package storage

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/khqrbot/khqrbot/payments"
)

// CreateQR inserts q and sets its ID; a zero CreatedAt becomes the store's
// clock and an empty Status pending. A zero NextCheckAt is kept: the QR is
// due at once. A reused MD5 or BillNumber is EConflict, a SourceKey of a
// QR stored before EConflict wrapping payments.ErrSourceKeyUsed, a missing
// invoice ENotFound. q is changed only if the insert succeeds.
func (d *DB) CreateQR(ctx context.Context, q *payments.QR) error {
	if q == nil {
		return payments.Errorf(payments.EInvalid, "create QR: no QR given")
	}
	if q.ID != 0 {
		return payments.Errorf(payments.EInvalid, "create QR: it already has id %d", q.ID)
	}
	row := qrToRow(q)
	row.CreatedAt = d.orNow(q.CreatedAt)
	if row.Status == "" {
		row.Status = string(payments.QRPending)
	}
	err := insertKeyed(d.gdb.WithContext(ctx), &row, row.SourceKey)
	switch {
	case errors.Is(err, payments.ErrSourceKeyUsed):
		return &payments.Error{Code: payments.EConflict, Message: fmt.Sprintf("create QR: source key %d made a QR before", q.SourceKey), Err: err}
	case errors.Is(err, gorm.ErrDuplicatedKey):
		return &payments.Error{Code: payments.EConflict, Message: fmt.Sprintf("create QR: md5 %s or bill number %s is already used", q.MD5, q.BillNumber), Err: err}
	case errors.Is(err, gorm.ErrForeignKeyViolated):
		return &payments.Error{Code: payments.ENotFound, Message: fmt.Sprintf("create QR: invoice %s not found", payments.InvoiceNumber(q.InvoiceID)), Err: err}
	case err != nil:
		return dbErr(err, "create QR for invoice %s", payments.InvoiceNumber(q.InvoiceID))
	}
	*q = row.domain()
	return nil
}

// QR returns QR id.
func (d *DB) QR(ctx context.Context, id int64) (*payments.QR, error) {
	return take[payments.QR, qrRow](ctx, d, fmt.Sprintf("QR %d", id), "id = ?", id)
}

// QRBySource returns the QR made by the request key names.
func (d *DB) QRBySource(ctx context.Context, key payments.SourceKey) (*payments.QR, error) {
	return take[payments.QR, qrRow](ctx, d, fmt.Sprintf("QR of source key %d", key), "source_key = ?", nullID(int64(key)))
}

// QRByMD5 returns the QR whose payload hashes to md5.
func (d *DB) QRByMD5(ctx context.Context, md5 string) (*payments.QR, error) {
	return take[payments.QR, qrRow](ctx, d, "QR with md5 "+md5, "md5 = ?", md5)
}

// ListQRs returns the QRs f selects, newest (highest ID) first.
func (d *DB) ListQRs(ctx context.Context, f payments.QRFilter) ([]payments.QR, error) {
	q := d.gdb.WithContext(ctx).Model(&qrRow{})
	if f.InvoiceID != 0 {
		q = q.Where("invoice_id = ?", f.InvoiceID)
	}
	if f.UserID != 0 {
		q = q.Where("user_id = ?", f.UserID)
	}
	if f.ChatID != 0 {
		q = q.Where("chat_id = ?", f.ChatID)
	}
	if !f.Since.IsZero() {
		q = q.Where("created_at >= ?", utc(f.Since))
	}
	if f.Amount != (payments.Money{}) {
		q = q.Where("amount = ? AND currency = ?", f.Amount.Amount, string(f.Amount.Currency))
	}
	if len(f.Statuses) > 0 {
		q = q.Where("status IN ?", asStrings(f.Statuses))
	}
	return find[payments.QR, qrRow](page(q, f.Limit, f.Offset).Order("id DESC"), "QRs")
}

// dueColumns are the fields of the due QRs ClaimDueQRs returns.
var dueColumns = []string{"id", "invoice_id", "bill_number", "md5", "status", "expires_at", "next_check_at", "check_failures"}

// dueQuery selects up to limit (0: all) pending QRs with an ID above after
// whose NextCheckAt is at or before now, in ID order, with only the fields
// a check needs (dueColumns): reading the payload and the rest too makes a
// reconciler cycle's read nearly twice as slow.
//
// It reads the (status, id) index and filters by NextCheckAt. That column is
// in no index, so that the two writes a check makes to each pending QR in
// each cycle (the claim, the check record) are PostgreSQL HOT updates,
// which touch no index (see indexDueInIDOrder); ID order with a cursor
// (after) lets a claimer resume where its last claim ended, past the QRs
// claimed before, instead of reading them again.
func dueQuery(q *gorm.DB, now time.Time, after int64, limit int) *gorm.DB {
	q = q.Select(dueColumns).
		Where("status = ? AND id > ? AND next_check_at <= ?", string(payments.QRPending), after, utc(now)).
		Order("id")
	return page(q, limit, 0)
}

// SetQRStatus moves QR id from one of `from` to `to` in one conditional
// UPDATE and reports whether it did. `at` (the store's clock when zero)
// becomes ClosedAt when `to` is not pending; moving back to pending clears
// ClosedAt. A missing QR is ENotFound; an empty `from` is EInvalid.
func (d *DB) SetQRStatus(ctx context.Context, id int64, from []payments.QRStatus, to payments.QRStatus, at time.Time) (bool, error) {
	if len(from) == 0 {
		return false, payments.Errorf(payments.EInvalid, "set QR %d status to %s: no status to move from", id, to)
	}
	set := map[string]any{"status": string(to), "closed_at": nil}
	if to != payments.QRPending {
		set["closed_at"] = d.orNow(at)
	}
	res := d.gdb.WithContext(ctx).Model(&qrRow{}).
		Where("id = ? AND status IN ?", id, asStrings(from)).Updates(set)
	if res.Error != nil {
		return false, dbErr(res.Error, "set QR %d status to %s", id, to)
	}
	if res.RowsAffected == 1 {
		return true, nil
	}
	return false, d.exists(ctx, &qrRow{}, id, fmt.Sprintf("QR %d", id))
}

// SetQRDeeplink stores the deeplink found after QR id was created.
func (d *DB) SetQRDeeplink(ctx context.Context, id int64, link string) error {
	return d.updateQR(ctx, id, "set deeplink", map[string]any{"deeplink": link})
}

// SetQRCheck records the outcome of a check of QR id: when it was checked
// (zero: never, kept NULL), when to check next, the consecutive failure
// count and the last error ("" on success).
func (d *DB) SetQRCheck(ctx context.Context, id int64, checkedAt, next time.Time, failures int, lastErr string) error {
	return d.updateQR(ctx, id, "record check", map[string]any{
		"last_checked_at": nullTime(checkedAt),
		"next_check_at":   utc(next),
		"check_failures":  failures,
		"last_error":      lastErr,
	})
}

// checkChunk bounds the checks one UPDATE records: at most six bound
// parameters each on PostgreSQL (65,535 allowed), one on SQLite (32,766).
const checkChunk = 1000

// checkOutcome is what a check records; on SQLite, checks with equal
// outcomes share an UPDATE.
type checkOutcome struct {
	checkedAt, next time.Time // UTC, so that == compares instants
	failures        int
	lastErr         string
}

// SetQRChecks records checks in one transaction. On PostgreSQL, where each
// statement is a round trip, one UPDATE ... FROM a VALUES list of each
// QR's record stores checkChunk checks: a cycle of 100,000 checks costs a
// hundred statements rather than 2,000 (one per md5 list call). On SQLite,
// where statements cost no round trip and such an UPDATE runs slower than
// plain ones, checks with the same outcome (a cycle's "not found" answers
// of one md5 list call) share one UPDATE ... WHERE id IN (...). A QR named
// twice is EInvalid, a missing QR ENotFound; either way nothing is
// recorded.
func (d *DB) SetQRChecks(ctx context.Context, checks []payments.QRCheck) error {
	groups := map[checkOutcome][]int64{}
	var order []checkOutcome // first appearance, so statements run in a stable order
	seen := make(map[int64]bool, len(checks))
	for _, c := range checks {
		if err := c.Validate(); err != nil {
			return err
		}
		if seen[c.QRID] {
			return payments.Errorf(payments.EInvalid, "record checks: QR %d is named twice", c.QRID)
		}
		seen[c.QRID] = true
		if d.engine == Postgres {
			continue // one UPDATE per chunk of checks: no grouping (see below)
		}
		o := checkOutcome{checkedAt: utc(c.CheckedAt), next: utc(c.Next), failures: c.Failures, lastErr: c.LastError}
		if _, ok := groups[o]; !ok {
			order = append(order, o)
		}
		groups[o] = append(groups[o], c.QRID)
	}
	return d.atomic(ctx, func(tx *gorm.DB) error {
		if d.engine == Postgres {
			for rest := checks; len(rest) > 0; {
				chunk := rest[:min(len(rest), checkChunk)]
				rest = rest[len(chunk):]
				sql, vars, ids := checksUpdate(chunk)
				if err := recorded(tx, tx.Exec(sql, vars...), len(checks), ids); err != nil {
					return err
				}
			}
			return nil
		}
		for _, o := range order {
			set := map[string]any{
				"last_checked_at": nullTime(o.checkedAt),
				"next_check_at":   o.next,
				"check_failures":  o.failures,
				"last_error":      o.lastErr,
			}
			for ids := groups[o]; len(ids) > 0; {
				chunk := ids[:min(len(ids), checkChunk)]
				ids = ids[len(chunk):]
				res := tx.Model(&qrRow{}).Where("id IN ?", chunk).Updates(set)
				if err := recorded(tx, res, len(checks), chunk); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// recorded checks the result of an UPDATE that recorded checks of the QRs
// ids, of n checks in all.
func recorded(tx, res *gorm.DB, n int, ids []int64) error {
	if res.Error != nil {
		return dbErr(res.Error, "record %d checks", n)
	}
	if res.RowsAffected != int64(len(ids)) {
		return missingQR(tx, ids)
	}
	return nil
}

// checksUpdate is PostgreSQL's UPDATE recording checks, its bound values
// and the QRs' ids. The values are, per check, its QR, when it was checked (NULL: never), the next
// check, the failure count and the error, then the QRs' ids again. VALUES
// names its columns column1...; the ids' IN list makes the planner fetch
// the QRs by primary key, where it would otherwise scan the whole table
// to join them with the VALUES list.
func checksUpdate(checks []payments.QRCheck) (string, []any, []int64) {
	var b strings.Builder
	b.WriteString("UPDATE qrs SET last_checked_at = v.column2, next_check_at = v.column3, check_failures = v.column4, last_error = v.column5 FROM (VALUES ")
	vars := make([]any, 0, 6*len(checks))
	for i, c := range checks {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(CAST(? AS bigint), CAST(? AS timestamptz), CAST(? AS timestamptz), CAST(? AS bigint), CAST(? AS text))")
		var checked any
		if t := nullTime(c.CheckedAt); t != nil {
			checked = *t
		}
		vars = append(vars, c.QRID, checked, utc(c.Next), c.Failures, c.LastError)
	}
	b.WriteString(") AS v WHERE qrs.id = v.column1 AND qrs.id IN (")
	ids := make([]int64, len(checks))
	for i, c := range checks {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("?")
		vars = append(vars, c.QRID)
		ids[i] = c.QRID
	}
	b.WriteString(")")
	return b.String(), vars, ids
}

// missingQR names the first of ids that is not stored, as ENotFound.
func missingQR(tx *gorm.DB, ids []int64) error {
	var found []int64
	if err := tx.Model(&qrRow{}).Where("id IN ?", ids).Pluck("id", &found).Error; err != nil {
		return dbErr(err, "record checks: look for missing QRs")
	}
	for _, id := range ids {
		if !slices.Contains(found, id) {
			return payments.Errorf(payments.ENotFound, "record checks: QR %d not found", id)
		}
	}
	return payments.Errorf(payments.ENotFound, "record checks: a QR was not found")
}

func (d *DB) updateQR(ctx context.Context, id int64, action string, set map[string]any) error {
	res := d.gdb.WithContext(ctx).Model(&qrRow{}).Where("id = ?", id).Updates(set)
	if res.Error != nil {
		return dbErr(res.Error, "QR %d: %s", id, action)
	}
	if res.RowsAffected == 0 {
		return payments.Errorf(payments.ENotFound, "QR %d not found", id)
	}
	return nil
}
