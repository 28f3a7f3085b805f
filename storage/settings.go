package storage

import (
	"context"
	"errors"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/khqrbot/khqrbot/payments"
)

// Setting returns the value stored under key, or "" when there is none.
// Values may be secrets (the Open API token): errors name only the key.
func (d *DB) Setting(ctx context.Context, key string) (string, error) {
	var row settingRow
	err := d.gdb.WithContext(ctx).Where("name = ?", key).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return "", nil
	}
	if err != nil {
		return "", dbErr(err, "get setting %q", key)
	}
	return row.Value, nil
}

// SetSetting stores value under key, replacing any earlier one.
func (d *DB) SetSetting(ctx context.Context, key, value string) error {
	if key == "" {
		return payments.Errorf(payments.EInvalid, "set setting: want a key")
	}
	row := settingRow{Name: key, Value: value, UpdatedAt: d.now()}
	err := d.gdb.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "name"}},
		DoUpdates: clause.AssignmentColumns([]string{"value", "updated_at"}),
	}).Create(&row).Error
	if err != nil {
		return dbErr(err, "set setting %q", key)
	}
	return nil
}

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
