package botapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"
	"unicode"
)

// Option describes who sends an update and from which chat.
type Option func(*sender)

type sender struct {
	lang, chatType, firstName, username string
	anonymous                           bool
}

// WithLanguage sets the sender's language_code, e.g. "km".
func WithLanguage(code string) Option { return func(s *sender) { s.lang = code } }

// WithChatType sets the chat's type: "private", "group" or "supergroup".
// Without it a positive chat id is private and a negative one a group.
func WithChatType(t string) Option { return func(s *sender) { s.chatType = t } }

// WithFirstName sets the sender's first name (default "User<id>").
func WithFirstName(name string) Option { return func(s *sender) { s.firstName = name } }

// WithUsername sets the sender's username, without the @.
func WithUsername(u string) Option { return func(s *sender) { s.username = u } }

// WithAnonymousAdmin sends a message as a group's anonymous admin does: from
// GroupAnonymousBot (AnonymousAdminID) with sender_chat the group itself, so
// the user id passed along is not revealed. For SendText in groups: Telegram
// shows who pressed a button even to anonymous admins.
func WithAnonymousAdmin() Option { return func(s *sender) { s.anonymous = true } }

func (s *Server) senderLocked(chatID, userID int64, opts []Option) *wUser {
	var o sender
	for _, f := range opts {
		f(&o)
	}
	if o.firstName == "" {
		o.firstName = fmt.Sprintf("User%d", userID)
	}
	c := s.chatLocked(chatID)
	if o.chatType != "" {
		c.typ = o.chatType
		if c.typ != "private" && c.title == "" {
			c.title = "Test group"
		}
	}
	if c.typ == "private" {
		c.firstName = o.firstName
	}
	if o.anonymous {
		return &wUser{ID: AnonymousAdminID, IsBot: true, FirstName: "Group", Username: "GroupAnonymousBot", LanguageCode: o.lang}
	}
	return &wUser{ID: userID, FirstName: o.firstName, Username: o.username, LanguageCode: o.lang}
}

// SendText delivers a text message from user userID in chat chatID to the
// bot, with bot_command entities for every /command (and /command@fake_bot),
// and returns its message id.
func (s *Server) SendText(chatID, userID int64, text string, opts ...Option) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	from := s.senderLocked(chatID, userID, opts)
	c := s.chatLocked(chatID)
	c.seq++
	m := &Message{ID: c.seq, ChatID: chatID, FromID: from.ID, Date: time.Now(), Text: text, Source: text}
	c.msgs = append(c.msgs, m)
	w := s.wireLocked(m, from)
	if from.ID == AnonymousAdminID {
		w.SenderChat = &wChat{ID: c.id, Type: c.typ, Title: c.title}
	}
	s.addUpdateLocked("message", w)
	return m.ID
}

// PressButton delivers a callback query: user userID pressed a button with
// callback data `data` under message messageID of chat chatID. The query
// carries the message as it is now (an inaccessible one, with date 0, if it
// does not exist). It returns the callback query id, for AnswerOf.
func (s *Server) PressButton(chatID, userID int64, messageID int, data string, opts ...Option) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	from := s.senderLocked(chatID, userID, opts)
	s.cbSeq++
	id := fmt.Sprintf("cbq-%d", s.cbSeq)
	s.callbacks[id] = &callback{}
	c := s.chatLocked(chatID)
	var msg any = map[string]any{"message_id": messageID, "date": 0, "chat": wChat{ID: c.id, Type: c.typ, Title: c.title}}
	if m := c.find(messageID); m != nil {
		msg = s.wireLocked(m, nil)
	}
	s.addUpdateLocked("callback_query", map[string]any{
		"id": id, "from": from, "message": msg, "chat_instance": fmt.Sprintf("ci-%d", chatID), "data": data,
	})
	return id
}

func (s *Server) addUpdateLocked(kind string, v any) {
	s.updateID++
	body, _ := json.Marshal(map[string]any{"update_id": s.updateID, kind: v}) // wire types always marshal
	s.updates = append(s.updates, pendingUpdate{id: s.updateID, body: body})
	s.changedLocked()
}

// commandEntities finds /commands at the start of the text or after a space,
// with offsets and lengths in UTF-16 code units as Telegram counts them.
func commandEntities(text string) []wEntity {
	rs := []rune(text)
	var out []wEntity
	for i := 0; i < len(rs); i++ {
		if rs[i] != '/' || (i > 0 && !unicode.IsSpace(rs[i-1])) {
			continue
		}
		j := i + 1
		for j < len(rs) && isWordASCII(rs[j]) {
			j++
		}
		if n := j - i - 1; n < 1 || n > 32 {
			continue
		}
		if j < len(rs) && rs[j] == '@' {
			k := j + 1
			for k < len(rs) && isWordASCII(rs[k]) {
				k++
			}
			if k-j-1 >= 3 {
				j = k
			}
		}
		if j < len(rs) && (rs[j] == '/' || rs[j] == '@') {
			continue // a path such as /a/b is not a command
		}
		out = append(out, wEntity{Type: "bot_command", Offset: utf16Len(string(rs[:i])), Length: utf16Len(string(rs[i:j]))})
		i = j - 1
	}
	return out
}

