package bot

import (
	"context"
	"strings"

	"github.com/khqrbot/khqrbot/locales"
	"github.com/khqrbot/khqrbot/payments"
)

// cmdCancel cancels an invoice; its QR messages are edited by the outbox.
func (b *Bot) cmdCancel(ctx context.Context, r *req, args string) {
	if strings.TrimSpace(args) == "" {
		b.reply(ctx, r.chat, r.p.T("cancel.usage"), nil)
		return
	}
	if inv := b.invoiceRef(ctx, r, args, "cancel.usage"); inv != nil {
		b.reply(ctx, r.chat, b.cancel(ctx, r.p, inv.ID, r.user.ID), nil)
	}
}

// cancel cancels invoice id for admin `by` and phrases the outcome.
func (b *Bot) cancel(ctx context.Context, p *locales.Printer, id, by int64) string {
	inv, err := b.cfg.Service.Cancel(ctx, id, by)
	if payments.ErrorCode(err) == payments.EConflict {
		// The only conflict: the invoice is paid, perhaps just now.
		if paid, err := b.cfg.Service.Invoice(ctx, id); err == nil && paid.Status == payments.InvoicePaid {
			return p.T("cancel.paid", paid.Number)
		}
	}
	if err != nil {
		return b.errText(p, err)
	}
	b.nudge()
	return p.T("cancel.done", inv.Number)
}
