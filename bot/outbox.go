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
	outboxRounds   = 20 // batches per wake-up, so a stuck row cannot spin forever
	markingTimeout = 10 * time.Second
)

// consume delivers the outbox until ctx is done: every OutboxInterval, and
// at once when the Service commits events (its Wake) or an action of ours
// did. Undelivered rows stay in the outbox for the next run.
func (b *Bot) consume(ctx context.Context) {
	t := time.NewTicker(b.cfg.OutboxInterval)
	defer t.Stop()
	for {
		b.deliverDue(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-b.wake:
		case <-b.cfg.Service.Wake():
		}
	}
}

// deliverDue delivers the events that are due, one goroutine per chat so
// that a chat under a flood limit does not hold up the others, and in order
// within a chat.
func (b *Bot) deliverDue(ctx context.Context) {
	for range outboxRounds {
		if ctx.Err() != nil {
			return
		}
		evs, err := b.cfg.Service.Events(ctx, outboxBatch)
		if err != nil {
			if ctx.Err() == nil {
				b.log.Error("outbox: read pending events", "err", err)
			}
			return
		}
		groups := map[int64][]payments.Event{}
		for _, ev := range evs {
			k := b.eventChat(ctx, ev)
			groups[k] = append(groups[k], ev)
		}
		var wg sync.WaitGroup
		for _, g := range groups {
			wg.Go(func() {
				for _, ev := range g {
					if ctx.Err() != nil {
						return
					}
					b.deliverOne(ctx, ev)
				}
			})
		}
		wg.Wait()
		if len(evs) < outboxBatch {
			return
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
	case payments.EventSettled, payments.EventCancelled:
		if err := b.refreshInvoice(ctx, ev.InvoiceID, ev.QRID); err != nil {
			return err
		}
		if ev.Kind == payments.EventSettled {
			return b.tellCreator(ctx, ev)
		}
		return nil
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
