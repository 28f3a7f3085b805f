package bot

import (
	"bytes"
	"cmp"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-telegram/bot/models"

	"github.com/khqrbot/khqrbot/locales"
	"github.com/khqrbot/khqrbot/payments"
	"github.com/khqrbot/khqrbot/payments/bakong"
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
	invs, err := b.cfg.Store.ListInvoices(ctx, payments.InvoiceFilter{
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
		if d := strings.TrimSpace(inv.Description); d != "" {
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
	qrs, err := b.cfg.Store.ListQRs(ctx, payments.QRFilter{InvoiceID: invoiceID, Statuses: []payments.QRStatus{payments.QRPending}})
	if err != nil {
		return nil, fmt.Errorf("qrs of invoice %d: %w", invoiceID, err)
	}
	var live *payments.QR
	for i := range qrs {
		if qrs[i].Live(now) && (live == nil || qrs[i].ID > live.ID) {
			live = &qrs[i]
		}
	}
	return live, nil
}

// period is a span /paid and /export report on.
type period struct {
	name  string // "today", "7d", "30d", "all"
	since time.Time
}

// parsePeriod reads today|7d|30d|all (def when empty); days start at
// midnight in the bot's time zone.
func (b *Bot) parsePeriod(s, def string) (period, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		s = def
	}
	now := b.clock.Now().In(b.loc)
	midnight := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, b.loc)
	switch s {
	case "today":
		return period{s, midnight}, true
	case "7d":
		return period{s, midnight.AddDate(0, 0, -6)}, true
	case "30d":
		return period{s, midnight.AddDate(0, 0, -29)}, true
	case "all":
		return period{s, time.Time{}}, true
	}
	return period{}, false
}

// maxPaidLines bounds the invoices /paid lists one by one.
const maxPaidLines = 30

func (b *Bot) cmdPaid(ctx context.Context, r *req, args string) {
	per, ok := b.parsePeriod(args, "today")
	if !ok || per.name == "all" {
		b.reply(ctx, r.chat, r.p.T("paid.usage"), nil)
		return
	}
	invs, err := b.cfg.Store.ListInvoices(ctx, payments.InvoiceFilter{
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

func (b *Bot) cmdExport(ctx context.Context, r *req, args string) {
	per, ok := b.parsePeriod(args, "30d")
	if !ok {
		b.reply(ctx, r.chat, r.p.T("export.usage"), nil)
		return
	}
	invs, err := b.cfg.Store.ListInvoices(ctx, payments.InvoiceFilter{Since: per.since})
	if err != nil {
		b.fail(ctx, r, err)
		return
	}
	pays, err := b.cfg.Store.ListPayments(ctx, payments.PaymentFilter{Since: per.since})
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

// decimal formats minor units as a plain decimal string for spreadsheets:
// "5.00", "10000" (no thousands separators).
func decimal(m payments.Money) string {
	if m.Currency.Decimals() == 0 {
		return strconv.FormatInt(m.Amount, 10)
	}
	a, sign := m.Amount, ""
	if a < 0 {
		a, sign = -a, "-"
	}
	return fmt.Sprintf("%s%d.%02d", sign, a/100, a%100)
}

// stamp formats a time for CSV, empty when zero.
func (b *Bot) stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(b.loc).Format(time.RFC3339)
}

// invoicesCSV writes invoices as RFC 4180 CSV.
func (b *Bot) invoicesCSV(invs []payments.Invoice) ([]byte, error) {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.UseCRLF = true
	w.Write([]string{"invoice", "kind", "status", "amount", "currency", "description", "created_by", "chat_id", "created_at", "paid_at"})
	for _, inv := range invs {
		w.Write([]string{inv.Number, string(inv.Kind), string(inv.Status), decimal(inv.Amount), string(inv.Amount.Currency),
			inv.Description, strconv.FormatInt(inv.CreatedBy, 10), strconv.FormatInt(inv.ChatID, 10),
			b.stamp(inv.CreatedAt), b.stamp(inv.PaidAt)})
	}
	w.Flush()
	return buf.Bytes(), w.Error()
}

// paymentsCSV writes payments as RFC 4180 CSV.
func (b *Bot) paymentsCSV(pays []payments.Payment) ([]byte, error) {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.UseCRLF = true
	w.Write([]string{"invoice", "hash", "short_hash", "status", "amount", "currency", "from_account", "to_account",
		"paid_at", "source", "reason", "external_ref", "instruction_ref", "md5"})
	for _, p := range pays {
		w.Write([]string{payments.InvoiceNumber(p.InvoiceID), p.Hash, p.ShortHash, string(p.Status), decimal(p.Amount),
			string(p.Amount.Currency), p.FromAccount, p.ToAccount, b.stamp(p.PaidAt), p.Source, p.Reason,
			p.ExternalRef, p.InstructionRef, p.MD5})
	}
	w.Flush()
	return buf.Bytes(), w.Error()
}

// cmdCheck asks Bakong now about an invoice (its newest QR), an md5 or a
// full hash, and shows what each endpoint answers. A pending QR that turns
// out paid is settled on the way.
func (b *Bot) cmdCheck(ctx context.Context, r *req, args string) {
	arg := strings.TrimSpace(args)
	if arg == "" || strings.ContainsAny(arg, " \t\n") {
		b.reply(ctx, r.chat, r.p.T("check.usage"), nil)
		return
	}
	lines := []string{r.p.T("check.title", arg)}
	var q *payments.QR
	md5, hash := "", ""
	switch {
	case isHex(arg, 32):
		md5 = strings.ToLower(arg)
		q, _ = b.cfg.Store.QRByMD5(ctx, md5)
	case isHex(arg, 64):
		hash = strings.ToLower(arg)
	default:
		inv := b.invoiceRef(ctx, r, arg, "check.usage")
		if inv == nil {
			return
		}
		qrs, err := b.cfg.Store.ListQRs(ctx, payments.QRFilter{InvoiceID: inv.ID})
		if err != nil {
			b.fail(ctx, r, err)
			return
		}
		if len(qrs) == 0 {
			b.reply(ctx, r.chat, r.p.T("check.no_qr", inv.Number), nil)
			return
		}
		q = &qrs[0]
		for i := range qrs {
			if qrs[i].ID > q.ID {
				q = &qrs[i]
			}
		}
		md5 = q.MD5
	}
	if md5 != "" {
		tx, err := b.cfg.Bakong.CheckMD5(ctx, md5)
		lines = append(lines, r.p.T("check.md5", b.txText(r.p, tx, err)))
		if tx != nil {
			hash = tx.Hash
		}
	}
	if hash != "" {
		tx, err := b.cfg.Bakong.CheckHash(ctx, hash)
		lines = append(lines, r.p.T("check.hash", b.txText(r.p, tx, err)))
	}
	if q != nil {
		if q.Status == payments.QRPending {
			if q2, err := b.cfg.Service.CheckQR(ctx, q.ID); err == nil {
				q = q2
				b.nudge()
			}
		}
		if inv, err := b.cfg.Store.Invoice(ctx, q.InvoiceID); err == nil {
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

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for _, c := range s {
		if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
			return false
		}
	}
	return true
}

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
		if !isHex(short, 8) && isHex(ref, 8) {
			short, ref = ref, short
		}
	}
	if !isHex(short, 8) {
		b.reply(ctx, r.chat, r.p.T("verify.bad_hash", short), nil)
		return
	}
	short = strings.ToLower(short)
	var inv *payments.Invoice
	if ref != "" {
		if inv = b.invoiceRef(ctx, r, ref, "verify.usage"); inv == nil {
			return
		}
	} else {
		open, err := b.cfg.Store.ListInvoices(ctx, payments.InvoiceFilter{
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
		b.reply(ctx, r.chat, r.p.T("verify.taken", short, inv.Number), nil)
		return
	default:
		b.fail(ctx, r, err)
		return
	}
	b.nudge()
	switch pay.Status {
	case payments.PaymentSettled:
		b.reply(ctx, r.chat, r.p.T("verify.done", inv.Number, pay.ShortHash), nil)
	case payments.PaymentDuplicate:
		b.reply(ctx, r.chat, r.p.T("verify.duplicate", pay.ShortHash, inv.Number), nil)
	default:
		b.reply(ctx, r.chat, r.p.T("verify.review", pay.ShortHash, inv.Number, pay.Reason), nil)
	}
}

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
		if paid, err := b.cfg.Store.Invoice(ctx, id); err == nil && paid.Status == payments.InvoicePaid {
			return p.T("cancel.paid", paid.Number)
		}
	}
	if err != nil {
		return b.errText(p, err)
	}
	b.nudge()
	return p.T("cancel.done", inv.Number)
}

// cmdToken shows the Open API token's expiry and whether it renews itself.
func (b *Bot) cmdToken(ctx context.Context, r *req, _ string) {
	if b.cfg.TokenStatus == nil {
		key := "token.unreadable"
		if b.cfg.Sandbox {
			key = "token.sandbox"
		}
		b.reply(ctx, r.chat, r.p.T(key), nil)
		return
	}
	st := b.cfg.TokenStatus()
	now := b.clock.Now()
	var text string
	switch {
	case st.ExpiresAt.IsZero() && st.LastRenewError != "":
		text = r.p.T("token.unknown", st.LastRenewError)
	case st.ExpiresAt.IsZero():
		text = r.p.T("token.unreadable")
	case st.Expired || !st.ExpiresAt.After(now):
		text = r.p.T("token.expired", st.ExpiresAt.In(b.loc).Format("2006-01-02"))
	default:
		days := int(st.ExpiresAt.Sub(now) / (24 * time.Hour))
		text = r.p.T("token.status", st.ExpiresAt.In(b.loc).Format("2006-01-02"), days)
	}
	if st.Renewable {
		text += "\n" + r.p.T("token.renewable")
	} else {
		text += "\n" + r.p.T("token.manual")
	}
	b.reply(ctx, r.chat, text, nil)
}
