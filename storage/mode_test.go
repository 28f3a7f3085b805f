package storage

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/khqrbot/khqrbot/internal/pgtest"
	"github.com/khqrbot/khqrbot/payments"
)

// TestMode: a database records the mode it first served and refuses the
// other; ClearSandbox deletes the sandbox invoices of a database used in
// both modes before modes were recorded (those with a sandbox QR, and
// those made before the first live QR) and keeps the live ones.
func TestMode(t *testing.T) {
	pgtest.Each(t, func(t *testing.T, e pgtest.Engine) {
		d, clk := newDB(t, e)
		ctx := context.Background()
		if m, err := d.Mode(ctx); err != nil || m != "" {
			t.Fatalf("new database: mode %q, %v", m, err)
		}
		if err := d.ClaimMode(ctx, ModeSandbox); err != nil {
			t.Fatal(err)
		}
		if err := d.ClaimMode(ctx, ModeLive); !errors.Is(err, ErrModeMismatch) || payments.ErrorCode(err) != payments.EConflict {
			t.Fatalf("live on a sandbox database: %v", err)
		}
		if _, err := d.ClearSandbox(ctx); err != nil {
			t.Fatal(err)
		}
		if err := d.ClaimMode(ctx, ModeLive); err != nil {
			t.Fatalf("live after clearing: %v", err)
		}
		if err := d.ClaimMode(ctx, ModeSandbox); !errors.Is(err, ErrModeMismatch) {
			t.Fatalf("sandbox on a live database: %v", err)
		}

		// A database from before modes were recorded, used in both.
		if err := d.SetSetting(ctx, modeKey, ""); err != nil {
			t.Fatal(err)
		}
		mk := func(sandbox bool, qrs int) *payments.Invoice {
			inv := testInvoice()
			if err := d.CreateInvoice(ctx, inv); err != nil {
				t.Fatal(err)
			}
			for i := range qrs {
				q := testQR(inv.ID, int(inv.ID)*10+i)
				q.Sandbox, q.CreatedAt = sandbox, clk.Now()
				if err := d.CreateQR(ctx, q); err != nil {
					t.Fatal(err)
				}
				p := testPayment(q, int(q.ID))
				if err := d.CreatePayment(ctx, p); err != nil {
					t.Fatal(err)
				}
				if err := d.LinkMessage(ctx, payments.Message{ChatID: 1, MessageID: int(q.ID), QRID: q.ID, InvoiceID: inv.ID}); err != nil {
					t.Fatal(err)
				}
				if err := d.AddEvent(ctx, &payments.Event{Kind: payments.EventSettled, InvoiceID: inv.ID, QRID: q.ID}); err != nil {
					t.Fatal(err)
				}
			}
			clk.Add(time.Minute)
			return inv
		}
		paidInSandbox := mk(true, 2)
		linkOfSandbox := mk(false, 0) // a share link made in the sandbox, opened live later
		live := mk(false, 1)
		openedLive := mk(false, 0)
		if m, _ := d.Mode(ctx); m != ModeSandbox {
			t.Fatalf("mixed database: mode %q, want sandbox", m)
		}
		n, err := d.ClearSandbox(ctx)
		if err != nil || n != 2 {
			t.Fatalf("ClearSandbox: %d, %v; want 2 invoices", n, err)
		}
		for _, inv := range []*payments.Invoice{paidInSandbox, linkOfSandbox} {
			if _, err := d.Invoice(ctx, inv.ID); payments.ErrorCode(err) != payments.ENotFound {
				t.Errorf("sandbox invoice %d: %v", inv.ID, err)
			}
		}
		for _, inv := range []*payments.Invoice{live, openedLive} {
			if _, err := d.Invoice(ctx, inv.ID); err != nil {
				t.Errorf("live invoice %d: %v", inv.ID, err)
			}
		}
		if m, _ := d.Mode(ctx); m != ModeLive {
			t.Errorf("after clearing: mode %q, want live", m)
		}
	})
}
