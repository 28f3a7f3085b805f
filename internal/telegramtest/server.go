// Package telegramtest is a stateful fake of the Telegram Bot API for tests.
//
// It speaks the wire protocol of https://core.telegram.org/bots/api closely
// enough for github.com/go-telegram/bot: POST /bot<TOKEN>/<method> with
// multipart, urlencoded or JSON bodies, Telegram's JSON envelopes and its exact
// error texts. It keeps every chat's messages (with the uploaded photo bytes,
// so a test can decode the QR a bot sent), queues updates for getUpdates or a
// webhook, and lets a test inject errors such as 429 Too Many Requests.
//
// A test drives it with SendText and PressButton, and observes it with
// Messages, Message, Calls and AnswerOf; WaitFor blocks until a condition on
// that state holds, woken on every change rather than by polling.
package telegramtest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// The fake bot's identity, as getMe reports it.
const (
	// Token is the only bot token the fake accepts.
	Token = "123456:TEST-TOKEN"
	// BotID is the bot's user id.
	BotID int64 = 1
	// BotUsername is the bot's username, without the @.
	BotUsername = "fake_bot"
	// BotName is the bot's first name.
	BotName = "FakeBot"
	// AnonymousAdminID is Telegram's GroupAnonymousBot, the sender of
	// messages from a group's anonymous admins.
	AnonymousAdminID int64 = 1087968824
)

// Server is a running fake Bot API. All its methods are safe for concurrent use.
type Server struct {
	srv    *httptest.Server
	ctx    context.Context // cancelled by Close: ends long polls and webhook posts
	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once

	mu        sync.Mutex
	changed   chan struct{} // closed and replaced on every state change
	calls     []Call
	inject    map[string][]injected
	updates   []pendingUpdate
	updateID  int64
	chats     map[int64]*chat
	files     map[string]*file
	fileSeq   int
	callbacks map[string]*callback
	cbSeq     int
	pollGen   int64 // the newest getUpdates request; older ones get 409
	webhook   webhook
}

// Call is one request the bot made, recorded in arrival order.
type Call struct {
	Method      string            // canonical name, e.g. "sendPhoto", whatever case the bot used
	Params      map[string]string // form fields; JSON values other than strings as JSON text
	Files       map[string]File   // uploaded file parts by form name
	At          time.Time
	ErrorCode   int    // 0 when the call succeeded
	Description string // the error description, "" on success
}

// File is an uploaded file.
type File struct {
	Name string // the filename of the multipart part
	Data []byte
}

// Answer is how the bot answered a callback query.
type Answer struct {
	Text      string
	ShowAlert bool
	URL       string
	CacheTime int
}

type injected struct {
	code       int
	desc       string
	retryAfter int
}

type pendingUpdate struct {
	id   int64
	body json.RawMessage
}

type callback struct {
	answered bool
	answer   Answer
}

type file struct {
	data          []byte
	name          string
	width, height int
}

type webhook struct {
	url, secret   string
	lastErrorDate int64
	lastError     string
	maxConns      int
	allowed       []string
}

// New starts a fake Bot API on 127.0.0.1 and closes it when the test ends.
func New(tb testing.TB) *Server {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		ctx:       ctx,
		cancel:    cancel,
		changed:   make(chan struct{}),
		inject:    map[string][]injected{},
		chats:     map[int64]*chat{},
		files:     map[string]*file{},
		callbacks: map[string]*callback{},
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	s.wg.Add(1)
	go s.deliverWebhook()
	tb.Cleanup(s.Close)
	return s
}

// URL is the base URL to give the client, e.g. bot.WithServerURL(s.URL()).
func (s *Server) URL() string { return s.srv.URL }

// Token is the bot token the fake accepts.
func (s *Server) Token() string { return Token }

// Close stops the server. Pending long polls return at once. It is safe to
// call more than once.
func (s *Server) Close() {
	s.once.Do(func() {
		s.cancel()
		s.srv.CloseClientConnections()
		s.srv.Close()
		s.wg.Wait()
	})
}

// changedLocked wakes everyone waiting for a state change. s.mu must be held.
func (s *Server) changedLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// WaitFor reports whether cond became true within timeout. cond is evaluated
// now and after every change of the fake's state (a call, an update, a
// message), never in a busy loop; it may call the Server's methods.
func (s *Server) WaitFor(timeout time.Duration, cond func() bool) bool {
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		s.mu.Lock()
		ch := s.changed
		s.mu.Unlock()
		if cond() {
			return true
		}
		select {
		case <-ch:
		case <-t.C:
			return cond()
		}
	}
}

// Calls returns every request made so far, oldest first.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Call, len(s.calls))
	copy(out, s.calls)
	return out
}

// CallsTo returns the requests made to method (any case), oldest first.
func (s *Server) CallsTo(method string) []Call {
	var out []Call
	for _, c := range s.Calls() {
		if strings.EqualFold(c.Method, method) {
			out = append(out, c)
		}
	}
	return out
}

// InjectError makes the next call of method (any case) fail with code and
// description instead of doing anything; several injections queue up in
// order. An empty description takes Telegram's usual text for the code, and a
// positive retryAfter is sent as parameters.retry_after (use it with 429).
func (s *Server) InjectError(method string, code int, description string, retryAfter int) {
	if description == "" {
		description = defaultDescription(code, retryAfter)
	}
	key := strings.ToLower(method)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inject[key] = append(s.inject[key], injected{code: code, desc: description, retryAfter: retryAfter})
}

func defaultDescription(code, retryAfter int) string {
	switch code {
	case http.StatusBadRequest:
		return "Bad Request"
	case http.StatusUnauthorized:
		return "Unauthorized"
	case http.StatusForbidden:
		return "Forbidden: bot was blocked by the user"
	case http.StatusNotFound:
		return "Not Found"
	case http.StatusConflict:
		return "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
	case http.StatusTooManyRequests:
		return fmt.Sprintf("Too Many Requests: retry after %d", retryAfter)
	}
	return http.StatusText(code)
}

// AnswerOf returns the bot's answer to callback query id, and whether it answered.
func (s *Server) AnswerOf(callbackID string) (Answer, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cb, ok := s.callbacks[callbackID]
	if !ok || !cb.answered {
		return Answer{}, false
	}
	return cb.answer, true
}

// Pending returns how many updates the bot has not confirmed yet.
func (s *Server) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.updates)
}