func isWordASCII(r rune) bool {
	return r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9')
}

const (
	errWebhookActive = "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"
	errOtherPoll     = "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
)

// getUpdates serves a long poll: it confirms updates below offset, then
// answers with what is queued, or waits for an update, the timeout, the
// client going away or the server closing. A newer poll ends an older one
// with 409, as Telegram does.
func (s *Server) getUpdates(r *http.Request, p params) (any, *Error) {
	offset, _ := strconv.ParseInt(p.fields["offset"], 10, 64)
	limit, err := strconv.Atoi(p.fields["limit"])
	if err != nil || limit < 1 || limit > 100 {
		limit = 100
	}
	timeout, _ := strconv.Atoi(p.fields["timeout"])
	t := time.NewTimer(time.Duration(max(timeout, 0)) * time.Second)
	defer t.Stop()

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.webhook.url != "" {
		return nil, &Error{Code: http.StatusConflict, Description: errWebhookActive} // and confirms nothing
	}
	s.pollGen++
	gen := s.pollGen
	switch {
	case offset > 0:
		i := 0
		for i < len(s.updates) && s.updates[i].id < offset {
			i++
		}
		s.updates = s.updates[i:]
	case offset < 0 && int(-offset) < len(s.updates):
		s.updates = s.updates[len(s.updates)+int(offset):]
	}
	s.changedLocked()
	for {
		if s.webhook.url != "" {
			return nil, &Error{Code: http.StatusConflict, Description: errWebhookActive}
		}
		if gen != s.pollGen {
			return nil, &Error{Code: http.StatusConflict, Description: errOtherPoll}
		}
		if len(s.updates) > 0 || timeout <= 0 {
			batch := make([]json.RawMessage, 0, min(limit, len(s.updates)))
			for _, u := range s.updates[:min(limit, len(s.updates))] {
				batch = append(batch, u.body)
			}
			return batch, nil
		}
		ch := s.changed
		s.mu.Unlock()
		select {
		case <-ch:
		case <-t.C:
			timeout = 0
		case <-r.Context().Done():
			timeout = 0
		case <-s.ctx.Done():
			timeout = 0
		}
		s.mu.Lock()
	}
}

// deliverWebhook posts queued updates, one per request and in order, to the
// webhook URL while one is set. Only loopback URLs are served: tests never
// reach the network. A failed post is retried with backoff and shows in
// getWebhookInfo's last_error_message.
func (s *Server) deliverWebhook() {
	defer s.wg.Done()
	client := &http.Client{Timeout: 10 * time.Second}
	var backoff time.Duration
	for {
		s.mu.Lock()
		for s.webhook.url == "" || !loopbackURL(s.webhook.url) || len(s.updates) == 0 {
			ch := s.changed
			s.mu.Unlock()
			select {
			case <-ch:
			case <-s.ctx.Done():
				return
			}
			s.mu.Lock()
		}
		upd, wh := s.updates[0], s.webhook
		s.mu.Unlock()

		status, err := post(s.ctx, client, wh.url, wh.secret, upd.body)

		s.mu.Lock()
		if err == nil && status/100 == 2 {
			if len(s.updates) > 0 && s.updates[0].id == upd.id {
				s.updates = s.updates[1:]
			}
			backoff = 0
			s.changedLocked()
			s.mu.Unlock()
			continue
		}
		if s.webhook.url == wh.url {
			s.webhook.lastErrorDate = time.Now().Unix()
			if err != nil {
				s.webhook.lastError = "Connection refused"
			} else {
				s.webhook.lastError = fmt.Sprintf("Wrong response from the webhook: %d %s", status, http.StatusText(status))
			}
		}
		s.changedLocked()
		s.mu.Unlock()
		backoff = min(max(2*backoff, 50*time.Millisecond), 2*time.Second)
		t := time.NewTimer(backoff)
		select {
		case <-t.C:
		case <-s.ctx.Done():
			t.Stop()
			return
		}
	}
}

func post(ctx context.Context, c *http.Client, u, secret string, body []byte) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if secret != "" {
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// PostUpdate posts update (any JSON value; []byte and json.RawMessage are
// sent as they are) to a bot's webhook url the way Telegram does, with secret
// in X-Telegram-Bot-Api-Secret-Token when it is not empty, and returns the
// HTTP status. Use it for webhook requests the server would not make itself,
// such as one with a wrong secret.
func PostUpdate(url, secret string, update any) (int, error) {
	var body []byte
	switch v := update.(type) {
	case []byte:
		body = v
	case json.RawMessage:
		body = v
	default:
		b, err := json.Marshal(update)
		if err != nil {
			return 0, fmt.Errorf("marshal update: %w", err)
		}
		body = b
	}
	return post(context.Background(), &http.Client{Timeout: 10 * time.Second}, url, secret, body)
}

func loopbackURL(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && isLoopback(u.Hostname())
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
