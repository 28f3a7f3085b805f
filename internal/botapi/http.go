package botapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Upload limits of the real API.
const (
	maxPhotoBytes    = 10 << 20
	maxDocumentBytes = 50 << 20
)

func badRequest(desc string) *Error {
	return &Error{Code: http.StatusBadRequest, Description: "Bad Request: " + desc}
}

// params are a request's fields and files, whatever the body's encoding.
type params struct {
	fields map[string]string
	files  map[string]File
}

func (p params) has(k string) bool { _, ok := p.fields[k]; return ok }

// handler runs one API method with s.mu held and returns its result.
type handler func(s *Server, p params) (any, *Error)

// methods maps lower-case method names to their canonical name and handler.
var methods = func() map[string]struct {
	name string
	h    handler
} {
	m := map[string]struct {
		name string
		h    handler
	}{}
	for name, h := range map[string]handler{
		"getMe":                  (*Server).getMe,
		"getUpdates":             nil, // served by getUpdates, which waits without the lock
		"setWebhook":             (*Server).setWebhook,
		"deleteWebhook":          (*Server).deleteWebhook,
		"getWebhookInfo":         (*Server).getWebhookInfo,
		"sendMessage":            (*Server).sendMessage,
		"sendPhoto":              (*Server).sendPhoto,
		"sendDocument":           (*Server).sendDocument,
		"sendChatAction":         (*Server).sendChatAction,
		"editMessageText":        (*Server).editMessageText,
		"editMessageCaption":     (*Server).editMessageCaption,
		"editMessageMedia":       (*Server).editMessageMedia,
		"editMessageReplyMarkup": (*Server).editMessageReplyMarkup,
		"deleteMessage":          (*Server).deleteMessage,
		"answerCallbackQuery":    (*Server).answerCallbackQuery,
		"setMyCommands":          (*Server).setMyCommands,
		"deleteMyCommands":       (*Server).deleteMyCommands,
	} {
		m[strings.ToLower(name)] = struct {
			name string
			h    handler
		}{name, h}
	}
	return m
}()

// ServeHTTP serves the Bot API: POST /bot<token>/<method>, also under one
// path segment that names the client, /<client>/bot<token>/<method>, as
// when a bot's base URL ends in /<client>. Each call records its client
// (Call.Client), so that a test giving each process its own base URL tells
// their calls apart. A client's name does not start with "bot".
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path, client := r.URL.Path, ""
	if seg, after, ok := strings.Cut(strings.TrimPrefix(path, "/"), "/"); ok && !strings.HasPrefix(seg, "bot") {
		path, client = "/"+after, seg
	}
	rest, ok := strings.CutPrefix(path, "/bot")
	if !ok {
		writeError(w, &Error{Code: http.StatusNotFound, Description: "Not Found"})
		return
	}
	token, name, _ := strings.Cut(rest, "/")
	if token != s.bot.Token {
		writeError(w, &Error{Code: http.StatusUnauthorized, Description: "Unauthorized"})
		return
	}
	m, ok := methods[strings.ToLower(name)]
	if !ok {
		writeError(w, &Error{Code: http.StatusNotFound, Description: "Not Found"})
		return
	}
	p, perr := parseParams(r)

	s.mu.Lock()
	idx := len(s.calls)
	if s.keepCalls {
		s.calls = append(s.calls, Call{Method: m.name, Client: client, Params: p.fields, Files: p.files, At: time.Now()})
	}
	var aerr *Error
	if s.intercept != nil {
		aerr = s.intercept(m.name)
	}
	if aerr == nil {
		aerr = perr
	}
	var res any
	switch {
	case aerr != nil:
	case m.h == nil:
		s.changedLocked()
		s.mu.Unlock()
		res, aerr = s.getUpdates(r, p)
		s.mu.Lock()
	default:
		res, aerr = m.h(s, p)
	}
	if aerr != nil && s.keepCalls {
		s.calls[idx].ErrorCode = aerr.Code
		s.calls[idx].Description = aerr.Description
	}
	s.changedLocked()
	s.mu.Unlock()

	if aerr != nil {
		writeError(w, aerr)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "result": res})
}

func writeError(w http.ResponseWriter, e *Error) {
	body := map[string]any{"ok": false, "error_code": e.Code, "description": e.Description}
	if e.RetryAfter > 0 {
		body["parameters"] = map[string]int{"retry_after": e.RetryAfter}
	}
	writeJSON(w, e.Code, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"ok":false,"error_code":500,"description":"Internal Server Error"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// parseParams reads the query string and a multipart, urlencoded or JSON body.
func parseParams(r *http.Request) (params, *Error) {
	p := params{fields: map[string]string{}, files: map[string]File{}}
	for k, v := range r.URL.Query() {
		p.fields[k] = v[0]
	}
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return p, nil
	}
	mt, mp, err := mime.ParseMediaType(ct)
	if err != nil {
		return p, badRequest("wrong Content-Type " + ct)
	}
	switch mt {
	case "multipart/form-data":
		if err := parseMultipart(r.Body, mp["boundary"], p); err != nil {
			return p, err
		}
	case "application/x-www-form-urlencoded":
		b, err := io.ReadAll(io.LimitReader(r.Body, maxDocumentBytes))
		if err != nil {
			return p, badRequest("can't read the request body")
		}
		vals, err := url.ParseQuery(string(b))
		if err != nil {
			return p, badRequest("can't parse the request body")
		}
		for k, v := range vals {
			p.fields[k] = v[0]
		}
	case "application/json":
		var obj map[string]json.RawMessage
		dec := json.NewDecoder(io.LimitReader(r.Body, maxDocumentBytes))
		if err := dec.Decode(&obj); err != nil && !errors.Is(err, io.EOF) {
			return p, badRequest("can't parse JSON object")
		}
		for k, raw := range obj {
			var str string
			if json.Unmarshal(raw, &str) == nil {
				p.fields[k] = str
			} else {
				p.fields[k] = string(bytes.TrimSpace(raw))
			}
		}
	}
	return p, nil
}

func parseMultipart(body io.Reader, boundary string, p params) *Error {
	if boundary == "" {
		return badRequest("multipart boundary is missing")
	}
	mr := multipart.NewReader(body, boundary)
	for n := 0; ; n++ {
		part, err := mr.NextPart()
		switch {
		case err == io.EOF: // no more parts
			return nil
		case n == 0 && errors.Is(err, io.EOF):
			return nil // an empty body: go-telegram sends one for methods without parameters
		case err != nil:
			return badRequest("can't parse multipart body: " + err.Error())
		}
		data, err := io.ReadAll(io.LimitReader(part, maxDocumentBytes+1))
		if err != nil {
			return badRequest("can't read multipart part: " + err.Error())
		}
		if len(data) > maxDocumentBytes {
			return &Error{Code: http.StatusRequestEntityTooLarge, Description: "Request Entity Too Large"}
		}
		if part.FileName() != "" {
			p.files[part.FormName()] = File{Name: part.FileName(), Data: data}
		} else {
			p.fields[part.FormName()] = string(data)
		}
	}
}

// String describes the call for test failure messages.
func (c Call) String() string {
	s := c.Method
	if c.ErrorCode != 0 {
		s += fmt.Sprintf(" -> %d %s", c.ErrorCode, c.Description)
	}
	return s
}
