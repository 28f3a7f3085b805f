package bot

import (
	"context"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"

	"github.com/go-telegram/bot/models"

	"github.com/khqrbot/khqrbot/payments"
)

// command is a bot command as typed: "/pay@shop_bot 5 USD coffee" is
// {Name: "pay", To: "shop_bot", Args: "5 USD coffee"}.
type command struct {
	Name string // lower-case, without the slash
	To   string // the bot it is addressed to; "" when none
	Args string // the rest of the text, trimmed
}

// parseCommand reads the command at the start of a message. Telegram marks it
// with a bot_command entity whose offset and length count UTF-16 units (the
// library's own matcher slices bytes and misses "/cmd@bot", so we do it here);
// a text without entities that starts with "/" is read by its first word.
func parseCommand(text string, entities []models.MessageEntity) (command, bool) {
	var head, rest string
	found := false
	for _, e := range entities {
		if e.Type != models.MessageEntityTypeBotCommand || e.Offset != 0 {
			continue
		}
		u := utf16.Encode([]rune(text))
		if e.Length < 2 || e.Length > len(u) {
			return command{}, false
		}
		head, rest = string(utf16.Decode(u[:e.Length])), string(utf16.Decode(u[e.Length:]))
		found = true
		break
	}
	if !found {
		if len(entities) > 0 || !strings.HasPrefix(text, "/") {
			return command{}, false
		}
		head, rest = text, ""
		if i := strings.IndexFunc(text, unicode.IsSpace); i >= 0 {
			head, rest = text[:i], text[i:]
		}
	}
	name, ok := strings.CutPrefix(head, "/")
	if !ok || name == "" {
		return command{}, false
	}
	name, to, _ := strings.Cut(name, "@")
	if name == "" {
		return command{}, false
	}
	return command{Name: strings.ToLower(name), To: to, Args: strings.TrimSpace(rest)}, true
}

// forUs reports whether the command is addressed to the bot named username
// (or to no bot in particular).
func (c command) forUs(username string) bool {
	return c.To == "" || strings.EqualFold(c.To, username)
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
	inv, err := b.cfg.Service.Invoice(ctx, id)
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
