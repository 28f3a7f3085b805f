package bot

import (
	"context"
	"time"
)

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
