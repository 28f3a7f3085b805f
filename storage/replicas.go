package storage

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/khqrbot/khqrbot/payments"
)

// Replica coordination: several khqrbot processes on one database share the
// work through the rows below and nothing else. Every claim is one
// transaction that reads what is free and marks it taken: on PostgreSQL the
// read locks its rows FOR UPDATE SKIP LOCKED, so concurrent claimers take
// different rows without waiting for each other; on SQLite the transaction
// holds the write lock from its start (BEGIN IMMEDIATE), so claimers queue
// and each sees what the one before took.
//
// Times compared here come from the callers' clocks: replicas on several
// machines need synchronized clocks (NTP), well within the leases' lengths.

// v3 tables, frozen like those of v1.

type v3Lease struct {
	Name      string    `gorm:"primaryKey;size:100;not null"`
	Holder    string    `gorm:"size:200;not null"`
	ExpiresAt time.Time `gorm:"not null"`
}

func (v3Lease) TableName() string { return "leases" }

type v3Update struct {
	UpdateID  int64     `gorm:"primaryKey;autoIncrement:false;not null"`
	HandledBy string    `gorm:"size:200;not null"`
	At        time.Time `gorm:"not null;index:ix_updates_at"`
}

func (v3Update) TableName() string { return "updates" }

type v3Budget struct {
	Name string `gorm:"primaryKey;size:100;not null"`
	TAT  int64  `gorm:"column:tat;not null"` // GCRA's theoretical arrival time, Unix nanoseconds
}

func (v3Budget) TableName() string { return "budgets" }

// createReplicaTables adds what replicas coordinate through: named leases
// (the long-polling replica, token renewal), the ids of handled Telegram
// updates, and shared request budgets.
func createReplicaTables(tx *gorm.DB) error {
	for _, t := range []any{&v3Lease{}, &v3Update{}, &v3Budget{}} {
		if err := tx.Migrator().CreateTable(t); err != nil {
			return fmt.Errorf("create table %T: %w", t, err)
		}
	}
	return nil
}

// Live row types of the v3 tables; the updates table's is inbox.go's.
type (
	leaseRow  = v3Lease
	budgetRow = v3Budget
)

// skipLocked makes q's rows locked for the transaction, skipping rows
// another transaction holds, on PostgreSQL; SQLite's transactions already
// hold the whole database.
func skipLocked(q *gorm.DB) *gorm.DB {
	if q.Dialector.Name() != "postgres" {
		return q
	}
	return q.Clauses(clause.Locking{Strength: "UPDATE", Options: "SKIP LOCKED"})
}

// forUpdate locks q's rows for the transaction on PostgreSQL, waiting for
// other holders.
func forUpdate(q *gorm.DB) *gorm.DB {
	if q.Dialector.Name() != "postgres" {
		return q
	}
	return q.Clauses(clause.Locking{Strength: "UPDATE"})
}

// ClaimDueQRs claims up to limit pending QRs with an ID above after that
// are due at now (NextCheckAt at or before it), in ID order, with the
// fields a check needs (dueColumns).
// The claim moves their NextCheckAt to until, so that no other claimer
// takes them before then: the claimer records each check (SetQRChecks) or
// closes the QR, and a claimer that dies leaves them due again at until.
// The QRs returned carry the NextCheckAt they had before the claim.
func (d *DB) ClaimDueQRs(ctx context.Context, now, until time.Time, after int64, limit int) ([]payments.QR, error) {
	if limit <= 0 {
		return nil, payments.Errorf(payments.EInvalid, "claim due QRs: limit %d, want a positive number", limit)
	}
	return claim[payments.QR, qrRow](ctx, d, "claim due QRs", "id", map[string]any{"next_check_at": utc(until)}, func(tx *gorm.DB) *gorm.DB {
		return dueQuery(tx, now, after, limit)
	})
}

