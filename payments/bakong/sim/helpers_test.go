package sim_test

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/khqrbot/khqrbot/payments/bakong/sim"
)

// KHQR vectors made by the official SDK (payments/khqr/testdata/vectors.json),
// created at 2026-01-01T00:00:00Z and expiring 10 minutes later.
const (
	qrUSD1      = "00020101021229180014jonhsmith@nbcq520459995303840540115802KH5910Jonh Smith6010Phnom Penh993400131767225600000011317672262000006304CE01"
	md5USD1     = "b02e38f93509bc3f98802c0460df2510"
	qrUSD100_50 = "00020101021229180014jonhsmith@nbcq5204599953038405406100.505802KH5910Jonh Smith6010Phnom Penh9934001317672256000000113176722620000063045E99"
	qrUSD0_01   = "00020101021229180014jonhsmith@nbcq52045999530384054040.015802KH5910Jonh Smith6010Phnom Penh9934001317672256000000113176722620000063046138"
	qrKHR100    = "00020101021229180014jonhsmith@nbcq52045999530311654031005802KH5910Jonh Smith6010Phnom Penh9934001317672256000000113176722620000063046A13"
	md5KHR100   = "1079ee48b4d2c661ce3d7b9210ae9861"
	qrStatic    = "00020101021129180014jonhsmith@nbcq5204599953031165802KH5910Jonh Smith6010Phnom Penh6304856B"
	md5Static   = "cba0b1de19ac736653267fc127e08b92"
	receiver    = "jonhsmith@nbcq"
	email       = "merchant@example.com"
)

// start is the vectors' creation time.
var start = time.UnixMilli(1767225600000)

// clock is a settable clock for the simulator.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// harness is a simulator behind a real HTTP server, a clock and a token.
type harness struct {
	t     *testing.T
	sim   *sim.Server
	url   string
	clock *clock
	token string
}

func newHarness(t *testing.T, o sim.Options) *harness {
	t.Helper()
	c := &clock{now: start}
	o.Clock = c.Now
	if o.Rand == nil {
		o.Rand = rand.NewChaCha8([32]byte{7})
	}
	s := sim.New(o)
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return &harness{t: t, sim: s, url: ts.URL, clock: c, token: s.IssueToken(email)}
}

// answer is an HTTP answer of the simulator.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// env decodes the answer as the contract's envelope, failing the test when it
// does not have exactly the four keys.
func (a answer) env(t *testing.T) envelope {
	t.Helper()
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(a.body, &keys); err != nil {
		t.Fatalf("answer %d %q: not JSON: %v", a.status, a.body, err)
	}
	for _, k := range []string{"responseCode", "responseMessage", "errorCode", "data"} {
		if _, found := keys[k]; !found {
			t.Fatalf("answer %s: no key %q", a.body, k)
		}
	}
	if len(keys) != 4 {
		t.Fatalf("answer %s: want exactly 4 keys", a.body)
	}
	var e envelope
	if err := json.Unmarshal(a.body, &e); err != nil {
		t.Fatalf("answer %s: %v", a.body, err)
	}
	return e
}

type envelope struct {
	ResponseCode    int             `json:"responseCode"`
	ResponseMessage string          `json:"responseMessage"`
	ErrorCode       *int            `json:"errorCode"`
	Data            json.RawMessage `json:"data"`
}

func (e envelope) code() int {
	if e.ErrorCode == nil {
		return 0
	}
	return *e.ErrorCode
}

// post sends body to path with the harness token when auth is set.
func (h *harness) post(path string, auth bool, body string) answer {
	h.t.Helper()
	tok := ""
	if auth {
		tok = h.token
	}
	return h.do(http.MethodPost, path, tok, body)
}

func (h *harness) do(method, path, token, body string) answer {
	h.t.Helper()
	req, err := http.NewRequest(method, h.url+path, bytes.NewBufferString(body))
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "khqrbot-test")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: b}
}

// check posts a check with the token and returns its envelope, failing unless HTTP 200.
func (h *harness) check(path, body string) envelope {
	h.t.Helper()
	a := h.post(path, true, body)
	if a.status != http.StatusOK {
		h.t.Fatalf("%s %s: HTTP %d %s", path, body, a.status, a.body)
	}
	return a.env(h.t)
}

// pay pays qr with p, failing the test on error.
func (h *harness) pay(qr string, p sim.Payment) string {
	h.t.Helper()
	tx, err := h.sim.PayQR(qr, p)
	if err != nil {
		h.t.Fatal(err)
	}
	return tx.Hash
}

func js(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func md5Hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}
