package bot

import (
	"context"
	"slices"
	"strings"

	"github.com/khqrbot/khqrbot/locales"
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
	lines := []string{r.p.T("paid.title", name)}
	for i, inv := range invs {
		if i < maxPaidLines {
			lines = append(lines, r.p.T("paid.row", inv.Number, inv.Amount.String(), inv.PaidAt.In(b.loc).Format("01-02 15:04")))
		}
	}
	if len(invs) > maxPaidLines {
		lines = append(lines, r.p.T("paid.more", len(invs)-maxPaidLines))
	}
	lines = append(lines, "")
	lines = append(lines, totalLines(r.p, payments.Tally(invs, per.since, 0))...)
	b.reply(ctx, r.chat, strings.Join(lines, "\n"), nil)
}

// totalLines writes the totals of s, a line per currency: /paid and
// /report's caption share them, so they always agree.
func totalLines(p *locales.Printer, s *payments.Sales) []string {
	var lines []string
	for _, c := range s.Currencies {
		lines = append(lines, p.T("paid.total", c.Total.String(), c.Count))
	}
	return lines
}
