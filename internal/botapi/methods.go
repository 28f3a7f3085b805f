package botapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	_ "image/gif" // photos may be any format Telegram accepts
	_ "image/jpeg"
	_ "image/png"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Telegram's exact error texts that tests match on.
const (
	errNotModified  = "message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message"
	errEditNotFound = "message to edit not found"
	errOldQuery     = "query is too old and response timeout expired or query ID is invalid"
	errWrongFile    = "wrong file identifier/HTTP URL specified"
)

// Text limits, in UTF-16 code units after entity parsing.
const (
	maxText    = 4096
	maxCaption = 1024
)

var (
	secretRe  = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)
	commandRe = regexp.MustCompile(`^[a-z0-9_]{1,32}$`)
	langRe    = regexp.MustCompile(`^[a-z]{2}$`)
)

func (s *Server) getMe(params) (any, *Error) {
	return map[string]any{
		"id": s.bot.ID, "is_bot": true, "first_name": s.bot.FirstName, "username": s.bot.Username,
		"can_join_groups": true, "can_read_all_group_messages": false, "supports_inline_queries": false,
	}, nil
}

func chatIDParam(p params) (int64, *Error) {
	v, ok := p.fields["chat_id"]
	if !ok || v == "" {
		return 0, badRequest("chat_id is empty")
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id == 0 {
		return 0, badRequest("chat not found")
	}
	return id, nil
}

func (s *Server) newMessageLocked(chatID int64) *Message {
	c := s.chatLocked(chatID)
	c.seq++
	m := &Message{ID: c.seq, ChatID: chatID, FromID: s.bot.ID, FromBot: true, Date: time.Now()}
	c.msgs = append(c.msgs, m)
	return m
}

// body is what a message shows besides its media: its text or caption as
// the user sees it and as the bot sent it, and its inline keyboard.
type body struct {
	text, source, parseMode string
	keyboard                [][]Button
}

// parseBody renders src in parseMode and reads markup, with Telegram's
// checks: a text must not be empty and fits 4096 units, a caption 1024.
func parseBody(src, parseMode, markup string, caption bool) (body, *Error) {
	plain, err := render(src, parseMode)
	if err != nil {
		return body{}, err
	}
	switch {
	case !caption && strings.TrimSpace(plain) == "":
		return body{}, badRequest("message text is empty")
	case !caption && utf16Len(plain) > maxText:
		return body{}, badRequest("message is too long")
	case caption && utf16Len(plain) > maxCaption:
		return body{}, badRequest("message caption is too long")
	}
	kb, err := parseKeyboard(markup)
	if err != nil {
		return body{}, err
	}
	return body{text: plain, source: src, parseMode: parseMode, keyboard: kb}, nil
}

// bodyParam is parseBody of the request's field ("text" or "caption"),
// parse_mode and reply_markup.
func bodyParam(p params, field string) (body, *Error) {
	return parseBody(p.fields[field], p.fields["parse_mode"], p.fields["reply_markup"], field == "caption")
}

// sendParams reads a send's chat_id and its body (see bodyParam).
func sendParams(p params, field string) (int64, body, *Error) {
	id, err := chatIDParam(p)
	if err != nil {
		return 0, body{}, err
	}
	b, err := bodyParam(p, field)
	return id, b, err
}

// shownText is m's Text, or its Caption when caption is set.
func (m *Message) shownText(caption bool) *string {
	if caption {
		return &m.Caption
	}
	return &m.Text
}

// shows reports whether m already shows b, so that an edit to b would
// change nothing.
func (m *Message) shows(b body, caption bool) bool {
	return *m.shownText(caption) == b.text && m.Source == b.source && m.ParseMode == b.parseMode &&
		sameKeyboard(m.Keyboard, b.keyboard)
}

// show makes m show b.
func (m *Message) show(b body, caption bool) {
	*m.shownText(caption) = b.text
	m.Source, m.ParseMode, m.Keyboard = b.source, b.parseMode, b.keyboard
}

func (s *Server) sendMessage(p params) (any, *Error) {
	id, b, err := sendParams(p, "text")
	if err != nil {
		return nil, err
	}
	m := s.newMessageLocked(id)
	m.show(b, false)
	return s.wireLocked(m, nil), nil
}

func (s *Server) sendPhoto(p params) (any, *Error) { return s.sendMedia(p, "photo") }

func (s *Server) sendDocument(p params) (any, *Error) { return s.sendMedia(p, "document") }

func (s *Server) sendMedia(p params, kind string) (any, *Error) {
	id, b, err := sendParams(p, "caption")
	if err != nil {
		return nil, err
	}
	fid, f, err := s.inputFileLocked(p.files, kind, p.fields[kind])
	if err != nil {
		return nil, err
	}
	m := s.newMessageLocked(id)
	m.show(b, true)
	m.setMedia(kind, fid, f)
	return s.wireLocked(m, nil), nil
}

func (m *Message) setMedia(kind, fid string, f *file) {
	m.Photo, m.PhotoName, m.PhotoFileID = nil, "", ""
	m.Document, m.DocumentName, m.DocumentFileID = nil, "", ""
	if kind == "photo" {
		m.Photo, m.PhotoName, m.PhotoFileID = f.data, f.name, fid
		return
	}
	m.Document, m.DocumentName, m.DocumentFileID = f.data, f.name, fid
}

// inputFileLocked resolves an InputFile: with an empty ref, the part named
// kind; otherwise ref, which is "attach://<part>", a file_id the fake issued, or an http(s) URL.
func (s *Server) inputFileLocked(files map[string]File, kind, ref string) (string, *file, *Error) {
	var up File
	uploaded := false
	if ref == "" {
		up, uploaded = files[kind]
	} else if name, ok := strings.CutPrefix(ref, "attach://"); ok {
		up, uploaded = files[name]
		if !uploaded {
			return "", nil, badRequest(errWrongFile)
		}
	}
	if uploaded {
		f := &file{data: up.Data, name: up.Name}
		if kind == "photo" {
			if len(up.Data) > maxPhotoBytes {
				return "", nil, badRequest("file is too big")
			}
			cfg, _, err := image.DecodeConfig(bytes.NewReader(up.Data))
			if err != nil {
				return "", nil, badRequest("IMAGE_PROCESS_FAILED")
			}
			if cfg.Width+cfg.Height > 10000 {
				return "", nil, badRequest("PHOTO_INVALID_DIMENSIONS")
			}
			f.width, f.height = cfg.Width, cfg.Height
		}
		return s.addFileLocked(f), f, nil
	}
	if ref == "" {
		return "", nil, badRequest("there is no " + kind + " in the request")
	}
	if f, ok := s.files[strings.TrimSuffix(ref, "-s")]; ok {
		return strings.TrimSuffix(ref, "-s"), f, nil
	}
	if u, err := url.Parse(ref); err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" {
		f := &file{name: u.Path, width: 320, height: 320}
		return s.addFileLocked(f), f, nil
	}
	return "", nil, badRequest(errWrongFile)
}

