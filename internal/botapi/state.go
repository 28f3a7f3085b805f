package botapi

import (
	"encoding/json"
	"net/url"
	"strings"
	"time"
)

// Message is a snapshot of one message in a chat, as Telegram would show it.
type Message struct {
	ID        int // message ids are int in go-telegram/bot and payments.Message
	ChatID    int64
	FromID    int64 // the bot's id for its own messages
	FromBot   bool
	Date      time.Time
	EditDate  time.Time // zero until edited
	Edits     int       // how many successful edits
	Text      string    // for text messages: what the user sees (HTML markup removed)
	Caption   string    // for photos and documents: what the user sees
	Source    string    // Text or Caption exactly as the bot sent it
	ParseMode string

	Photo          []byte // the uploaded bytes of the photo shown, nil for a URL photo
	PhotoName      string // its upload filename
	PhotoFileID    string // file_id of its largest size
	Document       []byte
	DocumentName   string
	DocumentFileID string

	Keyboard [][]Button // the inline keyboard, nil when none
}

// Button is one inline keyboard button.
type Button struct {
	Text         string
	URL          string
	CallbackData string
	CopyText     string
}

// Buttons returns the keyboard's buttons row by row.
func (m Message) Buttons() []Button {
	var out []Button
	for _, row := range m.Keyboard {
		out = append(out, row...)
	}
	return out
}

// HasMedia reports whether the message is a photo or a document.
func (m Message) HasMedia() bool { return m.PhotoFileID != "" || m.DocumentFileID != "" }

type chat struct {
	id    int64
	typ   string
	title string
	// firstName is the private chat's user, as Telegram names the chat.
	firstName string
	seq       int
	msgs      []*Message // ascending ID; deleted messages are removed
}

func (c *chat) find(id int) *Message {
	for _, m := range c.msgs {
		if m.ID == id {
			return m
		}
	}
	return nil
}

// chatLocked returns the chat with id, creating it: private for a positive
// id, a group otherwise.
func (s *Server) chatLocked(id int64) *chat {
	c, ok := s.chats[id]
	if !ok {
		c = &chat{id: id, typ: "private"}
		if id < 0 {
			c.typ, c.title = "group", "Test group"
		}
		s.chats[id] = c
	}
	return c
}

// Messages returns the chat's messages (the bot's and the users'), oldest first.
func (s *Server) Messages(chatID int64) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.chats[chatID]
	if !ok {
		return nil
	}
	out := make([]Message, 0, len(c.msgs))
	for _, m := range c.msgs {
		out = append(out, m.clone())
	}
	return out
}

// Message returns message id of the chat, and whether it exists.
func (s *Server) Message(chatID int64, id int) (Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.chats[chatID]; ok {
		if m := c.find(id); m != nil {
			return m.clone(), true
		}
	}
	return Message{}, false
}

// LastBotMessage returns the newest message the bot sent to the chat.
func (s *Server) LastBotMessage(chatID int64) (Message, bool) {
	msgs := s.Messages(chatID)
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].FromBot {
			return msgs[i], true
		}
	}
	return Message{}, false
}

func (m *Message) clone() Message {
	c := *m
	if m.Keyboard != nil {
		c.Keyboard = make([][]Button, len(m.Keyboard))
		for i, row := range m.Keyboard {
			c.Keyboard[i] = append([]Button(nil), row...)
		}
	}
	return c
}

// Wire shapes of the Bot API.
type (
	wUser struct {
		ID           int64  `json:"id"`
		IsBot        bool   `json:"is_bot"`
		FirstName    string `json:"first_name"`
		Username     string `json:"username,omitempty"`
		LanguageCode string `json:"language_code,omitempty"`
	}
	wChat struct {
		ID        int64  `json:"id"`
		Type      string `json:"type"`
		Title     string `json:"title,omitempty"`
		FirstName string `json:"first_name,omitempty"`
	}
	wEntity struct {
		Type   string `json:"type"`
		Offset int    `json:"offset"`
		Length int    `json:"length"`
	}
	wPhotoSize struct {
		FileID       string `json:"file_id"`
		FileUniqueID string `json:"file_unique_id"`
		Width        int    `json:"width"`
		Height       int    `json:"height"`
		FileSize     int    `json:"file_size,omitempty"`
	}
	wDocument struct {
		FileID       string `json:"file_id"`
		FileUniqueID string `json:"file_unique_id"`
		FileName     string `json:"file_name,omitempty"`
		FileSize     int    `json:"file_size,omitempty"`
	}
	wButton struct {
		Text         string     `json:"text"`
		URL          string     `json:"url,omitempty"`
		CallbackData string     `json:"callback_data,omitempty"`
		CopyText     *wCopyText `json:"copy_text,omitempty"`
	}
	wCopyText struct {
		Text string `json:"text"`
	}
	wMarkup struct {
		InlineKeyboard [][]wButton `json:"inline_keyboard"`
	}
	wMessage struct {
		MessageID   int          `json:"message_id"`
		Date        int64        `json:"date"`
		EditDate    int64        `json:"edit_date,omitempty"`
		Chat        wChat        `json:"chat"`
		From        *wUser       `json:"from,omitempty"`
		SenderChat  *wChat       `json:"sender_chat,omitempty"`
		Text        string       `json:"text,omitempty"`
		Entities    []wEntity    `json:"entities,omitempty"`
		Caption     string       `json:"caption,omitempty"`
		Photo       []wPhotoSize `json:"photo,omitempty"`
		Document    *wDocument   `json:"document,omitempty"`
		ReplyMarkup *wMarkup     `json:"reply_markup,omitempty"`
	}
)

