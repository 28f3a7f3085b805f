package sim_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/khqrbot/khqrbot/payments/bakong/sim"
)

// TestJWT decodes tokens with the standard library only: HS256 over header and
// payload with the configured secret, exp = iat + the lifetime.
func TestJWT(t *testing.T) {
	secret := []byte("sim secret")
	tests := []struct {
		name     string
		lifetime time.Duration
		want     int64 // exp - iat, seconds
	}{
		{"default 90 days", 0, 7_776_000},
		{"one minute", time.Minute, 60},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, sim.Options{Secret: secret, TokenLifetime: tt.lifetime})
			parts := strings.Split(h.token, ".")
			if len(parts) != 3 {
				t.Fatalf("token %q: want 3 parts", h.token)
			}
			dec := func(s string, v any) {
				b, err := base64.RawURLEncoding.DecodeString(s)
				if err != nil {
					t.Fatalf("base64url %q: %v", s, err)
				}
				if err := json.Unmarshal(b, v); err != nil {
					t.Fatalf("%s: %v", b, err)
				}
			}
			var head map[string]string
			dec(parts[0], &head)
			if head["alg"] != "HS256" || head["typ"] != "JWT" || len(head) != 2 {
				t.Errorf("header %v", head)
			}
			var claims struct {
				Data struct{ ID string }
				IAT  int64 `json:"iat"`
				Exp  int64 `json:"exp"`
			}
			dec(parts[1], &claims)
			if claims.IAT != start.Unix() || claims.Exp-claims.IAT != tt.want {
				t.Errorf("iat %d exp %d, want iat %d and a lifetime of %d s", claims.IAT, claims.Exp, start.Unix(), tt.want)
			}
			if !regexp.MustCompile(`^[0-9a-f]{16}$`).MatchString(claims.Data.ID) {
				t.Errorf("data.id %q, want 16 hex", claims.Data.ID)
			}
			m := hmac.New(sha256.New, secret)
			m.Write([]byte(parts[0] + "." + parts[1]))
			if got := base64.RawURLEncoding.EncodeToString(m.Sum(nil)); got != parts[2] {
				t.Errorf("signature %s, want %s", parts[2], got)
			}
			if h.sim.IssueToken(email) == h.token {
				t.Error("two tokens alike")
			}
		})
	}
}

// TestConcurrent pays, checks, renews and fails at once; run it with -race.
func TestConcurrent(t *testing.T) {
	h := newHarness(t, sim.Options{RenewInvalidatesOld: true})
	h.sim.SetFault("check_transaction_by_hash", sim.Fault{Status: 503, Ratio: 0.5})
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			md5 := fmt.Sprintf("%032d", i)
			if _, err := h.sim.PayMD5(md5, sim.Payment{Amount: int64(i + 1), Currency: "USD", ToAccount: "a@b"}); err != nil {
				t.Error(err)
			}
			h.post("/v1/check_transaction_by_md5", true, `{"md5":"`+md5+`"}`)
			h.post("/v1/check_transaction_by_hash", true, `{"hash":"x"}`)
			h.post("/v1/renew_token", false, `{"email":"`+email+`"}`)
			h.sim.Fail(fmt.Sprintf("f%031d", i))
			h.sim.Calls()
		})
	}
	wg.Wait()
	if n := len(h.sim.Calls()); n != 24 {
		t.Errorf("%d calls recorded, want 24", n)
	}
}

// zeros is a Rand that always reads zeros.
type zeros struct{}

func (zeros) Read(b []byte) (int, error) {
	clear(b)
	return len(b), nil
}

// TestPoorRand checks that hashes, references, links and tokens stay unique
// even when Rand repeats itself.
func TestPoorRand(t *testing.T) {
	h := newHarness(t, sim.Options{Rand: zeros{}})
	a, b := h.pay(qrUSD1, sim.Payment{}), h.pay(qrKHR100, sim.Payment{})
	if a == b {
		t.Errorf("two payments with hash %s", a)
	}
	links := map[string]bool{}
	for range 3 {
		links[string(h.post("/v1/generate_deeplink_by_qr", false, `{"qr":"`+qrUSD1+`"}`).env(t).Data)] = true
	}
	if len(links) != 3 {
		t.Errorf("links %v", links)
	}
	if h.sim.IssueToken(email) == h.sim.IssueToken(email) {
		t.Error("two tokens alike")
	}
}
