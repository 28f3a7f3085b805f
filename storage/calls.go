package storage

import (
	"context"

	"github.com/khqrbot/khqrbot/payments"
)

// LogCall appends c to the Bakong API call log and sets its ID; a zero At
// becomes the store's clock.
func (d *DB) LogCall(ctx context.Context, c *payments.APICall) error {
	if c == nil {
		return payments.Errorf(payments.EInvalid, "log API call: no call given")
	}
	row := apiCallRow{
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
	if err := d.gdb.WithContext(ctx).Create(&row).Error; err != nil {
		return dbErr(err, "log API call %s", c.Endpoint)
	}
	*c = row.domain()
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
