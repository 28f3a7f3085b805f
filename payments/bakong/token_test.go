package bakong

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// jwt builds an unsigned-looking token with the given payload.
func jwt(payload string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + enc([]byte(payload)) + ".c2lnbmF0dXJl"
}

func jwtExp(exp time.Time) string {
	return jwt(fmt.Sprintf(`{"data":{"id":"0123456789abcdef"},"iat":%d,"exp":%d}`, exp.Add(-90*24*time.Hour).Unix(), exp.Unix()))
}

func TestDecodeExpiry(t *testing.T) {
	tests := []struct {
		name  string
		token string
		want  int64
		err   bool
	}{
		{"today's payload", jwt(`{"data":{"id":"0123456789abcdef"},"iat":1700000000,"exp":1707776000}`), 1707776000, false},
		{"2021 order", jwt(`{"exp":1644994282,"iat":1636954282,"data":{"id":"x"}}`), 1644994282, false},
		{"float exp", jwt(`{"exp":1707776000.0}`), 1707776000, false},
		{"padded", strings.Replace(jwt(`{"exp":1707776000}`), ".c2ln", "=.c2ln", 1), 1707776000, false},
		{"doc sample", "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJleHAiOjE3NjcyMjU2MDB9.c2ln", 1767225600, false},
		{"no exp", jwt(`{"iat":1}`), 0, true},
		{"string exp", jwt(`{"exp":"soon"}`), 0, true},
		{"negative exp", jwt(`{"exp":-5}`), 0, true},
		{"huge exp", jwt(`{"exp":1e300}`), 0, true},
		{"two parts", "abc.def", 0, true},
		{"not base64", "a.!!!.c", 0, true},
		{"not JSON", "a." + base64.RawURLEncoding.EncodeToString([]byte("hello")) + ".c", 0, true},
		{"empty", "", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeExpiry(tt.token)
			if tt.err {
				if err == nil {
					t.Fatalf("got %v, want error", got)
				}
				if tt.token != "" && strings.Contains(err.Error(), tt.token) {
					t.Fatal("error quotes the token")
				}
				return
			}
			if err != nil || got.Unix() != tt.want {
				t.Fatalf("got %v (%d), %v; want %d", got, got.Unix(), err, tt.want)
			}
		})
	}
}

func FuzzDecodeExpiry(f *testing.F) {
	f.Add(jwt(`{"exp":1707776000}`))
	f.Add("a.b.c")
	f.Add(jwt(`{"exp":1.7e9}`))
	f.Fuzz(func(t *testing.T, tok string) {
		exp, err := DecodeExpiry(tok)
		if err == nil && exp.Unix() < 0 {
			t.Fatalf("negative exp from %q", tok)
		}
		if err != nil && len(tok) > 8 && strings.Contains(err.Error(), tok) {
			t.Fatal("error quotes the token")
		}
	})
}

// clock is a settable fake clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// renewer hands out tokens expiring 90 days after its clock, or fails.
type renewer struct {
	clk   *clock
	calls atomic.Int32
	fail  error
}

func (r *renewer) RenewToken(_ context.Context, email string) (string, error) {
	n := r.calls.Add(1)
	if r.fail != nil {
		return "", r.fail
	}
	return jwt(fmt.Sprintf(`{"n":%d,"exp":%d}`, n, r.clk.now().Add(90*24*time.Hour).Unix())), nil
}

// memStore is a TokenStore in memory.
type memStore struct {
	mu      sync.Mutex
	tok     string
	saves   int
	failErr error
}

func (s *memStore) LoadToken(context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tok, nil
}

func (s *memStore) SaveToken(_ context.Context, tok string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failErr != nil {
		return s.failErr
	}
	s.tok, s.saves = tok, s.saves+1
	return nil
}

func TestTokenPick(t *testing.T) {
	early, late := jwtExp(now.Add(time.Hour)), jwtExp(now.Add(48*time.Hour))
	tests := []struct {
		name, config, stored, want string
		source                     TokenOrigin
	}{
		{"config only", early, "", early, "config"},
		{"store only", "", late, late, "store"},
		{"store later", early, late, late, "store"},
		{"config later", late, early, late, "config"},
		{"same", early, early, early, "config"},
		{"unreadable stored", early, "junk", early, "config"},
		{"none", "", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := NewTokenManager(ctx, TokenConfig{Token: tt.config, Store: &memStore{tok: tt.stored}, Clock: func() time.Time { return now }})
			if err != nil {
				t.Fatal(err)
			}
			if m.tok != tt.want || m.Status().Source != tt.source {
				t.Fatalf("picked %q from %q", m.tok, m.Status().Source)
			}
		})
	}
}

