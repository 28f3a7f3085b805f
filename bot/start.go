package bot

import (
	"context"
	"strings"

	"github.com/khqrbot/khqrbot/locales"
)

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
	if err := b.cfg.Service.SetLanguage(ctx, r.user.ID, lang); err != nil {
		b.fail(ctx, r, err)
		return
	}
	b.reply(ctx, r.chat, locales.New(lang).T("lang.set"), nil)
}
