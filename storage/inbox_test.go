package storage

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/khqrbot/khqrbot/internal/pgtest"
	"github.com/khqrbot/khqrbot/payments"
)

// upd is update id of chat, with a body naming it.
func upd(id, chat int64) payments.Update {
	return payments.Update{ID: id, Chat: chat, Body: fmt.Appendf(nil, `{"update_id":%d}`, id)}
}

// TestStoreUpdatesOnce: replicas store overlapping deliveries of the same
// updates (a webhook retry to another replica, a new poller given what its
// predecessor took) at once; each update is stored, and so handled, by one.
func TestStoreUpdatesOnce(t *testing.T) {
	pgtest.Each(t, func(t *testing.T, e pgtest.Engine) {
		a, b := twoProcesses(t, e)
		ctx := context.Background()
		wins := make([]int, 60)
		var mu sync.Mutex
		var wg sync.WaitGroup
		for i := range 4 {
			d := []*DB{a, b}[i%2]
			wg.Go(func() {
				for from := 0; from < len(wins); from += 5 {
					var batch []payments.Update
					for id := from; id < min(from+10, len(wins)); id++ { // each batch overlaps the next
						batch = append(batch, upd(int64(1000+id), int64(id%3)))
					}
					batch = append(batch, batch[0]) // twice in one delivery
					ids, err := d.StoreUpdates(ctx, batch, fmt.Sprint("r", i), t0, t0.Add(time.Minute))
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					for k, id := range ids {
						wins[id-1000]++
						if k > 0 && ids[k-1] >= id {
							t.Errorf("stored ids %v out of the delivery's order", ids)
						}
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		for id, w := range wins {
			if w != 1 {
				t.Errorf("update %d stored %d times", 1000+id, w)
			}
		}
		if ids, err := a.StoreUpdates(ctx, nil, "r0", t0, t0); err != nil || len(ids) != 0 {
			t.Errorf("StoreUpdates of nothing = %v %v", ids, err)
		}
		_, err := a.StoreUpdates(ctx, []payments.Update{{ID: 1, Chat: 1}}, "r0", t0, t0)
		wantCode(t, err, payments.EInvalid)
		_, err = a.StoreUpdates(ctx, []payments.Update{upd(1, 1)}, "", t0, t0)
		wantCode(t, err, payments.EInvalid)
		if n, err := a.Prune(ctx, t0.Add(time.Second), 1000); err != nil || n != len(wins) {
			t.Errorf("Prune = %d %v, want the %d updates", n, err, len(wins))
		}
	})
}

// TestInboxClaims walks updates through their life: stored claimed by the
// replica that took them, started and finished by it, or left by it when
// it dies (its claims expire) and taken by a survivor, in each chat's
// order.
func TestInboxClaims(t *testing.T) {
	pgtest.Each(t, func(t *testing.T, e pgtest.Engine) {
		a, b := twoProcesses(t, e)
		ctx := context.Background()
		const lease = 10 * time.Second
		at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
		store := func(d *DB, holder string, now time.Time, ups ...payments.Update) {
			t.Helper()
			if _, err := d.StoreUpdates(ctx, ups, holder, now, now.Add(lease)); err != nil {
				t.Fatal(err)
			}
		}
		start := func(d *DB, id int64, holder string, now time.Time) bool {
			t.Helper()
			ok, err := d.StartUpdate(ctx, id, holder, now, now.Add(lease))
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}
		finish := func(id int64, now time.Time) {
			t.Helper()
			if err := b.FinishUpdate(ctx, id, now); err != nil {
				t.Fatal(err)
			}
		}
		claimed := func(d *DB, holder string, now time.Time) []int64 {
			t.Helper()
			ups, err := d.ClaimUpdates(ctx, holder, now, now.Add(lease), 100)
			if err != nil {
				t.Fatal(err)
			}
			ids := []int64{}
			for _, u := range ups {
				if want := upd(u.ID, u.Chat); !reflect.DeepEqual(u.Body, want.Body) {
					t.Errorf("claimed update %d with body %q, want %q", u.ID, u.Body, want.Body)
				}
				ids = append(ids, u.ID)
			}
			return ids
		}

		// r1 takes 1..4: 1, 2 and 4 in chat 7, 3 in chat 8.
		store(a, "r1", at(0), upd(1, 7), upd(2, 7), upd(3, 8), upd(4, 7))
		if got := claimed(b, "r2", at(5)); len(got) != 0 {
			t.Fatalf("r2 claimed %v while r1's claims last", got)
		}
		if start(b, 1, "r2", at(5)) {
			t.Fatal("r2 started r1's update 1 while r1 held it")
		}
		if start(a, 2, "r1", at(1)) {
			t.Fatal("update 2 started before update 1 of its chat was done")
		}
		if !start(a, 1, "r1", at(1)) {
			t.Fatal("r1 could not start its own update 1")
		}
		finish(1, at(2))
		if start(a, 1, "r1", at(3)) || start(b, 1, "r2", at(30)) {
			t.Fatal("a done update started again")
		}
		var row updateRow
		if err := a.gdb.Where("update_id = 1").Take(&row).Error; err != nil || row.Body != nil || row.DoneAt == nil {
			t.Errorf("a done update keeps its body %q, done at %v (%v)", row.Body, row.DoneAt, err)
		}
		if !start(a, 2, "r1", at(3)) {
			t.Fatal("r1 could not start update 2 once 1 was done")
		}
		// r1 renews its claims on 2, 3 and 4, then dies mid-update 2.
		if err := a.RenewUpdates(ctx, []int64{2, 3, 4}, "r1", at(8).Add(lease)); err != nil {
			t.Fatal(err)
		}
		if err := b.RenewUpdates(ctx, []int64{2, 3, 4}, "r2", at(100)); err != nil {
			t.Fatal(err)
		}
		if got := claimed(b, "r2", at(17)); len(got) != 0 {
			t.Fatalf("r2 claimed %v before r1's renewed claims ended", got)
		}
		got := claimed(b, "r2", at(18))
		if want := []int64{2, 3, 4}; !reflect.DeepEqual(got, want) {
			t.Fatalf("r2 claimed %v after r1 died, want %v in order", got, want)
		}
		if start(a, 3, "r1", at(19)) {
			t.Fatal("r1, back, started update 3 that r2 had claimed")
		}
		if got := claimed(a, "r1", at(19)); len(got) != 0 {
			t.Fatalf("r1 claimed %v that r2 holds", got)
		}
		var tries int
		if err := b.gdb.Model(&updateRow{}).Where("update_id = 2").Pluck("tries", &tries).Error; err != nil || tries != 1 {
			t.Errorf("update 2: %d tries (%v), want 1 before its redo starts", tries, err)
		}
		if !start(b, 2, "r2", at(19)) || !start(b, 3, "r2", at(19)) {
			t.Fatal("r2 could not start the updates it claimed")
		}
		ups, err := a.ClaimUpdates(ctx, "r1", at(40), at(50), 10)
		if err != nil || len(ups) != 3 || ups[0].Tries != 2 || ups[1].Tries != 1 || ups[2].Tries != 0 || ups[0].Holder != "r2" {
			t.Fatalf("claimed again after r2's claims ended: %+v %v; want 2, 3 and 4 with 2, 1 and 0 tries, held by r2 until then", ups, err)
		}
		for _, id := range []int64{2, 3, 4} {
			finish(id, at(41))
		}

		// A chat's later update waits for the earlier one's holder; other chats do not.
		store(a, "r1", at(60), upd(5, 9))
		store(b, "r2", at(60), upd(6, 9), upd(10, 11))
		if err := b.ReleaseUpdate(ctx, 6, "r2", at(61)); err != nil {
			t.Fatal(err)
		}
		if err := b.ReleaseUpdate(ctx, 5, "r2", at(61)); err != nil {
			t.Fatal(err)
		}
		if err := b.ReleaseUpdate(ctx, 10, "r2", at(61)); err != nil {
			t.Fatal(err)
		}
		if got := claimed(b, "r2", at(62)); !reflect.DeepEqual(got, []int64{10}) {
			t.Fatalf("claimed %v while r1 holds update 5 of chat 9; want only 10 of chat 11", got)
		}
		if got := claimed(b, "r2", at(71)); !reflect.DeepEqual(got, []int64{5, 6}) {
			t.Fatalf("claimed %v once r1's claim on 5 ended; want 5 and 6", got)
		}

		_, err = a.ClaimUpdates(ctx, "r1", t0, t0, 0)
		wantCode(t, err, payments.EInvalid)
	})
}

// TestClaimUpdatesOnce: survivors claiming at once take each update left
// behind once.
func TestClaimUpdatesOnce(t *testing.T) {
	pgtest.Each(t, func(t *testing.T, e pgtest.Engine) {
		a, b := twoProcesses(t, e)
		ctx := context.Background()
		const n = 230
		var ups []payments.Update
		for i := range n {
			ups = append(ups, upd(int64(i+1), int64(i)))
		}
		if _, err := a.StoreUpdates(ctx, ups, "dead", t0, t0); err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		claimed := map[int64]int{}
		var wg sync.WaitGroup
		for i := range 6 {
			d := []*DB{a, b}[i%2]
			wg.Go(func() {
				for {
					got, err := d.ClaimUpdates(ctx, fmt.Sprint("r", i), t0, t0.Add(time.Minute), 20)
					if err != nil {
						t.Error(err)
						return
					}
					if len(got) == 0 {
						return
					}
					mu.Lock()
					for _, u := range got {
						claimed[u.ID]++
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if len(claimed) != n {
			t.Errorf("%d updates claimed, want %d", len(claimed), n)
		}
		for id, k := range claimed {
			if k != 1 {
				t.Errorf("update %d claimed %d times", id, k)
			}
		}
	})
}
