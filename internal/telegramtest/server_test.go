package telegramtest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/khqrbot/khqrbot/internal/telegramtest"
)

const wait = 5 * time.Second // a hang detector, not a performance target

func pngOf(t *testing.T, size int, c color.Color) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, size, size))
	for x := range size {
		for y := range size {
			img.Set(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func newBot(t *testing.T, s *telegramtest.Server, opts ...bot.Option) *bot.Bot {
	t.Helper()
	opts = append([]bot.Option{
		bot.WithServerURL(s.URL()),
		bot.WithHTTPClient(3*time.Second, &http.Client{Timeout: 10 * time.Second}),
		bot.WithDefaultHandler(func(context.Context, *bot.Bot, *models.Update) {}),
	}, opts...)
	b, err := bot.New(s.Token(), opts...)
	if err != nil {
		t.Fatalf("bot.New: %v", err)
	}
	return b
}

// call posts fields urlencoded and returns the HTTP status and decoded envelope.
func call(t *testing.T, s *telegramtest.Server, method string, fields map[string]string) (int, map[string]any) {
	t.Helper()
	form := url.Values{}
	for k, v := range fields {
		form.Set(k, v)
	}
	resp, err := http.PostForm(s.URL()+"/bot"+s.Token()+"/"+method, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var env map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
		t.Fatalf("%s: decode: %v", method, err)
	}
	return resp.StatusCode, env
}

func TestGetMeAndRouting(t *testing.T) {
	s := telegramtest.New(t)
	b := newBot(t, s)
	me, err := b.GetMe(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if me.ID != telegramtest.BotID || me.Username != telegramtest.BotUsername || !me.IsBot {
		t.Errorf("getMe = %+v", me)
	}

	for _, tc := range []struct {
		path string
		code int
		desc string
	}{
		{"/bot" + s.Token() + "/GETME", 200, ""},
		{"/bot123:wrong/getMe", 401, "Unauthorized"},
		{"/bot" + s.Token() + "/noSuchMethod", 404, "Not Found"},
		{"/favicon.ico", 404, "Not Found"},
	} {
		resp, err := http.Post(s.URL()+tc.path, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		var env struct {
			OK          bool   `json:"ok"`
			ErrorCode   int    `json:"error_code"`
			Description string `json:"description"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&env)
		resp.Body.Close()
		if resp.StatusCode != tc.code || env.Description != tc.desc || env.OK != (tc.code == 200) {
			t.Errorf("%s: %d %+v, want %d %q", tc.path, resp.StatusCode, env, tc.code, tc.desc)
		}
	}
}

func TestSendPhotoEditMediaAndCaption(t *testing.T) {
	s := telegramtest.New(t)
	b := newBot(t, s, bot.WithSkipGetMe())
	ctx := context.Background()
	qr := pngOf(t, 300, color.Black)
	kb := &models.InlineKeyboardMarkup{InlineKeyboard: [][]models.InlineKeyboardButton{
		{{Text: "Pay with Bakong", URL: "https://bakong.page.link/abc"}},
		{{Text: "Check status", CallbackData: "check:1"}},
	}}
	sent, err := b.SendPhoto(ctx, &bot.SendPhotoParams{
		ChatID: 42, Caption: "<b>INV-000001</b> 5.00 USD", ParseMode: models.ParseModeHTML, ReplyMarkup: kb,
		Photo: &models.InputFileUpload{Filename: "inv-1.png", Data: bytes.NewReader(qr)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(sent.Photo) < 2 || sent.Photo[len(sent.Photo)-1].Width != 300 || sent.Date == 0 {
		t.Errorf("sent photo sizes %+v date %d", sent.Photo, sent.Date)
	}
	m, ok := s.Message(42, sent.ID)
	if !ok {
		t.Fatal("message not stored")
	}
	if !bytes.Equal(m.Photo, qr) || m.PhotoName != "inv-1.png" || m.Caption != "INV-000001 5.00 USD" ||
		m.Source != "<b>INV-000001</b> 5.00 USD" || !m.FromBot {
		t.Errorf("stored %+v", m)
	}
	if got := m.Buttons(); len(got) != 2 || got[0].URL != "https://bakong.page.link/abc" || got[1].CallbackData != "check:1" {
		t.Errorf("buttons %+v", got)
	}

	// Same caption and keyboard: Telegram refuses the edit.
	_, err = b.EditMessageCaption(ctx, &bot.EditMessageCaptionParams{
		ChatID: 42, MessageID: sent.ID, Caption: "<b>INV-000001</b> 5.00 USD", ParseMode: models.ParseModeHTML, ReplyMarkup: kb,
	})
	if !errors.Is(err, bot.ErrorBadRequest) || !strings.Contains(err.Error(), "message is not modified") {
		t.Errorf("identical edit: %v", err)
	}

	paid := pngOf(t, 200, color.White)
	edited, err := b.EditMessageMedia(ctx, &bot.EditMessageMediaParams{
		ChatID: 42, MessageID: sent.ID,
		Media: &models.InputMediaPhoto{Media: "attach://paid.png", MediaAttachment: bytes.NewReader(paid), Caption: "Paid"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if edited.ReplyMarkup != nil && len(edited.ReplyMarkup.InlineKeyboard) > 0 {
		t.Errorf("keyboard kept after an edit without reply_markup: %+v", edited.ReplyMarkup)
	}
	m, _ = s.Message(42, sent.ID)
	if !bytes.Equal(m.Photo, paid) || m.PhotoName != "paid.png" || m.Caption != "Paid" || m.Keyboard != nil || m.Edits != 1 || m.EditDate.IsZero() {
		t.Errorf("after edit media %+v", m)
	}

	// Photo by file_id re-uses the stored bytes.
	again, err := b.SendPhoto(ctx, &bot.SendPhotoParams{ChatID: 42, Photo: &models.InputFileString{Data: m.PhotoFileID}})
	if err != nil {
		t.Fatal(err)
	}
	if m2, _ := s.Message(42, again.ID); !bytes.Equal(m2.Photo, paid) {
		t.Error("photo by file_id lost its bytes")
	}

	doc, err := b.SendDocument(ctx, &bot.SendDocumentParams{ChatID: 42, Caption: "export",
		Document: &models.InputFileUpload{Filename: "paid.csv", Data: strings.NewReader("a,b\n1,2\n")}})
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := s.Message(42, doc.ID); string(d.Document) != "a,b\n1,2\n" || d.DocumentName != "paid.csv" || doc.Document == nil {
		t.Errorf("document %+v", d)
	}
	if got := len(s.Messages(42)); got != 3 {
		t.Errorf("%d messages, want 3", got)
	}
	if _, err := b.DeleteMessage(ctx, &bot.DeleteMessageParams{ChatID: 42, MessageID: doc.ID}); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Message(42, doc.ID); ok {
		t.Error("deleted message still there")
	}
}

func TestValidations(t *testing.T) {
	s := telegramtest.New(t)
	_, env := call(t, s, "sendMessage", map[string]string{"chat_id": "7", "text": "hello"})
	textID := int(env["result"].(map[string]any)["message_id"].(float64))
	long := func(n int) string { return strings.Repeat("ក", n) } // one UTF-16 unit, three bytes
	button := func(b string) string { return `{"inline_keyboard":[[` + b + `]]}` }
	for _, tc := range []struct {
		name, method string
		fields       map[string]string
		desc         string
	}{
		{"empty text", "sendMessage", map[string]string{"chat_id": "7", "text": " "}, "Bad Request: message text is empty"},
		{"text too long", "sendMessage", map[string]string{"chat_id": "7", "text": long(4097)}, "Bad Request: message is too long"},
		{"text at limit", "sendMessage", map[string]string{"chat_id": "7", "text": long(4096)}, ""},
		{"no chat", "sendMessage", map[string]string{"text": "x"}, "Bad Request: chat_id is empty"},
		{"caption too long", "sendPhoto", map[string]string{"chat_id": "7", "photo": "https://example.com/a.png", "caption": long(1025)}, "Bad Request: message caption is too long"},
		{"unknown file id", "sendPhoto", map[string]string{"chat_id": "7", "photo": "nope"}, "Bad Request: wrong file identifier/HTTP URL specified"},
		{"no photo", "sendPhoto", map[string]string{"chat_id": "7"}, "Bad Request: there is no photo in the request"},
		{"edit missing", "editMessageText", map[string]string{"chat_id": "7", "message_id": "999", "text": "x"}, "Bad Request: message to edit not found"},
		{"edit caption of text", "editMessageCaption", map[string]string{"chat_id": "7", "message_id": "1", "caption": "x"}, "Bad Request: there is no caption in the message to edit"},
		{"text not modified", "editMessageText", map[string]string{"chat_id": "7", "message_id": "1", "text": "hello"}, "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message"},
		{"markup not modified", "editMessageReplyMarkup", map[string]string{"chat_id": "7", "message_id": "1"}, "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message"},
		{"callback data too long", "sendMessage", map[string]string{"chat_id": "7", "text": "x", "reply_markup": button(`{"text":"a","callback_data":"` + strings.Repeat("x", 65) + `"}`)}, "Bad Request: BUTTON_DATA_INVALID"},
		{"callback data empty", "sendMessage", map[string]string{"chat_id": "7", "text": "x", "reply_markup": button(`{"text":"a","callback_data":""}`)}, "Bad Request: BUTTON_DATA_INVALID"},
		{"callback data 64 bytes", "sendMessage", map[string]string{"chat_id": "7", "text": "x", "reply_markup": button(`{"text":"a","callback_data":"` + strings.Repeat("x", 64) + `","copy_text":{"text":""}}`)}, ""},
		{"ftp url button", "sendMessage", map[string]string{"chat_id": "7", "text": "x", "reply_markup": button(`{"text":"a","url":"ftp://x.com"}`)}, "Bad Request: BUTTON_URL_INVALID"},
		{"localhost url button", "sendMessage", map[string]string{"chat_id": "7", "text": "x", "reply_markup": button(`{"text":"a","url":"http://localhost:8080/x"}`)}, "Bad Request: BUTTON_URL_INVALID"},
		{"tg url button", "sendMessage", map[string]string{"chat_id": "7", "text": "x", "reply_markup": button(`{"text":"a","url":"tg://resolve?domain=fake_bot"}`)}, ""},
		{"text-only button", "sendMessage", map[string]string{"chat_id": "7", "text": "x", "reply_markup": button(`{"text":"a","copy_text":{"text":""}}`)}, "Bad Request: text buttons are unallowed in the inline keyboard"},
		{"bad markup json", "sendMessage", map[string]string{"chat_id": "7", "text": "x", "reply_markup": "{"}, "Bad Request: can't parse reply keyboard markup JSON object"},
		{"html unsupported tag", "sendMessage", map[string]string{"chat_id": "7", "text": "a<br>b", "parse_mode": "HTML"}, `Bad Request: can't parse entities: Unsupported start tag "br" at byte offset 1`},
		{"html unescaped <", "sendMessage", map[string]string{"chat_id": "7", "text": "5 < 6", "parse_mode": "HTML"}, `Bad Request: can't parse entities: Unclosed start tag at byte offset 2`},
		{"html unknown tag", "sendMessage", map[string]string{"chat_id": "7", "text": "a <x> b", "parse_mode": "HTML"}, `Bad Request: can't parse entities: Unsupported start tag "x" at byte offset 2`},
		{"html crossed", "sendMessage", map[string]string{"chat_id": "7", "text": "<b><i>x</b></i>", "parse_mode": "HTML"}, `Bad Request: can't parse entities: Unmatched end tag at byte offset 7, expected "</i>", found "</b>"`},
		{"html unclosed", "sendMessage", map[string]string{"chat_id": "7", "text": "<b>x", "parse_mode": "HTML"}, `Bad Request: can't parse entities: Can't find end tag corresponding to start tag "b"`},
		{"html escaped", "sendMessage", map[string]string{"chat_id": "7", "text": "5 &lt; 6 &amp; <i>ok</i>", "parse_mode": "HTML"}, ""},
		{"bad parse mode", "sendMessage", map[string]string{"chat_id": "7", "text": "x", "parse_mode": "BBCode"}, "Bad Request: unsupported parse_mode"},
		{"unknown callback", "answerCallbackQuery", map[string]string{"callback_query_id": "cbq-999"}, "Bad Request: query is too old and response timeout expired or query ID is invalid"},
		{"delete missing", "deleteMessage", map[string]string{"chat_id": "7", "message_id": "999"}, "Bad Request: message to delete not found"},
		{"bad command", "setMyCommands", map[string]string{"commands": `[{"command":"Pay!","description":"x"}]`}, "Bad Request: BOT_COMMAND_INVALID"},
		{"commands", "setMyCommands", map[string]string{"commands": `[{"command":"pay","description":"Collect a payment"}]`, "language_code": "km"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, env := call(t, s, tc.method, tc.fields)
			desc, _ := env["description"].(string)
			if desc != tc.desc || (tc.desc == "") != (code == 200) {
				t.Errorf("%d %q, want %q", code, desc, tc.desc)
			}
		})
	}
	if m, _ := s.Message(7, textID); m.Text != "hello" || m.Edits != 0 {
		t.Errorf("message changed by failed edits: %+v", m)
	}
	if m, ok := s.LastBotMessage(7); !ok || m.Text != "5 < 6 & ok" || m.ParseMode != "HTML" {
		t.Errorf("HTML text stored as %+v", m)
	}
}

func TestBadPhotoBytes(t *testing.T) {
	s := telegramtest.New(t)
	b := newBot(t, s, bot.WithSkipGetMe())
	_, err := b.SendPhoto(context.Background(), &bot.SendPhotoParams{ChatID: 1,
		Photo: &models.InputFileUpload{Filename: "x.png", Data: strings.NewReader("not an image")}})
	if !errors.Is(err, bot.ErrorBadRequest) || !strings.Contains(err.Error(), "IMAGE_PROCESS_FAILED") {
		t.Errorf("err = %v", err)
	}
}

func TestInjectError(t *testing.T) {
	s := telegramtest.New(t)
	b := newBot(t, s, bot.WithSkipGetMe())
	ctx := context.Background()
	s.InjectError("SendMessage", 429, "", 7)
	s.InjectError("sendMessage", 403, "", 0)

	_, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: 5, Text: "hi"})
	var tmr *bot.TooManyRequestsError
	if !errors.As(err, &tmr) || tmr.RetryAfter != 7 || !strings.Contains(tmr.Message, "Too Many Requests: retry after 7") {
		t.Fatalf("first: %v", err)
	}
	if _, err = b.SendMessage(ctx, &bot.SendMessageParams{ChatID: 5, Text: "hi"}); !errors.Is(err, bot.ErrorForbidden) {
		t.Fatalf("second: %v", err)
	}
	if _, err = b.SendMessage(ctx, &bot.SendMessageParams{ChatID: 5, Text: "hi"}); err != nil {
		t.Fatalf("third: %v", err)
	}
	calls := s.CallsTo("sendMessage")
	if len(calls) != 3 || calls[0].ErrorCode != 429 || calls[1].ErrorCode != 403 || calls[2].ErrorCode != 0 || calls[2].Params["text"] != "hi" {
		t.Errorf("calls %v", calls)
	}
	if n := len(s.Messages(5)); n != 1 {
		t.Errorf("%d messages, want only the successful one", n)
	}
}

func TestCommandsCallbacksAndLongPoll(t *testing.T) {
	s := telegramtest.New(t)
	var mu sync.Mutex
	var got []*models.Update
	handle := func(ctx context.Context, b *bot.Bot, u *models.Update) {
		mu.Lock()
		got = append(got, u)
		mu.Unlock()
		switch {
		case u.Message != nil:
			kb := &models.InlineKeyboardMarkup{InlineKeyboard: [][]models.InlineKeyboardButton{{{Text: "Check", CallbackData: "check:1"}}}}
			_, _ = b.SendMessage(ctx, &bot.SendMessageParams{ChatID: u.Message.Chat.ID, Text: "invoice", ReplyMarkup: kb})
		case u.CallbackQuery != nil:
			_, _ = b.AnswerCallbackQuery(ctx, &bot.AnswerCallbackQueryParams{CallbackQueryID: u.CallbackQuery.ID, Text: "checked"})
		}
	}
	b := newBot(t, s, bot.WithSkipGetMe(), bot.WithNotAsyncHandlers())
	b.RegisterHandler(bot.HandlerTypeMessageText, "pay", bot.MatchTypeCommand, handle)
	b.RegisterHandler(bot.HandlerTypeCallbackQueryData, "check:", bot.MatchTypePrefix, handle)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { b.Start(ctx); close(done) }()

	s.SendText(42, 7, "/pay 5", telegramtest.WithLanguage("km"))
	if !s.WaitFor(wait, func() bool { m, ok := s.LastBotMessage(42); return ok && m.Text == "invoice" }) {
		t.Fatalf("no reply to /pay; calls %v", s.Calls())
	}
	reply, _ := s.LastBotMessage(42)
	cb := s.PressButton(42, 7, reply.ID, "check:1")
	if !s.WaitFor(wait, func() bool { _, ok := s.AnswerOf(cb); return ok }) {
		t.Fatal("callback not answered")
	}
	if a, _ := s.AnswerOf(cb); a.Text != "checked" {
		t.Errorf("answer %+v", a)
	}
	s.SendText(-100, 8, "/pay@fake_bot 10", telegramtest.WithChatType("supergroup"))
	s.SendText(-100, 9, "/pay 20", telegramtest.WithAnonymousAdmin())
	if !s.WaitFor(wait, func() bool { return s.Pending() == 0 && len(s.CallsTo("getUpdates")) > 3 }) {
		t.Fatal("updates not confirmed")
	}

	// Three: the library's command matcher misses "/pay@fake_bot".
	if !s.WaitFor(wait, func() bool { mu.Lock(); defer mu.Unlock(); return len(got) == 3 }) {
		t.Fatal("not every update was handled")
	}
	mu.Lock()
	msg, cq, anon := got[0].Message, got[1].CallbackQuery, got[2].Message
	mu.Unlock()
	if anon == nil || anon.From.ID != telegramtest.AnonymousAdminID || !anon.From.IsBot ||
		anon.SenderChat == nil || anon.SenderChat.ID != -100 || anon.SenderChat.Type != "supergroup" || anon.Text != "/pay 20" {
		t.Errorf("anonymous admin's message %+v", anon)
	}
	if msg.From.LanguageCode != "km" || msg.Date == 0 || len(msg.Entities) != 1 ||
		msg.Entities[0].Type != models.MessageEntityTypeBotCommand || msg.Entities[0].Offset != 0 || msg.Entities[0].Length != 4 {
		t.Errorf("message update %+v entities %+v", msg, msg.Entities)
	}
	if cq.Message.Message == nil || cq.Message.Message.Date == 0 || cq.From.ID != 7 || cq.Data != "check:1" ||
		cq.Message.Message.ReplyMarkup.InlineKeyboard[0][0].CallbackData != "check:1" {
		t.Errorf("callback update %+v", cq)
	}

	// A second answer is refused like Telegram does.
	if _, err := b.AnswerCallbackQuery(context.Background(), &bot.AnswerCallbackQueryParams{CallbackQueryID: cb}); !errors.Is(err, bot.ErrorBadRequest) {
		t.Errorf("second answer: %v", err)
	}

	// Cancelling the client ends its long poll at once, and Close does not wait for it.
	cancel()
	select {
	case <-done:
	case <-time.After(wait):
		t.Fatal("Start did not return after cancel")
	}
	closed := make(chan struct{})
	go func() { s.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(wait):
		t.Fatal("Close hung")
	}
}

func TestCommandEntitiesRaw(t *testing.T) {
	s := telegramtest.New(t)
	s.SendText(-5, 9, "😀 /pay@fake_bot 5 and /help", telegramtest.WithChatType("group"))
	s.SendText(-5, 9, "សួស្តី /pay 5 http://x/y /a/b")
	_, env := call(t, s, "getUpdates", map[string]string{"offset": "0"})
	res := env["result"].([]any)
	msg := res[0].(map[string]any)["message"].(map[string]any)
	ents, _ := json.Marshal(msg["entities"])
	want := `[{"length":13,"offset":3,"type":"bot_command"},{"length":5,"offset":23,"type":"bot_command"}]`
	if string(ents) != want {
		t.Errorf("entities %s, want %s", ents, want)
	}
	if chat := msg["chat"].(map[string]any); chat["type"] != "group" || chat["title"] == "" {
		t.Errorf("chat %v", chat)
	}
	ents, _ = json.Marshal(res[1].(map[string]any)["message"].(map[string]any)["entities"])
	if want := `[{"length":4,"offset":7,"type":"bot_command"}]`; string(ents) != want {
		t.Errorf("Khmer entities %s, want %s", ents, want)
	}
}

func TestLongPollCloseWhileWaiting(t *testing.T) {
	s := telegramtest.New(t)
	done := make(chan int)
	go func() {
		code, _ := callQuiet(s, "getUpdates", map[string]string{"timeout": "50"})
		done <- code
	}()
	if !s.WaitFor(wait, func() bool { return len(s.CallsTo("getUpdates")) == 1 }) {
		t.Fatal("poll not started")
	}
	s.Close()
	select {
	case <-done:
	case <-time.After(wait):
		t.Fatal("long poll survived Close")
	}
}

func TestNewerPollEndsOlder(t *testing.T) {
	s := telegramtest.New(t)
	first := make(chan int)
	go func() {
		code, _ := callQuiet(s, "getUpdates", map[string]string{"timeout": "50"})
		first <- code
	}()
	if !s.WaitFor(wait, func() bool { return len(s.CallsTo("getUpdates")) == 1 }) {
		t.Fatal("poll not started")
	}
	if code, _ := call(t, s, "getUpdates", map[string]string{"timeout": "0"}); code != 200 {
		t.Errorf("second poll %d", code)
	}
	if code := <-first; code != http.StatusConflict {
		t.Errorf("first poll %d, want 409", code)
	}
}

func callQuiet(s *telegramtest.Server, method string, fields map[string]string) (int, error) {
	form := url.Values{}
	for k, v := range fields {
		form.Set(k, v)
	}
	resp, err := http.PostForm(s.URL()+"/bot"+s.Token()+"/"+method, form)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}

func TestJSONBody(t *testing.T) {
	s := telegramtest.New(t)
	body := `{"chat_id":42,"text":"json","reply_markup":{"inline_keyboard":[[{"text":"a","callback_data":"x"}]]}}`
	resp, err := http.Post(s.URL()+"/bot"+s.Token()+"/sendMessage", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	m, ok := s.LastBotMessage(42)
	if resp.StatusCode != 200 || !ok || m.Text != "json" || m.Keyboard[0][0].CallbackData != "x" {
		t.Errorf("%d %+v", resp.StatusCode, m)
	}
}

func TestWebhook(t *testing.T) {
	s := telegramtest.New(t)
	type delivery struct {
		secret string
		body   []byte
	}
	got := make(chan delivery, 4)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- delivery{r.Header.Get("X-Telegram-Bot-Api-Secret-Token"), b}
	}))
	defer hook.Close()
	b := newBot(t, s, bot.WithSkipGetMe())
	ctx := context.Background()

	if _, err := b.SetWebhook(ctx, &bot.SetWebhookParams{URL: "http://example.com/hook"}); !errors.Is(err, bot.ErrorBadRequest) {
		t.Errorf("plain-http public webhook accepted: %v", err)
	}
	if _, err := b.SetWebhook(ctx, &bot.SetWebhookParams{URL: hook.URL + "/hook", SecretToken: "s3cr-et_"}); err != nil {
		t.Fatal(err)
	}
	s.SendText(42, 7, "/start")
	select {
	case d := <-got:
		if d.secret != "s3cr-et_" || !strings.Contains(string(d.body), `"text":"/start"`) {
			t.Errorf("delivery %q %s", d.secret, d.body)
		}
	case <-time.After(wait):
		t.Fatal("update not delivered to the webhook")
	}
	if !s.WaitFor(wait, func() bool { return s.Pending() == 0 }) {
		t.Error("delivered update still pending")
	}
	if code, env := call(t, s, "getUpdates", nil); code != http.StatusConflict || !strings.Contains(env["description"].(string), "webhook is active") {
		t.Errorf("getUpdates during webhook: %d %v", code, env)
	}
	info, err := b.GetWebhookInfo(ctx)
	if err != nil || info.URL != hook.URL+"/hook" {
		t.Errorf("webhook info %+v %v", info, err)
	}

	status, err := telegramtest.PostUpdate(hook.URL, "wrong", map[string]any{"update_id": 1})
	if err != nil || status != 200 {
		t.Errorf("PostUpdate: %d %v", status, err)
	}
	if d := <-got; d.secret != "wrong" || string(d.body) != `{"update_id":1}` {
		t.Errorf("posted %q %s", d.secret, d.body)
	}

	if _, err := b.DeleteWebhook(ctx, &bot.DeleteWebhookParams{}); err != nil {
		t.Fatal(err)
	}
	if code, _ := call(t, s, "getUpdates", nil); code != 200 {
		t.Errorf("getUpdates after deleteWebhook: %d", code)
	}
}

func TestEditTextAndMarkup(t *testing.T) {
	s := telegramtest.New(t)
	b := newBot(t, s, bot.WithSkipGetMe())
	ctx := context.Background()
	kb := &models.InlineKeyboardMarkup{InlineKeyboard: [][]models.InlineKeyboardButton{{{Text: "Cancel", CallbackData: "cancel:1"}}}}
	sent, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: 3, Text: "pending", ReplyMarkup: kb})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.EditMessageText(ctx, &bot.EditMessageTextParams{ChatID: 3, MessageID: sent.ID, Text: "pending", ReplyMarkup: kb}); err == nil {
		t.Error("identical text edit accepted")
	}
	if _, err := b.EditMessageText(ctx, &bot.EditMessageTextParams{ChatID: 3, MessageID: sent.ID, Text: "paid", ReplyMarkup: kb}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.EditMessageReplyMarkup(ctx, &bot.EditMessageReplyMarkupParams{ChatID: 3, MessageID: sent.ID,
		ReplyMarkup: &models.InlineKeyboardMarkup{InlineKeyboard: [][]models.InlineKeyboardButton{}}}); err != nil {
		t.Fatal(err)
	}
	m, _ := s.Message(3, sent.ID)
	if m.Text != "paid" || m.Keyboard != nil || m.Edits != 2 {
		t.Errorf("after edits %+v", m)
	}
	if _, err := b.EditMessageCaption(ctx, &bot.EditMessageCaptionParams{ChatID: 3, MessageID: sent.ID, Caption: "x"}); err == nil {
		t.Error("caption edit of a text message accepted")
	}
	user := s.SendText(3, 9, "hello")
	if _, err := b.EditMessageText(ctx, &bot.EditMessageTextParams{ChatID: 3, MessageID: user, Text: "hijacked"}); err == nil ||
		!strings.Contains(err.Error(), "message can't be edited") {
		t.Errorf("edit of a user's message: %v", err)
	}
	if ok, err := b.SendChatAction(ctx, &bot.SendChatActionParams{ChatID: 3, Action: models.ChatActionUploadPhoto}); !ok || err != nil {
		t.Errorf("sendChatAction: %v %v", ok, err)
	}
}

func TestWebhookRetriesFailedDelivery(t *testing.T) {
	s := telegramtest.New(t)
	var mu sync.Mutex
	attempts := 0
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		attempts++
		if attempts == 1 {
			w.WriteHeader(http.StatusInternalServerError)
		}
	}))
	defer hook.Close()
	if code, _ := call(t, s, "setWebhook", map[string]string{"url": hook.URL}); code != 200 {
		t.Fatalf("setWebhook %d", code)
	}
	s.SendText(1, 1, "/start")
	if !s.WaitFor(wait, func() bool { return s.Pending() == 0 }) {
		t.Fatal("not delivered after a failure")
	}
	_, env := call(t, s, "getWebhookInfo", nil)
	info := env["result"].(map[string]any)
	if info["last_error_message"] != "Wrong response from the webhook: 500 Internal Server Error" || info["pending_update_count"].(float64) != 0 {
		t.Errorf("webhook info %v", info)
	}
	mu.Lock()
	defer mu.Unlock()
	if attempts != 2 {
		t.Errorf("%d attempts, want 2", attempts)
	}
}

