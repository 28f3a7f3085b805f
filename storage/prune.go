package storage

import (
	"context"
	"time"

	"github.com/khqrbot/khqrbot/payments"
)

// Prune deletes up to limit call-log rows logged before `before`, up to
// limit outbox events delivered before it, up to limit Telegram updates
// taken before it (Telegram redelivers for a day at most, and one not
// handled in all that time is not worth answering), oldest first, and up
// to limit leases expired before it, and reports how many rows it deleted.
// A handled update keeps only its id (FinishUpdate drops what the user
// wrote); one still to handle keeps its body until it is handled or
// pruned. Undelivered events stay, however old. Each table
// takes one DELETE of at most limit rows, so other writers wait little; the
// call log is read through its index on time (migration 2).
func (d *DB) Prune(ctx context.Context, before time.Time, limit int) (int, error) {
	if limit <= 0 {
		return 0, payments.Errorf(payments.EInvalid, "prune: limit %d, want a positive number of rows", limit)
	}
	before = utc(before)
	db := d.gdb.WithContext(ctx)
	calls := db.Model(&apiCallRow{}).Select("id").Where("at < ?", before).Order("at").Limit(limit)
	res := db.Where("id IN (?)", calls).Delete(&apiCallRow{})
	if res.Error != nil {
		return 0, dbErr(res.Error, "prune the call log")
	}
	n := res.RowsAffected
	events := db.Model(&eventRow{}).Select("id").Where("delivered_at < ?", before).Order("id").Limit(limit)
	res = db.Where("id IN (?)", events).Delete(&eventRow{})
	if res.Error != nil {
		return int(n), dbErr(res.Error, "prune delivered events")
	}
	n += res.RowsAffected
	updates := db.Model(&updateRow{}).Select("update_id").Where("at < ?", before).Order("at").Limit(limit)
	res = db.Where("update_id IN (?)", updates).Delete(&updateRow{})
	if res.Error != nil {
		return int(n), dbErr(res.Error, "prune stored updates")
	}
	n += res.RowsAffected
	// An expired lease is as free as a missing one; the bot takes one per
	// stranger refused in a group (bot's refusal window).
	leases := db.Model(&leaseRow{}).Select("name").Where("expires_at < ?", before).Limit(limit)
	res = db.Where("name IN (?)", leases).Delete(&leaseRow{})
	if res.Error != nil {
		return int(n), dbErr(res.Error, "prune expired leases")
	}
	return int(n + res.RowsAffected), nil
}