func (s *Server) botUser() *wUser {
	return &wUser{ID: s.bot.ID, IsBot: true, FirstName: s.bot.FirstName, Username: s.bot.Username}
}

// wireLocked renders m as the Bot API's Message object.
func (s *Server) wireLocked(m *Message, from *wUser) wMessage {
	c := s.chatLocked(m.ChatID)
	w := wMessage{
		MessageID: m.ID,
		Date:      m.Date.Unix(),
		Chat:      wChat{ID: c.id, Type: c.typ, Title: c.title},
		From:      from,
		Text:      m.Text,
		Caption:   m.Caption,
	}
	if c.typ == "private" {
		w.Chat.FirstName = c.firstName
		if w.Chat.FirstName == "" {
			w.Chat.FirstName = "User"
		}
	}
	if !m.EditDate.IsZero() {
		w.EditDate = m.EditDate.Unix()
	}
	if w.From == nil && m.FromBot {
		w.From = s.botUser()
	}
	if m.Text != "" {
		w.Entities = commandEntities(m.Text)
	}
	if m.PhotoFileID != "" {
		w.Photo = s.photoSizesLocked(m.PhotoFileID)
	}
	if m.DocumentFileID != "" {
		w.Document = &wDocument{FileID: m.DocumentFileID, FileUniqueID: "u-" + m.DocumentFileID,
			FileName: m.DocumentName, FileSize: len(m.Document)}
	}
	if m.Keyboard != nil {
		w.ReplyMarkup = wireKeyboard(m.Keyboard)
	}
	return w
}

func wireKeyboard(kb [][]Button) *wMarkup {
	mk := &wMarkup{InlineKeyboard: make([][]wButton, len(kb))}
	for i, row := range kb {
		for _, b := range row {
			wb := wButton{Text: b.Text, URL: b.URL, CallbackData: b.CallbackData}
			if b.CopyText != "" {
				wb.CopyText = &wCopyText{Text: b.CopyText}
			}
			mk.InlineKeyboard[i] = append(mk.InlineKeyboard[i], wb)
		}
	}
	return mk
}

func (s *Server) photoSizesLocked(fileID string) []wPhotoSize {
	f := s.files[fileID]
	if f == nil {
		return []wPhotoSize{{FileID: fileID, FileUniqueID: "u-" + fileID, Width: 320, Height: 320}}
	}
	sw, sh := f.width, f.height
	for sw > 90 || sh > 90 {
		sw, sh = (sw+1)/2, (sh+1)/2
	}
	return []wPhotoSize{
		{FileID: fileID + "-s", FileUniqueID: "u-" + fileID + "-s", Width: sw, Height: sh, FileSize: len(f.data) / 4},
		{FileID: fileID, FileUniqueID: "u-" + fileID, Width: f.width, Height: f.height, FileSize: len(f.data)},
	}
}

// parseKeyboard reads a reply_markup field. Only inline keyboards are kept;
// reply keyboards and their removal are accepted and ignored.
func parseKeyboard(raw string) ([][]Button, *Error) {
	raw = strings.TrimSpace(raw)
	if raw == "" || raw == "null" {
		return nil, nil
	}
	var mk struct {
		InlineKeyboard *[][]struct {
			Text         string          `json:"text"`
			URL          string          `json:"url"`
			CallbackData *string         `json:"callback_data"`
			CopyText     *wCopyText      `json:"copy_text"`
			Other        json.RawMessage `json:"web_app"`
			LoginURL     json.RawMessage `json:"login_url"`
			Pay          bool            `json:"pay"`
		} `json:"inline_keyboard"`
	}
	if err := json.Unmarshal([]byte(raw), &mk); err != nil {
		return nil, badRequest("can't parse reply keyboard markup JSON object")
	}
	if mk.InlineKeyboard == nil {
		return nil, nil
	}
	kb := make([][]Button, 0, len(*mk.InlineKeyboard))
	for _, row := range *mk.InlineKeyboard {
		var r []Button
		for _, b := range row {
			if b.Text == "" {
				return nil, badRequest("BUTTON_TEXT_INVALID")
			}
			nb := Button{Text: b.Text, URL: b.URL}
			if b.CopyText != nil {
				nb.CopyText = b.CopyText.Text
			}
			actions := 0
			if b.URL != "" {
				if !validButtonURL(b.URL) {
					return nil, badRequest("BUTTON_URL_INVALID")
				}
				actions++
			}
			if b.CallbackData != nil {
				if n := len(*b.CallbackData); n < 1 || n > 64 {
					return nil, badRequest("BUTTON_DATA_INVALID")
				}
				nb.CallbackData = *b.CallbackData
				actions++
			}
			if nb.CopyText != "" || len(b.Other) > 0 || len(b.LoginURL) > 0 || b.Pay {
				actions++
			}
			if actions == 0 {
				return nil, badRequest("text buttons are unallowed in the inline keyboard")
			}
			r = append(r, nb)
		}
		if len(r) > 0 {
			kb = append(kb, r)
		}
	}
	if len(kb) == 0 {
		return nil, nil // an empty inline keyboard removes the keyboard
	}
	return kb, nil
}

// validButtonURL mirrors Telegram: http(s) with a dotted host, or tg://.
func validButtonURL(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	switch strings.ToLower(u.Scheme) {
	case "tg":
		return true
	case "http", "https":
		return strings.Contains(u.Hostname(), ".")
	}
	return false
}

func sameKeyboard(a, b [][]Button) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}