func TestProactiveRenew(t *testing.T) {
	clk := &clock{t: now}
	r := &renewer{clk: clk}
	st := &memStore{}
	first := jwtExp(now.Add(30 * 24 * time.Hour))
	m, err := NewTokenManager(ctx, TokenConfig{Token: first, Email: "me@shop.kh", Store: st, Renewer: r, Clock: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	s := m.Status()
	if s.DaysLeft != 30 || s.Expired || !s.Renewable || !s.RenewAt.Equal(now.Add(23*24*time.Hour)) || s.Source != "config" {
		t.Fatalf("status %+v", s)
	}
	if !strings.Contains(s.String(), "in 30 days") || !strings.Contains(s.String(), "renewed automatically from") {
		t.Fatalf("status text %q", s)
	}

	clk.add(22 * 24 * time.Hour) // 8 days left: not due
	if tok, _ := m.Token(ctx); tok != first || r.calls.Load() != 0 {
		t.Fatalf("renewed too early (%d calls)", r.calls.Load())
	}
	clk.add(2 * 24 * time.Hour) // 6 days left: due
	tok, err := m.Token(ctx)
	if err != nil || tok == first || r.calls.Load() != 1 {
		t.Fatalf("token %q, %v, %d renewals", tok, err, r.calls.Load())
	}
	if st.tok != tok || st.saves != 1 {
		t.Fatalf("store holds %q after %d saves", st.tok, st.saves)
	}
	s = m.Status()
	if s.Source != "renewed" || s.DaysLeft != 90 || !s.LastRenewAt.Equal(clk.now()) || s.LastRenewError != "" {
		t.Fatalf("status after renewal %+v", s)
	}
	if again, _ := m.Token(ctx); again != tok || r.calls.Load() != 1 {
		t.Fatal("renewed twice")
	}
}

func TestProactiveRenewFailure(t *testing.T) {
	clk := &clock{t: now}
	r := &renewer{clk: clk, fail: &Error{Kind: KindAPI, Endpoint: "renew_token", ErrorCode: 10, Message: "Not registered yet"}}
	first := jwtExp(now.Add(2 * 24 * time.Hour))
	m, _ := NewTokenManager(ctx, TokenConfig{Token: first, Email: "me@shop.kh", Renewer: r, Clock: clk.now})
	for range 3 {
		if tok, err := m.Token(ctx); tok != first || err != nil {
			t.Fatalf("a failed renewal must keep the valid token: %q %v", tok, err)
		}
	}
	if r.calls.Load() != 1 {
		t.Fatalf("%d renewals, want 1 per hour", r.calls.Load())
	}
	if s := m.Status(); !strings.Contains(s.LastRenewError, "Not registered yet") || !strings.Contains(s.String(), "last renewal") {
		t.Fatalf("status %+v", s)
	}
	clk.add(time.Hour)
	m.Token(ctx)
	if r.calls.Load() != 2 {
		t.Fatalf("%d renewals after an hour, want 2", r.calls.Load())
	}
}

func TestTokenWithoutEmail(t *testing.T) {
	m, _ := NewTokenManager(ctx, TokenConfig{Token: jwtExp(now.Add(-36 * time.Hour)), Clock: func() time.Time { return now }})
	s := m.Status()
	if s.Renewable || !s.Expired || s.DaysLeft != -2 || !s.RenewAt.IsZero() {
		t.Fatalf("status %+v", s)
	}
	if !strings.Contains(s.String(), "renewal not possible") || !strings.Contains(s.String(), "EXPIRED") {
		t.Fatalf("status text %q", s)
	}
	if _, err := m.Renew(ctx, m.tok); err == nil || !strings.Contains(err.Error(), "renewal not possible") {
		t.Fatalf("renew: %v", err)
	}
	empty, _ := NewTokenManager(ctx, TokenConfig{})
	if _, err := empty.Token(ctx); err == nil {
		t.Fatal("no token and no email must be an error")
	}
	if s := empty.Status(); s.Present || !strings.Contains(s.String(), "renewal not possible") {
		t.Fatalf("empty status %+v %q", s, s)
	}
}

func TestTokenFromEmailOnly(t *testing.T) {
	clk := &clock{t: now}
	r := &renewer{clk: clk}
	m, _ := NewTokenManager(ctx, TokenConfig{Email: "me@shop.kh", Renewer: r, Clock: clk.now})
	if !strings.Contains(m.Status().String(), "requested by renewal") {
		t.Fatal(m.Status().String())
	}
	tok, err := m.Token(ctx)
	if err != nil || tok == "" || r.calls.Load() != 1 {
		t.Fatalf("%q %v %d", tok, err, r.calls.Load())
	}
	r2 := &renewer{clk: clk, fail: errors.New("down")}
	m2, _ := NewTokenManager(ctx, TokenConfig{Email: "me@shop.kh", Renewer: r2, Clock: clk.now})
	if _, err := m2.Token(ctx); err == nil || !strings.Contains(err.Error(), "down") {
		t.Fatalf("err = %v", err)
	}
	if _, err := m2.Token(ctx); err == nil || r2.calls.Load() != 1 {
		t.Fatalf("retried within a minute: %v, %d calls", err, r2.calls.Load())
	}
}

func TestSaveFailure(t *testing.T) {
	clk := &clock{t: now}
	m, _ := NewTokenManager(ctx, TokenConfig{Email: "me@shop.kh", Renewer: &renewer{clk: clk}, Store: &memStore{failErr: errors.New("disk full")}, Clock: clk.now})
	if tok, err := m.Token(ctx); tok == "" || err != nil {
		t.Fatalf("%q %v", tok, err)
	}
	if s := m.Status(); !strings.Contains(s.LastRenewError, "disk full") {
		t.Fatalf("status %+v", s)
	}
}

// authServer answers check_transaction_by_md5 with 401 unless the current
// token is presented, and renews by issuing a new token. Renewal waits until
// hold callers have been refused, so all of them race on the stale token.
type authServer struct {
	mu       sync.Mutex
	current  string
	refused  int
	hold     int
	released chan struct{}
	renews   atomic.Int32
	renew    string // canned renew body, when set
}

func (s *authServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/v1/check_transaction_by_md5":
		s.mu.Lock()
		okTok := r.Header.Get("Authorization") == "Bearer "+s.current
		if !okTok {
			s.refused++
			if s.refused == s.hold {
				close(s.released)
			}
		}
		s.mu.Unlock()
		if !okTok {
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, doc401)
			return
		}
		io.WriteString(w, docPaid)
	case "/v1/renew_token":
		s.renews.Add(1)
		if s.renew != "" {
			io.WriteString(w, s.renew)
			return
		}
		select {
		case <-s.released:
		case <-r.Context().Done():
			return
		}
		s.mu.Lock()
		s.current = jwtExp(now.Add(90 * 24 * time.Hour))
		tok := s.current
		s.mu.Unlock()
		io.WriteString(w, ok(`{"token":"`+tok+`"}`))
	default:
		http.NotFound(w, r)
	}
}

