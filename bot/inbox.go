package bot

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"sync"
	"time"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/khqrbot/khqrbot/payments"
)

// The inbox: no update is lost with a replica that dies.
//
// Telegram forgets an update once it is confirmed (the next getUpdates
// offset) or its webhook post is answered 200. Before either, the replica
// that took it stores it in the database (StoreUpdates: one statement per
// delivery), claimed by itself for inboxLease, and only then queues it in
// its chat's lane. The lane starts it (StartUpdate: the claim is still
// ours, no earlier update of the chat is still to do), runs it, and
// finishes it (FinishUpdate: done, and the user's words forgotten). While a
// replica holds updates, queued or running, it renews its claims every
// inboxRenew. A replica that dies leaves its claims to end within
// inboxLease; every replica, poller or not, webhook or polling, looks every
// inboxSweep for updates not done whose claim ended (ClaimUpdates), and runs
// them in update id order within each chat. So a survivor answers what a
// dead replica took, within inboxLease+inboxSweep of its death.
//
// A redo is at least once. An update whose handling started on a replica
// that died before finishing it runs again, from the start, on a survivor,
// and what its first run did stays done: a reply may come twice (/help, a
// list, a refusal, an error, the share link of an /invoice), and a button
// press may be answered again (Telegram refuses a second answer to one
// press; the action itself, such as a check or a cancel, runs again, and
// settled, cancelled or expired invoices stay as they are). What an update
// makes is keyed by its update id (payments.SourceKey), so its redo makes
// nothing new: /pay and /invoice get back the invoice the first run made,
// and /pay, /start inv_… and New QR the QR it issued, which the redo
// shows again and whose earlier message it deletes (a first run that died
// between sending the photo and linking it to its QR leaves that photo
// too: two photos of one QR, which settles once whichever is paid). A QR
// paid, cancelled or closed by the time of the redo is not offered again:
// its message is brought up to date. Nothing is ever paid or settled
// twice: settlement is by transaction, exactly once.
// An update that never finishes (it kills its replica each time) is dropped
// once maxUpdateTries runs of it started.
const (
	inboxLease     = 10 * time.Second // a claim on updates, renewed while held
	inboxRenew     = 2 * time.Second
	inboxSweep     = 2 * time.Second // how often each replica looks for updates left behind
	inboxBatch     = 100             // updates taken over at most per sweep
	maxUpdateTries = 3
)

// held is the set of updates this replica claimed and has not finished,
// queued or running: the claims it renews.
type held struct {
	mu  sync.Mutex
	ids map[int64]bool
}

func (h *held) add(ids ...int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.ids == nil {
		h.ids = map[int64]bool{}
	}
	for _, id := range ids {
		h.ids[id] = true
	}
}

func (h *held) drop(id int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.ids, id)
}

func (h *held) list() []int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Sorted(maps.Keys(h.ids))
}

// decode reads an update as Telegram sent it: for the lanes, and for the
// inbox, which keeps raw as it came.
func decode(raw []byte) (*models.Update, payments.Update, error) {
	var u models.Update
	if err := json.Unmarshal(raw, &u); err != nil {
		return nil, payments.Update{}, err
	}
	if u.ID <= 0 {
		return nil, payments.Update{}, errors.New("want an update with a positive update_id")
	}
	return &u, payments.Update{ID: u.ID, Chat: updateChat(&u), Body: raw}, nil
}

// take stores the updates of one delivery in the inbox and queues, in
// order, those this replica is the first to store; the others are another
// replica's to run, or done. An error means nothing was stored: the
// delivery must not be confirmed to Telegram.
func (b *Bot) take(ctx context.Context, ups []*models.Update, stored []payments.Update) error {
	if len(stored) == 0 {
		return nil
	}
	ids, err := b.cfg.Service.StoreUpdates(ctx, stored, b.cfg.Replica, inboxLease)
	if err != nil {
		return err
	}
	b.held.add(ids...)
	for _, u := range ups {
		if slices.Contains(ids, u.ID) {
			b.tg.ProcessUpdate(ctx, u)
		} else {
			b.log.Info("update already taken by this deployment; skipping", "update", u.ID)
		}
	}
	return nil
}

