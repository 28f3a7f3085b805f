package bot

import (
	"context"
	"fmt"
	"runtime/debug"
	"time"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/khqrbot/khqrbot/locales"
	"github.com/khqrbot/khqrbot/payments"
)

// guard queues each update in its chat's lane (see lanes) and gives its
// handler, when it runs, its own deadline that outlives shutdown (so work
// begun is finished), and turns a panic into a log line.
func (b *Bot) guard(next tgbot.HandlerFunc) tgbot.HandlerFunc {
	return func(_ context.Context, tg *tgbot.Bot, u *models.Update) {
		chat := updateChat(u)
		ok := b.lanes.add(chat, func(ctx context.Context) {
			ctx, cancel := context.WithTimeout(ctx, handlerTimeout)
			defer cancel()
			defer func() {
				if r := recover(); r != nil {
					b.log.Error("handler panic", "update", u.ID, "panic", r, "stack", string(debug.Stack()))
				}
			}()
			next(ctx, tg, u)
		})
		if !ok {
			b.log.Warn("too many updates waiting in one chat; dropping one", "chat", chat, "update", u.ID)
			b.drop(u.ID)
		}
	}
}

// updateChat is the chat an update belongs to: where a message was sent or
// a pressed button shown; the presser's own id for a button whose message
// is gone.
func updateChat(u *models.Update) int64 {
	switch {
	case u.Message != nil:
		return u.Message.Chat.ID
	case u.CallbackQuery != nil:
		cq := u.CallbackQuery
		if m := cq.Message.Message; m != nil {
			return m.Chat.ID
		}
		if m := cq.Message.InaccessibleMessage; m != nil {
			return m.Chat.ID
		}
		return cq.From.ID
	}
	return 0
}

// route sends each update to its handler.
func (b *Bot) route(ctx context.Context, _ *tgbot.Bot, u *models.Update) {
	switch {
	case u.Message != nil:
		b.onMessage(ctx, u.ID, u.Message)
	case u.CallbackQuery != nil:
		b.onCallback(ctx, u.ID, u.CallbackQuery)
	}
}

// req is one message being handled: who, where, in which language.
type req struct {
	chat    int64
	private bool
	user    *models.User
	p       *locales.Printer
	admin   bool
	// key is the update's id, which keys the invoice and QR it makes, so
	// that the update run again (inbox.go) gets them back, not new ones.
	key payments.SourceKey
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
		"report":  {true, b.cmdReport},
		"export":  {true, b.cmdExport},
		"check":   {true, b.cmdCheck},
		"verify":  {true, b.cmdVerify},
		"cancel":  {true, b.cmdCancel},
		"token":   {true, b.cmdToken},
	}
}

// onMessage handles a text message: a command for us, or nothing. In groups
// only commands are answered, and commands for other bots are ignored.
func (b *Bot) onMessage(ctx context.Context, update int64, m *models.Message) {
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
		p:       b.meet(ctx, m.From),
		admin:   b.isAdmin(m.From.ID),
		key:     payments.SourceKey(update),
	}
	h, known := b.commands()[cmd.Name]
	switch {
	case !known:
		if (r.private || cmd.To != "") && b.mayRefuse(ctx, r) {
			b.reply(ctx, r.chat, r.p.T("cmd.unknown"), nil)
		}
	case h.admin && !r.admin:
		b.log.Info("refused", "command", cmd.Name, "user", r.user.ID, "chat", r.chat)
		if b.mayRefuse(ctx, r) {
			b.reply(ctx, r.chat, r.p.T("deny.admin", r.user.ID), nil)
		}
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
	// Not rate-limited: only the group's own admins can send as the group.
	b.reply(ctx, m.Chat.ID, locales.New(locales.Match(lang)).T("deny.anonymous"), nil)
}

// mayRefuse reports whether a refusal to r's sender may be sent: always
// in a private chat, and in a group once per user per refusalEvery for the
// whole deployment, so that a stranger's spam neither floods the group nor
// runs it into Telegram's flood limits, however many replicas share the
// work. The silent ones are still logged.
//
// The window is a lease in the database, which every replica sees: the
// refusal that takes it is sent, and until it expires nobody else takes it.
// Each refusal holds it under a name of its own, since a holder taking its
// lease again renews it.
func (b *Bot) mayRefuse(ctx context.Context, r *req) bool {
	if r.private || r.admin {
		return true
	}
	holder := fmt.Sprintf("%s#%d", b.cfg.Replica, b.refusals.Add(1))
	_, ok, err := b.cfg.Service.AcquireLease(ctx, refusalLease(r.chat, r.user.ID), holder, refusalEvery)
	if err != nil { // stay silent: a refusal is a courtesy, spam is not
		b.log.Warn("group refusal window", "chat", r.chat, "user", r.user.ID, "err", err)
		return false
	}
	return ok
}

// refusalEvery is how often one user is refused in one group.
const refusalEvery = 10 * time.Minute

// refusalLease names the lease that spaces the refusals to user in chat.
func refusalLease(chat, user int64) string { return fmt.Sprintf("refusal.%d.%d", chat, user) }