func TestConcurrent401RenewsOnce(t *testing.T) {
	const n = 100
	as := &authServer{current: "not-yet", hold: n, released: make(chan struct{})}
	srv := httptest.NewServer(as)
	defer srv.Close()
	base := newClient(t, srv.URL, Options{})
	st := &memStore{}
	m, err := NewTokenManager(ctx, TokenConfig{Token: jwtExp(now.Add(30 * 24 * time.Hour)), Email: "me@shop.kh", Store: st, Renewer: base, Clock: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	c := base.WithTokens(m)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			if _, err := c.CheckMD5(ctx, md5A); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := as.renews.Load(); got != 1 {
		t.Fatalf("%d renew calls, want 1", got)
	}
	if st.saves != 1 || st.tok != as.current {
		t.Fatalf("store: %d saves", st.saves)
	}
}

func Test401Paths(t *testing.T) {
	tests := []struct {
		name    string
		email   string
		renew   string
		want    string
		renews  int32
		tokKind Kind
	}{
		{"no email", "", "", "renewal not possible", 0, KindUnauthorized},
		{"email unknown to Bakong", "me@shop.kh", docNotRegistered, "Not registered yet", 1, KindUnauthorized},
		{"renew answers a stale token", "me@shop.kh", ok(`{"token":"same"}`), "unauthorized", 1, KindUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			as := &authServer{current: "valid", renew: tt.renew}
			srv := httptest.NewServer(as)
			defer srv.Close()
			base := newClient(t, srv.URL, Options{})
			m, _ := NewTokenManager(ctx, TokenConfig{Token: "same", Email: tt.email, Renewer: base, Clock: func() time.Time { return now }})
			_, err := base.WithTokens(m).CheckMD5(ctx, md5A)
			if !IsKind(err, tt.tokKind) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v", err)
			}
			if as.renews.Load() != tt.renews {
				t.Fatalf("%d renewals", as.renews.Load())
			}
			if strings.Contains(err.Error(), "Bearer") {
				t.Fatal("error mentions the header")
			}
		})
	}
}

