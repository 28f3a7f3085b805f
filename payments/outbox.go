package payments

import (
	"context"
	"fmt"
	"time"
)

// The outbox: every state change (settled, expired, failed, review,
// duplicate, rejected, cancelled, alert) writes an Event in the same
// transaction, so a crash between "settled" and "message edited" loses
// nothing. A subscriber (the bot) consumes it:
//
//	for {
//		evs, until, _ := svc.ClaimEvents(ctx, 50) // due, in ID order, ours until `until`
//		for _, e := range evs {
//			// show makes e's Telegram calls (its steps), skipping those
//			// e.Done says were taken, and records each with svc.Progress
//			// before it makes the next.
//			if err := show(ctx, e); err != nil {
//				svc.Retry(ctx, e.ID, payments.RetryDelay(e.Attempts)) // counted; due again later
//				continue
//			}
//			svc.Delivered(ctx, e.ID)
//		}
//		select { case <-svc.Wake(): case <-time.After(time.Second): case <-ctx.Done(): return }
//	}
//
// as the bot's consumer (bot/outbox.go) does, one goroutine per chat.
// Claims let replicas sharing the database deliver each event once, and
// Progress lets a delivery that stopped halfway (a failed call, a crash, a
// replica's death) resume where it stopped. What can still repeat is the
// one call a crash cut off between Telegram taking it and its record, so
// handlers must be idempotent (editing a message to the state it already
// shows is).

// notify signals Wake without blocking; signals coalesce.
func (s *Service) notify() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Wake returns a channel that receives a value after this Service (or its
// Reconciler) commits one or more events, so the outbox consumer need not
// poll blindly. Signals coalesce (the channel holds at most one), so after a
// wake-up claim events until fewer come than you asked for. Meant for one
// consumer. Events written by other processes do not signal it: poll every
// few seconds as well.
func (s *Service) Wake() <-chan struct{} { return s.wake }

// EventClaim is how long ClaimEvents keeps other replicas off the events it
// hands out: long enough for a delivery (a flood limit longer than that is
// retried later), and at most what a replica that dies delays its events by.
const EventClaim = 30 * time.Second

// ClaimEvents is Events for one of several replicas sharing the outbox: it
// claims the events it returns until the time it reports, and no other
// claimer gets them before then. Deliver each and mark it Delivered (or
// Retry it) before the claim ends; one left alone is due again after it.
func (s *Service) ClaimEvents(ctx context.Context, limit int) ([]Event, time.Time, error) {
	now := s.clock.Now()
	until := now.Add(EventClaim)
	evs, err := s.store.ClaimEvents(ctx, now, until, limit)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("claim events: %w", err)
	}
	return evs, until, nil
}

// Release gives back claimed events that will not be delivered after all
// (the consumer is stopping), due at once for another replica or the next run.
func (s *Service) Release(ctx context.Context, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	if err := s.store.ReleaseEvents(ctx, ids, s.clock.Now()); err != nil {
		return fmt.Errorf("release %d events: %w", len(ids), err)
	}
	return nil
}

// Delivered marks event id as handled; it is never returned again.
func (s *Service) Delivered(ctx context.Context, id int64) error {
	if err := s.store.MarkEventDelivered(ctx, id, s.clock.Now()); err != nil {
		return fmt.Errorf("mark event %d delivered: %w", id, err)
	}
	return nil
}

// Progress records that the delivery of event id got as far as done: the
// steps done covers were taken, and delivering the event again skips them.
// Record each step before making the next one.
func (s *Service) Progress(ctx context.Context, id int64, done Progress) error {
	if err := done.Validate(); err != nil {
		return err
	}
	if err := s.store.SetEventProgress(ctx, id, done); err != nil {
		return fmt.Errorf("record the delivery progress of event %d: %w", id, err)
	}
	return nil
}

// Retry counts a failed delivery of event id (Event.Attempts) and makes it
// due again `after` from now.
func (s *Service) Retry(ctx context.Context, id int64, after time.Duration) error {
	if err := s.store.DelayEvent(ctx, id, s.clock.Now().Add(after)); err != nil {
		return fmt.Errorf("delay event %d: %w", id, err)
	}
	return nil
}

// Outbox retry delays: the first retry waits retryBase, each next one twice
// as long, up to retryMax.
const (
	retryBase = 2 * time.Second
	retryMax  = 5 * time.Minute
)

// RetryDelay is how long a consumer waits before re-delivering an event
// that failed `attempts` times before: 2s, 4s, 8s, ... up to 5 minutes.
func RetryDelay(attempts int) time.Duration {
	return backoff(retryBase, retryMax, attempts)
}

// backoff returns base doubled n times, capped at max.
func backoff(base, max time.Duration, n int) time.Duration {
	d := base
	for ; n > 0 && d < max; n-- {
		d *= 2
	}
	return min(d, max)
}
