package bakong

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Defaults for Options.
const (
	DefaultBaseURL        = "https://api-bakong.nbc.gov.kh"
	DefaultConnectTimeout = 5 * time.Second
	DefaultTimeout        = 15 * time.Second
	// MaxList is the most md5s or hashes one list call accepts.
	MaxList = 50
)

// maxBody bounds what we read of an answer; 50 transactions take ~40 KB.
const maxBody = 1 << 20

// UserAgent is the descriptive User-Agent khqrbot sends; some edge WAFs
// refuse requests without one.
func UserAgent(version string) string {
	return "khqrbot/" + version + " (+https://github.com/khqrbot/khqrbot)"
}

// SourceInfo tells the Bakong app who asked for a deeplink and where to go
// back after payment. When sent, the API requires all three fields.
type SourceInfo struct {
	AppIconURL          string `json:"appIconUrl"`
	AppName             string `json:"appName"`
	AppDeepLinkCallback string `json:"appDeepLinkCallback"`
}

// Validate reports a missing field, which the API would refuse with
// errorCode 5. Fields are named as the API names them.
func (s *SourceInfo) Validate() error {
	var missing []string
	if s.AppIconURL == "" {
		missing = append(missing, "appIconUrl")
	}
	if s.AppName == "" {
		missing = append(missing, "appName")
	}
	if s.AppDeepLinkCallback == "" {
		missing = append(missing, "appDeepLinkCallback")
	}
	if len(missing) > 0 {
		return fmt.Errorf("sourceInfo: %s required", strings.Join(missing, ", "))
	}
	return nil
}

// Options configures a Client. The zero value talks to production without a
// token (check calls then answer 401, which is how one tells a geo-block from
// a reachable API).
type Options struct {
	BaseURL        string        // default DefaultBaseURL
	Tokens         TokenSource   // Bearer token for check_* calls; nil sends none
	ProxyURL       string        // http(s) proxy for these calls only, e.g. one in Cambodia; default: the environment's
	ConnectTimeout time.Duration // dial and TLS handshake; default 5s
	Timeout        time.Duration // whole exchange, per attempt; default 15s
	UserAgent      string        // default UserAgent("dev")
	Observer       func(Call)    // told about every HTTP exchange; must be quick
	SourceInfo     *SourceInfo   // sent with Deeplink when set
	HTTPClient     *http.Client  // replaces the built transport (ProxyURL and ConnectTimeout are then unused)
	Clock          func() time.Time
}

// Client calls the Bakong Open API. It is safe for concurrent use.
type Client struct {
	base    string
	tokens  TokenSource
	hc      *http.Client
	timeout time.Duration
	ua      string
	observe func(Call)
	source  *SourceInfo
	now     func() time.Time
}

// New checks o and returns a Client.
func New(o Options) (*Client, error) {
	c := &Client{
		base:    strings.TrimRight(o.BaseURL, "/"),
		tokens:  o.Tokens,
		timeout: o.Timeout,
		ua:      o.UserAgent,
		observe: o.Observer,
		source:  o.SourceInfo,
		now:     o.Clock,
	}
	if c.base == "" {
		c.base = DefaultBaseURL
	}
	if err := checkURL(c.base); err != nil {
		return nil, invalid("new", "base URL: %v", err)
	}
	if c.timeout <= 0 {
		c.timeout = DefaultTimeout
	}
	if c.ua == "" {
		c.ua = UserAgent("dev")
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.source != nil {
		if err := c.source.Validate(); err != nil {
			return nil, invalid("new", "%v", err)
		}
	}
	c.hc = o.HTTPClient
	if c.hc == nil {
		t, err := transport(o.ProxyURL, o.ConnectTimeout)
		if err != nil {
			return nil, err
		}
		c.hc = &http.Client{Transport: t}
	}
	return c, nil
}

// WithTokens returns a copy of c that takes check tokens from t and shares
// c's transport, so a TokenManager can renew through c itself.
func (c *Client) WithTokens(t TokenSource) *Client {
	cp := *c
	cp.tokens = t
	return &cp
}

func transport(proxy string, connect time.Duration) (*http.Transport, error) {
	if connect <= 0 {
		connect = DefaultConnectTimeout
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = (&net.Dialer{Timeout: connect, KeepAlive: 30 * time.Second}).DialContext
	t.TLSHandshakeTimeout = connect
	t.MaxIdleConnsPerHost = 8
	if proxy != "" {
		u, err := url.Parse(proxy)
		if err == nil {
			err = checkURL(proxy)
		}
		if err != nil {
			return nil, invalid("new", "proxy URL: %v", err)
		}
		t.Proxy = http.ProxyURL(u)
	}
	return t, nil
}

// checkURL wants an absolute http or https URL. Its errors never echo the
// URL, which may carry a password.
func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return errors.New("want http(s)://host[:port]")
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("want http(s)://host[:port], got scheme %q", u.Scheme)
	}
	return nil
}

