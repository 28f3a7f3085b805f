package botapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/khqrbot/khqrbot/internal/botapi"
)

var me = botapi.Bot{Token: "42:local-test", ID: 42, Username: "local_bot", FirstName: "Local"}

// serve runs the server as the demo does: no call record, no injected
// errors, only what the binary has.
func serve(t *testing.T) (*botapi.Server, string) {
	t.Helper()
	s, err := botapi.New(botapi.Options{Bot: me})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	t.Cleanup(func() { s.Close(); ts.CloseClientConnections(); ts.Close() })
	return s, ts.URL
}

func client(t *testing.T, base string) *bot.Bot {
	t.Helper()
	b, err := bot.New(me.Token, bot.WithServerURL(base),
		bot.WithHTTPClient(2*time.Second, &http.Client{Timeout: 10 * time.Second}),
		bot.WithDefaultHandler(func(context.Context, *bot.Bot, *models.Update) {}))
	if err != nil {
		t.Fatalf("bot.New (getMe): %v", err)
	}
	return b
}

func square(t *testing.T, size int, c color.Color) []byte {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, size, size))
	for i := range img.Pix {
		img.Pix[i] = color.GrayModel.Convert(c).(color.Gray).Y
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestEveryMethodTheBotUses drives the server with go-telegram/bot, the
// bot's own library, through every method khqrbot calls, uploads included.
func TestEveryMethodTheBotUses(t *testing.T) {
	s, base := serve(t)
	b := client(t, base)
	ctx := context.Background()

	u, err := b.GetMe(ctx)
	if err != nil || u.ID != me.ID || u.Username != me.Username || !u.IsBot {
		t.Fatalf("getMe = %+v, %v", u, err)
	}
	if ok, err := b.DeleteWebhook(ctx, &bot.DeleteWebhookParams{}); !ok || err != nil {
		t.Fatalf("deleteWebhook = %v, %v", ok, err)
	}
	if ok, err := b.SetWebhook(ctx, &bot.SetWebhookParams{URL: "https://shop.example.com/hook", SecretToken: "s3cret"}); !ok || err != nil {
		t.Fatalf("setWebhook = %v, %v", ok, err)
	}
	if ok, err := b.DeleteWebhook(ctx, &bot.DeleteWebhookParams{}); !ok || err != nil {
		t.Fatalf("deleteWebhook = %v, %v", ok, err)
	}

	everyone := []models.BotCommand{{Command: "start", Description: "Start"}, {Command: "help", Description: "Help"}}
	admin := append(everyone, models.BotCommand{Command: "pay", Description: "A QR"})
	for _, p := range []*bot.SetMyCommandsParams{
		{Commands: everyone, Scope: &models.BotCommandScopeDefault{}},
		{Commands: []models.BotCommand{{Command: "start", Description: "ចាប់ផ្តើម"}}, Scope: &models.BotCommandScopeDefault{}, LanguageCode: "km"},
		{Commands: admin, Scope: &models.BotCommandScopeChat{ChatID: 7}},
	} {
		if ok, err := b.SetMyCommands(ctx, p); !ok || err != nil {
			t.Fatalf("setMyCommands %+v = %v, %v", p, ok, err)
		}
	}
	for _, tc := range []struct {
		chat  int64
		lang  string
		first string
		n     int
	}{{7, "en", "start", 3}, {8, "en", "start", 2}, {8, "km", "start", 1}, {7, "km", "start", 3}} {
		got := s.Commands(tc.chat, tc.lang)
		if len(got) != tc.n || got[0].Command != tc.first {
			t.Errorf("Commands(%d, %s) = %+v, want %d starting /%s", tc.chat, tc.lang, got, tc.n, tc.first)
		}
	}

	kb := &models.InlineKeyboardMarkup{InlineKeyboard: [][]models.InlineKeyboardButton{
		{{Text: "Pay with Bakong", URL: "https://bakongsim.page.link/abc"}},
		{{Text: "Check status", CallbackData: "chk:1"}},
	}}
	text, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: 7, Text: "Hello", ReplyMarkup: kb})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.EditMessageText(ctx, &bot.EditMessageTextParams{ChatID: 7, MessageID: text.ID, Text: "Hello again", ReplyMarkup: kb}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.EditMessageReplyMarkup(ctx, &bot.EditMessageReplyMarkupParams{ChatID: 7, MessageID: text.ID,
		ReplyMarkup: &models.InlineKeyboardMarkup{InlineKeyboard: [][]models.InlineKeyboardButton{}}}); err != nil {
		t.Fatal(err)
	}
	if m, _ := s.Message(7, text.ID); m.Text != "Hello again" || m.Keyboard != nil || m.Edits != 2 {
		t.Errorf("edited text message = %+v", m)
	}

	qr := square(t, 240, color.Black)
	photo, err := b.SendPhoto(ctx, &bot.SendPhotoParams{ChatID: 7, Caption: "5.00 USD", ReplyMarkup: kb,
		Photo: &models.InputFileUpload{Filename: "inv-1.png", Data: bytes.NewReader(qr)}})
	if err != nil {
		t.Fatal(err)
	}
	if data, name, ok := s.FileData(photo.Photo[len(photo.Photo)-1].FileID); !ok || !bytes.Equal(data, qr) || name != "inv-1.png" {
		t.Errorf("uploaded photo kept as %q, %d bytes", name, len(data))
	}
	if _, err := b.EditMessageCaption(ctx, &bot.EditMessageCaptionParams{ChatID: 7, MessageID: photo.ID, Caption: "5.00 USD, checking", ReplyMarkup: kb}); err != nil {
		t.Fatal(err)
	}
	paid := square(t, 200, color.White)
	if _, err := b.EditMessageMedia(ctx, &bot.EditMessageMediaParams{ChatID: 7, MessageID: photo.ID,
		Media: &models.InputMediaPhoto{Media: "attach://paid.png", MediaAttachment: bytes.NewReader(paid), Caption: "Paid"}}); err != nil {
		t.Fatal(err)
	}
	if m, _ := s.Message(7, photo.ID); !bytes.Equal(m.Photo, paid) || m.Caption != "Paid" || m.Edits != 2 {
		t.Errorf("edited photo = caption %q, %d edits", m.Caption, m.Edits)
	}
	doc, err := b.SendDocument(ctx, &bot.SendDocumentParams{ChatID: 7, Caption: "export",
		Document: &models.InputFileUpload{Filename: "paid.csv", Data: strings.NewReader("invoice,amount\nINV-1,5.00\n")}})
	if err != nil {
		t.Fatal(err)
	}
	if data, name, ok := s.FileData(doc.Document.FileID); !ok || string(data) != "invoice,amount\nINV-1,5.00\n" || name != "paid.csv" {
		t.Errorf("document kept as %q: %q", name, data)
	}
	if ok, err := b.DeleteMessage(ctx, &bot.DeleteMessageParams{ChatID: 7, MessageID: doc.ID}); !ok || err != nil {
		t.Fatalf("deleteMessage = %v, %v", ok, err)
	}

	// Long polling, a callback query, and its answer.
	pressed := make(chan *models.CallbackQuery, 1)
	b.RegisterHandler(bot.HandlerTypeCallbackQueryData, "chk:", bot.MatchTypePrefix, func(ctx context.Context, b *bot.Bot, u *models.Update) {
		_, _ = b.AnswerCallbackQuery(ctx, &bot.AnswerCallbackQueryParams{CallbackQueryID: u.CallbackQuery.ID, Text: "Not paid yet"})
		pressed <- u.CallbackQuery
	})
	pctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { b.Start(pctx); close(done) }()
	defer func() { stop(); <-done }()
	id := s.PressButton(7, 7, photo.ID, "chk:1", botapi.WithLanguage("km"))
	select {
	case cq := <-pressed:
		if cq.From.LanguageCode != "km" || cq.Message.Message == nil || cq.Message.Message.ID != photo.ID {
			t.Errorf("callback query %+v", cq)
		}
	case <-time.After(10 * time.Second): // a hang detector
		t.Fatal("no callback query through getUpdates")
	}
	if !s.WaitFor(10*time.Second, func() bool { _, ok := s.AnswerOf(id); return ok }) {
		t.Fatal("no answer")
	}
	if a, _ := s.AnswerOf(id); a.Text != "Not paid yet" {
		t.Errorf("answer %+v", a)
	}
}

