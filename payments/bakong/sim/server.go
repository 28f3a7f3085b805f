package sim

import (
	"bytes"
	crand "crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/khqrbot/khqrbot/payments/bakong"
)

// DefaultTokenLifetime is how long Bakong's tokens live: exp - iat of real tokens.
const DefaultTokenLifetime = 90 * 24 * time.Hour

// maxCalls bounds the call record of a long-running simulator: when full, the
// older half goes.
const maxCalls = 10_000

// maxBody bounds request bodies; 50 hashes take about 3.5 kB.
const maxBody = 1 << 20

// Options configure a Server. The zero value is a working simulator.
type Options struct {
	Clock               func() time.Time // nil = time.Now; decides token expiry and payment times
	TokenLifetime       time.Duration    // 0 = DefaultTokenLifetime
	Accounts            []string         // accounts that exist besides the receivers of registered QRs
	RenewInvalidatesOld bool             // renew_token revokes the email's older tokens
	Secret              []byte           // HS256 key; nil = random, so tokens die with the Server
	Rand                io.Reader        // source of hashes, links, codes and token ids; nil = crypto/rand
	Log                 *slog.Logger     // one line per API call; nil = silent
}

// RecordedCall is one call of the Open API as the simulator saw it, for tests
// to assert what a client sent and what it got.
type RecordedCall struct {
	Endpoint     string    `json:"endpoint"` // path without /v1/; "" for unknown paths
	Method       string    `json:"method"`
	Path         string    `json:"path"`
	HTTPStatus   int       `json:"httpStatus"`   // 0 when the client gave up before the answer
	ResponseCode int       `json:"responseCode"` // -1 when the answer was not a JSON envelope
	ErrorCode    int       `json:"errorCode"`    // 0 when none
	RequestID    string    `json:"requestId"`    // the X-Request-ID header
	UserAgent    string    `json:"userAgent"`
	Authorized   bool      `json:"authorized"` // a valid bearer token came with the call
	At           time.Time `json:"at"`         // by the simulator's clock
	Body         string    `json:"body"`       // the request body
}

// Server simulates the Bakong Open API. It is an http.Handler serving /v1/ and
// the control API under /_sim/, and is safe for concurrent use.
type Server struct {
	clock        func() time.Time
	lifetime     time.Duration
	renewRevokes bool
	secret       []byte
	log          *slog.Logger

	mu            sync.Mutex
	rand          io.Reader
	seq           uint64
	accounts      map[string]bool
	emails        map[string]bool   // registered
	codes         map[string]string // email -> last code sent
	pending       map[string]string // unused code -> email
	tokens        map[string]string // token id -> email
	revoked       map[string]bool   // token ids
	qrs           map[string]*qrState
	byHash        map[string]*bakong.Transaction
	byShort       map[string]*bakong.Transaction
	byExternal    map[string]*bakong.Transaction
	byInstruction map[string]*bakong.Transaction
	links         map[string]string // deeplink -> the KHQR it opens
	faults        map[string]*faultState
	calls         []RecordedCall
}

// New returns a simulator with no QRs, payments or faults.
func New(o Options) *Server {
	s := &Server{
		clock:         o.Clock,
		lifetime:      o.TokenLifetime,
		renewRevokes:  o.RenewInvalidatesOld,
		secret:        append([]byte(nil), o.Secret...),
		log:           o.Log,
		rand:          o.Rand,
		accounts:      map[string]bool{},
		emails:        map[string]bool{},
		codes:         map[string]string{},
		pending:       map[string]string{},
		tokens:        map[string]string{},
		revoked:       map[string]bool{},
		qrs:           map[string]*qrState{},
		byHash:        map[string]*bakong.Transaction{},
		byShort:       map[string]*bakong.Transaction{},
		byExternal:    map[string]*bakong.Transaction{},
		byInstruction: map[string]*bakong.Transaction{},
		links:         map[string]string{},
		faults:        map[string]*faultState{},
	}
	if s.clock == nil {
		s.clock = time.Now
	}
	if s.lifetime <= 0 {
		s.lifetime = DefaultTokenLifetime
	}
	if s.rand == nil {
		s.rand = crand.Reader
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if len(s.secret) == 0 {
		s.secret = make([]byte, 32)
		s.random(s.secret)
	}
	for _, a := range o.Accounts {
		s.accounts[a] = true
	}
	return s
}

// random fills b from the configured source, falling back to crypto/rand when
// a finite test source runs dry.
func (s *Server) random(b []byte) {
	if _, err := io.ReadFull(s.rand, b); err != nil {
		crand.Read(b)
	}
}

// fresh returns 32 bytes that differ on every call, even from a poor Rand.
func (s *Server) fresh() [32]byte {
	var b [24]byte
	s.random(b[:16])
	s.seq++
	binary.BigEndian.PutUint64(b[16:], s.seq)
	return sha256.Sum256(b[:])
}

// Calls returns the API calls recorded so far, oldest first (at most the
// latest 10,000).
func (s *Server) Calls() []RecordedCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]RecordedCall(nil), s.calls...)
}

