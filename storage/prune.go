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
	var n int64
	for _, t := range []struct {
		model                 any
		key, old, order, what string
	}{
		{&apiCallRow{}, "id", "at < ?", "at", "the call log"},
		{&eventRow{}, "id", "delivered_at < ?", "id", "delivered events"},
		{&updateRow{}, "update_id", "at < ?", "at", "stored updates"},
		// An expired lease is as free as a missing one; the bot takes one
		// per stranger refused in a group (bot's refusal window).
		{&leaseRow{}, "name", "expires_at < ?", "", "expired leases"},
	} {
		old := db.Model(t.model).Select(t.key).Where(t.old, before).Order(t.order).Limit(limit)
		res := db.Where(t.key+" IN (?)", old).Delete(t.model)
		if res.Error != nil {
			return int(n), dbErr(res.Error, "prune %s", t.what)
		}
		n += res.RowsAffected
	}
	return int(n), nil
}