// ClaimEvents claims up to limit undelivered events due at now, in ID
// order, and returns them as PendingEvents does. The claim moves their
// NextAttempt to until: no other claimer takes them before then, and the
// claimer marks each delivered (MarkEventDelivered) or delays it
// (DelayEvent); one that dies leaves them due again at until.
func (d *DB) ClaimEvents(ctx context.Context, now, until time.Time, limit int) ([]payments.Event, error) {
	if limit <= 0 {
		return nil, payments.Errorf(payments.EInvalid, "claim events: limit %d, want a positive number", limit)
	}
	return claim[payments.Event, eventRow](ctx, d, "claim events", "id", map[string]any{"next_attempt": utc(until)}, func(tx *gorm.DB) *gorm.DB {
		return tx.Where("delivered_at IS NULL AND next_attempt <= ?", utc(now)).Order("id").Limit(limit)
	})
}

// claim sets the columns of set (to their values) in the rows the query
// selected makes (skipping rows other claimers hold locked), and returns
// them as they were before, in order (selected's ORDER BY): what
// ClaimDueQRs, ClaimEvents and ClaimUpdates share. Rows are told apart by
// their primary key (rowID, in the column the row type's schema names).
//
// Claims of one table queue behind each other, as on SQLite: on PostgreSQL
// a transaction-scoped advisory lock per table comes first, then one
// statement claims. Without the lock, claimers ticking together interleave
// their SKIP LOCKED scans and split one batch between them, so a cycle asks
// about partial md5 lists (more calls than ceil(N/50)). On SQLite, whose
// UPDATE cannot return the rows as they were, it is a transaction of a
// SELECT and an UPDATE under the write lock.
func claim[T, R any, P interface {
	domainRow[T, R]
	rowID() int64
	TableName() string
}](ctx context.Context, d *DB, what, order string, set map[string]any, selected func(tx *gorm.DB) *gorm.DB) ([]T, error) {
	var rows []R
	key, err := primaryKey(d.gdb, new(R))
	if err != nil {
		return nil, dbErr(err, "%s", what)
	}
	if d.engine == Postgres {
		err = d.gdb.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			if err := tx.Exec("SELECT pg_advisory_xact_lock(?, hashtext(?))", claimLockKey, P(new(R)).TableName()).Error; err != nil {
				return err
			}
			return claimPostgres[R, P](tx, key, order, set, selected, &rows)
		})
	} else {
		err = d.atomic(ctx, func(tx *gorm.DB) error {
			if err := selected(tx).Find(&rows).Error; err != nil {
				return err
			}
			if len(rows) == 0 {
				return nil
			}
			ids := make([]int64, len(rows))
			for i := range rows {
				ids[i] = P(&rows[i]).rowID()
			}
			return tx.Model(new(R)).Where(key+" IN ?", ids).Updates(set).Error
		})
	}
	if err != nil {
		return nil, dbErr(err, "%s", what)
	}
	out := make([]T, len(rows))
	for i := range rows {
		out[i] = P(&rows[i]).domain()
	}
	return out, nil
}

// claimLockKey, with a hash of the table's name, is the PostgreSQL advisory
// lock that queues claims of that table ("khqr" in ASCII; migrations use
// migrationLockKey's own key space).
const claimLockKey int32 = 0x6b687172

