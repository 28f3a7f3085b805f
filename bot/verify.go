package bot

import (
	"context"
	"errors"
	"strings"

	"github.com/khqrbot/khqrbot/payments"
	"github.com/khqrbot/khqrbot/payments/khqr"
)

// cmdVerify settles an invoice from the short hash on a customer's receipt:
// Bakong is asked for that hash with the invoice's amount and currency. The
// invoice may be left out when exactly one is open; it is then that one.
func (b *Bot) cmdVerify(ctx context.Context, r *req, args string) {
	f := strings.Fields(args)
	if len(f) == 0 || len(f) > 2 {
		b.reply(ctx, r.chat, r.p.T("verify.usage"), nil)
		return
	}
	short, ref := f[0], ""
	if len(f) == 2 {
		ref = f[1]
		if !khqr.IsHex(short, 8) && khqr.IsHex(ref, 8) {
			short, ref = ref, short
		}
	}
	if !khqr.IsHex(short, 8) {
		b.reply(ctx, r.chat, r.p.T("verify.bad_hash", quote(short)), nil)
		return
	}
	short = strings.ToLower(short)
	var inv *payments.Invoice
	if ref != "" {
		if inv = b.invoiceRef(ctx, r, ref, "verify.usage"); inv == nil {
			return
		}
	} else {
		open, err := b.cfg.Service.Invoices(ctx, payments.InvoiceFilter{
			Statuses: []payments.InvoiceStatus{payments.InvoiceOpen}, Limit: 2,
		})
		switch {
		case err != nil:
			b.fail(ctx, r, err)
			return
		case len(open) == 0:
			b.reply(ctx, r.chat, r.p.T("verify.no_open", short), nil)
			return
		case len(open) > 1:
			b.reply(ctx, r.chat, r.p.T("verify.which", short), nil)
			return
		}
		inv = &open[0]
	}
	pay, err := b.cfg.Service.VerifyShortHash(ctx, inv.ID, short)
	switch {
	case err == nil:
	case payments.ErrorCode(err) == payments.ENotFound:
		b.reply(ctx, r.chat, r.p.T("verify.not_found", short, inv.Amount.String(), inv.Number), nil)
		return
	case errors.Is(err, payments.ErrPaymentFailed):
		b.reply(ctx, r.chat, r.p.T("verify.failed", short, inv.Number), nil)
		return
	case errors.Is(err, payments.ErrRecordedElsewhere):
		holder := "?"
		if e := (*payments.RecordedElsewhere)(nil); errors.As(err, &e) {
			holder = payments.InvoiceNumber(e.InvoiceID)
		}
		b.reply(ctx, r.chat, r.p.T("verify.taken", short, holder, inv.Number), nil)
		return
	default:
		b.fail(ctx, r, err)
		return
	}
	b.nudge()
	var lines []string
	number := inv.Number
	if pay.InvoiceID != inv.ID { // the customer paid a QR of another invoice
		number = payments.InvoiceNumber(pay.InvoiceID)
		lines = append(lines, r.p.T("verify.matched", pay.ShortHash, number, inv.Number, number))
	}
	switch pay.Status {
	case payments.PaymentSettled:
		lines = append(lines, r.p.T("verify.done", number, pay.ShortHash))
	case payments.PaymentDuplicate:
		lines = append(lines, r.p.T("verify.duplicate", pay.ShortHash, number))
	default:
		lines = append(lines, r.p.T("verify.review", pay.ShortHash, number, pay.Reason))
	}
	b.reply(ctx, r.chat, strings.Join(lines, "\n"), nil)
}