// TestGetUpdatesDuringWebhook: with a webhook set, getUpdates fails with
// Telegram's 409 and confirms nothing.
func TestGetUpdatesDuringWebhook(t *testing.T) {
	s := telegramtest.New(t)
	if code, _ := call(t, s, "setWebhook", map[string]string{"url": "https://example.com/hook"}); code != 200 {
		t.Fatalf("setWebhook %d", code)
	}
	s.SendText(1, 1, "/start") // not delivered: the fake posts to loopback URLs only
	code, env := call(t, s, "getUpdates", map[string]string{"offset": "999999"})
	const want = "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"
	if code != http.StatusConflict || env["description"] != want {
		t.Errorf("getUpdates: %d %v, want 409 %q", code, env, want)
	}
	if n := s.Pending(); n != 1 {
		t.Errorf("%d updates pending, want the 1 a refused poll must not confirm", n)
	}
}

// TestMultipartBodies: an empty multipart body is a call without
// parameters, as go-telegram makes them; a body cut short is refused.
func TestMultipartBodies(t *testing.T) {
	s := telegramtest.New(t)
	const full = "--XYZ\r\nContent-Disposition: form-data; name=\"chat_id\"\r\n\r\n42\r\n" +
		"--XYZ\r\nContent-Disposition: form-data; name=\"text\"\r\n\r\nhello\r\n--XYZ--\r\n"
	for _, tc := range []struct {
		name, path, body string
		code             int
	}{
		{"empty", "getMe", "", 200},
		{"empty with a query", "getUpdates?timeout=0", "", 200},
		{"complete", "sendMessage", full, 200},
		{"cut inside a part", "sendMessage", full[:len(full)-12], 400},
		{"cut after a part", "sendMessage", full[:strings.Index(full, "42")+4], 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := http.Post(s.URL()+"/bot"+s.Token()+"/"+tc.path, "multipart/form-data; boundary=XYZ", strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.code {
				t.Errorf("%d, want %d", resp.StatusCode, tc.code)
			}
		})
	}
	if m, ok := s.LastBotMessage(42); !ok || m.Text != "hello" || len(s.Messages(42)) != 1 {
		t.Errorf("messages %+v, want only the complete one", s.Messages(42))
	}
}

// TestClientURL: processes sharing the fake, each with its own base URL,
// are told apart in the calls; the plain URL records no client.
func TestClientURL(t *testing.T) {
	s := telegramtest.New(t)
	ctx := context.Background()
	for _, u := range []string{s.ClientURL("r0"), s.ClientURL("r1"), s.URL()} {
		if _, err := newBot(t, s, bot.WithServerURL(u)).SendMessage(ctx, &bot.SendMessageParams{ChatID: 42, Text: "hi"}); err != nil {
			t.Fatalf("sendMessage through %s: %v", u, err)
		}
	}
	var got []string
	for _, c := range s.CallsTo("sendMessage") {
		got = append(got, c.Client)
	}
	if strings.Join(got, ",") != "r0,r1," {
		t.Errorf("clients of the calls: %q, want r0, r1 and none", got)
	}
	if n := len(s.Messages(42)); n != 3 {
		t.Errorf("%d messages in the chat, want 3", n)
	}
}
