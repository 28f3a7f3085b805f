package storage

import (
	"context"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/khqrbot/khqrbot/payments"
)

// The inbox: Telegram updates kept from before Telegram is told they
// arrived until a replica has handled them (payments.Update). It is the
// updates table of version 3, whose rows were the ids of updates handled,
// grown by version 8 into claims on updates to handle: a row is stored
// claimed by the replica that took the update from Telegram, claimed again
// (handled_by, claim_until) by whoever takes over from a replica that died,
// and done (done_at) when handled; its body, the user's message, goes then.

// updateRow is a row of the updates table.
type updateRow struct {
	UpdateID   int64 `gorm:"primaryKey;autoIncrement:false"`
	HandledBy  string
	At         time.Time
	ChatID     int64
	Body       []byte
	ClaimUntil *time.Time
	DoneAt     *time.Time
	Tries      int
}

// TableName names the updates table.
func (updateRow) TableName() string { return "updates" }

func (r *updateRow) rowID() int64 { return r.UpdateID }

func (r *updateRow) domain() payments.Update {
	return payments.Update{ID: r.UpdateID, Chat: r.ChatID, Body: r.Body, Tries: r.Tries, Holder: r.HandledBy}
}

// StoreUpdates inserts the updates not stored yet, claimed by holder until
// `until`, in one INSERT ... ON CONFLICT DO NOTHING RETURNING, and reports
// the ids it inserted, in ups' order. The statement is built by hand:
// GORM's Create with OnConflict DoNothing and Returning writes the ids
// returned back onto the rows by position, skipping only rows whose key is
// zero, so with ids given it would pin them on the wrong updates.
func (d *DB) StoreUpdates(ctx context.Context, ups []payments.Update, holder string, at, until time.Time) ([]int64, error) {
	if holder == "" {
		return nil, payments.Errorf(payments.EInvalid, "store updates: want a holder")
	}
	seen := map[int64]bool{}
	var values []string
	var args []any
	for _, u := range ups {
		if err := u.Validate(); err != nil {
			return nil, err
		}
		if seen[u.ID] {
			continue
		}
		seen[u.ID] = true
		values = append(values, "(?, ?, ?, ?, ?, ?, 0)")
		args = append(args, u.ID, u.Chat, u.Body, holder, d.orNow(at), utc(until))
	}
	if len(values) == 0 {
		return nil, nil
	}
	var stored []int64
	err := d.gdb.WithContext(ctx).Raw("INSERT INTO updates (update_id, chat_id, body, handled_by, at, claim_until, tries) VALUES "+
		strings.Join(values, ", ")+" ON CONFLICT (update_id) DO NOTHING RETURNING update_id", args...).Scan(&stored).Error
	if err != nil {
		return nil, dbErr(err, "store %d updates", len(values))
	}
	fresh := map[int64]bool{}
	for _, id := range stored {
		fresh[id] = true
	}
	out := make([]int64, 0, len(stored))
	for _, u := range ups {
		if fresh[u.ID] {
			out = append(out, u.ID)
			delete(fresh, u.ID)
		}
	}
	return out, nil
}

// notBehind holds for an update of updates that no earlier update of its
// chat is still to be done, and notBehindClaimed that none is still to be
// done and claimed until after its time argument; earlierUndone is the
// subquery of such updates they share.
const (
	notBehind        = "NOT EXISTS (" + earlierUndone + ")"
	notBehindClaimed = "NOT EXISTS (" + earlierUndone + " AND e.claim_until > ?)"

	earlierUndone = "SELECT 1 FROM updates e WHERE e.chat_id = updates.chat_id AND e.update_id < updates.update_id AND e.done_at IS NULL"
)

// StartUpdate claims update id for holder until `until` and counts a try,
// in one conditional UPDATE, if holder may run it now.
func (d *DB) StartUpdate(ctx context.Context, id int64, holder string, now, until time.Time) (bool, error) {
	res := d.gdb.WithContext(ctx).Model(&updateRow{}).
		Where("update_id = ? AND done_at IS NULL AND (handled_by = ? OR claim_until <= ?)", id, holder, utc(now)).
		Where(notBehind).
		Updates(map[string]any{"handled_by": holder, "claim_until": utc(until), "tries": gorm.Expr("tries + 1")})
	if res.Error != nil {
		return false, dbErr(res.Error, "start update %d", id)
	}
	return res.RowsAffected == 1, nil
}

// RenewUpdates extends holder's claims on ids, checkChunk ids a statement.
func (d *DB) RenewUpdates(ctx context.Context, ids []int64, holder string, until time.Time) error {
	return d.setClaims(ctx, &updateRow{}, "claim_until", "renew claims on %d updates", ids, until, "handled_by = ? AND done_at IS NULL", holder)
}

// ReleaseUpdate ends holder's claim on update id at now.
func (d *DB) ReleaseUpdate(ctx context.Context, id int64, holder string, now time.Time) error {
	err := d.gdb.WithContext(ctx).Model(&updateRow{}).
		Where("update_id = ? AND handled_by = ? AND done_at IS NULL", id, holder).
		Update("claim_until", utc(now)).Error
	if err != nil {
		return dbErr(err, "release update %d", id)
	}
	return nil
}

// FinishUpdate marks update id done at `at` (the first time only) and
// drops its body.
func (d *DB) FinishUpdate(ctx context.Context, id int64, at time.Time) error {
	err := d.gdb.WithContext(ctx).Model(&updateRow{}).
		Where("update_id = ? AND done_at IS NULL", id).
		Updates(map[string]any{"done_at": d.orNow(at), "body": nil}).Error
	if err != nil {
		return dbErr(err, "finish update %d", id)
	}
	return nil
}

// ClaimUpdates claims, through claim, the updates not done whose claim
// ended at now and whose chat has no earlier update not done and claimed
// past now.
func (d *DB) ClaimUpdates(ctx context.Context, holder string, now, until time.Time, limit int) ([]payments.Update, error) {
	if limit <= 0 {
		return nil, payments.Errorf(payments.EInvalid, "claim updates: limit %d, want a positive number", limit)
	}
	if holder == "" {
		return nil, payments.Errorf(payments.EInvalid, "claim updates: want a holder")
	}
	now = utc(now)
	set := map[string]any{"handled_by": holder, "claim_until": utc(until)}
	return claim[payments.Update, updateRow](ctx, d, "claim updates", "update_id", set, func(tx *gorm.DB) *gorm.DB {
		return tx.Where("done_at IS NULL AND claim_until <= ?", now).Where(notBehindClaimed, now).Order("update_id").Limit(limit)
	})
}
