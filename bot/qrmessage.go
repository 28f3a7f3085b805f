package bot

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"

	tgbot "github.com/go-telegram/bot"

	"github.com/khqrbot/khqrbot/locales"
	"github.com/khqrbot/khqrbot/payments"
)

// sendQR sends the message of a QR to its chat and links the two, so later
// state changes edit it. A change the outbox delivered while the message
// was on its way (a customer who pays at once) is shown once it is linked.
func (b *Bot) sendQR(ctx context.Context, p *locales.Printer, inv *payments.Invoice, q *payments.QR) error {
	done := b.sending.start(q.ID)
	err := b.sendPending(ctx, p, inv, q)
	done()
	if err != nil {
		return err
	}
	return b.refreshQR(ctx, q.ID, false)
}

// sendPending sends q's pending card and links its message to q.
func (b *Bot) sendPending(ctx context.Context, p *locales.Printer, inv *payments.Invoice, q *payments.QR) error {
	v := view{Look: lookPending, Invoice: inv, QR: q}
	png, err := b.card(v, p.Lang())
	if err != nil {
		return err
	}
	if q.Deeplink != "" && !buttonURL(q.Deeplink) {
		b.log.Warn("QR sent without its Pay button: Telegram takes only http(s) URLs with a domain, and tg: links, in buttons",
			"qr", q.ID, "deeplink", q.Deeplink)
	}
	m, err := b.sendPhoto(ctx, q.ChatID, png, fileName(v), b.caption(p, v), b.keyboard(p, v))
	if buttonRefused(err) && q.Deeplink != "" && buttonURL(q.Deeplink) {
		// A rule of Telegram's we do not know: the QR matters, the button does not.
		b.log.Warn("QR sent without its Pay button: Telegram refused the deeplink", "qr", q.ID, "deeplink", q.Deeplink, "err", err)
		bare := *q
		bare.Deeplink = ""
		v.QR = &bare
		m, err = b.sendPhoto(ctx, q.ChatID, png, fileName(v), b.caption(p, v), b.keyboard(p, v))
	}
	if err != nil {
		return err
	}
	return b.cfg.Service.LinkMessage(ctx, q, m.ID)
}

// buttonURL reports whether Telegram takes s as a URL button: http or https
// with a domain name (Bakong's deeplinks are https://bakong.page.link/...),
// or a tg: link. Anything else, such as bakong://, fails the whole message
// with BUTTON_URL_INVALID.
func buttonURL(s string) bool {
	u, err := url.Parse(s)
	if err != nil {
		return false
	}
	switch strings.ToLower(u.Scheme) {
	case "https", "http":
		return strings.Contains(u.Hostname(), ".")
	case "tg":
		return true
	}
	return false
}

// buttonRefused reports Telegram's refusal of a message for a button's URL.
func buttonRefused(err error) bool {
	return errors.Is(err, tgbot.ErrorBadRequest) && strings.Contains(err.Error(), "BUTTON_URL_INVALID")
}

// showQR sends q's message, or, when q was reused, sends it again at the
// bottom of the chat and deletes the message that showed it before, so the
// chat holds one message per QR. A reused QR no longer pending (an update
// run again after its QR was paid, cancelled or closed) is not offered
// again: its message is brought up to date, or sent if it never was.
func (b *Bot) showQR(ctx context.Context, p *locales.Printer, inv *payments.Invoice, q *payments.QR, reused bool) error {
	if reused && q.Status != payments.QRPending {
		_, err := b.refresh(ctx, q, true)
		return err
	}
	var old *payments.Message
	if reused {
		m, err := b.cfg.Service.MessageOf(ctx, q.ID)
		if err != nil && payments.ErrorCode(err) != payments.ENotFound {
			return fmt.Errorf("message of qr %d: %w", q.ID, err)
		}
		old = m
	}
	if err := b.sendQR(ctx, p, inv, q); err != nil {
		return err
	}
	if old != nil {
		if err := b.deleteMessage(ctx, old.ChatID, old.MessageID); err != nil {
			b.log.Info("delete the QR's previous message", "qr", q.ID, "chat", old.ChatID, "message", old.MessageID, "err", err)
		}
	}
	return nil
}

// refreshQR brings the message of QR id up to date.
func (b *Bot) refreshQR(ctx context.Context, id int64, sendIfMissing bool) error {
	q, err := b.cfg.Service.QR(ctx, id)
	if err != nil {
		return fmt.Errorf("qr %d: %w", id, err)
	}
	_, err = b.refresh(ctx, q, sendIfMissing)
	return err
}

// refresh edits q's message to show q's current state: card, caption and
// keyboard in one editMessageMedia. A message that cannot be edited (deleted,
// or never linked after a crash) is replaced by a fresh one, relinked.
// called reports whether it asked Telegram for anything: nothing is asked
// when the message is on its way, shows a pending QR, or is missing and not
// to be sent.
func (b *Bot) refresh(ctx context.Context, q *payments.QR, sendIfMissing bool) (called bool, err error) {
	if b.sending.has(q.ID) {
		return false, nil // its sender shows the change once the message is linked
	}
	v, err := b.viewOf(ctx, q)
	if err != nil {
		return false, err
	}
	if v.Look == lookPending {
		return false, nil
	}
	msg, err := b.cfg.Service.MessageOf(ctx, q.ID)
	switch {
	case payments.ErrorCode(err) == payments.ENotFound:
		if !sendIfMissing {
			return false, nil
		}
		msg = nil
	case err != nil:
		return false, fmt.Errorf("message of qr %d: %w", q.ID, err)
	}
	p := b.printerByID(ctx, q.UserID)
	caption, kb := b.caption(p, v), b.keyboard(p, v)
	png, err := b.card(v, p.Lang())
	if err != nil {
		// Without a card, the caption and keyboard still tell the truth.
		b.log.Error("render card", "qr", q.ID, "look", string(v.Look), "err", err)
	}
	if msg != nil {
		if png != nil {
			err = b.editPhoto(ctx, msg.ChatID, msg.MessageID, png, fileName(v), caption, kb)
		} else {
			err = b.editCaption(ctx, msg.ChatID, msg.MessageID, caption, kb)
		}
		if !messageGone(err) {
			return true, err
		}
		b.log.Info("message gone; sending a fresh one", "qr", q.ID, "chat", msg.ChatID, "message", msg.MessageID)
	}
	if png == nil {
		_, err := b.sendText(ctx, q.ChatID, caption, kb)
		return true, err
	}
	m, err := b.sendPhoto(ctx, q.ChatID, png, fileName(v), caption, kb)
	if err != nil {
		return true, err
	}
	return true, b.cfg.Service.LinkMessage(ctx, q, m.ID)
}

// sending counts, per QR, the messages on their way: being sent or sent and
// not yet linked. Until one is linked the outbox cannot find it (it would
// send a second message and leave the first one showing a live QR), so it
// leaves the QR to the sender, who refreshes the message once linked.
type sending struct {
	mu  sync.Mutex
	qrs map[int64]int
}

// start marks a message of QR id on its way; done unmarks it.
func (s *sending) start(id int64) (done func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.qrs == nil {
		s.qrs = map[int64]int{}
	}
	s.qrs[id]++
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.qrs[id]--; s.qrs[id] == 0 {
			delete(s.qrs, id)
		}
	}
}

// has reports whether a message of QR id is on its way.
func (s *sending) has(id int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.qrs[id] > 0
}
