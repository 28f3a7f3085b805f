package bot

import (
	"context"
	"strconv"

	"github.com/go-telegram/bot/models"

	"github.com/khqrbot/khqrbot/locales"
)

// meet returns the printer for the Telegram user an update comes from:
// their /lang choice, else their Telegram language, which meet writes down
// (in memory and in the settings) for later messages, such as edits and
// notices, that have no update to read it from.
func (b *Bot) meet(ctx context.Context, u *models.User) *locales.Printer {
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

// printerByID returns the printer for a user known only by id: their /lang
// choice, else the language meet wrote down, else English.
func (b *Bot) printerByID(ctx context.Context, id int64) *locales.Printer {
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

// langKey is the setting holding the Telegram language meet saw for user id.
func langKey(id int64) string { return "telegram.lang." + strconv.FormatInt(id, 10) }
