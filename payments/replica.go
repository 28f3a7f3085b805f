package payments

import (
	"context"
	"fmt"
	"time"
)

// Replicas: several khqrbot processes may share one database. They never
// talk to each other; what only one of them may do at a time is guarded by
// a lease in the database, which its holder renews and which passes to
// another replica when the holder stops renewing it (it died, or lost the
// database).

// Leases the replicas take.
const (
	// PollerLease is held by the one replica that calls getUpdates:
	// Telegram answers 409 to a second.
	PollerLease = "telegram.poller"
	// TokenLease is held by the replica renewing the Open API token, so
	// the deployment renews once.
	TokenLease = "bakong.token"
)

// AcquireLease takes the lease called name for holder for ttl from now, or
// renews it if holder has it, and reports until when holder holds it; ok is
// false (and until zero) while another holds it.
func (s *Service) AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (until time.Time, ok bool, err error) {
	now := s.clock.Now()
	until = now.Add(ttl)
	ok, err = s.store.AcquireLease(ctx, name, holder, now, until)
	if err != nil || !ok {
		return time.Time{}, false, err
	}
	return until, true, nil
}

// ReleaseLease gives up holder's lease called name at once, so that another
// replica need not wait for it to expire.
func (s *Service) ReleaseLease(ctx context.Context, name, holder string) error {
	return s.store.ReleaseLease(ctx, name, holder)
}

// LeaseHolder reports who holds the lease called name now; "" when nobody
// does (never taken, released or expired).
func (s *Service) LeaseHolder(ctx context.Context, name string) (string, error) {
	holder, until, err := s.store.Lease(ctx, name)
	if err != nil {
		return "", fmt.Errorf("lease %s: %w", name, err)
	}
	if !until.After(s.clock.Now()) {
		return "", nil
	}
	return holder, nil
}

// Update is a Telegram update in the deployment's inbox: kept from before
// Telegram is told it arrived (the next getUpdates offset, the webhook's
// 200) until a replica has handled it, so that no update is lost with a
// replica that dies holding it. The domain keeps it as it came, unread.
type Update struct {
	ID    int64  // Telegram's update_id: increasing, unique per bot
	Chat  int64  // the chat it belongs to: a chat's updates run in ID order
	Body  []byte // the update's JSON as Telegram sent it; nil once done
	Tries int    // how many times its handling started
	// Holder is the replica that claimed it last; ClaimUpdates reports
	// the one before its claim: who died holding it, or let it go.
	Holder string
}

// Validate reports what makes u unstorable.
func (u Update) Validate() error {
	if u.ID <= 0 {
		return Errorf(EInvalid, "update id %d: want a positive Telegram update_id", u.ID)
	}
	if len(u.Body) == 0 {
		return Errorf(EInvalid, "update %d: want its JSON", u.ID)
	}
	return nil
}

// StoreUpdates keeps the updates of one delivery in the inbox, claimed by
// replica for ttl, and returns the ids of those not stored before: the
// ones replica is to handle. The others came again (a webhook retry, a new
// poller given what its predecessor took): their first taker, or whoever
// takes over its claims, handles them.
func (s *Service) StoreUpdates(ctx context.Context, ups []Update, replica string, ttl time.Duration) ([]int64, error) {
	for _, u := range ups {
		if err := u.Validate(); err != nil {
			return nil, err
		}
	}
	now := s.clock.Now()
	ids, err := s.store.StoreUpdates(ctx, ups, replica, now, now.Add(ttl))
	if err != nil {
		return nil, fmt.Errorf("store %d updates: %w", len(ups), err)
	}
	return ids, nil
}

// StartUpdate claims update id for replica for ttl, and reports whether
// replica may run it now (see Store.StartUpdate).
func (s *Service) StartUpdate(ctx context.Context, id int64, replica string, ttl time.Duration) (bool, error) {
	now := s.clock.Now()
	ok, err := s.store.StartUpdate(ctx, id, replica, now, now.Add(ttl))
	if err != nil {
		return false, fmt.Errorf("start update %d: %w", id, err)
	}
	return ok, nil
}

// RenewUpdates extends replica's claims on the updates ids by ttl.
func (s *Service) RenewUpdates(ctx context.Context, ids []int64, replica string, ttl time.Duration) error {
	if err := s.store.RenewUpdates(ctx, ids, replica, s.clock.Now().Add(ttl)); err != nil {
		return fmt.Errorf("renew claims on %d updates: %w", len(ids), err)
	}
	return nil
}

// ReleaseUpdate ends replica's claim on update id now.
func (s *Service) ReleaseUpdate(ctx context.Context, id int64, replica string) error {
	if err := s.store.ReleaseUpdate(ctx, id, replica, s.clock.Now()); err != nil {
		return fmt.Errorf("release update %d: %w", id, err)
	}
	return nil
}

// FinishUpdate marks update id handled, and forgets what it said.
func (s *Service) FinishUpdate(ctx context.Context, id int64) error {
	if err := s.store.FinishUpdate(ctx, id, s.clock.Now()); err != nil {
		return fmt.Errorf("finish update %d: %w", id, err)
	}
	return nil
}

// ClaimUpdates claims for replica, for ttl, up to limit stored updates
// that are not done and that nobody holds: those a replica that died left
// behind (see Store.ClaimUpdates).
func (s *Service) ClaimUpdates(ctx context.Context, replica string, ttl time.Duration, limit int) ([]Update, error) {
	now := s.clock.Now()
	ups, err := s.store.ClaimUpdates(ctx, replica, now, now.Add(ttl), limit)
	if err != nil {
		return nil, fmt.Errorf("claim updates: %w", err)
	}
	return ups, nil
}