func TestStaticToken(t *testing.T) {
	as := &authServer{current: "valid"}
	srv := httptest.NewServer(as)
	defer srv.Close()
	c := newClient(t, srv.URL, Options{Tokens: StaticToken("valid")})
	if _, err := c.CheckMD5(ctx, md5A); err != nil {
		t.Fatal(err)
	}
	c = newClient(t, srv.URL, Options{Tokens: StaticToken("old")})
	if _, err := c.CheckMD5(ctx, md5A); !IsKind(err, KindUnauthorized) || as.renews.Load() != 0 || strings.Contains(err.Error(), "renew") {
		t.Fatalf("err = %v", err)
	}
}

// sharedStore is one database's token and renewal lock, shared by the
// TokenManagers of several processes.
type sharedStore struct {
	mu     sync.Mutex
	tok    string
	locked bool
}

func (s *sharedStore) LoadToken(context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tok, nil
}

func (s *sharedStore) SaveToken(_ context.Context, tok string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tok = tok
	return nil
}

func (s *sharedStore) TryLockRenewal(context.Context) (func(), bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.locked {
		return nil, false, nil
	}
	s.locked = true
	return func() { s.mu.Lock(); s.locked = false; s.mu.Unlock() }, true, nil
}

// slowRenewer counts renew_token calls, each taking a while.
type slowRenewer struct {
	calls atomic.Int32
	tok   string
}

func (r *slowRenewer) RenewToken(context.Context, string) (string, error) {
	r.calls.Add(1)
	time.Sleep(50 * time.Millisecond)
	return r.tok, nil
}

// TestRenewOncePerDeployment: three processes sharing a store and its lock
// reach the renewal window together; one renews, every one uses the new token.
func TestRenewOncePerDeployment(t *testing.T) {
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	old, fresh := jwtExp(now.Add(24*time.Hour)), jwtExp(now.Add(90*24*time.Hour))
	store := &sharedStore{}
	r := &slowRenewer{tok: fresh}
	var ms []*TokenManager
	for range 3 {
		m, err := NewTokenManager(context.Background(), TokenConfig{
			Token: old, Email: "dev@shop.example", Store: store, Lock: store, Renewer: r,
			Clock: func() time.Time { return now },
		})
		if err != nil {
			t.Fatal(err)
		}
		ms = append(ms, m)
	}
	var wg sync.WaitGroup
	got := make([]string, len(ms))
	for i, m := range ms {
		wg.Go(func() {
			tok, err := m.Token(context.Background())
			if err != nil {
				t.Error(err)
			}
			got[i] = tok
		})
	}
	wg.Wait()
	if n := r.calls.Load(); n != 1 {
		t.Errorf("renew_token called %d times by 3 processes, want 1", n)
	}
	for i, tok := range got {
		if tok != fresh {
			t.Errorf("process %d uses the old token", i)
		}
	}
	// A 401 on a process still holding the old token picks up the stored one.
	late, _ := NewTokenManager(context.Background(), TokenConfig{Token: old, Email: "dev@shop.example", Renewer: r, Clock: func() time.Time { return now }})
	late.store, late.lock = store, store
	if tok, err := late.Renew(context.Background(), old); err != nil || tok != fresh || r.calls.Load() != 1 {
		t.Errorf("Renew after a 401 = %v (fresh %v), renew_token calls %d; want the stored token and no call", err, tok == fresh, r.calls.Load())
	}
}
