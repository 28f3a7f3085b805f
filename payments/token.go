package payments

import (
	"context"
	"fmt"
	"time"

	"github.com/khqrbot/khqrbot/payments/bakong"
)

// TokenWarnAhead is how long before the Open API token expires the admins
// are warned, when nothing will renew it.
const TokenWarnAhead = 7 * 24 * time.Hour

// tokenWarnedKey is the setting holding the day (in Cambodia) of the last
// token warning, so that a restart does not warn twice the same day.
const tokenWarnedKey = "token.warned_on"

// TokenAlert is what an EventAlert about the Open API token says; it
// travels in the event's typed fields (Alert, Expires, DaysLeft), never in
// its text.
type TokenAlert struct {
	ExpiresAt time.Time
	DaysLeft  int  // whole days left when the alert was written; 0 once expired
	Expired   bool // the token no longer works
}

// String says the alert in English, for logs and Event.Detail.
func (a TokenAlert) String() string {
	day := a.ExpiresAt.In(Cambodia()).Format(time.DateOnly)
	if a.Expired {
		return "the Open API token expired on " + day
	}
	return fmt.Sprintf("the Open API token expires on %s (%d days left) and will not renew itself", day, a.DaysLeft)
}

// Event returns the EventAlert that carries a, written at `at`.
func (a TokenAlert) Event(at time.Time) *Event {
	e := &Event{Kind: EventAlert, Alert: AlertTokenExpiring, Expires: a.ExpiresAt, DaysLeft: a.DaysLeft, Detail: a.String(), CreatedAt: at}
	if a.Expired {
		e.Alert, e.DaysLeft = AlertTokenExpired, 0
	}
	return e
}

// TokenAlert returns the token alert e carries, and false when e is no
// token alert.
func (e Event) TokenAlert() (TokenAlert, bool) {
	if e.Kind != EventAlert {
		return TokenAlert{}, false
	}
	switch e.Alert {
	case AlertTokenExpired:
		return TokenAlert{ExpiresAt: e.Expires, Expired: true}, true
	case AlertTokenExpiring:
		return TokenAlert{ExpiresAt: e.Expires, DaysLeft: e.DaysLeft}, true
	}
	return TokenAlert{}, false
}

// WarnTokenExpiry writes one EventAlert when the Open API token st describes
// has expired, or expires within TokenWarnAhead and will not be renewed
// automatically (no email, or the last renewal failed). It warns at most once
// per day, across restarts and replicas, and never in sandbox, and reports whether it
// warned.
func (s *Service) WarnTokenExpiry(ctx context.Context, st bakong.TokenStatus) (bool, error) {
	if s.cfg.Sandbox || !st.Present || st.ExpiresAt.IsZero() {
		return false, nil
	}
	now := s.clock.Now()
	left := st.ExpiresAt.Sub(now)
	auto := st.Renewable && st.LastRenewError == ""
	a := TokenAlert{ExpiresAt: st.ExpiresAt, Expired: left <= 0}
	switch {
	case a.Expired:
	case left <= TokenWarnAhead && !auto:
		a.DaysLeft = int(left / (24 * time.Hour))
	default:
		return false, nil
	}
	day := now.In(Cambodia()).Format(time.DateOnly)
	warned := false
	err := s.store.WithTx(ctx, func(tx Store) error {
		last, err := tx.Setting(ctx, tokenWarnedKey)
		if err != nil || last == day {
			return err
		}
		// A swap, not a write: of replicas warning at once, one does.
		if ok, err := tx.SwapSetting(ctx, tokenWarnedKey, last, day); err != nil || !ok {
			return err
		}
		warned = true
		return tx.AddEvent(ctx, a.Event(now))
	})
	if err != nil {
		return false, fmt.Errorf("token expiry alert: %w", err)
	}
	if warned {
		s.log.Warn("alert: Open API token expiring", "expires", st.ExpiresAt.Format(time.DateOnly), "renewable", st.Renewable, "last_renew_error", st.LastRenewError)
		s.notify()
	}
	return warned, nil
}

// WatchToken calls WarnTokenExpiry with status() now and every `every`
// (default an hour) until ctx ends, then returns. Failures are logged: the
// next check tries again.
func (s *Service) WatchToken(ctx context.Context, every time.Duration, status func() bakong.TokenStatus) {
	if every <= 0 {
		every = time.Hour
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := s.WarnTokenExpiry(ctx, status()); err != nil && ctx.Err() == nil {
			s.log.Warn("token watch", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
