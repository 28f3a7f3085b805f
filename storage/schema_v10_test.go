package storage

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/khqrbot/khqrbot/internal/pgtest"
	"github.com/khqrbot/khqrbot/payments"
)

// TestUpgradeToSourceKeys: after version 10, the invoices and QRs stored
// before have no source key, and a key makes at most one invoice and one
// QR, while invoices and QRs with none repeat.
func TestUpgradeToSourceKeys(t *testing.T) {
	pgtest.Each(t, func(t *testing.T, e pgtest.Engine) {
		ctx := context.Background()
		path := e.NewURL(t)
		old := migratedTo(t, path, 9)
		inv := v1Invoice{Kind: "pay", Amount: 500, Currency: "USD", Status: "open", CreatedBy: 1, ChatID: 1, CreatedAt: t0.UTC(), UpdatedAt: t0.UTC()}
		if err := old.gdb.Create(&inv).Error; err != nil {
			t.Fatal(err)
		}
		q := v1QR{InvoiceID: inv.ID, BillNumber: "b", MD5: "m", Amount: 500, Currency: "USD",
			Status: "pending", CreatedAt: t0.UTC(), ExpiresAt: t0.Add(time.Hour).UTC(), NextCheckAt: t0.UTC()}
		if err := old.gdb.Create(&q).Error; err != nil {
			t.Fatal(err)
		}
		old.Close()

		d, _ := openPath(t, path)
		if got, err := d.Invoice(ctx, inv.ID); err != nil || got.SourceKey != 0 {
			t.Fatalf("invoice stored before: %+v, %v; want no source key", got, err)
		}
		if got, err := d.QR(ctx, q.ID); err != nil || got.SourceKey != 0 {
			t.Fatalf("QR stored before: %+v, %v; want no source key", got, err)
		}
		for range 2 { // no key: as many as asked
			a := testInvoice()
			if err := d.CreateInvoice(ctx, a); err != nil {
				t.Fatal(err)
			}
			if err := d.CreateQR(ctx, testQR(a.ID, int(a.ID))); err != nil {
				t.Fatal(err)
			}
		}
		keyed := testInvoice()
		keyed.SourceKey = 7
		if err := d.CreateInvoice(ctx, keyed); err != nil {
			t.Fatal(err)
		}
		again := testInvoice()
		again.SourceKey = 7
		err := d.CreateInvoice(ctx, again)
		wantCode(t, err, payments.EConflict)
		if !errors.Is(err, payments.ErrSourceKeyUsed) || again.ID != 0 {
			t.Fatalf("second invoice of key 7: %v, id %d; want ErrSourceKeyUsed and nothing stored", err, again.ID)
		}
		if got, err := d.InvoiceBySource(ctx, 7); err != nil || got.ID != keyed.ID || got.SourceKey != 7 {
			t.Fatalf("invoice of key 7: %+v, %v; want %s", got, err, keyed.Number)
		}
		_, err = d.InvoiceBySource(ctx, 8)
		wantCode(t, err, payments.ENotFound)
		_, err = d.InvoiceBySource(ctx, 0)
		wantCode(t, err, payments.ENotFound)

		kq := testQR(keyed.ID, 100)
		kq.SourceKey = 7 // an invoice and a QR of one request share its key
		if err := d.CreateQR(ctx, kq); err != nil {
			t.Fatal(err)
		}
		err = d.CreateQR(ctx, &payments.QR{InvoiceID: keyed.ID, BillNumber: "B2", MD5: "m2", Amount: kq.Amount, SourceKey: 7, ExpiresAt: kq.ExpiresAt})
		wantCode(t, err, payments.EConflict)
		if !errors.Is(err, payments.ErrSourceKeyUsed) {
			t.Fatalf("second QR of key 7: %v, want ErrSourceKeyUsed", err)
		}
		if got, err := d.QRBySource(ctx, 7); err != nil || got.ID != kq.ID || got.SourceKey != 7 {
			t.Fatalf("QR of key 7: %+v, %v; want QR %d", got, err, kq.ID)
		}
		var invoices, qrs int64
		d.gdb.Model(&invoiceRow{}).Count(&invoices)
		d.gdb.Model(&qrRow{}).Count(&qrs)
		if invoices != 4 || qrs != 4 {
			t.Errorf("%d invoices and %d QRs, want 4 and 4", invoices, qrs)
		}
	})
}

// TestSourceKeyUsedInTransaction: a key found taken leaves the
// transaction usable (on PostgreSQL a failed statement would abort it), so
// the caller can read what the key made in the same transaction.
func TestSourceKeyUsedInTransaction(t *testing.T) {
	pgtest.Each(t, func(t *testing.T, e pgtest.Engine) {
		d, _ := newDB(t, e)
		ctx := context.Background()
		first := testInvoice()
		first.SourceKey = 9
		if err := d.CreateInvoice(ctx, first); err != nil {
			t.Fatal(err)
		}
		q := testQR(first.ID, 1)
		q.SourceKey = 9
		if err := d.CreateQR(ctx, q); err != nil {
			t.Fatal(err)
		}
		err := d.WithTx(ctx, func(st payments.Store) error {
			inv := testInvoice()
			inv.SourceKey = 9
			if err := st.CreateInvoice(ctx, inv); !errors.Is(err, payments.ErrSourceKeyUsed) {
				t.Errorf("invoice of a used key in a transaction: %v, want ErrSourceKeyUsed", err)
			}
			again := testQR(first.ID, 2)
			again.SourceKey = 9
			if err := st.CreateQR(ctx, again); !errors.Is(err, payments.ErrSourceKeyUsed) {
				t.Errorf("QR of a used key in a transaction: %v, want ErrSourceKeyUsed", err)
			}
			got, err := st.InvoiceBySource(ctx, 9)
			if err != nil {
				return err
			}
			if got.ID != first.ID {
				t.Errorf("invoice of key 9: %s, want %s", got.Number, first.Number)
			}
			_, err = st.QRBySource(ctx, 9)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}
