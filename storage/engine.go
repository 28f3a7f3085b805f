package storage

import (
	"errors"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/mattn/go-sqlite3"
	"gorm.io/gorm"
)

// Engine is the kind of database a DB runs on. The store's behaviour is the
// same on both; Engine is for diagnostics and for the few statements
// (locks) that each engine spells its own way.
type Engine string

// The engines Open knows.
const (
	SQLite   Engine = "sqlite"
	Postgres Engine = "postgres"
)

// PostgresMaxConns bounds each process's connections to PostgreSQL, so
// that a few replicas stay well inside the server's max_connections
// (100 by default).
const PostgresMaxConns = 16

// PostgresConnectTimeout bounds Open's first exchange with a PostgreSQL
// server: a new connection, which a busy server (or one across a network)
// may take seconds to fork and authenticate, is not a hang.
const PostgresConnectTimeout = 30 * time.Second

// PostgreSQL error codes (SQLSTATE) that mean "try again": the statement
// lost a race, nothing is wrong with it.
const (
	pgSerializationFailure = "40001"
	pgDeadlockDetected     = "40P01"
	pgLockNotAvailable     = "55P03"
)

// busy reports whether err means the database is busy rather than wrong:
// SQLite's "database is locked" (or a table is), PostgreSQL's
// serialization failure, deadlock or lock timeout.
func busy(err error) bool {
	var se sqlite3.Error
	if errors.As(err, &se) {
		return se.Code == sqlite3.ErrBusy || se.Code == sqlite3.ErrLocked
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case pgSerializationFailure, pgDeadlockDetected, pgLockNotAvailable:
			return true
		}
	}
	return false
}

// migrationLockKey is the PostgreSQL advisory lock that serializes schema
// migrations across processes ("khqrmigr" in ASCII). Other khqrbot locks
// use other keys.
const migrationLockKey int64 = 0x6b6871726d696772

// lockMigrations makes tx, a transaction that is about to read the schema
// version, the only one migrating until it ends. SQLite's transaction
// already holds the write lock (BEGIN IMMEDIATE); PostgreSQL's takes a
// transaction-scoped advisory lock, released at commit or rollback.
func lockMigrations(tx *gorm.DB) error {
	if tx.Dialector.Name() != "postgres" {
		return nil
	}
	return tx.Exec("SELECT pg_advisory_xact_lock(?)", migrationLockKey).Error
}
