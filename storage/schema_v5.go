package storage

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Version 5 stores as typed columns what earlier versions kept only in
// text: why a payment did not settle by itself (payments.cause), what an
// alert is about (outbox.alert, with a token alert's expiry and days left),
// and it drops users.role, which nothing ever read.

type v5Payment struct {
	Cause string `gorm:"not null;default:''"`
}

// TableName names the payments table.
func (v5Payment) TableName() string { return "payments" }

type v5Event struct {
	Alert    string `gorm:"not null;default:''"`
	Expires  *time.Time
	DaysLeft int `gorm:"not null;default:0"`
}

// TableName names the outbox table.
func (v5Event) TableName() string { return "outbox" }

// typeState adds the typed columns and fills them in from the text that
// held the same facts until version 4.
func typeState(tx *gorm.DB) error {
	m := tx.Migrator()
	for _, c := range []struct {
		row   any
		field string
	}{{&v5Payment{}, "Cause"}, {&v5Event{}, "Alert"}, {&v5Event{}, "Expires"}, {&v5Event{}, "DaysLeft"}} {
		if err := m.AddColumn(c.row, c.field); err != nil {
			return fmt.Errorf("add column %T.%s: %w", c.row, c.field, err)
		}
	}
	if err := execAll(tx,
		// The wording of payments.Service until version 4.
		`UPDATE payments SET cause = 'paid' WHERE status = 'duplicate'`,
		`UPDATE payments SET cause = 'cancelled' WHERE cause = '' AND reason LIKE 'invoice % was cancelled%'`,
		`UPDATE payments SET cause = 'mismatch' WHERE cause = '' AND reason <> '' AND status IN ('review', 'rejected', 'settled')`,
		// The wording of the Reconciler's alerts until version 4.
		`UPDATE outbox SET alert = 'recovered' WHERE kind = 'alert' AND detail = 'Bakong answers again'`,
		`UPDATE outbox SET alert = 'outage' WHERE kind = 'alert' AND detail LIKE 'Bakong checks failed%'`,
		`UPDATE outbox SET alert = 'qr_checks' WHERE kind = 'alert' AND detail LIKE 'checks of QR %'`,
		`ALTER TABLE users DROP COLUMN role`,
	); err != nil {
		return err
	}
	return typeTokenAlerts(tx)
}

// typeTokenAlerts reads the token alerts that version 4 wrote as
// "token_expiring <RFC 3339 expiry> <days left>" or "token_expired <RFC 3339
// expiry>" into the typed columns. Others are left as they are.
func typeTokenAlerts(tx *gorm.DB) error {
	var rows []struct {
		ID     int64
		Detail string
	}
	if err := tx.Table("outbox").Select("id, detail").Where("kind = 'alert' AND detail LIKE 'token_%'").Find(&rows).Error; err != nil {
		return fmt.Errorf("read token alerts: %w", err)
	}
	for _, r := range rows {
		f := strings.Fields(r.Detail)
		if len(f) < 2 {
			continue
		}
		exp, err := time.Parse(time.RFC3339, f[1])
		if err != nil {
			continue
		}
		set := map[string]any{"expires": exp.UTC()}
		switch {
		case f[0] == "token_expired" && len(f) == 2:
			set["alert"] = "token_expired"
		case f[0] == "token_expiring" && len(f) == 3:
			days, err := strconv.Atoi(f[2])
			if err != nil || days < 0 {
				continue
			}
			set["alert"], set["days_left"] = "token_expiring", days
		default:
			continue
		}
		if err := tx.Table("outbox").Where("id = ?", r.ID).Updates(set).Error; err != nil {
			return fmt.Errorf("type token alert %d: %w", r.ID, err)
		}
	}
	return nil
}