func (s *Server) addFileLocked(f *file) string {
	s.fileSeq++
	id := fmt.Sprintf("file-%d", s.fileSeq)
	s.files[id] = f
	return id
}

// messageParams reads the chat_id and message_id naming a message.
func messageParams(p params) (int64, int, *Error) {
	id, err := chatIDParam(p)
	if err != nil {
		return 0, 0, err
	}
	mid, perr := strconv.Atoi(p.fields["message_id"])
	if perr != nil {
		return 0, 0, badRequest("message identifier is not specified")
	}
	return id, mid, nil
}

// editableLocked finds the bot's message named by chat_id and message_id.
func (s *Server) editableLocked(p params) (*Message, *Error) {
	if p.has("inline_message_id") {
		return nil, badRequest("inline messages are not supported by this server")
	}
	id, mid, err := messageParams(p)
	if err != nil {
		return nil, err
	}
	c, ok := s.chats[id]
	if !ok {
		return nil, badRequest(errEditNotFound)
	}
	m := c.find(mid)
	if m == nil {
		return nil, badRequest(errEditNotFound)
	}
	if !m.FromBot {
		return nil, badRequest("message can't be edited")
	}
	return m, nil
}

// editLocked applies change to m and returns m as the Bot API does, unless
// same says the edit would change nothing, which Telegram refuses.
func (s *Server) editLocked(m *Message, same bool, change func()) (any, *Error) {
	if same {
		return nil, badRequest(errNotModified)
	}
	change()
	m.Edits++
	m.EditDate = time.Now()
	return s.wireLocked(m, nil), nil
}

func (s *Server) editMessageText(p params) (any, *Error) { return s.editBody(p, "text") }

func (s *Server) editMessageCaption(p params) (any, *Error) { return s.editBody(p, "caption") }

