package bot_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// TestCommandMenu: at start the bot publishes its command menu: the public
// commands for everyone and all commands in each admin's chat, in English
// by default and in Khmer for Khmer clients.
func TestCommandMenu(t *testing.T) {
	h := newHarness(t, options{admins: []int64{admin, 101}})
	h.tg.SendText(admin, admin, "/help")
	h.waitText(admin, "Admin commands") // the menu is set before updates are taken

	public := []string{"start", "help", "lang"}
	all := append(public, "pay", "invoice", "pending", "paid", "report", "export", "check", "verify", "cancel", "token")
	type want struct {
		scope, lang string
		cmds        []string
		help        string // the description of /help
	}
	tests := []want{
		{`{"type":"default"}`, "", public, "What I can do"},
		{`{"type":"chat","chat_id":100}`, "", all, "What I can do"},
		{`{"type":"chat","chat_id":101}`, "", all, "What I can do"},
		{`{"type":"default"}`, "km", public, "អ្វីដែលខ្ញុំអាចធ្វើបាន"},
		{`{"type":"chat","chat_id":100}`, "km", all, "អ្វីដែលខ្ញុំអាចធ្វើបាន"},
		{`{"type":"chat","chat_id":101}`, "km", all, "អ្វីដែលខ្ញុំអាចធ្វើបាន"},
	}
	calls := h.tg.CallsTo("setMyCommands")
	if len(calls) != len(tests) {
		t.Fatalf("%d setMyCommands calls, want %d", len(calls), len(tests))
	}
	for i, c := range calls {
		tt := tests[i]
		var cmds []struct{ Command, Description string }
		if err := json.Unmarshal([]byte(c.Params["commands"]), &cmds); err != nil {
			t.Fatalf("call %d: commands %q: %v", i, c.Params["commands"], err)
		}
		var names []string
		help := ""
		for _, x := range cmds {
			names = append(names, x.Command)
			if x.Command == "help" {
				help = x.Description
			}
		}
		if c.Params["scope"] != tt.scope || c.Params["language_code"] != tt.lang || !slices.Equal(names, tt.cmds) || help != tt.help {
			t.Errorf("call %d: scope %s, language %q, commands %v, /help %q; want %s, %q, %v, %q",
				i, c.Params["scope"], c.Params["language_code"], names, help, tt.scope, tt.lang, tt.cmds, tt.help)
		}
		if c.ErrorCode != 0 {
			t.Errorf("call %d refused: %s", i, c.Description)
		}
	}
}

// TestCommandMenuRefused: a menu Telegram refuses is logged, and the bot
// runs on.
func TestCommandMenuRefused(t *testing.T) {
	h := newHarness(t, options{})
	h.tg.SendText(customer, customer, "/start")
	h.waitText(customer, "Hello")
	h.shutdown()
	for range 4 {
		h.tg.InjectError("setMyCommands", 400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID", 0)
	}
	h.start()
	h.tg.SendText(customer, customer, "/help")
	h.waitText(customer, "/lang en|km")
	h.waitFor("the refusals logged", func() bool {
		return strings.Count(h.logs.String(), "BOT_COMMAND_DESCRIPTION_INVALID") >= 4
	})
}
