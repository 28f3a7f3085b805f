package bot

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/go-telegram/bot/models"

	"github.com/khqrbot/khqrbot/locales"
	"github.com/khqrbot/khqrbot/payments"
	"github.com/khqrbot/khqrbot/payments/card"
)

// look is what a QR message shows. It is derived from the stored state, not
// from the event that triggered an edit, so edits are idempotent and arrive
// right whatever their order.
type look string

// The looks of a QR message: one for each state its invoice and QR can be in.
const (
	lookPending   look = "pending"
	lookPaid      look = "paid"       // this QR's payment settled the invoice
	lookPaidOther look = "paid_other" // the invoice was settled through a sibling QR
	lookExpired   look = "expired"
	lookFailed    look = "failed"
	lookCancelled look = "cancelled"
	lookReview    look = "review"   // a payment arrived that an admin must judge
	lookRejected  look = "rejected" // an admin refused this QR's payment; the shop refunds it
)

// view is one QR message's content: its look and what it shows.
type view struct {
	Look    look
	Invoice *payments.Invoice
	QR      *payments.QR
	Payment *payments.Payment // paid, paid_other, review and rejected: the payment shown
}

// viewOf derives what the message of q must show now.
func (b *Bot) viewOf(ctx context.Context, q *payments.QR) (view, error) {
	inv, err := b.cfg.Service.Invoice(ctx, q.InvoiceID)
	if err != nil {
		return view{}, fmt.Errorf("invoice %d of qr %d: %w", q.InvoiceID, q.ID, err)
	}
	v := view{Invoice: inv, QR: q}
	switch {
	case inv.Status == payments.InvoicePaid:
		v.Look = lookPaidOther
		if v.Payment, err = b.paymentOf(ctx, inv.ID, inv.PaymentID); err != nil {
			return view{}, err
		}
		if v.Payment != nil && v.Payment.QRID == q.ID {
			v.Look = lookPaid
		}
	case inv.Status == payments.InvoiceCancelled || q.Status == payments.QRCancelled:
		v.Look = lookCancelled
	case q.Status == payments.QRReview || q.Status == payments.QRPaid:
		v.Look = lookReview
		if v.Payment, err = b.latestPayment(ctx, q); err != nil {
			return view{}, err
		}
		if v.Payment != nil && v.Payment.Status == payments.PaymentRejected {
			v.Look = lookRejected
		}
	case q.Status == payments.QRExpired:
		v.Look = lookExpired
	case q.Status == payments.QRFailed:
		v.Look = lookFailed
	default:
		v.Look = lookPending
	}
	return v, nil
}

// paymentOf returns payment id of an invoice; nil when id is 0 or names no
// payment of that invoice.
func (b *Bot) paymentOf(ctx context.Context, invoiceID, id int64) (*payments.Payment, error) {
	if id == 0 {
		return nil, nil
	}
	p, err := b.cfg.Service.Payment(ctx, id)
	switch {
	case payments.ErrorCode(err) == payments.ENotFound:
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("payment %d of invoice %d: %w", id, invoiceID, err)
	case p.InvoiceID != invoiceID:
		return nil, nil
	}
	return p, nil
}

// latestPayment returns the newest payment recorded for q; nil when none is.
func (b *Bot) latestPayment(ctx context.Context, q *payments.QR) (*payments.Payment, error) {
	ps, err := b.cfg.Service.Payments(ctx, payments.PaymentFilter{InvoiceID: q.InvoiceID, QRID: q.ID, Limit: 1})
	if err != nil {
		return nil, fmt.Errorf("payments of qr %d: %w", q.ID, err)
	}
	if len(ps) == 0 {
		return nil, nil
	}
	return &ps[0], nil
}

// caption writes the photo caption of v in p's language.
func (b *Bot) caption(p *locales.Printer, v view) string {
	var lines []string
	add := func(key string, args ...any) { lines = append(lines, p.T(key, args...)) }
	head := map[look]string{
		lookPaid: "qr.paid", lookPaidOther: "qr.paid_other", lookExpired: "qr.expired",
		lookFailed: "qr.failed", lookCancelled: "qr.cancelled", lookReview: "qr.review",
	}
	switch k, ok := head[v.Look]; {
	case ok:
		add(k)
	case v.Look == lookRejected && v.Invoice.Status == payments.InvoiceOpen:
		add("qr.rejected_open")
	case v.Look == lookRejected:
		add("qr.rejected")
	}
	add("qr.invoice", v.Invoice.Number)
	if b.cfg.MerchantName != "" {
		// The card may not draw the name (a script its fonts lack); the caption always names the payee.
		add("qr.payee", b.cfg.MerchantName)
	}
	add("qr.amount", v.QR.Amount.String())
	if d := note(v.Invoice.Description); d != "" {
		add("qr.note", d)
	}
	switch v.Look {
	case lookPending:
		add("qr.expires", v.QR.ExpiresAt.In(b.loc).Format("15:04"))
	case lookPaid, lookReview, lookRejected:
		if v.Payment != nil {
			add("qr.paid_at", v.Payment.PaidAt.In(b.loc).Format("2006-01-02 15:04"))
			add("qr.hash", v.Payment.ShortHash)
		}
	}
	if v.QR.Sandbox {
		add("qr.sandbox")
	}
	return strings.Join(lines, "\n")
}

