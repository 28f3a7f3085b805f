package bakong

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// TokenSource hands the Client the Bearer token for check calls. Renew is
// called after a 401 with the token that was refused (stale) and returns the
// token to retry with.
type TokenSource interface {
	Token(ctx context.Context) (string, error)
	Renew(ctx context.Context, stale string) (string, error)
}

// StaticToken is a fixed token that is never renewed; a 401 stays an error.
type StaticToken string

// Token returns the token; an empty one sends no Authorization header.
func (t StaticToken) Token(context.Context) (string, error) { return string(t), nil }

// Renew always fails: a fixed token is never renewed, so a 401 stays an error.
func (t StaticToken) Renew(context.Context, string) (string, error) {
	return "", errStatic
}

var errStatic = errors.New("a fixed token is not renewed")

var errNoEmail = errors.New("renewal not possible: no registered email configured (BAKONG_EMAIL)")

// TokenStore persists the current token across restarts, so a renewed token
// outlives the configured one. LoadToken returns "" when nothing is stored.
type TokenStore interface {
	LoadToken(ctx context.Context) (string, error)
	SaveToken(ctx context.Context, token string) error
}

// RenewLock keeps processes that share a TokenStore from renewing at the
// same time: the deployment renews once, and the others pick the renewed
// token up from the store.
type RenewLock interface {
	// TryLockRenewal takes the lock if it is free and reports whether it
	// did; unlock gives it back.
	TryLockRenewal(ctx context.Context) (unlock func(), ok bool, err error)
}

// While another process holds the RenewLock, a renewal looks in the store
// for the token it renews every lockPoll, up to lockTries times.
const (
	lockPoll  = time.Second
	lockTries = 30
)

// Renewer gets a new token for a registered email; *Client is one.
type Renewer interface {
	RenewToken(ctx context.Context, email string) (string, error)
}

// DefaultRenewAhead is how long before expiry a token is renewed.
const DefaultRenewAhead = 7 * 24 * time.Hour

// Pauses after renew attempts, so a failing renew_token (which may count
// against a quota) is not hammered: proactive renewals wait an hour after
// any attempt, renewals after a 401 a minute after a failed one.
const (
	proactivePause = time.Hour
	reactivePause  = time.Minute
)

// TokenConfig configures a TokenManager.
type TokenConfig struct {
	Token      string        // configured token (BAKONG_TOKEN); the stored one wins when it expires later
	Email      string        // registered email; empty: no renewal
	RenewAhead time.Duration // default DefaultRenewAhead
	Store      TokenStore    // optional; gets every renewed token
	Renewer    Renewer       // usually the *Client; nil: no renewal
	Lock       RenewLock     // optional, with Store: renew once for every process sharing the store
	Clock      func() time.Time
}

// TokenManager is a TokenSource that renews the token ahead of expiry and
// once after a 401, with one renew_token call however many callers hit the
// 401 together. It is safe for concurrent use.
type TokenManager struct {
	email   string
	ahead   time.Duration
	store   TokenStore
	renewer Renewer
	lock    RenewLock
	now     func() time.Time

	mu          sync.Mutex
	tok         string
	exp         time.Time // zero when unknown
	source      TokenOrigin
	flight      *flight
	lastAttempt time.Time
	failedAt    time.Time
	lastErr     error
	renewedAt   time.Time
}

// flight is one renew_token call that concurrent callers share.
type flight struct {
	done chan struct{}
	tok  string
	err  error
}

// NewTokenManager picks the current token from the configuration and the
// store (the one that expires later) and returns the manager.
func NewTokenManager(ctx context.Context, c TokenConfig) (*TokenManager, error) {
	m := &TokenManager{email: c.Email, ahead: c.RenewAhead, store: c.Store, renewer: c.Renewer, lock: c.Lock, now: c.Clock}
	if m.store == nil {
		m.lock = nil
	}
	if m.ahead <= 0 {
		m.ahead = DefaultRenewAhead
	}
	if m.now == nil {
		m.now = time.Now
	}
	m.tok, m.source = c.Token, FromConfig
	m.exp, _ = DecodeExpiry(c.Token)
	if c.Store != nil {
		stored, err := c.Store.LoadToken(ctx)
		if err != nil {
			return nil, fmt.Errorf("load bakong token: %w", err)
		}
		if exp, _ := DecodeExpiry(stored); stored != "" && stored != c.Token && (m.tok == "" || exp.After(m.exp)) {
			m.tok, m.exp, m.source = stored, exp, FromStore
		}
	}
	if m.tok == "" {
		m.source = ""
	}
	return m, nil
}