// TestRefusals: what Telegram refuses, the server refuses with Telegram's
// envelope and text, and go-telegram/bot reports it as it would Telegram's.
func TestRefusals(t *testing.T) {
	s, base := serve(t)
	b := client(t, base)
	ctx := context.Background()
	sent, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: 9, Text: "same"})
	if err != nil {
		t.Fatal(err)
	}
	button := func(btn models.InlineKeyboardButton) *models.InlineKeyboardMarkup {
		return &models.InlineKeyboardMarkup{InlineKeyboard: [][]models.InlineKeyboardButton{{btn}}}
	}
	for _, tc := range []struct {
		name string
		call func() error
		desc string
	}{
		{"message too long", func() error {
			_, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: 9, Text: strings.Repeat("ក", 4097)})
			return err
		}, "Bad Request: message is too long"},
		{"caption too long", func() error {
			_, err := b.SendPhoto(ctx, &bot.SendPhotoParams{ChatID: 9, Caption: strings.Repeat("a", 1025),
				Photo: &models.InputFileUpload{Filename: "a.png", Data: bytes.NewReader(square(t, 8, color.Black))}})
			return err
		}, "Bad Request: message caption is too long"},
		{"button URL", func() error {
			_, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: 9, Text: "x", ReplyMarkup: button(models.InlineKeyboardButton{Text: "Pay", URL: "http://localhost:8080/pay"})})
			return err
		}, "Bad Request: BUTTON_URL_INVALID"},
		{"callback data over 64 bytes", func() error {
			_, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: 9, Text: "x", ReplyMarkup: button(models.InlineKeyboardButton{Text: "Check", CallbackData: strings.Repeat("d", 65)})})
			return err
		}, "Bad Request: BUTTON_DATA_INVALID"},
		{"not modified", func() error {
			_, err := b.EditMessageText(ctx, &bot.EditMessageTextParams{ChatID: 9, MessageID: sent.ID, Text: "same"})
			return err
		}, "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if !errors.Is(err, bot.ErrorBadRequest) || !strings.HasSuffix(err.Error(), strings.TrimPrefix(tc.desc, "Bad Request: ")) {
				t.Errorf("err = %v, want a bad request ending %q", err, tc.desc)
			}
		})
	}
	if n := len(s.Messages(9)); n != 1 {
		t.Errorf("%d messages in the chat, want only the first", n)
	}

	// The envelope itself, as Telegram writes it.
	resp, err := http.PostForm(base+"/bot"+me.Token+"/sendMessage", url.Values{"chat_id": {"9"}, "text": {strings.Repeat("x", 4097)}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var env map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"ok": false, "error_code": float64(400), "description": "Bad Request: message is too long"}
	if resp.StatusCode != 400 || len(env) != len(want) {
		t.Errorf("HTTP %d %v, want 400 %v", resp.StatusCode, env, want)
	}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("%s = %v, want %v", k, env[k], v)
		}
	}
}

