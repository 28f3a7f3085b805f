package bot

import (
	"context"

	"github.com/go-telegram/bot/models"

	"github.com/khqrbot/khqrbot/payments"
)

// cmdPay makes an invoice and its first QR, right in this chat.
func (b *Bot) cmdPay(ctx context.Context, r *req, args string) {
	if inv := b.newInvoice(ctx, r, payments.KindPay, args, "pay.usage"); inv != nil {
		b.issueAndSend(ctx, r, inv)
	}
}

// cmdInvoice makes a longer-lived invoice and answers with its share link.
func (b *Bot) cmdInvoice(ctx context.Context, r *req, args string) {
	inv := b.newInvoice(ctx, r, payments.KindInvoice, args, "invoice.usage")
	if inv == nil {
		return
	}
	link := "https://t.me/" + b.username + "?start=inv_" + inv.Token
	kb := &models.InlineKeyboardMarkup{InlineKeyboard: [][]models.InlineKeyboardButton{{{Text: r.p.T("btn.open"), URL: link}}}}
	b.reply(ctx, r.chat, r.p.T("invoice.created", inv.Number, inv.Amount.String(), note(inv.Description), link), kb)
}

// newInvoice reads "<amount> [currency] [note]" and creates an invoice of
// kind in r's chat. It answers the user itself when that fails (with usage,
// the key of the command's usage text, when the arguments are missing) and
// then returns nil. An /invoice needs a description; a /pay note is optional.
func (b *Bot) newInvoice(ctx context.Context, r *req, kind payments.InvoiceKind, args, usage string) *payments.Invoice {
	m, note, err := parseAmountArgs(args, b.cfg.DefaultCurrency)
	note = payments.CleanDescription(note)
	switch {
	case args == "" || (err == nil && kind == payments.KindInvoice && note == ""):
		b.reply(ctx, r.chat, r.p.T(usage), nil)
		return nil
	case err != nil:
		b.reply(ctx, r.chat, amountText(r.p, err), nil)
		return nil
	case len([]rune(note)) > payments.MaxDescription:
		b.reply(ctx, r.chat, r.p.T("note.too_long", payments.MaxDescription), nil)
		return nil
	}
	inv, err := b.cfg.Service.CreateInvoice(ctx, payments.NewInvoice{
		Kind: kind, Amount: m, Description: note, CreatedBy: r.user.ID, ChatID: r.chat, SourceKey: r.key,
	})
	if err != nil {
		b.fail(ctx, r, err)
		return nil
	}
	return inv
}

// openInvoice is /start inv_<token>: a customer opens an invoice link and
// gets a QR of their own, in their own chat: the one they were already
// given while it lives, else a fresh one.
func (b *Bot) openInvoice(ctx context.Context, r *req, token string) {
	inv, err := b.cfg.Service.InvoiceByToken(ctx, token)
	if err != nil {
		if payments.ErrorCode(err) == payments.ENotFound {
			b.reply(ctx, r.chat, r.p.T("inv.bad_link"), nil)
			return
		}
		b.fail(ctx, r, err)
		return
	}
	if !b.invoiceOpen(ctx, r, inv) {
		return
	}
	q, reused, err := b.cfg.Service.QRFor(ctx, payments.QRRequest{InvoiceID: inv.ID, ChatID: r.chat, UserID: r.user.ID, Admin: r.admin, SourceKey: r.key})
	if err != nil {
		b.fail(ctx, r, err)
		return
	}
	if err := b.showQR(ctx, r.p, inv, q, reused); err != nil {
		b.log.Error("send qr", "qr", q.ID, "invoice", inv.Number, "chat", r.chat, "err", err)
		b.reply(ctx, r.chat, r.p.T("err.internal"), nil)
	}
}

// invoiceOpen tells the user why a closed invoice cannot be paid.
func (b *Bot) invoiceOpen(ctx context.Context, r *req, inv *payments.Invoice) bool {
	switch inv.Status {
	case payments.InvoiceOpen:
		return true
	case payments.InvoicePaid:
		b.reply(ctx, r.chat, r.p.T("inv.paid", inv.Number), nil)
	case payments.InvoiceCancelled:
		b.reply(ctx, r.chat, r.p.T("inv.cancelled", inv.Number), nil)
	default:
		b.reply(ctx, r.chat, r.p.T("inv.review", inv.Number), nil)
	}
	return false
}

// issueAndSend issues a QR for inv in r's chat and sends its message. Run
// again (inbox.go), r's update gets the QR it made the first time, and
// shows it again (showQR).
func (b *Bot) issueAndSend(ctx context.Context, r *req, inv *payments.Invoice) {
	q, reused, err := b.cfg.Service.QRFor(ctx, payments.QRRequest{InvoiceID: inv.ID, ChatID: r.chat, UserID: r.user.ID, Admin: r.admin, SourceKey: r.key})
	if err != nil {
		b.fail(ctx, r, err)
		return
	}
	if err := b.showQR(ctx, r.p, inv, q, reused); err != nil {
		b.log.Error("send qr", "qr", q.ID, "invoice", inv.Number, "chat", r.chat, "err", err)
		b.reply(ctx, r.chat, r.p.T("err.internal"), nil)
	}
}
