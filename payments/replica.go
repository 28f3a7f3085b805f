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

// FirstUpdate records that replica handles the Telegram update id and
// reports whether it is the first to: a webhook retry, or a poller taking
// over from one that died, may deliver an update twice.
func (s *Service) FirstUpdate(ctx context.Context, id int64, replica string) (bool, error) {
	first, err := s.store.FirstUpdate(ctx, id, replica, s.clock.Now())
	if err != nil {
		return false, fmt.Errorf("record update %d: %w", id, err)
	}
	return first, nil
}
