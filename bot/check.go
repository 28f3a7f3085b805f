package bot

import (
	"context"
	"errors"
	"strings"

	"github.com/khqrbot/khqrbot/locales"
	"github.com/khqrbot/khqrbot/payments"
	"github.com/khqrbot/khqrbot/payments/bakong"
	"github.com/khqrbot/khqrbot/payments/khqr"
)

// cmdCheck asks Bakong now about an invoice (its newest QR), an md5 or a
// full hash, and shows what each endpoint answers. A pending QR that turns
// out paid is settled on the way.
func (b *Bot) cmdCheck(ctx context.Context, r *req, args string) {
	arg := strings.TrimSpace(args)
	if arg == "" || strings.ContainsAny(arg, " \t\n") {
		b.reply(ctx, r.chat, r.p.T("check.usage"), nil)
		return
	}
	lines := []string{r.p.T("check.title", quote(arg))}
	var q *payments.QR
	md5, hash := "", ""
	switch {
	case khqr.IsHex(arg, 32):
		md5 = strings.ToLower(arg)
		q, _ = b.cfg.Service.QRByMD5(ctx, md5)
	case khqr.IsHex(arg, 64):
		hash = strings.ToLower(arg)
	default:
		inv := b.invoiceRef(ctx, r, arg, "check.usage")
		if inv == nil {
			return
		}
		var err error
		q, err = b.cfg.Service.LatestQR(ctx, inv.ID)
		switch {
		case payments.ErrorCode(err) == payments.ENotFound:
			b.reply(ctx, r.chat, r.p.T("check.no_qr", inv.Number), nil)
			return
		case err != nil:
			b.fail(ctx, r, err)
			return
		}
		md5 = q.MD5
	}
	in := b.cfg.Service.Inspect(ctx, md5, hash)
	if in.MD5 != nil {
		lines = append(lines, r.p.T("check.md5", b.txText(r.p, in.MD5.Tx, in.MD5.Err)))
	}
	if in.Hash != nil {
		lines = append(lines, r.p.T("check.hash", b.txText(r.p, in.Hash.Tx, in.Hash.Err)))
	}
	if q != nil {
		if q.Status == payments.QRPending {
			if q2, err := b.cfg.Service.CheckQR(ctx, q.ID); err == nil {
				q = q2
				b.nudge()
			}
		}
		if inv, err := b.cfg.Service.Invoice(ctx, q.InvoiceID); err == nil {
			lines = append(lines, "", r.p.T("check.status", inv.Number, r.p.T("state."+string(inv.Status))))
		}
	}
	b.reply(ctx, r.chat, strings.Join(lines, "\n"), nil)
}

// txText phrases one endpoint's answer.
func (b *Bot) txText(p *locales.Printer, tx *bakong.Transaction, err error) string {
	switch {
	case errors.Is(err, bakong.ErrNotFound):
		return p.T("check.not_found")
	case errors.Is(err, bakong.ErrFailed):
		return p.T("check.failed")
	case err != nil:
		return p.T("check.error", err.Error())
	}
	m := payments.Money{Amount: tx.Amount, Currency: payments.Currency(tx.Currency)}
	return p.T("check.found", m.String(), tx.FromAccountID, tx.CreatedAt().In(b.loc).Format("2006-01-02 15:04:05"), tx.ShortHash())
}
