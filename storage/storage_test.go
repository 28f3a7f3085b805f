package storage

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/khqrbot/khqrbot/internal/pgtest"
	"github.com/khqrbot/khqrbot/payments"
)

// t0 is the fake clock's start, off UTC on purpose: the store keeps UTC.
var t0 = time.Date(2025, 3, 14, 9, 26, 53, 589793000, time.FixedZone("ICT", 7*3600))

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// openPath opens the database at path (a SQLite file or a PostgreSQL URL)
// on a fake clock and closes it at the end.
func openPath(t testing.TB, path string) (*DB, *fakeClock) {
	t.Helper()
	clk := &fakeClock{t: t0}
	d, err := Open(context.Background(), path, WithClock(clk))
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	t.Cleanup(func() { d.Close() })
	return d, clk
}

// migratedTo opens the database at path (a SQLite file or a PostgreSQL
// URL) as a khqrbot that knows only the first version migrations would
// have left it, for a test to write rows in the old schema and close it
// before opening it as today's build does.
func migratedTo(t testing.TB, path string, version int) *DB {
	t.Helper()
	ctx := context.Background()
	dsn, err := parseURL(path)
	if err != nil {
		t.Fatal(err)
	}
	clk := &fakeClock{t: t0}
	old := &DB{clock: clk}
	if err := old.connect(ctx, dsn); err != nil {
		t.Fatal(err)
	}
	if err := migrate(ctx, old.gdb, migrations[:version], clk); err != nil {
		t.Fatal(err)
	}
	return old
}

// oldInvoice stores inv in old, a database migratedTo an earlier version,
// through the first version's row, as CreateInvoice did then: open, numbered
// from its id, created at the store's clock. It sets inv as stored.
func oldInvoice(t testing.TB, old *DB, inv *payments.Invoice) {
	t.Helper()
	at := old.orNow(inv.CreatedAt)
	row := v1Invoice{Token: nullString(inv.Token), Kind: string(inv.Kind), Amount: inv.Amount.Amount, Currency: string(inv.Amount.Currency),
		Description: inv.Description, Status: string(payments.InvoiceOpen), CreatedBy: inv.CreatedBy, ChatID: inv.ChatID, CreatedAt: at, UpdatedAt: at}
	if err := old.gdb.Create(&row).Error; err != nil {
		t.Fatalf("create invoice: %v", err)
	}
	n := payments.InvoiceNumber(row.ID)
	if err := old.gdb.Model(&row).Update("number", n).Error; err != nil {
		t.Fatalf("number invoice: %v", err)
	}
	inv.ID, inv.Number, inv.Status, inv.CreatedAt, inv.UpdatedAt = row.ID, n, payments.InvoiceOpen, at, at
}

// newDB opens a fresh database of engine e.
func newDB(t testing.TB, e pgtest.Engine) (*DB, *fakeClock) {
	t.Helper()
	return openPath(t, e.NewURL(t))
}

// newSQLite opens a fresh SQLite file, for tests of SQLite's own settings.
func newSQLite(t testing.TB) (*DB, *fakeClock) {
	t.Helper()
	return openPath(t, pgtest.SQLiteURL(t))
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := payments.ErrorCode(err); got != code {
		t.Fatalf("error %v: code %q, want %q", err, got, code)
	}
}

