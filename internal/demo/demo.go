// Package demo is the web page of `khqrbot demo`: two Telegram-like chats
// with the bot, a merchant's and a customer's, played in a browser against
// the local Bot API server (internal/botapi), and the customer's bank app,
// played on the Bakong simulator.
//
// The page and its script are embedded; it needs no network. Its JSON API
// and the server-sent events that carry every change live under /demo/.
package demo

import (
	"crypto/sha256"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/khqrbot/khqrbot/internal/botapi"
	"github.com/khqrbot/khqrbot/locales"
	"github.com/khqrbot/khqrbot/payments/bakong/sim"
)

//go:embed static
var static embed.FS

// Person is one of the two people chatting with the bot. Their private
// chat's id is their user id, as in Telegram.
type Person struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
	Role string `json:"role"` // "Merchant" or "Customer": the pane's name
	Lang string `json:"lang"` // language_code they start with: "en" or "km"
}

// Validate reports what is wrong with p, if anything.
func (p Person) Validate() error {
	switch {
	case p.ID <= 0:
		return fmt.Errorf("person %q: want a positive user id", p.Name)
	case p.Name == "" || p.Role == "":
		return errors.New("person: want a name and a role")
	case !locales.Supported(p.Lang):
		return fmt.Errorf("person %q: language %q: want en or km", p.Name, p.Lang)
	}
	return nil
}

// Options configure the page.
type Options struct {
	API      *botapi.Server
	Bank     *sim.Server // the simulator the bot's QRs are paid on
	Merchant Person      // an admin of the bot
	Customer Person
	Log      *slog.Logger
}

// page serves the demo.
type page struct {
	Options
	people []Person
	assets http.Handler
}

// answerWait bounds how long a button press waits for the bot's answer
// before the page is told there is none yet.
const answerWait = 15 * time.Second

// New returns the demo's HTTP handler.
func New(o Options) (http.Handler, error) {
	if o.API == nil || o.Bank == nil {
		return nil, errors.New("demo: want a Bot API server and a Bakong simulator")
	}
	for _, p := range []Person{o.Merchant, o.Customer} {
		if err := p.Validate(); err != nil {
			return nil, fmt.Errorf("demo: %w", err)
		}
	}
	if o.Merchant.ID == o.Customer.ID {
		return nil, errors.New("demo: the merchant and the customer need different user ids")
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	sub, err := fs.Sub(static, "static")
	if err != nil {
		return nil, err
	}
	p := &page{Options: o, people: []Person{o.Merchant, o.Customer}, assets: http.FileServerFS(sub)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", p.index)
	mux.Handle("GET /static/", http.StripPrefix("/static", p.assets))
	mux.HandleFunc("GET /demo/state", p.state)
	mux.HandleFunc("GET /demo/events", p.events)
	mux.HandleFunc("GET /demo/commands", p.commands)
	mux.HandleFunc("GET /demo/file/{id}", p.file)
	mux.HandleFunc("POST /demo/send", p.send)
	mux.HandleFunc("POST /demo/press", p.press)
	mux.HandleFunc("GET /demo/bank", p.bankApp)
	mux.HandleFunc("POST /demo/bank/pay", p.bankPay)
	return securityHeaders(mux), nil
}

// securityHeaders keeps the page to its own origin: no framing, no
// scripts or styles from anywhere else.
func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "no-referrer")
		h.ServeHTTP(w, r)
	})
}

func (p *page) index(w http.ResponseWriter, r *http.Request) {
	b, err := static.ReadFile("static/index.html")
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(b)
}

// person returns the person with user id, or false.
func (p *page) person(id int64) (Person, bool) {
	for _, q := range p.people {
		if q.ID == id {
			return q, true
		}
	}
	return Person{}, false
}

// wireButton is an inline keyboard button as the page shows it.
type wireButton struct {
	Text     string `json:"text"`
	URL      string `json:"url,omitempty"`
	Callback string `json:"callback,omitempty"`
	Copy     string `json:"copy,omitempty"`
}

// wireMessage is a message as the page shows it.
type wireMessage struct {
	ID       int            `json:"id"`
	FromBot  bool           `json:"fromBot"`
	Date     int64          `json:"date"` // Unix seconds
	Edited   bool           `json:"edited"`
	Text     string         `json:"text,omitempty"`
	Caption  string         `json:"caption,omitempty"`
	Photo    string         `json:"photo,omitempty"` // file id
	Document *wireDocument  `json:"document,omitempty"`
	Keyboard [][]wireButton `json:"keyboard,omitempty"`
}

type wireDocument struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Size int    `json:"size"`
}

// snapshot is everything the page shows: the bot, the people, their chats.
type snapshot struct {
	Bot    string                   `json:"bot"` // username
	People []Person                 `json:"people"`
	Chats  map[string][]wireMessage `json:"chats"` // by chat id
}

func (p *page) snapshot() snapshot {
	s := snapshot{Bot: p.API.Bot().Username, People: p.people, Chats: map[string][]wireMessage{}}
	for _, q := range p.people {
		msgs := []wireMessage{}
		for _, m := range p.API.Messages(q.ID) {
			msgs = append(msgs, toWire(m))
		}
		s.Chats[strconv.FormatInt(q.ID, 10)] = msgs
	}
	return s
}

func toWire(m botapi.Message) wireMessage {
	w := wireMessage{
		ID: m.ID, FromBot: m.FromBot, Date: m.Date.Unix(), Edited: m.Edits > 0,
		Text: m.Text, Caption: m.Caption, Photo: m.PhotoFileID,
	}
	if m.DocumentFileID != "" {
		w.Document = &wireDocument{ID: m.DocumentFileID, Name: m.DocumentName, Size: len(m.Document)}
	}
	for _, row := range m.Keyboard {
		var r []wireButton
		for _, b := range row {
			r = append(r, wireButton{Text: b.Text, URL: b.URL, Callback: b.CallbackData, Copy: b.CopyText})
		}
		w.Keyboard = append(w.Keyboard, r)
	}
	return w
}

