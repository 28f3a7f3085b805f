package storage

import (
	"context"
	"testing"
	"time"

	"github.com/khqrbot/khqrbot/internal/pgtest"
	"github.com/khqrbot/khqrbot/payments"
)

func TestBacklog(t *testing.T) {
	pgtest.Each(t, func(t *testing.T, e pgtest.Engine) {
		d, _ := newDB(t, e)
		ctx := context.Background()
		b, err := d.Backlog(ctx)
		if err != nil || b != (payments.Backlog{}) {
			t.Fatalf("empty database: %+v, %v", b, err)
		}

		_, q1 := seed(t, d)
		_, q2 := seed(t, d)
		seed(t, d)
		if _, err := d.SetQRStatus(ctx, q1.ID, []payments.QRStatus{payments.QRPending}, payments.QRReview, t0); err != nil {
			t.Fatal(err)
		}
		p := testPayment(q1, 1)
		p.Status = payments.PaymentReview
		if err := d.CreatePayment(ctx, p); err != nil {
			t.Fatal(err)
		}
		if err := d.CreatePayment(ctx, testPayment(q2, 2)); err != nil {
			t.Fatal(err)
		}
		var evs []*payments.Event
		for i, at := range []time.Time{t0.Add(time.Minute), t0, t0.Add(2 * time.Minute)} {
			e := &payments.Event{Kind: payments.EventSettled, InvoiceID: int64(i + 1), CreatedAt: at}
			if err := d.AddEvent(ctx, e); err != nil {
				t.Fatal(err)
			}
			evs = append(evs, e)
		}
		if err := d.MarkEventDelivered(ctx, evs[1].ID, t0.Add(time.Second)); err != nil { // the oldest
			t.Fatal(err)
		}

		if _, err := d.StoreUpdates(ctx, []payments.Update{upd(1, 7), upd(2, 7), upd(3, 8)}, "r1", t0, t0.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if err := d.FinishUpdate(ctx, 2, t0); err != nil {
			t.Fatal(err)
		}

		b, err = d.Backlog(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if b.PendingQRs != 2 || b.InReview != 1 || b.OutboxWaiting != 2 || !b.OldestWaiting.Equal(t0.Add(time.Minute)) || b.UpdatesWaiting != 2 {
			t.Errorf("backlog %+v, want 2 pending QRs, 1 payment in review, 2 events waiting since %v, 2 updates waiting", b, t0.Add(time.Minute))
		}
		b.CountedAt = t0.Add(3 * time.Minute)
		if b.OldestAge() != 2*time.Minute {
			t.Errorf("oldest age %v, want 2m", b.OldestAge())
		}
	})
}
