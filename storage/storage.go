// Package storage keeps khqrbot's state in a SQL database through GORM and
// implements payments.Store, and the Open API token store of
// bakong.TokenManager (token.go).
//
// SQLite is the default: one file, opened in WAL mode with a busy timeout,
// foreign keys on and write transactions that take the write lock when they
// begin (BEGIN IMMEDIATE), so several processes can share the file without
// deadlocking. PostgreSQL (a postgres:// URL, through pgx) is the engine for
// deployments that run several replicas on one database. Queries stay
// portable GORM, so both engines run the same code and the same migrations;
// where they differ (locks, error codes) engine.go says how. What replicas
// sharing a database coordinate through (claims of due QRs and events,
// leases, handled update ids, the Bakong request budget) is in replicas.go;
// mode.go records whether a database is sandbox or live, and clears a
// sandbox one.
//
// Times are stored in UTC, to the microsecond; money as an integer amount in
// minor units and a currency code. The schema is versioned (see migrate.go):
// opening a database applies the steps it lacks, each in a transaction, and
// never drops data.
package storage

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"gorm.io/driver/postgres"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/khqrbot/khqrbot/payments"
)

// BusyTimeout is how long a statement waits for another connection or
// process to release the write lock before it fails as EUnavailable.
const BusyTimeout = 5 * time.Second

// DB is a khqrbot database. It implements payments.Store and is safe for
// concurrent use; several processes may open the same SQLite file or
// PostgreSQL database.
type DB struct {
	gdb    *gorm.DB
	engine Engine
	clock  payments.Clock
	tx     bool // gdb is a transaction: WithTx reuses it and Close leaves it alone

	existing bool // Open refuses to create a SQLite file (Existing)
}

var _ payments.Store = (*DB)(nil)

// Option tunes Open.
type Option func(*DB)

// WithClock sets the clock that dates rows whose caller left a timestamp
// zero, and migration records. The default is the system clock, which the
// binary keeps. WithClock is exported for the tests of other packages
// (payments' and bot's harnesses), which run the store on the fake clock
// of their Service; an export_test.go would not reach them.
func WithClock(c payments.Clock) Option { return func(d *DB) { d.clock = c } }

// Existing makes Open refuse a SQLite file that does not exist, with an
// error matching fs.ErrNotExist, where it would create one: commands that
// only look at a deployment's database leave no empty one behind.
func Existing() Option { return func(d *DB) { d.existing = true } }