// editBody serves editMessageText and editMessageCaption: field is "text" or
// "caption", which only a text message or a media message has.
func (s *Server) editBody(p params, field string) (any, *Error) {
	m, err := s.editableLocked(p)
	if err != nil {
		return nil, err
	}
	caption := field == "caption"
	if m.HasMedia() != caption {
		return nil, badRequest("there is no " + field + " in the message to edit")
	}
	b, err := bodyParam(p, field)
	if err != nil {
		return nil, err
	}
	return s.editLocked(m, m.shows(b, caption), func() { m.show(b, caption) })
}

func (s *Server) editMessageMedia(p params) (any, *Error) {
	m, err := s.editableLocked(p)
	if err != nil {
		return nil, err
	}
	var media struct {
		Type      string `json:"type"`
		Media     string `json:"media"`
		Caption   string `json:"caption"`
		ParseMode string `json:"parse_mode"`
	}
	if json.Unmarshal([]byte(p.fields["media"]), &media) != nil {
		return nil, badRequest("can't parse InputMedia JSON object")
	}
	if media.Type != "photo" && media.Type != "document" {
		return nil, badRequest("unsupported media type " + strconv.Quote(media.Type))
	}
	if !m.HasMedia() {
		return nil, badRequest("there is no media in the message to edit")
	}
	b, err := parseBody(media.Caption, media.ParseMode, p.fields["reply_markup"], true)
	if err != nil {
		return nil, err
	}
	if media.Media == "" {
		return nil, badRequest(errWrongFile)
	}
	old := m.PhotoFileID + m.DocumentFileID
	fid, f, err := s.inputFileLocked(p.files, media.Type, media.Media)
	if err != nil {
		return nil, err
	}
	return s.editLocked(m, fid == old && m.shows(b, true), func() {
		m.setMedia(media.Type, fid, f)
		m.show(b, true)
	})
}

func (s *Server) editMessageReplyMarkup(p params) (any, *Error) {
	m, err := s.editableLocked(p)
	if err != nil {
		return nil, err
	}
	kb, err := parseKeyboard(p.fields["reply_markup"])
	if err != nil {
		return nil, err
	}
	return s.editLocked(m, sameKeyboard(m.Keyboard, kb), func() { m.Keyboard = kb })
}

func (s *Server) deleteMessage(p params) (any, *Error) {
	id, mid, err := messageParams(p)
	if err != nil {
		return nil, err
	}
	if c, ok := s.chats[id]; ok {
		for i, m := range c.msgs {
			if m.ID == mid {
				c.msgs = append(c.msgs[:i], c.msgs[i+1:]...)
				return true, nil
			}
		}
	}
	return nil, badRequest("message to delete not found")
}

func (s *Server) answerCallbackQuery(p params) (any, *Error) {
	cb, ok := s.callbacks[p.fields["callback_query_id"]]
	if !ok || cb.answered {
		return nil, badRequest(errOldQuery)
	}
	a := Answer{Text: p.fields["text"], URL: p.fields["url"], ShowAlert: p.fields["show_alert"] == "true"}
	if utf16Len(a.Text) > 200 {
		return nil, badRequest("MESSAGE_TOO_LONG")
	}
	a.CacheTime, _ = strconv.Atoi(p.fields["cache_time"])
	cb.answered, cb.answer = true, a
	return true, nil
}

func (s *Server) sendChatAction(p params) (any, *Error) {
	if _, err := chatIDParam(p); err != nil {
		return nil, err
	}
	switch p.fields["action"] {
	case "typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
		"upload_document", "choose_sticker", "find_location", "record_video_note", "upload_video_note":
		return true, nil
	}
	return nil, badRequest("wrong parameter action in request")
}

// Command is one entry of a bot's command menu.
type Command struct {
	Command     string `json:"command"`
	Description string `json:"description"`
}

// commandScope is where a command list applies: a BotCommandScope's type
// and chat, and a language code ("" for every language).
type commandScope struct {
	typ    string
	chatID int64
	lang   string
}

