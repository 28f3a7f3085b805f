package payments

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/khqrbot/khqrbot/payments/bakong"
)

// The Service's own calls to Bakong, made for people (deeplinks, /check,
// /verify, Cancel's last look, Check status), draw from the deployment's
// one Budget, from its spare part only (Budget.Spare), so the reconciler's
// polling comes first. A 429 one of them meets holds back such calls for
// its Retry-After, not polling: the reconciler learns of a 429 from its
// own calls.

// ErrBudget: the Bakong request budget has nothing to spare for a call
// made for a person now (an EUnavailable); polling keeps its share.
var ErrBudget = errors.New("payments: Bakong request budget spent")

// spareWait bounds how long a call an admin waits for (/check, /verify)
// waits for the budget: one wait, then one more try.
const spareWait = 3 * time.Second

// budget returns the Budget the Service's calls draw from; nil: none yet.
func (s *Service) budget() Budget {
	if b := s.shared.Load(); b != nil {
		return *b
	}
	return nil
}

// shareBudget makes b the Service's Budget unless it has one.
func (s *Service) shareBudget(b Budget) { s.shared.CompareAndSwap(nil, &b) }

// spend takes one spare request of the budget for a call made for a
// person. When there is none, it waits once (at most spareWait) if wait
// is set, and otherwise fails at once: a deeplink is optional, Check
// status has the last check to answer from, and a QR Cancel could not look
// at stays polled.
func (s *Service) spend(ctx context.Context, wait bool) error {
	b := s.budget()
	if b == nil {
		return nil
	}
	now := s.clock.Now()
	if until := s.paused.Load(); until != nil && now.Before(*until) {
		return &Error{Code: EUnavailable, Message: "Bakong asked to slow down until " + stamp(*until), Err: ErrBudget}
	}
	var waited time.Duration
	for try := 0; ; try++ {
		ok, d, err := b.Spare(ctx, s.clock.Now())
		switch {
		case err != nil:
			return &Error{Code: EUnavailable, Message: "request budget", Err: err}
		case ok:
			s.cfg.Observer.BudgetWait(waited)
			return nil
		case !wait || try == 1 || d > spareWait:
			return &Error{Code: EUnavailable, Message: fmt.Sprintf("Bakong request budget: nothing to spare for %s", d.Round(time.Millisecond)), Err: ErrBudget}
		}
		if !Sleep(ctx, d) {
			return &Error{Code: EUnavailable, Message: "waiting for the request budget", Err: ctx.Err()}
		}
		waited += d
	}
}

// Whether a call made for a person waits for the budget.
const (
	noWait  = false
	mayWait = true
)

// ask makes one call made for a person: it draws from the budget first
// (see spend), and a 429 it meets holds back such calls, not polling, for
// the Retry-After.
func ask[T any](ctx context.Context, s *Service, wait bool, call func(context.Context) (T, error)) (T, error) {
	if err := s.spend(ctx, wait); err != nil {
		var zero T
		return zero, err
	}
	v, err := call(ctx)
	var be *bakong.Error
	if errors.As(err, &be) && be.Kind == bakong.KindRateLimited {
		until := s.clock.Now().Add(max(be.RetryAfter, time.Second))
		s.paused.Store(&until)
	}
	return v, err
}

// DefaultCheckCooldown is how long after a check of a QR CheckStatus
// answers from that check instead of asking Bakong again.
const DefaultCheckCooldown = 10 * time.Second

// CheckStatus is CheckQR for a customer's Check status button: within
// Config.CheckCooldown of the QR's last check (the reconciler's or a
// press's), or when the request budget has nothing to spare, it answers
// from the stored QR without asking Bakong, so pressing it a hundred times
// costs one call. A QR that is not pending is answered as it stands.
func (s *Service) CheckStatus(ctx context.Context, qrID int64) (*QR, error) {
	q, err := s.store.QR(ctx, qrID)
	if err != nil {
		return nil, fmt.Errorf("check QR %d: %w", qrID, err)
	}
	if q.Status != QRPending || (!q.LastCheckedAt.IsZero() && s.clock.Now().Before(q.LastCheckedAt.Add(s.cfg.CheckCooldown))) {
		return q, nil
	}
	got, err := s.checkQR(ctx, q, noWait)
	if errors.Is(err, ErrBudget) {
		return q, nil
	}
	return got, err
}
