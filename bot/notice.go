package bot

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/go-telegram/bot/models"

	"github.com/khqrbot/khqrbot/locales"
	"github.com/khqrbot/khqrbot/payments"
)

// tellCreator tells the admin who made an invoice that a customer paid it
// in another chat (an /invoice link); in their own chat they saw it. It is
// a step of d.
func (b *Bot) tellCreator(ctx context.Context, d *delivery) error {
	ev := d.ev
	inv, err := b.cfg.Service.Invoice(ctx, ev.InvoiceID)
	if err != nil {
		return fmt.Errorf("invoice %d: %w", ev.InvoiceID, err)
	}
	pay, err := b.paymentOf(ctx, inv.ID, inv.PaymentID)
	if err != nil || pay == nil || pay.QRID == 0 || inv.CreatedBy == 0 {
		return err // no QR: settled by an admin's /verify, who knows
	}
	q, err := b.cfg.Service.QR(ctx, pay.QRID)
	if err != nil {
		return fmt.Errorf("qr %d: %w", pay.QRID, err)
	}
	if q.ChatID == inv.ChatID {
		return nil
	}
	return d.tell(ctx, inv.CreatedBy, func(ctx context.Context) error {
		p := b.printerByID(ctx, inv.CreatedBy)
		_, err := b.sendText(ctx, inv.CreatedBy, p.T("notify.paid", inv.Number, pay.Amount.String(), pay.ShortHash), nil)
		return err
	})
}

// tellAdmins sends a review, duplicate or alert notice to every admin in
// their private chat (to the invoice's creator when no admins are set). A
// review notice carries Accept and Reject while its payment awaits them.
// Each notice is a step of d, in admin id order.
func (b *Bot) tellAdmins(ctx context.Context, d *delivery) error {
	ev := d.ev
	var inv *payments.Invoice
	var pay *payments.Payment
	if ev.InvoiceID != 0 {
		var err error
		if inv, err = b.cfg.Service.Invoice(ctx, ev.InvoiceID); err != nil {
			return fmt.Errorf("invoice %d: %w", ev.InvoiceID, err)
		}
		if ev.PaymentID != 0 {
			// One read: a review may name a payment /verify recorded for
			// another invoice (a QR of this one paid); other notices show
			// the invoice's own payment only.
			review := ev.Kind == payments.EventReview
			p, err := b.cfg.Service.Payment(ctx, ev.PaymentID)
			switch {
			case err != nil && (review || payments.ErrorCode(err) != payments.ENotFound):
				return fmt.Errorf("payment %d: %w", ev.PaymentID, err)
			case err == nil && (review || p.InvoiceID == inv.ID):
				pay = p
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
	for _, admin := range slices.Sorted(slices.Values(to)) {
		err := d.tell(ctx, admin, func(ctx context.Context) error {
			p := b.printerByID(ctx, admin)
			var kb models.ReplyMarkup
			if rows := reviewButtons(p, inv, pay); ev.Kind == payments.EventReview && rows != nil && pay.InvoiceID == inv.ID {
				kb = &models.InlineKeyboardMarkup{InlineKeyboard: rows}
			}
			_, err := b.sendText(ctx, admin, notice(p, ev, inv, pay, b.loc), kb)
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
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
	if a, ok := ev.TokenAlert(); ok {
		if a.Expired {
			return p.T("alert.token_expired", a.ExpiresAt.In(loc).Format(time.DateOnly))
		}
		return p.T("alert.token_expiring", a.ExpiresAt.In(loc).Format(time.DateOnly), a.DaysLeft)
	}
	switch {
	case ev.Kind == payments.EventReview && inv != nil && pay != nil && pay.InvoiceID != inv.ID:
		holder := payments.InvoiceNumber(pay.InvoiceID)
		return p.T("notify.elsewhere", number, hash, amount, from, holder, holder, number)
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
