package storage

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/khqrbot/khqrbot/payments"
)

// migration is one step of the schema's history. A released step is never
// edited or reordered: a change is a new step appended to migrations, written
// as explicit operations on its own frozen structs or SQL, never as
// AutoMigrate of the live row types, so that every database, whatever
// version it starts from, ends with the same schema and keeps its rows.
type migration struct {
	version int
	name    string
	up      func(tx *gorm.DB) error
}

// migrations is the schema's history; version n is migrations[n-1].
var migrations = []migration{
	{1, "create tables", createV1},
	{2, "index the call log by time", indexCallsByTime},
	{3, "replica coordination", createReplicaTables},
	{4, "index QRs by invoice and status, and by user and time", indexQRLimits},
	{5, "typed payment causes and alert kinds; no user roles", typeState},
	{6, "due QRs indexed in claim order", indexDueByID},
	{7, "outbox delivery progress", recordProgress},
	{8, "an inbox of Telegram updates to handle", keepUpdates},
	{9, "due QRs claimed in ID order; room for in-place updates of QRs", indexDueInIDOrder},
	{10, "invoices and QRs keyed by the request that made them", keySources},
}

// indexDueByID makes ix_qrs_due (status, next_check_at, id), the order in
// which ClaimDueQRs takes due QRs. SQLite's index already ends with the
// rowid; PostgreSQL's did not, so it read and sorted every due QR to return
// the first 500: with 100,000 pending, each claim read them all.
func indexDueByID(tx *gorm.DB) error {
	return execAll(tx,
		"DROP INDEX ix_qrs_due",
		"CREATE INDEX ix_qrs_due ON qrs (status, next_check_at, id)",
	)
}

// execAll runs a migration's statements in order, and names the one that fails.
func execAll(tx *gorm.DB, stmts ...string) error {
	for _, q := range stmts {
		if err := tx.Exec(q).Error; err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	return nil
}

// indexQRLimits lets IssueQR count an invoice's live QRs and a user's QRs
// of the last hour by index, however many QRs came before.
func indexQRLimits(tx *gorm.DB) error {
	return execAll(tx,
		"CREATE INDEX ix_qrs_invoice_status ON qrs (invoice_id, status)",
		"CREATE INDEX ix_qrs_user_created ON qrs (user_id, created_at)",
	)
}

// indexCallsByTime lets Prune find old call-log rows without reading the
// whole log, which grows by every Bakong call.
func indexCallsByTime(tx *gorm.DB) error {
	return tx.Exec("CREATE INDEX ix_api_calls_at ON api_calls (at)").Error
}

// migrationRow records an applied step in schema_migrations.
type migrationRow struct {
	Version   int       `gorm:"primaryKey;autoIncrement:false;not null"`
	AppliedAt time.Time `gorm:"not null"`
}

// TableName names the table of applied steps.
func (migrationRow) TableName() string { return "schema_migrations" }

// migrate applies the steps db lacks, one transaction each. Each
// transaction takes the migration lock (lockMigrations) before it reads the
// version, so processes upgrading at once apply every step exactly once.
// Steps must be written for both engines: explicit operations that GORM's
// migrator or plain SQL spells the same way on SQLite and PostgreSQL.
func migrate(ctx context.Context, db *gorm.DB, steps []migration, clock payments.Clock) error {
	for i, m := range steps {
		if m.version != i+1 {
			return fmt.Errorf("migration %q has version %d, want %d", m.name, m.version, i+1)
		}
	}
	for {
		done := false
		err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			if err := lockMigrations(tx); err != nil {
				return fmt.Errorf("lock the schema for migration: %w", err)
			}
			if !tx.Migrator().HasTable(&migrationRow{}) {
				if err := tx.Migrator().CreateTable(&migrationRow{}); err != nil {
					return fmt.Errorf("create schema_migrations: %w", err)
				}
			}
			v, err := version(tx)
			if err != nil {
				return err
			}
			if v > len(steps) {
				return fmt.Errorf("database schema is version %d but this khqrbot knows only up to version %d: run a newer khqrbot (or restore a backup)", v, len(steps))
			}
			if v == len(steps) {
				done = true
				return nil
			}
			m := steps[v]
			if err := m.up(tx); err != nil {
				return fmt.Errorf("migrate to version %d (%s): %w", m.version, m.name, err)
			}
			row := migrationRow{Version: m.version, AppliedAt: utc(clock.Now())}
			if err := tx.Create(&row).Error; err != nil {
				return fmt.Errorf("record schema version %d: %w", m.version, err)
			}
			return nil
		})
		if err != nil {
			return dbErr(err, "migrate schema")
		}
		if done {
			return nil
		}
	}
}

// version is the highest applied step, 0 for an empty database.
func version(db *gorm.DB) (int, error) {
	var v *int
	if err := db.Model(&migrationRow{}).Select("MAX(version)").Scan(&v).Error; err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	if v == nil {
		return 0, nil
	}
	return *v, nil
}

// SchemaVersion reports the database's schema version, for diagnostics.
func (d *DB) SchemaVersion(ctx context.Context) (int, error) {
	v, err := version(d.gdb.WithContext(ctx))
	if err != nil {
		return 0, dbErr(err, "schema version")
	}
	return v, nil
}

// ServerVersion names the engine and its version, for diagnostics:
// "SQLite 3.45.1" or "PostgreSQL 15.18 (Debian 15.18-0+deb12u1)".
func (d *DB) ServerVersion(ctx context.Context) (string, error) {
	q, name := "SELECT sqlite_version()", "SQLite "
	if d.engine == Postgres {
		q, name = "SHOW server_version", "PostgreSQL "
	}
	var v string
	if err := d.gdb.WithContext(ctx).Raw(q).Scan(&v).Error; err != nil {
		return "", dbErr(err, "server version")
	}
	return name + v, nil
}

// LatestSchemaVersion is the schema version this build creates and expects.
func LatestSchemaVersion() int { return len(migrations) }