// Open opens the database at databaseURL and brings its schema up to date.
//
// databaseURL is a SQLite file path ("khqrbot.db", "/data/khqrbot.db"), a
// SQLite "file:" URL whose query may add go-sqlite3 parameters, ":memory:"
// for a private in-memory database on one connection (tests), or a
// PostgreSQL URL (postgres:// or postgresql://, with libpq parameters such
// as sslmode). For SQLite, unless the URL sets them, Open adds
// _journal_mode=WAL, _busy_timeout=5000, _foreign_keys=on,
// _txlock=immediate and _synchronous=FULL.
//
// Migrations run under a lock (SQLite's write lock, PostgreSQL's advisory
// lock), so processes that start together apply each step once. A database
// whose schema is newer than this build knows is refused.
func Open(ctx context.Context, databaseURL string, opts ...Option) (*DB, error) {
	dsn, err := parseURL(databaseURL)
	if err != nil {
		return nil, err
	}
	d := &DB{clock: payments.SystemClock{}, engine: dsn.engine}
	for _, o := range opts {
		o(d)
	}
	if d.existing && dsn.file != "" {
		if _, err := os.Stat(dsn.file); err != nil {
			return nil, fmt.Errorf("open database %s: %w", dsn.name, err)
		}
	}
	if err := createPrivate(dsn); err != nil {
		return nil, err
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

// Engine tells which kind of database d is.
func (d *DB) Engine() Engine { return d.engine }

// connect opens the pool and checks its settings. A new SQLite file's first
// connections switch it to WAL, which needs an exclusive lock that SQLite
// does not wait for: when several processes start on a new file, the
// losers retry for up to BusyTimeout. A PostgreSQL server has up to
// PostgresConnectTimeout to answer.
func (d *DB) connect(ctx context.Context, dsn dsn) error {
	limit := BusyTimeout
	if dsn.engine == Postgres {
		limit = PostgresConnectTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, limit)
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

func (d *DB) tryConnect(ctx context.Context, dsn dsn) error {
	dialector := sqlite.Open(dsn.dsn)
	if dsn.engine == Postgres {
		dialector = postgres.Open(dsn.dsn)
	}
	gdb, err := gorm.Open(dialector, &gorm.Config{
		Logger:                 logger.Discard, // SQL with values (tokens, accounts) never reaches a log
		SkipDefaultTransaction: true,           // single statements are atomic; multi-statement work uses explicit transactions
		TranslateError:         true,           // unique and foreign key violations become gorm.ErrDuplicatedKey, gorm.ErrForeignKeyViolated
		NowFunc:                func() time.Time { return utc(d.clock.Now()) },
	})
	if err != nil {
		return fmt.Errorf("open database %s: %w", dsn.name, err)
	}
	d.gdb = gdb
	sqlDB, err := gdb.DB()
	if err != nil {
		return fmt.Errorf("open database %s: %w", dsn.name, err)
	}
	switch {
	case dsn.memory:
		// Every connection to :memory: is a database of its own: keep one, forever.
		sqlDB.SetMaxOpenConns(1)
		sqlDB.SetMaxIdleConns(1)
	case dsn.engine == Postgres:
		// Each replica keeps a few connections: max_connections is shared by all.
		sqlDB.SetMaxOpenConns(PostgresMaxConns)
		sqlDB.SetMaxIdleConns(4)
		sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	default:
		sqlDB.SetMaxIdleConns(4)
	}
	if err := d.check(ctx, dsn); err != nil {
		sqlDB.Close()
		return err
	}
	return nil
}

// check makes sure the connection settings took: foreign keys keep rows
// consistent and WAL lets readers work while one process writes. On
// PostgreSQL it makes sure the server answers.
func (d *DB) check(ctx context.Context, dsn dsn) error {
	db := d.gdb.WithContext(ctx)
	if dsn.engine == Postgres {
		var one int
		if err := db.Raw("SELECT 1").Scan(&one).Error; err != nil {
			return fmt.Errorf("open database %s: %w", dsn.name, err)
		}
		return nil
	}
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

// WithTx runs fn in one transaction. On SQLite it takes the write lock as
// it begins, so concurrent writers (goroutines or processes) queue rather
// than deadlock; on PostgreSQL it is READ COMMITTED, and the conditional
// UPDATEs the store makes let one writer of a row win. The Store fn receives is bound to the transaction; its WithTx
// calls fn with itself. fn's error is returned as it is, after rollback.
// The write lock is held until fn returns: keep network calls out of fn,
// and use only tx inside it (a call on d would wait for the lock it holds).
func (d *DB) WithTx(ctx context.Context, fn func(tx payments.Store) error) error {
	if d.tx {
		return fn(d)
	}
	var fnErr error
	err := d.gdb.WithContext(ctx).Transaction(func(g *gorm.DB) error {
		fnErr = fn(&DB{gdb: g, engine: d.engine, clock: d.clock, tx: true})
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

// Precision is how finely the store keeps times: PostgreSQL's microsecond,
// on both engines, so that a time compares the same way whichever engine
// stored it.
const Precision = time.Microsecond

// utc is t as the store keeps it: in UTC, to Precision (truncated, as pgx
// sends times).
func utc(t time.Time) time.Time { return t.UTC().Truncate(Precision) }

// now is the time for a timestamp the caller left zero.
func (d *DB) now() time.Time { return utc(d.clock.Now()) }

// orNow returns t in UTC, or now when t is zero.
func (d *DB) orNow(t time.Time) time.Time {
	if t.IsZero() {
		return d.now()
	}
	return utc(t)
}

// dbErr wraps a database failure with what was being done. Domain errors
// pass through; a busy database (SQLite's lock, PostgreSQL's serialization
// failures and deadlocks) is EUnavailable and a unique violation EConflict,
// on both engines, so callers can branch on payments.ErrorCode.
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

// dsn is a parsed database URL.
type dsn struct {
	engine Engine
	dsn    string // for the driver: go-sqlite3 with our parameters, or the PostgreSQL URL
	name   string // for messages: the path without parameters, or the URL without its password
	memory bool
	file   string // the SQLite file Open may create; "" when none (memory, read-only, PostgreSQL)
}

// createPrivate creates dsn's SQLite file, empty and readable by its owner
// alone (0600), when it does not exist yet, and takes group and other
// access away from one that does (made by an older khqrbot). SQLite gives
// the -wal and -shm files the mode of the database file, and all three hold
// the renewed Bakong token: left to SQLite, they would be created 0644.
func createPrivate(dsn dsn) error {
	if dsn.file == "" {
		return nil
	}
	f, err := os.OpenFile(dsn.file, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	switch {
	case errors.Is(err, fs.ErrExist):
		return makePrivate(dsn)
	case err != nil:
		return fmt.Errorf("create database %s: %w", dsn.name, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("create database %s: %w", dsn.name, err)
	}
	return nil
}

// makePrivate takes group and other access away from an existing database
// file and its -wal and -shm files.
func makePrivate(dsn dsn) error {
	for _, name := range []string{dsn.file, dsn.file + "-wal", dsn.file + "-shm"} {
		fi, err := os.Stat(name)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("database %s: %w", dsn.name, err)
		}
		if perm := fi.Mode().Perm(); perm&0o077 != 0 {
			if err := os.Chmod(name, perm&^0o077); err != nil {
				return fmt.Errorf("database %s is readable by other users and holds the Bakong token; make it private (chmod 600): %w", dsn.name, err)
			}
		}
	}
	return nil
}

var schemeRE = regexp.MustCompile(`^([a-zA-Z][a-zA-Z0-9+.-]*)://`)

// parseURL turns DATABASE_URL into a driver's DSN.
func parseURL(s string) (dsn, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return dsn{}, errors.New("database URL is empty: want a SQLite file path such as khqrbot.db, a file: URL, or a postgres:// URL")
	}
	if m := schemeRE.FindStringSubmatch(s); m != nil {
		switch strings.ToLower(m[1]) {
		case "postgres", "postgresql":
			return parsePostgresURL(s)
		case "file":
		default:
			return dsn{}, fmt.Errorf("database URL scheme %q is not supported: want a SQLite file path such as khqrbot.db, a file: URL, or a postgres:// URL", m[1])
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
			return dsn{}, err
		}
		base = "file:" + escapePath(s)
	}
	params, err := url.ParseQuery(query)
	if err != nil {
		return dsn{}, fmt.Errorf("database URL parameters %q: %w (want key=value pairs joined by &)", query, err)
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
	d := dsn{engine: SQLite, dsn: base + "?" + params.Encode(), name: name, memory: memory}
	if mode := params.Get("mode"); !memory && (mode == "" || mode == "rwc") {
		d.file = s
		if strings.HasPrefix(s, "file:") {
			p, err := url.PathUnescape(strings.TrimPrefix(name, "//")) // file:///abs/path has an empty authority
			if err != nil {
				return dsn{}, fmt.Errorf("database URL path %q: %w", name, err)
			}
			d.file = p
		}
	}
	return d, nil
}

// DisplayURL is databaseURL as messages and logs may show it: a URL's
// password is replaced by xxxxx, a SQLite path is kept.
func DisplayURL(databaseURL string) string {
	if u, err := url.Parse(strings.TrimSpace(databaseURL)); err == nil && u.User != nil {
		return u.Redacted()
	}
	return databaseURL
}

// parsePostgresURL checks a PostgreSQL URL the way pgx will read it, and
// names it without its password. Its errors never repeat the password.
func parsePostgresURL(s string) (dsn, error) {
	u, err := url.Parse(s)
	if err != nil {
		return dsn{}, errors.New("PostgreSQL URL is malformed: want postgres://user:password@host:5432/database?sslmode=require (percent-encode special characters in the password)")
	}
	name := u.Redacted()
	if _, err := pgx.ParseConfig(s); err != nil {
		msg := err.Error()
		if pw, ok := u.User.Password(); ok && pw != "" {
			msg = strings.ReplaceAll(msg, pw, "xxxxx")
		}
		return dsn{}, fmt.Errorf("PostgreSQL URL %s: %s", name, msg)
	}
	return dsn{engine: Postgres, dsn: s, name: name}, nil
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
