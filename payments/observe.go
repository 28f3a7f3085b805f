package payments

import (
	"context"
	"fmt"
	"time"
)

// Observer is told what the payment domain does, so that an operator can
// watch it (the metrics package turns it into Prometheus metrics). The
// domain calls it where each thing happens, after the change committed;
// its methods must be quick, must not block and must not call back into
// the Service. Embed NopObserver to implement only some of them.
type Observer interface {
	// InvoiceCreated: an invoice in currency c was stored.
	InvoiceCreated(c Currency)
	// PaymentRecorded: a payment Bakong reported was stored for the first
	// time, as settled, in review or a duplicate.
	PaymentRecorded(status PaymentStatus, c Currency)
	// InvoiceSettled: an invoice became paid, found by source (SourcePoll,
	// SourceCheck, SourceVerify or SourceReview); delay runs from the
	// payment's createdDateMs (when the customer paid) to the settlement,
	// and is zero when Bakong gave no payment time.
	InvoiceSettled(m Money, source string, delay time.Duration)
	// CycleDone: a reconciler cycle took d; err is nil when it succeeded.
	CycleDone(d time.Duration, err error)
	// BudgetWait: a Bakong call waited d for the request budget.
	BudgetWait(d time.Duration)
}

// SourceReview marks a settlement an admin accepted from review, for
// Observer.InvoiceSettled: its delay includes the admin's.
const SourceReview = "review"

// NopObserver observes nothing; embed it to implement part of Observer.
type NopObserver struct{}

// InvoiceCreated does nothing.
func (NopObserver) InvoiceCreated(Currency) {}

// PaymentRecorded does nothing.
func (NopObserver) PaymentRecorded(PaymentStatus, Currency) {}

// InvoiceSettled does nothing.
func (NopObserver) InvoiceSettled(Money, string, time.Duration) {}

// CycleDone does nothing.
func (NopObserver) CycleDone(time.Duration, error) {}

// BudgetWait does nothing.
func (NopObserver) BudgetWait(time.Duration) {}

// Backlog is what waits in the database at one moment: what an operator
// watches as gauges. It is counted from the database, not from events, so
// it is right across restarts and replicas.
type Backlog struct {
	PendingQRs    int       // QRs still polled
	InReview      int       // payments waiting for an admin
	OutboxWaiting int       // events not delivered yet
	OldestWaiting time.Time // CreatedAt of the oldest undelivered event; zero when none
	// UpdatesWaiting counts the Telegram updates in the inbox not handled
	// yet: queued or running on a replica, or left by one that died.
	UpdatesWaiting int
	CountedAt      time.Time // when the counts were taken, by the Service's clock
}

// Validate reports negative counts.
func (b Backlog) Validate() error {
	if b.PendingQRs < 0 || b.InReview < 0 || b.OutboxWaiting < 0 || b.UpdatesWaiting < 0 {
		return Errorf(EInvalid, "backlog: negative count (%d QRs, %d in review, %d events, %d updates)", b.PendingQRs, b.InReview, b.OutboxWaiting, b.UpdatesWaiting)
	}
	return nil
}

// OldestAge is how long the oldest undelivered event has waited; zero when none waits.
func (b Backlog) OldestAge() time.Duration {
	if b.OutboxWaiting == 0 || b.OldestWaiting.IsZero() || b.CountedAt.Before(b.OldestWaiting) {
		return 0
	}
	return b.CountedAt.Sub(b.OldestWaiting)
}

// Backlog counts what waits in the database now.
func (s *Service) Backlog(ctx context.Context) (Backlog, error) {
	b, err := s.store.Backlog(ctx)
	if err != nil {
		return Backlog{}, fmt.Errorf("backlog: %w", err)
	}
	b.CountedAt = s.clock.Now()
	return b, nil
}
