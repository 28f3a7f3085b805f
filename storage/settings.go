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
