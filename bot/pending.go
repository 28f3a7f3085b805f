package bot

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/go-telegram/bot/models"

	"github.com/khqrbot/khqrbot/locales"
	"github.com/khqrbot/khqrbot/payments"
)

// pageSize is how many invoices one /pending page lists.
const pageSize = 10

// maxPending bounds how many open invoices /pending pages through.
const maxPending = 1000

func (b *Bot) cmdPending(ctx context.Context, r *req, _ string) {
	text, kb, err := b.pendingPage(ctx, r.p, 0)
	if err != nil {
		b.fail(ctx, r, err)
		return
	}
	b.reply(ctx, r.chat, text, kb)
}

// pendingPage writes page n (from 0) of the open invoices: amount, age and
// the expiry of their live QR, with buttons to check now or cancel.
func (b *Bot) pendingPage(ctx context.Context, p *locales.Printer, n int) (string, models.ReplyMarkup, error) {
	invs, err := b.cfg.Service.Invoices(ctx, payments.InvoiceFilter{
		Statuses: []payments.InvoiceStatus{payments.InvoiceOpen}, Limit: maxPending,
	})
	if err != nil {
		return "", nil, fmt.Errorf("list open invoices: %w", err)
	}
	if len(invs) == 0 {
		return p.T("pending.none"), nil, nil
	}
	pages := (len(invs) + pageSize - 1) / pageSize
	n = min(max(n, 0), pages-1)
	now := b.clock.Now()
	lines := []string{p.T("pending.title", n+1, pages)}
	var rows [][]models.InlineKeyboardButton
	for _, inv := range invs[n*pageSize : min((n+1)*pageSize, len(invs))] {
		lines = append(lines, "", p.T("pending.row", inv.Number, inv.Amount.String(), ago(p, now.Sub(inv.CreatedAt))))
		if d := listNote(inv.Description); d != "" {
			lines = append(lines, "   "+p.T("qr.note", d))
		}
		row := []models.InlineKeyboardButton{}
		live, err := b.liveQR(ctx, inv.ID, now)
		if err != nil {
			return "", nil, err
		}
		if live != nil {
			lines = append(lines, p.T("pending.qr", live.ExpiresAt.In(b.loc).Format("15:04")))
			row = append(row, models.InlineKeyboardButton{Text: p.T("btn.check_inv", inv.Number), CallbackData: callback{actCheck, live.ID}.String()})
		} else {
			lines = append(lines, p.T("pending.no_qr"))
		}
		row = append(row, models.InlineKeyboardButton{Text: p.T("btn.cancel_inv", inv.Number), CallbackData: callback{actCancel, inv.ID}.String()})
		rows = append(rows, row)
	}
	var nav []models.InlineKeyboardButton
	if n > 0 {
		nav = append(nav, models.InlineKeyboardButton{Text: p.T("btn.prev"), CallbackData: callback{actPage, int64(n - 1)}.String()})
	}
	if n+1 < pages {
		nav = append(nav, models.InlineKeyboardButton{Text: p.T("btn.next"), CallbackData: callback{actPage, int64(n + 1)}.String()})
	}
	if len(nav) > 0 {
		rows = append(rows, nav)
	}
	return strings.Join(lines, "\n"), &models.InlineKeyboardMarkup{InlineKeyboard: rows}, nil
}

// liveQR returns the newest pending QR of an invoice that can still be paid, or nil.
func (b *Bot) liveQR(ctx context.Context, invoiceID int64, now time.Time) (*payments.QR, error) {
	qrs, err := b.cfg.Service.QRs(ctx, payments.QRFilter{InvoiceID: invoiceID, Statuses: []payments.QRStatus{payments.QRPending}})
	if err != nil {
		return nil, fmt.Errorf("qrs of invoice %d: %w", invoiceID, err)
	}
	for i := range qrs { // newest first
		if qrs[i].Live(now) {
			return &qrs[i], nil
		}
	}
	return nil, nil
}
