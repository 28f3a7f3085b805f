package bot

import (
	"context"
	"sync"
	"time"

	"github.com/khqrbot/khqrbot/payments"
)

// Outbox delivery tuning.
const (
	outboxBatch    = 50
	outboxRounds   = 20 // reads per wake-up, so a stuck row cannot spin forever
	chatQueueMax   = 50 // events queued for one chat; more wait in the outbox
	markingTimeout = 10 * time.Second
	// claimMargin is how long before its claim ends an event is no longer
	// started, and its delivery cut: another replica may take it after.
	claimMargin = 10 * time.Second
)

// consume delivers the outbox until ctx is done: every OutboxInterval, and
// at once when the Service commits events (its Wake) or an action of ours
// did. Events are claimed before they are delivered, so replicas sharing
// the database deliver each once. Undelivered rows stay in the outbox, due
// at once, for another replica or the next run.
func (b *Bot) consume(ctx context.Context) {
	o := &outbox{b: b, chats: map[int64][]claimed{}, held: map[int64]bool{}}
	defer o.release(ctx)
	defer o.wg.Wait()
	t := time.NewTicker(b.cfg.OutboxInterval)
	defer t.Stop()
	for {
		o.dispatch(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-b.wake:
		case <-b.cfg.Service.Wake():
		}
	}
}

// outbox hands due events to one worker per chat: in order within a chat,
// and independently across chats, so a chat under a flood limit holds up
// only itself. The reader never waits for a worker.
type outbox struct {
	b  *Bot
	wg sync.WaitGroup

	mu    sync.Mutex
	chats map[int64][]claimed // chat -> events queued; present while its worker runs
	held  map[int64]bool      // ids of events queued or being delivered
	left  []int64             // events claimed but not delivered when the workers stopped
}

// claimed is an event claimed for this replica, to be started (and
// finished) before end, in real time: claimMargin before its claim ends.
type claimed struct {
	ev  payments.Event
	end time.Time
}

// release gives back the events claimed and never delivered.
func (o *outbox) release(ctx context.Context) {
	mctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), markingTimeout)
	defer cancel()
	if err := o.b.cfg.Service.Release(mctx, o.left); err != nil {
		o.b.log.Error("outbox: release undelivered events", "err", err)
	}
}

// dispatch reads the due events and queues each new one for its chat's
// worker, starting the worker if the chat has none.
func (o *outbox) dispatch(ctx context.Context) {
	for range outboxRounds {
		if ctx.Err() != nil {
			return
		}
		limit := outboxBatch
		evs, until, err := o.b.cfg.Service.ClaimEvents(ctx, limit)
		end := time.Now().Add(until.Sub(o.b.clock.Now()) - claimMargin)
		if err != nil {
			if ctx.Err() == nil {
				o.b.log.Error("outbox: read pending events", "err", err)
			}
			return
		}
		fresh := 0
		for _, ev := range evs {
			o.mu.Lock()
			held := o.held[ev.ID]
			o.mu.Unlock()
			if held {
				continue
			}
			chat := o.b.eventChat(ctx, ev)
			o.mu.Lock()
			q, running := o.chats[chat]
			if len(q) < chatQueueMax {
				o.chats[chat] = append(q, claimed{ev, end})
				o.held[ev.ID] = true
				fresh++
				if !running {
					o.wg.Go(func() { o.work(ctx, chat) })
				}
			} else {
				o.left = append(o.left, ev.ID)
			}
			o.mu.Unlock()
		}
		o.releaseLeft(ctx)
		if len(evs) < limit || fresh == 0 {
			return
		}
	}
}

// releaseLeft gives back at once the claimed events no queue took.
func (o *outbox) releaseLeft(ctx context.Context) {
	o.mu.Lock()
	left := o.left
	o.left = nil
	o.mu.Unlock()
	if len(left) == 0 {
		return
	}
	if err := o.b.cfg.Service.Release(ctx, left); err != nil && ctx.Err() == nil {
		o.b.log.Error("outbox: release events", "err", err)
	}
}

