package metrics

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
)

// telegramMethods are the Bot API methods counted by name; any other is
// "other". The token is in every request's path, so the method is picked
// out of it and checked against this list, never used as it stands.
var telegramMethods = []string{
	"getMe", "getUpdates", "setWebhook", "deleteWebhook", "getWebhookInfo",
	"sendMessage", "sendPhoto", "sendDocument", "sendChatAction",
	"editMessageText", "editMessageCaption", "editMessageMedia", "editMessageReplyMarkup", "deleteMessage",
	"answerCallbackQuery", "setMyCommands", "deleteMyCommands", "setChatMenuButton",
	"setMyDescription", "setMyShortDescription", "getChat", "getChatMember", "getChatAdministrators",
	"getFile", "close", "logOut",
}

// maxErrorBody bounds what is read of a 429's body to find retry_after.
const maxErrorBody = 64 << 10

// Transport wraps next (nil: http.DefaultTransport) to count Bot API calls
// by method and outcome, and the retry_after of each 429. Give it to the
// http.Client of go-telegram/bot. It reads no body but a 429's (which it
// hands on unchanged) and never records the URL, which holds the token.
func (m *Metrics) Transport(next http.RoundTripper) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	return &telegramTransport{m: m, next: next}
}

type telegramTransport struct {
	m    *Metrics
	next http.RoundTripper
}

// RoundTrip makes the call and counts it.
func (t *telegramTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	method := telegramMethod(r.URL.Path)
	resp, err := t.next.RoundTrip(r)
	if err != nil {
		t.m.telegramCalls.WithLabelValues(method, "transport_error").Inc()
		return nil, err
	}
	t.m.telegramCalls.WithLabelValues(method, telegramOutcome(resp.StatusCode)).Inc()
	if resp.StatusCode == http.StatusTooManyRequests {
		t.m.telegramRetryAfter.WithLabelValues(method).Observe(float64(retryAfter(resp)))
	}
	return resp, nil
}

// telegramMethod is the method a Bot API path names ("/bot<token>/sendPhoto"),
// from telegramMethods, else "other".
func telegramMethod(path string) string {
	name := path[strings.LastIndexByte(path, '/')+1:]
	if strings.Contains(path, "/file/") {
		return other // a file download: its last segment is a file name
	}
	for _, m := range telegramMethods {
		if strings.EqualFold(m, name) { // the Bot API ignores the case of method names
			return m
		}
	}
	return other
}

// telegramStatuses name the HTTP statuses the Bot API answers with.
var telegramStatuses = map[int]string{
	http.StatusBadRequest:      "bad_request",
	http.StatusUnauthorized:    "unauthorized",
	http.StatusForbidden:       "forbidden",
	http.StatusNotFound:        "not_found",
	http.StatusConflict:        "conflict",
	http.StatusTooManyRequests: "rate_limited",
}

// telegramOutcome names an HTTP status as the Bot API uses it.
func telegramOutcome(status int) string {
	switch {
	case status >= 200 && status < 300:
		return "ok"
	case status >= 500:
		return "server_error"
	}
	if o, ok := telegramStatuses[status]; ok {
		return o
	}
	return other
}

// retryAfter reads parameters.retry_after from a 429's JSON body, which it
// puts back for the caller; 0 when there is none.
func retryAfter(resp *http.Response) int {
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	rest := resp.Body
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(body), rest), rest}
	if err != nil {
		return 0
	}
	var e struct {
		Parameters struct {
			RetryAfter int `json:"retry_after"`
		} `json:"parameters"`
	}
	if json.Unmarshal(body, &e) != nil || e.Parameters.RetryAfter < 0 {
		return 0
	}
	return e.Parameters.RetryAfter
}
