// Package pgtest gives tests databases of their own: a fresh PostgreSQL
// database on the server KHQRBOT_TEST_POSTGRES_URL names, created for the
// test and dropped when it ends, or a fresh SQLite file. Each runs a test
// once per engine, so a storage test written once checks both.
//
// Without KHQRBOT_TEST_POSTGRES_URL, PostgreSQL tests skip with a message
// saying how to run them; in CI (CI=true) that skip is a failure instead,
// since .ci/run starts a throwaway server and sets the variable.
//
// Test-only: nothing outside _test.go files imports it.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvURL names the variable that points the tests at a PostgreSQL server:
// a postgres:// URL whose user may CREATE DATABASE, for example
// postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable.
const EnvURL = "KHQRBOT_TEST_POSTGRES_URL"

// Engine is a database engine the tests run on.
type Engine struct {
	// Name is the subtest's name: "sqlite" or "postgres".
	Name string
	// NewURL returns a DATABASE_URL for a new, empty database of this
	// engine that lives until t ends. Opening it twice reaches the same
	// database, as two processes would.
	NewURL func(t testing.TB) string
}

// Postgres reports whether e is the PostgreSQL engine.
func (e Engine) Postgres() bool { return e.Name == "postgres" }

// Engines lists the engines: SQLite, then PostgreSQL.
func Engines() []Engine {
	return []Engine{{Name: "sqlite", NewURL: SQLiteURL}, {Name: "postgres", NewURL: URL}}
}

// Each runs fn as a subtest on each engine.
func Each(t *testing.T, fn func(t *testing.T, e Engine)) {
	t.Helper()
	for _, e := range Engines() {
		t.Run(e.Name, func(t *testing.T) { fn(t, e) })
	}
}

// SQLiteURL returns the path of a new SQLite file in t's temporary directory.
func SQLiteURL(t testing.TB) string {
	t.Helper()
	return filepath.Join(t.TempDir(), "khqrbot.db")
}

// Require skips t, or fails it in CI, unless a PostgreSQL server is
// configured, and returns the server's URL.
func Require(t testing.TB) string {
	t.Helper()
	if admin := os.Getenv(EnvURL); admin != "" {
		return admin
	}
	if ci, _ := strconv.ParseBool(os.Getenv("CI")); ci {
		t.Fatalf("PostgreSQL test cannot run: %s is not set, and in CI (CI=true) a skipped test is a failure; .ci/run starts a throwaway server and sets it", EnvURL)
		return ""
	}
	t.Skipf("PostgreSQL test skipped: set %s to a server where the user may CREATE DATABASE, e.g. postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable (.ci/run starts one)", EnvURL)
	return ""
}

// URL creates a database with a random name on the server Require names
// and returns its URL; the database is dropped when t ends. It skips or
// fails t as Require does when no server is configured.
func URL(t testing.TB) string {
	t.Helper()
	admin := Require(t)
	u, err := url.Parse(admin)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Fatalf("%s is not a postgres:// URL", EnvURL)
	}
	b := make([]byte, 8)
	rand.Read(b)
	name := "khqrbot_test_" + hex.EncodeToString(b)
	exec(t, admin, "CREATE DATABASE "+name)
	t.Cleanup(func() { exec(t, admin, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)") })
	u.Path = "/" + name
	return u.String()
}

// exec runs one statement on the server's administrative database.
func exec(t testing.TB, admin, sql string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("connect to the test PostgreSQL server (%s): %v", EnvURL, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}