func TestParseURL(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name    string
		url     string
		want    []string // substrings of the DSN
		notWant []string
		memory  bool
		engine  Engine // "": SQLite
		dsn     string // the whole DSN, when set
		dsnName string // the name messages use, when set
		err     string // substring of the error
	}{
		{name: "plain path", url: filepath.Join(dir, "k.db"),
			want: []string{"file:" + dir + "/k.db?", "_journal_mode=WAL", "_busy_timeout=5000", "_foreign_keys=on", "_txlock=immediate", "_synchronous=FULL"}},
		{name: "path with query characters", url: filepath.Join(dir, "a?b#c%d.db"), want: []string{"/a%3fb%23c%25d.db?"}},
		{name: "file URL keeps its parameters", url: "file:" + dir + "/k.db?_busy_timeout=100&cache=private",
			want: []string{"_busy_timeout=100", "cache=private", "_txlock=immediate"}, notWant: []string{"_busy_timeout=5000"}},
		{name: "alias counts as set", url: "file:k.db?_fk=1", want: []string{"_fk=1"}, notWant: []string{"_foreign_keys"}},
		{name: "memory", url: ":memory:", memory: true, want: []string{"_foreign_keys=on"}, notWant: []string{"_journal_mode"}},
		{name: "memory URL", url: "file:x?mode=memory", memory: true},
		{name: "spaces trimmed", url: "  " + filepath.Join(dir, "k.db") + "\n", want: []string{"file:" + dir + "/k.db?"}},
		{name: "empty", url: " ", err: "database URL is empty: want a SQLite file path"},
		{name: "postgres", url: "postgres://u:secret@db:5432/k?sslmode=require", engine: Postgres, dsn: "postgres://u:secret@db:5432/k?sslmode=require", dsnName: "postgres://u:xxxxx@db:5432/k?sslmode=require"},
		{name: "postgresql", url: "postgresql://db/k", engine: Postgres, dsnName: "postgresql://db/k"},
		{name: "postgres bad parameter", url: "postgres://u:secret@db/k?sslmode=sometimes", err: "PostgreSQL URL postgres://u:xxxxx@db/k?sslmode=sometimes"},
		{name: "postgres bad port", url: "postgres://u:secret@db:port/k", err: "PostgreSQL URL is malformed"},
		{name: "other scheme", url: "mysql://db/k", err: `scheme "mysql" is not supported`},
		{name: "missing directory", url: filepath.Join(dir, "nope", "k.db"), err: "database directory"},
		{name: "bad query", url: "file:k.db?a=%zz", err: "want key=value pairs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseURL(tt.url)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("parseURL(%q) error %v, want %q", tt.url, err, tt.err)
				}
				if strings.Contains(err.Error(), "secret") {
					t.Fatalf("error %q repeats the password", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if want := cmp.Or(tt.engine, SQLite); got.engine != want {
				t.Errorf("engine = %s, want %s", got.engine, want)
			}
			if tt.dsn != "" && got.dsn != tt.dsn {
				t.Errorf("DSN %q, want %q", got.dsn, tt.dsn)
			}
			if tt.dsnName != "" && got.name != tt.dsnName {
				t.Errorf("name %q, want %q", got.name, tt.dsnName)
			}
			if got.memory != tt.memory {
				t.Errorf("memory = %v, want %v", got.memory, tt.memory)
			}
			for _, w := range tt.want {
				if !strings.Contains(got.dsn, w) {
					t.Errorf("DSN %q lacks %q", got.dsn, w)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(got.dsn, w) {
					t.Errorf("DSN %q has %q", got.dsn, w)
				}
			}
		})
	}
}