// Token returns the current token, renewing it first when it is due (within
// RenewAhead of expiry) and an email is set. A failed proactive renewal
// keeps the current token and is reported by Status.
func (m *TokenManager) Token(ctx context.Context) (string, error) {
	m.mu.Lock()
	tok, now := m.tok, m.now()
	due := tok == "" || (!m.exp.IsZero() && !now.Before(m.exp.Add(-m.ahead)))
	pause := proactivePause
	if tok == "" {
		pause = reactivePause
	}
	recent := !m.lastAttempt.IsZero() && now.Before(m.lastAttempt.Add(pause))
	if !due || !m.renewable() || (recent && m.flight == nil) {
		lastErr := m.lastErr
		m.mu.Unlock()
		if tok != "" {
			return tok, nil
		}
		if lastErr != nil {
			return "", fmt.Errorf("no token: %w", lastErr)
		}
		return "", errors.New("no token: set BAKONG_TOKEN, or BAKONG_EMAIL to get one by renewal")
	}
	f := m.join()
	m.mu.Unlock()
	fresh, err := m.wait(ctx, f)
	if err != nil && tok != "" {
		return tok, nil
	}
	return fresh, err
}

// Renew returns a token newer than stale: the current one if another caller
// already renewed, else the result of one shared renew_token call.
func (m *TokenManager) Renew(ctx context.Context, stale string) (string, error) {
	m.mu.Lock()
	if m.tok != "" && m.tok != stale {
		tok := m.tok
		m.mu.Unlock()
		return tok, nil
	}
	if !m.renewable() {
		m.mu.Unlock()
		return "", errNoEmail
	}
	if m.flight == nil && !m.failedAt.IsZero() && m.now().Before(m.failedAt.Add(reactivePause)) {
		err := m.lastErr
		m.mu.Unlock()
		return "", err
	}
	f := m.join()
	m.mu.Unlock()
	return m.wait(ctx, f)
}

func (m *TokenManager) renewable() bool { return m.email != "" && m.renewer != nil }

// join returns the renewal in flight or starts one. m.mu must be held.
func (m *TokenManager) join() *flight {
	if m.flight != nil {
		return m.flight
	}
	f := &flight{done: make(chan struct{})}
	m.flight = f
	m.lastAttempt = m.now()
	go m.renew(f)
	return f
}

// renew runs one renew_token call, or takes the token another process
// sharing the store renewed. It is detached from any caller's context so
// one caller giving up does not fail the others; the Client's timeout
// bounds it.
func (m *TokenManager) renew(f *flight) {
	ctx := context.Background()
	tok, source, unlock, err := m.fetch(ctx)
	var saveErr error
	if err == nil && source == Renewed && m.store != nil {
		if serr := m.store.SaveToken(ctx, tok); serr != nil {
			saveErr = fmt.Errorf("renewed, but saving the token failed: %w", serr)
		}
	}
	unlock()
	m.mu.Lock()
	if err != nil {
		err = fmt.Errorf("renew token: %w", err)
		m.failedAt, m.lastErr = m.now(), err
	} else {
		m.tok, m.source, m.renewedAt = tok, source, m.now()
		m.exp, _ = DecodeExpiry(tok)
		m.failedAt, m.lastErr = time.Time{}, saveErr
	}
	m.flight = nil
	m.mu.Unlock()
	f.tok, f.err = tok, err
	close(f.done)
}

// fetch gets a new token: from the store when another process sharing it
// renewed already (FromStore), else by renew_token (Renewed),
// holding the RenewLock, if any, until unlock is called: after the token
// is saved.
func (m *TokenManager) fetch(ctx context.Context) (tok string, source TokenOrigin, unlock func(), err error) {
	unlock = func() {}
	if m.lock == nil {
		tok, err = m.renewer.RenewToken(ctx, m.email)
		return tok, Renewed, unlock, err
	}
	for try := 1; ; try++ {
		if tok := m.newerStored(ctx); tok != "" {
			return tok, FromStore, unlock, nil
		}
		release, ok, err := m.lock.TryLockRenewal(ctx)
		if err != nil {
			return "", "", unlock, fmt.Errorf("renewal lock: %w", err)
		}
		if ok {
			if tok := m.newerStored(ctx); tok != "" {
				release()
				return tok, FromStore, unlock, nil
			}
			tok, err = m.renewer.RenewToken(ctx, m.email)
			return tok, Renewed, release, err
		}
		if try == lockTries {
			return "", "", unlock, errors.New("another process sharing the database is renewing the token and has not stored it yet")
		}
		t := time.NewTimer(lockPoll)
		select {
		case <-ctx.Done():
			t.Stop()
			return "", "", unlock, ctx.Err()
		case <-t.C:
		}
	}
}