func (p *page) state(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, p.snapshot())
}

// events streams a snapshot whenever what the page shows changes, as
// server-sent events; the first one at once.
func (p *page) events(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	var last [sha256.Size]byte
	keepAlive := time.NewTicker(20 * time.Second)
	defer keepAlive.Stop()
	for {
		changed := p.API.Changed()
		b, err := json.Marshal(p.snapshot())
		if err != nil {
			p.Log.Error("demo: snapshot", "err", err)
			return
		}
		if sum := sha256.Sum256(b); sum != last {
			last = sum
			if _, err := fmt.Fprintf(w, "data: %s\n\n", b); err != nil {
				return
			}
			fl.Flush()
		}
		select {
		case <-changed:
		case <-keepAlive.C:
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil {
				return
			}
			fl.Flush()
		case <-r.Context().Done():
			return
		}
	}
}

func (p *page) commands(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.URL.Query().Get("user"), 10, 64)
	if _, ok := p.person(id); err != nil || !ok {
		writeProblem(w, http.StatusBadRequest, "user: want the id of the merchant or the customer")
		return
	}
	cmds := p.API.Commands(id, r.URL.Query().Get("lang"))
	if cmds == nil {
		cmds = []botapi.Command{}
	}
	writeJSON(w, http.StatusOK, cmds)
}

// file serves a photo or document the bot sent; ?download makes the
// browser save it under its upload name.
func (p *page) file(w http.ResponseWriter, r *http.Request) {
	data, name, ok := p.API.FileData(r.PathValue("id"))
	if !ok {
		http.NotFound(w, r)
		return
	}
	ct := mime.TypeByExtension(path.Ext(name))
	if ct == "" {
		ct = http.DetectContentType(data)
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Cache-Control", "private, max-age=3600") // file ids are never reused
	if _, dl := r.URL.Query()["download"]; dl {
		w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": path.Base(name)}))
	}
	_, _ = w.Write(data)
}

// sendRequest is what a person typed into their chat.
type sendRequest struct {
	User int64  `json:"user"`
	Text string `json:"text"`
	Lang string `json:"lang"`
}

func (p *page) send(w http.ResponseWriter, r *http.Request) {
	var in sendRequest
	who, ok := readAs(p, w, r, &in, func() int64 { return in.User })
	if !ok {
		return
	}
	text := strings.TrimSpace(in.Text)
	if text == "" {
		writeProblem(w, http.StatusBadRequest, "text: want a message")
		return
	}
	if n := len([]rune(text)); n > 4096 {
		writeProblem(w, http.StatusBadRequest, fmt.Sprintf("text: at most 4096 characters, got %d", n))
		return
	}
	id := p.API.SendText(who.ID, who.ID, text, p.sender(who, in.Lang)...)
	writeJSON(w, http.StatusOK, map[string]int{"id": id})
}

// sender describes who sends an update: their name and their language
// as the page sets it (their default otherwise).
func (p *page) sender(who Person, lang string) []botapi.Option {
	if !locales.Supported(lang) {
		lang = who.Lang
	}
	return []botapi.Option{botapi.WithFirstName(who.Name), botapi.WithLanguage(lang)}
}

// pressRequest is a press of a callback button.
type pressRequest struct {
	User    int64  `json:"user"`
	Message int    `json:"message"`
	Data    string `json:"data"`
	Lang    string `json:"lang"`
}

// pressAnswer is the bot's answer to a press, for the page's toast.
type pressAnswer struct {
	Answered  bool   `json:"answered"`
	Text      string `json:"text"`
	ShowAlert bool   `json:"showAlert"`
}

func (p *page) press(w http.ResponseWriter, r *http.Request) {
	var in pressRequest
	who, ok := readAs(p, w, r, &in, func() int64 { return in.User })
	if !ok {
		return
	}
	if in.Data == "" || len(in.Data) > 64 {
		writeProblem(w, http.StatusBadRequest, "data: want a button's callback data, 1 to 64 bytes")
		return
	}
	id := p.API.PressButton(who.ID, who.ID, in.Message, in.Data, p.sender(who, in.Lang)...)
	var a botapi.Answer
	answered := p.API.WaitForContext(r.Context(), answerWait, func() bool {
		var ok bool
		a, ok = p.API.AnswerOf(id)
		return ok
	})
	writeJSON(w, http.StatusOK, pressAnswer{Answered: answered, Text: a.Text, ShowAlert: a.ShowAlert})
}

// readAs reads a JSON request into v and returns the person user (read
// from v) acts as; false after answering a bad request.
func readAs(p *page, w http.ResponseWriter, r *http.Request, v any, user func() int64) (Person, bool) {
	if !readJSON(w, r, v) {
		return Person{}, false
	}
	who, ok := p.person(user())
	if !ok {
		writeProblem(w, http.StatusBadRequest, "user: want the id of the merchant or the customer")
	}
	return who, ok
}

func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	// A JSON body cannot come from another site's form without a CORS
	// preflight, which this server never answers.
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		writeProblem(w, http.StatusUnsupportedMediaType, "want a JSON body (Content-Type: application/json)")
		return false
	}
	d := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		writeProblem(w, http.StatusBadRequest, "JSON body: "+err.Error())
		return false
	}
	return true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeProblem answers a request the page got wrong, saying what was expected.
func writeProblem(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}