// scopeParam reads the scope and language_code fields of set/deleteMyCommands.
func scopeParam(p params) (commandScope, *Error) {
	sc := commandScope{typ: "default", lang: p.fields["language_code"]}
	if raw := p.fields["scope"]; raw != "" {
		var w struct {
			Type   string          `json:"type"`
			ChatID json.RawMessage `json:"chat_id"`
		}
		if json.Unmarshal([]byte(raw), &w) != nil {
			return sc, badRequest("can't parse BotCommandScope JSON object")
		}
		switch w.Type {
		case "default", "all_private_chats", "all_group_chats", "all_chat_administrators":
		case "chat", "chat_administrators", "chat_member":
			id, err := strconv.ParseInt(strings.Trim(string(w.ChatID), `"`), 10, 64)
			if err != nil || id == 0 {
				return sc, badRequest("chat not found")
			}
			sc.chatID = id
		default:
			return sc, badRequest("wrong parameter scope")
		}
		sc.typ = w.Type
	}
	if sc.lang != "" && !langRe.MatchString(sc.lang) {
		return sc, badRequest("invalid language code specified")
	}
	return sc, nil
}

func (s *Server) setMyCommands(p params) (any, *Error) {
	var cmds []Command
	if json.Unmarshal([]byte(p.fields["commands"]), &cmds) != nil {
		return nil, badRequest("can't parse commands JSON object")
	}
	if len(cmds) > 100 {
		return nil, badRequest("too many commands specified")
	}
	for _, c := range cmds {
		if !commandRe.MatchString(c.Command) {
			return nil, badRequest("BOT_COMMAND_INVALID")
		}
		if n := utf16Len(c.Description); n < 1 || n > 256 {
			return nil, badRequest("BOT_COMMAND_DESCRIPTION_INVALID")
		}
	}
	sc, err := scopeParam(p)
	if err != nil {
		return nil, err
	}
	if len(cmds) == 0 {
		delete(s.commands, sc)
	} else {
		s.commands[sc] = cmds
	}
	return true, nil
}

func (s *Server) deleteMyCommands(p params) (any, *Error) {
	sc, err := scopeParam(p)
	if err != nil {
		return nil, err
	}
	delete(s.commands, sc)
	return true, nil
}

// Commands returns the command menu a user with language code lang sees in
// the private chat chatID, found as Telegram finds it: the chat's scope,
// then all private chats, then the default, each first in lang and then for
// every language.
func (s *Server) Commands(chatID int64, lang string) []Command {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sc := range []commandScope{{typ: "chat", chatID: chatID}, {typ: "all_private_chats"}, {typ: "default"}} {
		for _, l := range []string{lang, ""} {
			sc.lang = l
			if cmds, ok := s.commands[sc]; ok {
				return append([]Command(nil), cmds...)
			}
		}
	}
	return nil
}

func (s *Server) setWebhook(p params) (any, *Error) {
	raw := p.fields["url"]
	if raw == "" {
		return s.deleteWebhook(p)
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return nil, badRequest("bad webhook: invalid webhook URL specified")
	}
	if u.Scheme != "https" && !(u.Scheme == "http" && isLoopback(u.Hostname())) {
		return nil, badRequest("bad webhook: An HTTPS URL must be provided for webhook")
	}
	secret, hasSecret := p.fields["secret_token"]
	if hasSecret && !secretRe.MatchString(secret) {
		return nil, badRequest("bad webhook: secret token contains unallowed characters")
	}
	wh := webhook{url: raw, secret: secret, maxConns: 40}
	if v, err := strconv.Atoi(p.fields["max_connections"]); err == nil {
		wh.maxConns = v
	}
	if v := p.fields["allowed_updates"]; v != "" {
		if json.Unmarshal([]byte(v), &wh.allowed) != nil {
			return nil, badRequest("can't parse allowed_updates JSON array")
		}
	}
	s.webhook = wh
	if p.fields["drop_pending_updates"] == "true" {
		s.updates = nil
	}
	return true, nil
}

func (s *Server) deleteWebhook(p params) (any, *Error) {
	s.webhook = webhook{}
	if p.fields["drop_pending_updates"] == "true" {
		s.updates = nil
	}
	return true, nil
}

func (s *Server) getWebhookInfo(params) (any, *Error) {
	info := map[string]any{
		"url":                    s.webhook.url,
		"has_custom_certificate": false,
		"pending_update_count":   len(s.updates),
	}
	if s.webhook.url != "" {
		info["max_connections"] = s.webhook.maxConns
		if s.webhook.allowed != nil {
			info["allowed_updates"] = s.webhook.allowed
		}
	}
	if s.webhook.lastError != "" {
		info["last_error_date"] = s.webhook.lastErrorDate
		info["last_error_message"] = s.webhook.lastError
	}
	return info, nil
}
