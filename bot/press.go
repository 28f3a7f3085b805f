package bot

import (
	"context"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/khqrbot/khqrbot/locales"
	"github.com/khqrbot/khqrbot/payments"
)

// press is one button press being handled.
type press struct {
	from  int64
	chat  int64 // 0 when the message is no longer accessible
	msgID int
	text  string // the pressed message's text; empty for a photo
	p     *locales.Printer
	admin bool
	key   payments.SourceKey // the update's id: keys the QR it makes (see req)
}

// onCallback handles a button press. Whatever happens, the press is
// answered once, and every action checks again who pressed it.
func (b *Bot) onCallback(ctx context.Context, update int64, cq *models.CallbackQuery) {
	p := b.meet(ctx, &cq.From)
	r := &press{from: cq.From.ID, p: p, admin: b.isAdmin(cq.From.ID), key: payments.SourceKey(update)}
	if m := cq.Message.Message; m != nil {
		r.chat, r.msgID, r.text = m.Chat.ID, m.ID, m.Text
	} else if m := cq.Message.InaccessibleMessage; m != nil {
		r.chat, r.msgID = m.Chat.ID, m.MessageID
	}
	text := ""
	defer func() { b.answer(ctx, cq.ID, text) }()
	c, err := parseCallback(cq.Data)
	if err != nil {
		text = p.T("cb.gone")
		return
	}
	b.log.Debug("button", "action", string(c.Action), "id", c.ID, "user", r.from, "chat", r.chat)
	switch c.Action {
	case actCheck:
		text = b.pressCheck(ctx, r, c.ID)
	case actSim:
		text = b.pressSimulate(ctx, r, c.ID)
	case actNew:
		text = b.pressNew(ctx, r, c.ID)
	case actCancel:
		text = b.pressCancel(ctx, r, c.ID)
	case actPage:
		text = b.pressPage(ctx, r, int(c.ID))
	case actAccept:
		text = b.pressResolve(ctx, r, c.ID, b.cfg.Service.Accept)
	case actReject:
		text = b.pressResolve(ctx, r, c.ID, b.cfg.Service.Reject)
	}
}

// mayUse reports whether the presser may act on q: admins always; others
// only for QRs issued to them or shown in their chat.
func (r *press) mayUse(q *payments.QR) bool {
	return r.admin || q.UserID == r.from || (r.chat != 0 && q.ChatID == r.chat)
}

// qrFor loads QR id for a press, or returns the answer that refuses it.
func (b *Bot) qrFor(ctx context.Context, r *press, id int64) (*payments.QR, string) {
	q, err := b.cfg.Service.QR(ctx, id)
	if err != nil {
		if payments.ErrorCode(err) == payments.ENotFound {
			return nil, r.p.T("cb.gone")
		}
		return nil, b.errText(r.p, err)
	}
	if !r.mayUse(q) {
		b.log.Info("button refused", "qr", id, "user", r.from, "chat", r.chat)
		return nil, r.p.T("deny.button")
	}
	return q, ""
}

// pressCheck asks Bakong about a QR now, unless it was checked moments ago
// (CheckStatus); the outbox edits the message if that changed anything,
// and the answer says where it stands.
func (b *Bot) pressCheck(ctx context.Context, r *press, id int64) string {
	q, refusal := b.qrFor(ctx, r, id)
	if q == nil {
		return refusal
	}
	if q.Status == payments.QRPending {
		var err error
		if q, err = b.cfg.Service.CheckStatus(ctx, id); err != nil {
			return b.checkFailed(r.p, id, err)
		}
		b.nudge()
	}
	return b.standing(ctx, r.p, q)
}

// pressSimulate pays a sandbox QR through the simulator, then checks it at
// once so the customer sees the result without waiting for the next poll.
func (b *Bot) pressSimulate(ctx context.Context, r *press, id int64) string {
	if !b.cfg.Sandbox || b.cfg.Simulate == nil {
		return r.p.T("deny.sandbox")
	}
	q, refusal := b.qrFor(ctx, r, id)
	if q == nil {
		return refusal
	}
	if !q.Sandbox {
		return r.p.T("deny.sandbox")
	}
	if q.Status != payments.QRPending {
		return b.standing(ctx, r.p, q)
	}
	if err := b.cfg.Simulate(ctx, q.Payload); err != nil {
		b.log.Warn("simulate payment", "qr", id, "err", err)
		return r.p.T("cb.unavailable")
	}
	q, err := b.cfg.Service.CheckQR(ctx, id)
	if err != nil {
		b.log.Info("check after simulated payment; the reconciler will retry", "qr", id, "err", err)
		return r.p.T("cb.simulated")
	}
	b.nudge()
	return b.standing(ctx, r.p, q)
}

