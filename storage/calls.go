package storage

import (
	"context"
	"slices"

	"gorm.io/gorm"

	"github.com/khqrbot/khqrbot/payments"
)

// LogCall appends c to the Bakong API call log and sets its ID; a zero At
// becomes the store's clock.
func (d *DB) LogCall(ctx context.Context, c *payments.APICall) error {
	if c == nil {
		return payments.Errorf(payments.EInvalid, "log API call: no call given")
	}
	row := d.callToRow(c)
	if err := d.gdb.WithContext(ctx).Create(&row).Error; err != nil {
		return dbErr(err, "log API call %s", c.Endpoint)
	}
	*c = row.domain()
	return nil
}

// callToRow is c as the call log stores it; a zero At becomes the store's clock.
func (d *DB) callToRow(c *payments.APICall) apiCallRow {
	return apiCallRow{
		Endpoint:     c.Endpoint,
		RequestID:    c.RequestID,
		HTTPStatus:   c.HTTPStatus,
		ResponseCode: c.ResponseCode,
		ErrorCode:    c.ErrorCode,
		LatencyNS:    int64(c.Latency),
		Err:          c.Err,
		Key:          c.Key,
		QRID:         nullID(c.QRID),
		At:           d.orNow(c.At),
	}
}

// LogCalls appends calls to the call log in one transaction: one read that
// files calls about a QR's md5 under that QR, and one multi-row INSERT per
// checkChunk calls, so a cycle's thousands of exchanges cost a few
// statements and one commit (one fsync on SQLite) rather than one each.
// A call whose QRID is zero and whose Key is a stored QR's md5 gets that
// QR's id. The calls' IDs are not set.
func (d *DB) LogCalls(ctx context.Context, calls []payments.APICall) error {
	if len(calls) == 0 {
		return nil
	}
	rows := make([]apiCallRow, len(calls))
	var keys []string
	for i := range calls {
		rows[i] = d.callToRow(&calls[i])
		if calls[i].QRID == 0 && calls[i].Key != "" {
			keys = append(keys, calls[i].Key)
		}
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)
	err := d.atomic(ctx, func(tx *gorm.DB) error {
		ids := make(map[string]int64, len(keys))
		for len(keys) > 0 {
			chunk := keys[:min(len(keys), checkChunk)]
			keys = keys[len(chunk):]
			var found []qrRow
			if err := tx.Select("id", "md5").Where("md5 IN ?", chunk).Find(&found).Error; err != nil {
				return err
			}
			for _, q := range found {
				ids[q.MD5] = q.ID
			}
		}
		for i := range rows {
			if id, ok := ids[rows[i].Key]; ok && rows[i].QRID == nil {
				rows[i].QRID = &id
			}
		}
		// Ten columns a row: checkChunk rows stay well under SQLite's
		// (32,766) and PostgreSQL's (65,535) limits on bound parameters.
		return tx.CreateInBatches(rows, checkChunk).Error
	})
	if err != nil {
		return dbErr(err, "log %d API calls", len(calls))
	}
	return nil
}

// ListCalls returns up to limit (0: all) logged calls about QR qrID, or
// about anything when qrID is 0, newest first.
func (d *DB) ListCalls(ctx context.Context, qrID int64, limit int) ([]payments.APICall, error) {
	q := d.gdb.WithContext(ctx).Order("id DESC")
	if qrID != 0 {
		q = q.Where("qr_id = ?", qrID)
	}
	return find[payments.APICall, apiCallRow](page(q, limit, 0), "API calls")
}
