package bot

import (
	"cmp"
	"context"
	"slices"

	"github.com/khqrbot/khqrbot/payments"
)

func (b *Bot) cmdExport(ctx context.Context, r *req, args string) {
	per, ok := b.parsePeriod(args, "30d")
	if !ok {
		b.reply(ctx, r.chat, r.p.T("export.usage"), nil)
		return
	}
	invs, err := b.cfg.Service.Invoices(ctx, payments.InvoiceFilter{Since: per.since})
	if err != nil {
		b.fail(ctx, r, err)
		return
	}
	pays, err := b.cfg.Service.Payments(ctx, payments.PaymentFilter{Since: per.since})
	if err != nil {
		b.fail(ctx, r, err)
		return
	}
	// Oldest first, as a ledger reads.
	slices.SortFunc(invs, func(x, y payments.Invoice) int { return cmp.Compare(x.ID, y.ID) })
	slices.SortFunc(pays, func(x, y payments.Payment) int { return cmp.Compare(x.ID, y.ID) })
	invCSV, err := b.invoicesCSV(invs)
	if err != nil {
		b.fail(ctx, r, err)
		return
	}
	payCSV, err := b.paymentsCSV(pays)
	if err != nil {
		b.fail(ctx, r, err)
		return
	}
	name := r.p.T("period." + per.name)
	day := b.clock.Now().In(b.loc).Format("2006-01-02")
	for _, f := range []struct {
		data       []byte
		file, text string
	}{
		{invCSV, "invoices-" + per.name + "-" + day + ".csv", r.p.T("export.invoices", name)},
		{payCSV, "payments-" + per.name + "-" + day + ".csv", r.p.T("export.payments", name)},
	} {
		if err := b.sendDocument(ctx, r.chat, f.data, f.file, f.text); err != nil {
			b.log.Warn("telegram sendDocument", "chat", r.chat, "err", err)
			return
		}
	}
}