// inboxed runs, in its lane, an update this replica holds: it starts it,
// runs it and finishes it, also when the handler panics (guard recovers
// the panic; a redo would panic again). One it may not start (done, held
// by another replica, or behind an earlier update of its chat still to do)
// it lets go, for a sweep to take in its turn. When the inbox cannot be
// reached the update runs anyway: a repeat is better than a loss.
func (b *Bot) inboxed(next tgbot.HandlerFunc) tgbot.HandlerFunc {
	return func(ctx context.Context, tg *tgbot.Bot, u *models.Update) {
		defer b.held.drop(u.ID)
		ok, err := b.cfg.Service.StartUpdate(ctx, u.ID, b.cfg.Replica, inboxLease)
		switch {
		case err != nil:
			b.log.Warn("inbox: cannot start an update; handling it anyway", "update", u.ID, "err", err)
		case !ok:
			b.log.Info("inbox: update done, held by another replica, or behind an earlier one of its chat; leaving it", "update", u.ID)
			b.release(u.ID)
			return
		}
		defer b.finish(u.ID)
		next(ctx, tg, u)
	}
}

// finish marks update id done, even after the handler's context ended.
func (b *Bot) finish(id int64) {
	ctx, cancel := context.WithTimeout(context.Background(), markingTimeout)
	defer cancel()
	if err := b.cfg.Service.FinishUpdate(ctx, id); err != nil {
		b.log.Warn("inbox: cannot mark an update done; a survivor may run it again", "update", id, "err", err)
	}
}

// release gives up this replica's claim on update id.
func (b *Bot) release(id int64) {
	ctx, cancel := context.WithTimeout(context.Background(), markingTimeout)
	defer cancel()
	if err := b.cfg.Service.ReleaseUpdate(ctx, id, b.cfg.Replica); err != nil {
		b.log.Warn("inbox: cannot release an update", "update", id, "err", err)
	}
}

// drop finishes an update this replica holds without running it.
func (b *Bot) drop(id int64) {
	b.finish(id)
	b.held.drop(id)
}

// keepClaims renews this replica's claims on the updates it holds every
// inboxRenew until ctx ends.
func (b *Bot) keepClaims(ctx context.Context) {
	for payments.Sleep(ctx, inboxRenew) {
		ids := b.held.list()
		if len(ids) == 0 {
			continue
		}
		if err := b.cfg.Service.RenewUpdates(ctx, ids, b.cfg.Replica, inboxLease); err != nil && ctx.Err() == nil {
			b.log.Warn("inbox: cannot renew claims on updates; another replica may run them too", "updates", len(ids), "err", err)
		}
	}
}

// sweep takes over, every inboxSweep until ctx ends, the updates whose
// claims ended without their being done: a replica died holding them, or
// let them go (inboxed). It queues them in update id order.
func (b *Bot) sweep(ctx context.Context) {
	for payments.Sleep(ctx, inboxSweep) {
		ups, err := b.cfg.Service.ClaimUpdates(ctx, b.cfg.Replica, inboxLease, inboxBatch)
		if err != nil {
			if ctx.Err() == nil {
				b.log.Warn("inbox: cannot look for updates left behind", "err", err)
			}
			continue
		}
		for _, s := range ups {
			b.held.add(s.ID)
		}
		for _, s := range ups {
			if s.Tries >= maxUpdateTries {
				b.log.Error("inbox: dropping an update whose handling started and never finished, again and again", "update", s.ID, "chat", s.Chat, "tries", s.Tries)
				b.drop(s.ID)
				continue
			}
			u, _, err := decode(s.Body)
			if err != nil {
				b.log.Error("inbox: dropping a stored update that cannot be read", "update", s.ID, "err", err)
				b.drop(s.ID)
				continue
			}
			if s.Holder == b.cfg.Replica {
				b.log.Info("inbox: running an update this replica let go", "update", s.ID, "chat", s.Chat, "tries", s.Tries)
			} else {
				b.log.Info("inbox: taking over an update", "update", s.ID, "chat", s.Chat, "from", s.Holder, "tries", s.Tries)
			}
			b.tg.ProcessUpdate(ctx, u)
		}
	}
}
