package storage

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/mattn/go-sqlite3"

	"github.com/khqrbot/khqrbot/internal/pgtest"
	"github.com/khqrbot/khqrbot/payments"
)

// TestSettleOnceConcurrently races 20 goroutines to settle one invoice.
func TestSettleOnceConcurrently(t *testing.T) {
	pgtest.Each(t, func(t *testing.T, e pgtest.Engine) {
		d, _ := newDB(t, e)
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
	})
}

// TestSettleOnceAcrossProcesses has two *DB on one file (two processes) race
// to record the same Bakong transaction and settle its invoice in one
// transaction, as the service does. Exactly one wins each round; every
// other racer sees EConflict, never a "database is locked".
func TestSettleOnceAcrossProcesses(t *testing.T) {
	pgtest.Each(t, func(t *testing.T, e pgtest.Engine) {
		path := e.NewURL(t)
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
	})
}

// TestDeadlockIsUnavailable: two PostgreSQL transactions that lock two QRs
// in opposite orders deadlock; the server aborts one, and the store reports
// it as EUnavailable ("busy, try again"), as SQLite's "database is locked".
// SQLite cannot deadlock this way: its write transactions queue.
func TestDeadlockIsUnavailable(t *testing.T) {
	d, _ := openPath(t, pgtest.URL(t))
	ctx := context.Background()
	inv, q1 := seed(t, d)
	q2 := testQR(inv.ID, 2)
	if err := d.CreateQR(ctx, q2); err != nil {
		t.Fatal(err)
	}
	locked := [2]chan struct{}{make(chan struct{}), make(chan struct{})}
	race := func(i int, first, second int64) error {
		return d.WithTx(ctx, func(tx payments.Store) error {
			if err := tx.SetQRCheck(ctx, first, t0, t0, 0, ""); err != nil {
				return err
			}
			close(locked[i])
			<-locked[1-i]
			return tx.SetQRCheck(ctx, second, t0, t0, 0, "")
		})
	}
	var errs [2]error
	var wg sync.WaitGroup
	wg.Go(func() { errs[0] = race(0, q1.ID, q2.ID) })
	wg.Go(func() { errs[1] = race(1, q2.ID, q1.ID) })
	wg.Wait()
	var codes []string
	for _, err := range errs {
		codes = append(codes, payments.ErrorCode(err))
	}
	slices.Sort(codes)
	if !slices.Equal(codes, []string{"", payments.EUnavailable}) {
		t.Errorf("errors %v (codes %q), want one success and one %s", errs, codes, payments.EUnavailable)
	}
}

// TestBusyErrors: each engine's "try again" errors are EUnavailable, and
// nothing else is.
func TestBusyErrors(t *testing.T) {
	for _, tt := range []struct {
		err  error
		busy bool
	}{
		{sqlite3.Error{Code: sqlite3.ErrBusy}, true},
		{sqlite3.Error{Code: sqlite3.ErrLocked}, true},
		{sqlite3.Error{Code: sqlite3.ErrConstraint}, false},
		{&pgconn.PgError{Code: "40001"}, true},
		{&pgconn.PgError{Code: "40P01"}, true},
		{&pgconn.PgError{Code: "55P03"}, true},
		{&pgconn.PgError{Code: "23505"}, false},
		{errors.New("other"), false},
	} {
		err := dbErr(fmt.Errorf("wrapped: %w", tt.err), "test")
		if got := payments.ErrorCode(err) == payments.EUnavailable; got != tt.busy {
			t.Errorf("%#v: code %q, want unavailable %v", tt.err, payments.ErrorCode(err), tt.busy)
		}
	}
}