// claimPostgres is claim's single statement: the rows selected finds are
// locked FOR UPDATE SKIP LOCKED, updated, and returned with their values
// from before the update, sorted by order. The sort by id between the lock
// and the update makes the statement lock every row it claims before it
// updates any, as the SELECT then UPDATE it replaced did: interleaving
// each lock with its row's update made the claim slow enough for a
// concurrent claimer's scan, skipping the rows locked so far, to overtake
// it and take every other batch of rows, so that replicas ticking together
// each asked about a part of one list.
func claimPostgres[R any, P interface {
	*R
	TableName() string
}](tx *gorm.DB, key, order string, set map[string]any, selected func(tx *gorm.DB) *gorm.DB, rows *[]R) error {
	table := P(new(R)).TableName()
	due := skipLocked(selected(tx.Model(new(R))))
	cols := slices.Sorted(maps.Keys(set))
	assign := make([]string, len(cols))
	args := []any{due}
	for i, c := range cols {
		assign[i] = c + " = ?"
		args = append(args, set[c])
	}
	return tx.Raw("WITH due AS (?), claimed AS (UPDATE "+table+" SET "+strings.Join(assign, ", ")+" FROM (SELECT * FROM due ORDER BY "+key+") AS due WHERE "+table+"."+key+" = due."+key+" RETURNING due.*) SELECT * FROM claimed ORDER BY "+order,
		args...).Scan(rows).Error
}

// primaryKey names the primary key column of model's table.
func primaryKey(db *gorm.DB, model any) (string, error) {
	stmt := &gorm.Statement{DB: db}
	if err := stmt.Parse(model); err != nil {
		return "", err
	}
	if f := stmt.Schema.PrioritizedPrimaryField; f != nil {
		return f.DBName, nil
	}
	return "", fmt.Errorf("table %s has no single primary key", stmt.Schema.Table)
}

func (r *qrRow) rowID() int64    { return r.ID }
func (r *eventRow) rowID() int64 { return r.ID }

// AcquireLease gives the lease called name to holder until `until` when it
// is free at now (never taken, expired, or already holder's, which renews
// it), and reports whether holder holds it.
func (d *DB) AcquireLease(ctx context.Context, name, holder string, now, until time.Time) (bool, error) {
	if name == "" || holder == "" {
		return false, payments.Errorf(payments.EInvalid, "acquire lease: want a lease name and a holder")
	}
	row := leaseRow{Name: name, Holder: holder, ExpiresAt: utc(until)}
	res := d.gdb.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "name"}},
		DoUpdates: clause.AssignmentColumns([]string{"holder", "expires_at"}),
		Where: clause.Where{Exprs: []clause.Expression{clause.Or(
			clause.Expr{SQL: "leases.holder = ?", Vars: []any{holder}},
			clause.Expr{SQL: "leases.expires_at <= ?", Vars: []any{utc(now)}},
		)}},
	}).Create(&row)
	if res.Error != nil {
		return false, dbErr(res.Error, "acquire lease %q", name)
	}
	return res.RowsAffected == 1, nil
}

// ReleaseLease ends holder's lease called name at once, so that another
// replica need not wait for it to expire. A lease another holds is left alone.
func (d *DB) ReleaseLease(ctx context.Context, name, holder string) error {
	err := d.gdb.WithContext(ctx).Where("name = ? AND holder = ?", name, holder).Delete(&leaseRow{}).Error
	if err != nil {
		return dbErr(err, "release lease %q", name)
	}
	return nil
}

// Lease reports who holds the lease called name and until when; "" and a
// zero time when nobody ever took it. The holder of an expired lease is
// still reported: compare the time.
func (d *DB) Lease(ctx context.Context, name string) (string, time.Time, error) {
	var row leaseRow
	err := d.gdb.WithContext(ctx).Where("name = ?", name).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return "", time.Time{}, nil
	}
	if err != nil {
		return "", time.Time{}, dbErr(err, "read lease %q", name)
	}
	return row.Holder, utc(row.ExpiresAt), nil
}

