package bot

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/go-telegram/bot/models"

	"github.com/khqrbot/khqrbot/locales"
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
	q, err := b.cfg.Store.QR(ctx, ev.QRID)
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

// refreshInvoice brings every QR message of an invoice up to date (the
// settling QR shows its receipt, siblings show "paid with another QR"). The
// message of mainQR is sent afresh if it was never linked.
func (b *Bot) refreshInvoice(ctx context.Context, invoiceID, mainQR int64) error {
	qrs, err := b.cfg.Store.ListQRs(ctx, payments.QRFilter{InvoiceID: invoiceID})
	if err != nil {
		return fmt.Errorf("qrs of invoice %d: %w", invoiceID, err)
	}
	var errs []error
	for i := range qrs {
		if err := b.refresh(ctx, &qrs[i], qrs[i].ID == mainQR); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// refreshQR brings the message of QR id up to date.
func (b *Bot) refreshQR(ctx context.Context, id int64, sendIfMissing bool) error {
	q, err := b.cfg.Store.QR(ctx, id)
	if err != nil {
		return fmt.Errorf("qr %d: %w", id, err)
	}
	return b.refresh(ctx, q, sendIfMissing)
}

// refresh edits q's message to show q's current state: card, caption and
// keyboard in one editMessageMedia. A message that cannot be edited (deleted,
// or never linked after a crash) is replaced by a fresh one, relinked.
func (b *Bot) refresh(ctx context.Context, q *payments.QR, sendIfMissing bool) error {
	v, err := b.viewOf(ctx, q)
	if err != nil {
		return err
	}
	if v.Look == lookPending {
		return nil
	}
	msg, err := b.cfg.Store.MessageByQR(ctx, q.ID)
	switch {
	case payments.ErrorCode(err) == payments.ENotFound:
		if !sendIfMissing {
			return nil
		}
		msg = nil
	case err != nil:
		return fmt.Errorf("message of qr %d: %w", q.ID, err)
	}
	p := b.printerOf(ctx, q.UserID)
	caption, kb := b.caption(p, v), b.keyboard(p, v)
	png, err := b.card(v)
	if err != nil {
		// Without a card, the caption and keyboard still tell the truth.
		b.log.Error("render card", "qr", q.ID, "look", string(v.Look), "err", err)
	}
	if msg != nil {
		if png != nil {
			err = b.editPhoto(ctx, msg.ChatID, msg.MessageID, png, fileName(v), caption, kb)
		} else {
			err = b.editCaption(ctx, msg.ChatID, msg.MessageID, caption, kb)
		}
		if !messageGone(err) {
			return err
		}
		b.log.Info("message gone; sending a fresh one", "qr", q.ID, "chat", msg.ChatID, "message", msg.MessageID)
	}
	if png == nil {
		_, err := b.sendText(ctx, q.ChatID, caption, kb)
		return err
	}
	m, err := b.sendPhoto(ctx, q.ChatID, png, fileName(v), caption, kb)
	if err != nil {
		return err
	}
	return b.link(ctx, q, m.ID)
}

// tellCreator tells the admin who made an invoice that a customer paid it
// in another chat (an /invoice link); in their own chat they saw it.
func (b *Bot) tellCreator(ctx context.Context, ev payments.Event) error {
	inv, err := b.cfg.Store.Invoice(ctx, ev.InvoiceID)
	if err != nil {
		return fmt.Errorf("invoice %d: %w", ev.InvoiceID, err)
	}
	pay, err := b.paymentOf(ctx, inv.ID, inv.PaymentID, 0)
	if err != nil || pay == nil || pay.QRID == 0 || inv.CreatedBy == 0 {
		return err // no QR: settled by an admin's /verify, who knows
	}
	q, err := b.cfg.Store.QR(ctx, pay.QRID)
	if err != nil {
		return fmt.Errorf("qr %d: %w", pay.QRID, err)
	}
	if q.ChatID == inv.ChatID {
		return nil
	}
	p := b.printerOf(ctx, inv.CreatedBy)
	_, err = b.sendText(ctx, inv.CreatedBy, p.T("notify.paid", inv.Number, pay.Amount.String(), pay.ShortHash), nil)
	if undeliverable(err) {
		b.log.Warn("cannot tell the invoice's creator", "user", inv.CreatedBy, "err", err)
		return nil
	}
	return err
}

// tellAdmins sends a review, duplicate or alert notice to every admin in
// their private chat (to the invoice's creator when no admins are set). A
// review notice carries Accept and Reject while its payment awaits them.
func (b *Bot) tellAdmins(ctx context.Context, ev payments.Event) error {
	var inv *payments.Invoice
	var pay *payments.Payment
	if ev.InvoiceID != 0 {
		var err error
		if inv, err = b.cfg.Store.Invoice(ctx, ev.InvoiceID); err != nil {
			return fmt.Errorf("invoice %d: %w", ev.InvoiceID, err)
		}
		if ev.PaymentID != 0 {
			if pay, err = b.paymentOf(ctx, inv.ID, ev.PaymentID, 0); err != nil {
				return err
			}
		}
	}
	to := b.cfg.Admins
	if len(to) == 0 && inv != nil && inv.CreatedBy != 0 {
		to = []int64{inv.CreatedBy}
	}
	if len(to) == 0 {
		b.log.Warn("notice for admins, but no admin is configured", "kind", string(ev.Kind), "detail", ev.Detail)
		return nil
	}
	var errs []error
	for _, admin := range to {
		p := b.printerOf(ctx, admin)
		var kb models.ReplyMarkup
		if rows := reviewButtons(p, inv, pay); ev.Kind == payments.EventReview && rows != nil {
			kb = &models.InlineKeyboardMarkup{InlineKeyboard: rows}
		}
		if _, err := b.sendText(ctx, admin, notice(p, ev, inv, pay, b.loc), kb); err != nil {
			if undeliverable(err) {
				b.log.Warn("cannot tell admin", "admin", admin, "err", err)
				continue
			}
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// notice writes an admin notice for ev; dates show in loc.
func notice(p *locales.Printer, ev payments.Event, inv *payments.Invoice, pay *payments.Payment, loc *time.Location) string {
	number := ""
	if inv != nil {
		number = inv.Number
	}
	amount, from, hash, reason := "?", "?", "?", ev.Detail
	if pay != nil {
		amount, from, hash = pay.Amount.String(), pay.FromAccount, pay.ShortHash
		if reason == "" {
			reason = pay.Reason
		}
	}
	if a, ok := payments.ParseTokenAlert(ev.Detail); ok && ev.Kind == payments.EventAlert {
		if a.Expired {
			return p.T("alert.token_expired", a.ExpiresAt.In(loc).Format(time.DateOnly))
		}
		return p.T("alert.token_expiring", a.ExpiresAt.In(loc).Format(time.DateOnly), a.DaysLeft)
	}
	switch {
	case ev.Kind == payments.EventReview && inv != nil:
		return p.T("notify.review", number, reason, amount, from, hash, number)
	case ev.Kind == payments.EventDuplicate && inv != nil:
		return p.T("notify.duplicate", number, amount, from, hash)
	}
	detail := ev.Detail
	if number != "" {
		detail = number + ": " + detail
	}
	return p.T("notify.alert", detail)
}
