package payments

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/khqrbot/khqrbot/payments/bakong"
)

// TokenWarnAhead is how long before the Open API token expires the admins
// are warned, when nothing will renew it.
const TokenWarnAhead = 7 * 24 * time.Hour

// tokenWarnedKey is the setting holding the day (in Cambodia) of the last
// token warning, so that a restart does not warn twice the same day.
const tokenWarnedKey = "token.warned_on"

// cambodia is Cambodia's time, UTC+7 all year: warnings go at most once per
// local day.
var cambodia = time.FixedZone("ICT", 7*60*60)

// Token alert codes: the first word of the Detail of an EventAlert about the
// token, so that the bot can tell the admins in their own language.
const (
	tokenExpiring = "token_expiring"
	tokenExpired  = "token_expired"
)

// TokenAlert is what an EventAlert about the Open API token says. It travels
// in Event.Detail as "token_expiring <RFC 3339 expiry> <days left>" or
// "token_expired <RFC 3339 expiry>"; ParseTokenAlert reads it back.
type TokenAlert struct {
	ExpiresAt time.Time
	DaysLeft  int  // whole days left when the alert was written; 0 once expired
	Expired   bool // the token no longer works
}

// String is the alert's Event.Detail.
func (a TokenAlert) String() string {
	exp := a.ExpiresAt.UTC().Format(time.RFC3339)
	if a.Expired {
		return tokenExpired + " " + exp
	}
	return tokenExpiring + " " + exp + " " + strconv.Itoa(a.DaysLeft)
}

// ParseTokenAlert reads the Detail of a token alert, and reports false for
// any other detail.
func ParseTokenAlert(detail string) (TokenAlert, bool) {
	f := strings.Fields(detail)
	if len(f) < 2 {
		return TokenAlert{}, false
	}
	exp, err := time.Parse(time.RFC3339, f[1])
	if err != nil {
		return TokenAlert{}, false
	}
	switch {
	case f[0] == tokenExpired && len(f) == 2:
		return TokenAlert{ExpiresAt: exp, Expired: true}, true
	case f[0] == tokenExpiring && len(f) == 3:
		days, err := strconv.Atoi(f[2])
		if err != nil || days < 0 {
			return TokenAlert{}, false
		}
		return TokenAlert{ExpiresAt: exp, DaysLeft: days}, true
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
	day := now.In(cambodia).Format(time.DateOnly)
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
		return tx.AddEvent(ctx, &Event{Kind: EventAlert, Detail: a.String(), CreatedAt: now})
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
