package bot_test

import (
	"testing"

	"github.com/khqrbot/khqrbot/internal/telegramtest"
)

// TestAnonymousAdmin: a group's anonymous admin writes as the group, with no
// user id to authorize, so an admin-only command is answered with a hint to
// turn off "Remain anonymous", in their language, and does nothing else;
// other commands from them stay unanswered, as from any bot.
func TestAnonymousAdmin(t *testing.T) {
	h := newHarness(t, options{})
	anon := telegramtest.WithAnonymousAdmin()
	h.tg.SendText(group, admin, "/help", anon, telegramtest.WithChatType("supergroup"))
	h.tg.SendText(group, admin, "/pay 5", anon)
	h.waitText(group, "To use admin commands, turn off “Remain anonymous”")
	h.tg.SendText(group, admin, "/pending@fake_bot", anon, telegramtest.WithLanguage("km"))
	h.waitText(group, "សូមបិទ “Remain anonymous”")

	if got := h.botMessages(group); len(got) != 2 {
		t.Errorf("the bot sent %d messages to the group, want the 2 hints: %+v", len(got), got)
	}
}