func invalid(endpoint, format string, a ...any) *Error {
	return &Error{Kind: KindInvalid, Endpoint: endpoint, Message: fmt.Sprintf(format, a...)}
}

// request is one call to make: auth says whether it carries the Bearer
// token; list marks md5_list/hash_list, whose 403/404 mean "refused"; key
// becomes Call.Key; decode reads the answer (decodeEnvelopeAs the shape of
// its data, or by default decodeEnvelope).
type request struct {
	endpoint string
	key      string
	body     any
	auth     bool
	list     bool
	decode   func([]byte) (answer, error)
}

// post sends r and returns the decoded envelope of a successful answer
// (responseCode 0). Other answers come back as *Error; an API refusal has
// Kind KindAPI and its ErrorCode, which callers may turn into outcomes. On a
// 401 with a token, the token source renews once and the call is retried.
func (c *Client) post(ctx context.Context, r request) (answer, error) {
	body, err := json.Marshal(r.body)
	if err != nil {
		return answer{}, invalid(r.endpoint, "encode request: %v", err)
	}
	tok := ""
	if r.auth && c.tokens != nil {
		if tok, err = c.tokens.Token(ctx); err != nil {
			return answer{}, &Error{Kind: KindUnauthorized, Endpoint: r.endpoint, Message: "no token", Err: redact(err, tok)}
		}
	}
	a, err := c.attempt(ctx, r, body, tok)
	if tok == "" || !IsKind(err, KindUnauthorized) {
		return a, err
	}
	fresh, rerr := c.tokens.Renew(ctx, tok)
	if errors.Is(rerr, errStatic) {
		return a, err
	}
	if rerr != nil {
		var e *Error
		errors.As(err, &e)
		e.Message += "; renewing the token failed: " + redact(rerr, tok).Error()
		return a, e
	}
	if fresh == tok || fresh == "" {
		return a, err
	}
	return c.attempt(ctx, r, body, fresh)
}

// attempt makes one HTTP exchange and reports it to the observer.
func (c *Client) attempt(ctx context.Context, r request, body []byte, tok string) (answer, error) {
	id := requestID()
	start := c.now()
	call := Call{Endpoint: r.endpoint, RequestID: id, Key: r.key, ResponseCode: -1, At: start}
	a, status, err := c.exchange(ctx, r, body, tok, id)
	call.HTTPStatus = status
	call.Latency = c.now().Sub(start)
	if err == nil || status != 0 {
		call.ResponseCode, call.ErrorCode = a.responseCode, a.errorCode
	}
	outcome := isOutcome(r, status, a)
	if err != nil && !outcome {
		call.Err = err.Error()
	}
	call.Outcome = callOutcome(r, a, err, outcome)
	if e := (*Error)(nil); errors.As(err, &e) {
		call.RetryAfter = e.RetryAfter
	}
	if c.observe != nil {
		c.observe(call)
	}
	return a, err
}

// callOutcome sums a call up for Call.Outcome.
func callOutcome(r request, a answer, err error, outcome bool) string {
	var e *Error
	switch {
	case err == nil && strings.HasPrefix(r.endpoint, "check_transaction_by_") && !r.list:
		return OutcomeFound
	case err == nil:
		return OutcomeOK
	case outcome && a.errorCode == 3:
		return OutcomeFailed
	case outcome:
		return OutcomeNotFound
	case errors.As(err, &e):
		return string(e.Kind)
	}
	return string(KindUnavailable)
}

// isOutcome reports whether an API refusal is an answer callers expect
// (not found, failed, account not found), not worth an error in the call log.
func isOutcome(r request, status int, a answer) bool {
	if status != http.StatusOK || a.responseCode == 0 {
		return false
	}
	switch a.errorCode {
	case 1, 3:
		return strings.HasPrefix(r.endpoint, "check_transaction_by_") && !r.list
	case 11:
		return r.endpoint == "check_bakong_account"
	}
	return false
}