// TestInterceptAnswersWithParameters: an Error from Options.Intercept is
// the answer, parameters included, and the method does not run.
func TestInterceptAnswersWithParameters(t *testing.T) {
	s, err := botapi.New(botapi.Options{Bot: me, Intercept: func(method string) *botapi.Error {
		if method == "sendMessage" {
			return &botapi.Error{Code: 429, Description: "Too Many Requests: retry after 3", RetryAfter: 3}
		}
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	defer ts.Close()
	defer s.Close()
	resp, err := http.PostForm(ts.URL+"/bot"+me.Token+"/SENDMESSAGE", url.Values{"chat_id": {"9"}, "text": {"hi"}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var env struct {
		OK          bool   `json:"ok"`
		ErrorCode   int    `json:"error_code"`
		Description string `json:"description"`
		Parameters  struct {
			RetryAfter int `json:"retry_after"`
		} `json:"parameters"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 429 || env.OK || env.ErrorCode != 429 || env.Parameters.RetryAfter != 3 {
		t.Errorf("HTTP %d %+v", resp.StatusCode, env)
	}
	if len(s.Messages(9)) != 0 || len(s.Calls()) != 0 {
		t.Error("the intercepted call ran, or was recorded without KeepCalls")
	}
}

func TestBotValidate(t *testing.T) {
	for _, b := range []botapi.Bot{
		{},
		{Token: "no-colon", ID: 1, Username: "a", FirstName: "a"},
		{Token: "1:a/b", ID: 1, Username: "a", FirstName: "a"},
		{Token: "1:a", ID: 0, Username: "a", FirstName: "a"},
		{Token: "1:a", ID: 1, FirstName: "a"},
	} {
		if _, err := botapi.New(botapi.Options{Bot: b}); err == nil {
			t.Errorf("New(%+v) accepted", b)
		} else if strings.Contains(err.Error(), b.Token) && b.Token != "" {
			t.Errorf("error %q quotes the token", err)
		}
	}
}
