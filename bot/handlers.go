package bot

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/go-telegram/bot/models"

	"github.com/khqrbot/khqrbot/locales"
	"github.com/khqrbot/khqrbot/payments"
)

// req is one message being handled: who, where, in which language.
type req struct {
	chat    int64
	private bool
	user    *models.User
	p       *locales.Printer
	admin   bool
}

// handlers maps each command to its handler; admin marks admin-only ones.
type handlerFunc func(ctx context.Context, r *req, args string)

func (b *Bot) commands() map[string]struct {
	admin bool
	run   handlerFunc
} {
	type entry = struct {
		admin bool
		run   handlerFunc
	}
	return map[string]entry{
		"start":   {false, b.cmdStart},
		"help":    {false, b.cmdHelp},
		"lang":    {false, b.cmdLang},
		"pay":     {true, b.cmdPay},
		"invoice": {true, b.cmdInvoice},
		"pending": {true, b.cmdPending},
		"paid":    {true, b.cmdPaid},
		"export":  {true, b.cmdExport},
		"check":   {true, b.cmdCheck},
		"verify":  {true, b.cmdVerify},
		"cancel":  {true, b.cmdCancel},
		"token":   {true, b.cmdToken},
	}
}

// onMessage handles a text message: a command for us, or nothing. In groups
// only commands are answered, and commands for other bots are ignored.
func (b *Bot) onMessage(ctx context.Context, m *models.Message) {
	if m.SenderChat != nil && m.SenderChat.ID == m.Chat.ID {
		b.onAnonymous(ctx, m)
		return
	}
	if m.From == nil || m.From.IsBot {
		return
	}
	cmd, ok := parseCommand(m.Text, m.Entities)
	if !ok || !cmd.forUs(b.username) {
		return
	}
	r := &req{
		chat:    m.Chat.ID,
		private: m.Chat.Type == models.ChatTypePrivate,
		user:    m.From,
		p:       b.printer(ctx, m.From),
		admin:   b.isAdmin(m.From.ID),
	}
	h, known := b.commands()[cmd.Name]
	switch {
	case !known:
		if r.private || cmd.To != "" {
			b.reply(ctx, r.chat, r.p.T("cmd.unknown"), nil)
		}
	case h.admin && !r.admin:
		b.log.Info("refused", "command", cmd.Name, "user", r.user.ID, "chat", r.chat)
		b.reply(ctx, r.chat, r.p.T("deny.admin", r.user.ID), nil)
	default:
		b.log.Debug("command", "command", cmd.Name, "user", r.user.ID, "chat", r.chat)
		h.run(ctx, r, cmd.Args)
	}
}

// onAnonymous answers a message a group's anonymous admin sent as the group
// itself (from GroupAnonymousBot): with no user id there is no telling
// whether they are one of our admins, so an admin-only command gets a hint
// to stop remaining anonymous, and anything else the silence bots get.
func (b *Bot) onAnonymous(ctx context.Context, m *models.Message) {
	cmd, ok := parseCommand(m.Text, m.Entities)
	if !ok || !cmd.forUs(b.username) || !b.commands()[cmd.Name].admin {
		return
	}
	lang := ""
	if m.From != nil {
		lang = m.From.LanguageCode
	}
	b.log.Info("refused anonymous admin", "command", cmd.Name, "chat", m.Chat.ID)
	b.reply(ctx, m.Chat.ID, locales.New(locales.Match(lang)).T("deny.anonymous"), nil)
}

func (b *Bot) cmdStart(ctx context.Context, r *req, args string) {
	if tok, ok := strings.CutPrefix(args, "inv_"); ok && r.private {
		b.openInvoice(ctx, r, strings.TrimSpace(tok))
		return
	}
	text := r.p.T("start.welcome", r.user.ID)
	if r.admin {
		text += "\n\n" + r.p.T("start.admin")
	}
	if b.cfg.Sandbox {
		text += "\n\n" + r.p.T("start.sandbox")
	}
	b.reply(ctx, r.chat, text, nil)
}

func (b *Bot) cmdHelp(ctx context.Context, r *req, _ string) {
	text := r.p.T("help.all")
	if r.admin {
		text += "\n\n" + r.p.T("help.admin")
	}
	b.reply(ctx, r.chat, text, nil)
}

func (b *Bot) cmdLang(ctx context.Context, r *req, args string) {
	lang := strings.ToLower(strings.TrimSpace(args))
	if !locales.Supported(lang) {
		b.reply(ctx, r.chat, r.p.T("lang.usage"), nil)
		return
	}
	u, err := b.cfg.Store.User(ctx, r.user.ID)
	if err != nil {
		if payments.ErrorCode(err) != payments.ENotFound {
			b.fail(ctx, r, err)
			return
		}
		u = &payments.User{ID: r.user.ID, Role: payments.RoleCustomer}
		if r.admin {
			u.Role = payments.RoleAdmin
		}
	}
	u.Language = lang
	if err := b.cfg.Store.SaveUser(ctx, u); err != nil {
		b.fail(ctx, r, err)
		return
	}
	b.reply(ctx, r.chat, locales.New(lang).T("lang.set"), nil)
}

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
	b.reply(ctx, r.chat, r.p.T("invoice.created", inv.Number, inv.Amount.String(), inv.Description, link), kb)
}

