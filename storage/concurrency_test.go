package storage

import (
	"context"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/khqrbot/khqrbot/payments"
)

// TestSettleOnceConcurrently races 20 goroutines to settle one invoice.
func TestSettleOnceConcurrently(t *testing.T) {
	d, _ := newDB(t)
	ctx := context.Background()
	inv, _ := seed(t, d)
	var wins atomic.Int32
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := range 20 {
		wg.Go(func() {
			ok, err := d.SetInvoiceStatus(ctx, inv.ID, []payments.InvoiceStatus{payments.InvoiceOpen}, payments.InvoicePaid, int64(i+1), t0)
			if err != nil {
				errs <- err
			}
			if ok {
				wins.Add(1)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := wins.Load(); n != 1 {
		t.Errorf("%d goroutines settled the invoice, want exactly 1", n)
	}
}

// TestSettleOnceAcrossProcesses has two *DB on one file (two processes) race
// to record the same Bakong transaction and settle its invoice in one
// transaction, as the service does. Exactly one wins each round; every
// other racer sees EConflict, never a "database is locked".
func TestSettleOnceAcrossProcesses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k.db")
	a, _ := openPath(t, path)
	b, _ := openPath(t, path)
	ctx := context.Background()
	const rounds, racers = 5, 8
	for round := range rounds {
		inv, q := seed(t, a)
		var wins atomic.Int32
		var wg sync.WaitGroup
		errs := make(chan error, racers)
		for i := range racers {
			store := a
			if i%2 == 1 {
				store = b
			}
			wg.Go(func() {
				err := store.WithTx(ctx, func(tx payments.Store) error {
					p := testPayment(q, 1000+round)
					if err := tx.CreatePayment(ctx, p); err != nil {
						return err
					}
					ok, err := tx.SetInvoiceStatus(ctx, inv.ID, []payments.InvoiceStatus{payments.InvoiceOpen}, payments.InvoicePaid, p.ID, t0)
					if err != nil {
						return err
					}
					if !ok {
						return payments.Errorf(payments.EConflict, "invoice already settled")
					}
					_, err = tx.SetQRStatus(ctx, q.ID, []payments.QRStatus{payments.QRPending}, payments.QRPaid, t0)
					if err != nil {
						return err
					}
					return tx.AddEvent(ctx, &payments.Event{Kind: payments.EventSettled, InvoiceID: inv.ID, QRID: q.ID, PaymentID: p.ID})
				})
				switch payments.ErrorCode(err) {
				case "":
					wins.Add(1)
				case payments.EConflict:
				default:
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("round %d: %v", round, err)
		}
		if n := wins.Load(); n != 1 {
			t.Fatalf("round %d: %d winners, want 1", round, n)
		}
		got, err := b.Invoice(ctx, inv.ID)
		if err != nil {
			t.Fatal(err)
		}
		p, err := b.PaymentByHash(ctx, testPayment(q, 1000+round).Hash)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != payments.InvoicePaid || got.PaymentID != p.ID {
			t.Errorf("round %d: invoice %s with payment %d, want paid with %d", round, got.Status, got.PaymentID, p.ID)
		}
	}
	evs, err := a.PendingEvents(ctx, t0.AddDate(1, 0, 0), 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != rounds {
		t.Errorf("%d settled events, want %d", len(evs), rounds)
	}
}