// keyboard returns v's buttons, or nil for none. The admins' buttons (Cancel,
// and Accept and Reject on a payment in review) are shown only in the chat
// where an admin made the invoice, never in a customer's own chat: the
// message is seen by everyone there, and every press is checked again anyway.
func (b *Bot) keyboard(p *locales.Printer, v view) models.ReplyMarkup {
	var rows [][]models.InlineKeyboardButton
	q := v.QR
	adminChat := q.ChatID == v.Invoice.ChatID
	checkRow := func() []models.InlineKeyboardButton {
		row := []models.InlineKeyboardButton{{Text: p.T("btn.check"), CallbackData: callback{actCheck, q.ID}.String()}}
		if adminChat {
			row = append(row, models.InlineKeyboardButton{Text: p.T("btn.cancel"), CallbackData: callback{actCancel, v.Invoice.ID}.String()})
		}
		return row
	}
	switch v.Look {
	case lookPending:
		if q.Deeplink != "" && buttonURL(q.Deeplink) {
			rows = append(rows, []models.InlineKeyboardButton{{Text: p.T("btn.pay"), URL: q.Deeplink}})
		}
		rows = append(rows, checkRow())
		if b.cfg.Sandbox && q.Sandbox {
			rows = append(rows, []models.InlineKeyboardButton{{Text: p.T("btn.simulate"), CallbackData: callback{actSim, q.ID}.String()}})
		}
	case lookExpired, lookFailed, lookRejected:
		if v.Invoice.Status == payments.InvoiceOpen {
			rows = append(rows, []models.InlineKeyboardButton{{Text: p.T("btn.new"), CallbackData: callback{actNew, q.ID}.String()}})
		}
	case lookReview:
		rows = append(rows, checkRow())
		if adminChat {
			rows = append(rows, reviewButtons(p, v.Invoice, v.Payment)...)
		}
	}
	if len(rows) == 0 {
		return nil
	}
	return &models.InlineKeyboardMarkup{InlineKeyboard: rows}
}

// reviewButtons returns the admin's Accept and Reject buttons for a payment
// in review, Accept only while it can still settle the invoice; none for
// any other payment.
func reviewButtons(p *locales.Printer, inv *payments.Invoice, pay *payments.Payment) [][]models.InlineKeyboardButton {
	if pay == nil || pay.Status != payments.PaymentReview {
		return nil
	}
	var row []models.InlineKeyboardButton
	if inv.Status == payments.InvoiceReview || inv.Status == payments.InvoiceOpen {
		row = append(row, models.InlineKeyboardButton{Text: p.T("btn.accept"), CallbackData: callback{actAccept, pay.ID}.String()})
	}
	row = append(row, models.InlineKeyboardButton{Text: p.T("btn.reject"), CallbackData: callback{actReject, pay.ID}.String()})
	return [][]models.InlineKeyboardButton{row}
}

// card draws v's image: the QR while pending, a receipt once paid (or in
// review), the failed card for a rejected payment, else the expired, failed
// or cancelled card. Its words are in lang, the caption's language, so a
// message reads in one language.
func (b *Bot) card(v view, lang string) ([]byte, error) {
	c := card.Card{
		MerchantName:  b.cfg.MerchantName,
		Amount:        v.QR.Amount.Number(),
		Currency:      string(v.QR.Amount.Currency),
		InvoiceNumber: v.Invoice.Number,
		ExpiresAt:     v.QR.ExpiresAt,
		Sandbox:       v.QR.Sandbox,
		Location:      b.loc,
		Lang:          lang,
	}
	switch v.Look {
	case lookPending:
		c.State, c.QR = card.StatePending, v.QR.Payload
	case lookPaid, lookPaidOther, lookReview:
		c.State = card.StatePaid
		if v.Payment == nil {
			return nil, fmt.Errorf("card of qr %d: %s without a payment", v.QR.ID, v.Look)
		}
		c.PaidAt, c.ShortHash = v.Payment.PaidAt, v.Payment.ShortHash
		c.Amount, c.Currency = v.Payment.Amount.Number(), string(v.Payment.Amount.Currency)
	case lookExpired:
		c.State = card.StateExpired
	case lookFailed, lookRejected:
		c.State = card.StateFailed
	default:
		c.State = card.StateCancelled
	}
	png, err := card.Render(c)
	if err != nil {
		return nil, fmt.Errorf("card of qr %d: %w", v.QR.ID, err)
	}
	return png, nil
}

// fileName names an uploaded card, e.g. "INV-000042-paid.png".
func fileName(v view) string { return v.Invoice.Number + "-" + string(v.Look) + ".png" }

// ago formats how long ago t was, coarsely.
func ago(p *locales.Printer, d time.Duration) string {
	d = max(d, 0)
	switch {
	case d < time.Hour:
		return p.T("dur.min", int(d/time.Minute))
	case d < 24*time.Hour:
		return p.T("dur.hour", int(d/time.Hour), int(d%time.Hour/time.Minute))
	default:
		return p.T("dur.day", int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour))
	}
}