// work delivers chat's queue in order until it is empty.
func (o *outbox) work(ctx context.Context, chat int64) {
	for {
		o.mu.Lock()
		q := o.chats[chat]
		if len(q) == 0 || ctx.Err() != nil {
			for _, c := range q {
				delete(o.held, c.ev.ID)
				o.left = append(o.left, c.ev.ID)
			}
			delete(o.chats, chat)
			o.mu.Unlock()
			return
		}
		c := q[0]
		o.mu.Unlock()
		// Past its claim's margin the event may be another replica's: leave
		// it, due again when the claim ends.
		if time.Now().Before(c.end) {
			dctx, cancel := context.WithDeadline(ctx, c.end)
			o.b.deliverOne(dctx, c.ev)
			cancel()
		}
		o.mu.Lock()
		o.chats[chat] = o.chats[chat][1:]
		delete(o.held, c.ev.ID)
		full := len(q) >= chatQueueMax
		o.mu.Unlock()
		if full {
			o.b.nudge() // events left in the outbox for this chat may be queued now
		}
	}
}

// eventChat is the chat whose messages an event edits; 0 for admin notices.
func (b *Bot) eventChat(ctx context.Context, ev payments.Event) int64 {
	if ev.QRID == 0 || ev.Kind == payments.EventAlert {
		return 0
	}
	q, err := b.cfg.Service.QR(ctx, ev.QRID)
	if err != nil {
		return 0
	}
	return q.ChatID
}

// deliverOne delivers ev and records the outcome: delivered once Telegram
// accepted everything, delayed with backoff on a passing failure, dropped
// (and logged) when retrying cannot help.
func (b *Bot) deliverOne(ctx context.Context, ev payments.Event) {
	err := b.deliver(ctx, ev)
	if err != nil && ctx.Err() != nil {
		return // shutting down: the row stays for the next run
	}
	mctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), markingTimeout)
	defer cancel()
	switch {
	case err == nil:
		err = b.cfg.Service.Delivered(mctx, ev.ID)
	case undeliverable(err):
		b.log.Error("outbox: event cannot be delivered; dropping it", "event", ev.ID, "kind", string(ev.Kind), "err", err)
		err = b.cfg.Service.Delivered(mctx, ev.ID)
	default:
		wait := payments.RetryDelay(ev.Attempts)
		b.log.Warn("outbox: delivery failed; will retry", "event", ev.ID, "kind", string(ev.Kind), "attempts", ev.Attempts+1, "in", wait, "err", err)
		err = b.cfg.Service.Retry(mctx, ev.ID, wait)
	}
	if err != nil {
		b.log.Error("outbox: record delivery", "event", ev.ID, "err", err)
	}
}

// deliver does what one event asks: edit the QR messages it concerns and
// tell the people who must know.
func (b *Bot) deliver(ctx context.Context, ev payments.Event) error {
	switch ev.Kind {
	case payments.EventSettled:
		if err := b.refreshInvoice(ctx, ev.InvoiceID, ev.QRID); err != nil {
			return err
		}
		return b.tellCreator(ctx, ev)
	case payments.EventCancelled:
		if ev.QRID != 0 { // one event per QR
			return b.refreshQR(ctx, ev.QRID, false)
		}
		return b.refreshInvoice(ctx, ev.InvoiceID, 0)
	case payments.EventRejected:
		return b.refreshInvoice(ctx, ev.InvoiceID, ev.QRID)
	case payments.EventExpired, payments.EventFailed:
		return b.refreshQR(ctx, ev.QRID, true)
	case payments.EventReview:
		if ev.QRID != 0 {
			if err := b.refreshQR(ctx, ev.QRID, true); err != nil {
				return err
			}
		}
		return b.tellAdmins(ctx, ev)
	case payments.EventDuplicate:
		if ev.QRID != 0 {
			if err := b.refreshQR(ctx, ev.QRID, false); err != nil {
				return err
			}
		}
		return b.tellAdmins(ctx, ev)
	case payments.EventAlert:
		return b.tellAdmins(ctx, ev)
	}
	b.log.Warn("outbox: unknown event kind; skipping", "event", ev.ID, "kind", string(ev.Kind))
	return nil
}