func TestOpenSettings(t *testing.T) {
	d, _ := newSQLite(t)
	ctx := context.Background()
	// Pin one connection: pragmas are per connection.
	err := d.gdb.Connection(func(c *gorm.DB) error {
		for _, p := range []struct{ pragma, want string }{
			{"journal_mode", "wal"},
			{"foreign_keys", "1"},
			{"busy_timeout", "5000"},
			{"synchronous", "2"},
		} {
			var got string
			if err := c.WithContext(ctx).Raw("PRAGMA " + p.pragma).Scan(&got).Error; err != nil {
				return err
			}
			if got != p.want {
				t.Errorf("PRAGMA %s = %s, want %s", p.pragma, got, p.want)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	// Port 1 on 127.0.0.1: nothing listens, so the connection is refused at once.
	if _, err := Open(ctx, "postgres://u:secret@127.0.0.1:1/db?connect_timeout=5"); err == nil || !strings.Contains(err.Error(), "open database postgres://u:xxxxx@127.0.0.1:1/db") || strings.Contains(err.Error(), "secret") {
		t.Errorf("postgres down: %v", err)
	}
	if _, err := Open(ctx, filepath.Join(t.TempDir(), "missing", "k.db")); err == nil || !strings.Contains(err.Error(), "create it") {
		t.Errorf("missing dir: %v", err)
	}
	if _, err := Open(ctx, "file:"+t.TempDir()+"/k.db?_foreign_keys=off"); err == nil || !strings.Contains(err.Error(), "foreign keys are off") {
		t.Errorf("foreign keys off: %v", err)
	}
}

// TestOpenExisting: with Existing, Open opens a SQLite file that exists and
// refuses, creating nothing, one that does not.
func TestOpenExisting(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	for _, url := range []string{filepath.Join(dir, "k.db"), "file:" + filepath.Join(dir, "k.db") + "?_busy_timeout=100"} {
		if _, err := Open(ctx, url, Existing()); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s missing: %v, want fs.ErrNotExist", url, err)
		}
		if names, _ := filepath.Glob(filepath.Join(dir, "*")); len(names) != 0 {
			t.Fatalf("Existing created %v", names)
		}
	}
	d, _ := openPath(t, filepath.Join(dir, "k.db"))
	d.Close()
	d, err := Open(ctx, filepath.Join(dir, "k.db"), Existing())
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	if d, err := Open(ctx, ":memory:", Existing()); err != nil {
		t.Errorf(":memory: with Existing: %v", err)
	} else {
		d.Close()
	}
}

func TestMemory(t *testing.T) {
	d, _ := openPath(t, ":memory:")
	ctx := context.Background()
	inv := testInvoice()
	if err := d.CreateInvoice(ctx, inv); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Invoice(ctx, inv.ID); err != nil {
		t.Fatal(err)
	}
}

// TestSchemaMatchesRows checks that every live row type reads and writes
// only columns the migrations created.
func TestSchemaMatchesRows(t *testing.T) {
	pgtest.Each(t, func(t *testing.T, e pgtest.Engine) {
		d, _ := newDB(t, e)
		m := d.gdb.Migrator()
		for _, row := range []any{&invoiceRow{}, &qrRow{}, &paymentRow{}, &eventRow{}, &messageRow{}, &userRow{}, &apiCallRow{}, &settingRow{}, &migrationRow{}} {
			if !m.HasTable(row) {
				t.Errorf("%T: no table", row)
				continue
			}
			stmt := &gorm.Statement{DB: d.gdb}
			if err := stmt.Parse(row); err != nil {
				t.Fatal(err)
			}
			cols, err := m.ColumnTypes(row)
			if err != nil {
				t.Fatal(err)
			}
			if len(cols) != len(stmt.Schema.DBNames) {
				t.Errorf("%T: table has %d columns, row %d", row, len(cols), len(stmt.Schema.DBNames))
			}
			for _, c := range stmt.Schema.DBNames {
				if !m.HasColumn(row, c) {
					t.Errorf("%T: no column %s", row, c)
				}
			}
		}
		for _, ix := range []struct {
			table any
			name  string
		}{
			{&invoiceRow{}, "ux_invoices_number"}, {&invoiceRow{}, "ux_invoices_token"},
			{&qrRow{}, "ux_qrs_md5"}, {&qrRow{}, "ux_qrs_bill_number"}, {&qrRow{}, "ix_qrs_due"},
			{&paymentRow{}, "ux_payments_hash"}, {&messageRow{}, "ux_messages_qr"}, {&apiCallRow{}, "ix_api_calls_at"},
		} {
			if !m.HasIndex(ix.table, ix.name) {
				t.Errorf("no index %s", ix.name)
			}
		}
	})
}

// dueSQL is the statement of dueQuery (a claim's read) with its values.
func dueSQL(d *DB, after int64, limit int) string {
	return d.gdb.ToSQL(func(tx *gorm.DB) *gorm.DB {
		return skipLocked(dueQuery(tx.Model(&qrRow{}), t0, after, limit)).Find(&[]qrRow{})
	})
}

// TestDueQRsUsesIndex: SQLite reads a claim's due QRs from ix_qrs_due, in
// its order, from the cursor on.
func TestDueQRsUsesIndex(t *testing.T) {
	d, _ := newSQLite(t)
	var plan []struct{ Detail string }
	if err := d.gdb.Raw("EXPLAIN QUERY PLAN " + dueSQL(d, 1000, 500)).Scan(&plan).Error; err != nil {
		t.Fatal(err)
	}
	if len(plan) == 0 || !strings.Contains(plan[0].Detail, "ix_qrs_due (status=? AND id>?)") {
		t.Errorf("plan %v does not search ix_qrs_due from the cursor", plan)
	}
	for _, p := range plan {
		if strings.Contains(p.Detail, "TEMP B-TREE") {
			t.Errorf("plan %v sorts: the index should give the order", plan)
		}
	}
}

// TestDueQRsUsesIndexPostgres: PostgreSQL reads a claim's due QRs in index
// order from the cursor on and stops at the limit, rather than reading and
// sorting all of them (a 100,000-QR backlog made each claim read every due
// QR). Sequential scans are off so that the planner shows the index plan on
// a small table.
func TestDueQRsUsesIndexPostgres(t *testing.T) {
	d, _ := openPath(t, pgtest.URL(t))
	err := d.gdb.Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec("SET LOCAL enable_seqscan = off").Error; err != nil {
			return err
		}
		var plan []string
		if err := tx.Raw("EXPLAIN " + dueSQL(d, 1000, 500)).Scan(&plan).Error; err != nil {
			return err
		}
		text := strings.Join(plan, "\n")
		if !strings.Contains(text, "Index Scan using ix_qrs_due") || !strings.Contains(text, "(id > 1000)") || strings.Contains(text, "Sort") {
			t.Errorf("plan does not read ix_qrs_due in order from the cursor:\n%s", text)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestReopenKeepsData(t *testing.T) {
	pgtest.Each(t, func(t *testing.T, e pgtest.Engine) {
		path := e.NewURL(t)
		ctx := context.Background()
		d, _ := openPath(t, path)
		inv := testInvoice()
		if err := d.CreateInvoice(ctx, inv); err != nil {
			t.Fatal(err)
		}
		if err := d.SetSetting(ctx, "bakong_token", "tok"); err != nil {
			t.Fatal(err)
		}
		if err := d.Close(); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			d2, _ := openPath(t, path)
			got, err := d2.Invoice(ctx, inv.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, inv) {
				t.Errorf("after reopen %+v, want %+v", got, inv)
			}
			if v, _ := d2.Setting(ctx, "bakong_token"); v != "tok" {
				t.Errorf("setting %q after reopen", v)
			}
			var n int64
			d2.gdb.Model(&migrationRow{}).Count(&n)
			if v, err := d2.SchemaVersion(ctx); err != nil || v != LatestSchemaVersion() || n != int64(len(migrations)) {
				t.Errorf("version %d (%v) in %d rows, want %d", v, err, n, LatestSchemaVersion())
			}
			d2.Close()
		}
	})
}

func TestMigrations(t *testing.T) {
	pgtest.Each(t, func(t *testing.T, e pgtest.Engine) {
		ctx := context.Background()
		v := len(migrations) // this build's version; the steps below come next
		addNote := migration{v + 1, "add invoice notes", func(tx *gorm.DB) error {
			return tx.Exec("ALTER TABLE invoices ADD COLUMN note text NOT NULL DEFAULT ''").Error
		}}
		failing := migration{v + 1, "half done", func(tx *gorm.DB) error {
			if err := tx.Exec("CREATE TABLE half (id integer)").Error; err != nil {
				return err
			}
			return errors.New("boom")
		}}
		tests := []struct {
			name    string
			steps   []migration
			version int    // after migrate
			err     string // substring of migrate's error
			reopen  string // substring of Open's error afterwards, "" for success
		}{
			{name: "idempotent", steps: migrations, version: v},
			{name: "upgrade keeps rows", steps: append(migrations[:v:v], addNote), version: v + 1,
				reopen: fmt.Sprintf("database schema is version %d but this khqrbot knows only up to version %d", v+1, v)},
			{name: "failed step rolls back", steps: append(migrations[:v:v], failing), version: v, err: fmt.Sprintf("migrate to version %d (half done): boom", v+1)},
			{name: "gap", steps: append(migrations[:v:v], migration{v + 2, "skip", addNote.up}), version: v, err: fmt.Sprintf("has version %d, want %d", v+2, v+1)},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				path := e.NewURL(t)
				d, clk := openPath(t, path)
				inv := testInvoice()
				if err := d.CreateInvoice(ctx, inv); err != nil {
					t.Fatal(err)
				}
				err := migrate(ctx, d.gdb, tt.steps, clk)
				if tt.err == "" && err != nil || tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
					t.Fatalf("migrate: %v, want %q", err, tt.err)
				}
				if v, err := d.SchemaVersion(ctx); err != nil || v != tt.version {
					t.Errorf("version %d (%v), want %d", v, err, tt.version)
				}
				if d.gdb.Migrator().HasTable("half") {
					t.Error("a failed step left a table behind")
				}
				if got, err := d.Invoice(ctx, inv.ID); err != nil || !reflect.DeepEqual(got, inv) {
					t.Errorf("invoice after migrate: %+v %v", got, err)
				}
				d.Close()
				d2, err := Open(ctx, path)
				if tt.reopen == "" && err != nil || tt.reopen != "" && (err == nil || !strings.Contains(err.Error(), tt.reopen)) {
					t.Fatalf("reopen: %v, want %q", err, tt.reopen)
				}
				if d2 != nil {
					d2.Close()
				}
			})
		}
	})
}

// TestUpgradeFromV1 opens a database that has only the first schema
// version, with rows in it, and checks that every later step applies and
// keeps them.
func TestUpgradeFromV1(t *testing.T) {
	pgtest.Each(t, func(t *testing.T, e pgtest.Engine) {
		ctx := context.Background()
		path := e.NewURL(t)
		old := migratedTo(t, path, 1)
		inv := testInvoice()
		call := &payments.APICall{Endpoint: "check_transaction_by_md5", RequestID: "r1", At: t0}
		oldInvoice(t, old, inv)
		if err := old.LogCall(ctx, call); err != nil {
			t.Fatal(err)
		}
		old.Close()

		d, _ := openPath(t, path)
		if v, err := d.SchemaVersion(ctx); err != nil || v != LatestSchemaVersion() {
			t.Fatalf("version %d (%v), want %d", v, err, LatestSchemaVersion())
		}
		if !d.gdb.Migrator().HasIndex(&apiCallRow{}, "ix_api_calls_at") {
			t.Error("no index ix_api_calls_at after the upgrade")
		}
		if got, err := d.Invoice(ctx, inv.ID); err != nil || !reflect.DeepEqual(got, inv) {
			t.Errorf("invoice after the upgrade: %+v %v, want %+v", got, err, inv)
		}
		if got, err := d.ListCalls(ctx, 0, 0); err != nil || len(got) != 1 || !reflect.DeepEqual(&got[0], call) {
			t.Errorf("call log after the upgrade: %+v %v, want %+v", got, err, call)
		}
	})
}

// TestConcurrentFirstOpen has two processes create the schema of a new file at once.
func TestConcurrentFirstOpen(t *testing.T) {
	pgtest.Each(t, func(t *testing.T, e pgtest.Engine) {
		path := e.NewURL(t)
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for i := range errs {
			wg.Go(func() {
				d, err := Open(context.Background(), path)
				if err == nil {
					err = d.Close()
				}
				errs[i] = err
			})
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Error(err)
			}
		}
		d, _ := openPath(t, path)
		var n int64
		d.gdb.Model(&migrationRow{}).Count(&n)
		if n != int64(len(migrations)) {
			t.Errorf("%d migration rows, want %d", n, len(migrations))
		}
	})
}
