package storage

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/khqrbot/khqrbot/internal/pgtest"
	"github.com/khqrbot/khqrbot/payments"
)

// TestUpgradeToDueInIDOrder: after version 9, the QRs stored before are
// claimed in ID order, whatever their due times, from a cursor on; on
// PostgreSQL, qrs leaves room on its pages for in-place updates.
func TestUpgradeToDueInIDOrder(t *testing.T) {
	pgtest.Each(t, func(t *testing.T, e pgtest.Engine) {
		ctx := context.Background()
		path := e.NewURL(t)
		old := migratedTo(t, path, 8)
		inv := v1Invoice{Kind: "pay", Amount: 500, Currency: "USD", Status: "open", CreatedBy: 1, ChatID: 1, CreatedAt: t0.UTC(), UpdatedAt: t0.UTC()}
		if err := old.gdb.Create(&inv).Error; err != nil {
			t.Fatal(err)
		}
		for i := range 5 {
			q := v1QR{InvoiceID: inv.ID, BillNumber: string(rune('a' + i)), MD5: string(rune('a' + i)), Amount: 500, Currency: "USD",
				Status: "pending", CreatedAt: t0.UTC(), ExpiresAt: t0.Add(time.Hour).UTC(), NextCheckAt: t0.Add(-time.Duration(i) * time.Second).UTC()}
			if err := old.gdb.Create(&q).Error; err != nil {
				t.Fatal(err)
			}
		}
		old.Close()

		d, _ := openPath(t, path)
		var ids []int64
		for after := int64(0); ; {
			qrs, err := d.ClaimDueQRs(ctx, t0, t0.Add(time.Minute), after, 2)
			if err != nil {
				t.Fatal(err)
			}
			if len(qrs) == 0 {
				break
			}
			for _, q := range qrs {
				ids = append(ids, q.ID)
			}
			after = qrs[len(qrs)-1].ID
		}
		if want := []int64{1, 2, 3, 4, 5}; !slices.Equal(ids, want) {
			t.Errorf("claimed %v after the upgrade, want %v", ids, want)
		}
		if e.Postgres() {
			var opts []string
			if err := d.gdb.Raw("SELECT unnest(reloptions) FROM pg_class WHERE relname = 'qrs'").Scan(&opts).Error; err != nil {
				t.Fatal(err)
			}
			if !slices.Contains(opts, "fillfactor=50") {
				t.Errorf("qrs options %v, want fillfactor=50", opts)
			}
		}
	})
}

// checkColumns are the columns of qrs that a reconciler cycle writes to
// each pending QR, in its claim or its check record.
var checkColumns = []string{"next_check_at", "last_checked_at", "check_failures", "last_error"}

// TestCheckWritesTouchNoIndex: no index of qrs covers a column a check
// writes, so that PostgreSQL makes those writes HOT updates, which add no
// index entries: a claim and the check's record, on PostgreSQL, are HOT.
// An index on one of those columns would bring back a cycle's 200,000
// index entries per 100,000 pending QRs (see indexDueInIDOrder).
func TestCheckWritesTouchNoIndex(t *testing.T) {
	pgtest.Each(t, func(t *testing.T, e pgtest.Engine) {
		d, _ := newDB(t, e)
		ctx := context.Background()
		q := `SELECT il.name AS ix, ii.name AS col FROM pragma_index_list('qrs') il, pragma_index_info(il.name) ii`
		if e.Postgres() {
			q = `SELECT c.relname AS ix, a.attname AS col FROM pg_index i
				JOIN pg_class c ON c.oid = i.indexrelid
				JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
				WHERE i.indrelid = 'qrs'::regclass`
		}
		var cols []struct{ Ix, Col string }
		if err := d.gdb.Raw(q).Scan(&cols).Error; err != nil {
			t.Fatal(err)
		}
		if len(cols) == 0 {
			t.Fatal("found no indexed column of qrs")
		}
		for _, c := range cols {
			if slices.Contains(checkColumns, c.Col) {
				t.Errorf("index %s covers %s, which every check writes", c.Ix, c.Col)
			}
		}
		if !e.Postgres() {
			return
		}
		_, qr := seed(t, d)
		err := d.WithTx(ctx, func(st payments.Store) error {
			claimed, err := st.ClaimDueQRs(ctx, qr.NextCheckAt, t0.Add(time.Hour), 0, 10)
			if err != nil || len(claimed) != 1 {
				t.Fatalf("claim: %v, %v", claimed, err)
			}
			if err := st.SetQRChecks(ctx, []payments.QRCheck{{QRID: qr.ID, CheckedAt: t0, Next: t0.Add(time.Minute), Failures: 1, LastError: "HTTP 503"}}); err != nil {
				return err
			}
			var hot, all int
			tx := st.(*DB).gdb
			if err := tx.Raw("SELECT pg_stat_get_xact_tuples_hot_updated('qrs'::regclass), pg_stat_get_xact_tuples_updated('qrs'::regclass)").Row().Scan(&hot, &all); err != nil {
				return err
			}
			if all != 2 || hot != all {
				t.Errorf("%d of the %d updates of a claim and a check record were HOT, want 2 of 2", hot, all)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}
