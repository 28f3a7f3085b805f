// Package botapi is a local, stateful Telegram Bot API server: the one
// behind `khqrbot demo`, and under internal/telegramtest in tests.
//
// It speaks the wire protocol of https://core.telegram.org/bots/api closely
// enough for github.com/go-telegram/bot: POST /bot<TOKEN>/<method> with
// multipart, urlencoded or JSON bodies, Telegram's JSON envelopes and its exact
// error texts (ok=false, error_code, description, parameters). It keeps every
// chat's messages (with the uploaded photo and document bytes), the command
// menus set with setMyCommands, and queues updates for getUpdates or a
// webhook.
//
// The people in the chats are driven from Go: SendText and PressButton make
// updates; Messages, Message, Commands and AnswerOf observe the state, and
// Changed or WaitFor wake on every change rather than by polling.
package botapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// AnonymousAdminID is Telegram's GroupAnonymousBot, the sender of messages
// from a group's anonymous admins.
const AnonymousAdminID int64 = 1087968824

// Bot is the identity of the one bot a Server serves.
type Bot struct {
	Token     string // the only token accepted in request paths
	ID        int64  // the bot's user id; getMe's id
	Username  string // without the @; t.me links name it
	FirstName string
}

// Validate reports what is wrong with b, if anything.
func (b Bot) Validate() error {
	id, _, ok := strings.Cut(b.Token, ":")
	switch {
	case !ok || id == "" || strings.ContainsAny(b.Token, "/?#"):
		return errors.New("bot token: want <id>:<secret>, as @BotFather gives")
	case b.ID <= 0:
		return errors.New("bot id: want a positive number")
	case b.Username == "" || b.FirstName == "":
		return errors.New("bot: want a username and a first name")
	}
	return nil
}

// Error is a failed call as Telegram answers it.
type Error struct {
	Code        int    // error_code, also the HTTP status
	Description string // Telegram's text, e.g. "Bad Request: message is too long"
	RetryAfter  int    // parameters.retry_after in seconds; 0 for none
}

func (e *Error) Error() string { return fmt.Sprintf("%d %s", e.Code, e.Description) }

// Options configure a Server.
type Options struct {
	Bot Bot
	// KeepCalls records every request for Calls. Tests want it; a long-running
	// demo does not, as the record grows with every request.
	KeepCalls bool
	// Intercept, when set, is asked before every method runs (with the
	// method's canonical name); an Error it returns is the answer instead.
	// It must not call the Server.
	Intercept func(method string) *Error
	// FirstUpdateID is the id of the first update; 0 means 1001. A bot
	// keeps the ids of the updates it handled (its inbox) and skips them
	// when they come again, so a server that a bot with an old database
	// talks to must number above what the bot saw before.
	FirstUpdateID int64
}

// Server is a running Bot API. It is an http.Handler; all its methods are
// safe for concurrent use.
type Server struct {
	bot       Bot
	keepCalls bool
	intercept func(string) *Error
	ctx       context.Context // cancelled by Close: ends long polls and webhook posts
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	once      sync.Once

	mu        sync.Mutex
	changed   chan struct{} // closed and replaced on every state change
	calls     []Call
	updates   []pendingUpdate
	updateID  int64
	chats     map[int64]*chat
	files     map[string]*file
	fileSeq   int
	callbacks map[string]*callback
	cbSeq     int
	pollGen   int64 // the newest getUpdates request; older ones get 409
	webhook   webhook
	commands  map[commandScope][]Command
}

// Call is one request the bot made, recorded in arrival order.
type Call struct {
	Method      string            // canonical name, e.g. "sendPhoto", whatever case the bot used
	Client      string            // the path segment before /bot<token>, if any: who called
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

// New returns a Server for o.Bot; serve it with net/http. Close it when done.
func New(o Options) (*Server, error) {
	if err := o.Bot.Validate(); err != nil {
		return nil, err
	}
	if o.FirstUpdateID < 0 {
		return nil, fmt.Errorf("first update id %d: want a positive id, or 0 for 1001", o.FirstUpdateID)
	}
	if o.FirstUpdateID == 0 {
		o.FirstUpdateID = 1001
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		bot:       o.Bot,
		keepCalls: o.KeepCalls,
		intercept: o.Intercept,
		updateID:  o.FirstUpdateID - 1,
		ctx:       ctx,
		cancel:    cancel,
		changed:   make(chan struct{}),
		chats:     map[int64]*chat{},
		files:     map[string]*file{},
		callbacks: map[string]*callback{},
		commands:  map[commandScope][]Command{},
	}
	s.wg.Add(1)
	go s.deliverWebhook()
	return s, nil
}

// Bot is the identity of the bot s serves.
func (s *Server) Bot() Bot { return s.bot }

// Close ends pending long polls at once and stops webhook delivery. It is
// safe to call more than once.
func (s *Server) Close() {
	s.once.Do(func() {
		s.cancel()
		s.wg.Wait()
	})
}

// changedLocked wakes everyone waiting for a state change. s.mu must be held.
func (s *Server) changedLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// Changed returns a channel closed at the next change of state: a call, an
// update, a message.
func (s *Server) Changed() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changed
}

// WaitFor reports whether cond became true within timeout. cond is evaluated
// now and after every change of state, never in a busy loop; it may call
// the Server's methods.
func (s *Server) WaitFor(timeout time.Duration, cond func() bool) bool {
	return s.WaitForContext(context.Background(), timeout, cond)
}

// WaitForContext is WaitFor that also gives up, false, when ctx ends.
func (s *Server) WaitForContext(ctx context.Context, timeout time.Duration, cond func() bool) bool {
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		ch := s.Changed()
		if cond() {
			return true
		}
		select {
		case <-ch:
		case <-t.C:
			return cond()
		case <-ctx.Done():
			return false
		}
	}
}

// Calls returns every request made so far, oldest first; none unless
// Options.KeepCalls.
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

// FileData returns the bytes and upload name of a file the bot sent, by
// file_id (the largest photo size's or a thumbnail's).
func (s *Server) FileData(fileID string) (data []byte, name string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.files[strings.TrimSuffix(fileID, "-s")]
	if !ok || f.data == nil {
		return nil, "", false
	}
	return f.data, f.name, true
}
