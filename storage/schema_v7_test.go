package storage

import (
	"context"
	"testing"

	"github.com/khqrbot/khqrbot/internal/pgtest"
	"github.com/khqrbot/khqrbot/payments"
)

// TestUpgradeToProgress: version 7 adds the delivery progress to the events
// already in the outbox, as nothing done, and they record progress after
// the upgrade.
func TestUpgradeToProgress(t *testing.T) {
	pgtest.Each(t, func(t *testing.T, e pgtest.Engine) {
		ctx := context.Background()
		path := e.NewURL(t)
		at := t0.UTC()
		old := migratedTo(t, path, 6)
		row := v1Event{Kind: string(payments.EventSettled), InvoiceID: 3, QRID: 4, CreatedAt: at, NextAttempt: at}
		if err := old.gdb.Create(&row).Error; err != nil {
			t.Fatal(err)
		}
		old.Close()

		d, _ := openPath(t, path)
		evs, err := d.PendingEvents(ctx, at, 10)
		if err != nil || len(evs) != 1 {
			t.Fatalf("events after the upgrade: %+v, %v", evs, err)
		}
		if evs[0].Done != (payments.Progress{}) || evs[0].QRID != 4 {
			t.Errorf("event after the upgrade: %+v, want nothing done", evs[0])
		}
		if err := d.SetEventProgress(ctx, row.ID, payments.Progress{QR: 4}); err != nil {
			t.Fatal(err)
		}
		if evs, err := d.PendingEvents(ctx, at, 10); err != nil || evs[0].Done != (payments.Progress{QR: 4}) {
			t.Errorf("progress after the upgrade: %+v, %v", evs, err)
		}
	})
}

// TestEventProgress: an event's delivery progress is kept per mark, only
// moves forward, and comes with the event when it is claimed again.
func TestEventProgress(t *testing.T) {
	pgtest.Each(t, func(t *testing.T, e pgtest.Engine) {
		d, _ := newDB(t, e)
		ctx := context.Background()
		ev := &payments.Event{Kind: payments.EventSettled, InvoiceID: 1, QRID: 2, CreatedAt: t0}
		if err := d.AddEvent(ctx, ev); err != nil {
			t.Fatal(err)
		}
		if ev.Done != (payments.Progress{}) {
			t.Errorf("a new event has done %+v", ev.Done)
		}
		steps := []struct {
			set, want payments.Progress
		}{
			{payments.Progress{QR: 5}, payments.Progress{QR: 5}},
			{payments.Progress{QR: 9, User: 777}, payments.Progress{QR: 9, User: 777}},
			{payments.Progress{QR: 3, User: 778}, payments.Progress{QR: 9, User: 778}}, // a late writer's QR mark
			{payments.Progress{}, payments.Progress{QR: 9, User: 778}},
		}
		for _, s := range steps {
			if err := d.SetEventProgress(ctx, ev.ID, s.set); err != nil {
				t.Fatal(err)
			}
			evs, err := d.PendingEvents(ctx, t0, 10)
			if err != nil || len(evs) != 1 {
				t.Fatalf("pending: %+v, %v", evs, err)
			}
			if evs[0].Done != s.want {
				t.Errorf("after %+v: done %+v, want %+v", s.set, evs[0].Done, s.want)
			}
		}
		claimed, err := d.ClaimEvents(ctx, t0, t0.Add(payments.EventClaim), 10)
		if err != nil || len(claimed) != 1 || claimed[0].Done != (payments.Progress{QR: 9, User: 778}) {
			t.Errorf("claimed: %+v, %v", claimed, err)
		}
		wantCode(t, d.SetEventProgress(ctx, ev.ID+1, payments.Progress{QR: 1}), payments.ENotFound)
		wantCode(t, d.SetEventProgress(ctx, ev.ID, payments.Progress{QR: -1}), payments.EInvalid)
	})
}