// newerStored returns the stored token when it is not the one in use and
// expires later (or the one in use has no known expiry): another process
// renewed it. Failures to read count as nothing newer.
func (m *TokenManager) newerStored(ctx context.Context) string {
	stored, err := m.store.LoadToken(ctx)
	if err != nil || stored == "" {
		return ""
	}
	exp, _ := DecodeExpiry(stored)
	m.mu.Lock()
	defer m.mu.Unlock()
	if stored == m.tok || (!m.exp.IsZero() && !exp.After(m.exp)) {
		return ""
	}
	return stored
}

func (m *TokenManager) wait(ctx context.Context, f *flight) (string, error) {
	select {
	case <-f.done:
		return f.tok, f.err
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// TokenOrigin tells where the token in use came from.
type TokenOrigin string

// Token origins; "" is none.
const (
	FromConfig TokenOrigin = "config"  // the token configured (BAKONG_TOKEN)
	FromStore  TokenOrigin = "store"   // renewed by another process sharing the store
	Renewed    TokenOrigin = "renewed" // renewed by this process
)

// TokenStatus describes the current token for /token and doctor.
type TokenStatus struct {
	Present        bool
	ExpiresAt      time.Time // zero when the token has no readable exp
	DaysLeft       int       // whole days until ExpiresAt; negative once expired
	Expired        bool
	Renewable      bool      // an email is set, so renewal is possible
	RenewAt        time.Time // when proactive renewal starts; zero when not renewable
	Source         TokenOrigin
	LastRenewAt    time.Time // last successful renewal
	LastRenewError string    // last renewal or save failure, "" when the last one worked
}

// Status reports on the current token.
func (m *TokenManager) Status() TokenStatus {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := TokenStatus{
		Present:     m.tok != "",
		ExpiresAt:   m.exp,
		Renewable:   m.email != "",
		Source:      m.source,
		LastRenewAt: m.renewedAt,
	}
	if m.lastErr != nil {
		s.LastRenewError = m.lastErr.Error()
	}
	if !m.exp.IsZero() {
		left := m.exp.Sub(m.now())
		s.Expired = left <= 0
		s.DaysLeft = int(left / (24 * time.Hour))
		if left < 0 && left%(24*time.Hour) != 0 {
			s.DaysLeft--
		}
		if s.Renewable {
			s.RenewAt = m.exp.Add(-m.ahead)
		}
	}
	return s
}

// String is a one-line summary in English, e.g. "expires 2026-03-01 08:00 UTC
// (in 60 days); renewed automatically from 2026-02-22".
func (s TokenStatus) String() string {
	if !s.Present {
		if s.Renewable {
			return "no token yet; one will be requested by renewal"
		}
		return "no token; " + errNoEmail.Error()
	}
	var b strings.Builder
	switch {
	case s.ExpiresAt.IsZero():
		b.WriteString("expiry unknown (no exp in the token)")
	case s.Expired:
		fmt.Fprintf(&b, "EXPIRED %s (%d days ago)", s.ExpiresAt.UTC().Format("2006-01-02 15:04 MST"), -s.DaysLeft)
	default:
		fmt.Fprintf(&b, "expires %s (in %d days)", s.ExpiresAt.UTC().Format("2006-01-02 15:04 MST"), s.DaysLeft)
	}
	switch {
	case !s.Renewable:
		b.WriteString("; " + errNoEmail.Error())
	case !s.RenewAt.IsZero():
		fmt.Fprintf(&b, "; renewed automatically from %s", s.RenewAt.UTC().Format("2006-01-02"))
	default:
		b.WriteString("; renewed on 401")
	}
	if s.LastRenewError != "" {
		b.WriteString("; last renewal: " + s.LastRenewError)
	}
	return b.String()
}

// DecodeExpiry reads the exp claim of a JWT without verifying its signature
// (we do not hold NBC's key); it only tells when to renew. Errors never
// quote the token.
func DecodeExpiry(token string) (time.Time, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return time.Time{}, errors.New("token is not a JWT (want three dot-separated parts)")
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return time.Time{}, errors.New("token payload is not base64url")
	}
	var claims struct {
		Exp json.Number `json:"exp"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil {
		return time.Time{}, errors.New("token payload is not a JSON object with a numeric exp")
	}
	if claims.Exp == "" {
		return time.Time{}, errors.New("token has no exp")
	}
	sec, err := scaled(string(claims.Exp), 0, false)
	if err != nil || sec > 1<<40 {
		return time.Time{}, errors.New("token exp is not a valid time")
	}
	return time.Unix(sec, 0), nil
}