// SwapSetting sets key to new only if its value is old (a missing key's
// value is ""), and reports whether it did: a compare-and-swap, so that of
// several replicas noticing the same thing, one acts on it.
func (d *DB) SwapSetting(ctx context.Context, key, old, new string) (bool, error) {
	if key == "" {
		return false, payments.Errorf(payments.EInvalid, "swap setting: want a key")
	}
	swapped := false
	err := d.atomic(ctx, func(tx *gorm.DB) error {
		res := tx.Model(&settingRow{}).Where("name = ? AND value = ?", key, old).
			Updates(map[string]any{"value": new, "updated_at": d.now()})
		if res.Error != nil || res.RowsAffected == 1 || old != "" {
			swapped = res.RowsAffected == 1
			return res.Error
		}
		res = tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&settingRow{Name: key, Value: new, UpdatedAt: d.now()})
		swapped = res.RowsAffected == 1
		return res.Error
	})
	if err != nil {
		return false, dbErr(err, "swap setting %q", key)
	}
	return swapped, nil
}

// TakeBudget spends up to n requests of the shared budget called name, at
// now, as far as it allows, and reports how many it spent: a token bucket
// (GCRA) of one request per cost with bursts of up to burst ahead of now,
// whose state every replica shares. When it spends none, it reports how
// long until one is available.
func (d *DB) TakeBudget(ctx context.Context, name string, now time.Time, cost, burst time.Duration, n int) (int, time.Duration, error) {
	if cost <= 0 || burst < 0 || n <= 0 {
		return 0, 0, payments.Errorf(payments.EInvalid, "take budget %q: cost %s, burst %s, %d requests; want a positive cost and count", name, cost, burst, n)
	}
	var took int
	var wait time.Duration
	err := d.atomic(ctx, func(tx *gorm.DB) error {
		var row budgetRow
		err := forUpdate(tx.Where("name = ?", name)).Take(&row).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			// The budget's first take makes its row. A concurrent first take
			// inserts nothing and, on PostgreSQL, waits for the other's
			// commit, so the second locked read finds the row either way.
			if err = tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&budgetRow{Name: name}).Error; err == nil {
				err = forUpdate(tx.Where("name = ?", name)).Take(&row).Error
			}
		}
		if err != nil {
			return err
		}
		tat := max(row.TAT, now.UnixNano())
		ahead := time.Duration(tat - now.UnixNano())
		if ahead > burst {
			wait = ahead - burst
			return nil
		}
		took = min(n, int((burst-ahead)/cost)+1)
		return tx.Model(&budgetRow{}).Where("name = ?", name).Update("tat", tat+int64(took)*int64(cost)).Error
	})
	if err != nil {
		return 0, 0, dbErr(err, "take budget %q", name)
	}
	return took, wait, nil
}

// ReleaseQRs gives back claimed QRs that were not checked after all: they
// are due again at next. Closed QRs are left alone.
func (d *DB) ReleaseQRs(ctx context.Context, ids []int64, next time.Time) error {
	return d.setClaims(ctx, &qrRow{}, "next_check_at", "release %d claimed QRs", ids, next, "status = ?", string(payments.QRPending))
}

// ReleaseEvents gives back claimed events that were not delivered after
// all: they are due again at next. Delivered events are left alone.
func (d *DB) ReleaseEvents(ctx context.Context, ids []int64, next time.Time) error {
	return d.setClaims(ctx, &eventRow{}, "next_attempt", "release %d claimed events", ids, next, "delivered_at IS NULL")
}

// setClaims sets column of the rows of model whose primary keys are ids,
// and that are still open (the condition open, with its args), to t,
// checkChunk ids a statement; what (a format of the chunk's size) names
// the work in errors. What ReleaseQRs, ReleaseEvents and RenewUpdates
// share.
func (d *DB) setClaims(ctx context.Context, model any, column, what string, ids []int64, t time.Time, open string, args ...any) error {
	key, err := primaryKey(d.gdb, model)
	if err != nil {
		return dbErr(err, what, len(ids))
	}
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), checkChunk)]
		ids = ids[len(chunk):]
		err := d.gdb.WithContext(ctx).Model(model).
			Where(key+" IN ?", chunk).Where(open, args...).
			Update(column, utc(t)).Error
		if err != nil {
			return dbErr(err, what, len(chunk))
		}
	}
	return nil
}
