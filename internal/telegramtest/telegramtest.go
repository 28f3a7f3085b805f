// Package telegramtest runs the local Bot API server (internal/botapi) for
// tests, with what only tests need: a fixed bot identity, a listener closed
// when the test ends, a record of every call, and injected errors such as
// 429 Too Many Requests. None of it reaches the khqrbot binary.
//
// A test drives the server with SendText and PressButton, and observes it
// with Messages, Message, Calls and AnswerOf; WaitFor blocks until a
// condition on that state holds, woken on every change rather than by polling.
package telegramtest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/khqrbot/khqrbot/internal/botapi"
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
	AnonymousAdminID = botapi.AnonymousAdminID
)

// The server's types, under the names tests know.
type (
	// Message is a snapshot of one message in a chat.
	Message = botapi.Message
	// Button is one inline keyboard button.
	Button = botapi.Button
	// Call is one request the bot made.
	Call = botapi.Call
	// File is an uploaded file.
	File = botapi.File
	// Answer is how the bot answered a callback query.
	Answer = botapi.Answer
	// Option describes who sends an update and from which chat.
	Option = botapi.Option
)

// WithLanguage sets the sender's language_code, e.g. "km".
func WithLanguage(code string) Option { return botapi.WithLanguage(code) }

// WithChatType sets the chat's type: "private", "group" or "supergroup".
func WithChatType(t string) Option { return botapi.WithChatType(t) }

// WithFirstName sets the sender's first name (default "User<id>").
func WithFirstName(name string) Option { return botapi.WithFirstName(name) }

// WithUsername sets the sender's username, without the @.
func WithUsername(u string) Option { return botapi.WithUsername(u) }

// WithAnonymousAdmin sends a message as a group's anonymous admin does.
func WithAnonymousAdmin() Option { return botapi.WithAnonymousAdmin() }

// PostUpdate posts update to a bot's webhook url the way Telegram does; see
// botapi.PostUpdate.
func PostUpdate(url, secret string, update any) (int, error) {
	return botapi.PostUpdate(url, secret, update)
}

// Server is a running fake Bot API: the local server, listening on
// 127.0.0.1, with error injection. All its methods are safe for concurrent use.
type Server struct {
	*botapi.Server
	srv  *httptest.Server
	once sync.Once

	mu     sync.Mutex
	inject map[string][]*botapi.Error // by lower-case method name
}

// New starts a fake Bot API on 127.0.0.1 and closes it when the test ends.
func New(tb testing.TB) *Server {
	tb.Helper()
	s := &Server{inject: map[string][]*botapi.Error{}}
	api, err := botapi.New(botapi.Options{
		Bot:       botapi.Bot{Token: Token, ID: BotID, Username: BotUsername, FirstName: BotName},
		KeepCalls: true,
		Intercept: s.injected,
	})
	if err != nil {
		tb.Fatalf("telegramtest: %v", err)
	}
	s.Server = api
	s.srv = httptest.NewServer(api)
	tb.Cleanup(s.Close)
	return s
}

// URL is the base URL to give the client, e.g. bot.WithServerURL(s.URL()).
func (s *Server) URL() string { return s.srv.URL }

// ClientURL is a base URL for one client among several: its calls record
// client as their Call.Client, so a test tells apart the calls of
// processes sharing the fake. client must not start with "bot".
func (s *Server) ClientURL(client string) string { return s.srv.URL + "/" + client }

// Token is the bot token the fake accepts.
func (s *Server) Token() string { return Token }

// Close stops the server. Pending long polls return at once. It is safe to
// call more than once.
func (s *Server) Close() {
	s.once.Do(func() {
		s.Server.Close()
		s.srv.CloseClientConnections()
		s.srv.Close()
	})
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
	s.inject[key] = append(s.inject[key], &botapi.Error{Code: code, Description: description, RetryAfter: retryAfter})
}

// injected pops the next error injected for method, if any.
func (s *Server) injected(method string) *botapi.Error {
	key := strings.ToLower(method)
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.inject[key]
	if len(q) == 0 {
		return nil
	}
	s.inject[key] = q[1:]
	return q[0]
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
