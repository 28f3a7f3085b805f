package bot

import (
	"context"
	"slices"
	"strings"

	"github.com/khqrbot/khqrbot/payments"
)

// maxPaidLines bounds the invoices /paid lists one by one.
const maxPaidLines = 30

func (b *Bot) cmdPaid(ctx context.Context, r *req, args string) {
	per, ok := b.parsePeriod(args, "today")
	if !ok || per.name == "all" {
		b.reply(ctx, r.chat, r.p.T("paid.usage"), nil)
		return
	}
	invs, err := b.cfg.Service.Invoices(ctx, payments.InvoiceFilter{
		Statuses: []payments.InvoiceStatus{payments.InvoicePaid}, PaidRange: true, Since: per.since,
	})
	if err != nil {
		b.fail(ctx, r, err)
		return
	}
	name := r.p.T("period." + per.name)
	if len(invs) == 0 {
		b.reply(ctx, r.chat, r.p.T("paid.none", name), nil)
		return
	}
	slices.SortFunc(invs, func(x, y payments.Invoice) int { return x.PaidAt.Compare(y.PaidAt) })
	totals := map[payments.Currency]int64{}
	counts := map[payments.Currency]int{}
	lines := []string{r.p.T("paid.title", name)}
	for i, inv := range invs {
		totals[inv.Amount.Currency] += inv.Amount.Amount
		counts[inv.Amount.Currency]++
		if i < maxPaidLines {
			lines = append(lines, r.p.T("paid.row", inv.Number, inv.Amount.String(), inv.PaidAt.In(b.loc).Format("01-02 15:04")))
		}
	}
	if len(invs) > maxPaidLines {
		lines = append(lines, r.p.T("paid.more", len(invs)-maxPaidLines))
	}
	lines = append(lines, "")
	for _, c := range []payments.Currency{payments.KHR, payments.USD} {
		if counts[c] > 0 {
			lines = append(lines, r.p.T("paid.total", payments.Money{Amount: totals[c], Currency: c}.String(), counts[c]))
		}
	}
	b.reply(ctx, r.chat, strings.Join(lines, "\n"), nil)
}
