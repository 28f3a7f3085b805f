package storage

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/khqrbot/khqrbot/internal/pgtest"
	"github.com/khqrbot/khqrbot/payments"
)

func TestPrune(t *testing.T) {
	pgtest.Each(t, func(t *testing.T, e pgtest.Engine) {
		d, _ := newDB(t, e)
		ctx := context.Background()
		cut := t0.Add(-30 * 24 * time.Hour)
		// Calls a..e, logged out of time order: the oldest go first, whatever their ids.
		for i, at := range []time.Time{cut.Add(-time.Second), cut.Add(-time.Hour), cut, cut.Add(-time.Minute), t0} {
			if err := d.LogCall(ctx, &payments.APICall{Endpoint: "check_transaction_by_md5", RequestID: string(rune('a' + i)), At: at}); err != nil {
				t.Fatal(err)
			}
		}
		// Events 1..4: delivered long ago, delivered long ago, never delivered, delivered at the cut.
		for i, delivered := range []time.Time{cut.Add(-time.Hour), cut.Add(-time.Minute), {}, cut} {
			e := &payments.Event{Kind: payments.EventSettled, InvoiceID: int64(i + 1), CreatedAt: cut.Add(-2 * time.Hour)}
			if err := d.AddEvent(ctx, e); err != nil {
				t.Fatal(err)
			}
			if !delivered.IsZero() {
				if err := d.MarkEventDelivered(ctx, e.ID, delivered); err != nil {
					t.Fatal(err)
				}
			}
		}
		for i, want := range []struct {
			n      int
			calls  []string // newest first
			events []int64
		}{
			{4, []string{"e", "c", "a"}, []int64{3, 4}}, // calls b and d, events 1 and 2
			{1, []string{"e", "c"}, []int64{3, 4}},
			{0, []string{"e", "c"}, []int64{3, 4}},
		} {
			n, err := d.Prune(ctx, cut, 2)
			if err != nil {
				t.Fatal(err)
			}
			cs, err := d.ListCalls(ctx, 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			var calls []string
			for _, c := range cs {
				calls = append(calls, c.RequestID)
			}
			var events []int64
			if err := d.gdb.Model(&eventRow{}).Order("id").Pluck("id", &events).Error; err != nil {
				t.Fatal(err)
			}
			if n != want.n || !reflect.DeepEqual(calls, want.calls) || !reflect.DeepEqual(events, want.events) {
				t.Errorf("prune %d: %d rows deleted, calls %v and events %v left; want %d, %v and %v", i+1, n, calls, events, want.n, want.calls, want.events)
			}
		}
		_, err := d.Prune(ctx, cut, 0)
		wantCode(t, err, payments.EInvalid)
	})
}

func TestPruneUsesIndex(t *testing.T) {
	d, _ := newSQLite(t)
	var plan []struct{ Detail string }
	err := d.gdb.Raw("EXPLAIN QUERY PLAN SELECT id FROM api_calls WHERE at < ? ORDER BY at LIMIT 50", t0).Scan(&plan).Error
	if err != nil {
		t.Fatal(err)
	}
	if len(plan) == 0 || !strings.Contains(plan[0].Detail, "ix_api_calls_at") {
		t.Errorf("plan %v does not use ix_api_calls_at", plan)
	}
}

// TestPruneLeases: leases expired before the cut go; those expired since, or
// held, stay.
func TestPruneLeases(t *testing.T) {
	pgtest.Each(t, func(t *testing.T, e pgtest.Engine) {
		d, _ := newDB(t, e)
		ctx := context.Background()
		cut := t0.Add(-30 * 24 * time.Hour)
		for name, until := range map[string]time.Time{"old": cut.Add(-time.Hour), "recent": cut.Add(time.Hour), "held": t0.Add(time.Hour)} {
			if ok, err := d.AcquireLease(ctx, name, "r1", until.Add(-time.Minute), until); !ok || err != nil {
				t.Fatalf("lease %s: %v %v", name, ok, err)
			}
		}
		if n, err := d.Prune(ctx, cut, 10); n != 1 || err != nil {
			t.Errorf("pruned %d rows (%v), want the old lease", n, err)
		}
		for name, want := range map[string]string{"old": "", "recent": "r1", "held": "r1"} {
			if holder, _, err := d.Lease(ctx, name); holder != want || err != nil {
				t.Errorf("lease %s: holder %q (%v), want %q", name, holder, err, want)
			}
		}
	})
}
