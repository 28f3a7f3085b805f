// Package storage keeps khqrbot's state in a SQL database through GORM and
// implements payments.Store.
//
// SQLite is the default: one file, opened in WAL mode with a busy timeout,
// foreign keys on and write transactions that take the write lock when they
// begin (BEGIN IMMEDIATE), so several processes can share the file without
// deadlocking. Queries stay portable GORM so that PostgreSQL can follow.
//
// Times are stored in UTC; money as an integer amount in minor units and a
// currency code. The schema is versioned (see migrate.go): opening a database
// applies the steps it lacks, each in a transaction, and never drops data.
package storage

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/mattn/go-sqlite3"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/khqrbot/khqrbot/payments"
)

// BusyTimeout is how long a statement waits for another connection or
// process to release the write lock before it fails as EUnavailable.
const BusyTimeout = 5 * time.Second

// DB is a khqrbot database. It implements payments.Store and is safe for
// concurrent use; several processes may open the same SQLite file.
type DB struct {
	gdb   *gorm.DB
	clock payments.Clock
	tx    bool // gdb is a transaction: WithTx reuses it and Close leaves it alone
}

var _ payments.Store = (*DB)(nil)

// Option tunes Open.
type Option func(*DB)

// WithClock sets the clock that dates rows whose caller left a timestamp
// zero, and migration records. The default is the system clock.
func WithClock(c payments.Clock) Option { return func(d *DB) { d.clock = c } }

// Open opens the database at databaseURL and brings its schema up to date.
//
// databaseURL is a SQLite file path ("khqrbot.db", "/data/khqrbot.db"), a
// SQLite "file:" URL whose query may add go-sqlite3 parameters, or
// ":memory:" for a private in-memory database on one connection (tests).
// Unless the URL sets them, Open adds _journal_mode=WAL, _busy_timeout=5000,
// _foreign_keys=on, _txlock=immediate and _synchronous=FULL. PostgreSQL
// URLs are refused for now.
func Open(ctx context.Context, databaseURL string, opts ...Option) (*DB, error) {
	dsn, err := parseURL(databaseURL)
	if err != nil {
		return nil, err
	}
	d := &DB{clock: payments.SystemClock{}}
	for _, o := range opts {
		o(d)
	}
	if err := d.connect(ctx, dsn); err != nil {
		return nil, err
	}
	if err := migrate(ctx, d.gdb, migrations, d.clock); err != nil {
		d.Close()
		return nil, fmt.Errorf("open database %s: %w", dsn.name, err)
	}
	return d, nil
}

