package storage

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/khqrbot/khqrbot/internal/pgtest"
	"github.com/khqrbot/khqrbot/payments"
)

// BenchmarkDueQRs reads a batch of due QRs from 10,000 pending ones (plus
// 10,000 closed ones the index must skip), as each reconciler tick does.
func BenchmarkDueQRs(b *testing.B) {
	for _, e := range pgtest.Engines() {
		b.Run(e.Name, func(b *testing.B) {
			d, _ := newDB(b, e)
			ctx := context.Background()
			err := d.WithTx(ctx, func(tx payments.Store) error {
				inv := testInvoice()
				if err := tx.CreateInvoice(ctx, inv); err != nil {
					return err
				}
				for i := range 20_000 {
					q := testQR(inv.ID, i)
					q.NextCheckAt = t0.Add(time.Duration(i%10_000) * time.Millisecond)
					if i >= 10_000 {
						q.Status = payments.QRExpired
					}
					if err := tx.CreateQR(ctx, q); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			now := t0.Add(time.Hour)
			for _, limit := range []int{50, 500, 10_000} {
				b.Run(fmt.Sprintf("limit=%d", limit), func(b *testing.B) {
					for b.Loop() {
						qs, err := dueQRs(ctx, d, now, 0, limit)
						if err != nil || len(qs) != limit {
							b.Fatal(len(qs), err)
						}
					}
				})
			}
		})
	}
}

// BenchmarkSetQRChecks records a reconciler cycle's 10,000 checks (200 md5
// list calls of 50 "not found" answers each) in one transaction: one by one
// with SetQRCheck, or with SetQRChecks.
func BenchmarkSetQRChecks(b *testing.B) {
	for _, e := range pgtest.Engines() {
		b.Run(e.Name, func(b *testing.B) {
			const n = 10_000
			d, _ := newDB(b, e)
			ctx := context.Background()
			err := d.WithTx(ctx, func(tx payments.Store) error {
				inv := testInvoice()
				if err := tx.CreateInvoice(ctx, inv); err != nil {
					return err
				}
				for i := range n {
					if err := tx.CreateQR(ctx, testQR(inv.ID, i)); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			checks := make([]payments.QRCheck, n)
			for i := range checks {
				at := t0.Add(time.Duration(i/50) * time.Millisecond)
				checks[i] = payments.QRCheck{QRID: int64(i + 1), CheckedAt: at, Next: t0.Add(5 * time.Second)}
			}
			b.Run("SetQRCheck", func(b *testing.B) {
				for b.Loop() {
					err := d.WithTx(ctx, func(tx payments.Store) error {
						for _, c := range checks {
							if err := tx.SetQRCheck(ctx, c.QRID, c.CheckedAt, c.Next, c.Failures, c.LastError); err != nil {
								return err
							}
						}
						return nil
					})
					if err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("SetQRChecks", func(b *testing.B) {
				for b.Loop() {
					if err := d.SetQRChecks(ctx, checks); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

// BenchmarkEventDelivery writes what the delivery of one settled event
// writes (an edit and a notice: two Telegram calls): its row, then with
// records=2 a progress record per call, and the mark delivered. The two
// variants' difference is what recording progress costs an event.
func BenchmarkEventDelivery(b *testing.B) {
	for _, e := range pgtest.Engines() {
		b.Run(e.Name, func(b *testing.B) {
			d, _ := newDB(b, e)
			ctx := context.Background()
			for _, records := range []int{0, 2} {
				b.Run(fmt.Sprintf("records=%d", records), func(b *testing.B) {
					for b.Loop() {
						ev := &payments.Event{Kind: payments.EventSettled, InvoiceID: 1, QRID: 2, CreatedAt: t0}
						if err := d.AddEvent(ctx, ev); err != nil {
							b.Fatal(err)
						}
						for i := range records {
							if err := d.SetEventProgress(ctx, ev.ID, payments.Progress{QR: 2, User: int64(i) * 777}); err != nil {
								b.Fatal(err)
							}
						}
						if err := d.MarkEventDelivered(ctx, ev.ID, t0); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		})
	}
}
