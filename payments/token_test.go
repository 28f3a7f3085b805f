package payments_test

import (
	"context"
	"testing"
	"time"

	"github.com/khqrbot/khqrbot/payments"
	"github.com/khqrbot/khqrbot/payments/bakong"
)

const day = 24 * time.Hour

func live(h *harness) { h.cfg.Sandbox = false }

// tokenAlerts returns the token alerts waiting in the outbox.
func tokenAlerts(t *testing.T, h *harness) []payments.TokenAlert {
	t.Helper()
	evs, err := h.svc.Events(h.ctx, 100)
	if err != nil {
		t.Fatalf("Events: %v", err)
	}
	var got []payments.TokenAlert
	for _, e := range evs {
		if a, ok := e.TokenAlert(); ok {
			got = append(got, a)
		}
	}
	return got
}

func TestWarnTokenExpiry(t *testing.T) {
	type step struct {
		advance time.Duration // clock moves first
		st      func(now time.Time) bakong.TokenStatus
		warn    bool
	}
	manual := func(left time.Duration) func(time.Time) bakong.TokenStatus {
		return func(now time.Time) bakong.TokenStatus {
			return bakong.TokenStatus{Present: true, ExpiresAt: now.Add(left)}
		}
	}
	tests := []struct {
		name  string
		opts  []option
		steps []step
	}{
		{"8 days left", []option{live}, []step{{st: manual(8 * day), warn: false}}},
		{"6 days left, no email, once a day", []option{live}, []step{
			{st: manual(6 * day), warn: true},
			{advance: time.Hour, st: manual(6 * day), warn: false},
			{advance: day, st: manual(5 * day), warn: true},
		}},
		{"renewable", []option{live}, []step{{st: func(now time.Time) bakong.TokenStatus {
			return bakong.TokenStatus{Present: true, ExpiresAt: now.Add(2 * day), Renewable: true}
		}, warn: false}}},
		{"renewal failed", []option{live}, []step{{st: func(now time.Time) bakong.TokenStatus {
			return bakong.TokenStatus{Present: true, ExpiresAt: now.Add(2 * day), Renewable: true, LastRenewError: "unauthorized"}
		}, warn: true}}},
		{"expired", []option{live}, []step{{st: func(now time.Time) bakong.TokenStatus {
			return bakong.TokenStatus{Present: true, ExpiresAt: now.Add(-time.Hour), Expired: true, Renewable: true}
		}, warn: true}}},
		{"sandbox", nil, []step{{st: manual(time.Hour), warn: false}}},
		{"no token", []option{live}, []step{{st: func(time.Time) bakong.TokenStatus { return bakong.TokenStatus{} }, warn: false}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, tt.opts...)
			want := 0
			for i, s := range tt.steps {
				now := h.clk.Advance(s.advance)
				st := s.st(now)
				warned, err := h.svc.WarnTokenExpiry(h.ctx, st)
				if err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
				if warned != s.warn {
					t.Errorf("step %d: warned %v, want %v", i, warned, s.warn)
				}
				if s.warn {
					want++
				}
				got := tokenAlerts(t, h)
				if len(got) != want {
					t.Fatalf("step %d: %d token alerts, want %d", i, len(got), want)
				}
				if !s.warn {
					continue
				}
				a := got[len(got)-1]
				if !a.ExpiresAt.Equal(st.ExpiresAt.Truncate(time.Second)) || a.Expired != !st.ExpiresAt.After(now) {
					t.Errorf("step %d: alert %+v, want expiry %s", i, a, st.ExpiresAt)
				}
				if wantDays := int(st.ExpiresAt.Sub(now) / day); !a.Expired && a.DaysLeft != wantDays {
					t.Errorf("step %d: %d days left, want %d", i, a.DaysLeft, wantDays)
				}
			}
		})
	}
}

// A restart (another Service on the same database) does not warn again the same day.
func TestWarnTokenExpiryAcrossRestart(t *testing.T) {
	h := newHarness(t, live)
	st := bakong.TokenStatus{Present: true, ExpiresAt: h.clk.Now().Add(3 * day)}
	if warned, err := h.svc.WarnTokenExpiry(h.ctx, st); err != nil || !warned {
		t.Fatalf("first warning: %v, %v", warned, err)
	}
	again := h.start()
	if warned, err := again.svc.WarnTokenExpiry(h.ctx, st); err != nil || warned {
		t.Fatalf("after restart: warned %v, %v; want no warning", warned, err)
	}
}

func TestWatchTokenStopsWithContext(t *testing.T) {
	h := newHarness(t, live)
	ctx, cancel := context.WithCancel(h.ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.svc.WatchToken(ctx, time.Hour, func() bakong.TokenStatus {
			return bakong.TokenStatus{Present: true, ExpiresAt: h.clk.Now().Add(-day)}
		})
	}()
	<-h.svc.Wake() // the first check warned at once
	cancel()
	<-done
	if got := tokenAlerts(t, h); len(got) != 1 || !got[0].Expired {
		t.Errorf("token alerts %+v, want one expired", got)
	}
}

// TestTokenAlertEvent: a token alert travels in an event's typed fields,
// whatever its Detail says, and no other event is read as one.
func TestTokenAlertEvent(t *testing.T) {
	exp := time.Date(2026, 3, 8, 2, 0, 0, 0, time.UTC)
	for _, a := range []payments.TokenAlert{{ExpiresAt: exp, DaysLeft: 6}, {ExpiresAt: exp, Expired: true}} {
		e := a.Event(exp)
		e.Detail = "reworded"
		if got, ok := e.TokenAlert(); !ok || !got.ExpiresAt.Equal(a.ExpiresAt) || got.DaysLeft != a.DaysLeft || got.Expired != a.Expired {
			t.Errorf("TokenAlert of %+v = %+v, %v; want %+v", e, got, ok, a)
		}
	}
	for _, e := range []payments.Event{
		{Kind: payments.EventAlert, Alert: payments.AlertRecovered, Detail: "Bakong answers again"},
		{Kind: payments.EventAlert, Detail: "token_expiring 2026-03-08T02:00:00Z 6"},
		{Kind: payments.EventReview, Alert: payments.AlertTokenExpired, Expires: exp},
	} {
		if a, ok := e.TokenAlert(); ok {
			t.Errorf("TokenAlert of %+v = %+v, want not a token alert", e, a)
		}
	}
}