// connect opens the pool and checks its settings. A new file's first
// connections switch it to WAL, which needs an exclusive lock that SQLite
// does not wait for: when several processes start on a new file, the
// losers retry for up to BusyTimeout.
func (d *DB) connect(ctx context.Context, dsn sqliteDSN) error {
	ctx, cancel := context.WithTimeout(ctx, BusyTimeout)
	defer cancel()
	for wait := 5 * time.Millisecond; ; wait = min(2*wait, 200*time.Millisecond) {
		err := d.tryConnect(ctx, dsn)
		if err == nil || !busy(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
	}
}

func (d *DB) tryConnect(ctx context.Context, dsn sqliteDSN) error {
	gdb, err := gorm.Open(sqlite.Open(dsn.dsn), &gorm.Config{
		Logger:                 logger.Discard, // SQL with values (tokens, accounts) never reaches a log
		SkipDefaultTransaction: true,           // single statements are atomic; multi-statement work uses explicit transactions
		TranslateError:         true,           // unique and foreign key violations become gorm.ErrDuplicatedKey, gorm.ErrForeignKeyViolated
		NowFunc:                func() time.Time { return d.clock.Now().UTC() },
	})
	if err != nil {
		return fmt.Errorf("open database %s: %w", dsn.name, err)
	}
	d.gdb = gdb
	sqlDB, err := gdb.DB()
	if err != nil {
		return fmt.Errorf("open database %s: %w", dsn.name, err)
	}
	if dsn.memory {
		// Every connection to :memory: is a database of its own: keep one, forever.
		sqlDB.SetMaxOpenConns(1)
		sqlDB.SetMaxIdleConns(1)
	} else {
		sqlDB.SetMaxIdleConns(4)
	}
	if err := d.check(ctx, dsn); err != nil {
		sqlDB.Close()
		return err
	}
	return nil
}

// check makes sure the connection settings took: foreign keys keep rows
// consistent and WAL lets readers work while one process writes.
func (d *DB) check(ctx context.Context, dsn sqliteDSN) error {
	db := d.gdb.WithContext(ctx)
	var fk int
	if err := db.Raw("PRAGMA foreign_keys").Scan(&fk).Error; err != nil {
		return fmt.Errorf("open database %s: %w", dsn.name, err)
	}
	if fk != 1 {
		return fmt.Errorf("open database %s: foreign keys are off, want _foreign_keys=on", dsn.name)
	}
	if dsn.memory {
		return nil
	}
	var mode string
	if err := db.Raw("PRAGMA journal_mode").Scan(&mode).Error; err != nil {
		return fmt.Errorf("open database %s: %w", dsn.name, err)
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("open database %s: journal mode is %q, want wal (is the file on a network filesystem?)", dsn.name, mode)
	}
	return nil
}

// Close releases the database. On the Store that WithTx hands to its
// function it does nothing: the DB that began the transaction owns it.
func (d *DB) Close() error {
	if d.tx {
		return nil
	}
	sqlDB, err := d.gdb.DB()
	if err != nil {
		return fmt.Errorf("close database: %w", err)
	}
	if err := sqlDB.Close(); err != nil {
		return fmt.Errorf("close database: %w", err)
	}
	return nil
}

// WithTx runs fn in one transaction, which takes the write lock as it
// begins, so concurrent writers (goroutines or processes) queue rather than
// deadlock. The Store fn receives is bound to the transaction; its WithTx
// calls fn with itself. fn's error is returned as it is, after rollback.
// The write lock is held until fn returns: keep network calls out of fn,
// and use only tx inside it (a call on d would wait for the lock it holds).
func (d *DB) WithTx(ctx context.Context, fn func(tx payments.Store) error) error {
	if d.tx {
		return fn(d)
	}
	var fnErr error
	err := d.gdb.WithContext(ctx).Transaction(func(g *gorm.DB) error {
		fnErr = fn(&DB{gdb: g, clock: d.clock, tx: true})
		return fnErr
	})
	if fnErr != nil {
		return fnErr
	}
	if err != nil {
		return dbErr(err, "transaction")
	}
	return nil
}

// atomic runs fn in the current transaction, or in a new one.
func (d *DB) atomic(ctx context.Context, fn func(tx *gorm.DB) error) error {
	if d.tx {
		return fn(d.gdb.WithContext(ctx))
	}
	return d.gdb.WithContext(ctx).Transaction(fn)
}

// now is the time for a timestamp the caller left zero.
func (d *DB) now() time.Time { return d.clock.Now().UTC() }

// orNow returns t in UTC, or now when t is zero.
func (d *DB) orNow(t time.Time) time.Time {
	if t.IsZero() {
		return d.now()
	}
	return t.UTC()
}

// dbErr wraps a database failure with what was being done. Domain errors
// pass through; a busy database is EUnavailable and a unique violation
// EConflict, so callers can branch on payments.ErrorCode.
func dbErr(err error, format string, args ...any) error {
	what := fmt.Sprintf(format, args...)
	var pe *payments.Error
	switch {
	case errors.As(err, &pe):
		return err
	case busy(err):
		return &payments.Error{Code: payments.EUnavailable, Message: what + ": the database is busy, try again", Err: err}
	case errors.Is(err, gorm.ErrDuplicatedKey):
		return &payments.Error{Code: payments.EConflict, Message: what + ": it already exists", Err: err}
	case errors.Is(err, gorm.ErrForeignKeyViolated):
		return &payments.Error{Code: payments.ENotFound, Message: what + ": it refers to a row that does not exist", Err: err}
	}
	return fmt.Errorf("%s: %w", what, err)
}

// busy reports whether err is SQLite's "database is locked" (or a table is).
func busy(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && (se.Code == sqlite3.ErrBusy || se.Code == sqlite3.ErrLocked)
}

// sqliteDSN is a parsed database URL.
type sqliteDSN struct {
	dsn    string // for go-sqlite3, with our parameters
	name   string // for messages: the path, without parameters
	memory bool
}

var schemeRE = regexp.MustCompile(`^([a-zA-Z][a-zA-Z0-9+.-]*)://`)

// parseURL turns DATABASE_URL into a go-sqlite3 DSN.
func parseURL(s string) (sqliteDSN, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return sqliteDSN{}, errors.New("database URL is empty: want a SQLite file path such as khqrbot.db, or a file: URL")
	}
	if m := schemeRE.FindStringSubmatch(s); m != nil {
		switch strings.ToLower(m[1]) {
		case "postgres", "postgresql":
			return sqliteDSN{}, errors.New("PostgreSQL is not supported yet: set DATABASE_URL to a SQLite file path such as /data/khqrbot.db")
		case "file":
		default:
			return sqliteDSN{}, fmt.Errorf("database URL scheme %q is not supported: want a SQLite file path such as khqrbot.db, or a file: URL", m[1])
		}
	}
	var base, query string
	switch {
	case s == ":memory:":
		base = s
	case strings.HasPrefix(s, "file:"):
		base, query, _ = strings.Cut(s, "?")
	default:
		if err := dirExists(s); err != nil {
			return sqliteDSN{}, err
		}
		base = "file:" + escapePath(s)
	}
	params, err := url.ParseQuery(query)
	if err != nil {
		return sqliteDSN{}, fmt.Errorf("database URL parameters %q: %w (want key=value pairs joined by &)", query, err)
	}
	memory := base == ":memory:" || base == "file::memory:" || params.Get("mode") == "memory"
	defaults := [][3]string{ // parameter, its go-sqlite3 alias, value
		{"_busy_timeout", "_timeout", fmt.Sprint(BusyTimeout.Milliseconds())},
		{"_foreign_keys", "_fk", "on"},
		{"_txlock", "", "immediate"},
		{"_synchronous", "_sync", "FULL"},
	}
	if !memory {
		defaults = append(defaults, [3]string{"_journal_mode", "_journal", "WAL"})
	}
	for _, p := range defaults {
		if !params.Has(p[0]) && (p[1] == "" || !params.Has(p[1])) {
			params.Set(p[0], p[2])
		}
	}
	name := strings.TrimPrefix(base, "file:")
	return sqliteDSN{dsn: base + "?" + params.Encode(), name: name, memory: memory}, nil
}

// dirExists reports, in words, a missing directory for a database file:
// SQLite's own "unable to open database file" does not say why.
func dirExists(path string) error {
	dir := filepath.Dir(path)
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("database directory %s: %w (create it, or set DATABASE_URL to a file in an existing directory)", dir, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("database directory %s is not a directory", dir)
	}
	return nil
}

// escapePath makes a file path safe inside a SQLite file: URI.
func escapePath(p string) string {
	return strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(p)
}