// ResetCalls forgets the recorded calls.
func (s *Server) ResetCalls() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = nil
}

// ServeHTTP answers the Open API under /v1/ and the control API under /_sim/.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/_sim/") {
		s.control(w, r)
		return
	}
	c := RecordedCall{
		Method:    r.Method,
		Path:      r.URL.Path,
		RequestID: r.Header.Get("X-Request-ID"),
		UserAgent: r.Header.Get("User-Agent"),
		At:        s.now(),
	}
	body, readErr := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	c.Body = string(body)
	ep, known := endpoints[r.URL.Path]
	if !known {
		s.finish(w, &c, page(http.StatusNotFound))
		return
	}
	c.Endpoint = ep.name
	if r.Method != http.MethodPost {
		rep := page(http.StatusMethodNotAllowed)
		rep.allow = true
		s.finish(w, &c, rep)
		return
	}
	var f Fault
	if hit := s.takeFault(ep.name); hit != nil {
		f = *hit
	}
	if f.Latency > 0 {
		t := time.NewTimer(f.Latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			c.ResponseCode = -1
			s.record(c)
			return
		}
	}
	if rep, stop := f.gateway(ep.list); stop {
		s.finish(w, &c, rep)
		return
	}
	if tok := bearer(r); tok != "" && !f.ExpireTokens {
		s.mu.Lock()
		c.Authorized = s.valid(tok)
		s.mu.Unlock()
	}
	switch {
	case ep.auth && !c.Authorized:
		s.finish(w, &c, unauthorized())
	case readErr != nil:
		s.finish(w, &c, failAt(http.StatusBadRequest, codeMissing))
	case !isJSON(r.Header.Get("Content-Type")):
		s.finish(w, &c, failAt(http.StatusUnsupportedMediaType, codeMissing))
	case f.ErrorCode != 0:
		s.finish(w, &c, fail(f.ErrorCode))
	default:
		s.mu.Lock()
		rep := ep.handle(s, body, f)
		s.mu.Unlock()
		s.finish(w, &c, rep)
	}
}

func (s *Server) now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.clock()
}

func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == "application/json"
}

// finish writes rep and records the call.
func (s *Server) finish(w http.ResponseWriter, c *RecordedCall, rep reply) {
	c.HTTPStatus = rep.status
	c.ResponseCode = -1
	h := w.Header()
	if rep.env != nil {
		c.ResponseCode = rep.env.ResponseCode
		if rep.env.ErrorCode != nil {
			c.ErrorCode = *rep.env.ErrorCode
		}
		h.Set("Content-Type", "application/json")
	} else {
		h.Set("Content-Type", "text/html")
	}
	if rep.retryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(rep.retryAfter))
	}
	if rep.allow {
		h.Set("Allow", http.MethodPost)
	}
	s.record(*c)
	w.WriteHeader(rep.status)
	if rep.env != nil {
		w.Write(mustJSON(rep.env))
		return
	}
	io.WriteString(w, rep.html)
}

func (s *Server) record(c RecordedCall) {
	s.mu.Lock()
	if len(s.calls) >= maxCalls {
		s.calls = append(s.calls[:0], s.calls[maxCalls/2:]...)
	}
	s.calls = append(s.calls, c)
	s.mu.Unlock()
	s.log.Info("bakong sim call", "endpoint", c.Endpoint, "path", c.Path, "status", c.HTTPStatus,
		"errorCode", c.ErrorCode, "authorized", c.Authorized, "request_id", c.RequestID)
}

// decodeBody reads a JSON request body into v. A body that is not JSON of the
// expected type is a bad request: HTTP 400 with errorCode 5.
func decodeBody(body []byte, v any) (reply, bool) {
	d := json.NewDecoder(bytes.NewReader(body))
	if err := d.Decode(v); err != nil {
		return failAt(http.StatusBadRequest, codeMissing), false
	}
	if _, err := d.Token(); !errors.Is(err, io.EOF) {
		return failAt(http.StatusBadRequest, codeMissing), false
	}
	return reply{}, true
}
