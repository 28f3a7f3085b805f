package storage

import (
	"context"
	"testing"
	"time"

	"github.com/khqrbot/khqrbot/internal/pgtest"
	"github.com/khqrbot/khqrbot/payments"
)

// TestUpgradeToInbox: version 8 keeps the ids earlier versions recorded as
// handled: they are done, so Telegram delivering one again changes
// nothing, and no replica handles them again; new updates go through the
// inbox.
func TestUpgradeToInbox(t *testing.T) {
	pgtest.Each(t, func(t *testing.T, e pgtest.Engine) { upgradeToInbox(t, e.NewURL(t)) })
}

func upgradeToInbox(t *testing.T, path string) {
	ctx := context.Background()
	old := migratedTo(t, path, 7)
	for _, id := range []int64{501, 502} {
		if err := old.gdb.Create(&v3Update{UpdateID: id, HandledBy: "r-old", At: t0.UTC()}).Error; err != nil {
			t.Fatal(err)
		}
	}
	old.Close()

	d, _ := openPath(t, path)
	later := t0.Add(time.Hour)
	if ups, err := d.ClaimUpdates(ctx, "r1", later, later.Add(time.Minute), 10); err != nil || len(ups) != 0 {
		t.Fatalf("claimed %+v (%v) of the updates handled before the upgrade", ups, err)
	}
	if ok, err := d.StartUpdate(ctx, 501, "r1", later, later.Add(time.Minute)); err != nil || ok {
		t.Fatalf("started update 501, handled before the upgrade: %v %v", ok, err)
	}
	ids, err := d.StoreUpdates(ctx, []payments.Update{upd(502, 7), upd(503, 7)}, "r1", later, later.Add(time.Minute))
	if err != nil || len(ids) != 1 || ids[0] != 503 {
		t.Fatalf("stored %v (%v) of 502, handled before the upgrade, and the new 503; want only 503", ids, err)
	}
	if ok, err := d.StartUpdate(ctx, 503, "r1", later, later.Add(time.Minute)); err != nil || !ok {
		t.Fatalf("start a new update after the upgrade: %v %v", ok, err)
	}
	if n, err := d.Prune(ctx, t0.Add(time.Second), 10); err != nil || n != 2 {
		t.Errorf("Prune = %d %v, want the 2 updates from before the upgrade", n, err)
	}
}