// newInvoice reads "<amount> [currency] [note]" and creates an invoice of
// kind in r's chat. It answers the user itself when that fails (with usage,
// the key of the command's usage text, when the arguments are missing) and
// then returns nil. An /invoice needs a description; a /pay note is optional.
func (b *Bot) newInvoice(ctx context.Context, r *req, kind payments.InvoiceKind, args, usage string) *payments.Invoice {
	m, note, err := parseAmountArgs(args, b.cfg.DefaultCurrency)
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
		Kind: kind, Amount: m, Description: note, CreatedBy: r.user.ID, ChatID: r.chat,
	})
	if err != nil {
		b.fail(ctx, r, err)
		return nil
	}
	return inv
}

// openInvoice is /start inv_<token>: a customer opens an invoice link and
// gets a fresh QR of their own, in their own chat.
func (b *Bot) openInvoice(ctx context.Context, r *req, token string) {
	inv, err := b.cfg.Store.InvoiceByToken(ctx, token)
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
	b.issueAndSend(ctx, r, inv)
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

// issueAndSend issues a QR for inv in r's chat and sends its message.
func (b *Bot) issueAndSend(ctx context.Context, r *req, inv *payments.Invoice) {
	q, err := b.cfg.Service.IssueQR(ctx, payments.QRRequest{InvoiceID: inv.ID, ChatID: r.chat, UserID: r.user.ID})
	if err != nil {
		b.fail(ctx, r, err)
		return
	}
	if err := b.sendQR(ctx, r.p, inv, q); err != nil {
		b.log.Error("send qr", "qr", q.ID, "invoice", inv.Number, "chat", r.chat, "err", err)
		b.reply(ctx, r.chat, r.p.T("err.internal"), nil)
	}
}

// sendQR sends the message of a QR to its chat and links the two, so later
// state changes edit it.
func (b *Bot) sendQR(ctx context.Context, p *locales.Printer, inv *payments.Invoice, q *payments.QR) error {
	v := view{Look: lookPending, Invoice: inv, QR: q}
	png, err := b.card(v)
	if err != nil {
		return err
	}
	m, err := b.sendPhoto(ctx, q.ChatID, png, fileName(v), b.caption(p, v), b.keyboard(p, v))
	if err != nil {
		return err
	}
	return b.link(ctx, q, m.ID)
}

// link records that message msgID shows q.
func (b *Bot) link(ctx context.Context, q *payments.QR, msgID int) error {
	err := b.cfg.Store.LinkMessage(ctx, payments.Message{
		ChatID: q.ChatID, MessageID: msgID, QRID: q.ID, InvoiceID: q.InvoiceID, CreatedAt: b.clock.Now(),
	})
	if err != nil {
		return fmt.Errorf("link message %d to qr %d: %w", msgID, q.ID, err)
	}
	return nil
}

// fail tells the user what went wrong, in their language, and logs the
// details of unexpected failures.
func (b *Bot) fail(ctx context.Context, r *req, err error) {
	b.reply(ctx, r.chat, b.errText(r.p, err), nil)
}

// errText phrases a domain error for people.
func (b *Bot) errText(p *locales.Printer, err error) string {
	switch payments.ErrorCode(err) {
	case payments.ENotFound:
		return p.T("err.not_found")
	case payments.EInvalid:
		return p.T("err.invalid", payments.ErrorMessage(err))
	case payments.EConflict:
		return p.T("err.conflict", payments.ErrorMessage(err))
	case payments.EForbidden:
		return p.T("deny.button")
	case payments.EUnavailable:
		return p.T("err.unavailable")
	}
	b.log.Error("unexpected error", "err", err)
	return p.T("err.internal")
}

// amountText phrases an amount error, with what would have been accepted.
func amountText(p *locales.Printer, err error) string {
	var ae *AmountError
	if !errors.As(err, &ae) {
		return p.T("amount.syntax", "")
	}
	switch ae.Problem {
	case AmountMissing:
		return p.T("amount.missing")
	case AmountTooLarge:
		return p.T("amount.too_large", ae.Input, payments.Money{Amount: payments.MaxAmount, Currency: ae.Currency}.String())
	}
	return p.T("amount."+string(ae.Problem), ae.Input)
}

// invoiceRef finds the invoice s names. It answers the user itself when
// that fails (with usage, the key of the command's usage text, when s names
// no invoice at all) and then returns nil.
func (b *Bot) invoiceRef(ctx context.Context, r *req, s, usage string) *payments.Invoice {
	id, ok := parseInvoiceRef(s)
	if !ok {
		b.reply(ctx, r.chat, r.p.T(usage), nil)
		return nil
	}
	inv, err := b.cfg.Store.Invoice(ctx, id)
	if err != nil {
		b.fail(ctx, r, err)
		return nil
	}
	return inv
}

// parseInvoiceRef reads an invoice reference: "INV-000042", "inv-42", "#42" or "42".
func parseInvoiceRef(s string) (int64, bool) {
	t := strings.ToUpper(strings.TrimSpace(s))
	t = strings.TrimPrefix(t, "#")
	t = strings.TrimPrefix(strings.TrimPrefix(t, "INV"), "-")
	id, err := strconv.ParseInt(t, 10, 64)
	return id, err == nil && id > 0
}