func (c *Client) exchange(ctx context.Context, r request, body []byte, tok, id string) (answer, int, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/v1/"+r.endpoint, bytes.NewReader(body))
	if err != nil {
		return answer{responseCode: -1}, 0, invalid(r.endpoint, "build request: %v", redact(err, tok))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.ua)
	req.Header.Set("X-Request-ID", id)
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return answer{responseCode: -1}, 0, c.transportError(ctx, r.endpoint, err, tok)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return answer{responseCode: -1}, resp.StatusCode, c.transportError(ctx, r.endpoint, err, tok)
	}
	if len(raw) > maxBody {
		return answer{responseCode: -1}, resp.StatusCode, &Error{Kind: KindBadResponse, Endpoint: r.endpoint,
			HTTPStatus: resp.StatusCode, Message: "answer larger than 1 MiB"}
	}
	a, err := c.classify(r, resp, raw)
	return a, resp.StatusCode, err
}

// transportError explains a failure to get an answer. The URL is left out
// (the endpoint names the call) and the token is scrubbed from the cause.
func (c *Client) transportError(ctx context.Context, endpoint string, err error, tok string) *Error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	msg := "no answer"
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		msg = "no answer in time"
	}
	return &Error{Kind: KindUnavailable, Endpoint: endpoint, Message: msg, Err: redact(err, tok)}
}

// classify turns an HTTP answer into an envelope or an *Error, checking the
// status before trusting the body to be JSON.
func (c *Client) classify(r request, resp *http.Response, raw []byte) (answer, error) {
	st := resp.StatusCode
	decode := r.decode
	if decode == nil {
		decode = decodeEnvelope
	}
	a, derr := decode(raw)
	e := &Error{Endpoint: r.endpoint, HTTPStatus: st, ErrorCode: a.errorCode}
	detail := func(s string) string {
		if a.message != "" {
			return s + ": " + a.message
		}
		return s
	}
	switch {
	case st == http.StatusUnauthorized || (derr == nil && a.errorCode == 6):
		e.Kind, e.Message = KindUnauthorized, detail("unauthorized: the token is missing, invalid or expired")
	case r.list && (st == http.StatusForbidden || st == http.StatusNotFound):
		e.Kind, e.Message = KindListRefused, "list endpoint refused; check one by one instead"
	case st == http.StatusForbidden && derr != nil:
		e.Kind, e.Message = KindGeoBlocked, "Bakong refused this machine: the Open API only answers requests from Cambodian IP addresses; run khqrbot on a server in Cambodia, or set BAKONG_PROXY_URL to an HTTP proxy there"
	case st == http.StatusTooManyRequests:
		e.Kind, e.Message = KindRateLimited, detail("rate limited")
		e.RetryAfter = retryAfter(resp.Header.Get("Retry-After"), c.now())
	case st >= 500:
		e.Kind, e.Message = KindUnavailable, detail("server error")
	case st < 200 || st > 299:
		e.Kind, e.Message = KindAPI, detail("unexpected HTTP status")
		if st == http.StatusNotFound && derr != nil {
			e.Message = "no such endpoint (HTTP 404): is the base URL right?"
		}
	case errors.Is(derr, errNotJSON):
		e.Kind, e.Message = KindUnavailable, "answer is not JSON"
	case derr != nil:
		e.Kind, e.Message, e.Err = KindBadResponse, "answer breaks the contract", derr
	case a.responseCode < 0:
		e.Kind, e.Message = KindBadResponse, "answer has no responseCode"
	case a.responseCode == 0:
		return a, nil
	case a.errorCode == 9:
		e.Kind, e.Message = KindUnavailable, detail("Bakong cannot reach its backend")
	default:
		e.Kind, e.Message = KindAPI, a.message
		if e.Message == "" {
			e.Message = fmt.Sprintf("refused (responseCode %d)", a.responseCode)
		}
	}
	return a, e
}

// retryAfter reads Retry-After as seconds or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil {
		if n < 0 {
			return 0
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// requestID is a random 16-hex-digit id for X-Request-ID.
func requestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// redacted is an error whose text has the token scrubbed; Unwrap keeps the
// cause for errors.Is (timeouts, cancellation).
type redacted struct {
	msg string
	err error
}

// Error returns the scrubbed text.
func (r *redacted) Error() string { return r.msg }

// Unwrap returns the cause, for errors.Is.
func (r *redacted) Unwrap() error { return r.err }

func redact(err error, tok string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if tok != "" {
		msg = strings.ReplaceAll(msg, tok, "[token]")
	}
	return &redacted{msg: msg, err: err}
}
