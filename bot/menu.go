package bot

import (
	"context"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/khqrbot/khqrbot/locales"
)

// menu lists the commands in the order Telegram's command menu shows them;
// the first menuPublic may be used by everyone, the rest by admins only.
var menu = []string{"start", "help", "lang", "pay", "invoice", "pending", "paid", "report", "export", "check", "verify", "cancel", "token"}

const menuPublic = 3

// setMenus publishes the command menu: the public commands for everyone,
// and every command in each admin's private chat, in English by default and
// in Khmer for Khmer clients. The menu is a convenience, so failures are
// logged and the bot runs on.
func (b *Bot) setMenus(ctx context.Context) {
	for _, lang := range locales.Languages {
		p := locales.New(lang)
		code := lang
		if lang == locales.English {
			code = "" // the default, for every language we do not speak
		}
		b.setMenu(ctx, p, code, menu[:menuPublic], 0)
		for _, id := range b.cfg.Admins {
			b.setMenu(ctx, p, code, menu, id)
		}
	}
}

// setMenu sets the menu of names for chat, or for every chat when chat is 0.
func (b *Bot) setMenu(ctx context.Context, p *locales.Printer, lang string, names []string, chat int64) {
	var scope models.BotCommandScope = &models.BotCommandScopeDefault{}
	if chat != 0 {
		scope = &models.BotCommandScopeChat{ChatID: chat}
	}
	cmds := make([]models.BotCommand, len(names))
	for i, n := range names {
		cmds[i] = models.BotCommand{Command: n, Description: p.T("menu." + n)}
	}
	_, err := b.tg.SetMyCommands(ctx, &tgbot.SetMyCommandsParams{Commands: cmds, Scope: scope, LanguageCode: lang})
	if err != nil {
		b.log.Warn("telegram setMyCommands", "lang", lang, "chat", chat, "err", err)
	}
}
