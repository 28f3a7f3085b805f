package bot

import (
	"cmp"
	"context"
	"fmt"
	"slices"
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
	mctx, cancel := marking(ctx)
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
		evs, until, err := o.b.cfg.Service.ClaimEvents(ctx, outboxBatch)
		if err != nil {
			if ctx.Err() == nil {
				o.b.log.Error("outbox: read pending events", "err", err)
			}
			return
		}
		end := o.b.wallTime(until).Add(-claimMargin)
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
		if len(evs) < outboxBatch || fresh == 0 {
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

// deliverOne delivers ev and records the outcome: delivered once every
// step is done, delayed with backoff on a passing failure (the steps done
// stay done).
func (b *Bot) deliverOne(ctx context.Context, ev payments.Event) {
	d := &delivery{b: b, ev: ev, done: ev.Done}
	err := d.run(ctx)
	if err != nil && ctx.Err() != nil {
		return // shutting down or past the claim: the row stays for its next delivery
	}
	mctx, cancel := marking(ctx)
	defer cancel()
	if err == nil {
		err = b.cfg.Service.Delivered(mctx, ev.ID)
	} else {
		wait := payments.RetryDelay(ev.Attempts)
		b.log.Warn("outbox: delivery failed; will retry", "event", ev.ID, "kind", string(ev.Kind), "attempts", ev.Attempts+1, "in", wait, "err", err)
		err = b.cfg.Service.Retry(mctx, ev.ID, wait)
	}
	if err != nil {
		b.log.Error("outbox: record delivery", "event", ev.ID, "err", err)
	}
}

// marking is the context in which an outcome Telegram already saw is
// recorded: it outlives ctx (a shutdown, the claim's margin) by at most
// markingTimeout, so that what was done is not done again.
func marking(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), markingTimeout)
}

// delivery is one attempt at delivering an event, as steps of one Telegram
// call each, or a few for one message (payments.Progress): bringing the message of each QR it
// concerns up to date, in QR id order, then telling each person it
// concerns, in user id order. A step done before (ev.Done) is skipped, and
// each step Telegram took is recorded before the next call, so a delivery
// cut short (a failed call, a crash, a replica's death) resumes where it
// stopped rather than making every call again.
type delivery struct {
	b    *Bot
	ev   payments.Event
	done payments.Progress // steps done: recorded, or taken without a call
}

// run does what the event asks: edit the QR messages it concerns and tell
// the people who must know.
func (d *delivery) run(ctx context.Context) error {
	ev := d.ev
	switch ev.Kind {
	case payments.EventSettled:
		if err := d.invoice(ctx, ev.InvoiceID, ev.QRID); err != nil {
			return err
		}
		return d.b.tellCreator(ctx, d)
	case payments.EventCancelled:
		if ev.QRID != 0 { // one event per QR
			return d.qrByID(ctx, ev.QRID, false)
		}
		return d.invoice(ctx, ev.InvoiceID, 0)
	case payments.EventRejected:
		return d.invoice(ctx, ev.InvoiceID, ev.QRID)
	case payments.EventExpired, payments.EventFailed:
		return d.qrByID(ctx, ev.QRID, true)
	case payments.EventReview:
		if ev.QRID != 0 {
			if err := d.qrByID(ctx, ev.QRID, true); err != nil {
				return err
			}
		}
		return d.b.tellAdmins(ctx, d)
	case payments.EventDuplicate:
		if ev.QRID != 0 {
			if err := d.qrByID(ctx, ev.QRID, false); err != nil {
				return err
			}
		}
		return d.b.tellAdmins(ctx, d)
	case payments.EventAlert:
		return d.b.tellAdmins(ctx, d)
	}
	d.b.log.Warn("outbox: unknown event kind; skipping", "event", ev.ID, "kind", string(ev.Kind))
	return nil
}

// invoice brings every QR message of an invoice up to date, a step each
// (the settling QR shows its receipt, siblings show "paid with another
// QR"). The message of mainQR is sent afresh if it was never linked.
func (d *delivery) invoice(ctx context.Context, invoiceID, mainQR int64) error {
	qrs, err := d.b.cfg.Service.QRs(ctx, payments.QRFilter{InvoiceID: invoiceID})
	if err != nil {
		return fmt.Errorf("qrs of invoice %d: %w", invoiceID, err)
	}
	slices.SortFunc(qrs, func(a, b payments.QR) int { return cmp.Compare(a.ID, b.ID) })
	for i := range qrs {
		if err := d.qr(ctx, &qrs[i], qrs[i].ID == mainQR); err != nil {
			return err
		}
	}
	return nil
}

// qrByID is the step that brings the message of QR id up to date.
func (d *delivery) qrByID(ctx context.Context, id int64, sendIfMissing bool) error {
	if id <= d.done.QR {
		return nil
	}
	q, err := d.b.cfg.Service.QR(ctx, id)
	if err != nil {
		return fmt.Errorf("qr %d: %w", id, err)
	}
	return d.qr(ctx, q, sendIfMissing)
}

// qr is the step that brings the message of q up to date.
func (d *delivery) qr(ctx context.Context, q *payments.QR, sendIfMissing bool) error {
	if q.ID <= d.done.QR {
		return nil
	}
	called, err := d.b.refresh(ctx, q, sendIfMissing)
	if err := d.failed(err, "qr", q.ID); err != nil {
		return err
	}
	d.done.QR = q.ID
	return d.record(ctx, called)
}

// tell is the step that tells user something: send makes the call.
func (d *delivery) tell(ctx context.Context, user int64, send func(ctx context.Context) error) error {
	if user <= d.done.User {
		return nil
	}
	if err := d.failed(send(ctx), "user", user); err != nil {
		return err
	}
	d.done.User = user
	return d.record(ctx, true)
}

// failed is a step's error that stops the delivery, to be tried again: nil
// when the step succeeded, or when retrying cannot help (the bot was
// blocked, the chat is gone, Telegram refused the request as made), which is
// logged and counts as done.
func (d *delivery) failed(err error, what string, id int64) error {
	if err == nil || !undeliverable(err) {
		return err
	}
	d.b.log.Error("outbox: a step of the event cannot be delivered; skipping it", "event", d.ev.ID, "kind", string(d.ev.Kind), what, id, "err", err)
	return nil
}

// record stores the steps done when called says the last one made a call;
// one that made none (nothing to show) is recorded with the next one.
func (d *delivery) record(ctx context.Context, called bool) error {
	if !called {
		return nil
	}
	mctx, cancel := marking(ctx)
	defer cancel()
	return d.b.cfg.Service.Progress(mctx, d.ev.ID, d.done)
}