// pressNew issues a fresh QR for the invoice of an expired or failed one,
// (or whose payment was rejected), in the chat where the button was
// pressed. Only those messages offer the button: on any other QR (a forged
// press) it says where the QR stands.
func (b *Bot) pressNew(ctx context.Context, r *press, id int64) string {
	old, refusal := b.qrFor(ctx, r, id)
	if old == nil {
		return refusal
	}
	v, err := b.viewOf(ctx, old)
	if err != nil {
		return b.errText(r.p, err)
	}
	switch v.Look {
	case lookExpired, lookFailed, lookRejected:
	case lookPending:
		return r.p.T("cb.still_live")
	default:
		return b.standing(ctx, r.p, old)
	}
	inv, err := b.cfg.Service.Invoice(ctx, old.InvoiceID)
	if err != nil {
		return b.errText(r.p, err)
	}
	switch inv.Status {
	case payments.InvoicePaid:
		return r.p.T("inv.paid", inv.Number)
	case payments.InvoiceCancelled:
		return r.p.T("inv.cancelled", inv.Number)
	case payments.InvoiceReview:
		return r.p.T("inv.review", inv.Number)
	}
	chat := r.chat
	if chat == 0 {
		chat = old.ChatID
	}
	q, reused, err := b.cfg.Service.QRFor(ctx, payments.QRRequest{InvoiceID: inv.ID, ChatID: chat, UserID: r.from, Admin: r.admin, SourceKey: r.key})
	if err != nil {
		return b.errText(r.p, err)
	}
	if err := b.showQR(ctx, r.p, inv, q, reused); err != nil {
		b.log.Error("send new qr", "qr", q.ID, "invoice", inv.Number, "err", err)
		return r.p.T("err.internal")
	}
	if r.chat != 0 && r.msgID != 0 {
		// One fresh QR per expired message: its New QR button goes.
		err := b.edit(ctx, r.chat, func(ctx context.Context) error {
			_, err := b.tg.EditMessageReplyMarkup(ctx, &tgbot.EditMessageReplyMarkupParams{
				ChatID: r.chat, MessageID: r.msgID, ReplyMarkup: &models.InlineKeyboardMarkup{InlineKeyboard: [][]models.InlineKeyboardButton{}},
			})
			return err
		})
		if err != nil {
			b.log.Info("remove New QR button", "chat", r.chat, "message", r.msgID, "err", err)
		}
	}
	return r.p.T("cb.new_qr")
}

// pressCancel cancels an invoice; admins only.
func (b *Bot) pressCancel(ctx context.Context, r *press, invoiceID int64) string {
	if !r.admin {
		b.log.Info("button refused", "invoice", invoiceID, "user", r.from, "chat", r.chat)
		return r.p.T("deny.button")
	}
	return b.cancel(ctx, r.p, invoiceID, r.from)
}

// pressPage shows another page of /pending in the same message; admins only.
func (b *Bot) pressPage(ctx context.Context, r *press, page int) string {
	if !r.admin {
		return r.p.T("deny.button")
	}
	if r.chat == 0 {
		return r.p.T("cb.gone")
	}
	text, kb, err := b.pendingPage(ctx, r.p, page)
	if err != nil {
		return b.errText(r.p, err)
	}
	if err := b.editText(ctx, r.chat, r.msgID, text, kb); err != nil {
		b.log.Warn("edit pending page", "chat", r.chat, "err", err)
	}
	return ""
}

// pressResolve accepts or rejects a payment in review; admins only. On a QR
// message the outbox then shows the outcome; on an admin's review notice
// the outcome is written under the notice, in place of its buttons.
func (b *Bot) pressResolve(ctx context.Context, r *press, paymentID int64, resolve func(ctx context.Context, paymentID, by int64) (*payments.Invoice, error)) string {
	if !r.admin {
		b.log.Info("button refused", "payment", paymentID, "user", r.from, "chat", r.chat)
		return r.p.T("deny.button")
	}
	inv, err := resolve(ctx, paymentID, r.from)
	if err != nil {
		return b.errText(r.p, err)
	}
	b.nudge()
	pay, err := b.cfg.Service.Payment(ctx, paymentID)
	if err != nil {
		return b.errText(r.p, err)
	}
	outcome := r.p.T("review.accepted", pay.ShortHash, inv.Number)
	if pay.Status == payments.PaymentRejected {
		outcome = r.p.T("review.rejected", pay.ShortHash, pay.Amount.String(), pay.FromAccount, inv.Number, r.p.T("state."+string(inv.Status)))
	}
	if r.text != "" && r.chat != 0 {
		if err := b.editText(ctx, r.chat, r.msgID, r.text+"\n\n"+outcome, nil); err != nil {
			b.log.Warn("edit review notice", "chat", r.chat, "message", r.msgID, "err", err)
		}
	}
	return outcome
}

// checkFailed phrases a failed check for the presser.
func (b *Bot) checkFailed(p *locales.Printer, qrID int64, err error) string {
	if payments.ErrorCode(err) == payments.EUnavailable {
		b.log.Info("check now: bakong unavailable", "qr", qrID, "err", err)
		return p.T("cb.unavailable")
	}
	return b.errText(p, err)
}

// standing says where a QR and its invoice stand, as a button answer.
func (b *Bot) standing(ctx context.Context, p *locales.Printer, q *payments.QR) string {
	if inv, err := b.cfg.Service.Invoice(ctx, q.InvoiceID); err == nil {
		switch inv.Status {
		case payments.InvoicePaid:
			return p.T("cb.paid")
		case payments.InvoiceCancelled:
			return p.T("cb.cancelled")
		}
	}
	switch q.Status {
	case payments.QRPaid:
		return p.T("cb.paid")
	case payments.QRExpired:
		return p.T("cb.expired")
	case payments.QRFailed:
		return p.T("cb.failed")
	case payments.QRCancelled:
		return p.T("cb.cancelled")
	case payments.QRReview:
		if pay, err := b.latestPayment(ctx, q); err == nil && pay != nil && pay.Status == payments.PaymentRejected {
			return p.T("cb.rejected")
		}
		return p.T("cb.review")
	}
	return p.T("cb.pending")
}
