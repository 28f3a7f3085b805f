package bot

import (
	"context"
	"strconv"

	"github.com/go-telegram/bot/models"

	"github.com/khqrbot/khqrbot/locales"
)

// printer returns the printer for a Telegram user: their /lang choice, else
// their Telegram language, which is remembered for later messages (edits
// and notices) that have no update to read it from.
func (b *Bot) printer(ctx context.Context, u *models.User) *locales.Printer {
	if u == nil {
		return locales.New(locales.English)
	}
	if usr, err := b.cfg.Service.User(ctx, u.ID); err == nil && locales.Supported(usr.Language) {
		return locales.New(usr.Language)
	}
	lang := locales.Match(u.LanguageCode)
	if prev, ok := b.langs.Load(u.ID); !ok || prev != lang {
		b.langs.Store(u.ID, lang)
		if err := b.cfg.Service.SetSetting(ctx, langKey(u.ID), lang); err != nil {
			b.log.Warn("remember language", "user", u.ID, "err", err)
		}
	}
	return locales.New(lang)
}

// printerOf returns the printer for a user known only by id.
func (b *Bot) printerOf(ctx context.Context, id int64) *locales.Printer {
	if usr, err := b.cfg.Service.User(ctx, id); err == nil && locales.Supported(usr.Language) {
		return locales.New(usr.Language)
	}
	if l, ok := b.langs.Load(id); ok {
		return locales.New(l.(string))
	}
	if l, err := b.cfg.Service.Setting(ctx, langKey(id)); err == nil && l != "" {
		b.langs.Store(id, l)
		return locales.New(l)
	}
	return locales.New(locales.English)
}

func langKey(id int64) string { return "telegram.lang." + strconv.FormatInt(id, 10) }
