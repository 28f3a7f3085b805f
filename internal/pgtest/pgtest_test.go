package pgtest

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// recorder stands in for a test to see how Require ends it.
type recorder struct {
	testing.TB
	skipped, failed string
}

func (r *recorder) Helper()                   {}
func (r *recorder) Skipf(f string, a ...any)  { r.skipped = fmt.Sprintf(f, a...) }
func (r *recorder) Fatalf(f string, a ...any) { r.failed = fmt.Sprintf(f, a...) }

func TestRequireWithoutServer(t *testing.T) {
	t.Setenv(EnvURL, "")
	for _, tt := range []struct {
		ci                  string
		wantSkip, wantFatal bool
	}{
		{"", true, false},
		{"false", true, false},
		{"true", false, true},
		{"1", false, true},
	} {
		t.Setenv("CI", tt.ci)
		r := &recorder{TB: t}
		Require(r)
		if (r.skipped != "") != tt.wantSkip || (r.failed != "") != tt.wantFatal {
			t.Errorf("CI=%q: skipped %q, failed %q", tt.ci, r.skipped, r.failed)
		}
		if msg := r.skipped + r.failed; !strings.Contains(msg, EnvURL) {
			t.Errorf("CI=%q: message %q does not name %s", tt.ci, msg, EnvURL)
		}
	}
}

// TestURL: each call makes a database of its own, dropped when the test ends.
func TestURL(t *testing.T) {
	admin := Require(t)
	ctx := context.Background()
	var names []string
	t.Run("create", func(t *testing.T) {
		for range 2 {
			conn, err := pgx.Connect(ctx, URL(t))
			if err != nil {
				t.Fatal(err)
			}
			var name string
			if err := conn.QueryRow(ctx, "SELECT current_database()").Scan(&name); err != nil {
				t.Fatal(err)
			}
			conn.Close(ctx)
			names = append(names, name)
		}
		if names[0] == names[1] || !strings.HasPrefix(names[0], "khqrbot_test_") {
			t.Errorf("databases %v, want two distinct khqrbot_test_ ones", names)
		}
	})
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_database WHERE datname = ANY($1)", names).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("%d of %v left after the test", n, names)
	}
}
