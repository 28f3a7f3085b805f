package bot

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/go-telegram/bot/models"
	"golang.org/x/net/netutil"

	"github.com/khqrbot/khqrbot/payments"
)

// maxUpdate bounds a webhook body; Telegram's updates are far smaller.
const maxUpdate = 1 << 20

// Handler serves GET /healthz, /metrics when Config.Metrics is set and, in
// webhook mode, Telegram's updates at the path of WebhookURL.
func (b *Bot) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", b.health)
	if b.cfg.Metrics != nil {
		mux.Handle("/metrics", b.cfg.Metrics)
	}
	if b.cfg.WebhookURL != "" {
		mux.HandleFunc(webhookPath(b.cfg.WebhookURL), b.webhook)
	}
	return mux
}

// webhookPath is the path of the webhook URL Telegram posts to.
func webhookPath(webhookURL string) string {
	if u, err := url.Parse(webhookURL); err == nil && u.Path != "" {
		return u.Path
	}
	return "/"
}

// webhook checks a Telegram update post (POST only, the secret token in
// constant time, a JSON update), stores the update in the inbox and queues
// it (take), and only then answers 200: an update Telegram was told it
// delivered is in the database. One that cannot be stored gets 503, and
// Telegram posts it again. The library's handler would answer 200 to all
// of these, before the update is handled.
func (b *Bot) webhook(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	got := r.Header.Get("X-Telegram-Bot-Api-Secret-Token")
	if subtle.ConstantTimeCompare([]byte(got), []byte(b.cfg.WebhookSecret)) != 1 {
		if ok, left := b.badSecrets.allow(b.clock.Now()); ok {
			b.log.Warn("webhook: wrong secret token", "remote", r.RemoteAddr, "not_logged_since_last", left)
		}
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxUpdate+1))
	if err != nil || len(body) > maxUpdate {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	u, s, err := decode(body)
	if err != nil {
		http.Error(w, "bad request: want a JSON update with an update_id", http.StatusBadRequest)
		return
	}
	if err := b.take(r.Context(), []*models.Update{u}, []payments.Update{s}); err != nil {
		b.log.Warn("webhook: cannot store an update; Telegram will post it again", "update", u.ID, "err", err)
		http.Error(w, "cannot store the update now; try again", http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// badSecretEvery is how often a wrong webhook secret is logged at most: a
// flood of forged posts must not flood the logs.
const badSecretEvery = time.Minute

// sampler lets one event in per interval and counts those it left out.
type sampler struct {
	mu      sync.Mutex
	next    time.Time
	dropped int
}

// allow reports whether the event at now may be logged and, if so, how
// many were left out since the last one.
func (s *sampler) allow(now time.Time) (bool, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if now.Before(s.next) {
		s.dropped++
		return false, 0
	}
	n := s.dropped
	s.next, s.dropped = now.Add(badSecretEvery), 0
	return true, n
}

// healthStatus is the /healthz answer.
type healthStatus struct {
	Status   string   `json:"status"`   // "ok" or "degraded"
	Database string   `json:"database"` // "ok" or the error
	LastTick *float64 `json:"reconciler_last_tick_age_seconds,omitempty"`
	Sandbox  bool     `json:"sandbox"`
	Mode     string   `json:"mode"` // "polling" or "webhook"

	// Replicas: this one's name and role ("poller", "standby" or
	// "webhook"), whether the leases it acts on are current, and which
	// replica polls Telegram ("" when none does right now).
	Replica      string `json:"replica"`
	Role         string `json:"role"`
	LeaseCurrent bool   `json:"leases_current"`
	Poller       string `json:"poller,omitempty"`
	LeaseError   string `json:"lease_error,omitempty"`
}

// health answers 200 with the status when the database answers, 503 otherwise.
func (b *Bot) health(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	st := healthStatus{Status: "ok", Database: "ok", Sandbox: b.cfg.Sandbox, Mode: "polling"}
	if b.cfg.WebhookURL != "" {
		st.Mode = "webhook"
	}
	code := http.StatusOK
	if err := b.cfg.Service.Ping(ctx); err != nil {
		st.Status, st.Database, code = "degraded", err.Error(), http.StatusServiceUnavailable
	}
	st.Replica, st.Role = b.cfg.Replica, b.replica.roleName()
	st.LeaseCurrent = b.replica.leaseCurrent(time.Now())
	if e, _ := b.replica.renewErr.Load().(string); e != "" && st.Role == rolePoller {
		st.LeaseError = e
	}
	if !st.LeaseCurrent && code == http.StatusOK {
		st.Status = "degraded"
	}
	if st.Mode == "polling" && code == http.StatusOK {
		if p, err := b.cfg.Service.LeaseHolder(ctx, payments.PollerLease); err == nil {
			st.Poller = p
		}
	}
	if b.cfg.LastTick != nil {
		if t := b.cfg.LastTick(); !t.IsZero() {
			age := b.clock.Now().Sub(t).Seconds()
			st.LastTick = &age
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(st)
}

// withDefaults fills l's zero fields with the defaults.
func (l HTTPLimits) withDefaults() HTTPLimits {
	if l.ReadTimeout <= 0 {
		l.ReadTimeout = defaultHTTPRead
	}
	if l.WriteTimeout <= 0 {
		l.WriteTimeout = defaultHTTPWrite
	}
	if l.IdleTimeout <= 0 {
		l.IdleTimeout = defaultHTTPIdle
	}
	if l.MaxConns <= 0 {
		l.MaxConns = defaultHTTPConns
	}
	return l
}

// Server is an http.Server for h within l (zero fields take the defaults),
// with ln capped at l.MaxConns: every server khqrbot opens to the network
// (the webhook and /healthz, or /metrics alone) holds the same bounds.
func (l HTTPLimits) Server(h http.Handler, ln net.Listener) (*http.Server, net.Listener) {
	l = l.withDefaults()
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: min(10*time.Second, l.ReadTimeout),
		ReadTimeout:       l.ReadTimeout,
		WriteTimeout:      l.WriteTimeout,
		IdleTimeout:       l.IdleTimeout,
	}, netutil.LimitListener(ln, l.MaxConns)
}

// serveHTTP serves Handler on the configured listener, if any, until ctx
// is done; the server's goroutines join wg. served is closed once the
// server has shut down (at once when there is none).
func (b *Bot) serveHTTP(ctx context.Context, wg *sync.WaitGroup) (served <-chan struct{}, err error) {
	done := make(chan struct{})
	if b.cfg.Listener == nil && b.cfg.ListenAddr == "" {
		close(done)
		return done, nil
	}
	ln := b.cfg.Listener
	if ln == nil {
		if ln, err = net.Listen("tcp", b.cfg.ListenAddr); err != nil {
			return nil, fmt.Errorf("listen on %s: %w", b.cfg.ListenAddr, err)
		}
	}
	srv, ln := b.cfg.HTTP.Server(b.Handler(), ln)
	wg.Go(func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			b.log.Error("http server", "addr", ln.Addr().String(), "err", err)
		}
	})
	// On shutdown, stop taking webhook posts first; handlers then drain.
	wg.Go(func() {
		defer close(done)
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	})
	b.log.Info("http server", "addr", ln.Addr().String(), "webhook", b.cfg.WebhookURL != "")
	return done, nil
}
