package bot

import (
	"testing"
	"unicode/utf16"

	"github.com/go-telegram/bot/models"
)

// entity marks the bot command at the start of text, counting UTF-16 units
// as Telegram does.
func entity(text, cmd string) []models.MessageEntity {
	return []models.MessageEntity{{Type: models.MessageEntityTypeBotCommand, Offset: 0, Length: len(utf16.Encode([]rune(cmd)))}}
}

func TestParseCommand(t *testing.T) {
	tests := []struct {
		text     string
		entities []models.MessageEntity
		want     command
		ok       bool
	}{
		{"/pay 5", entity("/pay 5", "/pay"), command{Name: "pay", Args: "5"}, true},
		{"/pay@fake_bot 5 USD coffee", entity("", "/pay@fake_bot"), command{Name: "pay", To: "fake_bot", Args: "5 USD coffee"}, true},
		{"/PAY@Fake_Bot 5", entity("", "/PAY@Fake_Bot"), command{Name: "pay", To: "Fake_Bot", Args: "5"}, true},
		{"/pay@otherbot 5", entity("", "/pay@otherbot"), command{Name: "pay", To: "otherbot", Args: "5"}, true},
		{"/invoice 20 USD រចនាឡូហ្គោ 😀", entity("", "/invoice"), command{Name: "invoice", Args: "20 USD រចនាឡូហ្គោ 😀"}, true},
		{"/start inv_abc", entity("", "/start"), command{Name: "start", Args: "inv_abc"}, true},
		{"/help", entity("", "/help"), command{Name: "help"}, true},
		{"/pay 5", nil, command{Name: "pay", Args: "5"}, true},
		{"/pay\n5", nil, command{Name: "pay", Args: "5"}, true},
		{"hello", nil, command{}, false},
		{"😀 /pay 5", []models.MessageEntity{{Type: models.MessageEntityTypeBotCommand, Offset: 3, Length: 4}}, command{}, false},
		{"/pay", []models.MessageEntity{{Type: models.MessageEntityTypeBotCommand, Offset: 0, Length: 40}}, command{}, false},
		{"/", nil, command{}, false},
		{"/@bot", nil, command{}, false},
		{"", nil, command{}, false},
	}
	for _, tt := range tests {
		got, ok := parseCommand(tt.text, tt.entities)
		if ok != tt.ok || got != tt.want {
			t.Errorf("parseCommand(%q) = %+v, %v; want %+v, %v", tt.text, got, ok, tt.want, tt.ok)
		}
	}
}

func TestCommandForUs(t *testing.T) {
	tests := []struct {
		to   string
		want bool
	}{{"", true}, {"fake_bot", true}, {"FAKE_BOT", true}, {"otherbot", false}}
	for _, tt := range tests {
		if got := (command{Name: "pay", To: tt.to}).forUs("fake_bot"); got != tt.want {
			t.Errorf("forUs(to %q) = %v, want %v", tt.to, got, tt.want)
		}
	}
}

// FuzzParseCommand: no text or entity panics the parser (the library's own
// matcher panics on an entity longer than the text).
func FuzzParseCommand(f *testing.F) {
	f.Add("/pay@fake_bot 5", 0, 13)
	f.Add("😀/pay", 0, 40)
	f.Fuzz(func(t *testing.T, text string, off, n int) {
		parseCommand(text, []models.MessageEntity{{Type: models.MessageEntityTypeBotCommand, Offset: off, Length: n}})
		parseCommand(text, nil)
	})
}

func TestCallbackData(t *testing.T) {
	tests := []callback{
		{actCheck, 1}, {actCancel, 42}, {actNew, 9223372036854775807}, {actSim, 7}, {actPage, 0}, {actPage, 3},
		{actAccept, 5}, {actReject, 9223372036854775807},
	}
	for _, c := range tests {
		s := c.String()
		if len(s) > maxCallbackData {
			t.Errorf("%+v encodes to %d bytes, more than %d", c, len(s), maxCallbackData)
		}
		got, err := parseCallback(s)
		if err != nil || got != c {
			t.Errorf("parseCallback(%q) = %+v, %v; want %+v", s, got, err, c)
		}
	}
	for _, bad := range []string{"", "chk", "chk:", "chk:x", "chk:0", "chk:-1", "zzz:1", "chk:99999999999999999999", ":1",
		"pg:-1", "chk:1:2", "acc:0", "rej:", "acc:-3", "chk:" + string(make([]byte, 70))} {
		if c, err := parseCallback(bad); err == nil {
			t.Errorf("parseCallback(%q) = %+v; want an error", bad, c)
		}
	}
}
